"""The scheduled jobs every long-running notifier runs before each delivery round (``Notifier.run(tick=…)``):
the daily jobs (``reports.DailyJobs``: focal points' reports, deadline pushes) and the draft reminders
(``reminders.DraftReminders``) and the retention purge (``retention.Retention``). Each job decides for itself
whether it is due; a failing one is logged and does not stop the others or the deliveries."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from dialogs.catalog import Catalog
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.attachments import AttachmentStore

from . import cases
from .reminders import DraftReminders
from .reports import DailyJobs
from .retention import Retention

log = logging.getLogger("dvcbot.jobs")

Job = Callable[[], Awaitable[Any]]


def standard_jobs(sm: async_sessionmaker, *, calendar: WorkCalendar | None = None, catalog: Catalog | None = None,
                  now: Callable[[], datetime] | None = None, attachments: AttachmentStore | None = None,
                  on_done: Callable[[str, Any], None] | None = None) -> Job:
    """One tick running every standard job in turn. ``on_done(name, result)`` hears each job that did work."""
    jobs: list[tuple[str, Job]] = [
        ("daily", DailyJobs(sm, calendar=calendar, catalog=catalog, now=now)),
        ("afternoon", AfternoonDeadlines(sm, calendar=calendar, catalog=catalog, now=now)),
        ("reminders", DraftReminders(sm, calendar=calendar, catalog=catalog, now=now, store=attachments)),
        ("retention", Retention(sm, store=attachments, now=now)),
    ]

    async def tick() -> None:
        for name, job in jobs:
            try:
                done = await job()
            except Exception:
                log.exception("scheduled job %s failed", name)
                continue
            if done and any(done.values()) and on_done is not None:
                on_done(name, done)

    return tick


class AfternoonDeadlines:
    """Once per working day from ``AT`` (14:00 local, before the 15:00 cut-off): legs due today and still open
    are pushed again (``cases.scan_deadlines(afternoon=True)``)."""

    AT = time(14, 0)

    def __init__(self, sm: async_sessionmaker, *, calendar: WorkCalendar | None = None,
                 catalog: Catalog | None = None, now: Callable[[], datetime] | None = None):
        self.sm, self.catalog = sm, catalog
        self.calendar = calendar or DEFAULT_CALENDAR
        self.now = now or (lambda: datetime.now(UTC))
        self.done_day: date | None = None

    async def __call__(self) -> dict[str, int] | None:
        now = self.now()
        local = self.calendar.to_local(now)
        if local.date() == self.done_day or not self.calendar.is_workday(local.date()) or local.time() < self.AT:
            return None
        async with self.sm() as db, db.begin():
            n = await cases.scan_deadlines(db, self.calendar, now, catalog=self.catalog, afternoon=True)
        self.done_day = local.date()
        return {"due_today_pushes": n}
