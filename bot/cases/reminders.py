"""Deadline pushes to officers (run once a day by the notifier's scheduler; dedupe keys make reruns harmless)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.i18n import translator
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.officers_repo import LegRepo

from .base import proc_title
from .deadlines import days_left, effective_due
from .notify import leg_officers, push_officers


async def scan_deadlines(db: AsyncSession, calendar: WorkCalendar | None, now: datetime, *,
                         catalog: Catalog | None = None) -> int:
    """Push "due tomorrow" (once per leg and due date) and "overdue" (once per leg and day while it stays
    overdue) to the assignee, or to every officer of the leg's agency and commune if nobody holds it.
    Legs waiting for the citizen (clock paused) get nothing. Safe to run as often as you like: the dedupe
    keys ``due:<leg>:<due date>:<officer>`` and ``overdue:<leg>:<day>:<officer>`` queue each push once."""
    calendar = calendar or DEFAULT_CALENDAR
    today = calendar.today(now)
    tomorrow = calendar.next_workday(today)
    n = 0
    _ = translator("vi")
    for leg, d in await LegRepo(db).all_with_dossier(statuses=lc.CLOCK_RUNNING):
        due = effective_due(leg, calendar, now)
        title = proc_title(d, _, catalog)
        status = _(lc.STATUS_LABELS[leg.status])
        if due == tomorrow:
            text = _("⏰ Hồ sơ {code} ({title}) đến hạn vào ngày làm việc tiếp theo ({due}).\nTrạng thái: {status}.",
                     code=d.code, title=title, due=_.date(due), status=status)
            kind, dedupe = "officer_due_tomorrow", f"due:{leg.id}:{due.isoformat()}"
        elif due < today:
            text = _("⚠️ Hồ sơ {code} ({title}) đã quá hạn {days} ngày làm việc (hạn {due}).\nTrạng thái: {status}.",
                     code=d.code, title=title, days=-days_left(due, calendar, now), due=_.date(due), status=status)
            # a reminder each working day while it stays overdue (once a day: the key holds today's date)
            kind, dedupe = "officer_overdue", f"overdue:{leg.id}:{today.isoformat()}"
        else:
            continue
        n += await push_officers(db, await leg_officers(db, leg), kind, dedupe, text, now, dossier_id=d.id,
                                  choices=[(f"open:{d.code}", _("Xem hồ sơ"))])
    return n
