"""Kill -9 the Telegram or Zalo bot at random moments while citizens file dossiers, and check nothing was lost.

The bot is the real ``dvcbot telegram --mode webhook`` (or ``dvcbot zalo --mode webhook``) process, with its outbox
notifier and its PDF worker, on a SQLite file or a PostgreSQL database, talking to the fake Bot API server
(tests/fakes/telegram_api.py or zalo_api.py) on 127.0.0.1. Citizens each go through the whole funeral-support
procedure (the script of bench/telegram_bench.py, a photo and a shared contact included; on Zalo the choices are
typed by their numbers and the phone is typed). Meanwhile a killer sends SIGKILL to the bot's whole process group (the
PDF worker too, as a container kill would) after a random 0.3–2 s of work, then starts it again, until every
citizen is done. A citizen posts each update as Telegram does: again and again until the webhook answers 200
(the same ``update_id``), then waits until the bot has processed it and sent its replies.

The check afterwards:

* **answers lost**: each citizen has exactly one dossier and its answers are the ones typed (an update applied
  twice or skipped would shift or drop one);
* **duplicate dossiers**: one per citizen;
* **updates not processed exactly once**: every inbox row ``done``, none pending, failed or still holding replies;
* **double notifications**: each outbox notification reached the fake API at most once (the receipt and the form
  copy per dossier), and every one was delivered.

    python bench/crash_bench.py --kills 100          # about ten minutes
    python bench/crash_bench.py --kills 4 --chats 3  # what the test suite runs (tests/test_crash.py)
    python bench/crash_bench.py --pg postgresql://postgres@127.0.0.1:5432/postgres
    python bench/crash_bench.py --channel zalo --kills 30  # Zalo: choices typed by number, the phone typed

bench/crash_targets.py kills one process alone instead: the notifier, the PDF worker or the console.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/crash_bench.py` without installing
    sys.path.insert(0, str(ROOT))

from aiohttp import ClientError, ClientSession  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.telegram_bench import FUNERAL, SECRET, TOKEN, database, photo  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402
from tests.fakes.zalo_api import FakeZaloAPI  # noqa: E402

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
ZALO_SECRET = "bench-zalo-s3cret"
ZALO_HEADERS = {"X-Bot-Api-Secret-Token": ZALO_SECRET}


@dataclass
class Figures:
    chats: int = 0
    updates: int = 0
    kills: int = 0
    posts_refused: int = 0  # POSTs that found no bot (killed): posted again, as Telegram does
    seconds: float = 0.0
    answers_lost: int = 0
    duplicate_dossiers: int = 0
    missing_dossiers: int = 0
    not_exactly_once: int = 0
    double_notifications: int = 0
    undelivered_notifications: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.answers_lost or self.duplicate_dossiers or self.missing_dossiers or self.not_exactly_once
                    or self.double_notifications or self.undelivered_notifications)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ProcessGroup:
    """A child process in its own process group (so a kill takes its PDF worker too)."""

    proc: subprocess.Popen | None = None
    stop_signal = signal.SIGTERM

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, self.stop_signal)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class BotProcess(ProcessGroup):
    """``dvcbot telegram`` in webhook mode, in its own process group."""

    def __init__(self, db: str, var: Path, api: str, port: int, log: Path, channel: str = "telegram",
                 token: str = TOKEN):
        self.cmd = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())", "--db", db,
                    "--var", str(var), channel, "--mode", "webhook", "--listen", f"127.0.0.1:{port}",
                    "--api-base", api]
        self.env = dict(os.environ, DVCBOT_TELEGRAM_TOKEN=TOKEN, DVCBOT_TELEGRAM_SECRET=SECRET,
                        DVCBOT_ZALO_TOKEN=token, DVCBOT_ZALO_SECRET=ZALO_SECRET, PYTHONPATH=str(ROOT))
        self.port = port
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                         start_new_session=True, cwd=ROOT)

    async def ready(self, http: ClientSession, timeout: float = 60) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.proc.returncode}; see {self.log}")
            with contextlib.suppress(ClientError, OSError):
                async with http.get(f"http://127.0.0.1:{self.port}/healthz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the bot did not start; see {self.log}")



class Inbox:
    """Reads the bot's inbox rows from the same database (another process writes them)."""

    def __init__(self, sm: Any):
        self.sm = sm

    async def status(self, update: dict[str, Any]) -> str | None:
        from storage.account_models import ZaloUpdate
        from storage.channel_models import TelegramUpdate
        async with self.sm() as db:
            if "update_id" in update:
                return (await db.execute(select(TelegramUpdate.status).where(
                    TelegramUpdate.update_id == update["update_id"]))).scalar_one_or_none()
            key = f"{update['event_name']}:{update['message']['message_id']}"
            return (await db.execute(select(ZaloUpdate.status).where(
                ZaloUpdate.event_key == key))).scalar_one_or_none()


