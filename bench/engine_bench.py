"""How fast is a chat step, and what does keeping a conversation cost?

Runs complete funeral-support conversations (``ho-tro-chi-phi-mai-tang``: ~30 messages from the menu to
the submitted dossier, one photo attached) for many citizens and prints a small table:

* the real ``Runtime`` on a SQLite file: one transaction per message (load the conversation and its
  draft, run the engine, save, store the photo, submit) — one user after another, and many users at
  once on one asyncio loop;
* BASELINES measured in the same run, to show what persistence costs:
  - the bare engine on an in-memory ``Session`` (no database at all),
  - the bare engine plus the JSON round trip of the session the runtime does on every message,
  - a bare SQLite single-row ``UPDATE`` + ``COMMIT`` per message on the same kind of file (WAL,
    ``synchronous=NORMAL``, aiosqlite), with a payload the size of a real conversation;
* memory: bytes stored per in-flight conversation (the conversation and draft rows, and the growth of
  the database file) and Python memory per in-flight session (tracemalloc).

    python bench/engine_bench.py           # full run, well under a minute
    python bench/engine_bench.py --quick   # about five seconds
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/engine_bench.py` without installing
    sys.path.insert(0, str(ROOT))

from bot.service import Runtime  # noqa: E402
from dialogs.catalog import Catalog  # noqa: E402
from dialogs.engine import Draft, Engine, Session  # noqa: E402
from dialogs.messages import Ask, Incoming, IncomingFile  # noqa: E402
from dialogs.protocol import Submit, Submitted  # noqa: E402

PROC = "ho-tro-chi-phi-mai-tang"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # a Monday morning
TODAY = NOW.date()


def photo(n: int) -> bytes:
    """A small real JPEG (uploads are decoded), different for every citizen (so every one is really stored)."""
    import io

    from PIL import Image
    img = Image.frombytes("L", (64, 64), bytes((n * 7 + i * 13) % 256 for i in range(64 * 64)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85, comment=n.to_bytes(8, "big"))
    return buf.getvalue()


def conversation(n: int) -> list[Incoming]:
    """One citizen's complete conversation, menu to submitted dossier (household, one photo)."""
    t = lambda s: Incoming(text=s)  # noqa: E731
    c = lambda s: Incoming(choice=s)  # noqa: E731
    return [
        c(PROC), t("1"), c("yes"), t("thiên tai"), t(f"Nguyễn Văn An {chr(0x41 + n % 26)}"), t("5/3/1950"), t("nam"),
        t("Kinh"), t("Lâm Đồng"), t("duc trong"), t("Thôn 3"), t("1"), t("10/11/2026"), t("12/11/2026"),
        t("Nghĩa trang thôn 3"), t("1"), t("Nguyễn Văn Bình"), t("01/02/1975"), t("068 075 001 234"),
        t("bỏ qua"), t("Lâm Đồng"), t("Đức Trọng"), t("Thôn 3"), t("có"), t("con trai"), t("0912 345 678"),
        Incoming(file=IncomingFile(data=photo(n), name="giay-bao-tu.jpg")), c("done"), c("confirm"), c("yes"),
    ]


STEPS_PER_CONVERSATION = len(conversation(0)) + 1  # + the bot speaking first
IN_FLIGHT_STEPS = 27  # stop before "done": at the attachment question, the longest draft still open


@dataclass
class Result:
    name: str
    steps: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds per step
    submit_latencies: list[float] = field(default_factory=list)  # the sworn "yes" that files the dossier
    conversations: int = 0
    cpu: float = 0.0  # seconds of CPU of this process (every thread) over the run

    @property
    def rate(self) -> float:
        return self.steps / self.seconds if self.steps and self.seconds else float("nan")

    @property
    def cpu_ms(self) -> float:
        """CPU per step, ms."""
        return self.cpu / self.steps * 1000 if self.steps else float("nan")

    def pct(self, q: float, xs: list[float] | None = None) -> float:
        xs = sorted(self.latencies if xs is None else xs)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def check_turn(replies: list[Any], expect: str | None = None) -> None:
    assert replies and isinstance(replies[-1], Ask), "every turn ends with a question"
    if expect is not None:
        assert replies[-1].field == expect, f"expected {expect}, got {replies[-1].field}"


# --------------------------------------------------------------------------------------------
# baselines without a database


