"""The per-message hot path's store: one chat's rows read, changed and written in one transaction, on the driver.

An ordinary chat step (an answer typed or a button pressed, in a chat that is not an officer's and not linked to
another chat) needs only the chat's conversation row and its draft rows. This store reads them in two
statements, together with the flags that decide whether the step is an ordinary one (the chat is an officer's;
an officer's invite waits for this chat's answer; the chat is linked to an account), and writes them back,
without the ORM:

* **SQLite** (the embedded default): one connection per database file, used by one step at a time, FIFO (an
  ``asyncio.Lock``), directly on the event loop's thread: the statements of a step take tens of microseconds,
  less than a hop to a worker thread. ``BEGIN IMMEDIATE`` takes the write lock without waiting: when another
  process (or the ORM's pool in this one) holds it, the step waits on the event loop (``asyncio.sleep``, backing
  off) instead of blocking the loop in SQLite's busy handler, up to ``DVCBOT_DB_BUSY_SECONDS``. This connection
  never checkpoints the write-ahead log itself (a checkpoint syncs the file: 10–50 ms on the loop, every few
  hundred steps): every ``checkpoint_every`` commits (:data:`CHECKPOINT_EVERY`) a passive checkpoint runs on a
  worker thread, on a connection of its own, while steps go on.
* **PostgreSQL**: asyncpg connections of a SQLAlchemy engine of the store's own; ``SELECT … FOR UPDATE`` of the
  conversation row (the same row lock the ORM path takes, so both paths and several processes keep one chat's
  steps in order), prepared statements (asyncpg caches them per connection), no ping per step and no reset query
  when a connection goes back to the pool; the flags and drafts are read after the lock is held, in a statement
  of their own. A step's filing runs the ORM in the step's transaction (a savepoint), as on SQLite. A chat
  without a conversation row yet is not served here (:class:`NotHere`): its first step goes through the ORM
  path, which handles two processes creating it at once.

Everything else (officers, dossiers, reports, the channels' inboxes) stays with SQLAlchemy. Durability is the
ORM path's: the step's rows are committed before its replies are sent (WAL with ``synchronous=NORMAL`` on SQLite,
as the ORM's connections use). Draft answers are encrypted exactly as :class:`storage.crypto.EncryptedJSON`
stores them, so either path reads what the other wrote.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .crypto import decrypt_text, encrypt_text, is_encrypted
from .models import utcnow

log = logging.getLogger("dvcbot.storage")


class NotHere(Exception):
    """This step needs more than the chat's own rows: run it on the ORM path instead (nothing was written)."""


@dataclass
class ChatRows:
    """What one statement tells about a chat, and its stored conversation and drafts."""

    user_key: str
    officer: bool = False  # the chat is an officer's (the officer chat answers it)
    join_pending: bool = False  # an officer's invite waits for this chat's “yes/no”
    primary_key: str | None = None  # the conversation of the account the chat is linked to, if any
    data: dict[str, Any] | None = None  # the conversation row (None: the chat has none yet)
    lang: str | None = None
    revision: int | None = None
    drafts: list[dict[str, Any]] = field(default_factory=list)  # id, procedure, version, answers, history, revision

    @property
    def linked(self) -> bool:
        return self.primary_key is not None and self.primary_key != self.user_key


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _answers_out(answers: dict[str, Any]) -> str:
    """A draft's answers as the column holds them: one encrypted JSON string, as JSON."""
    return _dump(encrypt_text(_dump(answers)))


def _answers_in(stored: Any) -> dict[str, Any]:
    return _answers_value(json.loads(stored) if isinstance(stored, str) else stored)


def _answers_value(value: Any) -> dict[str, Any]:
    """A draft's answers from the column's JSON value, parsed (an encrypted string, or a plain object)."""
    if is_encrypted(value):
        value = json.loads(decrypt_text(value))
    return value if isinstance(value, dict) else {}


def _json_in(stored: Any) -> Any:
    return json.loads(stored) if isinstance(stored, str | bytes) else stored