def choice_number(text: str, label: str) -> str:
    """Zalo has no buttons: the number of the choice ``label`` (or a choice starting with it) in ``text``, or the
    label itself, typed."""
    lines = re.findall(r"^(\d+)\. (.+)$", text, re.M)
    for n, lab in lines:
        if lab == label or lab.startswith(label):
            return n
    return label.lower()  # not a numbered choice: a word the question's hint lists (“bỏ qua”, “xong”)


def zalo_update(fake: FakeZaloAPI, chat: str, kind: str, arg: Any) -> dict[str, Any]:
    """The same step as a Zalo user takes it: a choice typed by its number, the phone typed, the photo sent."""
    if kind == "press":
        return fake.text_update(chat, choice_number(fake.last(chat).text or "", str(arg)))
    if kind == "contact":
        return fake.text_update(chat, "0" + str(arg).removeprefix("+84"))
    if kind == "photo":
        return fake.image_update(chat, photo(int(chat[1:])))
    return fake.text_update(chat, str(arg))


async def citizen(chat: Any, fake: Any, url: str, inbox: Inbox, http: ClientSession, figs: Figures) -> None:
    """One citizen's whole conversation; every update is posted until accepted, then awaited until answered."""
    zalo = isinstance(fake, FakeZaloAPI)
    for kind, arg in FUNERAL:
        if zalo:
            update = zalo_update(fake, chat, kind, arg)
        elif kind == "say":
            update = fake.text_update(chat, str(arg))
        elif kind == "press":
            update = fake.press(chat, str(arg))
        elif kind == "contact":
            update = fake.contact_update(chat, str(arg))
        else:
            update = fake.photo_update(chat, photo(chat))
        while True:  # the platform posts an update again until the webhook answers 200
            try:
                async with http.post(url, json=update, headers=ZALO_HEADERS if zalo else HEADERS) as r:
                    body = await r.read()
                    if r.status == 200:
                        if not zalo:  # a call in the webhook's response: Telegram makes it
                            await fake.webhook_response(body)
                        break
            except (ClientError, OSError):
                pass
            figs.posts_refused += 1
            await asyncio.sleep(0.1)
        t0 = time.monotonic()
        while await inbox.status(update) not in ("done", "failed"):
            if time.monotonic() - t0 > 300:
                raise RuntimeError(f"chat {chat}: update never processed")
            await asyncio.sleep(0.02)
        figs.updates += 1


async def killer(bot: BotProcess, http: ClientSession, done: asyncio.Event, figs: Figures, kills: int,
                 rng: random.Random) -> None:
    """Kill the bot after a random 0.3–2 s of work and start it again, ``kills`` times or until all are done."""
    while not done.is_set():
        await bot.ready(http)
        if figs.kills >= kills:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), rng.uniform(0.3, 2.0))
        if done.is_set():
            return
        bot.kill()
        figs.kills += 1
        bot.start()


async def check(sm: Any, fake: Any, chats: list[Any], figs: Figures, channel: str = "telegram") -> None:
    from storage.account_models import ZaloUpdate
    from storage.channel_models import TelegramUpdate
    from storage.models import Dossier, OutboxMessage
    inbox = ZaloUpdate if channel == "zalo" else TelegramUpdate
    expected = {"deceased.full_name": "NGUYỄN VĂN AN", "deceased.birth_date": "1950-03-05",
                "applicant.full_name": "NGUYỄN VĂN BÌNH", "applicant.birth_date": "1975-02-01",
                "deceased.burial_place": "Nghĩa trang thôn 3", "deceased.cause": "thien_tai"}
    async with sm() as db:
        for chat in chats:
            rows = list((await db.execute(select(Dossier).where(
                Dossier.submitter_key == f"{channel}:{chat}"))).scalars())
            if not rows:
                figs.missing_dossiers += 1
                figs.problems.append(f"chat {chat}: no dossier")
                continue
            figs.duplicate_dossiers += len(rows) - 1
            got = {k: rows[0].answers.get(k) for k in expected}
            if got != expected:
                figs.answers_lost += 1
                figs.problems.append(f"chat {chat}: answers differ: {json.dumps(got, ensure_ascii=False)}")
        bad = (await db.execute(select(inbox.status, func.count()).where(
            inbox.status != "done").group_by(inbox.status))).all()
        figs.not_exactly_once = sum(n for _s, n in bad)
        if bad:
            figs.problems.append(f"inbox rows not done: {dict(bad)}")
        rows = list((await db.execute(select(OutboxMessage))).scalars())
    for m in rows:
        if m.status != "delivered":
            figs.undelivered_notifications += 1
            figs.problems.append(f"outbox {m.kind} {m.status}")
            continue
        raw = m.chat_key.split(":", 1)[1]
        chat = raw if channel == "zalo" else int(raw)
        text = str((m.payload or {}).get("text") or (m.payload or {}).get("caption") or "")[:60]
        if text:
            seen = sum(1 for s in fake.sent(chat) if (s.text or "").startswith(text))
            if seen > 1:
                figs.double_notifications += 1
                figs.problems.append(f"chat {chat}: {m.kind} sent {seen} times")


