"""Soak: 1,000 chats at once over the Telegram webhook for a bounded time, and nothing lost or doubled.

The bot runs in its own process: ``TelegramChannel.webhook_app()`` on a real database (``Runtime``), with the
outbox notifier in the same process as ``dvcbot telegram`` runs it (receipts and the form copies, rendered in
the PDF worker process) — the same bot as bench/telegram_bench.py, rate limits off (Telegram's own 30
messages/s would otherwise be what is measured). This process is the load generator and the fake Bot API
(tests/fakes/telegram_api.py), all on 127.0.0.1. Every chat walks the funeral-support procedure of
telegram_bench (``/start``, button presses, typed answers, a shared contact, one photo, confirm, the sworn
statement → dossier), one update at a time as a person does: it posts the next update once the bot has
processed the previous one and sent its replies (its inbox row is ``done``). When ``--seconds`` are spent no
new update is posted; the ones in flight are awaited, then the notifier is given time to deliver, and:

* **errors**: webhook answers other than 200 (the update is posted again, as Telegram does), updates the
  channel counted as failed, Bot API calls that returned an error;
* **losses**: an update answered 200 but never processed (no ``done`` inbox row within five minutes),
  a turn with no reply at all, an answer typed but missing from the stored draft (chats still walking) or
  from the dossier (chats that finished), an undelivered notification;
* **duplicates**: a turn with more replies than the same step got in the other chats (an update processed
  twice), a second dossier for a chat, a notification that reached the fake API twice;
* reply latency (POST → the last message of the turn at the fake API) p50/p99, updates/s, and the CPU of
  the bot process (its PDF worker included) and of this process.

    python bench/soak_bench.py --pg postgresql://postgres@127.0.0.1:55432/postgres   # 1,000 chats, 3 min
    python bench/soak_bench.py --quick            # 20 chats, a few seconds, SQLite file
    python bench/soak_bench.py --chats 200 --seconds 60 --json
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/soak_bench.py` without installing
    sys.path.insert(0, str(ROOT))

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench import crash_bench  # noqa: E402
from bench.telegram_bench import FUNERAL, HEADERS, NOW, database, photo  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI, Sent  # noqa: E402

# answers the draft (then the dossier) must hold once the step at this index of FUNERAL was processed
ANSWERS = {4: ("deceased.cause", "thien_tai"), 5: ("deceased.full_name", "NGUYỄN VĂN AN"),
           6: ("deceased.birth_date", "1950-03-05"), 15: ("deceased.burial_place", "Nghĩa trang thôn 3"),
           17: ("applicant.full_name", "NGUYỄN VĂN BÌNH"), 18: ("applicant.birth_date", "1975-02-01")}
PROCEDURE = "ho-tro-chi-phi-mai-tang"


@dataclass
class Figures:
    chats: int = 0
    seconds: float = 0.0            # the load window (posting stops at --seconds; in-flight updates awaited)
    updates: int = 0                # updates posted and answered 200
    finished: int = 0               # chats that filed their dossier
    posts_refused: int = 0          # webhook answers other than 200 (or no answer): posted again
    channel_failed: int = 0         # updates the channel marked failed
    api_errors: int = 0             # Bot API calls answered with an error
    never_processed: int = 0        # answered 200, never ``done``
    no_reply: int = 0               # a turn that sent nothing
    answers_lost: int = 0           # a typed answer missing from the draft or the dossier
    undelivered: int = 0            # outbox notifications not delivered
    double_replies: int = 0         # a turn with more replies than the same step elsewhere
    duplicate_dossiers: int = 0
    missing_dossiers: int = 0       # a chat whose last step was processed and has no dossier
    double_notifications: int = 0
    reply_p50_ms: float = float("nan")
    reply_p99_ms: float = float("nan")
    http_p50_ms: float = float("nan")
    http_p99_ms: float = float("nan")
    updates_per_s: float = float("nan")
    bot_cpu_s: float = 0.0          # the bot process and its PDF worker
    load_cpu_s: float = 0.0         # this process: load generator, fake Bot API, the checks' polling
    channel: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.posts_refused + self.channel_failed + self.api_errors

    @property
    def losses(self) -> int:
        return (self.never_processed + self.no_reply + self.answers_lost + self.undelivered
                + self.missing_dossiers)

    @property
    def duplicates(self) -> int:
        return self.double_replies + self.duplicate_dossiers + self.double_notifications

    @property
    def ok(self) -> bool:
        return not (self.errors or self.losses or self.duplicates)


# --------------------------------------------------------------------------------------------
# the bot's process


async def serve_bot(args: argparse.Namespace) -> None:
    """The bot alone in this process (``--serve-bot``): prints its port, serves until SIGTERM, then writes the
    channel's counters to ``--stats``."""
    from bench.telegram_bench import OurBot
    from bot.service import Runtime
    from storage import keys
    keys.configure(args.var)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with Runtime(args.db, var_dir=args.var, now=lambda: NOW) as rt:
        fake = FakeTelegramAPI()  # only its base URL and its update helpers are used: the real one is elsewhere
        fake.base_url = args.api_base
        ours = await OurBot(rt, fake, args.bot_concurrency).start()  # rate limits off, the notifier in-process
        print(f"PORT {ours.poster.url.split(':')[2].split('/')[0]}", flush=True)
        await stop.wait()
        await ours.channel.join(timeout=60)
        stats = asdict(ours.channel.stats)
        await ours.stop()
    Path(args.stats).write_text(json.dumps(stats))


