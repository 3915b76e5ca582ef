"""Names of people and places typed without diacritics: the usual spelling is proposed, and the citizen picks
one or keeps what they typed."""
from __future__ import annotations

import re
from typing import Any

from .. import nlu, parsing, spelling
from ..form import Slot
from ..i18n import translator
from ..kinds import parse_value
from ..messages import NAV_BACK, NAV_CANCEL, NAV_HELP, Ask, ChoiceOut, Incoming, Message
from ..parsing import is_no, is_yes
from ..pending import NameConfirm, Revisit
from ..protocol import Outcome
from ..textnorm import fold
from .commands import plausible_name
from .parts import EngineParts
from .session import Session

MAX_LATER = 4
"""Answers kept for the questions after the next one, typed while a spelling waits for a choice."""


_A_COUNT = re.compile(r"\d{1,3}(?:\s+\w+)?")  # “2 ban”, “3 to”: a number and what it counts, no place
_PLACE_WORD = re.compile(r"\b(?:xa|phuong|thi tran|huyen|quan|tinh|thanh pho|tp|thon|xom|ap|ban|lang|khu pho|to|"
                         r"dac khu|dia ban|lan can|toan)\b")


def _names_a_place(text: str) -> bool:
    """Whether a text typed at a place's spelling question is the place typed again (its name, or a word of one),
    not the next question's answer typed early (“Nguyen thi hanh”, the head's name, after the area; “2 ban”, a
    count of copies, not a village “bản”)."""
    if _A_COUNT.fullmatch(fold(text).strip(" .!")):
        return False
    return bool(spelling.restore_place(text)) or _PLACE_WORD.search(fold(text).lower()) is not None


def _full_name(text: str) -> bool:
    """Whether a text is a full name, said with the words that may introduce it (“tên tôi là …”)."""
    name = nlu.name_of(text)
    return plausible_name(name) and len(name.split()) >= 2 and not spelling.restore_place(name)