def bare_engine(users: int, *, json_round_trip: bool = False) -> Result:
    engine = Engine(Catalog.load(), today=lambda: TODAY)
    res = Result("engine + JSON round trip" if json_round_trip else "bare engine (in-memory Session)")
    t0, c0 = time.perf_counter(), time.process_time()
    for u in range(users):
        session = Session(user=f"bench:{u}")
        s0 = time.perf_counter()
        check_turn(engine.start(session).replies, "procedure")
        res.latencies.append(time.perf_counter() - s0)
        for msg in conversation(u):
            s0 = time.perf_counter()
            if json_round_trip:  # what the runtime does around every message, minus the database
                data = json.loads(json.dumps(session.conversation_data()))
                drafts = [Draft(**json.loads(json.dumps(asdict(d)))) for d in session.drafts.values()]
                session = Session.from_data(session.user, data, drafts)
            out = engine.handle(session, msg)
            replies = out.replies
            if out.request(Submit) is not None:
                replies = replies + engine.resume(session, Submitted("MT-BENCH", TODAY)).replies
            session.dirty_drafts.clear()
            session.deleted_drafts.clear()
            res.latencies.append(time.perf_counter() - s0)
            check_turn(replies)
        assert session.last_dossier == "MT-BENCH", "the conversation did not reach a submitted dossier"
        res.steps += STEPS_PER_CONVERSATION
        res.conversations += 1
    res.seconds = time.perf_counter() - t0
    res.cpu = time.process_time() - c0
    return res


MENU_TEXTS = ["tôi muốn làm giấy chứng tử cho bố", "ho tro mai tang", "khai sinh cho con", "trợ cấp khuyết tật",
              "xin hỗ trợ làm nhà", "đổi giấy xác nhận khuyết tật"]


def bare_menu(messages: int) -> Result:
    """Typed text at the menu (matched against the menu's labels, then the procedures' vocabulary), on the bare
    engine: the fuzzy matching a chat costs when people type instead of pressing."""
    engine = Engine(Catalog.load(), today=lambda: TODAY)
    res = Result("bare engine, typed text at the menu")
    session = Session(user="bench:menu")
    engine.start(session)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(messages):
        for msg in (Incoming(text=MENU_TEXTS[i % len(MENU_TEXTS)]), Incoming(text="menu")):
            s0 = time.perf_counter()
            check_turn(engine.handle(session, msg).replies)
            res.latencies.append(time.perf_counter() - s0)
            res.steps += 1
    res.seconds = time.perf_counter() - t0
    res.cpu = time.process_time() - c0
    res.conversations = 1
    return res


def render_cost(renders: int) -> dict[str, float]:
    """CPU per form PDF rendered in this process (ms): with the fonts parsed once per process (as the form
    worker renders) and, for comparison, parsing the font files on every render (as before)."""
    from dialogs.forms import render as forms

    answers = filed_answers()
    out: dict[str, float] = {}
    try:
        from dialogs.forms import fontcache
    except ImportError:  # a tree without the font cache: only the one way
        fontcache = None  # type: ignore[assignment]
    variants = [("fonts parsed once per process", None), ("font files parsed on every render", False)] \
        if fontcache is not None else [("as shipped", None)]
    for name, covers in variants:
        saved = fontcache.covers if fontcache is not None else None
        if covers is False and fontcache is not None:
            fontcache.covers = lambda chars: False  # type: ignore[assignment]
        try:
            forms.render_pdf(PROC, answers, submitted_at=NOW, code="MT-BENCH")  # first use: imports, caches
            c0 = time.process_time()
            for _ in range(renders):
                forms.render_pdf(PROC, answers, submitted_at=NOW, code="MT-BENCH")
            out[name] = (time.process_time() - c0) / max(1, renders) * 1000
        finally:
            if fontcache is not None and saved is not None:
                fontcache.covers = saved  # type: ignore[assignment]
    return out


def filed_answers() -> dict[str, Any]:
    """The answers of one complete funeral conversation, as the engine files them."""
    engine = Engine(Catalog.load(), today=lambda: TODAY)
    session = Session(user="bench:render")
    engine.start(session)
    for msg in conversation(0):
        out = engine.handle(session, msg)
        sub = out.request(Submit)
        if sub is not None:
            return dict(sub.answers)
    raise AssertionError("the conversation did not reach the filing step")


