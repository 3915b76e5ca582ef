"""The durable inbox of Zalo updates (``zalo_updates``) and how an update is read.

Zalo updates have no ``update_id``: they are deduplicated on ``(bot_id, event_name:message_id)``. An update
is inserted before the webhook answers 200 (or before the next long poll), processed from the row, and the row
is marked ``done`` in the conversation step's own transaction (the runtime's ``tx_hook``). Rows still
``pending`` at start-up are processed again, in order. The event body is parsed defensively: the image field
is not stable across API versions (``photo_url``, ``url``, ``photo`` as a string, list or object, ``attachments[]``).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.account_models import ZaloUpdate
from storage.channel_models import TelegramButton
from storage.db import insert_or_nothing, rowcount

CHANNEL = "zalo"
TEXT_EVENT = "message.text.received"
IMAGE_EVENT = "message.image.received"


def unwrap(raw: Any) -> dict[str, Any] | None:
    """The update itself: the webhook body is ``{event_name, message}``, sometimes wrapped in ``{ok, result}``."""
    if not isinstance(raw, dict):
        return None
    if "event_name" not in raw and isinstance(raw.get("result"), dict):
        raw = raw["result"]
    return raw if isinstance(raw.get("event_name"), str) else None


@dataclass
class Event:
    name: str
    key: str                  # "<event_name>:<message_id>" (dedupe key)
    chat_id: str | None
    text: str | None
    image_url: str | None
    message_id: str

    @property
    def chat_key(self) -> str | None:
        return f"{CHANNEL}:{self.chat_id}" if self.chat_id else None


def _image_url(m: dict[str, Any]) -> str | None:
    for k in ("photo_url", "url", "image_url"):
        if isinstance(m.get(k), str) and m[k]:
            return m[k]
    ph = m.get("photo")
    if isinstance(ph, list) and ph:
        ph = ph[-1]
    if isinstance(ph, str) and ph:
        return ph
    if isinstance(ph, dict):
        for k in ("url", "photo_url", "file_url"):
            if isinstance(ph.get(k), str):
                return ph[k]
    for a in m.get("attachments") or []:
        if isinstance(a, dict):
            payload = a.get("payload")
            p = payload if isinstance(payload, dict) else a
            if isinstance(p.get("url"), str):
                return p["url"]
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse(raw: dict[str, Any]) -> Event:
    name = str(raw.get("event_name"))
    m = _dict(raw.get("message"))
    mid = m.get("message_id")
    if mid is None:  # no id: the content identifies it (a replay of the same body is still a duplicate)
        mid = "h" + hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
    chat = _dict(m.get("chat"))
    sender = _dict(m.get("from"))
    chat_id = chat.get("id") or sender.get("id")
    text = m.get("text") if isinstance(m.get("text"), str) else None
    key = f"{name}:{mid}"
    if len(key) > 200:  # never truncated: two long ids sharing their first 200 characters are two events
        key = f"{name[:60]}:h" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return Event(name=name, key=key, chat_id=str(chat_id) if chat_id else None, text=text,
                 image_url=_image_url(m), message_id=str(mid))


class InboxRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def accept(self, bot_id: str, event_key: str, raw: dict[str, Any], chat_key: str | None,
                     now: datetime) -> int | None:
        """Store an update; its row id, or None if it was already received."""
        stmt = insert_or_nothing(ZaloUpdate, self.db.get_bind().dialect.name, ("bot_id", "event_key"), ZaloUpdate.id)
        return (await self.db.execute(stmt, dict(
            bot_id=bot_id, event_key=event_key, chat_key=chat_key, payload=raw, status="pending", attempts=0,
            received_at=now))).scalar_one_or_none()

    async def older_pending(self, bot_id: str, chat_key: str, row_id: int) -> list[tuple[int, dict[str, Any]]]:
        """The chat's pending events stored before row ``row_id`` (Zalo events carry no sequence number:
        the order they were stored in is the order they are applied in), oldest first."""
        rows = await self.db.execute(select(ZaloUpdate.id, ZaloUpdate.payload).where(
            ZaloUpdate.bot_id == bot_id, ZaloUpdate.chat_key == chat_key, ZaloUpdate.status == "pending",
            ZaloUpdate.id < row_id).order_by(ZaloUpdate.id))
        return [(i, p) for i, p in rows.all()]

    async def older_replying(self, bot_id: str, chat_key: str, row_id: int) -> bool:
        """Whether an event of the chat stored before row ``row_id`` was applied but its replies are still being
        sent (by another process): this one's replies must not overtake them."""
        return (await self.db.execute(select(ZaloUpdate.id).where(
            ZaloUpdate.bot_id == bot_id, ZaloUpdate.chat_key == chat_key, ZaloUpdate.status == "replying",
            ZaloUpdate.id < row_id).limit(1))).first() is not None

    async def pending(self, bot_id: str) -> list[tuple[int, str | None, dict[str, Any]]]:
        rows = await self.db.execute(select(ZaloUpdate.id, ZaloUpdate.chat_key, ZaloUpdate.payload)
                                     .where(ZaloUpdate.bot_id == bot_id, ZaloUpdate.status == "pending")
                                     .order_by(ZaloUpdate.id))
        return [(i, k, p) for i, k, p in rows.all()]

    async def mark_done(self, ids: Iterable[int], now: datetime, *, hold: dict[str, Any] | None = None) -> int:
        """pending → done (the payload blanked). With ``hold`` (in the step's transaction), the last row keeps the
        turn's replies instead, in status ``replying``, until :meth:`replies_sent`: a process killed before sending
        them sends them at its next start. Returns how many rows were still pending."""
        ids = list(ids)
        if not ids:
            return 0
        done = ids[:-1] if hold is not None else ids
        n = 0
        if done:
            n += rowcount(await self.db.execute(update(ZaloUpdate).where(
                ZaloUpdate.id.in_(done), ZaloUpdate.status == "pending").values(
                status="done", payload={}, processed_at=now))) or 0
        if hold is not None:
            n += rowcount(await self.db.execute(update(ZaloUpdate).where(
                ZaloUpdate.id == ids[-1], ZaloUpdate.status == "pending").values(
                status="replying", payload={"replies": hold}, processed_at=now))) or 0
        return n

    async def replies_sent(self, row_id: int) -> None:
        await self.db.execute(update(ZaloUpdate).where(ZaloUpdate.id == row_id, ZaloUpdate.status == "replying")
                              .values(status="done", payload={}))

    async def unsent(self, bot_id: str) -> list[tuple[int, str | None, dict[str, Any]]]:
        """Rows whose turn committed but whose replies were not (all) sent, oldest first."""
        rows = await self.db.execute(select(ZaloUpdate.id, ZaloUpdate.chat_key, ZaloUpdate.payload)
                                     .where(ZaloUpdate.bot_id == bot_id, ZaloUpdate.status == "replying")
                                     .order_by(ZaloUpdate.id))
        return [(i, k, (p or {}).get("replies") or {}) for i, k, p in rows.all()]

    async def failed_attempt(self, row_id: int, error: str, now: datetime, *, final: bool) -> None:
        values: dict[str, Any] = {"attempts": ZaloUpdate.attempts + 1, "error": error[:300]}
        if final:
            values.update(status="failed", payload={}, processed_at=now)
        await self.db.execute(update(ZaloUpdate).where(ZaloUpdate.id == row_id, ZaloUpdate.status == "pending")
                              .values(**values))

    async def purge(self, now: datetime, keep: timedelta = timedelta(days=2),
                    keep_choices: timedelta = timedelta(days=60)) -> int:
        """Forget processed updates after ``keep``, and pushed choices (bot/zalo/sending.py) after
        ``keep_choices``."""
        r = await self.db.execute(delete(ZaloUpdate).where(ZaloUpdate.status != "pending",
                                                           ZaloUpdate.received_at < now - keep))
        await self.db.execute(delete(TelegramButton).where(TelegramButton.chat_key.like(f"{CHANNEL}:%"),
                                                           TelegramButton.created_at < now - keep_choices))
        return rowcount(r) or 0