class Names(EngineParts):
    """The ``NameConfirm`` sub-dialog."""

    def propose_name(self, session: Session, slot: Slot, raw: str, value: Any, out: Outcome) -> bool:
        """A name typed without diacritics: propose the usual spelling; a name of one word: ask for the full name,
        or to keep it (True: asked)."""
        if isinstance(value, str) and len(value.split()) == 1:
            session.pending = NameConfirm(path=slot.path, typed=value, short=True)
            out.accepted = True
            self.name_confirm_ask(session, out)
            return True
        if isinstance(value, str) and spelling.is_place(value):
            # “ha tinh”, “xa thach ha”: the address typed ahead, most likely
            session.pending = NameConfirm(path=slot.path, typed=value, place_like=True)
            out.accepted = True
            self.name_confirm_ask(session, out)
            return True
        raw = nlu.name_of(raw)  # “toi ten la tran thi lan”, “cu nguyen van an”: the name alone
        proposal = nlu.restore_diacritics_name(raw)
        spellings = [proposal] if proposal else nlu.name_candidates(raw)
        if not spellings and not (raw.isascii() and len(raw.split()) >= 2 and any(c.isalpha() for c in raw)):
            return False  # typed with diacritics (or not a name at all): taken as typed
        look = self.lookup(session, slot)
        spellings = [parse_value(slot.field, x, today=self.today(), lookup=look) for x in spellings]
        if spellings == [value]:
            return False
        # a name typed without diacritics is never put on a form silently: its spellings, or a request to type it
        # with diacritics (keeping it as typed stays possible)
        session.pending = NameConfirm(path=slot.path, proposal=spellings[0] if spellings else "", typed=value,
                                      others=spellings[1:] or None)
        out.accepted = True
        self.name_confirm_ask(session, out)
        return True

    def propose_place(self, session: Session, slot: Slot, value: Any, out: Outcome) -> bool:
        """A place typed without diacritics ("xa hai hau, nam dinh") that the lists of places spell: ask
        before it goes on a form (True: asked). Nothing found: kept as typed."""
        spellings = spelling.restore_place(value) if isinstance(value, str) else []
        if not spellings:
            return False
        # the places this dossier already names first (“ubnd phuong tan dinh” where the family lives in Phường Tân
        # Định: not Tân Dĩnh, another ward spelled alike)
        named = {v[k].lower().split(" ", 1)[-1] for v in session.require_draft().answers.values()
                 if isinstance(v, dict) for k in ("commune", "province") if isinstance(v.get(k), str)}
        spellings.sort(key=lambda sp: not any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", sp.lower()) for n in named))
        session.pending = NameConfirm(path=slot.path, proposal=spellings[0], typed=value,
                                      others=spellings[1:] or None, place=True)
        out.accepted = True
        self.name_confirm_ask(session, out)
        return True

    def confirm_unlisted(self, session: Session, slot: Slot, value: Any, out: Outcome) -> bool:
        """An answer that the field's list (``spelling: ethnic_groups``) does not have: asked to retype it, or to
        keep it as typed, before it goes on a form (True: asked). “khanh hoa”, an address typed early, is not
        an ethnicity; a name the list lacks is kept by its button or by typing it again."""
        if not isinstance(value, str) or spelling.listed(slot.field.spelling or "", value):
            return False
        session.pending = NameConfirm(path=slot.path, typed=value, unlisted=slot.field.spelling)
        out.accepted = True
        self.name_confirm_ask(session, out)
        return True

    def on_name_confirm(self, session: Session, pending: NameConfirm, msg: Incoming, text: str,
                        command: str | None, out: Outcome) -> None:
        """The citizen typed a name without diacritics; we proposed the usual spelling."""
        _ = translator(session.lang)
        slot = self.form(session).slot_for(pending.path, session.draft.answers, self.today()) \
            if session.draft is not None else None
        if slot is None:
            session.pending = None
            return self.prompt(session, out)
        files = ([msg.file] if msg.file else []) + list(msg.files)
        if files:  # a paper's photo sent before choosing: kept for its question when it can be, never lost unsaid
            if not self.keep_for_later(session, slot, files, out):
                out.replies.append(Message(_("Tệp vừa gửi chưa được lưu. Vui lòng chọn cách viết ở dưới trước, rồi "
                                             "gửi tệp khi được hỏi."), error=True))
            return self.name_confirm_ask(session, out)
        keep = [("typed", _keep_label(_, pending.typed))]
        if (pending.short or pending.unlisted or pending.place_like) and text and command is None \
                and msg.choice is None and parsing.match_choice(text, keep) is None:
            if fold(text) == fold(pending.typed):  # the same word again: it is the name
                session.pending = None
                return self.accept(session, slot, pending.typed, out)
            return self._again(session, pending, slot, msg, text, out)  # the name again, in full: the answer
        options = [*pending.options(), ("typed", pending.typed)]
        if pending.place:  # “Đúng” (or the spellings) / “Giữ như đã gõ”
            options = [*(pending.options() if pending.others else [("proposal", _("Đúng"))]),
                       ("typed", _("Giữ như đã gõ"))]
        retyped = bool(text) and command is None and msg.choice is None and not text.isascii() \
            and ((pending.place and not is_yes(text) and not is_no(text))
                 or (plausible_name(text) and len(text.split()) >= 2 and self._a_name(session, slot, text))) \
            and text not in dict(options).values() \
            and not (pending.place and parsing.match_choice(text, options) is not None)
        if retyped:  # typed again with diacritics, not one of ours: their spelling
            return self._again(session, pending, slot, msg, text, out)
        value = msg.choice if msg.choice in dict(options) else \
            parsing.match_choice(text, options) if text else None
        if value == "proposal" and pending.place and not pending.others and msg.choice is None \
                and not is_yes(text) and not text.strip().isdigit():
            value = None  # (“con trai ông ấy đứng ra lo”: the next answer, typed early; “đứng” is no “Đúng”)
        corrected = parsing.after_no(text) if value is None and text and command is None else ""
        if corrected and (_names_a_place(corrected) if pending.place else _full_name(corrected)):
            # “không, tên tôi là Nông Văn Hải”, “khong, xa hoa an”: not that one, this one: the answer again
            return self._again(session, pending, slot, msg, corrected, out)
        if value is None and text:
            if is_yes(text) and pending.proposal and not pending.others:
                value = "proposal"
            elif pending.place and command is None and is_no(text):  # not that place: the question again
                session.pending = Revisit(path=pending.path)
                return self.prompt(session, out)
            elif command is None and ((pending.place and _names_a_place(text))
                                      or (not pending.place and plausible_name(text) and len(text.split()) >= 2
                                          and not spelling.restore_place(text) and self._a_name(session, slot, text))):
                # a full name typed again, their way: take it as typed (one word is rather an early answer, a
                # place, “ha tinh”, the address typed ahead, and words no name question takes, “bà đồng ý rồi”,
                # the answer to a question after)
                return self._again(session, pending, slot, msg, text, out)
        if command == "back":
            session.pending = Revisit(path=pending.path)
            return self.prompt(session, out)
        if value is None and command == "cancel":
            return self.ask_cancel(session, msg, text, out)  # “không” comes back to this question
        if value is None and command == "help" and pending.unlisted:
            out.replies.append(Message(_(spelling.LIST_HELP[pending.unlisted])))
            return self.name_confirm_ask(session, out)
        if value is None and command == "help" and pending.place_like:
            out.replies.append(Message(_("Câu này hỏi họ và tên của người, không phải nơi ở. Địa chỉ sẽ được hỏi ở "
                                         "câu sau.")))
            return self.name_confirm_ask(session, out)
        if value is None and command == "help":
            out.replies.append(Message(_("Trợ lý đoán cách viết có dấu của địa danh bạn vừa gõ, theo danh sách "
                                         "tỉnh, xã (cả tên cũ trước năm 2025). Chọn cách viết đúng, chọn “Giữ như "
                                         "đã gõ”, hoặc gõ lại có dấu.") if pending.place else
                                       _("Trợ lý đoán cách viết có dấu của tên bạn vừa gõ. Chọn cách viết đúng, "
                                         "chọn “Giữ như tôi gõ”, hoặc gõ lại tên có dấu.")))
            return self.name_confirm_ask(session, out)
        if value is None:
            if text and command is None and not pending.early:  # the next answer, typed early: keep it
                pending.early = text
                out.replies.append(Message(_("Vui lòng chọn cách viết tên nơi đó trước. “{text}” sẽ được dùng cho "
                                             "câu hỏi tiếp theo.", text=text) if pending.place else
                                           _("Vui lòng chọn cách viết tên trước. “{text}” sẽ được dùng cho câu hỏi "
                                             "tiếp theo.", text=text), error=True))
            elif text and command is None and len(pending.later or []) < MAX_LATER:  # and the ones after it
                pending.later = [*(pending.later or []), text]
                out.replies.append(Message(_("Vui lòng chọn cách viết tên nơi đó trước. “{text}” sẽ được dùng cho "
                                             "câu hỏi sau đó.", text=text) if pending.place else
                                           _("Vui lòng chọn cách viết tên trước. “{text}” sẽ được dùng cho câu hỏi "
                                             "sau đó.", text=text), error=True))
            else:
                out.replies.append(Message(_("Vui lòng chọn một cách viết bên dưới (gõ số thứ tự), hoặc gõ lại tên "
                                             "nơi đó có dấu.") if pending.place else
                                           _("Vui lòng chọn một cách viết bên dưới (gõ số thứ tự), hoặc gõ lại họ "
                                             "tên có dấu."), error=True))
            return self.name_confirm_ask(session, out)
        typed_ahead = [x for x in (pending.early, *(pending.later or [])) if x]
        session.pending = None
        first = slot.path not in session.require_draft().answers
        self.accept(session, slot, pending.option(value), out)
        self._typed_ahead(session, slot, typed_ahead, out, first=first)

    def _a_name(self, session: Session, slot: Slot, text: str) -> bool:
        """Whether ``text`` would be taken as the answer of the name question (not refused as a role, a relation or
        a consent: “bà đồng ý rồi”)."""
        try:
            parse_value(slot.field, text, today=self.today(), lookup=self.lookup(session, slot))
        except parsing.Invalid:
            return False
        return True

    def _again(self, session: Session, pending: NameConfirm, slot: Slot, msg: Incoming, text: str,
               out: Outcome) -> None:
        """The answer typed again instead of a choice: read as the question's answer, and the answers typed ahead
        meanwhile kept for the questions after it (a spelling asked again carries them)."""
        first = slot.path not in session.require_draft().answers
        session.pending = Revisit(path=pending.path)
        self.on_collect(session, msg, text, None, out)
        typed_ahead = [x for x in (pending.early, *(pending.later or [])) if x]
        again = session.pending
        if not typed_ahead:
            return
        if isinstance(again, NameConfirm) and again.path == pending.path:
            again.early, again.later = pending.early, pending.later
        elif again is None and session.require_draft().history[-1:] == [slot.path]:  # accepted
            self._typed_ahead(session, slot, typed_ahead, out, first=first)
        else:  # never dropped without a word
            _ = translator(session.lang)
            out.replies[-1:-1] = [Message(_("Chưa ghi: {answers}. Vui lòng trả lời lại khi được hỏi.",
                                            answers=_quoted(typed_ahead)))]

    def _typed_ahead(self, session: Session, slot: Slot, typed_ahead: list[str], out: Outcome, *,
                     first: bool = False) -> None:
        """The answers typed while a spelling waited, each for the question right after the one just answered; when
        the name was answered for the ``first`` time, passing those answered before from other words (the relation
        from “tôi là mẹ cháu”). A name corrected later (“quay lại”) has the questions after it answered: the
        question now asked is no longer the one the answers were typed for, and they are not used (said so)."""
        _ = translator(session.lang)
        before, used, left = slot.path, [], []
        at, refused = 0, False
        for i, answer in enumerate(typed_ahead):  # each for the question right after the one just answered
            if not self.asks_right_after(session, before, out, skip_answered=first) or \
                    self.not_a_name_question(session, out, answer):
                left = typed_ahead[i:]
                break
            asked = out.replies.pop()  # the question the answer was typed for: answer it now
            assert isinstance(asked, Ask)
            at = len(out.replies)
            self.on_collect(session, Incoming(text=answer), answer, None, out)
            before = asked.field or ""
            history = session.require_draft().history
            if not history or history[-1] != before:
                refused = any(isinstance(r, Message) and r.error for r in out.replies[at:])
                # refused: named first among those not used, its reason said after them, before its question
                # (not a bare “Số 5 không có trong danh sách” the citizen cannot place); or a question of its own
                # (a spelling): the rest waits
                left = typed_ahead[i:] if refused else typed_ahead[i + 1:]
                break
            used.append(answer)
        if out.replies and isinstance(out.replies[-1], Ask):
            said = [_("Đã ghi các câu trả lời bạn gõ trước: {answers}.", answers=_quoted(used))] if used else []
            if left:  # never dropped without a word
                said.append(_("Chưa ghi: {answers}. Vui lòng trả lời lại khi được hỏi.", answers=_quoted(left)))
            where = at if refused else len(out.replies) - 1
            out.replies[where:where] = [Message(text) for text in said]

    def not_a_name_question(self, session: Session, out: Outcome, answer: str) -> bool:
        """Whether ``answer``, typed early, is a person's name (“Nguyen thi hanh”) and the question now asked takes
        free text that is no name (the tasks of a facility): it was meant for a later question, and is not filed
        there."""
        asked = out.replies[-1]
        if not isinstance(asked, Ask) or asked.field is None or not nlu.is_person_name(answer):
            return False
        slot = self.form(session).slot_for(asked.field, session.require_draft().answers, self.today())
        return slot is not None and slot.field.kind == "text"

    def asks_right_after(self, session: Session, before: str, out: Outcome, *, skip_answered: bool = False) -> bool:
        """Whether the turn ends asking, with nothing pending, the question right after ``before`` (an answer typed
        ahead, or carried by the one just given, answers it); with ``skip_answered``, or the first after it not
        answered yet (one answered before from other words, the relation from “tôi là mẹ cháu”, is not asked; going
        back, it is): an answer typed ahead while a spelling waited was typed for the question the person expected
        next, while what a kind carries (a bank's account number) is for the question right after."""
        if not (session.state == "collecting" and session.pending is None and out.replies
                and isinstance(out.replies[-1], Ask) and out.replies[-1].field is not None):
            return False
        answers = session.require_draft().answers
        after = self.form(session).slots_after(before, answers, self.today())
        unanswered = next((s for s in after if s.path not in answers), None) if skip_answered else None
        asked = set()
        for first in (after[0] if after else None, unanswered):
            if first is not None:
                shown = self.past_card_offer(session, first)  # (a card offer asks the question under it as well)
                asked |= {first.path, shown.path if shown is not None else None}
        return out.replies[-1].field in asked

    def slot_after(self, session: Session, before: str) -> str | None:
        """The question that comes right after ``before`` in the form as it stands (None: it is the last, or not
        asked)."""
        after = self.form(session).slots_after(before, session.require_draft().answers, self.today())
        return after[0].path if after else None


    def name_confirm_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        p = session.pending
        assert isinstance(p, NameConfirm)
        if p.place:
            if p.others:
                choices = [ChoiceOut(v, spelled) for v, spelled in p.options()]
                text = _("Ý bạn là nơi nào dưới đây? Chọn cách viết đúng, hoặc gõ lại có dấu.")
            else:
                choices = [ChoiceOut("proposal", _("Đúng"))]
                text = _("Ý bạn là: {place}?", place=p.proposal)
            choices.append(ChoiceOut("typed", _("Giữ như đã gõ")))
            out.replies.append(Ask(text=text, procedure=session.procedure, field=p.path, kind="choice",
                                   choices=tuple(choices), nav=(NAV_BACK, NAV_HELP, NAV_CANCEL)))
            return
        if p.unlisted:
            text = _(spelling.LIST_UNKNOWN[p.unlisted], value=p.typed)
        elif p.place_like:
            text = _("“{name}” giống tên một tỉnh, xã hoặc phường. Vui lòng gõ họ và tên (ví dụ: Nguyễn Văn An); địa "
                     "chỉ sẽ được hỏi sau. Nếu đúng là họ tên, chọn “Giữ như tôi gõ”.", name=p.typed)
        elif p.short:
            text = _("Họ và tên chỉ có một chữ: “{name}”. Vui lòng gõ đầy đủ họ và tên (ví dụ: Nguyễn Văn An). "
                     "Nếu đúng là như vậy, chọn “Giữ như tôi gõ”.", name=p.typed)
        elif not p.proposal:
            text = _("Bạn gõ tên “{name}” không dấu. Để ghi đúng trên giấy tờ, vui lòng gõ lại họ tên có dấu "
                     "(ví dụ: Vũ Thị Nông), hoặc chọn “Giữ như tôi gõ”.", name=p.typed)
        elif p.others:
            text = _("Tên có dấu viết thế nào? Chọn cách viết đúng, hoặc gõ lại họ tên có dấu.")
        else:
            text = _("Tên có dấu có phải là “{name}” không?", name=p.proposal)
        choices = [ChoiceOut(v, spelled) for v, spelled in p.options()]
        choices.append(ChoiceOut("typed", _keep_label(_, p.typed)))
        out.replies.append(Ask(text=text, procedure=session.procedure, field=p.path, kind="choice",
                               choices=tuple(choices), nav=(NAV_BACK, NAV_HELP, NAV_CANCEL)))


def _quoted(answers: list[str]) -> str:
    return ", ".join(f"“{a}”" for a in answers)


def _keep_label(_: Any, typed: str) -> str:
    """The choice that keeps a name as typed (shown, and matched when typed back)."""
    return _("Giữ như tôi gõ: {name}", name=typed)
