"""Scale-out on PostgreSQL: 1 vs 2 ``dvcbot telegram --mode webhook`` processes on one database.

The bots are the real ``dvcbot telegram`` processes (bench/crash_bench.py's ``BotProcess``, with
``--no-rate-limits``: Telegram's 30 messages/s would otherwise be what is measured), each with its outbox notifier
and its PDF worker, sharing one PostgreSQL database and one data folder (attachments, keys). This process is the load
generator and the fake Bot API (tests/fakes/telegram_api.py); the bots run in their own processes.

Citizens go through the whole funeral-support procedure (bench/telegram_bench.py's script). The load generator
spreads updates over the bots round-robin, update by update, as a load balancer without sticky sessions would: the
updates of one chat land on different processes. Typed answers that follow each other (name, birth date, …) are
posted as a burst, each as soon as the previous one is stored (its 200), without waiting for the bot's answer, so
two processes hold updates of one chat at once and must apply them in ``update_id`` order (docs/telegram.md:
the step's transaction checks that no older update of the chat is pending). A button is pressed once the previous
update is processed (the bot's ``telegram_updates`` row is ``done``), since it needs the message it belongs to.

Printed: updates/s with 1 and with 2 processes and their ratio, the time from a burst's first POST to its
last update processed (p50/p99), the bots' CPU per update; then the checks, which must all be 0:

* **duplicates**: a dossier filed twice for one citizen, or a notification (receipt, form copy) sent twice;
* **reorderings**: a dossier whose answers are not the ones typed, field by field (an update applied out of
  order or twice puts an answer in the wrong field, or fails the step); a chat whose questions reached it out of
  order (the "Bước N" of the bot's messages going back: the replies of an older update sent after a newer one's);
  a citizen who could not go on because the latest question was not the one the script answers (counted apart as
  "stuck", and left out of the dossier checks);
* **losses**: a citizen without a dossier, an update not processed exactly once (its inbox row not ``done``:
  failed, refused as late, still pending), a notification never delivered.

The machine's cores are shared by the load generator, the fake API, PostgreSQL and the bots: the ratio says how
much a second process adds on *this* machine, not on a machine with a core per process.

    python bench/scaleout_bench.py --pg postgresql://postgres@127.0.0.1:5432/postgres
    python bench/scaleout_bench.py --quick   # a few citizens (the server from --pg or $DVCBOT_TEST_PG)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/scaleout_bench.py` without installing
    sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, TCPConnector  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.crash_bench import BotProcess, Figures, Inbox, check, free_port  # noqa: E402
from bench.telegram_bench import FUNERAL, HEADERS, UPDATES_PER_CONVERSATION, Probe, database, photo  # noqa: E402
from bot.telegram.inbox import chat_of  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402


def bursts() -> list[list[tuple[str, str | None]]]:
    """The funeral script cut where the next update needs the bot's answer: a button press starts a new burst;
    typed answers, the contact and the photo follow each other within one."""
    out: list[list[tuple[str, str | None]]] = []
    for step in FUNERAL:
        if not out or step[0] == "press" or out[-1][-1][0] == "press":
            out.append([step])
        else:
            out[-1].append(step)
    return out


BURSTS = bursts()
STEP = re.compile(r"Bước (\d+)/")


def steps_of(fake: FakeTelegramAPI, chat: int) -> list[int]:
    """The "Bước N" of the bot's messages to ``chat``, in the order they were sent (an edit keeps its place)."""
    return [int(m.group(1)) for s in fake.sent(chat) if (m := STEP.search(s.text or ""))]


def replies_in_order(fake: FakeTelegramAPI, chat: int) -> bool:
    """The questions reached the chat in order: the step numbers never go back (the script never goes back)."""
    return all(a <= b for a, b in itertools.pairwise(steps_of(fake, chat)))


@dataclass
class Run:
    processes: int
    citizens: int = 0
    updates: int = 0
    seconds: float = 0.0
    burst_s: list[float] = field(default_factory=list)  # first POST of a burst → its last update processed
    cpu_s: float = float("nan")  # CPU of the bot processes (and their PDF workers) over the load
    load_cpu_s: float = 0.0  # CPU of this process (load generator, fake API) over the load
    stuck: list[int] = field(default_factory=list)  # chats whose latest question was not the one the script answers
    out_of_order: set[int] = field(default_factory=set)  # chats whose questions arrived out of order
    loadavg: float = float("nan")  # the machine's 1-minute load average at the end of the load
    figs: Figures = field(default_factory=Figures)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else float("nan")

    def pct(self, q: float) -> float:
        xs = sorted(self.burst_s)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")

    @property
    def duplicates(self) -> int:
        return self.figs.duplicate_dossiers + self.figs.double_notifications

    @property
    def reorderings(self) -> int:
        return self.figs.answers_lost + len(self.out_of_order | set(self.stuck))  # chats, each counted once

    @property
    def losses(self) -> int:
        return self.figs.missing_dossiers + self.figs.not_exactly_once + self.figs.undelivered_notifications


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes of a process group (Linux /proc), NaN elsewhere."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return float("nan")
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # the fields after the name: state ppid pgrp … utime(12) stime(13)
                total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Balancer:
    """Round-robin over the bots' webhook URLs, update by update (no sticky sessions); with ``sticky``, every
    update of a chat to the same bot instead (for comparison: what splitting a chat's updates costs)."""

    def __init__(self, urls: list[str], fake: FakeTelegramAPI, *, sticky: bool = False):
        self.all, self.sticky, self.fake = urls, sticky, fake
        self.urls = itertools.cycle(urls)
        self.http = ClientSession(connector=TCPConnector(limit=0))

    async def post(self, update: dict[str, Any]) -> None:
        url = self.all[chat_of(update) % len(self.all)] if self.sticky else next(self.urls)
        for _try in range(100):  # as Telegram does: again until the webhook answers 200
            async with self.http.post(url, json=update, headers=HEADERS) as r:
                body = await r.read()
                if r.status == 200:
                    await self.fake.webhook_response(body)  # a call in the response: Telegram makes it
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"update {update['update_id']}: the webhook never answered 200")


