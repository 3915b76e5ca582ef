"""Shared fixtures: real databases (SQLite files; PostgreSQL when DVCBOT_TEST_PG is set) and a chat driver.

`.ci/run` starts a real PostgreSQL server and sets DVCBOT_TEST_PG, so in CI
every test that takes the ``db_url`` fixture runs on both backends. Without
it (a developer machine with no server) the PostgreSQL variants are skipped.
"""
from __future__ import annotations

import asyncio
import functools
import io
import os
import shutil
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.service import Runtime
from dialogs.catalog import Catalog
from dialogs.messages import Ask, Incoming, IncomingFile, Message
from storage.db import upgrade, upgrade_sync

# the keyed hashes of ID numbers (storage/keys.py) use this key in tests, never a file in the worktree
os.environ.setdefault("DVCBOT_SECRET_KEY", "test-only-secret-key-0123456789abcdef")
os.environ.setdefault("DVCBOT_DATA_KEYS", "dGVzdC1vbmx5LWRhdGEta2V5LTAxMjM0NTY3ODlhYmM=")  # a Fernet key, tests only

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIXTURES = Path(__file__).parent / "fixtures"
PG = os.environ.get("DVCBOT_TEST_PG")

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG, reason="no PostgreSQL server: set DVCBOT_TEST_PG (.ci/run does)"))]


def shared_catalog() -> Catalog:
    """The procedure catalogue, loaded once per test session (loading takes a second or two): the process's
    Catalog.default(). Every test that needs the real catalogue, and every Runtime a test builds, uses this
    one; tests never modify it."""
    return Catalog.default()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """One SQLite database migrated with Alembic, as in production, once per test session; each test gets
    a copy of the file, which is much faster than migrating a fresh database for every test."""
    path = tmp_path_factory.mktemp("template") / "dvcbot.db"
    with ThreadPoolExecutor(1) as pool:  # Alembic's env runs its own event loop: not on the test's thread
        pool.submit(upgrade_sync, f"sqlite+aiosqlite:///{path}").result()
    return path


def _sqlite_copy(template: Path, directory: Path) -> str:
    path = directory / "dvcbot.db"
    shutil.copy2(template, path)  # with its mode: private (0600), as upgrade() leaves a database file
    return f"sqlite+aiosqlite:///{path}"


_PG_TEMPLATE: list[str] = []  # one migrated database per test process, copied for every test


def _pg_url(name: str) -> str:
    base = PG.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)


async def _pg_template(conn) -> str:
    """Create and migrate (with Alembic, as in production) a template database once; copying it with
    CREATE DATABASE ... TEMPLATE is much faster than migrating a fresh database for every test."""
    if not _PG_TEMPLATE:
        name = f"tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        await conn.execute(f'CREATE DATABASE "{name}"')
        await upgrade(_pg_url(name))
        _PG_TEMPLATE.append(name)
    return _PG_TEMPLATE[0]


async def _pg_database() -> tuple[str, str]:
    import asyncpg
    name = "t_" + uuid.uuid4().hex[:12]
    conn = await asyncpg.connect(PG)
    try:
        template = await _pg_template(conn)
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return _pg_url(name), name


async def _tasks_end_with_their_test_impl() -> None:
    me = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    if not left:
        return
    for t in left:
        t.cancel()
    _done, stuck = await asyncio.wait(left, timeout=5)
    for t in stuck:
        # a task that ignores its cancellation (it waits, in a finally, for a future nothing will ever set) would
        # hang the event loop's close for good: fail that future, say which task it was, and go on
        warnings.warn(f"a task outlived its test and ignored cancellation: {t!r}", RuntimeWarning, stacklevel=1)
        waiter = getattr(t, "_fut_waiter", None)
        if waiter is not None and not waiter.done():
            waiter.cancel()
    if stuck:
        await asyncio.wait(stuck, timeout=5)


@pytest.fixture
async def _tasks_end_with_their_test():
    """Every task an async test started ends with it (see pytest_collection_modifyitems)."""
    yield
    await _tasks_end_with_their_test_impl()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if asyncio.iscoroutinefunction(getattr(item, "function", None)) and \
                "_tasks_end_with_their_test" not in item.fixturenames:
            item.fixturenames.insert(0, "_tasks_end_with_their_test")


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_template():
    yield
    if _PG_TEMPLATE:
        asyncio.run(_pg_drop(_PG_TEMPLATE.pop()))