class BotServer:
    """This script with ``--serve-bot`` in a child process (its own process group: the PDF worker with it)."""

    def __init__(self, db: str, workdir: Path, api_base: str, concurrency: int):
        self.stats = workdir / "bot-stats.json"
        self.log = workdir / "bot.log"
        self.cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-bot", "--db-url", db, "--var",
                    str(workdir / "var"), "--api-base", api_base, "--stats", str(self.stats),
                    "--bot-concurrency", str(concurrency)]
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.cpu = 0.0

    async def start(self) -> int:
        err = open(self.log, "ab")  # noqa: SIM115 - the child writes to it until it exits
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                                     cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                                     start_new_session=True)
        err.close()
        line = await asyncio.get_running_loop().run_in_executor(None, self.proc.stdout.readline)  # type: ignore
        if not line.startswith(b"PORT "):
            raise RuntimeError(f"the bot did not start; see {self.log}")
        self.port = int(line.split()[1])
        return self.port

    def cpu_seconds(self) -> float:
        """CPU of the bot process and every live descendant (the PDF worker), from /proc."""
        return sum(proc_cpu(pid) for pid in descendants(self.proc.pid)) if self.proc else 0.0

    def stop(self) -> dict[str, int]:
        assert self.proc is not None
        self.cpu = self.cpu_seconds()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # a worker left behind
        try:
            return json.loads(self.stats.read_text())
        except (OSError, ValueError):
            return {}


def proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):  # a process may end while it is read
            for task in Path(f"/proc/{p}/task").glob("*/children"):
                todo.extend(int(c) for c in task.read_text().split())
    return out


# --------------------------------------------------------------------------------------------
# the load


class Watcher:
    """One query every ``every`` seconds for all the updates in flight: resolves each chat's wait when its
    inbox row is processed (``done``, or ``failed``)."""

    def __init__(self, sm: Any, every: float = 0.02):
        self.sm = sm
        self.every = every
        self.waiting: dict[int, asyncio.Future] = {}

    def expect(self, update_id: int) -> asyncio.Future:
        fut = self.waiting[update_id] = asyncio.get_running_loop().create_future()
        return fut

    async def run(self, stop: asyncio.Event) -> None:
        from storage.channel_models import TelegramUpdate
        while not stop.is_set():
            ids = list(self.waiting)
            if ids:
                async with self.sm() as db:
                    rows = (await db.execute(select(TelegramUpdate.update_id, TelegramUpdate.status).where(
                        TelegramUpdate.update_id.in_(ids), TelegramUpdate.status.in_(("done", "failed"))))).all()
                for uid, status in rows:
                    fut = self.waiting.pop(uid, None)
                    if fut is not None and not fut.done():
                        fut.set_result(status)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)


