"""Kill -9 one process at a time — the notifier, the PDF worker, the console — and check nothing was lost.

bench/crash_bench.py kills the whole bot (webhook, notifier and PDF worker at once). Here each of the other
processes is killed on its own, the rest left running:

* ``--target notifier``: the Telegram bot (``dvcbot telegram --mode webhook --no-notifier``) files dossiers
  for citizens walking the funeral-support procedure (crash_bench's citizens); the outbox is delivered by
  ``dvcbot notify run --channels telegram --print`` in its own process, which prints each notification (the
  receipt, and the form copy it renders in its PDF worker) to a file. The notifier alone is killed (its
  process group: its PDF worker with it) at a random moment after it has delivered something, and started
  again. It runs with a short lease (``--lease``, 5 s; ``dvcbot notify run --lease``, 120 s by default), so a
  killed notifier's claimed rows are taken over by the next one after 5 s, not two minutes. Check: each
  outbox row printed at most once, every row delivered — except a row whose delivery was cut between the
  print and the ``delivered`` commit, which the notifier marks failed "uncertain" after its lease and does
  not send again (at most once, by design: bot/notifier.py); those are counted apart;
* ``--target worker``: the Telegram bot with its own notifier, as in production; the PDF worker process
  (bot/workers.py, spawned by the bot) is killed alone while it renders a form copy (its CPU time is seen
  rising), and the bot replaces it. Check: every dossier's form copy reaches the fake Bot API exactly once,
  every receipt once, every answer in its dossier, every update processed once;
* ``--target console``: ``dvcbot chat --jsonl`` driven through its stdin by a citizen who answers whatever
  it asks (the same funeral-support answers), killed once per process at a random point of the walk — after
  a random 0–40 answers, a random 0–1.5 turn-times after the last one was sent: while it thinks (before,
  during or right after its commit) or while the citizen types — and started again; the citizen goes on
  from the question the new process asks. Check:
  every answer the bot had accepted (it asked the next question) is in the stored draft after each restart,
  each citizen ends with exactly one dossier holding the answers typed.

    python bench/crash_targets.py --target notifier --kills 100                # --lease 5 (seconds)
    python bench/crash_targets.py --target worker --kills 100
    python bench/crash_targets.py --target console --kills 100
    python bench/crash_targets.py --target worker --kills 2 --chats 2    # what tests/test_crash.py runs
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import queue
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/crash_targets.py` without installing
    sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench import crash_bench  # noqa: E402
from bench.crash_bench import BotProcess, Inbox, citizen, free_port  # noqa: E402
from bench.soak_bench import descendants, proc_cpu  # noqa: E402
from bench.telegram_bench import database, photo  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402

CLI = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]
EXPECTED = {"deceased.full_name": "NGUYỄN VĂN AN", "deceased.birth_date": "1950-03-05",
            "applicant.full_name": "NGUYỄN VĂN BÌNH", "applicant.birth_date": "1975-02-01",
            "deceased.burial_place": "Nghĩa trang thôn 3", "deceased.cause": "thien_tai"}


@dataclass
class Figures:
    target: str = ""
    citizens: int = 0
    updates: int = 0                # webhook updates processed (notifier, worker) or answers accepted (console)
    kills: int = 0
    seconds: float = 0.0
    answers_lost: int = 0
    duplicate_dossiers: int = 0
    missing_dossiers: int = 0
    not_exactly_once: int = 0
    double_notifications: int = 0
    undelivered: int = 0
    uncertain: int = 0              # notifier: cut between the print and the commit, marked failed, not re-sent
    deadline: float = float("inf")  # monotonic time after which no more kills
    form_copies: int = 0
    outbox_rows: int = 0            # notifier: the rows it had to deliver
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.answers_lost or self.duplicate_dossiers or self.missing_dossiers or self.not_exactly_once
                    or self.double_notifications or self.undelivered)

    def more(self, kills: int) -> bool:
        """Kill again? (``kills`` not reached and time left)"""
        return self.kills < kills and time.monotonic() < self.deadline

    def killed(self) -> None:
        self.kills += 1
        print(f"[{self.target}] kill {self.kills}", file=sys.stderr, flush=True)


def merge(figs: Figures, cf: crash_bench.Figures) -> None:
    figs.answers_lost += cf.answers_lost
    figs.duplicate_dossiers += cf.duplicate_dossiers
    figs.missing_dossiers += cf.missing_dossiers
    figs.not_exactly_once += cf.not_exactly_once
    figs.problems += cf.problems


async def outbox_settled(sm: Any, timeout: float) -> int:
    """Wait until no outbox row is pending, claimed or sending (a killed notifier's rows wait for their lease);
    returns how many are still open."""
    from storage.models import OutboxMessage
    t0 = time.monotonic()
    while True:
        async with sm() as db:
            left = (await db.execute(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status.in_(("pending", "claimed", "sending"))))).scalar_one()
        if not left or time.monotonic() - t0 > timeout:
            return int(left)
        await asyncio.sleep(0.5)


# --------------------------------------------------------------------------------------------
# the notifier alone


class NotifierProcess(crash_bench.ProcessGroup):
    """``dvcbot notify run --channels telegram --print``: prints each notification to ``out`` (appended)."""

    stop_signal = signal.SIGINT

    def __init__(self, db: str, var: Path, out: Path, log: Path, lease: float = 120.0):
        self.cmd = [*CLI, "--db", db, "--var", str(var), "notify", "run", "--channels", "telegram", "--print",
                    "--no-daily", "--lease", f"{lease:g}"]
        self.out, self.log = out, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.out, "ab") as out, open(self.log, "ab") as err:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT,
                                         env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1"),
                                         start_new_session=True)

    def size(self) -> int:
        return self.out.stat().st_size if self.out.exists() else 0



def printed(out: Path) -> Counter[tuple[str, str]]:
    """(chat key, first line of the text) of every notification the console sender printed."""
    text = out.read_text(encoding="utf-8", errors="replace") if out.exists() else ""
    return Counter((m.group(1), m.group(2).strip()[:60]) for m in re.finditer(r"^── → (\S+) ──\n(.*)$", text, re.M))


async def notifier_target(args: argparse.Namespace, workdir: Path, figs: Figures) -> None:
    from bot.service import Runtime
    from storage import keys
    from storage.models import OutboxMessage
    rng = random.Random(args.seed)
    fake = await FakeTelegramAPI().start()
    var = workdir / "var"
    async with database(args, workdir) as (db_url, _label):
        keys.configure(var)
        async with Runtime(db_url, var_dir=var) as rt:
            port = free_port()
            bot = BotProcess(db_url, var, fake.base_url, port, workdir / "bot.log")
            bot.cmd.append("--no-notifier")
            notifier = NotifierProcess(db_url, var, workdir / "notifier.out", workdir / "notifier.log", args.lease)
            chats: list[int] = []
            ids = iter(range(7_000_000, 8_000_000))
            url = f"http://127.0.0.1:{port}/telegram/webhook"
            done = asyncio.Event()
            cf = crash_bench.Figures()

            async def walker() -> None:
                while not done.is_set():
                    chat = next(ids)
                    chats.append(chat)
                    await citizen(chat, fake, url, Inbox(rt.sm), http, cf)

            async def killer() -> None:
                while figs.more(args.kills):
                    notifier.start()
                    size, t0 = notifier.size(), time.monotonic()
                    while notifier.size() == size and time.monotonic() - t0 < 300:  # it delivered something
                        await asyncio.sleep(0.02)
                    await asyncio.sleep(rng.uniform(0.0, 1.5))
                    notifier.kill()
                    figs.killed()
                done.set()
                notifier.start()

            async with ClientSession() as http:
                bot.start()
                await bot.ready(http)
                t0 = time.monotonic()
                walkers = [asyncio.create_task(walker()) for _ in range(args.chats)]
                await killer()
                await asyncio.gather(*walkers)
                left = await outbox_settled(rt.sm, 240)  # the killed notifier's claims wait for their lease
                figs.seconds = time.monotonic() - t0
                notifier.stop()
                bot.stop()
            figs.citizens, figs.updates = len(chats), cf.updates
            await crash_bench.check(rt.sm, fake, chats, cf)
            cf.problems = [p for p in cf.problems if not p.startswith("outbox ")]  # checked against the print below
            merge(figs, cf)
            seen = printed(notifier.out)
            async with rt.sm() as db:
                rows = list((await db.execute(select(OutboxMessage))).scalars())
            figs.outbox_rows = len(rows)
            for m in rows:
                text = str((m.payload or {}).get("text") or (m.payload or {}).get("caption") or "")
                n = seen.get((m.chat_key, text.split("\n", 1)[0].strip()[:60]), 0)
                if m.kind == "form_copy" and m.status == "delivered":
                    figs.form_copies += 1
                if n > 1:
                    figs.double_notifications += 1
                    figs.problems.append(f"outbox {m.id} ({m.kind}) printed {n} times")
                if m.status == "delivered" and n == 1:
                    continue
                if m.status == "failed" and str(m.last_error or "").startswith("uncertain") and n <= 1:
                    figs.uncertain += 1
                    continue
                if m.status != "delivered" or n == 0:
                    figs.undelivered += 1
                    figs.problems.append(f"outbox {m.id} ({m.kind}) {m.status} {m.last_error or ''}, printed {n}")
            if left:
                figs.problems.append(f"{left} outbox rows still open")
    await fake.stop()


# --------------------------------------------------------------------------------------------
# the PDF worker alone


def worker_pid(bot_pid: int) -> int | None:
    """The bot's PDF worker: a spawned multiprocessing child that is not the resource tracker."""
    for pid in descendants(bot_pid)[1:]:
        with contextlib.suppress(OSError):
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"spawn_main" in cmd and b"resource_tracker" not in cmd:
                return pid
    return None


async def worker_target(args: argparse.Namespace, workdir: Path, figs: Figures) -> None:
    from bot.service import Runtime
    from storage import keys
    rng = random.Random(args.seed)
    fake = await FakeTelegramAPI().start()
    var = workdir / "var"
    async with database(args, workdir) as (db_url, _label):
        keys.configure(var)
        async with Runtime(db_url, var_dir=var) as rt:
            port = free_port()
            bot = BotProcess(db_url, var, fake.base_url, port, workdir / "bot.log")
            chats: list[int] = []
            ids = iter(range(7_000_000, 8_000_000))
            url = f"http://127.0.0.1:{port}/telegram/webhook"
            done = asyncio.Event()
            cf = crash_bench.Figures()

            async def walker() -> None:
                while not done.is_set():
                    chat = next(ids)
                    chats.append(chat)
                    await citizen(chat, fake, url, Inbox(rt.sm), http, cf)

            async def delivered() -> int:
                from storage.models import OutboxMessage
                async with rt.sm() as db:
                    return int((await db.execute(select(func.count()).select_from(OutboxMessage).where(
                        OutboxMessage.status == "delivered"))).scalar_one())

            async def killer() -> None:
                """Kill the worker when its CPU time rises (it renders), after a random 0–100 ms of it; then leave
                the workers alone until one more notification was delivered: each kill cuts one job once (a job
                cut on every try would fail for good after the notifier's attempts, by design)."""
                assert bot.proc is not None
                last: dict[int, float] = {}
                mark: int | None = None  # delivered rows at the last kill, while waiting for one more
                while figs.more(args.kills):
                    if mark is not None:
                        if await delivered() <= mark:
                            await asyncio.sleep(0.25)
                            continue
                        mark, last = None, {}
                    pid = worker_pid(bot.proc.pid)
                    if pid is not None:
                        cpu = proc_cpu(pid)
                        if pid in last and cpu > last[pid]:
                            await asyncio.sleep(rng.uniform(0.0, 0.1))
                            with contextlib.suppress(ProcessLookupError):
                                os.kill(pid, signal.SIGKILL)
                                figs.killed()
                                mark = await delivered()
                            continue
                        last[pid] = cpu
                    await asyncio.sleep(0.01)
                done.set()

            async with ClientSession() as http:
                bot.start()
                await bot.ready(http)
                t0 = time.monotonic()
                walkers = [asyncio.create_task(walker()) for _ in range(args.chats)]
                await killer()
                await asyncio.gather(*walkers)
                left = await outbox_settled(rt.sm, 240)
                figs.seconds = time.monotonic() - t0
                bot.stop()
            figs.citizens, figs.updates = len(chats), cf.updates
            await crash_bench.check(rt.sm, fake, chats, cf)
            figs.double_notifications += cf.double_notifications
            merge(figs, cf)
            without = 0
            for chat in chats:  # the form copy: one document per dossier
                docs = sum(1 for s in fake.sent(chat) if s.kind == "document")
                figs.form_copies += min(docs, 1)
                if docs != 1:
                    figs.problems.append(f"chat {chat}: {docs} form copies")
                    if docs > 1:
                        figs.double_notifications += 1
                    else:
                        without += 1
            figs.undelivered += max(cf.undelivered_notifications, without)  # an outbox row failed, or a chat without
            if left:
                figs.problems.append(f"{left} outbox rows still open")
    await fake.stop()


# --------------------------------------------------------------------------------------------
# the console


def console_answer(ask: dict[str, Any], photo_path: Path) -> dict[str, Any] | None:
    """What the citizen answers to this question of the funeral-support procedure."""
    f, text = ask["field"], ask["text"]
    if f.endswith(".residence"):
        if "Nhập tỉnh" in text:
            return {"text": "Lâm Đồng"}
        if "Xã, phường" in text:
            return {"text": "duc trong" if f.startswith("deceased") else "Đức Trọng"}
        return {"text": "Thôn 3"}
    if f == "docs.death_notice":
        return {"choice": "done"} if any(c["value"] == "done" for c in ask["choices"]) else {"file": str(photo_path)}
    return {
        "procedure": {"choice": "ho-tro-chi-phi-mai-tang"}, "filer.role": {"choice": "self"},
        "consent.sensitive": {"choice": "yes"}, "deceased.cause": {"choice": "thien_tai"},
        "deceased.full_name": {"text": "Nguyễn Văn An"}, "deceased.birth_date": {"text": "5/3/1950"},
        "deceased.sex": {"text": "Nam"}, "deceased.ethnicity": {"text": "Kinh"},
        "deceased.status": {"text": "Đã mất"}, "deceased.death_date": {"text": "10/11/2026"},
        "deceased.burial_date": {"text": "12/11/2026"}, "deceased.burial_place": {"text": "Nghĩa trang thôn 3"},
        "organizer.kind": {"text": "1"}, "applicant.full_name": {"text": "Nguyễn Văn Bình"},
        "applicant.birth_date": {"text": "01/02/1975"}, "applicant.id_number": {"text": "068 075 001 234"},
        "applicant.id_issue_date": {"text": "bỏ qua"}, "applicant.same_place": {"choice": "yes"},
        "applicant.relation": {"text": "con trai"}, "contact.phone": {"text": "+84 912 345 678"},
        "_review": {"choice": "confirm"}, "_sworn": {"text": "Tôi xin cam đoan"},
    }.get(f)


class Console:
    """``dvcbot chat --jsonl --user U`` in its own process; reads its lines on a thread."""

    def __init__(self, db: str, var: Path, user: str, log: Path):
        with open(log, "ab") as err:
            self.proc = subprocess.Popen(
                [*CLI, "--db", db, "--var", str(var), "chat", "--jsonl", "--user", user], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=err, cwd=ROOT, text=True, encoding="utf-8", bufsize=1,
                env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8"),
                start_new_session=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.killed = False  # by sigkill(), while it ran
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def turn(self, timeout: float = 120) -> list[dict[str, Any]] | None:
        """The bot's lines up to its question; None if the process died first."""
        out = []
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise RuntimeError("the console did not answer in time") from None
            if line is None:
                return None
            out.append(json.loads(line))
            if out[-1]["type"] == "ask":
                return out

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.write(json.dumps(obj, ensure_ascii=False) + "\n")
            self.proc.stdin.flush()

    def sigkill(self) -> None:
        """The crash: kill -9 (from a timer thread), noted if the process still ran. (``poll()`` in another thread
        while this one waits for the process would say None: hence the flag.)"""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.killed = True

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.proc.stdin.close()  # type: ignore[union-attr]
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


def kill_later(con: Console, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, con.sigkill)
    timer.start()
    return timer


async def stored(rt: Any, key: str) -> dict[str, Any]:
    s = await rt.session(key)
    return dict(s.draft.answers) if s.draft else {}


async def console_target(args: argparse.Namespace, workdir: Path, figs: Figures) -> None:
    """Citizens one after another. Each console process is killed once at a random point of the walk: after a
    random number of answers (0–40; a walk is ~35), a random 0–1.5 turn-times after the answer was sent — while
    it thinks (before, during or just after its commit) or while the citizen types — and the citizen starts it
    again."""
    from bot.service import Runtime
    from storage import keys
    from storage.models import Dossier
    rng = random.Random(args.seed)
    var = workdir / "var"
    photo_path = workdir / "giay-bao-tu.jpg"
    photo_path.write_bytes(photo(7))
    async with database(args, workdir) as (db_url, _label):
        keys.configure(var)
        async with Runtime(db_url, var_dir=var) as rt:
            t0 = time.monotonic()
            users: list[str] = []
            turn_time = 0.1  # seconds from an answer to the next question, as last seen
            while figs.more(args.kills):
                user = f"u{len(users) + 1}"
                users.append(user)
                accepted: dict[str, Any] = {}   # field → the answer's expected stored value, once accepted
                filed = False
                while not filed:
                    con = Console(db_url, var, user, workdir / "console.log")
                    timer = None
                    kill_after = rng.randrange(0, 41) if figs.more(args.kills) else -1  # answers, then the kill
                    sent = 0

                    try:
                        turn = await asyncio.to_thread(con.turn)
                        if kill_after == 0:
                            timer = kill_later(con, rng.uniform(0.0, 1.5 * turn_time))
                        if turn is not None:  # started: everything accepted before a kill is still there
                            have = await stored(rt, f"console:{user}")
                            if not any(m.get("dossier") for m in turn) and not await has_dossier(rt, user):
                                for k, v in accepted.items():
                                    if have.get(k) != v:
                                        figs.answers_lost += 1
                                        figs.problems.append(f"{user}: accepted {k}={v!r}, stored {have.get(k)!r}")
                        while turn is not None:
                            if any(m.get("dossier") for m in turn):
                                filed = True
                                break
                            ask = turn[-1]
                            if ask["field"] == "procedure" and await has_dossier(rt, user):
                                filed = True  # filed, the code's message lost with the killed process
                                break
                            answer = console_answer(ask, photo_path)
                            if answer is None:
                                raise RuntimeError(f"{user}: unexpected question {ask['field']}: {ask['text'][:200]}")
                            con.send(answer)
                            sent += 1
                            if sent == kill_after:
                                timer = kill_later(con, rng.uniform(0.0, 1.5 * turn_time))
                            t_sent = time.monotonic()
                            nxt = await asyncio.to_thread(con.turn)
                            if nxt is not None:
                                figs.updates += 1
                                if timer is None:
                                    turn_time = time.monotonic() - t_sent
                                if ask["field"] in EXPECTED and not any(m.get("error") for m in nxt):
                                    accepted[ask["field"]] = EXPECTED[ask["field"]]
                            turn = nxt
                    finally:
                        if timer is not None:
                            timer.cancel()
                            timer.join()
                        if con.killed:
                            figs.killed()
                        con.close() if filed else con.kill()
            figs.seconds = time.monotonic() - t0
            figs.citizens = len(users)
            async with rt.sm() as db:
                for user in users:
                    rows = list((await db.execute(select(Dossier).where(
                        Dossier.submitter_key == f"console:{user}"))).scalars())
                    if not rows:
                        figs.missing_dossiers += 1
                        figs.problems.append(f"{user}: no dossier")
                        continue
                    figs.duplicate_dossiers += len(rows) - 1
                    got = {k: rows[0].answers.get(k) for k in EXPECTED}
                    if got != EXPECTED:
                        figs.answers_lost += 1
                        figs.problems.append(f"{user}: dossier answers {json.dumps(got, ensure_ascii=False)}")


async def has_dossier(rt: Any, user: str) -> bool:
    from storage.models import Dossier
    async with rt.sm() as db:
        return bool((await db.execute(select(func.count()).select_from(Dossier).where(
            Dossier.submitter_key == f"console:{user}"))).scalar_one())


# --------------------------------------------------------------------------------------------


def report(figs: Figures) -> str:
    what = {"notifier": "notifier kills", "worker": "PDF worker kills", "console": "console kills"}[figs.target]
    lines = [f"{figs.citizens} citizens, {figs.updates} updates, {figs.kills} {what} -9, {figs.seconds:.0f} s",
             f"answers lost: {figs.answers_lost} · duplicate dossiers: {figs.duplicate_dossiers} · missing "
             f"dossiers: {figs.missing_dossiers} · updates not processed exactly once: {figs.not_exactly_once}"]
    if figs.target != "console":
        lines.append((f"outbox rows: {figs.outbox_rows} · " if figs.target == "notifier" else "")
                     + f"double notifications: {figs.double_notifications} · undelivered: {figs.undelivered} · "
                     f"form copies delivered: {figs.form_copies}"
                     + (f" · uncertain (cut between send and commit, not re-sent): {figs.uncertain}"
                        if figs.target == "notifier" else ""))
    lines += [f"  ! {p}" for p in figs.problems[:20]]
    lines.append("OK" if figs.ok else "FAILED")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", choices=["notifier", "worker", "console"], required=True)
    p.add_argument("--kills", type=int, default=100)
    p.add_argument("--chats", type=int, default=6, help="citizens at a time over Telegram (notifier, worker)")
    p.add_argument("--lease", type=float, default=5.0,
                   help="the notifier's lease in seconds (notifier: `dvcbot notify run --lease`; its default is 120): "
                        "how long a killed notifier's claimed rows wait before the next one takes them")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-seconds", type=float, default=0, help="stop killing after this long (0: no bound)")
    p.add_argument("--pg", help="a PostgreSQL server URL (a fresh database is made and dropped)")
    p.add_argument("--json", action="store_true", help="also print the figures as JSON")
    p.add_argument("--keep", action="store_true", help="keep the work folder (the processes' logs)")
    return p


TARGETS = {"notifier": notifier_target, "worker": worker_target, "console": console_target}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix=f"dvcbot-crash-{args.target}-"))
    figs = Figures(target=args.target)
    if args.max_seconds:
        figs.deadline = time.monotonic() + args.max_seconds
    asyncio.run(TARGETS[args.target](args, workdir, figs))
    print(report(figs))
    if args.json:
        print(json.dumps({**{k: v for k, v in vars(figs).items() if k != "problems"}, "ok": figs.ok,
                          "problems": figs.problems[:100]}, indent=2, ensure_ascii=False))
    if args.keep or not figs.ok:
        print(f"work folder: {workdir}")
    return 0 if figs.ok else 1


if __name__ == "__main__":
    sys.exit(main())