# --------------------------------------------------------------------------------------------
# baseline: the bare database write


async def bare_sqlite(path: Path, steps: int, payload_bytes: int) -> Result:
    """One row, UPDATE + COMMIT per step, same file settings as storage/db.py, same driver."""
    import aiosqlite

    res = Result("bare SQLite UPDATE+COMMIT per step")
    payload = json.dumps({"answers": "x" * max(payload_bytes - 20, 0)})
    async with aiosqlite.connect(path, isolation_level=None) as db:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            await db.execute(f"PRAGMA {pragma}")
        await db.execute("CREATE TABLE IF NOT EXISTS conv (user_key TEXT PRIMARY KEY, data TEXT, revision INT)")
        await db.execute("INSERT OR REPLACE INTO conv VALUES ('bench', '{}', 0)")
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(steps):
            s0 = time.perf_counter()
            await db.execute("BEGIN IMMEDIATE")
            await db.execute("UPDATE conv SET data = ?, revision = ? WHERE user_key = 'bench'", (payload, i))
            await db.execute("COMMIT")
            res.latencies.append(time.perf_counter() - s0)
        res.seconds = time.perf_counter() - t0
        res.cpu = time.process_time() - c0
    res.steps = steps
    return res


# --------------------------------------------------------------------------------------------
# the real runtime


async def open_runtime(workdir: Path, name: str, *, lean: bool = True) -> Runtime:
    """The real runtime on a SQLite file; ``lean=False``: every step on the ORM path (the step before the lean
    store, storage/chatstore/), for the before/after rows of one run."""
    try:
        rt = Runtime(f"sqlite+aiosqlite:///{workdir}/{name}.db", var_dir=workdir / f"{name}-var", now=lambda: NOW,
                     lean=lean)
    except TypeError:  # a tree without the lean step
        rt = Runtime(f"sqlite+aiosqlite:///{workdir}/{name}.db", var_dir=workdir / f"{name}-var", now=lambda: NOW)
    return await rt.open()


async def orm_rows(workdir: Path, args: argparse.Namespace) -> list[Result]:
    """The same runs with every step on the ORM path (before the lean step), in the same run."""
    rt = await open_runtime(workdir, "runtime-orm", lean=False)
    copies = FormCopyJob(rt)
    try:
        await one_citizen(rt, "bench:warm-up", 0, Result("warm-up"))
        await copies.start()
        seq = await runtime_run(rt, "before: ORM step, one user at a time", concurrency=1,
                                budget=args.budget, max_users=args.users)
        con = await runtime_run(rt, f"before: ORM step, {args.concurrency} users at once",
                                concurrency=args.concurrency, budget=args.budget, max_users=args.users)
    finally:
        await copies.finish()
        await rt.close()
    return [seq, con]


async def one_citizen(rt: Runtime, user: str, n: int, res: Result, steps: int | None = None) -> None:
    msgs = conversation(n)[: steps]
    s0 = time.perf_counter()
    check_turn(await rt.start(user), "procedure")
    res.latencies.append(time.perf_counter() - s0)
    for i, msg in enumerate(msgs):
        s0 = time.perf_counter()
        replies = await rt.handle(user, msg)
        took = time.perf_counter() - s0
        res.latencies.append(took)
        if steps is None and i == len(msgs) - 1:
            res.submit_latencies.append(took)
        check_turn(replies)
    res.steps += len(msgs) + 1
    res.conversations += 1
    if steps is None:
        assert any(getattr(r, "dossier", None) for r in replies), "no dossier at the end"


async def runtime_run(rt: Runtime, name: str, *, concurrency: int, budget: float, max_users: int) -> Result:
    """Complete conversations by ``concurrency`` users at a time, new citizens starting until the time
    budget is spent (every started conversation is finished, each user does at least one)."""
    res = Result(name)
    users = itertools.count()
    deadline = time.perf_counter() + budget

    async def worker() -> None:  # every worker finishes at least one conversation
        while (u := next(users)) < max_users:
            await one_citizen(rt, f"bench:{name}:{u}", u, res)
            if time.perf_counter() >= deadline:
                return

    t0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    res.seconds = time.perf_counter() - t0
    res.cpu = time.process_time() - c0
    return res


# --------------------------------------------------------------------------------------------
# the form copies: an outbox job