class Probe:
    """Listens on the fake API: how many messages each chat got, and when the last came."""

    def __init__(self, fake: FakeTelegramAPI):
        self.count: Counter[int] = Counter()
        self.last_at: dict[int, float] = {}
        fake.listeners.append(self)

    def __call__(self, s: Sent) -> None:
        self.count[s.chat_id] += 1
        self.last_at[s.chat_id] = time.perf_counter()


@dataclass
class Chat:
    chat_id: int
    steps: int = 0                                             # steps processed
    replies: list[int] = field(default_factory=list)           # messages the bot sent for each step
    failed: bool = False


async def walk(chat: Chat, fake: FakeTelegramAPI, url: str, http: ClientSession, watcher: Watcher,
               probe: Probe, deadline: float, figs: Figures, http_ms: list[float], reply_ms: list[float]) -> None:
    """One citizen, one update at a time, until the procedure is done or the time is up."""
    for i, (kind, arg) in enumerate(FUNERAL):
        if time.perf_counter() >= deadline:
            return
        c = chat.chat_id
        if kind == "say":
            update = fake.text_update(c, str(arg))
        elif kind == "press":
            update = fake.press(c, str(arg))
        elif kind == "contact":
            update = fake.contact_update(c, str(arg))
        else:
            update = fake.photo_update(c, photo(c))
        done = watcher.expect(update["update_id"])
        before = probe.count[c]
        s0 = time.perf_counter()
        for attempt in range(20):  # Telegram posts an update again until the webhook answers 200
            try:
                async with http.post(url, json=update, headers=HEADERS) as r:
                    body = await r.read()
                    if r.status == 200:
                        await fake.webhook_response(body)  # a call in the response: Telegram makes it
                        break
                    figs.problems.append(f"chat {c}: webhook answered {r.status}")
            except (ClientError, OSError, TimeoutError) as exc:
                figs.problems.append(f"chat {c}: webhook post failed: {type(exc).__name__}")
            figs.posts_refused += 1
            await asyncio.sleep(0.5 * (attempt + 1))
        else:
            watcher.waiting.pop(update["update_id"], None)
            chat.failed = True
            return
        http_ms.append((time.perf_counter() - s0) * 1000)
        figs.updates += 1
        try:
            status = await asyncio.wait_for(done, 300)
        except TimeoutError:
            watcher.waiting.pop(update["update_id"], None)
            figs.never_processed += 1
            figs.problems.append(f"chat {c}: update {i} acknowledged, not processed within 300 s")
            chat.failed = True
            return
        if status != "done":
            figs.problems.append(f"chat {c}: update {i} {status}")
            chat.failed = True
            return
        got = probe.count[c] - before
        chat.replies.append(got)
        chat.steps = i + 1
        if not got:
            figs.no_reply += 1
            figs.problems.append(f"chat {c}: no reply to step {i} ({kind} {arg})")
            chat.failed = True
            return
        reply_ms.append((probe.last_at[c] - s0) * 1000)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def check(sm: Any, fake: FakeTelegramAPI, chats: list[Chat], figs: Figures) -> None:
    """Drafts and dossiers against what was typed; replies per step against the other chats; the outbox."""
    from storage.models import Dossier, DraftRow
    finished = [c for c in chats if c.steps == len(FUNERAL)]
    figs.finished = len(finished)
    # a step's replies: the same in every chat (the last step's are mixed with the notifier's: left out)
    usual = {}
    for i in range(len(FUNERAL) - 1):
        counts = Counter(c.replies[i] for c in chats if len(c.replies) > i)
        if counts:
            usual[i] = counts.most_common(1)[0][0]
    for c in chats:
        for i, n in enumerate(c.replies[:len(FUNERAL) - 1]):
            if n > usual[i]:
                figs.double_replies += 1
                figs.problems.append(f"chat {c.chat_id}: step {i}: {n} replies, the other chats {usual[i]}")
    async with sm() as db:
        for c in chats:
            key = f"telegram:{c.chat_id}"
            if c.steps == len(FUNERAL):
                continue  # crash_bench.check below
            row = (await db.execute(select(DraftRow).where(DraftRow.user_key == key,
                                                           DraftRow.procedure_id == PROCEDURE))).scalar_one_or_none()
            want = {k: v for i, (k, v) in ANSWERS.items() if i < c.steps}
            if not want:
                continue
            answers = dict(row.answers or {}) if row is not None else {}
            got = {k: answers.get(k) for k in want}
            if got != want:
                figs.answers_lost += 1
                figs.problems.append(f"chat {c.chat_id}: draft after {c.steps} steps: "
                                     f"{json.dumps(got, ensure_ascii=False)}")
        unfinished = [c.chat_id for c in chats if c.steps < len(FUNERAL)]
        stray = (await db.execute(select(func.count()).select_from(Dossier).where(
            Dossier.submitter_key.in_([f"telegram:{c}" for c in unfinished])))).scalar_one() if unfinished else 0
    figs.duplicate_dossiers += stray  # a dossier for a chat that never took the oath
    cf = crash_bench.Figures()
    await crash_bench.check(sm, fake, [c.chat_id for c in finished], cf)
    figs.answers_lost += cf.answers_lost
    figs.duplicate_dossiers += cf.duplicate_dossiers
    figs.missing_dossiers += cf.missing_dossiers
    figs.never_processed += cf.not_exactly_once
    figs.double_notifications += cf.double_notifications
    figs.undelivered += cf.undelivered_notifications
    figs.problems += cf.problems


