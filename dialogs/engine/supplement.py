"""Supplements: an officer asked for some items of a submitted dossier again; only those are asked."""
from __future__ import annotations

from typing import Any

from .. import parsing
from ..i18n import translator
from ..kinds import display
from ..messages import Ask, ChoiceOut, Incoming, Message
from ..parsing import is_yes
from ..pending import SupplementReview
from ..protocol import Outcome, SendSupplement, SupplementSent
from .parts import EngineParts
from .session import Session


class Supplement(EngineParts):
    """The ``supplementing`` state."""

    def begin_supplement(self, session: Session, request: dict[str, Any] | None, out: Outcome) -> None:
        """An officer's open request (or None when there is none), loaded by the runtime."""
        _ = translator(session.lang)
        if request is None or request.get("procedure") not in self.catalog.procedures:
            out.replies.append(Message(_("Hiện bạn không có hồ sơ nào cần bổ sung.")))
            return self.prompt(session, out)
        fields = list(request["fields"])
        session.begin_supplement()
        session.supplement = {
            "id": request["id"], "code": request["code"], "procedure": request["procedure"],
            "fields": fields, "reason": request.get("reason"), "history": [],
            "answers": {k: v for k, v in (request.get("answers") or {}).items() if k not in fields},
        }
        session.forget_supplement_draft()
        session.procedure = request["procedure"]
        session.pending = None
        session.errors = 0
        out.accepted = True
        form = self.form(session)
        labels = [form.label(p, _) for p in fields]  # “Họ và tên (người mất)”: which one, out of its section
        out.replies.append(Message(
            _("Cán bộ đề nghị bổ sung hồ sơ {code}.", code=request["code"])
            + ("\n" + _("Lý do: {reason}", reason=request["reason"]) if request.get("reason") else "")
            + "\n" + _("Bạn cần gửi lại: {items}.", items="; ".join(labels))))
        self.advance(session, out)

    def supplement_done(self, session: Session, result: SupplementSent, out: Outcome) -> None:
        _ = translator(session.lang)
        if result.ok:
            out.replies.append(Message(_("Đã gửi bổ sung cho hồ sơ {code}. Cán bộ sẽ tiếp tục xử lý và báo "
                                         "kết quả cho bạn.", code=result.code), dossier=result.code))
            if result.remaining:
                out.replies.append(Message(_("Còn {n} yêu cầu bổ sung khác đang chờ bạn. Gõ “bổ sung” để làm tiếp.",
                                             n=result.remaining)))
        self.end_supplement(session, out)

    def end_supplement(self, session: Session, out: Outcome) -> None:
        session.supplement = None
        session.forget_supplement_draft()
        session.procedure = None
        self.go_menu(session, out)

    def on_supplementing(self, session: Session, msg: Incoming, text: str, command: str | None,
                          out: Outcome) -> None:
        _ = translator(session.lang)
        if command in ("menu", "cancel"):
            out.replies.append(Message(_("Đã tạm dừng bổ sung. Khi sẵn sàng, gõ “bổ sung” để làm tiếp.")))
            return self.end_supplement(session, out)
        if command == "info":
            out.replies.append(Message(self.info_card(session.require_procedure(), session.lang)))
            return self.prompt(session, out)
        if isinstance(session.pending, SupplementReview):
            value = msg.choice or parsing.match_choice(text, [("send", _("Gửi bổ sung")), ("redo", _("Khai lại"))])
            if value is None and text and is_yes(text):
                value = "send"
            if command == "back":
                value = "redo"
            if value == "send":
                sup = session.require_supplement()
                answers = session.require_draft().answers
                out.requests.append(SendSupplement(request_id=sup["id"], code=sup["code"],
                                                   answers={p: answers.get(p) for p in sup["fields"]}))
                return
            if value == "redo":
                for p in session.require_supplement()["fields"]:
                    session.require_draft().answers.pop(p, None)
                session.require_draft().history.clear()
                session.pending = None
                return self.advance(session, out)
            out.replies.append(Message(_("Vui lòng chọn một trong các lựa chọn bên dưới."), error=True))
            return self.supplement_ask(session, out)
        return self.on_collect(session, msg, text, command, out)

    def supplement_review(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        form, answers = self.form(session), session.require_draft().answers
        lines = [_("Thông tin bổ sung cho hồ sơ {code}:", code=session.require_supplement()["code"])]
        for p in session.require_supplement()["fields"]:
            f = form.field(p)
            if f is not None and p in answers:
                lines.append(f"• {form.label(p, _)}: {display(f, answers[p], _)}")
        out.replies.append(Message("\n".join(lines)))
        session.pending = SupplementReview()
        self.supplement_ask(session, out)

    def supplement_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        out.replies.append(Ask(text=_("Gửi phần bổ sung này cho cán bộ?"), procedure=session.procedure,
                               field="_supplement", kind="choice",
                               choices=(ChoiceOut("send", _("Gửi bổ sung")), ChoiceOut("redo", _("Khai lại")))))
