"""The scheduled jobs every long-running notifier runs before each delivery round (``Notifier.run(tick=…)``):
the daily jobs (``reports.DailyJobs``: focal points' reports, deadline pushes) and the draft reminders
(``reminders.DraftReminders``) and the retention purge (``retention.Retention``). Each job decides for itself
whether it is due; a failing one is logged and does not stop the others or the deliveries.

On PostgreSQL several such processes share one database (webhook processes per channel, ``dvcbot notify run``),
and only one of them runs the jobs: the holder of a session advisory lock (:class:`JobLeader`), taken on a
connection of its own and held while the process lives. PostgreSQL releases it when that connection ends (the
process died, the network or the server dropped it); the others try to take it at every tick (at most once
a second) and the first to succeed runs the jobs from then on. Deliveries are not concerned: every process
delivers the outbox, rows are claimed with leases (bot/notifier.py). The jobs stay safe to run twice (their
notifications have dedupe keys), which covers the second or so before a leader notices it lost its connection.
On SQLite (one machine) every notifier runs them, as before."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time as _time
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


#: the advisory lock of the scheduled jobs ("dvcbotJo"); advisory locks are per database
JOBS_LOCK = 0x6476_6362_6F74_4A6F
#: A leader cut off by the network keeps its lock on the server until the server sees the connection is gone: TCP
#: keepalives on it make that about a minute, not the system's default two hours. The name shows in pg_stat_activity.
KEEPALIVE = ("SET application_name = 'dvcbot scheduled jobs'; SET tcp_keepalives_idle = 30; "
             "SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3")


class JobLeader:
    """Whether this process is the one that runs the scheduled jobs, on PostgreSQL: ``pg_try_advisory_lock`` on
    a connection of its own (not the pool's), kept open while the process lives. :meth:`held` is asked at every
    tick; it talks to the server at most once per ``every`` seconds: the leader checks that its connection is
    still alive (the lock lives exactly as long as it), the others try to take the lock."""

    def __init__(self, url: str, *, key: int = JOBS_LOCK, every: float = 1.0, timeout: float = 5.0,
                 clock: Callable[[], float] = _time.monotonic):
        self.dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.key, self.every, self.timeout, self.clock = key, every, timeout, clock
        self.conn: Any = None
        self.leader = False
        self._asked = float("-inf")

    @classmethod
    def for_sessionmaker(cls, sm: async_sessionmaker, **kw: Any) -> JobLeader | None:
        """A leader election for ``sm``'s database when it is PostgreSQL; None on SQLite (nothing to elect)."""
        engine = sm.kw.get("bind")
        if engine is None or engine.dialect.name != "postgresql":
            return None
        return cls(engine.url.render_as_string(hide_password=False), **kw)

    async def held(self) -> bool:
        now = self.clock()
        if now - self._asked < self.every:
            return self.leader
        self._asked = now
        was = self.leader
        try:
            if self.conn is None or self.conn.is_closed():
                await self._drop()
                import asyncpg  # type: ignore[import-untyped]
                self.conn = await asyncpg.connect(self.dsn, timeout=self.timeout)
                with contextlib.suppress(Exception):  # a pooler may refuse these; the lock works without them
                    await self.conn.execute(KEEPALIVE, timeout=self.timeout)
            if self.leader:
                await self.conn.fetchval("SELECT 1", timeout=self.timeout)
            else:
                self.leader = bool(await self.conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key,
                                                            timeout=self.timeout))
        except Exception as exc:  # whatever failed, this connection's lock is gone with it
            log.warning("scheduled jobs: the leader's connection failed (%s)", type(exc).__name__)
            await self._drop()
        if self.leader != was:
            log.info("scheduled jobs: %s", "this process runs them" if self.leader else "another process runs them")
        return self.leader

    async def _drop(self) -> None:
        conn, self.conn, self.leader = self.conn, None, False
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), self.timeout)
            except Exception:
                conn.terminate()

    async def close(self) -> None:
        """Let go of the lock (the connection ends with it); another process takes over at its next tick."""
        await self._drop()


class ScheduledJobs:
    """One tick (``await jobs()``) runs every job in turn, if this process leads (always without a
    :class:`JobLeader`). ``on_done(name, result)`` hears each job that did work. :meth:`aclose` releases the
    leadership."""

    def __init__(self, jobs: list[tuple[str, Job]], *, leader: JobLeader | None = None,
                 on_done: Callable[[str, Any], None] | None = None):
        self.jobs, self.leader, self.on_done = jobs, leader, on_done

    async def __call__(self) -> None:
        if self.leader is not None and not await self.leader.held():
            return
        for name, job in self.jobs:
            try:
                done = await job()
            except Exception:
                log.exception("scheduled job %s failed", name)
                continue
            if done and any(done.values()) and self.on_done is not None:
                self.on_done(name, done)

    async def aclose(self) -> None:
        if self.leader is not None:
            await self.leader.close()


def standard_jobs(sm: async_sessionmaker, *, calendar: WorkCalendar | None = None, catalog: Catalog | None = None,
                  now: Callable[[], datetime] | None = None, attachments: AttachmentStore | None = None,
                  on_done: Callable[[str, Any], None] | None = None,
                  leader: JobLeader | bool | None = True) -> ScheduledJobs:
    """The standard jobs as one tick. ``leader``: True elects one process per PostgreSQL database
    (:class:`JobLeader`; nothing on SQLite), False runs them here regardless, or a given :class:`JobLeader`."""
    jobs: list[tuple[str, Job]] = [
        ("daily", DailyJobs(sm, calendar=calendar, catalog=catalog, now=now)),
        ("afternoon", AfternoonDeadlines(sm, calendar=calendar, catalog=catalog, now=now)),
        ("reminders", DraftReminders(sm, calendar=calendar, catalog=catalog, now=now, store=attachments)),
        ("retention", Retention(sm, store=attachments, now=now)),
    ]
    elected = JobLeader.for_sessionmaker(sm) if leader is True else (leader or None)
    return ScheduledJobs(jobs, leader=elected, on_done=on_done)


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
