"""The stores' common part: what a chat's rows are (:class:`ChatRows`), a transaction on the driver
(:class:`ChatTx`), the interface of a store (:class:`ChatStore`), and how a draft's answers and a time are
written, the same on either database as the ORM writes them."""
from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ..crypto import decrypt_text, encrypt_text, is_encrypted
from ..models import utcnow


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


def dump_json(value: Any) -> str:
    """A value as its JSON text, compact and not ASCII-escaped. orjson writes and reads a step's rows about ten
    times faster than the standard library (a draft's answers: 13 µs to 1 µs, read 10 µs to 3.5 µs); keys that
    are not strings are written as strings, as ``json.dumps`` does. What orjson refuses (an integer beyond 64
    bits) is written by the standard library, exactly."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_json(text: str | bytes) -> Any:
    """:func:`dump_json`'s twin: orjson, or the standard library for what orjson refuses (``NaN``, a number
    beyond a double). (orjson reads an integer beyond 64 bits as a float; no answer holds one: numbers and
    amounts are refused from 10^15, dialogs/parsing.py.)"""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return value


def answers_out(answers: dict[str, Any]) -> str:
    """A draft's answers as the column holds them: one encrypted JSON string, as JSON."""
    return dump_json(encrypt_text(dump_json(answers)))


def answers_in(stored: Any) -> dict[str, Any]:
    return answers_value(load_json(stored) if isinstance(stored, str) else stored)


def answers_value(value: Any) -> dict[str, Any]:
    """A draft's answers from the column's JSON value, parsed (an encrypted string, or a plain object)."""
    if is_encrypted(value):
        value = load_json(decrypt_text(value))
    return value if isinstance(value, dict) else {}


def json_in(stored: Any) -> Any:
    return load_json(stored) if isinstance(stored, str | bytes) else stored


@functools.lru_cache(maxsize=256)  # (a step's few statements, rewritten once each, not on every call)
def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2…`` (our statements hold no ``?`` in literals)."""
    if "?" not in sql:
        return sql
    parts = sql.split("?")
    return parts[0] + "".join(f"${i}{p}" for i, p in enumerate(parts[1:], start=1))


def sqlite_time(at: datetime) -> str:
    """An instant as SQLAlchemy's SQLite ``DateTime`` stores it (UTC wall time, no offset)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def column_time(dialect: str, at: datetime) -> Any:
    """An aware instant as the ``UTCDateTime`` column of ``dialect`` takes it from the driver."""
    return sqlite_time(at) if dialect == "sqlite" else at


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
        return column_time(self.dialect, at)

    @staticmethod
    def json(value: Any) -> str:
        return dump_json(value)


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

    async def soon(self, sql: str, *params: Any) -> None:
        """A write whose loss in a crash costs only a repeat, never a wrong state: a turn's replies marked sent
        (lost, they are sent again at the next start, as when the process dies while sending them). Here it runs
        now, in a statement of its own; the SQLite store carries it into its next write transaction instead
        (:class:`~storage.chatstore.sqlite.SqliteChatStore`), which saves a transaction's commit per turn."""
        async with self.write(single=True) as tx:
            await tx.execute(sql, *params)

    async def settle(self) -> None:
        """Write what :meth:`soon` still holds (tests, shutdown)."""

    async def execute(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> int:
        raise NotImplementedError

    async def fetch(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------------------------
# SQLite
