"""Collecting answers: one message for the question asked, accepted, rejected or handed to its kind."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from .. import kinds, spelling
from ..expr import compile_expr
from ..form import MORE, Slot, previous
from ..i18n import N_, Label, translator
from ..kinds import NO_VALUE, parse_value
from ..messages import Incoming, Message
from ..parsing import Invalid, is_yes, says_unknown
from ..pending import DOUBT_KEEP, Doubted, Pending, Revisit
from ..protocol import Outcome
from ..schema import Constraint
from ..textnorm import fold
from .commands import is_keep
from .id_card import TYPING
from .parts import EngineParts, help_due
from .session import Session


class EngineTurn:
    """One message's view of the conversation, for a field kind's own handling (``kinds.Turn``)."""

    def __init__(self, engine: EngineParts, session: Session, out: Outcome) -> None:
        self.engine, self.session, self.out = engine, session, out
        self.t = translator(session.lang)
        self.today = engine.today()
        self.now = engine.now()

    @property
    def pending(self) -> Pending | None:
        return self.session.pending

    @pending.setter
    def pending(self, value: Pending | None) -> None:
        self.session.pending = value

    @property
    def answers(self) -> Mapping[str, Any]:
        return MappingProxyType(self.session.require_draft().answers)

    def accept(self, slot: Slot, value: Any) -> None:
        self.engine.accept(self.session, slot, value, self.out)

    def forget(self, slot: Slot) -> None:
        draft = self.session.require_draft()
        if draft.answers.pop(slot.path, None) is not None or slot.path in draft.history:
            draft.history = [p for p in draft.history if p != slot.path]
            draft.revision += 1
            self.session.dirty_drafts.add(draft.procedure)
            self.out.accepted = True

    def reject(self, exc: Invalid) -> None:
        self.engine.reject(self.session, exc, self.out)

    def prompt(self) -> None:
        self.engine.prompt(self.session, self.out)

    def ask(self, slot: Slot) -> None:
        self.out.replies.append(self.engine.ask_for(self.session, slot))

    def check(self, slot: Slot, value: Any) -> None:
        self.engine.check_constraints(self.session, slot, value)

    def skip(self, slot: Slot) -> None:
        self.engine.skip(self.session, slot, self.out)

    def not_known(self, slot: Slot, raw: str) -> bool:
        return self.engine.not_known(self.session, slot, raw, self.out, lead=True)

    def keep_ahead(self, slot: Slot, text: str) -> bool:
        return self.engine.keep_typed_ahead(self.session, slot, text, self.out)

    def elsewhere(self, slot: Slot, text: str) -> bool:
        if self.session.supplement is not None:
            return False
        return self.engine.other_request(self.session, slot.path, text, self.out)

    def say(self, text: str, error: bool = False) -> None:
        self.out.replies.append(Message(text, error=error))

    def label(self, path: str) -> str:
        return self.engine.form(self.session).label(path, self.t)

    def reset_errors(self) -> None:
        self.session.errors = 0


class Collect(EngineParts):
    """The ``collecting`` and ``editing`` states: answering the question asked."""

    def on_collect(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        slot = self.current_slot(session)
        if slot is None:
            return self.advance(session, out)
        f = slot.field
        if command == "help":
            out.replies.append(Message(self.field_help(session, f)))
            return self.prompt(session, out)
        kind = kinds.get(f.kind)
        turn = EngineTurn(self, session, out)
        if kind.intercept(turn, slot, msg, text, command):  # a sub-dialog of the kind in progress
            return
        # answered now, or in a branch switched off since
        answered, old = previous(session.require_draft().answers, slot.path)
        kept = answered and (old is not None or f.unknown is not None)
        if command is None and msg.choice is None and kind.any_words and fold(text).strip(" .!") in TYPING:
            # (“gõ tay” after the card's offer was answered: no name, the way it will be given; asked again)
            out.replies.append(Message(_("Vâng, bạn gõ trực tiếp câu trả lời vào đây.")))
            return self.prompt(session, out)
        if command is None and msg.choice is None and text and not slot.synthetic and is_keep(text):
            if kept:
                return self.accept(session, slot, old, out)  # asked again (back, edit): keep what was answered
            if answered and not f.required:
                return self.skip(session, slot, out)  # left empty before: it stays so
            if kind.any_words:  # “giu nguyen” is no name nor place: nothing was answered here to keep
                return self.reject(session, Invalid(N_("Câu này chưa có câu trả lời trước để giữ nguyên. Vui lòng "
                                                       "gõ câu trả lời.")), out)
        if command == "back":
            return self.back(session, out)
        if command == "skip":
            return self.skip(session, slot, out)
        if kind.collect(turn, slot, msg, text):  # answered over several messages, or with files
            return
        files = ([msg.file] if msg.file else []) + list(msg.files)
        if files:
            if not self.keep_for_later(session, slot, files, out):
                out.replies.append(Message(_("Câu hỏi này cần câu trả lời bằng chữ, không cần gửi tệp. "
                                             "Tệp vừa gửi chưa được lưu."), error=True))
            return self.prompt(session, out)
        doubted = session.pending if isinstance(session.pending, Doubted) and session.pending.path == slot.path \
            else None
        if doubted is not None and (msg.choice == DOUBT_KEEP or (msg.choice is None and (
                (text.strip() == "1" and f.kind == "date") or is_yes(text)))):  # confirmed: taken as typed
            # (“1”, the button's number where the channel shows numbers, is an answer of a number's own)
            msg, text = Incoming(text=doubted.typed), doubted.typed
        value = kind.shortcut(f, msg, text, _)  # a pressed button, or the number of one
        if value is not NO_VALUE:
            return self.accept(session, slot, value, out)
        raw = msg.choice if msg.choice is not None else text
        typed = msg.choice is None
        if typed and kind.unknown_first and self.not_known(session, slot, raw, out):
            return
        try:
            value = self.read_answer(session, slot, raw)
        except Invalid as refused:
            # (at a choice, a reply no option fits that begins so, “chưa có giấy báo tử”, says it too; elsewhere, one
            # without a digit, “không nhớ ngày sinh của nó”)
            if typed and slot.synthetic and f.id == MORE and (more := self.more_by_count(slot, raw)) is not None:
                if more is False and slot.section.repeat is not None:  # “1 người”: the one given, or one more?
                    item = _(slot.section.repeat.item_label).lower()
                    return self.reject(session, Invalid(N_(
                        "Đã khai {n} {item}. Nếu còn {item} khác, chọn “Có”; nếu đã đủ, chọn “Không”."),
                        n=(slot.index or 0) + 1, item=item), out)
                out.replies.append(Message(_("Đã ghi: {value}.", value=_("Có"))))  # “4 người”: others to come
                return self.accept(session, slot, more, out)
            if typed and slot.synthetic and f.id == MORE and self.more_by_kin(session, slot, raw, out):
                return  # (“vợ tôi”: one more, the wife)
            lead = f.kind == "choice" or (kind.unknown_first and not any(ch.isdigit() for ch in raw))
            if typed and (lead or not kind.unknown_first) and self.not_known(session, slot, raw, out, lead=lead):
                return
            if typed and self.keep_typed_ahead(session, slot, raw, out):
                return self.prompt(session, out)
            if typed and f.kind in ("yes_no", "choice") and self.keep_option_ahead(session, slot, raw, out,
                                                                                   across=True):
                return self.prompt(session, out)  # (“tiền mặt” at “Bạn có phải là người nhận tiền…?”)
            later = self.fits_later(session, slot, raw) if typed and f.kind == "multi_choice" else None
            if typed and later is None and turn.elsewhere(slot, raw):
                return
            exc = refused
            if later is not None:  # (before another procedure: “câm điếc” also asks for the disability assessment)
                exc = Invalid(N_("“{answer}” là câu trả lời của câu “{question}”, được hỏi sau. Câu này: gõ số thứ "
                                 "tự các mục đúng, hoặc “không” nếu không có mục nào.") if not f.min_selected else
                              N_("“{answer}” là câu trả lời của câu “{question}”, được hỏi sau. Câu này: gõ số thứ "
                                 "tự các mục đúng."), answer=raw.strip()[:40], question=Label(later.label or later.id))
            return self.reject(session, exc, out)
        if typed and self.doubt(session, slot, raw, value, out):
            return
        if f.kind == "name" and typed and self.keep_option_ahead(session, slot, raw, out):
            return self.prompt(session, out)
        if f.kind == "name" and msg.choice is None and self.propose_name(session, slot, raw, value, out):
            return
        if f.spelling == spelling.PLACES and msg.choice is None and self.propose_place(session, slot, value, out):
            return
        if f.spelling in spelling.LISTS and msg.choice is None and self.confirm_unlisted(session, slot, value, out):
            return
        if typed and kind.said_back(f, raw, value):  # read, not copied: what was filed, said back
            out.replies.append(Message(_("Đã ghi: {value}.", value=kinds.display(f, value, _))))
        self.accept(session, slot, value, out)
        if typed and (ahead := kind.carry(f, raw, value)) is not None:
            self.answer_next(session, slot.path, ahead, out, read=f.notice)
        elif typed and (later := kind.carry_later(f, raw, value)) is not None:
            self.answer_later(session, slot, *later, out, said=raw)

    def not_known(self, session: Session, slot: Slot, raw: str, out: Outcome, *, lead: bool = False) -> bool:
        """A reply that says "I don't know / don't remember" ("ko nho", "chưa có") is never stored as the answer.
        An optional question is skipped; a question that may be left unknown (``unknown`` in its definition)
        is answered "not known" with its note, and the citizen goes on; any other question says where the
        answer may be found and is asked again. True: the reply was of this sort and has been answered."""
        if not says_unknown(raw, lead=lead):
            return False
        _ = translator(session.lang)
        f = slot.field
        if f.unknown is not None:
            out.replies.append(Message(_(f.unknown.say)))
            self.accept(session, slot, None, out)
        elif not f.required:
            out.replies.append(Message(_("Không sao, câu này không bắt buộc nên có thể để trống.")))
            self.accept(session, slot, None, out)
        elif f.kind == "attachment":
            session.errors += 1
            where = "" if help_due(session, f) else _(f.help) if f.help else _(  # (said under the question)
                "Bạn có thể hỏi nơi đã cấp giấy này để xin bản sao.")
            out.replies.append(Message(_("Hồ sơ cần có giấy này. {where}\nNhững gì bạn đã khai được giữ lại: gõ "
                                         "“menu” để tạm dừng; khi có giấy, gõ “tiếp tục” rồi gửi ảnh.",
                                         where=where).replace(" \n", "\n")))
            self.prompt(session, out)
        else:
            session.errors += 1
            found = kinds.get(f.kind).where_found
            where = "" if help_due(session, f) else _(f.help) if f.help else _(found) if found else _(
                "Bạn có thể xem lại giấy tờ gốc hoặc hỏi người thân.")  # (help: said under the question)
            out.replies.append(Message(_("Câu này cần có câu trả lời thì hồ sơ mới xử lý được. {where} Những gì "
                                         "bạn đã khai được giữ lại: gõ “menu” để tạm dừng và quay lại trả lời "
                                         "sau.", where=where).replace("  ", " "), error=True))
            self.prompt(session, out)
        return True

    def skip(self, session: Session, slot: Slot, out: Outcome) -> None:
        """“bỏ qua”: an optional question is answered with nothing; a required one cannot be skipped."""
        _ = translator(session.lang)
        if slot.field.required and session.supplement is not None:
            out.replies.append(Message(_("Cán bộ cần thông tin này để xử lý tiếp hồ sơ, nên không bỏ qua được. "
                                         "Nếu chưa có, gõ “menu” để tạm dừng; khi có, gõ “bổ sung” để làm tiếp."),
                                       error=True))
            return self.prompt(session, out)
        if slot.field.required:
            out.replies.append(Message(_("Câu hỏi này bắt buộc, không bỏ qua được. Gõ “trợ giúp” nếu bạn "
                                         "cần hướng dẫn."), error=True))
            return self.prompt(session, out)
        self.accept(session, slot, None, out)

    def lookup(self, session: Session, slot: Slot) -> Callable[[str], Any]:
        """Resolve a field reference; ``item.x`` means the same repeat-group item as ``slot``."""
        form, answers = self.form(session), session.require_draft().answers
        resolve = form.resolver(answers)
        if slot.index is None:
            return resolve
        item = form.item_resolver(answers, slot.section.id, slot.index)
        return lambda ref: item(ref[5:]) if ref.startswith("item.") else resolve(ref)

    def read_answer(self, session: Session, slot: Slot, text: str) -> Any:
        """``text`` read as ``slot``'s answer by its kind and checked against its constraints; raises Invalid."""
        value = parse_value(slot.field, text, today=self.today(), lookup=self.lookup(session, slot))
        self.check_constraints(session, slot, value)
        return value

    def check_constraints(self, session: Session, slot: Slot, value: Any) -> None:
        failed = self._first_failed(session, slot, value, slot.field.constraints)
        if failed is not None:
            raise Invalid(failed.message)

    def _first_failed(self, session: Session, slot: Slot, value: Any, checks: list[Constraint]) -> Constraint | None:
        form = self.form(session)
        typed = form.typed(slot.path, value)
        answers = session.require_draft().answers
        item = form.item_resolver(answers, slot.section.id, slot.index) if slot.index is not None else None
        for c in checks:
            if compile_expr(c.expr).evaluate(form.resolver(answers), value=typed, item=item,
                                             today=self.today()) is False:
                return c
        return None

    def doubt(self, session: Session, slot: Slot, raw: str, value: Any, out: Outcome) -> bool:
        """An answer that fails one of the field's ``doubts`` (unusual, not wrong: a dead person born less than a year
        ago) is said so and asked about, with a button to keep it (True: asked). Confirmed, or typed again, it is
        taken."""
        f = slot.field
        if not f.doubts or value is None:
            return False
        pending = session.pending
        if isinstance(pending, Doubted) and pending.path == slot.path:
            try:
                if self.read_answer(session, slot, pending.typed) == value:
                    return False  # (confirmed, or typed again)
            except Invalid:
                pass
        failed = self._first_failed(session, slot, value, f.doubts)
        if failed is None:
            return False
        _ = translator(session.lang)
        shown = kinds.display(f, value, _)
        session.pending = Doubted(path=slot.path, typed=raw, shown=shown)
        session.errors = 0
        out.accepted = True
        out.replies.append(Message(_(failed.message, value=shown)))
        self.prompt(session, out)
        return True

    def reject(self, session: Session, exc: Invalid, out: Outcome) -> None:
        _ = translator(session.lang)
        session.errors += 1
        out.replies.append(Message(_(exc.message, **exc.params), error=True))
        self.prompt(session, out)

    def accept(self, session: Session, slot: Slot, value: Any, out: Outcome) -> None:
        draft = session.require_draft()
        self.follow_first(session, slot.path, draft.answers.get(slot.path), value)
        draft.answers[slot.path] = value
        draft.record(slot.path)
        draft.revision += 1
        session.dirty_drafts.add(draft.procedure)
        session.pending = None
        session.errors = 0
        out.accepted = True
        dropped = self.form(session).prune(draft.answers, self.today())
        self.recheck_dependents(session, slot.path, out)
        if dropped:
            draft.history = [p for p in draft.history if p in draft.answers]
        if session.state != "supplementing" and self.check_eligibility(session, out):
            return
        self.advance(session, out)

    def follow_first(self, session: Session, path: str, old: Any, value: Any) -> None:
        """An earlier answer a repeat group's first item was filled from (``first_from``), changed: the copy follows,
        unless it was changed itself (member 1's name edited at the review stays as edited)."""
        answers = session.require_draft().answers
        for copy in self.form(session).first_copies.get(path, ()):
            if old is not None and copy in answers and answers[copy] == old:
                answers[copy] = value

    def recheck_dependents(self, session: Session, changed: str, out: Outcome) -> None:
        """A changed answer can make a later one contradict it (an id number that no longer matches a
        corrected birth date or sex, a death date now before the birth date): drop such answers so the
        cursor asks them again, instead of submitting a dossier that fails its own checks."""
        _ = translator(session.lang)
        form, draft = self.form(session), session.require_draft()
        key = form.key_of(changed)
        for slot in list(form.slots(draft.answers, self.today())):
            f, old = slot.field, draft.answers.get(slot.path)
            if slot.synthetic or slot.path == changed or old is None:
                continue
            deps = {f.birth_date_field, f.sex_field} if f.kind == "id_number" else set()
            if slot.index is not None:
                deps = {f"{slot.section.id}[{slot.index}].{d[5:]}" if d and d.startswith("item.") else d
                        for d in deps}
            for c in f.constraints:
                e = compile_expr(c.expr)
                deps |= e.refs
                if slot.index is not None:
                    deps |= {f"{slot.section.id}[{slot.index}].{r}" for r in e.item_refs}
            if key not in deps and changed not in deps:
                continue
            try:
                if f.kind == "id_number" and isinstance(old, str):
                    parse_value(f, old, today=self.today(), lookup=self.lookup(session, slot))
                self.check_constraints(session, slot, old)
            except Invalid as exc:
                del draft.answers[slot.path]
                draft.history = [p for p in draft.history if p != slot.path]
                out.replies.append(Message(_("Câu trả lời “{label}” không còn khớp với thông tin vừa sửa: {reason} "
                                             "Vui lòng trả lời lại câu này.", label=_(f.summary_label),
                                             reason=_(exc.message, **exc.params))))

    def back(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        draft = session.require_draft()
        form = self.form(session)
        nxt = form.next_slot(draft.answers, self.today())
        current = (session.pending.about if session.pending is not None else None) or (nxt.path if nxt else None)
        order = [s.path for s in form.slots(draft.answers, self.today())]
        history = [p for p in draft.history if p in order]
        if current in order:  # the question answered last before this one in the form, however it was reached
            answered = set(history)
            history = [p for p in order[: order.index(current)] if p in answered]
        if not history:
            if session.supplement is not None:  # (an officer's request for more: the menu is not where it goes)
                out.replies.append(Message(_("Đây là câu hỏi đầu tiên, không quay lại được nữa."), error=True))
                return self.prompt(session, out)
            # back from a procedure's first question: to the list of procedures, as “menu” does
            out.replies.append(Message(_("Đây là câu hỏi đầu tiên của thủ tục này. Bạn có thể chọn thủ tục khác.")
                                       if not draft.begun else
                                       _("Đây là câu hỏi đầu tiên của thủ tục này. Hồ sơ đang khai đã được lưu: "
                                         "gõ “tiếp tục” để khai tiếp, hoặc chọn thủ tục khác.")))
            return self.go_menu(session, out)
        target = history[-1]
        session.pending = Revisit(path=target)
        session.errors = 0
        if session.state == "reviewing":
            session.edit()
        slot = form.slot_for(target, draft.answers, self.today())
        assert slot is not None, target  # history was filtered to live questions above
        out.replies.append(self.ask_for(session, slot))

    def answer_typed(self, session: Session, typed: str, out: Outcome) -> None:
        _ = translator(session.lang)
        slot = self.past_card_offer(session, self.current_slot(session), commit=True)
        if slot is None:
            return self.prompt(session, out)
        if self.not_known(session, slot, typed, out):
            return
        try:
            value = self.read_answer(session, slot, typed)
        except Invalid as exc:
            return self.reject(session, exc, out)
        self.accept(session, slot, value, out)
