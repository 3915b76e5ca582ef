"""The store on SQLite, the embedded default (see the package's docstring)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from .base import ChatRows, ChatStore, ChatTx, answers_in, answers_out, dump_json, json_in, sqlite_time

log = logging.getLogger("dvcbot.storage")

_SQLITE_LOAD = """
SELECT EXISTS(SELECT 1 FROM officers WHERE user_key = :u),
       EXISTS(SELECT 1 FROM officers WHERE invite_hash IS NOT NULL AND json_valid(chat_state)
                                     AND json_extract(chat_state, '$.join_chat') = :u),
       (SELECT a.primary_key FROM account_identities i JOIN accounts a ON a.id = i.account_id WHERE i.user_key = :u),
       c.data, c.lang, c.revision
FROM (SELECT 1) LEFT JOIN conversations c ON c.user_key = :u"""
_SQLITE_DRAFTS = ("SELECT id, procedure_id, procedure_version, answers, history, revision FROM drafts "
                  "WHERE user_key = ? ORDER BY created_at")


CHECKPOINT_EVERY = 200
"""Commits of the SQLite store's connection between two checkpoints of the write-ahead log (a step writes a few
pages: about SQLite's own default of 1,000 pages)."""


class SqliteChatStore(ChatStore):
    dialect = "sqlite"

    def __init__(self, path: str, busy_seconds: float = 30.0):
        self.path = path
        self.busy_seconds = busy_seconds
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA busy_timeout=0")  # never wait inside SQLite: the event loop waits instead
        self.conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run off the loop (_checkpoint)
        self.checkpoint_every = CHECKPOINT_EVERY
        self._commits = 0
        self._checkpointing: asyncio.Future[None] | None = None
        self._checkpointer: sqlite3.Connection | None = None
        self._gate: asyncio.Lock | None = None
        self._inline: Any = None  # (engine, sessionmaker) of the ORM on this connection, made on first use
        self._soon: list[tuple[str, tuple[Any, ...]]] = []  # :meth:`soon`'s statements, for the next transaction
        self._soon_timer: asyncio.TimerHandle | None = None
        self._soon_task: asyncio.Future[None] | None = None

    async def _begin(self) -> None:
        deadline = time.monotonic() + self.busy_seconds
        pause = 0.0005
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)

    @asynccontextmanager
    async def transaction(self, user_key: str) -> AsyncIterator[ChatTx]:
        async with self._tx(user_key) as tx:
            yield tx

    @asynccontextmanager
    async def write(self, *, single: bool = False) -> AsyncIterator[ChatTx]:
        async with self._tx(None, single=single) as tx:
            yield tx

    @asynccontextmanager
    async def read(self) -> AsyncIterator[ChatTx]:
        if self._gate is None:
            self._gate = asyncio.Lock()
        async with self._gate:  # (never inside another coroutine's open transaction on this connection)
            yield ChatTx(self, self.conn, None)  # autocommit SELECTs: WAL readers take no lock

    inline_orm = True
    single_writer = True

    @asynccontextmanager
    async def orm_write(self) -> AsyncIterator[Any]:
        """The same FIFO write transaction as a chat's step, with an ORM session on this very connection, run
        inline (storage/inline.py): a turn on the ORM path neither hops to a thread nor yields to the loop
        between its statements while it holds the writer. Flushed, then committed with the transaction."""
        async with self._tx(None), self._inline_sessions()() as db:
            yield db
            await db.flush()

    def tx_orm(self, tx: ChatTx | None = None) -> Any | None:
        return self._inline_sessions()() if self.inline_orm else None

    def _inline_sessions(self) -> Any:
        if self._inline is None:
            from ..inline import inline_engine, inline_sessionmaker
            engine = inline_engine(self.conn)
            self._inline = (engine, inline_sessionmaker(engine))
        return self._inline[1]

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        if self._gate is None:
            self._gate = asyncio.Lock()
        async with self._gate:
            yield

    @asynccontextmanager
    async def _tx(self, user_key: str | None, *, single: bool = False) -> AsyncIterator[ChatTx]:
        if self._gate is None:
            self._gate = asyncio.Lock()
        async with self._gate:  # one transaction at a time on this connection, in the order they came
            await self._begin()
            tx, carried = None, self._soon
            self._soon = []
            try:
                for sql, params in carried:
                    self.conn.execute(sql, params)
                tx = ChatTx(self, self.conn, None if user_key is None else self._load(user_key), single=single)
                yield tx
                if tx.orm_session is not None:
                    await tx.orm_session.flush()
            except BaseException:
                self.conn.execute("ROLLBACK")
                self._soon[:0] = carried  # (written by the next transaction)
                raise
            finally:
                if tx is not None and tx.orm_session is not None:
                    await tx.orm_session.close()  # (the connection is the store's: nothing is rolled back here)
            self.conn.execute("COMMIT")
            self._commits += 1
            if self._commits >= self.checkpoint_every and self._checkpointing is None:
                self._commits = 0
                self._checkpointing = asyncio.get_running_loop().run_in_executor(None, self._checkpoint)
                self._checkpointing.add_done_callback(self._checkpointed)

    SOON_SECONDS = 0.05
    """How long :meth:`soon`'s statements wait for a write transaction to carry them before one runs for them."""

    async def soon(self, sql: str, *params: Any) -> None:
        """Carried by the next write transaction on this connection (a busy bot has one within a millisecond: the
        next update stored), or by one of its own :attr:`SOON_SECONDS` later: one ``BEGIN`` and ``COMMIT`` fewer
        per turn. Carried statements run first, so the transaction sees them; if it rolls back they wait for the
        next one."""
        self._soon.append((sql, params))
        if self._soon_timer is None and self._soon_task is None:
            self._soon_timer = asyncio.get_running_loop().call_later(self.SOON_SECONDS, self._soon_due)

    def _soon_due(self) -> None:
        self._soon_timer = None
        if self._soon and self._soon_task is None:
            self._soon_task = asyncio.ensure_future(self.settle())
            self._soon_task.add_done_callback(self._soon_done)

    def _soon_done(self, done: asyncio.Future[None]) -> None:
        self._soon_task = None
        if not done.cancelled() and done.exception() is not None:
            log.warning("statements carried to the next transaction not written yet: %s", done.exception())
        if self._soon and self._soon_timer is None:  # (failed, or more came meanwhile)
            self._soon_timer = asyncio.get_running_loop().call_later(self.SOON_SECONDS, self._soon_due)

    async def settle(self) -> None:
        if self._soon:
            async with self._tx(None):
                pass

    def _checkpoint(self) -> None:
        """A passive checkpoint (on a worker thread): it copies what no reader still needs into the database
        file, without the write lock, so steps go on meanwhile; the log is then reused from its start."""
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def checkpointed(self) -> None:
        """Wait for the checkpoint under way, if any (tests, shutdown)."""
        if self._checkpointing is not None:
            with contextlib.suppress(Exception):
                await self._checkpointing

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = None
        if not done.cancelled() and done.exception() is not None:  # (the next one tries again)
            log.warning("checkpoint of the write-ahead log failed: %s", done.exception())

    def _load(self, user_key: str) -> ChatRows:
        officer, join, primary, data, lang, revision = self.conn.execute(_SQLITE_LOAD, {"u": user_key}).fetchone()
        rows = ChatRows(user_key, bool(officer), bool(join), primary,
                        json_in(data) if data is not None else None, lang, revision)
        rows.drafts = [{"id": i, "procedure": p, "version": v, "answers": answers_in(a), "history": json_in(h) or [],
                        "revision": r} for i, p, v, a, h, r in self.conn.execute(_SQLITE_DRAFTS, (user_key,))]
        return rows

    async def save(self, tx: ChatTx, data: dict[str, Any], lang: str, drafts: list[dict[str, Any]],
                   deleted: list[str], now: datetime) -> None:
        conn, key, at = self.conn, tx.rows.user_key, sqlite_time(now)
        if tx.rows.revision is None:
            conn.execute("INSERT INTO conversations (user_key, data, lang, revision, updated_at) "
                         "VALUES (?, ?, ?, 1, ?)",
                         (key, dump_json(data), lang, at))
            tx.rows.revision = 1
        else:
            conn.execute("UPDATE conversations SET data = ?, lang = ?, revision = revision + 1, updated_at = ? "
                         "WHERE user_key = ?", (dump_json(data), lang, at, key))
        for proc in deleted:
            conn.execute("DELETE FROM drafts WHERE user_key = ? AND procedure_id = ?", (key, proc))
        for d in drafts:
            conn.execute(
                "INSERT INTO drafts (id, user_key, procedure_id, procedure_version, answers, history, revision, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "procedure_version = excluded.procedure_version, answers = excluded.answers, "
                "history = excluded.history, revision = excluded.revision, updated_at = excluded.updated_at",
                (d["id"], key, d["procedure"], d["version"], answers_out(d["answers"]), dump_json(d["history"]),
                 d["revision"], at, at))

    async def execute(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> int:
        return self.conn.execute(sql, params).rowcount

    async def fetch(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    async def close(self) -> None:
        if self._soon_timer is not None:
            self._soon_timer.cancel()
            self._soon_timer = None
        try:
            await self.settle()
        except Exception as exc:  # (not written: those replies are sent again at the next start)
            log.warning("statements carried to the next transaction not written at close: %s", exc)
        if self._inline is not None:
            await self._inline[0].dispose()
            self._inline = None
        await self.checkpointed()
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.conn.close()

