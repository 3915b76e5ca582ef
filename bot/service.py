"""The runtime core shared by every channel: lock the chat, run the turn pipeline in one transaction, reply.

One chat's messages are handled one at a time (an asyncio lock per chat in
this process, and a row lock on the conversation in PostgreSQL across
processes). Every message's outcome — accepted answers, stored attachments,
a submitted dossier — is committed in one transaction before the replies are
returned to the channel, so a crash never loses an accepted answer and never
submits twice.

What a turn does is not written here: the handlers registered in the
:class:`~bot.pipeline.Pipeline` (bot/app.py lists the features) answer it, in
order; after the commit the runtime runs the jobs they queued.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import logging
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialogs.catalog import Catalog
from dialogs.engine import Draft, Engine, Session
from dialogs.messages import Incoming, Reply
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.attachments import AttachmentStore, open_store
from storage.chatstore import ChatStore, NotHere, open_chat_store
from storage.db import busy_seconds, database_url, make_engine, reading, sessionmaker, unavailable, upgrade
from storage.repo import ConversationRepo

from .app import build_pipeline
from .pipeline import NeedsDatabase, OutsideWork, Pipeline, Turn

log = logging.getLogger("dvcbot.service")
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MIN_FREE_MB = 100  # below this much free disk in the data folder, the health endpoint says the bot is not ok


class ChatLocks:
    """One asyncio.Lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                self._users.pop(key, None)
                self._locks.pop(key, None)

    def __len__(self) -> int:
        return len(self._locks)


