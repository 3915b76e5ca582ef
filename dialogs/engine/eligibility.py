"""Eligibility: a rule of the procedure says early that the case is not covered, and what to do instead."""
from __future__ import annotations

from .. import parsing
from ..expr import compile_expr
from ..i18n import translator
from ..messages import Ask, ChoiceOut, Incoming, Message
from ..pending import Ineligible, Revisit
from ..protocol import Outcome
from ..textnorm import fold
from .parts import EngineParts
from .session import Session

FIX = "fix"  # fix the latest answer that made the rule stop the case; "fix:<path>": that one
MAX_FIXES = 3


class Eligibility(EngineParts):
    """The ``eligibility`` state."""

    def check_eligibility(self, session: Session, out: Outcome) -> bool:
        proc = self.catalog.get(session.require_procedure())
        form = self.form(session)
        answers = session.require_draft().answers
        today = self.today()
        for rule in proc.rules_at(answers, today):  # the version in force on the rule's day
            expr = compile_expr(rule.ineligible_if)
            if expr.evaluate(form.resolver(answers, today), today=today) is True:
                _ = translator(session.lang)
                if session.state != "eligibility":
                    session.found_ineligible()
                session.pending = Ineligible(rule=rule.id)
                # amounts of a dated standard ({poverty_line}) are written into the reason as money
                std, stale = proc.standard_for(answers, today)
                params = {k: _.money(v) for k, v in std.values.items()} if std is not None else {}
                ref = rule.legal_ref
                if std is not None and any(r.startswith("std.") for r in expr.refs):
                    ref += "\n" + _("Chuẩn áp dụng: {name} ({source}).", name=_(std.name), source=std.source)
                    if stale:
                        ref += " " + _("Trợ lý chưa có chuẩn mới hơn; cán bộ xã sẽ đối chiếu với chuẩn đang có "
                                       "hiệu lực.")
                out.replies.append(Message(
                    _("Rất tiếc, trường hợp này không thuộc diện của thủ tục “{title}”.", title=_(proc.title))
                    + "\n" + _("Lý do: {reason}", reason=_(rule.reason, **params))
                    + "\n" + _("Căn cứ: {ref}", ref=ref)
                    + "\n" + _("Bạn có thể: {instead}", instead=_(rule.instead, **params)), error=False))
                self.eligibility_ask(session, out)
                return True
        return False

    def stop_causes(self, session: Session) -> list[str]:
        """The answers that made the rule stop the case, latest first: those its condition reads (the last
        answer given, when it reads none of them). "Sửa" opens one of them: another answer would only bring
        the same stop back."""
        draft = session.draft
        if draft is None or not draft.history:
            return []
        pending = session.pending
        rule = next((r for r in self.catalog.get(session.require_procedure()).rules_at(draft.answers, self.today())
                     if isinstance(pending, Ineligible) and r.id == pending.rule), None)
        causes: list[str] = []
        if rule is not None:
            refs = compile_expr(rule.ineligible_if).refs
            causes = [p for p in reversed(draft.history) if p in draft.answers
                      and (p in refs or any(r.startswith(p + ".") for r in refs))]
        return causes[:MAX_FIXES] or [draft.history[-1]]

    def _fix_choices(self, session: Session) -> list[tuple[str, str]]:
        _ = translator(session.lang)
        form = self.form(session)
        causes = [(p, form.field(p)) for p in self.stop_causes(session)]
        if len(causes) <= 1:
            return [(FIX, _("Sửa câu trả lời"))]
        return [(FIX if i == 0 else f"{FIX}:{p}", _("Sửa “{label}”", label=_(f.summary_label) if f else p))
                for i, (p, f) in enumerate(causes)]

    def stop_lifted(self, session: Session, out: Outcome) -> bool:
        """The case stopped by a rule that no longer stops it (the procedure's rules changed since, as the law
        did: the death group with only the death registration left is now filed as such): the stop is lifted and
        the form goes on where it was. True: lifted, and the next question asked."""
        pending, draft = session.pending, session.draft
        if draft is None or not isinstance(pending, Ineligible):
            return False
        form, today = self.form(session), self.today()
        for rule in self.catalog.get(session.require_procedure()).rules_at(draft.answers, today):
            if rule.id == pending.rule and compile_expr(rule.ineligible_if).evaluate(
                    form.resolver(draft.answers, today), today=today) is True:
                return False
        session.fix_answer()
        session.pending = None
        self.advance(session, out)
        return True

    def eligibility_ask(self, session: Session, out: Outcome) -> None:
        if self.stop_lifted(session, out):
            return
        _ = translator(session.lang)
        fixes = self._fix_choices(session)
        if len(fixes) == 1:
            causes = self.stop_causes(session)
            f = self.form(session).field(causes[0]) if causes else None
            text = (_("Nếu câu “{label}” trả lời nhầm, chọn “Sửa câu trả lời” để sửa câu đó. Hồ sơ đang khai vẫn "
                      "được lưu.", label=_(f.summary_label)) if f is not None else
                    _("Nếu bạn trả lời nhầm, chọn “Sửa câu trả lời”. Hồ sơ đang khai vẫn được lưu."))
        else:
            text = _("Nếu có câu trả lời nhầm, chọn câu cần sửa. Hồ sơ đang khai vẫn được lưu.")
        out.replies.append(Ask(
            text=text, procedure=session.procedure, field="_eligibility", kind="choice",
            choices=(*(ChoiceOut(v, label) for v, label in fixes), ChoiceOut("menu", _("Về danh sách thủ tục")),
                     ChoiceOut("cancel", _("Hủy hồ sơ")))))

    def on_eligibility(self, session: Session, msg: Incoming, text: str, command: str | None,
                        out: Outcome) -> None:
        if self.stop_lifted(session, out):
            return
        _ = translator(session.lang)
        fixes = self._fix_choices(session)
        value = msg.choice or parsing.match_choice(text, [*fixes, ("menu", _("Về danh sách thủ tục")),
                                                          ("cancel", _("Hủy hồ sơ"))])
        if value is None and fold(text).strip(" .!") in ("sua", "sua cau tra loi", "sua lai"):
            value = FIX
        if command == "back":
            value = FIX
        if value == "menu":
            return self.go_menu(session, out)
        if value == "cancel":
            return self.ask_cancel(session, msg, "", out)
        if value not in {v for v, _label in fixes} | {FIX}:
            out.replies.append(Message(_("Vui lòng chọn một trong các lựa chọn bên dưới."), error=True))
            return self.eligibility_ask(session, out)
        causes = self.stop_causes(session)
        target = value.partition(":")[2] or (causes[0] if causes else None)
        session.fix_answer()
        session.pending = None
        if target:
            session.pending = Revisit(path=target)
        slot = self.current_slot(session)
        if slot is None:
            return self.advance(session, out)
        out.replies.append(self.ask_for(session, slot))