class LeanZaloInbox:
    """The step's statements of :class:`InboxRepo` on the runtime's driver-level store (storage/chatstore/):
    whether an older event of the chat is still pending, and marking the event done holding the turn's replies."""

    def __init__(self, tx: Any):  # a storage.chatstore.ChatTx
        self.tx = tx

    async def older(self, bot_id: str, chat_key: str, row_id: int) -> tuple[bool, bool]:
        """(an older event of the chat is still pending, one is being replied to), in one statement."""
        rows = await self.tx.fetch(
            "SELECT EXISTS(SELECT 1 FROM zalo_updates WHERE bot_id = ? AND chat_key = ? AND status = 'pending' "
            "AND id < ?), EXISTS(SELECT 1 FROM zalo_updates WHERE bot_id = ? AND chat_key = ? "
            "AND status = 'replying' AND id < ?)", bot_id, chat_key, row_id, bot_id, chat_key, row_id)
        return bool(rows[0][0]), bool(rows[0][1])

    async def mark_done(self, row_id: int, now: datetime, *, hold: dict[str, Any]) -> int:
        return await self.tx.execute(
            "UPDATE zalo_updates SET status = 'replying', payload = ?, processed_at = ? "
            "WHERE id = ? AND status = 'pending'", self.tx.json({"replies": hold}), self.tx.time(now), row_id)

    async def accept(self, bot_id: str, event_key: str, raw: dict[str, Any], chat_key: str | None,
                     now: datetime) -> int | None:
        rows = await self.tx.fetch(
            "INSERT INTO zalo_updates (bot_id, event_key, chat_key, payload, status, attempts, received_at) "
            "VALUES (?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT (bot_id, event_key) DO NOTHING RETURNING id",
            bot_id, event_key, chat_key, self.tx.json(raw), self.tx.time(now))
        return rows[0][0] if rows else None

    REPLIES_SENT = "UPDATE zalo_updates SET status = 'done', payload = '{}' WHERE id = ? AND status = 'replying'"
    """:meth:`InboxRepo.replies_sent`, for the store's ``soon`` (written by the next transaction on SQLite)."""

    async def conversation(self, chat_key: str) -> tuple[bool, bool, str | None]:
        """(the chat has a conversation, the chat is an officer's, the conversation's language), reading a
        linked chat's account's conversation."""
        rows = await self.tx.fetch(
            "SELECT c.lang, EXISTS(SELECT 1 FROM officers WHERE user_key = ?) FROM (SELECT 1 AS one) AS x "
            "LEFT JOIN conversations c ON c.user_key = COALESCE((SELECT a.primary_key FROM account_identities i "
            "JOIN accounts a ON a.id = i.account_id WHERE i.user_key = ?), ?)", chat_key, chat_key, chat_key)
        lang, officer = rows[0]
        return lang is not None, bool(officer), lang
