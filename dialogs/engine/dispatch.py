"""Routing one message: global requests and commands first, then the sub-dialog, then the state."""
from __future__ import annotations

from .. import nlu
from ..i18n import translator
from ..messages import NAV_SKIP, Ask, ChoiceOut, Incoming, Message
from ..pending import Confirm, MenuCandidates, NameConfirm, RatingPick, SwitchOffer
from ..protocol import Follow, ListDossiers, OpenSupplement, Outcome, Rate
from .commands import (
    MAX_FOLLOW_FAILURES,
    NAV_TO_COMMAND,
    RESUME_CHOICE,
    detect_command,
    detect_follow,
    detect_rating,
    detect_rating_ask,
    detect_withdraw,
    parse_stars,
)
from .confirm import SWORN
from .parts import EngineParts
from .session import IN_PROCEDURE, Session


class Dispatch(EngineParts):
    """The engine's entry points: ``start`` and ``handle`` (``resume`` is in results.py)."""

    def start(self, session: Session) -> Outcome:
        """The bot speaks first: a greeting and the menu, or the question where they stopped (in a form or in an
        officer's supplement request)."""
        out = Outcome()
        _ = translator(session.lang)
        # a side question left unanswered (“hủy” and its yes/no, a rating) is dropped: the greeting says the form
        # goes on, and the next message must answer the question shown, not a confirmation no longer on screen
        while isinstance(session.pending, (Confirm, RatingPick)):
            session.pending = session.pending.resume
        with self.turn(session):
            if session.state in IN_PROCEDURE \
                    and session.draft is not None and session.procedure in self.catalog.procedures:
                proc = self.catalog.get(session.procedure)
                out.replies.append(Message(_("Chào bạn quay lại! Chúng ta tiếp tục hồ sơ “{title}”.",
                                             title=_(proc.title))))
                self.prompt(session, out)
            elif session.state == "supplementing" and session.supplement is not None \
                    and session.supplement.get("procedure") in self.catalog.procedures:
                # the answers given so far are kept in the request (Session.conversation_data)
                session.procedure = session.supplement["procedure"]
                out.replies.append(Message(_("Chào bạn quay lại! Chúng ta tiếp tục bổ sung hồ sơ {code}.",
                                             code=session.supplement.get("code") or "")))
                self.prompt(session, out)
            elif isinstance(session.pending, MenuCandidates) and session.pending.carried:
                # the procedure a receipt offered, its draft begun: offered again, not lost in the full menu
                out.replies.append(Message(_("Chào bạn quay lại!")))
                self.prompt(session, out)
            else:
                self.go_menu(session, out, greet=True)
        return out

    def rating_ask(self, session: Session, pending: RatingPick, out: Outcome) -> None:
        _ = translator(session.lang)
        ref = pending.code or ""
        text = _("Bạn chấm mấy sao cho chất lượng phục vụ hồ sơ {code}? (1 là kém, 5 là rất tốt)", code=ref) \
            if ref else _("Bạn chấm mấy sao cho chất lượng phục vụ? (1 là kém, 5 là rất tốt)")
        choices = tuple(ChoiceOut(f"rate:{ref}:{n}", "⭐" * n) for n in range(5, 0, -1))
        out.replies.append(Ask(text=text, procedure=session.procedure, field="_rating", kind="choice",
                               choices=choices, optional=True, nav=(NAV_SKIP,)))

    def on_rating_pick(self, session: Session, pending: RatingPick, msg: Incoming, text: str, command: str | None,
                       out: Outcome) -> None:
        _ = translator(session.lang)
        stars: int | None = None
        if msg.choice and msg.choice.startswith("rate:"):
            tail = msg.choice.rpartition(":")[2]
            stars = int(tail) if tail in ("1", "2", "3", "4", "5") else None
        elif text:
            stars = parse_stars(text)
        if stars is None and (command in ("skip", "back", "cancel", "menu") or msg.choice is not None):
            session.pending = pending.resume
            out.replies.append(Message(_("Đã bỏ qua phần đánh giá.")))
            return self.prompt(session, out)
        if stars is None:
            out.replies.append(Message(_("Vui lòng chọn từ 1 đến 5 sao, hoặc gõ “bỏ qua”."), error=True))
            return self.rating_ask(session, pending, out)
        session.pending = pending.resume
        out.requests.append(Rate(code=pending.code, stars=stars))

    def resume_draft(self, session: Session, proc_id: str | None, out: Outcome) -> None:
        """“Tiếp tục” (typed, or a reminder's button for ``proc_id``): back to the question where the citizen
        stopped. From the menu, the draft named (or the only one) is opened; with several, the menu says which."""
        _ = translator(session.lang)
        if session.state in IN_PROCEDURE and session.draft is not None and proc_id in (None, session.procedure):
            out.replies.append(Message(_("Chúng ta tiếp tục hồ sơ “{title}”.",
                                         title=_(self.catalog.get(session.require_procedure()).title))))
            return self.prompt(session, out)
        if session.state in IN_PROCEDURE and session.draft is not None:  # busy with another form: stay there
            return self.prompt(session, out)
        drafts = [p for p, d in session.drafts.items() if p in self.catalog.procedures and d.begun]
        target = proc_id if proc_id in drafts else drafts[0] if len(drafts) == 1 else None
        if target is None:
            if not drafts:
                out.replies.append(Message(_("Bạn không có hồ sơ nào đang khai dở.")))
            return self.go_menu(session, out)
        return self.begin(session, target, out)

    def handle(self, session: Session, msg: Incoming) -> Outcome:
        out = Outcome()
        with self.turn(session):
            try:
                self._dispatch(session, msg, out)
            except Exception as exc:  # never crash a chat (a fault of ours included: said, and the question again)
                _ = translator(session.lang)
                out.replies.append(Message(_("Xin lỗi, đã có lỗi khi xử lý tin nhắn này. Vui lòng thử lại."),
                                           error=True))
                out.replies.append(self.safe_prompt(session))
                out.error = _where(exc)
        if not out.requests and out.ask is None:  # every turn ends with a question (or a request's result)
            out.replies.append(self.safe_prompt(session))
        return out

    def _dispatch(self, session: Session, msg: Incoming, out: Outcome) -> None:
        _ = translator(session.lang)
        text = (msg.text or "").strip()
        command = NAV_TO_COMMAND.get(msg.choice or "")
        if command is None and text and msg.choice is None:
            command = detect_command(text)
        pending = session.pending

        # Confirmation of cancel (or of withdrawing a dossier) comes first, whatever the state.
        if isinstance(pending, Confirm):
            return self.on_confirm_answer(session, pending, msg, text, command, out)
        withdraw = detect_withdraw(text) if text and msg.choice is None else None
        if withdraw is True:
            out.replies.append(Message(_("Để rút một hồ sơ đã nộp, gõ “rút hồ sơ” và mã hồ sơ, ví dụ: rút hồ sơ "
                                         "{example}. Gõ “/hoso” để xem mã các hồ sơ của bạn.",
                                         example="MT-2611-7KQ4XP9Z")))
            return self.prompt(session, out)
        if withdraw:
            session.pending = Confirm(purpose="withdraw", code=withdraw, resume=session.pending)
            out.accepted = True
            return self.confirm_ask(session, session.pending, out)

        if isinstance(pending, RatingPick):
            return self.on_rating_pick(session, pending, msg, text, command, out)
        # Requests served by the runtime (it has the database), from any state
        ask_rating = detect_rating_ask(text) if text and msg.choice is None else None
        if ask_rating is not None:
            session.pending = RatingPick(code=None if ask_rating is True else ask_rating, resume=session.pending)
            return self.rating_ask(session, session.pending, out)
        rating = detect_rating(text) if text and msg.choice is None else None
        if msg.choice and msg.choice.startswith("rate:"):
            code, _sep, stars = msg.choice[5:].rpartition(":")
            rating = (code or None, int(stars)) if stars in ("1", "2", "3", "4", "5") else None
        if rating is not None:
            out.requests.append(Rate(code=rating[0], stars=rating[1]))
            return
        follow = detect_follow(text) if text and msg.choice is None else None
        if follow is True:
            out.replies.append(Message(_("Để nhận thông báo về hồ sơ mà người khác đã nộp giúp bạn, gõ “/theodoi”, "
                                         "mã hồ sơ và 4 số cuối số CCCD của bạn, ví dụ: /theodoi {example} 1234.",
                                         example="MT-2611-7KQ4XP9Z")))
            return self.prompt(session, out)
        if follow:
            if self.failures(session, "follow") >= MAX_FOLLOW_FAILURES:
                out.replies.append(Message(_("Bạn đã nhập sai nhiều lần hôm nay. Vui lòng thử lại vào ngày mai, hoặc "
                                             "nhờ cán bộ xã giúp."), error=True))
                return self.prompt(session, out)
            out.requests.append(Follow(code=follow[0], last4=follow[1]))
            return
        if command == "dossiers":
            out.requests.append(ListDossiers())
            return
        if command == "thanks":
            out.replies.append(Message(_("Dạ, không có gì ạ.")))
            return self.prompt(session, out)
        if session.state in IN_PROCEDURE and session.procedure in self.catalog.procedures and text \
                and msg.choice is None and nlu.is_greeting(text):  # back in the chat: “xin chào” is no name
            out.replies.append(Message(_("Chào bạn! Chúng ta đang khai hồ sơ “{title}”.",
                                         title=_(self.catalog.get(session.procedure).title))))
            return self.prompt(session, out)
        if command == "supplement" or (msg.choice or "").startswith("supplement:"):
            if session.state == "supplementing":
                return self.prompt(session, out)
            ref = (msg.choice or "").partition(":")[2]
            out.requests.append(OpenSupplement(int(ref) if ref.isdigit() else None))
            return

        if session.state == "supplementing":
            return self.on_supplementing(session, msg, text, command, out)
        lang = nlu.detect_language_switch(text, session.lang) if text and msg.choice is None else None
        if lang is not None:
            session.lang = lang
            _ = translator(lang)
            out.accepted = True
            out.replies.append(Message(_("Đã chuyển sang tiếng Việt.")))
            return self.prompt(session, out)
        if command in ("reminders_off", "reminders_on"):
            session.reminders_off = command == "reminders_off"
            out.accepted = True
            out.replies.append(Message(_("Đã tắt nhắc nhở hồ sơ khai dở. Gõ “bật nhắc” để bật lại.")
                                       if session.reminders_off else _("Đã bật lại nhắc nhở hồ sơ khai dở.")))
            return self.prompt(session, out)
        resume = (msg.choice or "")[len(RESUME_CHOICE):] if (msg.choice or "").startswith(RESUME_CHOICE) else None
        if resume is not None or command == "resume":
            return self.resume_draft(session, resume, out)
        if isinstance(pending, NameConfirm):
            return self.on_name_confirm(session, pending, msg, text, command, out)

        if session.state in ("menu", "submitted", "cancelled"):
            return self.on_menu(session, msg, text, command, out)
        if session.procedure not in self.catalog.procedures or session.draft is None:
            session.procedure = None
            return self.go_menu(session, out)

        if command == "menu":
            if session.draft.begun:
                out.replies.append(Message(_("Hồ sơ đang khai đã được lưu. Bạn có thể quay lại tiếp tục bất cứ lúc "
                                             "nào.")))
            session.pending = None
            return self.go_menu(session, out)
        if command == "info":
            out.replies.append(Message(self.info_card(session.procedure, session.lang)))
            return self.prompt(session, out)
        if command == "cancel":
            return self.ask_cancel(session, msg, text, out)
        topic = self.info_question(session, msg, text)
        if topic is not None:
            out.replies.append(Message(self.info_answer(session.procedure, topic, session.lang)))
            return self.prompt(session, out)

        if isinstance(pending, SwitchOffer):
            return self.on_switch_offer(session, pending, msg, text, command, out)
        if session.state == "eligibility":
            return self.on_eligibility(session, msg, text, command, out)
        if session.state == "reviewing":
            return self.on_review(session, msg, text, command, out)
        if session.state == "confirming":
            return self.on_confirm_answer(session, SWORN, msg, text, command, out)
        return self.on_collect(session, msg, text, command, out)


def _where(exc: BaseException) -> str:
    """An error as the runtime may log it: its type and where it was raised, never its message (which may hold
    what the citizen typed)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return type(exc).__name__
    code = tb.tb_frame.f_code
    return f"{type(exc).__name__} in {code.co_name} ({code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno})"
