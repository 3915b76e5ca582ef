"""The store on PostgreSQL (see the package's docstring)."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from .base import (
    ChatRows,
    ChatStore,
    ChatTx,
    NotHere,
    answers_out,
    answers_value,
    dump_json,
    load_json,
    numbered,
)

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
_PG_INSERT = ("INSERT INTO conversations (user_key, data, lang, revision, updated_at) VALUES ($1, $2::json, $3, 1, $4) "
              "ON CONFLICT (user_key) DO NOTHING")
_PG_UPSERT = ("INSERT INTO drafts (id, user_key, procedure_id, procedure_version, answers, history, revision, "
              "created_at, updated_at) VALUES ({}, {}, {}, {}, {}::json, {}::json, {}, {}, {}) ON CONFLICT (id) DO "
              "UPDATE SET procedure_version = excluded.procedure_version, answers = excluded.answers, "
              "history = excluded.history, revision = excluded.revision, updated_at = excluded.updated_at")
# a data-modifying WITH runs whether or not the statement reads it: one round trip for both rows
_PG_SAVE_WITH_DRAFT = (f"WITH c AS ({_PG_SAVE}) "
                       + _PG_UPSERT.format("$5", "$4", "$6", "$7", "$8", "$9", "$10", "$3", "$3"))
_PG_DRAFT = _PG_UPSERT.format("$3", "$2", "$4", "$5", "$6", "$7", "$8", "$1", "$1")
# a draft filed or cancelled goes with the conversation's row, in one round trip too
_PG_SAVE_DELETING = ("WITH gone AS (DELETE FROM drafts WHERE user_key = $4 AND procedure_id = ANY($5::text[])) "
                     + _PG_SAVE)


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
            officer, join, primary, drafts = await conn.fetchrow(_PG_LOAD, user_key)
            if row is None:  # a new chat: :meth:`save` inserts its row (or finds another process did, NotHere)
                rows = ChatRows(user_key, officer, join, primary)
            else:
                data, lang, revision = row
                rows = ChatRows(user_key, officer, join, primary, load_json(data), lang, revision)
            rows.drafts = [{"id": i, "procedure": p, "version": v, "answers": answers_value(a),
                            "history": h or [], "revision": r}
                           for i, p, v, a, h, r in (load_json(drafts) if drafts else ())]
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
        if deleted and not drafts and tx.rows.revision is not None:  # (a filing: the draft goes, nothing else)
            await conn.execute(_PG_SAVE_DELETING, dump_json(data), lang, now, key, deleted)
            return
        if deleted:
            await conn.execute("DELETE FROM drafts WHERE user_key = $1 AND procedure_id = ANY($2::text[])",
                               key, deleted)
        with_conversation = True  # the conversation's row goes with the first draft's, in one round trip
        if tx.rows.revision is None:  # a new chat's first step: no row was there to lock
            status = await conn.execute(_PG_INSERT, key, dump_json(data), lang, now)
            if str(status).endswith(" 0"):  # another process made the row meanwhile (and committed): this step
                raise NotHere("the conversation row was created meanwhile")  # is rolled back, run again on it
            tx.rows.revision, with_conversation = 1, False
        for d in drafts:
            draft = (d["id"], d["procedure"], d["version"], answers_out(d["answers"]), dump_json(d["history"]),
                     d["revision"])
            if with_conversation:
                await conn.execute(_PG_SAVE_WITH_DRAFT, dump_json(data), lang, now, key, *draft)
                with_conversation = False
            else:
                await conn.execute(_PG_DRAFT, now, key, *draft)
        if with_conversation:
            await conn.execute(_PG_SAVE, dump_json(data), lang, now, key)

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
        return [tuple(r) for r in await tx.conn.fetch(numbered(sql), *params)]

    async def execute(self, tx: ChatTx, sql: str, params: tuple[Any, ...]) -> int:
        status = await tx.conn.execute(numbered(sql), *params)
        try:
            return int(str(status).rsplit(" ", 1)[-1])
        except ValueError:
            return 0

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for sa, _conn in idle:
            await sa.close()
        await self.engine.dispose()

