"""Reminders for drafts a citizen left halfway, and their expiry (RapidPro's and Glific's expiries/campaigns).

A draft untouched for a day gets one friendly reminder with a one-tap “Tiếp tục”; after a week one last
reminder; after ``expire_after`` (30 days by default, ``DVCBOT_DRAFT_EXPIRY_DAYS``) the draft expires: it is
deleted with the attachments nothing else references, and the chat is told once.

Everything goes through the outbox with a dedupe key per draft revision and stage, so several processes may
run the job at the same time and a restart in between sends nothing twice; a citizen who comes back and
leaves again (a new revision) can be reminded again. Messages are never queued for the quiet hours
(21:00–07:00 local time): a reminder due then is scheduled for 07:00. A chat that typed “tắt nhắc” has
``reminders_off`` in its conversation data and gets none of this but the expiry.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from dialogs.catalog import Catalog
from dialogs.engine.commands import RESUME_CHOICE
from dialogs.form import answered
from dialogs.i18n import translator
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.attachments import AttachmentStore
from storage.models import Attachment, Conversation, DraftRow
from storage.officers_repo import OutboxRepo

from .accounts import notify_keys

log = logging.getLogger("dvcbot.reminders")

REMINDERS_OFF = "reminders_off"  # the conversation-data flag set by “tắt nhắc” (dialogs.engine Session)


@dataclass(frozen=True)
class ReminderPolicy:
    first_after: timedelta = timedelta(days=1)
    last_after: timedelta = timedelta(days=7)
    expire_after: timedelta = timedelta(days=30)
    quiet_from: time = time(21, 0)
    quiet_until: time = time(7, 0)

    @classmethod
    def from_env(cls) -> ReminderPolicy:
        days = os.environ.get("DVCBOT_DRAFT_EXPIRY_DAYS", "").strip()
        return cls(expire_after=timedelta(days=int(days))) if days.isdigit() and int(days) > 7 else cls()


def next_allowed(now: datetime, policy: ReminderPolicy, calendar: WorkCalendar) -> datetime:
    """``now``, or the end of the quiet hours if ``now`` falls inside them (returned in UTC)."""
    local = calendar.to_local(now)
    t = local.time()
    if policy.quiet_until <= t < policy.quiet_from:
        return now
    day = local.date() + timedelta(days=1) if t >= policy.quiet_from else local.date()
    wake = datetime.combine(day, policy.quiet_until, tzinfo=local.tzinfo)
    return wake.astimezone(UTC)


def attachment_digests(value: Any) -> set[str]:
    """The attachment digests inside a draft's answers (attachment answers are lists of ``{sha256, …}``)."""
    if isinstance(value, dict):
        sha = value.get("sha256")
        found = {sha} if isinstance(sha, str) else set()
        for v in value.values():
            found |= attachment_digests(v)
        return found
    if isinstance(value, list):
        out: set[str] = set()
        for v in value:
            out |= attachment_digests(v)
        return out
    return set()


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


async def run_draft_reminders(db: AsyncSession, now: datetime, *, catalog: Catalog,
                              store: AttachmentStore | None = None, policy: ReminderPolicy | None = None,
                              calendar: WorkCalendar | None = None) -> dict[str, int]:
    """Queue the reminders that are due and expire old drafts, in the caller's transaction. Returns counts."""
    policy = policy or ReminderPolicy()
    calendar = calendar or DEFAULT_CALENDAR
    done = {"reminded": 0, "expired": 0, "files_deleted": 0}
    rows = (await db.execute(
        select(DraftRow, Conversation).outerjoin(Conversation, Conversation.user_key == DraftRow.user_key)
        .where(DraftRow.updated_at <= now - policy.first_after)
        .order_by(DraftRow.user_key, DraftRow.updated_at.desc()))).all()
    latest_seen: set[str] = set()
    when = next_allowed(now, policy, calendar)
    outbox = OutboxRepo(db)
    for draft, conv in rows:
        data = (conv.data if conv is not None else None) or {}
        age = now - _utc(draft.updated_at)
        idle = now - _utc(conv.updated_at) if conv is not None and conv.updated_at else age
        off = bool(data.get(REMINDERS_OFF))
        lang = (conv.lang if conv is not None else None) or "vi"
        if age >= policy.expire_after:
            done["files_deleted"] += await _expire(db, draft, conv, store)
            done["expired"] += 1
            if not off:
                for chat in await notify_keys(db, [draft.user_key]):
                    await outbox.enqueue(chat_key=chat, kind="draft_expired", dedupe_key=f"draft-exp:{draft.id}",
                                         payload={"text": _expired_text(catalog, draft, lang, policy)}, now=when)
            continue
        if draft.user_key in latest_seen or off or not draft.answers or idle < policy.first_after:
            latest_seen.add(draft.user_key)
            continue  # one reminder per chat: its most recent draft, and only while the chat is idle
        latest_seen.add(draft.user_key)
        stage = 2 if age >= policy.last_after else 1
        text, choices = _reminder(catalog, draft, lang, stage, policy)
        for chat in await notify_keys(db, [draft.user_key]):
            added = await outbox.enqueue(chat_key=chat, kind="draft_reminder",
                                         dedupe_key=f"draft-rem:{draft.id}:{draft.revision}:{stage}",
                                         payload={"text": text, "choices": choices}, now=when)
            done["reminded"] += int(added)
    if done["reminded"] or done["expired"]:
        log.info("draft reminders: %s", done)
    return done


