"""The durable inbox of Telegram updates, the per-chat state the channel keeps, and per-chat work queues.

An update is inserted into ``telegram_updates`` before Telegram is told it was
received (the webhook's 200, or polling's next offset). The unique key
``(bot_id, update_id)`` makes a redelivered update a no-op. Processing then
runs from the row; the row is marked ``done`` in the same transaction as the
conversation step when the runtime offers a transaction hook (see
docs/telegram.md), otherwise right after it. Rows still ``pending`` when the
process starts are processed again, in order.
"""
from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.channel_models import TelegramButton, TelegramChat, TelegramUpdate
from storage.db import insert_or_nothing, rowcount
from storage.models import Conversation

from ..pipeline import NeedsDatabase

log = logging.getLogger("dvcbot.telegram.inbox")


def _now() -> datetime:
    return datetime.now(UTC)


def safe_traceback(exc: BaseException) -> str:
    """A traceback for the log *without exception messages*: those can carry personal data (a database error
    prints its SQL parameters — answers, ID numbers — and a parse error the text it could not read). Frames and
    exception types only, with the chain of causes."""
    parts: list[str] = []
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        frames = "".join(traceback.format_list(traceback.extract_tb(e.__traceback__)))
        parts.append(f"{type(e).__module__}.{type(e).__qualname__} (message withheld)\n{frames}")
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)
    return "Traceback, most recent exception first:\n" + "\n".join(parts)


def chat_of(raw: dict[str, Any]) -> int | None:
    """The chat an update belongs to (None for updates without one)."""
    for key in ("message", "edited_message", "business_message"):
        m = raw.get(key)
        if isinstance(m, dict) and isinstance(m.get("chat"), dict):
            return m["chat"].get("id")
    cq = raw.get("callback_query")
    if isinstance(cq, dict):
        m = cq.get("message")
        if isinstance(m, dict) and isinstance(m.get("chat"), dict):
            return m["chat"].get("id")
        if isinstance(cq.get("from"), dict):
            return cq["from"].get("id")
    for key in ("my_chat_member", "chat_member", "chat_join_request"):
        m = raw.get(key)
        if isinstance(m, dict) and isinstance(m.get("chat"), dict):
            return m["chat"].get("id")
    return None


def without_echo(raw: dict[str, Any]) -> dict[str, Any]:
    """The update without the pressed message's inline keyboard, which Telegram sends back with every press and
    no handler reads: an aiogram model for each of its buttons (a list of 90 communes made a press cost 0.75 ms
    to read instead of 0.1 ms), and kilobytes in the inbox row. The rest is the update as it came."""
    cq = raw.get("callback_query")
    if not isinstance(cq, dict):
        return raw
    m = cq.get("message")
    if not isinstance(m, dict) or "reply_markup" not in m:
        return raw
    return {**raw, "callback_query": {**cq, "message": {k: v for k, v in m.items() if k != "reply_markup"}}}


def media_group_of(raw: dict[str, Any]) -> str | None:
    """The album a message belongs to (a video in an album of photos belongs to it too: it is explained
    without cutting the album in two)."""
    m = raw.get("message")
    if isinstance(m, dict) and m.get("media_group_id"):
        return str(m["media_group_id"])
    return None


class InboxRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def accept(self, bot_id: int, raw: dict[str, Any], chat_key: str | None, now: datetime) -> int | None:
        """Store an update; its row id, or None if this update was already received."""
        stmt = insert_or_nothing(TelegramUpdate, self.db.get_bind().dialect.name, ("bot_id", "update_id"),
                                 TelegramUpdate.id)
        return (await self.db.execute(stmt, dict(
            bot_id=bot_id, update_id=int(raw["update_id"]), chat_key=chat_key, payload=raw, status="pending",
            attempts=0, received_at=now))).scalar_one_or_none()

    async def mark_done(self, ids: Iterable[int], now: datetime, *, hold: dict[str, Any] | None = None) -> int:
        """pending → done (the raw update is blanked). With ``hold`` (in the step's transaction), the last row
        keeps the turn's replies instead, in status ``replying``, until :meth:`replies_sent`: a process killed
        before sending them sends them at its next start (:meth:`unsent`). Returns how many rows were still
        pending."""
        ids = list(ids)
        if not ids:
            return 0
        done = ids[:-1] if hold is not None else ids
        n = 0
        if done:
            n += rowcount(await self.db.execute(update(TelegramUpdate).where(
                TelegramUpdate.id.in_(done), TelegramUpdate.status == "pending").values(
                status="done", payload={}, processed_at=now))) or 0
        if hold is not None:
            n += rowcount(await self.db.execute(update(TelegramUpdate).where(
                TelegramUpdate.id == ids[-1], TelegramUpdate.status == "pending").values(
                status="replying", payload={"replies": hold}, processed_at=now))) or 0
        return n

    async def replies_sent(self, row_id: int) -> None:
        await self.db.execute(update(TelegramUpdate).where(
            TelegramUpdate.id == row_id, TelegramUpdate.status == "replying").values(status="done", payload={}))

    async def unsent(self, bot_id: int) -> list[tuple[int, str | None, dict[str, Any]]]:
        """Rows whose turn committed but whose replies were not (all) sent, oldest first."""
        rows = await self.db.execute(select(TelegramUpdate.id, TelegramUpdate.chat_key, TelegramUpdate.payload)
                                     .where(TelegramUpdate.bot_id == bot_id, TelegramUpdate.status == "replying")
                                     .order_by(TelegramUpdate.update_id))
        return [(i, k, (p or {}).get("replies") or {}) for i, k, p in rows.all()]

    async def failed_attempt(self, row_id: int, error: str, now: datetime, *, final: bool) -> None:
        values: dict[str, Any] = {"attempts": TelegramUpdate.attempts + 1, "error": error[:300]}
        if final:
            values.update(status="failed", payload={}, processed_at=now)
        await self.db.execute(update(TelegramUpdate).where(TelegramUpdate.id == row_id,
                                                           TelegramUpdate.status == "pending").values(**values))

    async def order(self, bot_id: int, chat_key: str, rows: Iterable[int], *,
                    wait_sending: bool = True) -> str | None:
        """Where ``rows`` (one update, or the parts of an album) stand among the chat's updates: ``"processed"``
        when one of them is no longer pending, ``"older"``
        when an older update of the chat is still pending (it must be applied first), ``"sending"`` when an
        older one was applied but its replies are still being sent (by another process: this turn's replies
        must not overtake them; unless ``wait_sending`` is False), ``"late"`` when a newer
        one was applied already, else None. Called inside the step's transaction, after the conversation is
        locked, so two processes cannot both pass."""
        rows = list(rows)
        found = (await self.db.execute(select(TelegramUpdate.update_id, TelegramUpdate.status).where(
            TelegramUpdate.id.in_(rows)))).all()
        if any(st != "pending" for _uid, st in found):
            return "processed"  # applied (or refused) by another worker meanwhile
        ids = [uid for uid, _st in found]
        if not ids:
            return None
        lo, hi = min(ids), max(ids)
        mine = and_(TelegramUpdate.bot_id == bot_id, TelegramUpdate.chat_key == chat_key,
                    TelegramUpdate.id.not_in(rows))
        older, sending, newer = (await self.db.execute(select(  # one round trip for the three questions
            exists().where(mine, TelegramUpdate.status == "pending", TelegramUpdate.update_id < lo),
            exists().where(mine, TelegramUpdate.status == "replying", TelegramUpdate.update_id < lo),
            exists().where(mine, TelegramUpdate.status.in_(("done", "replying")), TelegramUpdate.update_id > hi),
        ))).one()
        if older:
            return "older"
        if wait_sending and sending:
            return "sending"
        return "late" if newer else None

    async def pending_before(self, bot_id: int, chat_key: str, row_id: int) -> list[tuple[int, dict[str, Any]]]:
        """The chat's pending updates older than row ``row_id``'s, oldest first."""
        uid = select(TelegramUpdate.update_id).where(TelegramUpdate.id == row_id).scalar_subquery()
        rows = await self.db.execute(select(TelegramUpdate.id, TelegramUpdate.payload).where(
            TelegramUpdate.bot_id == bot_id, TelegramUpdate.chat_key == chat_key,
            TelegramUpdate.status == "pending", TelegramUpdate.update_id < uid).order_by(TelegramUpdate.update_id))
        return [(i, p) for i, p in rows.all()]

    async def pending(self, bot_id: int) -> list[tuple[int, str | None, dict[str, Any]]]:
        rows = await self.db.execute(select(TelegramUpdate.id, TelegramUpdate.chat_key, TelegramUpdate.payload)
                                     .where(TelegramUpdate.bot_id == bot_id, TelegramUpdate.status == "pending")
                                     .order_by(TelegramUpdate.update_id))
        return [(i, k, p) for i, k, p in rows.all()]

    async def status(self, bot_id: int, update_id: int) -> str | None:
        return (await self.db.execute(select(TelegramUpdate.status).where(
            TelegramUpdate.bot_id == bot_id, TelegramUpdate.update_id == update_id))).scalar_one_or_none()

    async def purge(self, now: datetime, keep: timedelta = timedelta(days=2),
                    keep_buttons: timedelta = timedelta(days=60)) -> int:
        """Forget processed updates after ``keep`` (Telegram redelivers for at most 24 h; after a quiet week
        update ids may restart at random, so old ids must not linger) and pushed buttons after
        ``keep_buttons``."""
        r = await self.db.execute(delete(TelegramUpdate).where(TelegramUpdate.status != "pending",
                                                               TelegramUpdate.received_at < now - keep))
        await self.db.execute(delete(TelegramButton).where(TelegramButton.created_at < now - keep_buttons))
        return rowcount(r) or 0


class ChatRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def get(self, chat_key: str, *, lock: bool = False) -> TelegramChat | None:
        stmt = select(TelegramChat).where(TelegramChat.chat_key == chat_key)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def put(self, chat_key: str, row: TelegramChat | None, **values: Any) -> TelegramChat:
        if row is None:
            row = TelegramChat(chat_key=chat_key, lang="vi", ask_choices=[], ask_nav=[], selection=[],
                               reply_keyboard=False, updated_at=_now())
            self.db.add(row)
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_at = _now()
        await self.db.flush()
        return row

    async def button(self, token: str, chat_key: str) -> TelegramButton | None:
        return (await self.db.execute(select(TelegramButton).where(
            TelegramButton.token == token, TelegramButton.chat_key == chat_key))).scalar_one_or_none()


# ---------------------------------------------------------------------------------------------
@dataclass
class UpdateJob:
    row_id: int | None  # None: not stored yet; its step stores it (see TelegramChannel.accept), its own
    raw: dict[str, Any]  # transaction if it is not a step; ``stored`` then says whether it was new
    overtake: bool = False  # waited long enough for an older update's replies: apply it anyway
    stored: asyncio.Future[bool] | None = None


@dataclass
class FlushJob:
    """Deliver the album ``group`` (its collection window has passed)."""

    group: str
    seq: int


@dataclass
class FeedCtx:
    """Passed to the dispatcher with every update we process (``dvcbot_feed``)."""

    rows: list[int]
    done: bool = False       # a conversation step consumed the rows (they are marked)
    deferred: bool = False   # the update waits in an album buffer; its row stays pending
    out_of_order: bool = False  # an older update of the chat is pending: the step was rolled back
    late: bool = False       # a newer update of the chat was applied already: the step was rolled back
    overtake: bool = False   # apply it even if an older update's replies are still being sent (waited long enough)
    extra: dict[str, Any] = field(default_factory=dict)
    slot: asyncio.Future | None = None  # the webhook's response waiting for the turn's last reply (typed messages)
    fresh: dict[str, Any] | None = None  # an update not stored yet: the step's own transaction stores it
    stored: asyncio.Future[bool] | None = None  # the webhook's response waiting for ``fresh`` to be stored


