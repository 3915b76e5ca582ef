"""Resuming the engine with the runtime's answer to a request (dialogs/protocol.py)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from .. import kinds
from ..expr import compile_expr
from ..form import FOLLOWS, submitted
from ..i18n import translator
from ..messages import Message
from ..protocol import (
    CheckResult,
    DossierList,
    Followed,
    FormCopy,
    Outcome,
    Rated,
    Result,
    Submitted,
    SupplementOpened,
    SupplementSent,
    Withdrawn,
)
from ..schema import Procedure
from .parts import EngineParts
from .session import Draft, Session


class Results(EngineParts):
    """``resume``: each result rendered for the citizen, then the question that is asked now."""

    def resume(self, session: Session, result: Result) -> Outcome:
        """Called by the runtime, once per request, with its typed result (in the same transaction)."""
        out = Outcome()
        _ = translator(session.lang)
        with self.turn(session):
            if isinstance(result, Submitted):
                self._submitted(session, result, out)
            elif isinstance(result, SupplementOpened):
                self.begin_supplement(session, result.request, out)
            elif isinstance(result, SupplementSent):
                if not result.ok and result.reason:
                    out.replies.append(Message(result.reason, error=True))
                self.supplement_done(session, result, out)
            else:
                if isinstance(result, DossierList):
                    out.replies.append(self._dossier_list(session, result.items))
                elif isinstance(result, Rated):
                    out.replies.append(
                        Message(_("Cảm ơn bạn đã đánh giá! Ý kiến của bạn giúp cơ quan phục vụ tốt hơn."))
                        if result.ok else Message(result.reason or _("Chưa ghi nhận được đánh giá."), error=True))
                elif isinstance(result, Withdrawn):
                    out.replies.append(
                        Message(_("Đã rút hồ sơ {code}. Cơ quan giải quyết sẽ dừng xử lý hồ sơ này. Nếu cần, bạn có "
                                  "thể nộp hồ sơ mới bất cứ lúc nào.", code=result.code)) if result.ok else
                        Message(result.reason or _("Chưa rút được hồ sơ này."), error=True))
                elif isinstance(result, Followed):
                    out.replies.append(self._followed(session, result))
                elif isinstance(result, CheckResult) and result.message:
                    out.replies.append(Message(result.message, error=not result.ok))
                self.prompt(session, out)
        return out

    def _submitted(self, session: Session, result: Submitted, out: Outcome) -> None:
        """The dossier is stored (in the same transaction): the receipt, the runtime's notes, the menu."""
        _ = translator(session.lang)
        code, due, created = result.code, result.due, result.created
        proc = self.catalog.get(session.procedure) if session.procedure else None
        if session.state == "confirming":
            session.submitted_ok()
        draft = session.drafts.get(session.procedure) if session.procedure else None
        has_id = bool(draft and any(k.endswith(".id_number") and v for k, v in draft.answers.items()))
        days = proc.processing_days if proc else 0
        if draft is not None and proc is not None:  # a linked dossier takes as long as its longest leg
            legs = self.form(session).planned_legs(draft.answers, self.today())
            days = max((leg.days for leg in legs), default=days)
        if session.procedure:
            session.drafts.pop(session.procedure, None)
            session.deleted_drafts.add(session.procedure)
        session.pending = None
        session.last_dossier = code
        clock = proc.clock_at(self.today()) if proc else None
        if clock is not None and clock.starts == "desk_receipt":
            # the time limit runs from the desk's receipt of a complete dossier: only an estimate now
            text = _("Đã nộp hồ sơ thành công.\nMã hồ sơ: {code}\nNgày trả kết quả dự kiến: {due} "
                     "({days} ngày làm việc). Đây là ngày ước tính: thời hạn được tính từ khi cơ quan "
                     "tiếp nhận đủ hồ sơ; bạn sẽ được báo ngày hẹn chính thức.\nBạn sẽ nhận được thông "
                     "báo khi hồ sơ có thay đổi.", code=code, due=_.date(due), days=days)
        else:
            text = _("Đã nộp hồ sơ thành công.\nMã hồ sơ: {code}\nNgày hẹn trả kết quả: {due} "
                     "({days} ngày làm việc).\nBạn sẽ nhận được thông báo khi hồ sơ có thay đổi.",
                     code=code, due=_.date(due), days=days)
        if result.details:
            text += "\n" + result.details
        resolver = self.catalog.form(proc.id).resolver(draft.answers, self.today()) \
            if created and draft is not None and proc is not None else None
        if resolver is not None and has_id and proc is not None and proc.others_follow is not None:
            has_id = compile_expr(proc.others_follow).evaluate(resolver, today=self.today()) is True
        if created and has_id:
            text += "\n" + _("Nếu bạn nộp giúp người khác, người đó gõ “/theodoi {code}” và 4 số cuối CCCD "
                              "của mình để cũng nhận thông báo.", code=code)
        if not created:
            text = _("Hồ sơ này đã được nộp trước đó. Mã hồ sơ: {code}.", code=code)
        out.replies.append(Message(text, dossier=code))
        out.replies.extend(result.notes)
        if created and draft is not None:  # the citizen's copy of the filled form, once committed
            out.after_commit.append(FormCopy(procedure=draft.procedure, answers=submitted(draft.answers),
                                             submitted_at=result.submitted_at, code=code, lang=session.lang))
        if not (resolver is not None and proc is not None and draft is not None
                and self._follow_up(session, proc, draft, resolver, code, out)):
            self.menu_ask(session, out)

    def _follow_up(self, session: Session, proc: Procedure, draft: Draft, resolver: Callable[[str], Any], code: str,
                   out: Outcome) -> bool:
        """The procedure the dossier just submitted calls for (``follow_ups``), offered with its draft begun from
        the answers it carries (kept as drafts are, encrypted: never in the offer itself). True: offered."""
        today = self.today()
        follow = next((f for f in proc.follow_ups if f.procedure in self.catalog.procedures
                       and compile_expr(f.when).evaluate(resolver, today=today) is True), None)
        if follow is None:
            return False
        target = self.catalog.get(follow.procedure)
        if follow.procedure not in session.drafts or not session.drafts[follow.procedure].begun:
            carried = Draft(id=uuid.uuid4().hex, procedure=target.id, version=target.version,
                            answers={FOLLOWS: code})  # officers see which dossier it carries on from
            mine, theirs = self.catalog.form(proc.id), self.catalog.form(target.id)
            vi = translator("vi")  # (answers are stored as the forms write them)
            for to in theirs.fields_by_key().values():
                source = next((x for x in follow.carry.get(to.id, ()) if draft.answers.get(x) is not None), None)
                of = mine.field(source) if source else None
                if of is None or source is None:
                    continue
                value = draft.answers[source]
                if to.kind == "text" and of.kind != "text":
                    value = kinds.display(of, value, vi)[:to.max_len or None]
                carried.answers[to.id] = value
                carried.record(to.id)
            for fid, given in follow.values.items():
                carried.answers[fid] = given
                carried.record(fid)
            session.drafts[target.id] = carried
            session.dirty_drafts.add(target.id)
            session.deleted_drafts.discard(target.id)
        self.offer_candidates(session, [target.id], out, carried_from=code)
        return True

    def _dossier_list(self, session: Session, items: tuple[dict[str, Any], ...]) -> Message:
        _ = translator(session.lang)
        if not items:
            return Message(_("Bạn chưa nộp hồ sơ nào."))
        lines = [_("Hồ sơ của bạn:")]
        for d in items:
            title = _(self.catalog.get(d["procedure"]).title) if d["procedure"] in self.catalog.procedures \
                else d["procedure"]
            line = f"• {d['code']} — {title}: {d.get('status_label') or d['status']}"
            if not d.get("closed") and d.get("days_left") is not None:
                left = d["days_left"]
                line += " — " + (_("còn {n} ngày làm việc", n=left) if left > 0 else
                                 _("đến hạn hôm nay") if left == 0 else _("quá hạn {n} ngày làm việc", n=-left))
            if d.get("rateable", d.get("closed")) and not d.get("rated"):
                line += " — " + _("gõ “đánh giá {code} 5” để chấm từ 1 đến 5 sao", code=d["code"])
            lines.append(line)
        return Message("\n".join(lines))

    def failures(self, session: Session, what: str) -> int:
        day, n = (session.throttle or {}).get(what) or (None, 0)
        return n if day == self.today().isoformat() else 0

    def _followed(self, session: Session, result: Followed) -> Message:
        _ = translator(session.lang)
        if not result.ok:  # counted per day, so the last four digits cannot be guessed by trying them all
            session.throttle = dict(session.throttle or {}, follow=[self.today().isoformat(),
                                                                    self.failures(session, "follow") + 1])
            return Message(result.reason or _("Chưa theo dõi được hồ sơ này."), error=True)
        text = _("Đã ghi nhận. Bạn sẽ nhận thông báo về hồ sơ {code} tại đây.", code=result.code)
        if result.status:
            text += "\n" + _("Tình trạng hiện nay: {status}.", status=result.status)
        return Message(text)