async def run(args: argparse.Namespace, workdir: Path) -> Figures:
    from bot.service import Runtime
    from storage import keys
    figs = Figures()
    rng = random.Random(args.seed)
    zalo = args.channel == "zalo"
    fake: Any = await (FakeZaloAPI() if zalo else FakeTelegramAPI()).start()
    var = workdir / "var"
    async with database(args, workdir) as (db_url, _label):
        keys.configure(var)
        async with Runtime(db_url, var_dir=var) as rt:  # migrates the database and makes the key file first
            port = free_port()
            bot = BotProcess(db_url, var, fake.base_url, port, workdir / "bot.log", args.channel,
                             token=getattr(fake, "token", TOKEN))
            chats: list[Any] = []
            ids = iter(range(7_000_000, 8_000_000))
            done = asyncio.Event()

            async def worker() -> None:  # new citizens until the kills are done (at least one each)
                while True:
                    chat = f"c{next(ids)}" if zalo else next(ids)
                    chats.append(chat)
                    await citizen(chat, fake, url, Inbox(rt.sm), http, figs)
                    if figs.kills >= args.kills:
                        return

            async with ClientSession() as http:
                bot.start()
                t0 = time.monotonic()
                kill_task = asyncio.create_task(killer(bot, http, done, figs, args.kills, rng))
                try:
                    await bot.ready(http)
                    url = f"http://127.0.0.1:{port}/{args.channel}/webhook"
                    await asyncio.gather(*(worker() for _ in range(args.chats)))
                finally:
                    done.set()
                    await kill_task
                # the notifier delivers the receipts and form copies; give it time after the last kill
                await bot.ready(http)
                t1 = time.monotonic()
                while time.monotonic() - t1 < 120:
                    from storage.models import OutboxMessage
                    async with rt.sm() as db:
                        left = (await db.execute(select(func.count()).select_from(OutboxMessage).where(
                            OutboxMessage.status != "delivered"))).scalar_one()
                    if not left:
                        break
                    await asyncio.sleep(0.2)
                figs.seconds = time.monotonic() - t0
                bot.stop()
            figs.chats = len(chats)
            await check(rt.sm, fake, chats, figs, args.channel)
    await fake.stop()
    return figs


def report(figs: Figures) -> str:
    lines = [f"{figs.chats} citizens, {figs.updates} updates, {figs.kills} kills -9 "
             f"({figs.posts_refused} posts refused while down and posted again), {figs.seconds:.0f} s",
             f"answers lost: {figs.answers_lost} · duplicate dossiers: {figs.duplicate_dossiers} · missing dossiers: "
             f"{figs.missing_dossiers} · updates not processed exactly once: {figs.not_exactly_once} · "
             f"double notifications: {figs.double_notifications} · undelivered: {figs.undelivered_notifications}"]
    lines += [f"  ! {p}" for p in figs.problems[:20]]
    lines.append("OK" if figs.ok else "FAILED")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--channel", choices=["telegram", "zalo"], default="telegram")
    p.add_argument("--kills", type=int, default=100)
    p.add_argument("--chats", type=int, default=12, help="citizens at a time (new ones start until the kills are done)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg", help="a PostgreSQL server URL (a fresh database is made and dropped)")
    p.add_argument("--keep", action="store_true", help="keep the work folder (the bot's log)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="dvcbot-crash-"))
    figs = asyncio.run(run(args, workdir))
    print(report(figs))
    if args.keep or not figs.ok:
        print(f"work folder: {workdir}")
    return 0 if figs.ok else 1


if __name__ == "__main__":
    sys.exit(main())