async def citizen(chat: int, fake: FakeTelegramAPI, probe: Probe, lb: Balancer, inbox: Inbox, run: Run) -> None:
    for burst in BURSTS:
        t0 = time.perf_counter()
        update: dict[str, Any] = {}
        for kind, arg in burst:
            if kind == "say":
                update = fake.text_update(chat, str(arg))
            elif kind == "press":
                try:
                    update = fake.press(chat, str(arg))
                except AssertionError:  # the latest question is not the one the script answers
                    run.stuck.append(chat)
                    run.figs.problems.append(f"chat {chat}: no button {arg!r} on the latest question; the bot's "
                                             f"last steps: {steps_of(fake, chat)[-6:]}")
                    return
            elif kind == "contact":
                update = fake.contact_update(chat, str(arg))
            else:
                update = fake.photo_update(chat, photo(chat))
            await lb.post(update)
        while True:  # until the burst's last update is processed (and its replies sent)
            heard = probe.expect(chat)
            if await inbox.status(update) in ("done", "failed"):
                break
            if time.perf_counter() - t0 > 120:
                raise RuntimeError(f"chat {chat}: update {update['update_id']} never processed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(heard), 0.05)
        run.burst_s.append(time.perf_counter() - t0)
        run.updates += len(burst)
    run.citizens += 1


async def delivered(sm: Any, timeout: float = 180) -> None:
    """Wait until the notifiers have delivered every receipt and form copy."""
    from storage.models import OutboxMessage
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        async with sm() as db:
            left = (await db.execute(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status != "delivered"))).scalar_one()
        if not left:
            return
        await asyncio.sleep(0.2)


async def scenario(args: argparse.Namespace, processes: int, workdir: Path, chat_ids: itertools.count) -> Run:
    from bot.service import Runtime
    from storage import keys
    run = Run(processes)
    fake = await FakeTelegramAPI().start()
    probe = Probe(fake)
    var = workdir / f"var{processes}"  # one data folder for the bots: the attachments' shared storage
    async with database(args, workdir) as (db_url, _label):
        keys.configure(var)
        async with Runtime(db_url, var_dir=var) as rt:  # migrates the database and makes the key file first
            bots = [BotProcess(db_url, var, fake.base_url, free_port(), workdir / f"bot{processes}-{i}.log")
                    for i in range(processes)]
            for bot in bots:
                bot.cmd.append("--no-rate-limits")
            async with ClientSession() as http:
                try:
                    for bot in bots:
                        bot.start()
                    for bot in bots:
                        await bot.ready(http)
                    inbox = Inbox(rt.sm)
                    urls = [f"http://127.0.0.1:{b.port}/telegram/webhook" for b in bots]
                    if not args.no_warm_up:  # each bot's first citizen: connections, caches, its PDF worker
                        alone = [Balancer([url], fake) for url in urls]
                        await asyncio.gather(*(citizen(next(chat_ids), fake, probe, b, inbox, Run(0)) for b in alone))
                        for b in alone:
                            await b.http.close()
                    lb = Balancer(urls, fake, sticky=args.sticky)
                    chats: list[int] = []
                    deadline = time.perf_counter() + args.budget
                    started = itertools.count()

                    async def worker() -> None:
                        while next(started) < args.citizens:
                            chat = next(chat_ids)
                            chats.append(chat)
                            await citizen(chat, fake, probe, lb, inbox, run)
                            if time.perf_counter() >= deadline:
                                return

                    cpu0 = sum(group_cpu(b.proc.pid) for b in bots if b.proc is not None)
                    t0, own0 = time.perf_counter(), time.process_time()
                    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
                    run.seconds = time.perf_counter() - t0
                    run.load_cpu_s = time.process_time() - own0
                    run.cpu_s = sum(group_cpu(b.proc.pid) for b in bots if b.proc is not None) - cpu0
                    run.loadavg = os.getloadavg()[0]
                    await lb.http.close()
                    await delivered(rt.sm)
                finally:
                    for bot in bots:
                        bot.stop()
            await check(rt.sm, fake, [c for c in chats if c not in run.stuck], run.figs)
            for chat in chats:
                if not replies_in_order(fake, chat):
                    run.out_of_order.add(chat)
                    run.figs.problems.append(f"chat {chat}: questions out of order, steps {steps_of(fake, chat)}")
    await fake.stop()
    return run


