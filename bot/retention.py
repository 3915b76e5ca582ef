"""Retention: personal data kept no longer than needed (Law 91/2025), on a schedule, with the periods in config.

* notifications already delivered (or given up) keep their metadata but lose their text after
  ``DVCBOT_RETENTION_OUTBOX_DAYS`` (30);
* attachment files that no draft and no dossier references are deleted once older than
  ``DVCBOT_RETENTION_ORPHAN_DAYS`` (2) — a file is stored a moment before the turn that references it commits;
* drafts expire in ``bot/reminders.py``; the channels' inboxes purge their processed updates themselves.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.attachments import AttachmentStore
from storage.db import rowcount
from storage.models import Attachment, DraftRow, OutboxMessage

from .reminders import attachment_digests

log = logging.getLogger("dvcbot.retention")


def _days(name: str, default: int) -> timedelta:
    raw = os.environ.get(name, "").strip()
    return timedelta(days=int(raw)) if raw.isdigit() and int(raw) > 0 else timedelta(days=default)


@dataclass(frozen=True)
class RetentionPolicy:
    outbox_text: timedelta = timedelta(days=30)
    orphan_files: timedelta = timedelta(days=2)

    @classmethod
    def from_env(cls) -> RetentionPolicy:
        return cls(outbox_text=_days("DVCBOT_RETENTION_OUTBOX_DAYS", 30),
                   orphan_files=_days("DVCBOT_RETENTION_ORPHAN_DAYS", 2))


async def purge(db: AsyncSession, now: datetime, *, store: AttachmentStore | None,
                policy: RetentionPolicy | None = None) -> dict[str, int]:
    policy = policy or RetentionPolicy()
    done = {"outbox_blanked": 0, "files_deleted": 0}
    # the store's old files, listed before the first statement (a bucket's listing is no wait inside a write);
    # a file stored later is newer than the cut-off anyway
    cutoff = (now - policy.orphan_files).timestamp()
    old = await asyncio.to_thread(lambda: set(store.digests(cutoff))) if store is not None else set()
    res = await db.execute(update(OutboxMessage).where(
        OutboxMessage.status.in_(("delivered", "failed")), OutboxMessage.created_at < now - policy.outbox_text,
        OutboxMessage.kind != "blanked").values(payload={}, kind="blanked"))
    done["outbox_blanked"] = rowcount(res)
    if store is not None and old:
        used = set((await db.execute(select(Attachment.sha256))).scalars())
        for (answers,) in (await db.execute(select(DraftRow.answers))).all():
            used |= attachment_digests(answers)
        done["files_deleted"] = await asyncio.to_thread(store.delete_many, old - used)
    return done


class Retention:
    """The notifier's job: at most every ``every`` seconds (default 6 hours)."""

    def __init__(self, sm: async_sessionmaker, *, store: AttachmentStore | None = None,
                 policy: RetentionPolicy | None = None, now: Callable[[], datetime] | None = None,
                 clock: Callable[[], float] = _time.monotonic, every: float = 6 * 3600.0):
        self.sm, self.store = sm, store
        self.policy = policy or RetentionPolicy.from_env()
        self.now = now or (lambda: datetime.now(UTC))
        self.clock, self.every = clock, every
        self._next = float("-inf")

    async def __call__(self) -> dict[str, int] | None:
        if self.clock() < self._next:
            return None
        self._next = self.clock() + self.every
        async with self.sm() as db, db.begin():
            return await purge(db, self.now(), store=self.store, policy=self.policy)
