"""Answers given ahead of their question: typed, or sent as a file, at another question, kept for the one still to
come that takes them, and said so (“Đã ghi … (được hỏi ở sau)”); the answer that names the next item of a repeat
group (“4 người”, “con gái”); an answer carried on to the question asked next. Called by collect.py when the
question asked refuses the answer, or when its kind carries part of it on."""
from __future__ import annotations

import re
from typing import Any

from .. import kinds, nlu, parsing, spelling
from ..form import Slot
from ..i18n import translator
from ..kinds import attachment, parse_value
from ..messages import Ask, Incoming, Message
from ..parsing import Invalid
from ..pending import Revisit
from ..protocol import Outcome
from ..textnorm import fold, without_polite_end
from .parts import EngineParts
from .session import Session

# who one is, said of oneself and of the child or the dead (“tôi là bố cháu”, “em là con gái bà”), folded: what is
# left names the relation
_I_AM = re.compile(r"(?:toi|em|minh|con|chau) la ")
_ABOUT_ME = re.compile(rf"^{_I_AM.pattern}|(?: cua)? (?:chau|be|no|em be|ba|ong|ba ay|ong ay)$")


def _says_its_words(f: Any, raw: str) -> bool:
    """Whether the answer holds, as its own words (:func:`parsing.also_said`), one of a yes/no question's
    ``yes_also``/``no_also`` words or a choice's option label or ``also`` words: not a bare “có” or “không”, which
    any yes/no question takes."""
    if f.kind == "yes_no":
        return parsing.also_said(raw, [*f.yes_also, *f.no_also]) is not None
    if f.kind == "choice":
        return parsing.also_said(raw, [w for c in f.choices for w in (c.label, *c.also)]) is not None
    return False


def _more_words(words: list[str], leads: tuple[str, ...] = ("con",)) -> tuple[list[str], bool]:
    """The folded words of an answer at “Hộ còn thành viên nào khác không?” without an opening “còn” (or ``leads``:
    “có”, “thêm”) and a closing “nữa”, and whether either was there (others to come)."""
    lead, tail = bool(words) and words[0] in leads, words[-1:] == ["nua"]
    return words[int(lead):len(words) - int(tail)], lead or tail