async def _pg_drop(name: str) -> None:
    import asyncpg
    conn = await asyncpg.connect(PG)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
async def db_url(request, tmp_path, _sqlite_template):
    """A migrated, empty database: a copy of the session's template on either backend."""
    if request.param == "sqlite":
        yield _sqlite_copy(_sqlite_template, tmp_path)
        return
    url, name = await _pg_database()
    try:
        yield url
    finally:
        await _pg_drop(name)


@pytest.fixture
async def pg_url():
    """A migrated, empty PostgreSQL database, for what only PostgreSQL has (skipped without a server)."""
    if not PG:
        pytest.skip("no PostgreSQL server: set DVCBOT_TEST_PG (.ci/run does)")
    url, name = await _pg_database()
    try:
        yield url
    finally:
        await _pg_drop(name)


@pytest.fixture
def sqlite_url(tmp_path, _sqlite_template):
    return _sqlite_copy(_sqlite_template, tmp_path)


class FixedClock:
    def __init__(self, when: datetime):
        self.when = when

    def __call__(self) -> datetime:
        return self.when


@pytest.fixture
def clock():
    # Monday 23 November 2026, 09:00 in Vietnam
    return FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=VN))


@pytest.fixture
async def runtime(db_url, tmp_path, clock):
    rt = Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog())
    await rt.open(migrate=False)  # db_url is already migrated
    try:
        yield rt
    finally:
        await rt.close()


class Chat:
    """Drives the runtime as a person would, and remembers what the bot said."""

    def __init__(self, runtime: Runtime, user: str = "console:test"):
        self.rt = runtime
        self.user = user
        self.replies: list[Any] = []
        self.transcript: list[str] = []

    async def start(self) -> Chat:
        self._got(await self.rt.start(self.user))
        return self

    def _got(self, replies):
        self.replies = replies
        for r in replies:
            self.transcript.append(("BOT? " if isinstance(r, Ask) else "BOT: ") + r.text)
        assert replies and isinstance(replies[-1], Ask), "every turn ends with exactly one question"
        assert sum(isinstance(r, Ask) for r in replies) == 1

    async def say(self, text: str) -> Chat:
        self.transcript.append("YOU: " + text)
        self._got(await self.rt.handle(self.user, Incoming(text=text)))
        return self

    async def press(self, value: str) -> Chat:
        self.transcript.append("YOU [button]: " + value)
        self._got(await self.rt.handle(self.user, Incoming(choice=value)))
        return self

    async def send_file(self, data: bytes, name: str = "anh.jpg") -> Chat:
        self.transcript.append(f"YOU [file]: {name}")
        self._got(await self.rt.handle(self.user, Incoming(file=IncomingFile(data=data, name=name))))
        return self

    @property
    def ask(self) -> Ask:
        return self.replies[-1]

    @property
    def field(self) -> str:
        return self.ask.field

    @property
    def messages(self) -> list[Message]:
        return [r for r in self.replies if isinstance(r, Message)]

    @property
    def error(self) -> Message | None:
        return next((m for m in self.messages if m.error), None)

    @property
    def dossier(self) -> str | None:
        return next((m.dossier for m in self.messages if m.dossier), None)

    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    async def answers(self) -> dict:
        s = await self.rt.session(self.user)
        return dict(s.draft.answers) if s.draft else {}

    async def expect(self, field: str) -> Chat:
        assert self.field == field, f"expected {field}, bot asks {self.field}: {self.ask.text}\n" + \
            "\n".join(self.transcript[-6:])
        return self


@pytest.fixture
async def chat(runtime):
    return await Chat(runtime).start()


@functools.cache
def jpeg(n: int = 0) -> bytes:
    """A small real JPEG (uploads are decoded), different for each ``n``."""
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), ((n * 37) % 256, (n * 11) % 256, n % 256)).save(buf, "JPEG", quality=90,
                                                                               comment=f"test {n}".encode())
    return buf.getvalue()


@functools.cache
def pdf() -> bytes:
    """A small real one-page PDF (uploads are parsed)."""
    from pypdf import PdfWriter
    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()
