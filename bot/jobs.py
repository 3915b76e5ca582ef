"""The scheduled jobs every long-running notifier runs before each delivery round (``Notifier.run(tick=…)``):
the daily jobs (``reports.DailyJobs``: focal points' reports, deadline pushes) and the draft reminders
(``reminders.DraftReminders``) and the retention purge (``retention.Retention``). Each job decides for itself whether it is due; a failing one is logged and
does not stop the others or the deliveries."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from dialogs.catalog import Catalog
from dialogs.workdays import WorkCalendar
from storage.attachments import AttachmentStore

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
        ("reminders", DraftReminders(sm, calendar=calendar, catalog=catalog, now=now, store=attachments)),
        ("retention", Retention(sm, store=attachments, now=now)),
    ]

    async def tick() -> None:
        for name, job in jobs:
            try:
                done = await job()
            except Exception:  # noqa: BLE001 - one failing job must not stop the others
                log.exception("scheduled job %s failed", name)
                continue
            if done and any(done.values()) and on_done is not None:
                on_done(name, done)

    return tick
