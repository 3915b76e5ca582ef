"""A pretend date and time for trainers and acceptance testers: ``dvcbot --now "2027-02-03 14:50" chat``
(or ``DVCBOT_NOW``).

The clock starts at the given moment (Vietnam time unless an offset is given) and runs on from there, so the
steps of one command keep their order. Every command that works on dossiers reads it through
``Runtime.now``: the console chat, ``dvcbot officer …``, ``dvcbot dossiers`` and ``dvcbot notify`` (the
scheduled jobs and the outbox). The channels and the web desk refuse it: they talk to real people.

Only a throw-away database may run on it. The first command with a fake clock on an empty database marks
the database (an ``clock.fake`` audit entry); a database that already holds dossiers, conversations or
officers without that mark is refused, so real data never gets dates from a pretend clock. A banner on
stderr says the clock is fake every time.
"""
from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit_models import AuditEntry
from storage.models import Conversation, Dossier, Officer

if TYPE_CHECKING:
    from .service import Runtime

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MARK = "clock.fake"


class FakeClockRefused(Exception):
    """The database has real data: a pretend clock must not touch it."""


def parse_now(value: str) -> datetime:
    """``2027-02-03``, ``2027-02-03 14:50``, ``2027-02-03T14:50:00+07:00``: an aware datetime (Vietnam time if no
    offset; midnight plus 8:00 if only a date, the start of a working day)."""
    text = value.strip().replace("T", " ")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--now/DVCBOT_NOW must look like 2027-02-03 or 2027-02-03 14:50, not {value!r}") from None
    if len(text) == 10:  # a date only
        dt = dt.replace(hour=8)
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=VN_TZ)


def running_from(start: datetime, monotonic: Callable[[], float] = time.monotonic) -> Callable[[], datetime]:
    """A clock that reads ``start`` now and runs on in real time."""
    t0 = monotonic()

    def now() -> datetime:
        return start + timedelta(seconds=monotonic() - t0)

    return now


def banner(start: datetime) -> str:
    local = start.astimezone(VN_TZ)
    return (f"⚠️  Đang chạy với ngày giả {local:%d/%m/%Y %H:%M} (giờ Việt Nam), không phải ngày thật. "
            "Chỉ dùng để tập huấn và kiểm thử, trên cơ sở dữ liệu thử.")


async def check_database(db: AsyncSession, start: datetime) -> None:
    """Mark an empty database as a fake-clock one, accept one already marked, refuse one with real data."""
    marked = (await db.execute(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == MARK))).scalar_one()
    if marked:
        return
    for table in (Dossier, Conversation, Officer):
        if (await db.execute(select(func.count()).select_from(table))).scalar_one():
            raise FakeClockRefused(
                "Cơ sở dữ liệu này đã có dữ liệu thật (tạo khi chạy với ngày thật), nên không chạy với ngày giả "
                "được. Hãy dùng một cơ sở dữ liệu thử mới, ví dụ --db sqlite+aiosqlite:///var/tap-huan.db.")
    db.add(AuditEntry(at=start, actor_key="cli", action=MARK, subject=None,
                      details={"first_now": start.isoformat()}))
    await db.flush()


COMMANDS = ("chat", "dossiers", "officer", "notify")  # the commands that may run on a pretend clock


@asynccontextmanager
async def cli_runtime(args: Any) -> AsyncIterator[Runtime]:
    """The command's open Runtime: on ``args.fake_now``'s clock (database checked) if given, else the real one."""
    from .service import Runtime
    start: datetime | None = getattr(args, "fake_now", None)
    async with Runtime(args.db, var_dir=args.var, now=running_from(start) if start else None) as rt:
        if start is not None:
            async with rt.sm() as db, db.begin():
                await check_database(db, start)
        yield rt
