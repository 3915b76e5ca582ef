"""Deadline pushes to officers (run once a day by the notifier's scheduler; dedupe keys make reruns harmless)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.i18n import N_, translator
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.filing import OfficerRow, Rows
from storage.models import Dossier, DossierLeg, Officer
from storage.officers_repo import LegRepo, OfficerRepo, SupplementRepo

from .base import proc_title
from .deadlines import days_left, effective_due
from .links import waiting_title
from .notify import citizen_chats, enqueue, leg_officers, push_officers


async def scan_deadlines(db: AsyncSession, calendar: WorkCalendar | None, now: datetime, *,
                         catalog: Catalog | None = None, afternoon: bool = False) -> int:
    """Deadline pushes to the assignee, or to every officer of the leg's agency and commune if nobody holds it:

    * the morning run: "due today" and "due tomorrow" (once per leg and due date), and "overdue" (once per leg and
      day while it stays overdue, also to the unit's leaders: escalation);
    * the ``afternoon`` run (before the 15:00 cut-off): "due today" again, for what is still open.

    Legs waiting for the citizen (clock paused) get nothing, and neither does a linked dossier's leg still waiting
    for its upstream leg's result (its officers cannot finish it yet; the upstream leg gets its own pushes).
    Safe to run as often as you like: every push has a dedupe key (``due:``, ``today:``, ``today-pm:``,
    ``overdue:`` + leg, date and officer)."""
    calendar = calendar or DEFAULT_CALENDAR
    today = calendar.today(now)
    tomorrow = calendar.next_workday(today)
    n = 0
    _ = translator("vi")
    officers = OfficerRepo(db)
    for leg, d in await LegRepo(db).all_with_dossier(statuses=lc.CLOCK_RUNNING):
        due = effective_due(leg, calendar, now)
        if due > tomorrow or await waiting_title(db, d, leg, catalog, calendar):
            continue
        title = proc_title(d, _, catalog)
        status = _(lc.STATUS_LABELS[leg.status])
        targets = await leg_officers(db, leg)
        if due == today:
            text = _("⏰ Hồ sơ {code} ({title}) đến hạn HÔM NAY ({due}), trước 15:00 là tốt nhất.\nTrạng thái: "
                     "{status}.", code=d.code, title=title, due=_.date(due), status=status)
            kind, dedupe = "officer_due_today", f"{'today-pm' if afternoon else 'today'}:{leg.id}:{due.isoformat()}"
        elif afternoon:
            continue
        elif due == tomorrow:
            text = _("⏰ Hồ sơ {code} ({title}) đến hạn vào ngày làm việc tiếp theo ({due}).\nTrạng thái: {status}.",
                     code=d.code, title=title, due=_.date(due), status=status)
            kind, dedupe = "officer_due_tomorrow", f"due:{leg.id}:{due.isoformat()}"
        elif due < today:
            text = _("⚠️ Hồ sơ {code} ({title}) đã quá hạn {days} ngày làm việc (hạn {due}).\nTrạng thái: {status}.",
                     code=d.code, title=title, days=-days_left(due, calendar, now), due=_.date(due), status=status)
            # a reminder each working day while it stays overdue (once a day: the key holds today's date)
            kind, dedupe = "officer_overdue", f"overdue:{leg.id}:{today.isoformat()}"
            leaders = [o for o in await officers.in_scope(leg.agency, leg.commune_code) if o.role == lc.LEADER]
            targets = targets + [o for o in leaders if o not in targets]
        else:
            continue
        n += await push_officers(db, targets, kind, dedupe, text, now, dossier_id=d.id,
                                  choices=[(f"open:{d.code}", _("Xem hồ sơ"))])
    return n


async def push_if_due_soon(db: AsyncSession | Rows, dossier: Dossier, leg: DossierLeg, calendar: WorkCalendar,
                           now: datetime, *, catalog: Catalog | None = None,
                           officers: list[OfficerRow] | None = None) -> int:
    """A leg created (or received) after the morning run whose due date is the next working day: the "due
    tomorrow" push now, not after it is late (the key is the morning run's, so it is never sent twice). A new
    leg's ``officers`` (those in its scope) are the caller's, read already."""
    due = effective_due(leg, calendar, now)
    if due != calendar.next_workday(calendar.today(now)):
        return 0
    _ = translator("vi")
    text = _("⏰ Hồ sơ {code} ({title}) đến hạn vào ngày làm việc tiếp theo ({due}).\nTrạng thái: {status}.",
             code=dossier.code, title=proc_title(dossier, _, catalog), due=_.date(due),
             status=_(lc.STATUS_LABELS[leg.status]))
    targets: list[Officer] | list[OfficerRow]
    if officers is None:
        assert isinstance(db, AsyncSession)  # (a caller on the driver passes the officers)
        targets = await leg_officers(db, leg)
    else:
        targets = officers
    return await push_officers(db, targets, "officer_due_tomorrow",
                               f"due:{leg.id}:{due.isoformat()}", text, now, dossier_id=dossier.id,
                               choices=[(f"open:{dossier.code}", _("Xem hồ sơ"))])


async def scan_supplements(db: AsyncSession, calendar: WorkCalendar | None, now: datetime, *,
                           catalog: Catalog | None = None, remind_before: int = 2) -> int:
    """Open supplement requests: the citizen is reminded ``remind_before`` working days before the deadline
    (once), and once the deadline has passed the officers holding the leg and the unit's leaders hear that the
    dossier may now be returned (rejected for not supplementing). Dedupe keys ``sup-remind:`` / ``sup-late:``."""
    calendar = calendar or DEFAULT_CALENDAR
    today = calendar.today(now)
    n = 0
    for req, leg, d in await SupplementRepo(db).open_with_legs():
        if req.due_date is None or leg.status != lc.NEEDS_SUPPLEMENT:
            continue
        if req.due_date >= today and calendar.workdays_between(today, req.due_date) <= remind_before:
            _c = translator(d.lang)
            text = _c(N_("⏰ Nhắc bạn: hồ sơ {code} ({title}) đang chờ bạn bổ sung, hạn đến hết ngày {due}. Gõ “bổ "
                         "sung” để gửi ngay trong cuộc trò chuyện này."), code=d.code, title=proc_title(d, _c, catalog),
                      due=_c.date(req.due_date))
            for chat in await citizen_chats(db, d):
                n += await enqueue(db, chat, "citizen_supplement_reminder", f"sup-remind:{req.id}:{chat}", text, now,
                                   dossier_id=d.id)
        elif req.due_date < today:
            _ = translator("vi")
            text = _("⌛ Hồ sơ {code} ({title}) đã quá hạn bổ sung (hạn {due}) mà người dân chưa bổ sung. Có thể "
                     "“Từ chối” với lý do “Trả lại hồ sơ do không bổ sung trong hạn”.", code=d.code,
                     title=proc_title(d, _, catalog), due=_.date(req.due_date))
            leaders = [o for o in await OfficerRepo(db).in_scope(leg.agency, leg.commune_code) if o.role == lc.LEADER]
            targets = await leg_officers(db, leg)
            n += await push_officers(db, targets + [o for o in leaders if o not in targets], "officer_supplement_late",
                                     f"sup-late:{req.id}", text, now, dossier_id=d.id,
                                     choices=[(f"open:{d.code}", _("Xem hồ sơ"))])
    return n