def report(runs: list[Run], concurrency: int, sticky: bool = False) -> str:
    one, two = runs
    spread = "each chat's updates to one process" if sticky else "updates round-robin over the processes"
    lines = [f"dvcbot scale-out benchmark: `dvcbot telegram --mode webhook` processes on one PostgreSQL database, "
             f"{concurrency} citizens at once, {spread}; Python "
             f"{sys.version.split()[0]}, {os.cpu_count()} CPUs seen",
             f"funeral procedure: {UPDATES_PER_CONVERSATION} updates per citizen in {len(BURSTS)} bursts", "",
             f"{'processes':>9s} {'citizens':>8s} {'updates':>7s} {'seconds':>7s} {'upd/s':>7s} "
             f"{'burst p50':>9s} {'p99':>7s} {'bot CPU ms/upd':>14s} {'load gen':>8s} {'loadavg':>7s} "
             f"{'dup':>4s} {'reord':>5s} {'lost':>4s}"]
    for r in runs:
        lines.append(f"{r.processes:9d} {r.citizens:8d} {r.updates:7d} {r.seconds:7.1f} {r.rate:7.1f} "
                     f"{r.pct(0.5):7.0f}ms {r.pct(0.99):5.0f}ms {r.cpu_s / max(1, r.updates) * 1000:14.1f} "
                     f"{r.load_cpu_s / max(1, r.updates) * 1000:8.1f} {r.loadavg:7.1f} "
                     f"{r.duplicates:4d} {r.reorderings:5d} {r.losses:4d}")
    lines += ["(CPU in ms per update: the bots with their PDF workers, and this process: load generator and fake API; "
              "loadavg: the machine's, at the end of the load)",
              "", f"2 processes / 1 process throughput: {two.rate / one.rate:.2f}"]
    for r in runs:
        lines += [f"  ! {r.processes} process(es): {p}" for p in r.figs.problems[:10]]
    ok = all(r.duplicates == r.reorderings == r.losses == 0 for r in runs)
    lines.append("duplicates 0, reorderings 0, losses 0: OK" if ok else "FAILED")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pg", default=os.environ.get("DVCBOT_TEST_PG"),
                   help="a PostgreSQL server URL (default $DVCBOT_TEST_PG); a fresh database per run, dropped after")
    p.add_argument("--quick", action="store_true", help="a few citizens, for CI smoke")
    p.add_argument("--budget", type=float, help="seconds of load per run (every started citizen finishes)")
    p.add_argument("--concurrency", type=int, help="citizens at once")
    p.add_argument("--citizens", type=int, help="at most this many citizens per run")
    p.add_argument("--sticky", action="store_true",
                   help="send all the updates of a chat to the same process (for comparison; default round-robin)")
    p.add_argument("--no-warm-up", action="store_true", help="skip each bot's first citizen")
    p.add_argument("--keep", action="store_true", help="keep the work folder (the bots' logs)")
    p.add_argument("--json", action="store_true", help="also print the figures as JSON")
    return p


FULL = dict(budget=30.0, concurrency=16, citizens=100_000)
QUICK = dict(budget=0.0, concurrency=2, citizens=2)


async def run_all(args: argparse.Namespace, workdir: Path) -> list[Run]:
    chat_ids = itertools.count(20_000_001)
    return [await scenario(args, n, workdir, chat_ids) for n in (1, 2)]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.pg:
        print("a PostgreSQL server is needed: --pg URL or $DVCBOT_TEST_PG", file=sys.stderr)
        return 2
    for k, v in (QUICK if args.quick else FULL).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    workdir = Path(tempfile.mkdtemp(prefix="dvcbot-scaleout-"))
    runs = asyncio.run(run_all(args, workdir))
    print(report(runs, args.concurrency, args.sticky))
    ok = all(r.duplicates == r.reorderings == r.losses == 0 for r in runs)
    if args.json:
        print(json.dumps({"runs": {str(r.processes): {
            "citizens": r.citizens, "updates": r.updates, "seconds": r.seconds, "updates_per_s": r.rate,
            "burst_p50_ms": r.pct(0.5), "burst_p99_ms": r.pct(0.99), "bot_cpu_s": r.cpu_s,
            "load_generator_cpu_s": r.load_cpu_s, "loadavg": r.loadavg,
            "duplicates": r.duplicates, "reorderings": r.reorderings, "losses": r.losses,
            "replies_out_of_order": len(r.out_of_order), "stuck": len(r.stuck)} for r in runs},
            "ratio_2_over_1": runs[1].rate / runs[0].rate}, indent=2))
    if args.keep or not ok:
        print(f"work folder: {workdir}")
    else:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