def _sqlite_time(at: datetime) -> str:
    """An instant as SQLAlchemy's SQLite ``DateTime`` stores it (UTC wall time, no offset)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class ChatTx:
    """One transaction on the driver: a step's on one chat (its rows, :attr:`rows`, and :meth:`save`), or a
    channel's own small write (:meth:`ChatStore.write`: its inbox). :meth:`execute` and :meth:`fetch` run a
    channel's statements in it, written with ``?`` placeholders for either database; :meth:`time` and
    :meth:`json` give a value as the column's type wants it."""

    def __init__(self, store: ChatStore, conn: Any, rows: ChatRows | None, *, single: bool = False):
        self.store, self.conn = store, conn
        self._rows = rows
        self._single, self._spent = single, False  # :meth:`ChatStore.write` of one statement: a second is refused
        self.dialect = store.dialect
        self.orm_session: Any = None  # the session :meth:`orm` opened, flushed and closed with the transaction
        self.sa_connection: Any = None  # PostgreSQL: the SQLAlchemy connection ``conn`` belongs to

    @property
    def rows(self) -> ChatRows:
        if self._rows is None:
            raise RuntimeError("a write transaction holds no chat's rows")
        return self._rows

    async def save(self, data: dict[str, Any], lang: str, drafts: Iterable[dict[str, Any]], deleted: Iterable[str]
                   ) -> None:
        """Write the conversation row and the given drafts back (stamped with the database's own clock, as the
        ORM's ``utcnow`` stamps them: not the runtime's, which tests and ``--now`` move)."""
        await self.store.save(self, data, lang, list(drafts), list(deleted), utcnow())
        self.rows.data, self.rows.lang = data, lang

    def orm(self) -> Any | None:
        """An ORM session inside this very transaction, for a step's work on tables other than the chat's own rows
        (a filing's dossier, a check's query): on SQLite on this connection, inline (storage/inline.py), flushed
        before the commit; on PostgreSQL on this connection, in a savepoint committed before the transaction;
        ``None`` where the store was told to keep such steps on the ORM path (the benchmarks' before rows)."""
        if self.orm_session is None:
            self.orm_session = self.store.tx_orm(self)
        return self.orm_session

    def set_rows(self, rows: ChatRows) -> None:
        self._rows = rows

    async def conversation_lang(self, user_key: str) -> str | None:
        """A conversation's language as this transaction leaves it: the step's own chat without a query (as read,
        or as just saved), any other by reading it."""
        if self._rows is not None and self._rows.user_key == user_key and self._rows.revision is not None:
            return self._rows.lang
        rows = await self.fetch("SELECT lang FROM conversations WHERE user_key = ?", user_key)
        return rows[0][0] if rows else None

    async def execute(self, sql: str, *params: Any) -> int:
        """Run one statement; the rows it touched."""
        self._spend()
        return await self.store.execute(self, sql, params)

    async def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one query; its rows as tuples (a JSON column comes back as its text on SQLite, decoded on
        PostgreSQL: read it with a function that takes either)."""
        self._spend()
        return await self.store.fetch(self, sql, params)

    def _spend(self) -> None:
        if self._single:
            if self._spent:
                raise RuntimeError("a single-statement write ran a second statement")
            self._spent = True

    def time(self, at: datetime) -> Any:
        return _sqlite_time(at) if self.dialect == "sqlite" else at

    @staticmethod
    def json(value: Any) -> str:
        return _dump(value)


class ChatStore:
    """The driver-level store of one database (:func:`open_chat_store`)."""

    dialect = ""

    @asynccontextmanager
    async def transaction(self, user_key: str) -> AsyncIterator[ChatTx]:
        raise NotImplementedError
        yield  # pragma: no cover

    async def save(self, tx: ChatTx, data: dict[str, Any], lang: str, drafts: list[dict[str, Any]],
                   deleted: list[str], now: datetime) -> None:
        raise NotImplementedError

    @asynccontextmanager
    async def write(self, *, single: bool = False) -> AsyncIterator[ChatTx]:
        """A small transaction of a channel's own rows (storing an inbound update), on the same writer. With
        ``single`` the block runs one statement, atomic on its own: PostgreSQL runs it without ``BEGIN`` and
        ``COMMIT`` (two round trips fewer), and a second statement is refused."""
        raise NotImplementedError
        yield  # pragma: no cover

    @asynccontextmanager
    async def read(self) -> AsyncIterator[ChatTx]:
        """Queries outside a write transaction (a pressed button's question): no write lock is taken."""
        raise NotImplementedError
        yield  # pragma: no cover

    inline_orm = False  # :meth:`tx_orm` is available (and :meth:`orm_write` where :attr:`single_writer`)
    single_writer = False  # one writer per database file: a turn on the ORM path queues on it (:meth:`orm_write`)

    def tx_orm(self, tx: ChatTx | None = None) -> Any | None:
        """A new ORM session inside the transaction ``tx`` (:meth:`ChatTx.orm`), or ``None``."""
        return None

    @asynccontextmanager
    async def orm_write(self) -> AsyncIterator[Any]:
        """A write transaction of this store with an ORM session on it (SQLite: storage/inline.py)."""
        raise NotImplementedError
        yield  # pragma: no cover

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Held around another write transaction of this process on the same database (a turn on the ORM path):
        on SQLite it takes this store's place in the FIFO queue of writers, so the lean steps queued behind it
        start the moment it commits instead of polling for the file's lock; elsewhere it holds nothing."""
        yield

    async def execute(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> int:
        raise NotImplementedError

    async def fetch(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------------------------
# SQLite

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
            from .inline import inline_engine, inline_sessionmaker
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
            tx = None
            try:
                tx = ChatTx(self, self.conn, None if user_key is None else self._load(user_key), single=single)
                yield tx
                if tx.orm_session is not None:
                    await tx.orm_session.flush()
            except BaseException:
                self.conn.execute("ROLLBACK")
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
                        _json_in(data) if data is not None else None, lang, revision)
        rows.drafts = [{"id": i, "procedure": p, "version": v, "answers": _answers_in(a), "history": _json_in(h) or [],
                        "revision": r} for i, p, v, a, h, r in self.conn.execute(_SQLITE_DRAFTS, (user_key,))]
        return rows

    async def save(self, tx: ChatTx, data: dict[str, Any], lang: str, drafts: list[dict[str, Any]],
                   deleted: list[str], now: datetime) -> None:
        conn, key, at = self.conn, tx.rows.user_key, _sqlite_time(now)
        if tx.rows.revision is None:
            conn.execute("INSERT INTO conversations (user_key, data, lang, revision, updated_at) "
                         "VALUES (?, ?, ?, 1, ?)",
                         (key, _dump(data), lang, at))
            tx.rows.revision = 1
        else:
            conn.execute("UPDATE conversations SET data = ?, lang = ?, revision = revision + 1, updated_at = ? "
                         "WHERE user_key = ?", (_dump(data), lang, at, key))
        for proc in deleted:
            conn.execute("DELETE FROM drafts WHERE user_key = ? AND procedure_id = ?", (key, proc))
        for d in drafts:
            conn.execute(
                "INSERT INTO drafts (id, user_key, procedure_id, procedure_version, answers, history, revision, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "procedure_version = excluded.procedure_version, answers = excluded.answers, "
                "history = excluded.history, revision = excluded.revision, updated_at = excluded.updated_at",
                (d["id"], key, d["procedure"], d["version"], _answers_out(d["answers"]), _dump(d["history"]),
                 d["revision"], at, at))

    async def execute(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> int:
        return self.conn.execute(sql, params).rowcount

    async def fetch(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    async def close(self) -> None:
        if self._inline is not None:
            await self._inline[0].dispose()
            self._inline = None
        await self.checkpointed()
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.conn.close()


# --------------------------------------------------------------------------------------------------------------
# PostgreSQL

_PG_LOCK = "SELECT data::text, lang, revision FROM conversations WHERE user_key = $1 FOR UPDATE"
# Read after the lock is held, in a statement of its own: under READ COMMITTED a statement that waited for the
# row lock sees the row as committed since, but its subqueries still see the snapshot taken before the wait.
_PG_LOAD = """
SELECT EXISTS(SELECT 1 FROM officers WHERE user_key = $1),
       EXISTS(SELECT 1 FROM officers WHERE invite_hash IS NOT NULL AND chat_state::jsonb ->> 'join_chat' = $1),
       (SELECT a.primary_key FROM account_identities i JOIN accounts a ON a.id = i.account_id WHERE i.user_key = $1),
       (SELECT json_agg(json_build_array(d.id, d.procedure_id, d.procedure_version, d.answers, d.history, d.revision)
                        ORDER BY d.created_at)::text FROM drafts d WHERE d.user_key = $1)"""


_PG_SAVE = ("UPDATE conversations SET data = $1::json, lang = $2, revision = revision + 1, updated_at = $3 "
            "WHERE user_key = $4")
_PG_UPSERT = ("INSERT INTO drafts (id, user_key, procedure_id, procedure_version, answers, history, revision, "
              "created_at, updated_at) VALUES ({}, {}, {}, {}, {}::json, {}::json, {}, {}, {}) ON CONFLICT (id) DO "
              "UPDATE SET procedure_version = excluded.procedure_version, answers = excluded.answers, "
              "history = excluded.history, revision = excluded.revision, updated_at = excluded.updated_at")
# a data-modifying WITH runs whether or not the statement reads it: one round trip for both rows
_PG_SAVE_WITH_DRAFT = (f"WITH c AS ({_PG_SAVE}) "
                       + _PG_UPSERT.format("$5", "$4", "$6", "$7", "$8", "$9", "$10", "$3", "$3"))
_PG_DRAFT = _PG_UPSERT.format("$3", "$2", "$4", "$5", "$6", "$7", "$8", "$1", "$1")


@functools.lru_cache(maxsize=256)  # (a step's few statements, rewritten once each, not on every call)
def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2…`` (our statements hold no ``?`` in literals)."""
    if "?" not in sql:
        return sql
    parts = sql.split("?")
    return parts[0] + "".join(f"${i}{p}" for i, p in enumerate(parts[1:], start=1))


class PgChatStore(ChatStore):
    """The store on PostgreSQL: asyncpg connections of a SQLAlchemy engine of its own (no ``pool_pre_ping``), so
    that a step's filing can run the ORM inside the step's very transaction (:meth:`tx_orm`). The step's own
    statements go to the asyncpg connection directly; the ORM session's transaction is a savepoint in it."""

    dialect = "postgresql"
    inline_orm = True

    def __init__(self, engine: Any, size: int = 10):
        self.engine, self.size = engine, size
        self._idle: list[tuple[Any, Any]] = []  # (SQLAlchemy connection, its asyncpg connection), kept checked out
        self._slots: asyncio.Semaphore | None = None

    @classmethod
    async def connect(cls, url: str, *, size: int = 10) -> PgChatStore:
        from sqlalchemy.ext.asyncio import create_async_engine

        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        return cls(create_async_engine(url, pool_size=size, max_overflow=0, hide_parameters=True), size)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[tuple[Any, Any]]:
        """(a SQLAlchemy connection, its asyncpg connection), for one transaction. The store keeps up to ``size``
        of them checked out of its engine and hands them round itself: a checkout through SQLAlchemy's pool costs
        more CPU than the step's statements. A connection the server closed (a restart, an administrator's
        ``pg_terminate_backend``) is dropped and another opened, as asyncpg's own pool does (no ping)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        async with self._slots:
            pair = None
            while self._idle and pair is None:
                pair = self._idle.pop()
                if pair[1].is_closed():
                    await self._drop(pair)
                    pair = None
            if pair is None:
                sa = await self.engine.connect()
                pair = (sa, (await sa.get_raw_connection()).driver_connection)
            try:
                yield pair
            finally:
                await self._give(pair)

    async def _give(self, pair: tuple[Any, Any]) -> None:
        conn, healthy = pair[1], True
        try:
            if not conn.is_closed() and conn.is_in_transaction():  # (our own blocks end theirs)
                await conn.execute("ROLLBACK")
        except Exception:
            healthy = False
        if healthy and not conn.is_closed():
            self._idle.append(pair)
        else:
            await self._drop(pair)

    @staticmethod
    async def _drop(pair: tuple[Any, Any]) -> None:
        """Give a broken connection back to the engine, which closes it (the next checkout opens another)."""
        sa = pair[0]
        try:
            with contextlib.suppress(Exception):
                await sa.invalidate()
        finally:
            await sa.close()

    @asynccontextmanager
    async def transaction(self, user_key: str) -> AsyncIterator[ChatTx]:
        async with self._connection() as (sa, conn), self._tx(sa, conn) as tx:
            row = await conn.fetchrow(_PG_LOCK, user_key)
            if row is None:
                raise NotHere("no conversation row yet")
            data, lang, revision = row
            officer, join, primary, drafts = await conn.fetchrow(_PG_LOAD, user_key)
            rows = ChatRows(user_key, officer, join, primary, json.loads(data), lang, revision)
            rows.drafts = [{"id": i, "procedure": p, "version": v, "answers": _answers_value(a),
                            "history": h or [], "revision": r}
                           for i, p, v, a, h, r in (json.loads(drafts) if drafts else ())]
            tx.set_rows(rows)
            yield tx

    @asynccontextmanager
    async def _tx(self, sa: Any, conn: Any) -> AsyncIterator[ChatTx]:
        """A transaction on ``conn``; an ORM session opened in it (:meth:`ChatTx.orm`) commits its savepoint
        before the transaction commits, and is closed (its savepoint rolled back) before a rollback."""
        tx = ChatTx(self, conn, None)
        tx.sa_connection = sa
        outer = conn.transaction()
        await outer.start()
        try:
            yield tx
            if tx.orm_session is not None:
                await tx.orm_session.commit()
        except BaseException:
            try:
                if tx.orm_session is not None:
                    await tx.orm_session.close()
            finally:
                await outer.rollback()
            raise
        else:
            await outer.commit()
        finally:
            if tx.orm_session is not None:
                await tx.orm_session.close()

    def tx_orm(self, tx: ChatTx | None = None) -> Any | None:
        if not self.inline_orm or tx is None or tx.sa_connection is None:
            return None
        from sqlalchemy.ext.asyncio import AsyncSession

        return AsyncSession(bind=tx.sa_connection, expire_on_commit=False)

    async def save(self, tx: ChatTx, data: dict[str, Any], lang: str, drafts: list[dict[str, Any]],
                   deleted: list[str], now: datetime) -> None:
        conn, key = tx.conn, tx.rows.user_key
        if deleted:
            await conn.execute("DELETE FROM drafts WHERE user_key = $1 AND procedure_id = ANY($2::text[])",
                               key, deleted)
        with_conversation = True  # the conversation's row goes with the first draft's, in one round trip
        for d in drafts:
            draft = (d["id"], d["procedure"], d["version"], _answers_out(d["answers"]), _dump(d["history"]),
                     d["revision"])
            if with_conversation:
                await conn.execute(_PG_SAVE_WITH_DRAFT, _dump(data), lang, now, key, *draft)
                with_conversation = False
            else:
                await conn.execute(_PG_DRAFT, now, key, *draft)
        if with_conversation:
            await conn.execute(_PG_SAVE, _dump(data), lang, now, key)

    @asynccontextmanager
    async def write(self, *, single: bool = False) -> AsyncIterator[ChatTx]:
        async with self._connection() as (sa, conn):
            if single:
                yield ChatTx(self, conn, None, single=True)
                return
            async with self._tx(sa, conn) as tx:
                yield tx

    @asynccontextmanager
    async def read(self) -> AsyncIterator[ChatTx]:
        async with self._connection() as (_sa, conn):
            yield ChatTx(self, conn, None)

    async def fetch(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await tx.conn.fetch(_numbered(sql), *params)]

    async def execute(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> int:
        status = await tx.conn.execute(_numbered(sql), *params)
        try:
            return int(str(status).rsplit(" ", 1)[-1])
        except ValueError:
            return 0

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for sa, _conn in idle:
            await sa.close()
        await self.engine.dispose()


async def open_chat_store(url: str, *, busy_seconds: float = 30.0) -> ChatStore | None:
    """The store for a database URL (as :func:`storage.db.database_url` normalises it), or None where there is
    none (an in-memory SQLite database: each connection would see its own)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        return SqliteChatStore(path, busy_seconds)
    if url.startswith("postgresql"):
        return await PgChatStore.connect(url)
    return None