async def run(args: argparse.Namespace, workdir: Path) -> Figures:
    from bot.service import Runtime
    from storage import keys
    from storage.models import OutboxMessage
    figs = Figures(chats=args.chats)
    fake = await FakeTelegramAPI().start()
    probe = Probe(fake)
    var = workdir / "var"
    async with database(args, workdir) as (db_url, _label):
        keys.configure(var)
        async with Runtime(db_url, var_dir=var, now=lambda: NOW) as rt:  # migrates, makes the key file first
            bot = BotServer(db_url, workdir, fake.base_url, args.bot_concurrency)
            port = await bot.start()
            url = f"http://127.0.0.1:{port}/telegram/webhook"
            watcher = Watcher(rt.sm)
            stop = asyncio.Event()
            watch_task = asyncio.create_task(watcher.run(stop))
            chats = [Chat(10_000_001 + n) for n in range(args.chats)]
            http_ms: list[float] = []
            reply_ms: list[float] = []
            try:
                async with ClientSession(connector=TCPConnector(limit=0),
                                         timeout=ClientTimeout(total=120)) as http:
                    c0, b0, t0 = time.process_time(), bot.cpu_seconds(), time.perf_counter()
                    deadline = t0 + args.seconds
                    await asyncio.gather(*(walk(c, fake, url, http, watcher, probe, deadline, figs, http_ms,
                                                reply_ms) for c in chats))
                    figs.seconds = time.perf_counter() - t0
                    figs.load_cpu_s = time.process_time() - c0
                    figs.bot_cpu_s = bot.cpu_seconds() - b0
                t1 = time.perf_counter()  # the notifier's receipts and form copies
                while time.perf_counter() - t1 < args.drain:
                    async with rt.sm() as db:
                        left = (await db.execute(select(func.count()).select_from(OutboxMessage).where(
                            OutboxMessage.status != "delivered"))).scalar_one()
                    if not left:
                        break
                    await asyncio.sleep(0.2)
            finally:
                stop.set()
                await watch_task
                figs.channel = bot.stop()
            figs.channel_failed = int(figs.channel.get("failed", 0))
            figs.api_errors = sum(1 for x in fake.calls if x.status >= 400)
            figs.updates_per_s = figs.updates / figs.seconds if figs.seconds else float("nan")
            figs.reply_p50_ms, figs.reply_p99_ms = pct(reply_ms, 0.5), pct(reply_ms, 0.99)
            figs.http_p50_ms, figs.http_p99_ms = pct(http_ms, 0.5), pct(http_ms, 0.99)
            await check(rt.sm, fake, chats, figs)
    await fake.stop()
    return figs