class ChatQueues:
    """One FIFO per chat, drained by one task at a time: a chat's updates are handled in order, one after
    another, while different chats run concurrently."""

    def __init__(self, process: Callable[[str, Any], Awaitable[None]]):
        self.process = process
        self.queues: dict[str, deque] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.idle = asyncio.Event()
        self.idle.set()

    def put(self, key: str, job: Any) -> None:
        self.queues.setdefault(key, deque()).append(job)
        if key not in self.tasks:
            self.idle.clear()
            self.tasks[key] = asyncio.get_running_loop().create_task(self._run(key), name=f"tg-chat-{key}")

    async def _run(self, key: str) -> None:
        q = self.queues[key]
        try:
            while q:
                job = q.popleft()
                try:
                    await self.process(key, job)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.error("chat %s: job failed\n%s", key, safe_traceback(exc))
        finally:
            self.tasks.pop(key, None)
            if not q:
                self.queues.pop(key, None)
            if not self.tasks:
                self.idle.set()

    def __len__(self) -> int:
        return sum(len(q) for q in self.queues.values())

    async def cancel(self) -> None:
        tasks = list(self.tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.queues.clear()
        self.tasks.clear()
        self.idle.set()


# ---------------------------------------------------------------------------------------------
@dataclass
class ChatState:
    """What :class:`LeanInbox` reads of a ``telegram_chats`` row (the fields a step's record needs)."""

    lang: str
    ask_token: str | None
    reply_keyboard: bool


@dataclass
class AskedState:
    """The question a chat's buttons belong to: its token, choices ([value, label]), navigation, selection."""

    ask_token: str | None
    ask_choices: list[Any]
    ask_nav: list[Any]
    selection: list[Any]


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return list(value) if isinstance(value, list) else []


class OrmTurnRecord:
    """What recording a step needs, on the ORM (the step's session): the twin of :class:`LeanInbox`."""

    def __init__(self, db: AsyncSession, conversation_key: Callable[[AsyncSession, str], Awaitable[str]]):
        self.db, self.inbox, self.chats = db, InboxRepo(db), ChatRepo(db)
        self._conversation_key = conversation_key
        self._row: TelegramChat | None = None

    async def accept(self, bot_id: int, raw: dict[str, Any], chat_key: str | None, now: datetime) -> int | None:
        return await self.inbox.accept(bot_id, raw, chat_key, now)

    async def order(self, bot_id: int, chat_key: str, rows: Sequence[int], *,
                    wait_sending: bool = True) -> str | None:
        return await self.inbox.order(bot_id, chat_key, rows, wait_sending=wait_sending)

    async def order_and_chat(self, bot_id: int, chat_key: str, rows: Sequence[int], *,
                             wait_sending: bool = True) -> tuple[str | None, ChatState | None]:
        """:meth:`order`, then :meth:`chat` (locked)."""
        return (await self.order(bot_id, chat_key, rows, wait_sending=wait_sending),
                await self.chat(chat_key, lock=True))

    async def chat(self, chat_key: str, *, lock: bool = True) -> ChatState | None:
        self._row = row = await self.chats.get(chat_key, lock=lock)
        return ChatState(row.lang or "vi", row.ask_token, bool(row.reply_keyboard)) if row is not None else None

    async def conversation_lang(self, user_key: str) -> str | None:
        key = await self._conversation_key(self.db, user_key)  # a linked chat speaks its account's language
        return (await self.db.execute(select(Conversation.lang).where(Conversation.user_key == key))
                ).scalar_one_or_none()

    async def put_chat(self, chat_key: str, now: datetime, **values: Any) -> None:
        await self.chats.put(chat_key, self._row, **values)

    async def mark_done(self, rows: Sequence[int], now: datetime, *, hold: dict[str, Any]) -> int:
        return await self.inbox.mark_done(rows, now, hold=hold)

    async def record(self, chat_key: str, now: datetime, values: dict[str, Any], rows: Sequence[int],
                     hold: dict[str, Any]) -> int:
        """The chat's row updated with ``values``; then, if there are ``rows``, those marked done holding the
        replies (:meth:`mark_done`, its count; 0 without rows)."""
        await self.put_chat(chat_key, now, **values)
        return await self.mark_done(rows, now, hold=hold) if rows else 0


_ORDER = (  # the three questions of InboxRepo.order about update ``u``, in its order, as one select list
    "SELECT u.status, "
    "EXISTS(SELECT 1 FROM telegram_updates o WHERE o.bot_id = u.bot_id AND o.chat_key = u.chat_key "
    "AND o.id <> u.id AND o.status = 'pending' AND o.update_id < u.update_id), "
    "EXISTS(SELECT 1 FROM telegram_updates o WHERE o.bot_id = u.bot_id AND o.chat_key = u.chat_key "
    "AND o.id <> u.id AND o.status = 'replying' AND o.update_id < u.update_id), "
    "EXISTS(SELECT 1 FROM telegram_updates o WHERE o.bot_id = u.bot_id AND o.chat_key = u.chat_key "
    "AND o.id <> u.id AND o.status IN ('done', 'replying') AND o.update_id > u.update_id) ")


def _order_of(found: Sequence[Any] | None, wait_sending: bool) -> str | None:
    """:data:`_ORDER`'s answers (status, older pending, older sending, newer done) as :meth:`InboxRepo.order`
    says them; None for an update that is not there."""
    if found is None:
        return None
    status, older, sending, newer = found
    if status != "pending":
        return "processed"
    if older:
        return "older"
    if wait_sending and sending:
        return "sending"
    return "late" if newer else None


class LeanInbox:
    """The statements of the hot path (storing an update, recording a step, marking its replies sent) on the
    runtime's driver-level store (storage/chatstore/) instead of the ORM: the same rows, the same meaning as
    :class:`InboxRepo` and :class:`ChatRepo`. Written once with ``?`` placeholders for SQLite and PostgreSQL."""

    def __init__(self, tx: Any):  # a storage.chatstore.ChatTx
        self.tx = tx

    async def accept(self, bot_id: int, raw: dict[str, Any], chat_key: str | None, now: datetime) -> int | None:
        rows = await self.tx.fetch(
            "INSERT INTO telegram_updates (bot_id, update_id, chat_key, payload, status, attempts, received_at) "
            "VALUES (?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT (bot_id, update_id) DO NOTHING RETURNING id",
            bot_id, int(raw["update_id"]), chat_key, self.tx.json(raw), self.tx.time(now))
        return rows[0][0] if rows else None

    async def order(self, bot_id: int, chat_key: str, rows: Sequence[int], *,
                    wait_sending: bool = True) -> str | None:
        """:meth:`InboxRepo.order` for one update (an album's parts take the ORM path)."""
        if len(rows) != 1:
            raise NeedsDatabase()
        found = await self.tx.fetch(_ORDER + "FROM telegram_updates u WHERE u.id = ?", rows[0])
        return _order_of(found[0] if found else None, wait_sending)

    async def order_and_chat(self, bot_id: int, chat_key: str, rows: Sequence[int], *,
                             wait_sending: bool = True) -> tuple[str | None, ChatState | None]:
        """:meth:`order`, then :meth:`chat` (locked): on PostgreSQL one statement, one round trip. Its order
        questions may see the inbox as it was before the statement waited for the chat's row lock (held while
        a multi-choice toggle is recorded, never by another step of this chat: the conversation's row lock keeps
        those apart); an update that has since left ``pending`` or ``replying`` then only makes this step wait
        and run again, as an out-of-order one does."""
        if self.tx.dialect != "postgresql" or len(rows) != 1:
            return (await self.order(bot_id, chat_key, rows, wait_sending=wait_sending),
                    await self.chat(chat_key, lock=True))
        found = (await self.tx.fetch(
            "WITH ch AS (SELECT lang, ask_token, reply_keyboard FROM telegram_chats WHERE chat_key = ? FOR UPDATE) "
            + _ORDER + ", EXISTS(SELECT 1 FROM ch), (SELECT lang FROM ch), (SELECT ask_token FROM ch), "
            "(SELECT reply_keyboard FROM ch) FROM (SELECT 1) one LEFT JOIN telegram_updates u ON u.id = ?",
            chat_key, rows[0]))[0]
        where = _order_of(found[:4] if found[0] is not None else None, wait_sending)
        return where, (ChatState(found[5] or "vi", found[6], bool(found[7])) if found[4] else None)

    async def chat(self, chat_key: str, *, lock: bool = True) -> ChatState | None:
        lock_sql = " FOR UPDATE" if self.tx.dialect == "postgresql" else ""  # (SQLite: the step holds the lock)
        rows = await self.tx.fetch("SELECT lang, ask_token, reply_keyboard FROM telegram_chats WHERE chat_key = ?"
                                   + (lock_sql if lock else ""), chat_key)
        return ChatState(rows[0][0] or "vi", rows[0][1], bool(rows[0][2])) if rows else None

    async def asked(self, chat_key: str) -> AskedState | None:
        """The question the chat's buttons belong to (read when a button is pressed)."""
        rows = await self.tx.fetch("SELECT ask_token, ask_choices, ask_nav, selection FROM telegram_chats "
                                   "WHERE chat_key = ?", chat_key)
        if not rows:
            return None
        token, choices, nav, selection = rows[0]
        return AskedState(token, _json_list(choices), _json_list(nav), _json_list(selection))

    async def button_choices(self, token: str, chat_key: str) -> list[Any] | None:
        """A notification's buttons (:meth:`ChatRepo.button`)."""
        rows = await self.tx.fetch("SELECT choices FROM telegram_buttons WHERE token = ? AND chat_key = ?",
                                   token, chat_key)
        return _json_list(rows[0][0]) if rows else None

    async def conversation_lang(self, user_key: str) -> str | None:
        return await self.tx.conversation_lang(user_key)

    def _put_chat(self, chat_key: str, now: datetime, values: dict[str, Any]) -> tuple[str, list[Any]]:
        cols = {"lang": "vi", "ask_choices": [], "ask_nav": [], "selection": [], "reply_keyboard": False, **values}
        names = list(cols)
        params = [self.tx.json(v) if n in ("ask_choices", "ask_nav", "selection") else v for n, v in cols.items()]
        sets = ", ".join(f"{n} = excluded.{n}" for n in names if n in values) + ", updated_at = excluded.updated_at"
        return (f"INSERT INTO telegram_chats (chat_key, {', '.join(names)}, updated_at) VALUES "
                f"(?, {', '.join('?' for _ in names)}, ?) ON CONFLICT (chat_key) DO UPDATE SET {sets}",
                [chat_key, *params, self.tx.time(now)])

    def _mark_done(self, rows: Sequence[int], now: datetime, hold: dict[str, Any]) -> tuple[str, list[Any]]:
        if len(rows) != 1:
            raise NeedsDatabase()
        return ("UPDATE telegram_updates SET status = 'replying', payload = ?, processed_at = ? "
                "WHERE id = ? AND status = 'pending'", [self.tx.json({"replies": hold}), self.tx.time(now), rows[0]])

    async def put_chat(self, chat_key: str, now: datetime, **values: Any) -> None:
        """Insert or update the chat's row with ``values`` (lang, reply_keyboard, and the ask's token, kind,
        choices, nav and selection when a question was asked)."""
        sql, params = self._put_chat(chat_key, now, values)
        await self.tx.execute(sql, *params)

    async def mark_done(self, rows: Sequence[int], now: datetime, *, hold: dict[str, Any]) -> int:
        """:meth:`InboxRepo.mark_done` of one row holding the turn's replies."""
        sql, params = self._mark_done(rows, now, hold)
        return await self.tx.execute(sql, *params)

    async def record(self, chat_key: str, now: datetime, values: dict[str, Any], rows: Sequence[int],
                     hold: dict[str, Any]) -> int:
        """:meth:`OrmTurnRecord.record`. On PostgreSQL both writes are one statement (a data-modifying ``WITH``
        runs whether or not the statement reads it), one round trip instead of two."""
        if not rows or self.tx.dialect != "postgresql":
            await self.put_chat(chat_key, now, **values)
            return await self.mark_done(rows, now, hold=hold) if rows else 0
        chat_sql, chat_params = self._put_chat(chat_key, now, values)
        done_sql, done_params = self._mark_done(rows, now, hold)
        return await self.tx.execute(f"WITH c AS ({chat_sql}) {done_sql}", *chat_params, *done_params)

    REPLIES_SENT = "UPDATE telegram_updates SET status = 'done', payload = '{}' WHERE id = ? AND status = 'replying'"
    """:meth:`InboxRepo.replies_sent`, for the store's ``soon`` (written by the next transaction on SQLite)."""
