"""Database engines and migrations. SQLite (aiosqlite) by default, PostgreSQL (asyncpg) to scale out."""
from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Result, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

DEFAULT_URL = "sqlite+aiosqlite:///./var/dvcbot.db"

# Database drivers log every statement with its parameters (the answers: ID numbers, phone numbers, bank
# accounts) at DEBUG/INFO, and database errors quote them unless hide_parameters is set. Personal data never
# goes to the logs, whatever level the application asks for.
for _name in ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg"):
    logging.getLogger(_name).setLevel(logging.WARNING)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(url: str | None = None) -> str:
    url = url or os.environ.get("DVCBOT_DB") or DEFAULT_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str | None = None) -> AsyncEngine:
    url = database_url(url)
    if is_sqlite(url):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            # Take the write lock when the transaction starts, so read-modify-write of a
            # conversation is serialised even between processes sharing the file.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True)


def rowcount(result: Result[Any]) -> int:
    """Rows an INSERT, UPDATE or DELETE touched (such a statement's result is a cursor result)."""
    return cast(CursorResult[Any], result).rowcount


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return cfg


def upgrade_sync(url: str | None = None, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url(url)), revision)


async def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """Run Alembic migrations (in a worker thread: Alembic's env runs its own event loop)."""
    url = database_url(url)
    if is_sqlite(url):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade_sync, url, revision)