class Runtime:
    """Everything a channel adapter needs: ``start`` and ``handle`` for one chat.

    Also the services a handler reaches through ``turn.runtime``: ``engine``, ``catalog``, ``calendar``,
    ``attachments``, ``now()``, :meth:`load_session` and :meth:`session_from_rows`."""

    def __init__(self, db_url: str | None = None, *, var_dir: str | Path = "var", catalog: Catalog | None = None,
                 calendar: WorkCalendar | None = None, now: Callable[[], datetime] | None = None,
                 pipeline: Pipeline | None = None, lean: bool | None = None,
                 attachments: AttachmentStore | None = None):
        self.db_url = db_url
        self.var_dir = Path(var_dir)
        self.catalog = catalog or Catalog.default()
        self.calendar = calendar or DEFAULT_CALENDAR
        self.now = now or (lambda: datetime.now(VN_TZ))
        self.engine = Engine(self.catalog, today=lambda: self.now().date(), now=lambda: self.now())
        # <var>/attachments, or the store DVCBOT_ATTACHMENTS names (an S3-compatible bucket: docs/deploy.md)
        self.attachments: AttachmentStore = attachments or open_store(var_dir=self.var_dir)
        self.pipeline = pipeline or build_pipeline()
        self.locks = ChatLocks()
        self.db_engine: AsyncEngine | None = None
        self._sm: async_sessionmaker[AsyncSession] | None = None
        # the lean step (storage/chatstore/): on unless ``lean=False`` or ``DVCBOT_LEAN_STEP=0``
        self.lean = lean if lean is not None else os.environ.get("DVCBOT_LEAN_STEP", "1") != "0"
        self.chats: ChatStore | None = None
        self.lean_turns = 0  # turns served by the lean step, and turns it handed to the ORM path (benchmarks)
        self.lean_fallbacks = 0
        self.lean_outside = 0  # work a lean turn had done outside its transaction (a photo stored) before its rerun
        # SQLite: an ORM turn on the lean writer's connection, inline (storage/inline.py); 0 for the benchmarks'
        # before figures
        self.inline_orm = os.environ.get("DVCBOT_INLINE_ORM", "1") != "0"

    async def open(self, migrate: bool = True) -> Runtime:
        if migrate:
            await upgrade(self.db_url)
        self.db_engine = make_engine(self.db_url)
        self._sm = sessionmaker(self.db_engine)
        if self.lean:
            self.chats = await open_chat_store(database_url(self.db_url), busy_seconds=busy_seconds())
            if self.chats is not None and not self.inline_orm:
                self.chats.inline_orm = False  # (the benchmarks' before figures)
        await asyncio.to_thread(self.attachments.prepare)
        return self

    @property
    def sm(self) -> async_sessionmaker[AsyncSession]:
        """The database's session factory (once :meth:`open` ran)."""
        if self._sm is None:
            raise RuntimeError("Runtime.open() has not run")
        return self._sm

    async def close(self) -> None:
        if self.chats is not None:
            await self.chats.close()
            self.chats = None
        if self.db_engine is not None:
            await self.db_engine.dispose()

    async def health(self, *, timeout: float = 2.0, min_free_mb: int = MIN_FREE_MB) -> dict[str, Any]:
        """What a health endpoint reports: whether a write transaction can start now (SQLite takes the write
        lock at BEGIN, so a locked file shows here) and whether the data folder has room. ``ok`` is False when
        either is not the case: the bot then keeps what it receives and answers that it is busy."""
        import shutil

        from sqlalchemy import text

        out: dict[str, Any] = {"ok": True, "db": "ok", "disk": "ok"}
        try:
            async with asyncio.timeout(timeout):
                async with self.sm() as db, db.begin():
                    await db.execute(text("SELECT 1"))
        except Exception as exc:  # down, locked or out of disk: what, not why (no personal data in errors here)
            out.update(ok=False, db="unavailable" if unavailable(exc) else "error")
        try:
            free = shutil.disk_usage(self.var_dir if self.var_dir.exists() else Path.cwd()).free
            out["disk_free_mb"] = free // (1024 * 1024)
            if free < min_free_mb * 1024 * 1024:
                out.update(ok=False, disk="low")
        except OSError:
            out.update(ok=False, disk="unknown")
        return out

    async def __aenter__(self) -> Runtime:
        return await self.open()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------
    async def start(self, user_key: str, *, tx_hook: TxHook | None = None) -> list[Reply]:
        """The chat was opened (or reopened): greet, or ask the question it is at."""
        return await self._run(user_key, Incoming(text="/start"), start=True, tx_hook=tx_hook)

    async def handle(self, user_key: str, msg: Incoming, *, tx_hook: TxHook | None = None) -> list[Reply]:
        """One message of one chat. ``tx_hook(db, replies)``, if given, runs inside the step's transaction just
        before it commits (a channel marks its inbox row done there, so the step and the mark commit
        together); an exception from it rolls the whole step back and propagates."""
        return await self._run(user_key, msg, start=False, tx_hook=tx_hook)

    async def session(self, user_key: str) -> Session:
        """A read-only look at a chat's session (tests, CLI)."""
        async with reading(self.sm) as db:
            key = await self.conversation_key(db, user_key)
            conv, drafts = await ConversationRepo(db).load(key, lock=False)
            return self.session_from_rows(user_key, conv, drafts)

    async def conversation_key(self, db, user_key: str) -> str:
        """The conversation ``user_key`` reads and writes (a linked chat shares its account's)."""
        return await self.pipeline.key_resolver(db, user_key)

    async def load_session(self, db, user_key: str, *, lock: bool = True) -> tuple[str, Any, Session]:
        """(conversation key, stored row or None, session) of a chat, inside the caller's transaction; the row
        is locked on PostgreSQL unless ``lock`` is False."""
        key = await self.conversation_key(db, user_key)
        conv, drafts = await ConversationRepo(db).load(key, lock=lock)
        return key, conv, self.session_from_rows(key, conv, drafts)

    @staticmethod
    def session_from_rows(user_key: str, conv, drafts) -> Session:
        """A :class:`Session` from a stored conversation row and draft rows (as ``ConversationRepo.load`` gives
        them). Deep copies: the engine mutates its session, and the ORM must see new values, not the same
        objects."""
        return Session.from_data(user_key, copy.deepcopy(conv.data) if conv else None, [
            Draft(id=d.id, procedure=d.procedure_id, version=d.procedure_version,
                  answers=copy.deepcopy(d.answers), history=list(d.history), revision=d.revision)
            for d in drafts])

    async def save_session(self, db, turn: Turn) -> None:
        """Write the turn's session (conversation row and changed drafts) back, inside the transaction."""
        session = turn.session
        if session is None or turn.conv_key is None:
            return  # nothing loaded, nothing to save
        await ConversationRepo(db).save(
            turn.conv_key, turn.conversation, session.conversation_data(), session.lang,
            [asdict(session.drafts[p]) for p in session.dirty_drafts if p in session.drafts],
            session.deleted_drafts)

    def store_blobs(self, blobs: dict[str, bytes]) -> None:
        """Write new attachment files (content-addressed) to the attachment store."""
        for sha, data in blobs.items():
            self.attachments.put_known(sha, data)

    # ------------------------------------------------------------------------------------
    @asynccontextmanager
    async def _conversation_lock(self, user_key: str, *, unlinked: bool = False) -> AsyncIterator[None]:
        """Inside the chat's own lock: the lock on the conversation it resolves to if that is another chat's
        (always in this order: no deadlock, since a primary key resolves to itself). ``unlinked``: a lean try of
        this very message, under the chat's lock, read that the chat uses its own conversation (only the chat's
        own messages link it), so there is nothing to look up."""
        if unlinked:
            yield
            return
        async with reading(self.sm) as db:
            key = await self.conversation_key(db, user_key)
        if key == user_key:
            yield
        else:
            async with self.locks(key):
                yield

    async def _run(self, user_key: str, msg: Incoming, *, start: bool, tx_hook: TxHook | None) -> list[Reply]:
        async with self.locks(user_key):  # taken first, so one chat's messages keep their order
            lean = _LeanTries()
            if self.chats is not None and _lean_hook(tx_hook):
                try:
                    for _ in range(LEAN_OUTSIDE_WORK + 1):
                        try:
                            return await self._run_lean(user_key, msg, start, tx_hook, lean)
                        except OutsideWork as w:  # rolled back: the work outside the writer, then again
                            lean.done[w.key] = await asyncio.to_thread(w.work)
                            self.lean_outside += 1
                    self.lean_fallbacks += 1
                except (NeedsDatabase, NotHere):
                    self.lean_fallbacks += 1  # nothing was committed: the same turn on the ORM path
            async with self._conversation_lock(user_key, unlinked=lean.unlinked):
                for attempt in range(3):
                    try:
                        return await self._run_once(user_key, msg, start, tx_hook)
                    except IntegrityError:
                        # another process created this chat's first row at the same moment: run again on it
                        if attempt == 2:
                            raise
        raise AssertionError("unreachable")

    async def _run_lean(self, user_key: str, msg: Incoming, start: bool, tx_hook: TxHook | None,
                        lean: _LeanTries) -> list[Reply]:
        """The turn on the chat's own rows (storage/chatstore/): one transaction, no ORM. A handler that needs
        more raises :class:`NeedsDatabase` (rolled back here, run again by the caller)."""
        assert self.chats is not None
        async with self.chats.transaction(user_key) as tx:
            if tx.rows.linked:
                raise NeedsDatabase()  # the conversation is another chat's: its lock and key are the ORM path's
            lean.unlinked = True
            turn = Turn(orm=None, user_key=user_key, message=msg, now=self.now(), runtime=self, start=start,
                        chat=tx.rows, tx=tx, done=lean.done)
            replies = await self.pipeline.run(turn)
            if tx_hook is not None:
                await tx_hook(tx, replies)
        self.lean_turns += 1
        for job in turn.jobs:
            replies = await job(list(replies))
        return list(replies)

    def exclusive(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Held around a write transaction of this process on the ORM (:meth:`ChatStore.exclusive`): on SQLite it
        queues with the lean steps, FIFO, instead of polling for the file's lock."""
        return self.chats.exclusive() if self.chats is not None else contextlib.nullcontext()

    @contextlib.asynccontextmanager
    async def orm_write(self, *, queued: bool = True) -> AsyncIterator[Any]:
        """An ORM write transaction of this process beside the chats' steps (a turn on the ORM path, the
        notifier's rounds): on SQLite on the lean writer's own connection, inline, FIFO with the lean steps
        (storage/inline.py: no thread hop while it holds the writer); elsewhere a session of the pool, inside
        :meth:`exclusive` if ``queued``."""
        if self.chats is not None and self.chats.single_writer and self.chats.inline_orm:
            async with self.chats.orm_write() as db:
                yield db
        else:
            async with self.exclusive() if queued else contextlib.nullcontext(), self.sm() as db, db.begin():
                yield db

    async def _run_once(self, user_key: str, msg: Incoming, start: bool, tx_hook: TxHook | None) -> list[Reply]:
        async with self.orm_write(queued=False) as db:
            turn = Turn(orm=db, user_key=user_key, message=msg, now=self.now(), runtime=self, start=start)
            replies = await self.pipeline.run(turn)
            if tx_hook is not None:
                await tx_hook(db, replies)
        for job in turn.jobs:  # after the commit: e.g. rendering must not hold the database's write lock
            replies = await job(list(replies))
        return list(replies)


def settle_heap() -> None:
    """Called once by a long-running process (a channel, the web desk, the notifier) when it is set up and before
    it serves: a full collection, then :func:`gc.freeze`, so what it loaded to keep (the catalogue and its compiled
    expressions, the ORM's mappers, aiogram's models: most of a process's objects) is never walked again by a
    full collection. Those then only walk what was made since, and a chat's step no longer waits a few hundred
    milliseconds behind one (docs/benchmarks.md). Nothing made later is frozen; what was frozen here lives as
    long as the process anyway.

    The youngest generation is then collected after :data:`YOUNG_COLLECTION` allocations instead of 700: a step
    makes thousands of short-lived objects, and most of them are freed before a collection would walk them
    (about a tenth less CPU an update, for aiogram's echo bot as for ours: docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])


YOUNG_COLLECTION = 10_000
"""Allocations (less deallocations) of tracked objects between two collections of the youngest generation, once
the heap is settled (:func:`settle_heap`); Python's default is 700."""


LEAN_OUTSIDE_WORK = 3
"""How many times a lean turn may be run again after work outside its transaction (a photo stored, an ID card's
QR read) before it goes to the ORM path."""


@dataclass
class _LeanTries:
    """What one message's lean tries carry to the next try and to the ORM path."""

    done: dict[str, Any] = field(default_factory=dict)  # results of work done outside the transaction, by key
    unlinked: bool = False  # read under the chat's lock: the chat uses its own conversation (only its own
    # messages link it), so the ORM path need not look the link up again


def _lean_hook(hook: TxHook | None) -> bool:
    """Whether a turn with this hook may run lean: no hook, or one that also takes a
    :class:`~storage.chatstore.ChatTx` (it says so with a true ``lean`` attribute)."""
    return hook is None or bool(getattr(hook, "lean", False))


TxHook = Callable[[Any, list[Reply]], Awaitable[None]]
"""Runs in the step's transaction before the commit: ``hook(db, replies)``, where ``db`` is the ORM session, or
the lean turn's :class:`~storage.chatstore.ChatTx` for a hook marked ``lean = True``."""