def _title(catalog: Catalog, proc_id: str, lang: str) -> str:
    _ = translator(lang)
    return _(catalog.get(proc_id).title) if proc_id in catalog.procedures else _("thủ tục")


def _reminder(catalog: Catalog, draft: DraftRow, lang: str, stage: int,
              policy: ReminderPolicy) -> tuple[str, list[dict[str, str]]]:
    _ = translator(lang)
    title = _title(catalog, draft.procedure_id, lang)
    n = len(answered(draft.answers or {}))  # not the answers kept aside from branches switched off
    if stage == 1:
        text = _("Bạn đang khai dở hồ sơ “{title}” ({n} câu đã trả lời). Mọi câu trả lời vẫn được lưu. "
                 "Bấm “Tiếp tục” để khai tiếp từ chỗ đã dừng.", title=title, n=n)
    else:
        days = policy.expire_after.days
        text = _("Nhắc lần cuối: hồ sơ “{title}” vẫn đang chờ bạn khai tiếp. Nếu không khai tiếp, bản khai dở sẽ "
                 "được xóa sau {days} ngày kể từ lần khai cuối.", title=title, days=days)
    text += "\n" + _("Gõ “tắt nhắc” nếu bạn không muốn nhận nhắc nhở.")
    return text, [{"value": RESUME_CHOICE + draft.procedure_id, "label": _("Tiếp tục")}]


def _expired_text(catalog: Catalog, draft: DraftRow, lang: str, policy: ReminderPolicy) -> str:
    _ = translator(lang)
    return _("Bản khai dở hồ sơ “{title}” đã quá {days} ngày không được khai tiếp nên đã được xóa, cùng các ảnh đã "
             "gửi. Khi cần, bạn có thể bắt đầu lại bất cứ lúc nào.",
             title=_title(catalog, draft.procedure_id, lang), days=policy.expire_after.days)


async def _expire(db: AsyncSession, draft: DraftRow, conv: Conversation | None,
                  store: AttachmentStore | None) -> int:
    """Delete ``draft``; put its chat back at the menu if it was filling it in; delete its files that no dossier
    and no other draft references. Returns the number of files deleted."""
    shas = attachment_digests(draft.answers)
    await db.execute(delete(DraftRow).where(DraftRow.id == draft.id))
    if conv is not None and (conv.data or {}).get("procedure") == draft.procedure_id \
            and not (conv.data or {}).get("supplement"):
        shas |= attachment_digests((conv.data or {}).get("pending"))  # files for a question not answered yet
        conv.data = dict(conv.data, state="menu", procedure=None, pending=None)
        flag_modified(conv, "data")
    if not shas or store is None:
        return 0
    kept = set((await db.execute(select(Attachment.sha256).where(Attachment.sha256.in_(shas)))).scalars())
    for (answers,) in (await db.execute(select(DraftRow.answers).where(DraftRow.user_key == draft.user_key))).all():
        kept |= attachment_digests(answers) & shas
    return await asyncio.to_thread(store.delete_many, shas - kept)


class DraftReminders:
    """The notifier's periodic job (called before every delivery round; runs at most every ``every`` seconds)."""

    def __init__(self, sm: async_sessionmaker, *, catalog: Catalog | None = None,
                 store: AttachmentStore | None = None, policy: ReminderPolicy | None = None,
                 calendar: WorkCalendar | None = None, now: Callable[[], datetime] | None = None,
                 clock: Callable[[], float] = _time.monotonic, every: float = 600.0):
        self.sm = sm
        self.catalog = catalog or Catalog.default()
        self.store = store
        self.policy = policy or ReminderPolicy.from_env()
        self.calendar = calendar or DEFAULT_CALENDAR
        self.now = now or (lambda: datetime.now(UTC))
        self.clock = clock
        self.every = every
        self._next = float("-inf")

    async def __call__(self) -> dict[str, int] | None:
        if self.clock() < self._next:
            return None
        self._next = self.clock() + self.every
        async with self.sm() as db, db.begin():
            return await run_draft_reminders(db, self.now(), catalog=self.catalog, store=self.store,
                                             policy=self.policy, calendar=self.calendar)
