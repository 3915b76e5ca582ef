"""The apology for a late leg with a new appointment date (phiếu xin lỗi và hẹn lại ngày trả kết quả).

An officer of the leg's unit — the one-stop desk, a leader, or whoever holds the leg — may apologise for an
overdue leg and give the citizen a new date: a working day after today. The status does not change; the audit
trail gets a ``reappoint`` event (the new date and the appointment that was missed), the citizen is told the
letter's content and the new date through the outbox, and the officer gets the letter as a PDF draft to sign
(bot/cases/slips.py, ``apology``). The leg's own due date is not moved: the leg stays late in the statistics.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.i18n import N_, translator
from dialogs.workdays import WorkCalendar
from storage.models import DossierEvent, DossierLeg, Officer

from .actions import scoped
from .base import ActionRefused, officer_actor, planned_leg, proc_title
from .deadlines import deadline_class, effective_due
from .notify import citizen_chats, enqueue

KIND = "citizen_reappointed"


def can_apologise(officer: Officer, leg: DossierLeg, calendar: WorkCalendar, now: datetime) -> bool:
    """Whether ``officer`` may apologise for ``leg`` now (its unit's desk or leader, or its holder; overdue)."""
    try:
        check(officer, leg, calendar, now)
    except ActionRefused:
        return False
    return True


def check(officer: Officer, leg: DossierLeg, calendar: WorkCalendar, now: datetime) -> None:
    """Refuse unless the leg is open and overdue and the officer may write to the citizen about it."""
    if officer.role not in (lc.DESK, lc.LEADER) and leg.claimed_by != officer.id:
        raise ActionRefused(N_("Chỉ bộ phận một cửa, lãnh đạo hoặc người đang xử lý hồ sơ mới gửi được phiếu xin "
                               "lỗi."), "role")
    if leg.status in lc.CLOSED or deadline_class(leg, calendar, now) != "overdue":
        raise ActionRefused(N_("Hồ sơ này chưa quá hạn nên chưa cần xin lỗi và hẹn lại ngày trả kết quả."),
                            "not_late")


def check_date(new_date: date, calendar: WorkCalendar, now: datetime) -> None:
    """The new appointment: a working day after today."""
    if new_date <= calendar.today(now):
        raise ActionRefused(N_("Ngày hẹn mới phải sau hôm nay."), "date")
    if not calendar.is_workday(new_date):
        raise ActionRefused(N_("Ngày {date} không phải ngày làm việc. Vui lòng chọn một ngày làm việc."), "date",
                            date=translator("vi").date(new_date))


async def apologise(db: AsyncSession, officer: Officer, code: str, new_date: date, reason: str, now: datetime, *,
                    calendar: WorkCalendar, catalog: Catalog | None = None) -> DossierEvent:
    """Record the apology and the new date on the leg, and tell the citizen; returns the audit event."""
    d, leg = await scoped(db, officer, code)
    check(officer, leg, calendar, now)
    check_date(new_date, calendar, now)
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise ActionRefused(N_("Vui lòng ghi rõ lý do chậm trả kết quả (người dân sẽ đọc lý do này)."), "reason")
    due = effective_due(leg, calendar, now)
    actor = officer_actor(officer)
    ev = DossierEvent(dossier_id=d.id, leg_id=leg.id, at=now, from_status=leg.status, to_status=leg.status,
                      actor=actor.key, role=actor.role, unit=actor.unit, reason=reason[:2000], action=lc.REAPPOINT,
                      data={"new_date": new_date.isoformat(), "due": due.isoformat()})
    db.add(ev)
    await db.flush()
    _ = translator(d.lang)
    title = proc_title(d, _, catalog)
    part = planned_leg(d, leg, catalog)
    if part is not None:
        title = f"{title} — {_(part.title)}"
    text = _("Hồ sơ {code} ({title}) chưa có kết quả đúng hẹn ngày {due}. Chúng tôi thành thật xin lỗi bạn.\n"
             "Lý do: {reason}\nNgày hẹn trả kết quả mới: {date}.", code=d.code, title=title, due=_.date(due),
             reason=reason, date=_.date(new_date))
    for chat in await citizen_chats(db, d):
        await enqueue(db, chat, KIND, f"ev:{ev.id}:{chat}", text, now, dossier_id=d.id)
    return ev
