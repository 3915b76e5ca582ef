"""The one confirmation dialog: cancel the draft, withdraw a submitted dossier, swear to the declaration.

Each use is a ``Purpose``: its question, its two answers and what “yes” and “no” do. Cancel and
withdraw interrupt whatever was asked and are kept in ``session.pending`` (a ``Confirm``, restored
from its ``resume`` afterwards); the sworn statement is the ``confirming`` state itself.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import parsing
from ..form import submitted
from ..i18n import N_, Translator, translator
from ..messages import NAV_BACK, NAV_CANCEL, Ask, ChoiceOut, Incoming, Message
from ..parsing import Invalid
from ..pending import Confirm
from ..protocol import Outcome, Submit, Withdraw
from .parts import EngineParts
from .session import Session

SWORN = Confirm(purpose="sworn")  # the sworn statement is never stored: it is the “confirming” state


@dataclass(frozen=True)
class Purpose:
    field: str  # the Ask's field
    kind: str  # the Ask's kind
    yes: str  # msgids of the two answers
    no: str
    retry: str  # said when the answer is neither
    nav: tuple[str, ...] = ()
    back_is_no: bool = False


PURPOSES = {
    "cancel": Purpose("_cancel", "choice", N_("Có, hủy hồ sơ"), N_("Không, tiếp tục khai"),
                      N_("Vui lòng chọn Có hoặc Không.")),
    "withdraw": Purpose("_withdraw", "choice", N_("Có, rút hồ sơ"), N_("Không rút"),
                        N_("Vui lòng chọn Có hoặc Không.")),
    "sworn": Purpose("_sworn", "confirm", N_("Tôi xin cam đoan"), N_("Xem lại thông tin"),
                     N_("Vui lòng chọn “Tôi xin cam đoan” để nộp, hoặc “Xem lại thông tin”."),
                     nav=(NAV_BACK, NAV_CANCEL), back_is_no=True),
}


class Confirming(EngineParts):
    """Asking and answering a ``Confirm``."""

    def ask_cancel(self, session: Session, msg: Incoming, text: str, out: Outcome) -> None:
        pending = Confirm(purpose="cancel", resume=session.pending)
        # "Huy" is also a name: never lose what someone typed.
        if text and session.state in ("collecting", "editing") and text.strip().lower() != "hủy":
            slot = self.past_card_offer(session, self.current_slot(session))
            if slot is not None and slot.field.kind in ("text", "name"):
                pending.typed = text
        session.pending = pending
        self.confirm_ask(session, pending, out)

    def sworn_ask(self, session: Session, out: Outcome) -> None:
        self.confirm_ask(session, SWORN, out)

    def _options(self, pending: Confirm, _: Translator) -> list[tuple[str, str]]:
        purpose = PURPOSES[pending.purpose]
        options = [("yes", _(purpose.yes)), ("no", _(purpose.no))]
        if pending.typed:
            options.append(("answer", _("“{text}” là câu trả lời", text=pending.typed[:30])))
        return options

    def _question(self, session: Session, pending: Confirm, _: Translator) -> str:
        if pending.purpose == "withdraw":
            return _("Bạn có chắc muốn rút hồ sơ {code} không? Cơ quan sẽ dừng giải quyết hồ sơ này và không khôi "
                     "phục lại được.", code=pending.code)
        if pending.purpose == "sworn":
            return _(self.catalog.get(session.require_procedure()).sworn_statement)
        return _("Bạn có chắc muốn hủy hồ sơ đang khai không? Các câu trả lời sẽ bị xóa.")

    def confirm_ask(self, session: Session, pending: Confirm, out: Outcome) -> None:
        _ = translator(session.lang)
        purpose = PURPOSES[pending.purpose]
        out.replies.append(Ask(text=self._question(session, pending, _), procedure=session.procedure,
                               field=purpose.field, kind=purpose.kind, nav=purpose.nav,
                               choices=tuple(ChoiceOut(v, label) for v, label in self._options(pending, _))))

    def on_confirm_answer(self, session: Session, pending: Confirm, msg: Incoming, text: str, command: str | None,
                          out: Outcome) -> None:
        _ = translator(session.lang)
        purpose = PURPOSES[pending.purpose]
        options = self._options(pending, _)
        value = msg.choice if msg.choice in {v for v, _l in options} else \
            parsing.match_choice(text, options) if text else None
        if value is None and text:
            try:
                value = "yes" if parsing.parse_yes_no(text, sure=True) else "no"
            except Invalid:
                value = None
        if purpose.back_is_no and command == "back":
            value = "no"
        if value is None:
            out.replies.append(Message(_(purpose.retry), error=True))
            return self.confirm_ask(session, pending, out)
        handler: Callable[..., None] = getattr(self, f"_{pending.purpose}_{value}")
        if pending is not SWORN:
            session.pending = pending.resume
        handler(session, pending, out)

    # --------------------------------------------------------------------------------------------
    # what each answer does
    def _cancel_no(self, session: Session, pending: Confirm, out: Outcome) -> None:
        _ = translator(session.lang)
        out.replies.append(Message(_("Được, chúng ta tiếp tục.")))
        self.prompt(session, out)

    def _cancel_answer(self, session: Session, pending: Confirm, out: Outcome) -> None:
        self.answer_typed(session, pending.typed or "", out)

    def _cancel_yes(self, session: Session, pending: Confirm, out: Outcome) -> None:
        _ = translator(session.lang)
        proc_id = session.procedure
        session.cancel()
        if proc_id:
            session.drafts.pop(proc_id, None)
            session.deleted_drafts.add(proc_id)
        session.procedure = None
        session.pending = None
        out.accepted = True
        out.replies.append(Message(_("Đã hủy hồ sơ đang khai.")))
        self.menu_ask(session, out)

    def _withdraw_no(self, session: Session, pending: Confirm, out: Outcome) -> None:
        _ = translator(session.lang)
        out.accepted = True
        out.replies.append(Message(_("Hồ sơ {code} vẫn được giải quyết bình thường.", code=pending.code)))
        self.prompt(session, out)

    def _withdraw_yes(self, session: Session, pending: Confirm, out: Outcome) -> None:
        out.accepted = True
        out.requests.append(Withdraw(code=pending.code or ""))  # the result says how it went (results.py)

    def _sworn_no(self, session: Session, pending: Confirm, out: Outcome) -> None:
        session.complete = True
        session.review()
        self.show_review(session, out)

    def _sworn_yes(self, session: Session, pending: Confirm, out: Outcome) -> None:
        proc = self.catalog.get(session.require_procedure())
        draft = session.require_draft()
        name = next((draft.answers[f] for f in proc.applicant_name_fields if draft.answers.get(f)), None)
        out.requests.append(Submit(procedure=proc.id, procedure_version=proc.version, draft_id=draft.id,
                                   answers=submitted(draft.answers), applicant_name=name, lang=session.lang))
