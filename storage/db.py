"""Database engines and migrations. SQLite (aiosqlite) by default, PostgreSQL (asyncpg) to scale out."""
from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Insert, Result, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

DEFAULT_URL = "sqlite+aiosqlite:///./var/dvcbot.db"

# Database drivers log every statement with its parameters (the answers: ID numbers, phone numbers, bank
# accounts) at DEBUG/INFO, and database errors quote them unless hide_parameters is set. Personal data never
# goes to the logs, whatever level the application asks for.
for _name in ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg"):
    logging.getLogger(_name).setLevel(logging.WARNING)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(url: str | None = None) -> str:
    url = url or os.environ.get("DVCBOT_DB") or DEFAULT_URL
    if "://" not in url:  # a plain file name: a SQLite database there (``--db var/test.db``)
        url = "sqlite+aiosqlite:///" + url
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def private_sqlite_file(path: str | Path) -> None:
    """The database holds citizens' answers: its folder is created ``0700`` and the file ``0600`` before SQLite
    opens it (SQLite gives its -wal and -shm files the database file's mode). An existing file is tightened."""
    p = Path(path)
    if not p.parent.exists():
        p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        try:
            for f in (p, Path(f"{p}-wal"), Path(f"{p}-shm"), Path(f"{p}-journal")):
                if f.exists() and f.stat().st_mode & 0o077:
                    f.chmod(0o600)
        except OSError:  # pragma: no cover - not ours to change
            pass


def _sqlite_path(url: str) -> str | None:
    path = url.split("///", 1)[1] if "///" in url else ""
    path = path.split("?", 1)[0]
    return path if path and path != ":memory:" and not path.startswith("file:") else None


def make_engine(url: str | None = None) -> AsyncEngine:
    url = database_url(url)
    if is_sqlite(url):
        path = _sqlite_path(url)
        if path:
            private_sqlite_file(path)
        busy = busy_seconds()
        engine = create_async_engine(url, connect_args={"timeout": busy}, hide_parameters=True)
        # A connection invalidated while its task is cancelled (a shutdown, a client gone) is "terminated": a
        # shielded graceful close plus a force close. With aiosqlite 0.22 the two stop its thread twice, the
        # graceful close then waits for a thread that is gone, and that task never ends: a shutdown (or a
        # test's event loop) hangs on it. A plain close has no such race.
        dialect = engine.sync_engine.dialect
        dialect.has_terminate = False
        dialect.do_terminate = dialect.do_close  # type: ignore[method-assign]  # an invalidated one too

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            # Take the write lock when the transaction starts, so read-modify-write of a
            # conversation is serialised even between processes sharing the file; a session opened with
            # :func:`reading` only reads, and takes no lock (WAL: it reads a snapshot beside the writer).
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY_OPTION) else
                                 "BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True)


def busy_seconds() -> float:
    """How long a SQLite statement waits for another process's write lock before it fails (“database is
    locked”): 30 s, or ``$DVCBOT_DB_BUSY_SECONDS``."""
    try:
        return max(0.1, float(os.environ.get("DVCBOT_DB_BUSY_SECONDS", "30")))
    except ValueError:
        return 30.0


#: what a database that is down, locked or out of disk says (SQLite's and PostgreSQL's own words, lower case)
_UNAVAILABLE = ("database is locked", "database table is locked", "disk i/o error", "database or disk is full",
                "unable to open database", "no space left", "disk full", "could not write", "connection refused",
                "connection was closed", "connection is closed", "too many connections", "the database system is",
                "cannot connect now", "server closed the connection", "terminating connection")


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be used right now (down, locked, disk full), as opposed to a
    fault in what we asked of it: the caller keeps what it has and tries again later."""
    import errno

    from sqlalchemy.exc import DBAPIError, InterfaceError
    e: BaseException | None = exc
    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.ECONNREFUSED, errno.EIO):
            return True
        if isinstance(e, ConnectionError | TimeoutError):
            return True
        if isinstance(e, InterfaceError) or (isinstance(e, DBAPIError) and e.connection_invalidated):
            return True  # (an OperationalError such as “no such table” is our fault: only its words below count)
        name = type(e).__name__
        if name in {"CannotConnectNowError", "TooManyConnectionsError", "ConnectionDoesNotExistError",
                    "DiskFullError", "AdminShutdownError", "CrashShutdownError", "PostgresConnectionError"}:
            return True
        if any(w in str(e).lower() for w in _UNAVAILABLE):
            return True
        e = e.__cause__ or e.__context__
    return False


@functools.cache
def insert_or_nothing(model: Any, dialect: str, keys: tuple[str, ...] | None = None,
                      returning: Any = None) -> Insert:
    """An insert of one ``model`` row that inserts nothing where ``keys`` (a unique index; by default any
    unique key) are taken: ``INSERT … ON CONFLICT DO NOTHING`` on ``dialect`` ("sqlite" or "postgresql"),
    with ``RETURNING returning``. Built once per arguments; the row's values are the execution's parameters."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
    stmt = stmt.on_conflict_do_nothing(index_elements=list(keys)) if keys else stmt.on_conflict_do_nothing()
    return stmt.returning(returning) if returning is not None else stmt


def rowcount(result: Result[Any]) -> int:
    """Rows an INSERT, UPDATE or DELETE touched (such a statement's result is a cursor result)."""
    return cast(CursorResult[Any], result).rowcount


READ_ONLY_OPTION = "dvcbot_read_only"


@asynccontextmanager
async def reading(sm: async_sessionmaker) -> AsyncIterator[AsyncSession]:
    """A session that only reads. On SQLite its transaction is a plain ``BEGIN``, not ``BEGIN IMMEDIATE``: it
    neither waits for nor holds up a writer (an idle poll, a report). Writing in it may fail as "locked"."""
    async with sm() as db:
        await db.connection(execution_options={READ_ONLY_OPTION: True})
        yield db


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return cfg


def upgrade_sync(url: str | None = None, revision: str = "heads") -> None:
    url = database_url(url)
    if is_sqlite(url):
        path = _sqlite_path(url)
        if path:
            private_sqlite_file(path)
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """Run Alembic migrations (in a worker thread: Alembic's env runs its own event loop)."""
    url = database_url(url)
    if is_sqlite(url):
        path = _sqlite_path(url)
        if path:
            private_sqlite_file(path)
    await asyncio.to_thread(upgrade_sync, url, revision)


async def reencrypt(url: str | None = None) -> int:
    """Encrypt every sensitive value that is plain or under an older data key with the current one
    (storage/crypto.py; ``dvcbot db rotate-key``). One transaction."""
    from .crypto import reencrypt_rows

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(lambda c: reencrypt_rows(c))
    finally:
        await engine.dispose()