def report(figs: Figures, db: str) -> str:
    rows = [
        ("chats at once", f"{figs.chats:,}"),
        ("database", db),
        ("load window (s)", f"{figs.seconds:.0f}"),
        ("updates posted and processed", f"{figs.updates:,}"),
        ("updates/s", f"{figs.updates_per_s:.1f}"),
        ("chats that filed their dossier", f"{figs.finished:,}"),
        ("reply p50 / p99 (ms)", f"{figs.reply_p50_ms:,.0f} / {figs.reply_p99_ms:,.0f}"),
        ("webhook HTTP p50 / p99 (ms)", f"{figs.http_p50_ms:,.0f} / {figs.http_p99_ms:,.0f}"),
        ("CPU, bot process + PDF worker (s; ms per update)",
         f"{figs.bot_cpu_s:.0f}; {figs.bot_cpu_s / max(1, figs.updates) * 1000:.1f}"),
        ("CPU, load generator + fake Bot API (s)", f"{figs.load_cpu_s:.0f}"),
        ("ERRORS: webhook not 200 / channel failed / Bot API errors",
         f"{figs.posts_refused} / {figs.channel_failed} / {figs.api_errors}"),
        ("LOSSES: never processed / no reply / answers lost / missing dossier / undelivered",
         f"{figs.never_processed} / {figs.no_reply} / {figs.answers_lost} / {figs.missing_dossiers} / "
         f"{figs.undelivered}"),
        ("DUPLICATES: double replies / dossiers / notifications",
         f"{figs.double_replies} / {figs.duplicate_dossiers} / {figs.double_notifications}"),
    ]
    w = max(len(k) for k, _ in rows)
    lines = [f"{k:{w}s}  {v}" for k, v in rows]
    lines.append("channel counters: " + ", ".join(f"{k} {v}" for k, v in figs.channel.items()))
    lines += [f"  ! {p}" for p in figs.problems[:20]]
    lines.append("OK" if figs.ok else "FAILED")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chats", type=int, help="chats at once (default 1000; --quick 20)")
    p.add_argument("--seconds", type=float, help="seconds of load (default 180; --quick 5)")
    p.add_argument("--drain", type=float, default=120, help="seconds to wait for the notifier afterwards")
    p.add_argument("--bot-concurrency", type=int, default=16, help="the channel's steps at once")
    p.add_argument("--quick", action="store_true", help="20 chats for 5 s on a SQLite file")
    p.add_argument("--pg", metavar="URL", help="a PostgreSQL server URL (a fresh database is made and dropped); "
                   "default a SQLite file")
    p.add_argument("--json", action="store_true", help="also print the figures as JSON")
    p.add_argument("--keep", action="store_true", help="keep the work folder (the bot's log)")
    # the bot's own process
    p.add_argument("--serve-bot", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--db-url", help=argparse.SUPPRESS)
    p.add_argument("--var", help=argparse.SUPPRESS)
    p.add_argument("--api-base", help=argparse.SUPPRESS)
    p.add_argument("--stats", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.serve_bot:
        args.db = args.db_url
        asyncio.run(serve_bot(args))
        return 0
    args.chats = args.chats or (20 if args.quick else 1000)
    args.seconds = args.seconds if args.seconds is not None else (5.0 if args.quick else 180.0)
    workdir = Path(tempfile.mkdtemp(prefix="dvcbot-soak-"))
    figs = asyncio.run(run(args, workdir))
    print(report(figs, "PostgreSQL" if args.pg else "SQLite file"))
    if args.json:
        out = asdict(figs)
        out.update(errors=figs.errors, losses=figs.losses, duplicates=figs.duplicates, ok=figs.ok)
        out["problems"] = figs.problems[:100]
        print(json.dumps(out, indent=2, ensure_ascii=False))
    if args.keep or not figs.ok:
        print(f"work folder: {workdir}")
    else:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if figs.ok else 1


if __name__ == "__main__":
    sys.exit(main())