class Ahead(EngineParts):
    """Answers kept for a later question (mixed into :class:`~dialogs.engine.Engine`)."""

    @staticmethod
    def more_by_count(slot: Slot, raw: str) -> bool | None:
        """A count at “Hộ còn thành viên nào khác không?” (“4 người”, “còn 2 người nữa”): True when it says others
        are to come, more than those given so far or “còn”, “nữa” some; False when it is no more than those (“1
        người”: the one given, or one more? asked again, saying how many are given); None when it is no count."""
        count, still = _more_words(fold(raw).strip(" .!").split())  # “còn 2 người”, “2 người nữa”: others to come
        if not count or (len(count) < 2 and not count[0].isdigit()):
            return None  # (“hai” alone, no unit: not plainly a count)
        try:
            n = parsing.parse_number(" ".join(count), min=1, max=99)
        except Invalid:
            return None
        return still or n > (slot.index or 0) + 1

    def more_by_kin(self, session: Session, slot: Slot, raw: str, out: Outcome) -> bool:
        """At “Hộ còn thành viên nào khác không?”, the next one named by the words of an option of the item's choice
        questions (“còn con gái nữa”; a word alone after “còn”, “có”, “thêm” or before “nữa”: “còn vợ”), or as the
        one answering's relative (“vợ tôi”): a yes, said back; when one person is named (no count, no “và”),
        the option of each question it names alone (the relation, the sex: “con gái”) is kept for the new item's
        question, said with the yes. Of several words, only ``also`` words and labels of two words or more are read
        (“còn”, typed “con”, is no child; “chỉ có vậy thôi” names no “chị”). False when it names none."""
        if slot.section.repeat is None:
            return False
        typed = fold(raw).strip(" .!").split()
        one, more = _more_words(typed, leads=("con", "co", "them"))
        several = any(ch.isdigit() for ch in raw) or "," in raw or bool({"va", "voi"} & set(typed))  # “vợ và 2 con”
        named = []
        for f in slot.section.fields:
            if f.kind != "choice":
                continue
            hits = parsing.also_all(raw, [(c.value, [w for w in (c.label, *c.also) if len(w.split()) > 1])
                                          for c in f.choices])
            if not hits and ((len(one) == 1 and more) or several):  # “còn vợ”, not “chỉ có vậy”
                hits = [c.value for c in f.choices if set(one) & {fold(w) for w in (c.label, *c.also)}]
            if hits:
                named.append((f, hits))
        if not named and not parsing.names_ones_kin(raw):
            return False
        _ = translator(session.lang)
        said = len(out.replies)
        out.replies.append(Message(_("Đã ghi: {value}.", value=_("Có"))))
        self.accept(session, slot, True, out)
        if several:
            return True  # several named: each is asked
        # (“vợ tôi”: the one answering's wife, the head's or a son's: the relation is asked)
        answers = session.require_draft().answers
        kept = []
        for f, hits in named:
            path = f"{slot.section.id}[{(slot.index or 0) + 1}].{f.id}"
            target = self.form(session).slot_for(path, answers, self.today())
            if len(hits) != 1 or target is None or path in answers:
                continue
            try:
                self.check_constraints(session, target, hits[0])
            except Invalid:
                continue
            self.store_ahead(session, target, hits[0])
            kept.append(f"{_(f.label or f.prompt)}: {kinds.display(f, hits[0], _)}")
        if kept:  # said with the yes, in one message
            assert slot.section.repeat is not None
            item = f"{_(slot.section.repeat.item_label)} {(slot.index or 0) + 2}"
            out.replies[said] = Message(_("Đã ghi: {value}. {item} — {answers} (không cần gõ lại).", value=_("Có"),
                                          item=item, answers="; ".join(kept)))
        return True

    def keep_for_later(self, session: Session, slot: Slot, files: list[Any], out: Outcome) -> bool:
        """Files sent at a question that takes words, early (a photo of the death notice at the deceased's name):
        kept as the answer of the form's one attachment question still to come, when there is exactly one and they
        fit it, and said so; False when they cannot be placed (none or several such questions, or not of its kind)."""
        if session.supplement is not None:
            return False  # a supplement answers only what the officer asked for
        draft = session.require_draft()
        after = self.form(session).slots_after(slot.path, draft.answers, self.today())
        later = [s for s in after if s.field.kind == "attachment" and s.path not in draft.answers]
        if len(later) != 1 or not later[0].field.min_count <= len(files) <= later[0].field.max_count:
            return False
        target = later[0]
        if slot.field.kind == "consent" or any(s.field.kind == "consent" and s.path not in draft.answers
                                               for s in after[:after.index(target)]):
            return False  # a consent still to be given before it: nothing is kept until it is
        try:
            taken = [attachment.checked(target.field, item) for item in files]
        except Invalid:
            return False
        for item, stored in zip(files, taken, strict=True):
            out.blobs[stored["sha256"]] = item.data
        self.store_ahead(session, target, taken)
        _ = translator(session.lang)
        out.replies.append(Message(_("Đã nhận {n} tệp cho mục “{label}” (được hỏi ở sau), không cần gửi lại.",
                                     n=len(taken), label=_(target.field.label or target.field.prompt))))
        out.accepted = True
        return True

    def slots_ahead(self, session: Session, slot: Slot, across: bool = False) -> list[Slot]:
        """The questions of this section (of any, ``across``) still to come that an answer typed early may be kept
        for: unanswered, not a file's, none past a consent still to be given, none the procedure checks against a
        register as it is given (``effects.checks``); none during a supplement, or from a consent."""
        if session.supplement is not None or slot.field.kind == "consent":
            return []
        draft = session.require_draft()
        checked = {path for call in self.form(session).proc.effects.checks for path in call.after}
        out: list[Slot] = []
        for later in self.form(session).slots_after(slot.path, draft.answers, self.today()):
            if later.field.kind == "consent" and later.path not in draft.answers:
                break
            if (across or later.section is slot.section) and later.path not in draft.answers and not later.synthetic \
                    and later.field.kind != "attachment" and later.path not in checked:
                out.append(later)
        return out

    def keep_typed_ahead(self, session: Session, slot: Slot, raw: str, out: Outcome) -> bool:
        """An answer refused here that is plainly another question's of this section, asked later (a phone number at
        the name, the 12 digits of an ID card at the ethnic group): kept as that answer and said so, when exactly one
        question still to come (:meth:`slots_ahead`) takes it and its kind is ``distinctive``. False otherwise."""
        if kinds.get(slot.field.kind).distinctive:
            return False  # (10 digits at the ID number are more likely a slip than the phone number asked after)
        takers: list[tuple[Slot, Any]] = []
        for later in self.slots_ahead(session, slot):
            try:
                takers.append((later, self.read_answer(session, later, raw)))
            except Invalid:
                continue
        # a word of a later question's list (“con” at a date, “Bạn là gì của người hưởng?” asked after): where no
        # words answer this one, that question's, when it is the one list-question to come that names it
        if kinds.get(slot.field.kind).wordless and not any(ch.isdigit() for ch in raw):
            lists = (*spelling.LISTS, *spelling.QUIET)
            listed = [(later, value) for later, value in takers if later.field.spelling in lists
                      and spelling.listed(later.field.spelling, spelling.spell(later.field.spelling, raw))]
            if len(listed) == 1:
                return self.kept_ahead(session, *listed[0], out, raw)
            # or the other words of a later yes/no or choice (“ở nhà” at the hour of death: “Người mất có qua đời
            # tại nhà không?” asked after), when exactly one question to come has them
            worded = [(later, value) for later, value in takers if _says_its_words(later.field, raw)]
            if len(worded) == 1:
                return self.kept_ahead(session, *worded[0], out, raw)
        if len(takers) != 1 or not kinds.get(takers[0][0].field.kind).distinctive:
            return False
        return self.kept_ahead(session, *takers[0], out)

    def keep_option_ahead(self, session: Session, slot: Slot, raw: str, out: Outcome, *, across: bool = False) -> bool:
        """At a name question, words that are no name but an option of a choice still to come in this section, by its
        label or one of its other words, whole (“mất tích” at “Họ và tên người mất?”, “Người đó đã mất hay đang mất
        tích?” being asked after): kept as that answer and said so, rather than offered as the name “MẤT TÍCH”.
        Never one word, words that begin with a surname, nor a number. False otherwise. ``across``: in any section
        still to come (words that are no yes nor no, at a yes/no question: “tiền mặt” at “Bạn có phải là người nhận
        tiền mai táng không?”, “Nhận tiền mai táng bằng cách nào?” asked after; words no option of a choice fits:
        “tôi là chủ hộ” at “Gia đình bạn sống chủ yếu bằng nghề gì?”, “Ai đang khai hồ sơ này?” asked after)."""
        words = fold(raw).split()
        if not 2 <= len(words) <= 4 or not "".join(words).isalpha() or nlu.starts_with_surname(raw):
            return False  # (one word, “Hoa”, “Thái”, may be a given name as much as an ethnic group)
        typed = " ".join(words)
        mine = _ABOUT_ME.sub("", typed)  # “tôi là bố cháu”: “bố”, an option's own word
        takers = [(later, c.value) for later in self.slots_ahead(session, slot, across) if later.field.kind == "choice"
                  for c in later.field.choices if {typed, mine} & {fold(w) for w in (c.label, *c.also)}]
        if len(takers) > 1 and _I_AM.match(typed):  # said of oneself: the first question to come that takes it,
            takers = takers[:1]  # “Bạn là gì của trẻ?” before “Ai là chủ hộ?” (in the form's order)
        return len(takers) == 1 and self.kept_ahead(session, *takers[0], out, raw)

    def kept_ahead(self, session: Session, target: Slot, value: Any, out: Outcome, raw: str | None = None) -> bool:
        """``value`` kept for ``target``, a question still to come, and said so. True. What of the words typed
        (``raw``) also answers the question right after it is kept for that one too (“con dâu”: “Khác” and the
        relation asked after it, Con dâu), as when the choice is answered where it is asked."""
        self.store_ahead(session, target, value)
        _ = translator(session.lang)
        f = target.field
        question = f.prompt if f.kind == "choice" else f.label or f.prompt  # (a choice's label says too little)
        shown = kinds.display(f, value, _)
        if raw is not None and (carried := kinds.get(f.kind).carry(f, raw, value)) is not None:
            after = self.form(session).slots_after(target.path, session.require_draft().answers, self.today())
            if after and after[0].path not in session.require_draft().answers:
                try:
                    more = self.read_answer(session, after[0], carried)
                except Invalid:
                    pass
                else:
                    self.store_ahead(session, after[0], more)
                    shown = f"{shown} — {kinds.display(after[0].field, more, _)}"
        out.replies.append(Message(_("Đã ghi “{value}” cho câu “{label}” (được hỏi ở sau), không cần gõ lại.",
                                     value=shown, label=_(question))))
        out.accepted = True
        return True

    @staticmethod
    def store_ahead(session: Session, target: Slot, value: Any) -> None:
        """``value`` answers ``target``, a question still to come; in the history, so that “quay lại” from the
        question after it, in the form's order, reaches it to be changed."""
        draft = session.require_draft()
        draft.answers[target.path] = value
        draft.record(target.path)
        draft.revision += 1
        session.dirty_drafts.add(draft.procedure)

    def fits_later(self, session: Session, slot: Slot, raw: str) -> Any:
        """The later several-choice question of this section that an answer refused here answers (“câm điếc” at the
        motor question of the disability form: the hearing and speech one), so that the citizen is told where it
        goes rather than only that it is no option here; None if none. Nothing is kept for it (health data)."""
        if not any(ch.isalpha() for ch in raw):
            return None  # (numbers fit every list)
        for later in self.slots_ahead(session, slot):
            if later.field.kind != "multi_choice":
                continue
            try:
                if parse_value(later.field, raw, today=self.today(), lookup=self.lookup(session, later)):
                    return later.field
            except Invalid:
                continue
        return None

    def answer_next(self, session: Session, before: str, typed: str, out: Outcome, *, read: bool = False) -> None:
        """``typed`` also answers the question now asked, if it is the one right after ``before``: “dao” at the
        ethnic group's choice is “Dân tộc khác”, and the name asked next is Dao. When that question was answered
        before (``before`` asked again after “quay lại”), it is answered anew, then the question now asked comes
        back: what was typed is never dropped. ``read``: words typed at a notice, for the question now asked
        whatever was answered between (member 1 filled from the head's answers), never an answered one anew."""
        if self.asks_right_after(session, before, out, skip_answered=read):
            out.replies.pop()
            self.on_collect(session, Incoming(text=typed), typed, None, out)
            return
        if read:  # (never dropped without a word)
            _ = translator(session.lang)
            at = len(out.replies) - 1 if out.replies and isinstance(out.replies[-1], Ask) else len(out.replies)
            quoted = "“" + typed.strip()[:60] + "”"
            out.replies.insert(at, Message(_("Chưa ghi: {answers}. Vui lòng trả lời lại khi được hỏi.",
                                             answers=quoted)))
            return
        after = self.slot_after(session, before)
        if after is None or session.pending is not None or session.state != "collecting" \
                or after not in session.require_draft().answers or not out.replies or not isinstance(
                    out.replies[-1], Ask):
            return
        out.replies.pop()
        session.pending = Revisit(path=after)
        self.on_collect(session, Incoming(text=typed), typed, None, out)

    def answer_later(self, session: Session, slot: Slot, path: str, typed: str, out: Outcome, *,
                     said: str = "") -> None:
        """``typed``, the words of the option just chosen at ``slot``, also answers the text question ``path`` asked
        later (``also_answers``): kept for it and said so, before the question now asked; answered now if it is that
        one. A free text question (no list to spell it from: a reason) takes the whole answer ``said`` (“giấy bị rách
        do con nít”, not only “bị rách”), said so, whether it comes next or later. Nothing when it is answered
        already, not to be asked, or refuses the words."""
        draft = session.require_draft()
        if session.supplement is not None or path in draft.answers or session.pending is not None \
                or session.state != "collecting" or not out.replies or not isinstance(out.replies[-1], Ask):
            return
        target = next((s for s in self.form(session).slots_after(slot.path, draft.answers, self.today())
                       if s.path == path), None)
        free = target is not None and target.field.kind == "text" and target.field.spelling is None and bool(said)
        if free:
            typed = without_polite_end(said.strip())
        elif out.replies[-1].field == path:
            out.replies.pop()
            self.on_collect(session, Incoming(text=typed), typed, None, out)
            return
        if target is None:
            return
        try:
            value = self.read_answer(session, target, typed)
        except Invalid:
            return
        ask = out.replies.pop()
        self.kept_ahead(session, target, value, out)
        if isinstance(ask, Ask) and ask.field == path:  # (the question asked next: the one after it now)
            self.prompt(session, out)
        else:
            out.replies.append(ask)
        if slot.path in draft.history:
            draft.record(slot.path)  # (the answer given last is still the one just given)