class FormCopyJob:
    """The outbox notifier delivering the citizens' form copies (rendered in the form worker process) while the
    runtime runs, as the channel processes do. On a tree where the filing step renders the PDF itself (no
    bot/formcopy.py) there is nothing to run."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.task: asyncio.Task | None = None
        self.stop = asyncio.Event()
        self.took: list[float] = []
        self.notifier: Any = None
        try:
            from bot import formcopy
            from bot.notifier import MemorySender, Notifier
        except ImportError:
            return
        self.sender = MemorySender("bench")
        self.notifier = Notifier(rt.sm, [self.sender], kinds=[formcopy.KIND], write=rt.orm_write)
        prepare = formcopy.attach(self.notifier, rt)

        async def timed(payload: dict[str, Any]) -> dict[str, Any]:
            s0 = time.perf_counter()
            try:
                return await prepare(payload)
            finally:
                self.took.append(time.perf_counter() - s0)
        self.notifier.preparers[formcopy.KIND] = timed

    async def start(self) -> None:
        if self.notifier is not None:
            await self.notifier.drain()  # the warm-up's copy (starts the worker process)
            self.took.clear()
            self.task = asyncio.create_task(self.notifier.run(stop=self.stop, idle=0.05))

    async def finish(self) -> None:
        if self.task is not None:
            self.stop.set()
            await self.task
            self.task = None
            await self.notifier.drain()

    def figures(self) -> dict[str, Any]:
        xs = sorted(self.took)
        return {"delivered": len(self.sender.sent) if self.notifier is not None else None,
                "render_p50_ms": xs[len(xs) // 2] * 1000 if xs else None}

    def summary(self, filed: int) -> str:
        if self.notifier is None:
            return "form copies: rendered inside the filing step (this tree has no outbox job for them)"
        f = self.figures()
        p50 = f"{f['render_p50_ms']:.0f} ms" if f["render_p50_ms"] is not None else "–"
        return (f"form copies: {f['delivered']} of {filed} dossiers delivered from the outbox as follow-up "
                f"documents, rendered in the form worker process (wall p50 {p50} each, while the chats ran)")


# --------------------------------------------------------------------------------------------
# memory


@dataclass
class Memory:
    conversations: int
    conv_row: float  # JSON bytes of the conversation row, per conversation
    draft_row: float  # JSON bytes (answers + history) of the draft row, per conversation
    row_bytes: float  # every column of both rows, per conversation
    file_bytes: float  # growth of the database file, per conversation
    python_bytes: float  # tracemalloc, per in-flight Session (with its draft), as the runtime loads it
    dossier_row: float  # bytes of a submitted dossier row (answers JSON), for comparison


async def memory(rt: Runtime, db_path: Path, conversations: int, sessions: int) -> Memory:
    from sqlalchemy import text

    from storage.repo import ConversationRepo

    scratch = Result("memory")

    async def size() -> int:
        # fold the write-ahead log into the main file, from a separate plain connection (the
        # runtime's connections open BEGIN IMMEDIATE transactions, where a checkpoint is refused)
        def checkpoint() -> int:
            with sqlite3.connect(db_path) as plain:
                plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return db_path.stat().st_size
        return await asyncio.to_thread(checkpoint)

    before = await size()
    for u in range(conversations):
        await one_citizen(rt, f"bench:mem:{u}", u, scratch, steps=IN_FLIGHT_STEPS)
    grown = await size() - before
    async with rt.db_engine.connect() as conn:
        q = lambda sql: conn.execute(text(sql))  # noqa: E731
        conv = (await q("SELECT sum(length(CAST(data AS BLOB))), sum(length(CAST(user_key AS BLOB)) + "
                        "length(CAST(data AS BLOB)) + length(lang) + 8 + length(updated_at)) "
                        "FROM conversations WHERE user_key LIKE 'bench:mem:%'")).one()
        draft = (await q("SELECT sum(length(CAST(answers AS BLOB)) + length(CAST(history AS BLOB))), "
                         "sum(length(id) + length(CAST(user_key AS BLOB)) + length(procedure_id) + 8 + 8 + "
                         "length(CAST(answers AS BLOB)) + length(CAST(history AS BLOB)) + length(created_at) "
                         "+ length(updated_at)) FROM drafts WHERE user_key LIKE 'bench:mem:%'")).one()
        dossier = (await q("SELECT avg(length(CAST(answers AS BLOB))) FROM dossiers")).scalar_one()

    # Python memory of in-flight sessions, built from the stored rows exactly as the runtime does
    async with rt.sm() as db:
        rows = [await ConversationRepo(db).load(f"bench:mem:{u}", lock=False)
                for u in range(min(sessions, conversations))]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    held = [Runtime.session_from_rows(f"bench:mem:{i}", *rows[i % len(rows)]) for i in range(sessions)]
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert all(s.draft is not None and s.pending for s in held), "the sessions are not in flight"
    n = conversations
    return Memory(n, conv[0] / n, draft[0] / n, (conv[1] + draft[1]) / n, grown / n, used / sessions,
                  float(dossier or 0))


# --------------------------------------------------------------------------------------------


def table(results: list[Result], engine: Result, sqlite: Result) -> str:
    head = f"{'scenario':44s} {'convs':>5s} {'steps':>6s} {'steps/s':>8s} {'p50 ms':>7s} {'p99 ms':>8s} " \
           f"{'CPU ms':>7s} {'÷engine':>8s} {'÷SQLite':>8s} {'CPU÷eng':>8s}"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r.name:44s} {r.conversations:5d} {r.steps:6d} {r.rate:8.0f} {r.pct(0.50):7.2f} "
                     f"{r.pct(0.99):8.2f} {r.cpu_ms:7.3f} {engine.rate / r.rate:7.1f}x {sqlite.rate / r.rate:7.1f}x "
                     f"{r.cpu_ms / engine.cpu_ms:7.1f}x")
    lines.append("÷engine, ÷SQLite: how many times slower than the bare-engine and bare-SQLite baselines; CPU ms: "
                 "CPU of this process (every thread) per step, which a busy machine disturbs less than wall time; "
                 "CPU÷eng: that over the bare engine's")
    return "\n".join(lines)


def human_bytes(n: float) -> str:
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n:.0f} B"


async def run(args: argparse.Namespace, workdir: Path, out: Callable[[str], None]) -> dict[str, Any]:
    started = time.perf_counter()
    bare_engine(2)  # warm up
    engine = bare_engine(args.engine_users)
    roundtrip = bare_engine(args.engine_users, json_round_trip=True)
    menu = bare_menu(args.menu_messages)
    rt = await open_runtime(workdir, "runtime")
    copies = FormCopyJob(rt)
    try:
        # warm up: first-use costs (caches, lazily loaded fonts for the form PDF) are not what is measured
        await one_citizen(rt, "bench:warm-up", 0, Result("warm-up"))
        await copies.start()  # the form copies are rendered from the outbox while the chats go on, as in production
        seq = await runtime_run(rt, "runtime (lean step), one user at a time", concurrency=1,
                                budget=args.budget, max_users=args.users)
        con = await runtime_run(rt, f"runtime (lean step), {args.concurrency} users at once",
                                concurrency=args.concurrency, budget=args.budget, max_users=args.users)
        await copies.finish()
        mem = await memory(rt, workdir / "runtime.db", args.memory_conversations, args.sessions)
        lean = (getattr(rt, "lean_turns", 0), getattr(rt, "lean_fallbacks", 0), getattr(rt, "lean_outside", 0))
    finally:
        await copies.finish()
        await rt.close()
    before = [] if args.no_orm else await orm_rows(workdir, args)
    sqlite = await bare_sqlite(workdir / "bare.db", args.sqlite_steps, int(mem.conv_row + mem.draft_row))
    renders = render_cost(args.renders)
    results = [engine, roundtrip, menu, sqlite, *before, seq, con]

    out(f"dvcbot engine benchmark: complete funeral conversations ({STEPS_PER_CONVERSATION} steps each, menu to "
        f"dossier, one photo), Python {sys.version.split()[0]}")
    out("")
    out(table(results, engine, sqlite))
    out("")
    other = [x for x in seq.latencies if x not in set(seq.submit_latencies)]
    per_step = statistics.mean(other) * 1000 if other else float("nan")
    out(f"runtime step, one user at a time: {per_step:.2f} ms on average without the filing step, which takes "
        f"p50 {seq.pct(0.5, seq.submit_latencies):.1f} ms (dossier, agency leg, notifications; "
        f"see the form copies below); "
        f"with {args.concurrency} users at once the filing step takes p50 {con.pct(0.5, con.submit_latencies):.1f} ms")
    out(f"persistence: {per_step - 1000 / engine.rate:.2f} ms per step over the bare engine "
        f"({1000 / engine.rate:.2f} ms), against {1000 / sqlite.rate:.3f} ms for a bare UPDATE+COMMIT")
    out(f"lean step: {lean[0]} steps on the chat's own rows, {lean[1]} handed to the ORM path (none: "
        f"the filing too is lean, its rows on the driver), "
        f"{lean[2]} run again after storing a photo outside the transaction; runtime ÷ bare engine, one user: "
        f"{seq.rate / engine.rate:.2f}x in steps/s, {engine.cpu_ms / seq.cpu_ms:.2f}x in CPU per step"
        + (f" (before: {before[0].rate / engine.rate:.2f}x and {engine.cpu_ms / before[0].cpu_ms:.2f}x)"
           if before else ""))
    out(copies.summary(seq.conversations + con.conversations + 1))
    out("form PDF, CPU per render in one process: " + "; ".join(f"{k} {v:.0f} ms" for k, v in renders.items()))
    out("")
    out(f"per in-flight conversation (stopped at the photo question; {mem.conversations} stored):")
    out(f"  stored JSON: conversation {human_bytes(mem.conv_row)} + draft {human_bytes(mem.draft_row)}; "
        f"whole rows {human_bytes(mem.row_bytes)}; database file growth {human_bytes(mem.file_bytes)}")
    out(f"  Python: {human_bytes(mem.python_bytes)} per Session loaded with its draft (tracemalloc over "
        f"{args.sessions}); the runtime holds one only while that chat's message is handled")
    out(f"  for comparison, a submitted dossier's answers: {human_bytes(mem.dossier_row)}")
    out(f"\ntotal {time.perf_counter() - started:.1f} s")
    return {"renders_cpu_ms": renders, "form_copies": copies.figures(),
            "results": {r.name: {"conversations": r.conversations, "steps": r.steps, "steps_per_s": r.rate,
                                 "p50_ms": r.pct(0.5), "p99_ms": r.pct(0.99),
                                 "submit_p50_ms": r.pct(0.5, r.submit_latencies), "cpu_ms_per_step": r.cpu_ms}
                        for r in results},
            "memory": asdict(mem)}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="a run of about five seconds")
    p.add_argument("--budget", type=float, help="seconds for each runtime run (sequential, concurrent)")
    p.add_argument("--users", type=int, help="at most this many conversations in each runtime run")
    p.add_argument("--concurrency", type=int, help="users at once in the concurrent run")
    p.add_argument("--engine-users", type=int, help="conversations for the bare-engine baselines")
    p.add_argument("--sqlite-steps", type=int, help="UPDATE+COMMIT steps for the bare SQLite baseline")
    p.add_argument("--memory-conversations", type=int, help="in-flight conversations stored for the memory figures")
    p.add_argument("--sessions", type=int, help="sessions held for the tracemalloc figure")
    p.add_argument("--menu-messages", type=int, help="typed texts at the menu for the bare-engine menu figure")
    p.add_argument("--renders", type=int, help="form PDFs rendered for the CPU-per-render figure")
    p.add_argument("--dir", type=Path, help="work in this folder (default: a temporary one)")
    p.add_argument("--json", action="store_true", help="also print the figures as JSON")
    p.add_argument("--no-orm", action="store_true", help="skip the before rows (every step on the ORM path)")
    return p


FULL = dict(budget=12.0, users=10_000, concurrency=16, engine_users=200, sqlite_steps=5000, memory_conversations=40,
            sessions=500, menu_messages=500, renders=5)
QUICK = dict(budget=0.5, users=10_000, concurrency=4, engine_users=20, sqlite_steps=500, memory_conversations=5,
             sessions=100, menu_messages=30, renders=1)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for k, v in (QUICK if args.quick else FULL).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    # the benchmark's database has no officers: each filing's "leg has no officer to tell" is expected here
    logging.getLogger("dvcbot.cases").addFilter(lambda r: "has no officer" not in str(r.msg))
    with tempfile.TemporaryDirectory(prefix="dvcbot-bench-") as tmp:
        workdir = args.dir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        figures = asyncio.run(run(args, workdir, print))
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
