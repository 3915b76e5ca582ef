"""The ORM on the lean writer's own SQLite connection, executed inline on the event loop.

A turn on the ORM path (the filing: dossier, attachments, legs, officer pushes, outbox rows) runs on SQLAlchemy's
async ORM. Through aiosqlite each of its statements is a hop to aiosqlite's thread and back, and between two
statements the event loop runs whatever else is ready: under load a 15 ms filing took hundreds of milliseconds,
holding SQLite's single writer all along. :func:`inline_sessionmaker` gives sessions whose connection is the
lean store's own ``sqlite3`` connection (storage/chatstore/), already inside the store's ``BEGIN IMMEDIATE``
(:meth:`SqliteChatStore.write`): :class:`InlineConnection` has the surface of an ``aiosqlite.Connection`` that
SQLAlchemy's aiosqlite dialect uses, but runs each call at once, so a statement takes microseconds and never
yields to the loop. It never commits or rolls back: the store does, around the whole turn.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool


class InlineCursor:
    """An ``aiosqlite.Cursor``'s surface over a ``sqlite3.Cursor``."""

    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InlineConnection:
    """An ``aiosqlite.Connection``'s surface over a ``sqlite3`` connection in the caller's open transaction."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = self._connection = conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def commit(self) -> None:
        """Not here: the store commits the turn (or rolls it back) as a whole."""

    async def rollback(self) -> None:
        """Not here: the store rolls the turn back if anything in it raised."""

    async def close(self) -> None:
        """The connection is the store's."""

    def stop(self) -> None:
        """The connection is the store's."""


def inline_engine(conn: sqlite3.Connection) -> AsyncEngine:
    """An engine whose every connection is ``conn``, inline (no pool of its own, no thread)."""
    async def connect() -> InlineConnection:
        return InlineConnection(conn)

    return create_async_engine("sqlite+aiosqlite://", async_creator=connect, poolclass=NullPool,
                               hide_parameters=True)


def inline_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
