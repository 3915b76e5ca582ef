"""How fast is the Telegram bot over its webhook, next to a bare aiogram echo bot?

Posts synthetic Telegram updates to webhooks over loopback HTTP (127.0.0.1), and measures in the same run:

* BASELINE: a bare aiogram 3 echo bot — a ``Dispatcher`` with one message handler answering the same text
  with ``bot.send_message`` — served by aiogram's ``SimpleRequestHandler`` on an aiohttp app;
* our bot: ``TelegramChannel.webhook_app()`` on a real SQLite file (``Runtime`` from bot/service.py), many
  synthetic citizens each doing the complete funeral-support procedure (``ho-tro-chi-phi-mai-tang``:
  /start, button presses, typed answers, a shared contact, one photo, confirm, sworn statement →
  submitted dossier), with the outbox notifier running in the same process as ``dvcbot telegram`` runs it:
  it sends the receipt and the copy of the form as a follow-up document (rendered in the form worker
  process, bot/formcopy.py);
* our bot with text messages at the menu only (the cheapest path through the inbox and the runtime).

Both bots talk to the same fake Bot API server (tests/fakes/telegram_api.py) on 127.0.0.1. Many chats post
at once; each chat posts its next update only when the bot has answered the previous one (as a person
does), so a chat's updates arrive in order. For every update:

* HTTP: the webhook's response time (POST → 200; our bot answers once the update is stored in its inbox);
* reply: POST → the fake API receiving the bot's answer — for the echo bot its one message, for our bot
  the last message of the turn (the next question, or the dossier's form), when the person can answer.

The table shows updates per second, p50/p99 of both, our throughput as a share of the echo bot's, and how
many times the echo bot's reply latency ours is. Everything (the load, the fake API, the bot) runs on one
asyncio loop in one process, as in production, where one process serves one bot. Rate limiting is off
(Telegram's own 30 messages/s would otherwise be what is measured).

    python bench/telegram_bench.py           # full run, under a minute
    python bench/telegram_bench.py --quick   # about ten seconds
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import logging
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/telegram_bench.py` without installing
    sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.types import Message  # noqa: E402
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application  # noqa: E402
from aiohttp import ClientSession, TCPConnector, web  # noqa: E402

from bot.inbound import InboundLimits  # noqa: E402
from bot.notifier import Limits, Notifier  # noqa: E402
from bot.service import Runtime, settle_heap  # noqa: E402
from bot.telegram import TelegramChannel, TelegramConfig  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI, Sent  # noqa: E402

PROC = "ho-tro-chi-phi-mai-tang"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # a Monday morning
TOKEN = "123456:BENCH-token"
SECRET = "bench_s3cret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
NO_LIMITS = Limits(0.0, 1_000_000.0, 1_000_000.0)
NO_INBOUND_LIMITS = InboundLimits(1_000_000.0, 1_000_000.0, 1_000_000.0, 1_000_000.0)  # measure, don't throttle


def photo(n: int) -> bytes:
    """A small real JPEG (uploads are decoded), different for every citizen (so every one is really stored)."""
    import io

    from PIL import Image
    img = Image.frombytes("L", (64, 64), bytes((n * 7 + i * 13) % 256 for i in range(64 * 64)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85, comment=n.to_bytes(8, "big"))
    return buf.getvalue()


# One citizen's complete conversation over Telegram, menu to submitted dossier: ("say", text), ("press", a
# button label or its prefix, on the latest message with buttons), ("contact", phone), ("photo", None).
FUNERAL: list[tuple[str, str | None]] = [
    ("say", "/start"), ("press", "Hỗ trợ chi phí mai táng"), ("press", "Tôi là người đứng ra mai táng"),
    ("press", "Tôi đồng ý"), ("press", "Thiên tai"), ("say", "Nguyễn Văn An"), ("say", "5/3/1950"), ("press", "Nam"),
    ("say", "Kinh"),
    ("say", "Lâm Đồng"), ("say", "duc trong"), ("say", "Thôn 3"), ("press", "Đã mất"), ("say", "10/11/2026"),
    ("say", "12/11/2026"),
    ("say", "Nghĩa trang thôn 3"), ("press", "Hộ gia đình hoặc cá nhân"), ("say", "Nguyễn Văn Bình"),
    ("say", "01/02/1975"), ("say", "068 075 001 234"), ("press", "Bỏ qua"), ("say", "Lâm Đồng"),
    ("say", "Đức Trọng"), ("say", "Thôn 3"), ("press", "Có"), ("say", "con trai"), ("contact", "+84912345678"),
    ("photo", None), ("press", "Xong"), ("press", "Đúng, nộp hồ sơ"), ("press", "Tôi xin cam đoan"),
]
UPDATES_PER_CONVERSATION = len(FUNERAL)
MENU_TEXTS = ["xin chào", "tôi cần giúp", "abc", "cho hỏi", "?"]  # typed at the menu: no procedure starts


@dataclass
class Result:
    name: str
    updates: int = 0
    seconds: float = 0.0
    http: list[float] = field(default_factory=list)   # seconds, POST → webhook response
    reply: list[float] = field(default_factory=list)  # seconds, POST → the fake API has the (last) reply
    submit: list[float] = field(default_factory=list)  # reply latency of the sworn statement that files the dossier
    conversations: int = 0
    cpu: float = 0.0  # seconds of CPU of this process (every thread) over the scenario
    api_calls: int = 0  # Bot API calls the fake API received during the scenario (the notifier's too)
    late: int = 0  # open loop: updates posted after their scheduled time (their chat's previous turn still ran)
    full_gc: list[float] = field(default_factory=list)  # open loop: each full (generation 2) collection's seconds

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.updates and self.seconds else float("nan")

    @property
    def cpu_ms(self) -> float:
        """CPU per update, ms: the load generator, the fake API and the bot share the process."""
        return self.cpu / self.updates * 1000 if self.updates else float("nan")

    def pct(self, q: float, xs: list[float] | None = None) -> float:
        xs = sorted(self.reply if xs is None else xs)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


class Probe:
    """Listens on the fake API: when the last message to each chat came, and who is waiting for one."""

    def __init__(self, fake: FakeTelegramAPI):
        self.last_at: dict[int, float] = {}
        self.count: dict[int, int] = {}
        self.waiting: dict[int, asyncio.Future] = {}
        fake.listeners.append(self)

    def __call__(self, s: Sent) -> None:
        self.last_at[s.chat_id] = time.perf_counter()
        self.count[s.chat_id] = self.count.get(s.chat_id, 0) + 1
        fut = self.waiting.pop(s.chat_id, None)
        if fut is not None and not fut.done():
            fut.set_result(None)

    def expect(self, chat: int) -> asyncio.Future:
        fut = self.waiting[chat] = asyncio.get_running_loop().create_future()
        return fut


class Poster:
    """Posts updates to one webhook URL with the secret header; a Bot API call returned in the response is made
    as Telegram makes it (in the fake, without a request: Telegram's work, not the bot's)."""

    def __init__(self, url: str, fake: FakeTelegramAPI):
        self.url = url
        self.fake = fake
        self.http = ClientSession(connector=TCPConnector(limit=0))

    async def post(self, update: dict[str, Any]) -> float:
        s0 = time.perf_counter()
        async with self.http.post(self.url, json=update, headers=HEADERS) as r:
            body = await r.read()
            if r.status != 200:
                raise RuntimeError(f"webhook answered {r.status}")
        elapsed = time.perf_counter() - s0
        await self.fake.webhook_response(body)
        return elapsed

    async def close(self) -> None:
        await self.http.close()


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def load(name: str, chat_ids: itertools.count, one_chat: Callable[[int, Result], Awaitable[None]], *,
               concurrency: int, budget: float, max_chats: int, calls: list[Any]) -> Result:
    """``concurrency`` chats at a time, new chats starting until the time budget is spent (every started
    chat's script is finished; each worker runs at least one)."""
    res = Result(name)
    started = itertools.count()
    deadline = time.perf_counter() + budget

    async def worker() -> None:
        while next(started) < max_chats:
            await one_chat(next(chat_ids), res)
            if time.perf_counter() >= deadline:
                return

    t0, c0, n0 = time.perf_counter(), time.process_time(), len(calls)
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    res.seconds = time.perf_counter() - t0
    res.cpu = time.process_time() - c0
    res.api_calls = len(calls) - n0
    return res


# --------------------------------------------------------------------------------------------
# baseline: the bare aiogram echo bot


class EchoBot:
    def __init__(self, fake: FakeTelegramAPI):
        self.fake = fake
        self.bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        self.dp = Dispatcher()

        @self.dp.message()
        async def echo(message: Message, bot: Bot) -> None:
            await bot.send_message(message.chat.id, message.text or "?")

    async def start(self) -> EchoBot:
        app = web.Application()
        SimpleRequestHandler(dispatcher=self.dp, bot=self.bot, secret_token=SECRET).register(app, path="/webhook")
        setup_application(app, self.dp, bot=self.bot)
        self.runner, port = await serve(app)
        self.poster = Poster(f"http://127.0.0.1:{port}/webhook", self.fake)
        return self

    async def stop(self) -> None:
        await self.poster.close()
        await self.runner.cleanup()  # closes the bot's session too (setup_application's shutdown)

    async def chat(self, probe: Probe, chat: int, res: Result, messages: int) -> None:
        for i in range(messages):
            waiter = probe.expect(chat)
            s0 = time.perf_counter()
            res.http.append(await self.poster.post(self.fake.text_update(chat, MENU_TEXTS[i % len(MENU_TEXTS)])))
            await asyncio.wait_for(waiter, 30)
            res.reply.append(probe.last_at[chat] - s0)
            res.updates += 1
        res.conversations += 1


# --------------------------------------------------------------------------------------------
# our bot


class OurBot:
    def __init__(self, rt: Runtime, fake: FakeTelegramAPI, concurrency: int):
        self.fake = fake
        self.channel = TelegramChannel(rt, TelegramConfig(token=TOKEN, api_base=fake.base_url, secret=SECRET,
                                                          limits=NO_LIMITS, max_concurrency=concurrency,
                                                          inbound=NO_INBOUND_LIMITS))

    async def start(self) -> OurBot:
        self.runner, port = await serve(self.channel.webhook_app())  # start-up: command menu, inbox recovery
        self.poster = Poster(f"http://127.0.0.1:{port}{self.channel.config.webhook_path}", self.fake)
        # the outbox notifier, as `dvcbot telegram` runs it: receipts and the form copies (follow-up documents)
        self.notifier = Notifier(self.channel.runtime.sm, [], now=lambda: NOW, write=self.channel.runtime.orm_write)
        self.channel.attach_notifier(self.notifier)
        self.stop_notifier = asyncio.Event()
        self.notifier_task = asyncio.create_task(self.notifier.run(stop=self.stop_notifier, idle=0.05))
        return self

    async def stop(self) -> None:
        self.stop_notifier.set()
        await self.notifier_task
        await self.poster.close()
        await self.runner.cleanup()

    async def follow_ups(self, chats: int, timeout: float = 120) -> tuple[int, float]:
        """Wait until every filed dossier's form copy reached its chat; (copies, seconds waited)."""
        s0 = time.perf_counter()
        while time.perf_counter() - s0 < timeout:
            if self.documents() >= chats:
                break
            await asyncio.sleep(0.05)
        return self.documents(), time.perf_counter() - s0

    def documents(self) -> int:
        return sum(1 for msgs in self.fake.messages.values() for m in msgs if m.kind == "document")

    async def step(self, probe: Probe, chat: int, update: dict[str, Any], res: Result) -> float:
        """Post one update and wait until the bot has finished that chat's turn (its per-chat queue is empty:
        every reply of the turn has reached the fake API)."""
        before = probe.count.get(chat, 0)
        s0 = time.perf_counter()
        res.http.append(await self.poster.post(update))
        task = self.channel.queues.tasks.get(f"telegram:{chat}")
        if task is not None:
            await asyncio.wait_for(asyncio.shield(task), 60)
        if probe.count.get(chat, 0) == before:
            raise AssertionError(f"chat {chat}: no reply to update {update['update_id']}")
        took = probe.last_at[chat] - s0
        res.reply.append(took)
        res.updates += 1
        return took

    async def funeral(self, probe: Probe, chat: int, res: Result) -> None:
        f = self.fake
        for kind, arg in FUNERAL:
            if kind == "say":
                update = f.text_update(chat, arg)
            elif kind == "press":
                update = f.press(chat, arg)
            elif kind == "contact":
                update = f.contact_update(chat, arg)
            else:
                update = f.photo_update(chat, photo(chat))
            took = await self.step(probe, chat, update, res)
        res.submit.append(took)  # the last step files the dossier (its form copy follows from the outbox)
        texts = [m.text or "" for m in f.sent(chat)]
        if not any("Mã hồ sơ" in t for t in texts):
            raise AssertionError(f"chat {chat}: the conversation did not end with a submitted dossier; the bot's "
                                 f"last messages: {[t[:120] for t in texts[-3:]]}")
        res.conversations += 1

    def funeral_update(self, chat: int, kind: str, arg: str | None) -> dict[str, Any]:
        f = self.fake
        if kind == "say":
            return f.text_update(chat, arg)
        if kind == "press":
            return f.press(chat, arg)
        if kind == "contact":
            return f.contact_update(chat, arg)
        return f.photo_update(chat, photo(chat))

    async def open_loop(self, probe: Probe, chat_ids: itertools.count, *, chats: int, rate: float,
                        seconds: float, settle: bool = True) -> Result:
        """An open loop: ``chats`` citizens doing the funeral procedure, their updates scheduled at ``rate`` per
        second in all (one every ``1/rate`` s, round the chats), whatever the bot does meanwhile. A citizen only
        answers the question they were asked, so an update whose chat's previous turn is still running goes
        when that turn ends (counted as *late*). No new update is scheduled after ``seconds``.

        As in a steady state, the citizens are spread over the procedure: before the clock starts (not measured),
        citizen ``i`` has already answered ``i mod 31`` of its 31 steps (with fewer than 31 chats, ``i/chats`` of
        them), and one who has filed is followed by a new one in a new chat. Citizens post in turn, so
        neighbours are one step apart and filings come evenly, about ``rate/31`` a second. (Until 05/12/2026
        citizen ``i`` had answered ``i/chats``: the 16 of 500 who were one step from filing were neighbours, and
        filed one after the other within 0.16 s, every ``chats/rate`` seconds.)

        With ``settle``, the heap is then settled as the bot's own process does once set up
        (:func:`bot.service.settle_heap`): here that also takes in the earlier scenarios' records of the fake
        Bot API, which a bot's process would not hold. Each full collection during the clock is timed."""
        res = Result(f"open loop: {chats} chats, {rate:g} updates/s scheduled")
        period = chats / rate
        steps = len(FUNERAL)
        starts = [i % steps if chats >= steps else (i * steps) // chats for i in range(chats)]
        firsts = [next(chat_ids) for _ in range(chats)]
        scratch = Result("open loop: before the clock")

        async def walk(chat: int, steps: int) -> None:
            for kind, arg in FUNERAL[:steps]:
                await self.step(probe, chat, self.funeral_update(chat, kind, arg), scratch)

        await asyncio.gather(*(walk(chat, n) for chat, n in zip(firsts, starts, strict=True)))
        if settle:
            settle_heap()
        began: list[float] = []

        def timed(phase: str, info: dict[str, Any]) -> None:
            if info.get("generation") == 2:
                if phase == "start":
                    began.append(time.perf_counter())
                elif began:
                    res.full_gc.append(time.perf_counter() - began.pop())

        gc.callbacks.append(timed)
        t0 = time.perf_counter()
        deadline = t0 + seconds
        late = 0

        async def citizen(i: int, chat: int) -> None:
            nonlocal late
            due = t0 + i / rate
            n, first = starts[i], True
            while due < deadline:
                if n == len(FUNERAL):  # filed: the next citizen, in a new chat
                    chat, n = next(chat_ids), 0
                kind, arg = FUNERAL[n]
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                elif not first:
                    late += 1
                took = await self.step(probe, chat, self.funeral_update(chat, kind, arg), res)
                if n == len(FUNERAL) - 1:
                    res.submit.append(took)
                    res.conversations += 1
                n, first, due = n + 1, False, due + period

        c0, n0 = time.process_time(), len(self.fake.calls)
        try:
            await asyncio.gather(*(citizen(i, chat) for i, chat in enumerate(firsts)))
        finally:
            gc.callbacks.remove(timed)
            if settle:
                gc.unfreeze()  # (the bench's own records are garbage again once it is done with them)
        res.seconds = time.perf_counter() - t0
        res.cpu = time.process_time() - c0
        res.api_calls = len(self.fake.calls) - n0
        res.late = late
        return res

    async def menu_texts(self, probe: Probe, chat: int, res: Result, messages: int) -> None:
        await self.step(probe, chat, self.fake.text_update(chat, "/start"), res)
        for i in range(messages - 1):
            await self.step(probe, chat, self.fake.text_update(chat, MENU_TEXTS[i % len(MENU_TEXTS)]), res)
        res.conversations += 1


# --------------------------------------------------------------------------------------------


@asynccontextmanager
async def database(args: argparse.Namespace, workdir: Path) -> AsyncIterator[tuple[str, str]]:
    """(URL, label): a SQLite file in the work folder, or a fresh database on the --pg server (dropped after)."""
    if not args.pg:
        yield f"sqlite+aiosqlite:///{workdir}/telegram.db", "SQLite file"
        return
    import asyncpg

    name = f"tg_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(args.pg)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}", \
            "PostgreSQL"
    finally:
        conn = await asyncpg.connect(args.pg)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def table(results: list[Result], echo: Result) -> str:
    head = (f"{'scenario':48s} {'chats':>5s} {'updates':>7s} {'upd/s':>7s} {'HTTP p50':>8s} {'p99':>7s} "
            f"{'reply p50':>9s} {'p99':>7s} {'CPU ms':>7s} {'API':>5s} {'thr/echo':>8s} {'lat×echo':>8s} "
            f"{'CPU×echo':>8s}")
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r.name:48s} {r.conversations:5d} {r.updates:7d} {r.rate:7.0f} {r.pct(0.5, r.http):8.2f} "
                     f"{r.pct(0.99, r.http):7.2f} {r.pct(0.5):9.2f} {r.pct(0.99):7.2f} {r.cpu_ms:7.2f} "
                     f"{r.api_calls / max(1, r.updates):5.2f} "
                     f"{r.rate / echo.rate:8.3f} {r.pct(0.5) / echo.pct(0.5):7.1f}x {r.cpu_ms / echo.cpu_ms:7.1f}x")
    lines.append("ms; HTTP: POST → webhook response; reply: POST → the fake API has the bot's (last) reply; "
                 "thr/echo: updates/s as a share of the echo bot's; lat×echo: reply p50 over the echo bot's;\n"
                 "CPU ms: CPU of the whole process (load, fake API, bot) per update, less sensitive to a busy "
                 "machine; API: Bot API calls per update; CPU×echo: CPU per update over the echo bot's")
    return "\n".join(lines)


async def run(args: argparse.Namespace, workdir: Path, out: Callable[[str], None]) -> dict[str, Any]:
    async with database(args, workdir) as (url, label):
        return await run_on(args, url, label, workdir, out)


async def run_on(args: argparse.Namespace, url: str, db: str, workdir: Path,
                 out: Callable[[str], None]) -> dict[str, Any]:
    started = time.perf_counter()
    chat_ids = itertools.count(10_000_001)
    c = args.concurrency
    async with AsyncExitStack() as stack:  # stopped in reverse order: our bot, echo bot, runtime, fake API
        fake = await FakeTelegramAPI(latency=args.api_latency / 1000).start()
        stack.push_async_callback(fake.stop)
        probe = Probe(fake)
        rt = await Runtime(url, var_dir=workdir / "var", now=lambda: NOW).open()
        stack.push_async_callback(rt.close)
        echo_bot = await EchoBot(fake).start()
        stack.push_async_callback(echo_bot.stop)
        ours = await OurBot(rt, fake, c).start()
        stack.push_async_callback(ours.stop)

        if not args.no_warm_up:  # first-use costs: connections, caches, the form PDF's fonts
            await echo_bot.chat(probe, next(chat_ids), Result("warm-up"), 5)
            await ours.funeral(probe, next(chat_ids), Result("warm-up"))
        if not args.no_settle:  # as `dvcbot telegram` does once set up, before it serves: both bots alike
            settle_heap()

        echo = await load(f"BASELINE bare aiogram echo bot, {c} chats", chat_ids,
                          lambda chat, res: echo_bot.chat(probe, chat, res, args.messages),
                          concurrency=c, budget=args.budget, max_chats=args.chats, calls=fake.calls)
        before: list[Result] = []
        if not args.no_orm:  # the same bot with every step on the ORM path (before the lean step), same run
            try:
                rt_orm = await Runtime(url, var_dir=workdir / "var", now=lambda: NOW, lean=False).open(migrate=False)
            except TypeError:  # a tree without the lean step
                rt_orm = None
            if rt_orm is not None:
                orm_bot = await OurBot(rt_orm, fake, c).start()
                try:
                    await orm_bot.funeral(probe, next(chat_ids), Result("warm-up"))
                    before.append(await load(f"before: ORM step, funeral, {db}, one chat", chat_ids,
                                             lambda chat, res: orm_bot.funeral(probe, chat, res),
                                             concurrency=1, budget=args.budget / 2, max_chats=args.chats,
                                             calls=fake.calls))
                    before.append(await load(f"before: ORM step, funeral, {db}, {c} chats", chat_ids,
                                             lambda chat, res: orm_bot.funeral(probe, chat, res),
                                             concurrency=c, budget=args.budget, max_chats=args.chats,
                                             calls=fake.calls))
                    await orm_bot.follow_ups(sum(r.conversations for r in before) + 1)
                finally:
                    await orm_bot.stop()
                    await rt_orm.close()
        seq = await load(f"ours: funeral procedure, {db}, one chat", chat_ids,
                         lambda chat, res: ours.funeral(probe, chat, res),
                         concurrency=1, budget=args.budget / 2, max_chats=args.chats, calls=fake.calls)
        funeral = await load(f"ours: funeral procedure, {db}, {c} chats", chat_ids,
                             lambda chat, res: ours.funeral(probe, chat, res),
                             concurrency=c, budget=args.budget, max_chats=args.chats, calls=fake.calls)
        results = [echo, *before, seq, funeral]
        if not args.no_menu:
            results.append(await load(f"ours: text at the menu, {db}, {c} chats", chat_ids,
                                      lambda chat, res: ours.menu_texts(probe, chat, res, args.messages),
                                      concurrency=c, budget=args.budget, max_chats=args.chats, calls=fake.calls))
        loop = None
        if args.open_chats:
            loop = await ours.open_loop(probe, chat_ids, chats=args.open_chats, rate=args.open_rate,
                                        seconds=args.open_seconds, settle=not args.no_settle)
        filed = sum(r.conversations for r in results if "funeral" in r.name) + (0 if args.no_warm_up else 1) \
            + (1 if before else 0) + (loop.conversations if loop else 0)
        copies, waited = await ours.follow_ups(filed)
        stats = ours.channel.stats
        failed_calls = [x for x in fake.calls if x.status >= 400]

    out("dvcbot Telegram webhook benchmark: loopback HTTP against a fake Bot API"
        + (f" answering each call {args.api_latency:g} ms late" if args.api_latency else "")
        + f", {c} chats at once, Python {sys.version.split()[0]}")
    out(f"funeral procedure: {UPDATES_PER_CONVERSATION} updates per citizen (/start, presses, typed answers, "
        f"contact, one photo, confirm, oath → dossier; the form copy follows from the outbox)")
    out("")
    out(table(results, echo))
    out("")
    out(f"ours/echo throughput: {funeral.rate / echo.rate:.3f} (full procedure steps), reply latency p50 "
        f"{funeral.pct(0.5) / echo.pct(0.5):.1f}x, p99 {funeral.pct(0.99) / echo.pct(0.99):.1f}x the echo bot's"
        + (f"; before (ORM step): {before[-1].rate / echo.rate:.3f}, CPU per update {before[-1].cpu_ms:.1f} ms "
           f"against {funeral.cpu_ms:.1f} ms now" if before else ""))
    for r in (*before, seq, funeral):
        other = sorted(r.reply)
        for x in r.submit:
            other.remove(x)
        out(f"{r.name}: steps without filing p50 {r.pct(0.5, other):.1f} ms, p99 {r.pct(0.99, other):.1f} ms; "
            f"the filing step (dossier, agency leg, outbox rows) p50 {r.pct(0.5, r.submit):.1f} ms")
    if loop is not None:
        steps = sorted(loop.reply)
        for x in loop.submit:
            steps.remove(x)
        out(f"{loop.name}, {args.open_seconds:g} s: {loop.updates} updates ({loop.rate:.0f}/s), {loop.late} posted "
            f"late (their chat's previous turn still running); reply p50 {loop.pct(0.5):.1f} ms, p99 "
            f"{loop.pct(0.99):.1f} ms; steps without filing p50 {loop.pct(0.5, steps):.1f} ms, p99 "
            f"{loop.pct(0.99, steps):.1f} ms; the "
            f"filing step p50 {loop.pct(0.5, loop.submit):.1f} ms ({len(loop.submit)} filed); CPU {loop.cpu_ms:.2f} "
            f"ms per update; {len(loop.full_gc)} full garbage collections, the longest "
            f"{max(loop.full_gc, default=0) * 1000:.0f} ms ("
            + ("heap settled first, as the bot's process does: gc.freeze" if not args.no_settle else
               "heap not settled: --no-settle") + ")")
    out(f"form copies delivered as documents: {copies} of {filed} dossiers ({waited:.1f} s after the last step)")
    out(f"our channel: {stats.accepted} updates accepted, {stats.turns} turns, {stats.duplicates} duplicates, "
        f"{stats.stale} stale buttons, {stats.failed} failed; Bot API calls with an error: {len(failed_calls)}")
    out(f"\ntotal {time.perf_counter() - started:.1f} s")
    return {"results": {r.name: {"chats": r.conversations, "updates": r.updates, "updates_per_s": r.rate,
                                 "http_p50_ms": r.pct(0.5, r.http), "http_p99_ms": r.pct(0.99, r.http),
                                 "reply_p50_ms": r.pct(0.5), "reply_p99_ms": r.pct(0.99),
                                 "submit_p50_ms": r.pct(0.5, r.submit), "cpu_ms_per_update": r.cpu_ms}
                        for r in results},
            "ratios": {"throughput_ours_over_echo": funeral.rate / echo.rate,
                       "reply_p50_ours_over_echo": funeral.pct(0.5) / echo.pct(0.5),
                       "reply_p99_ours_over_echo": funeral.pct(0.99) / echo.pct(0.99)},
            "form_copies": {"filed": filed, "delivered": copies},
            "open_loop": None if loop is None else {
                "chats": args.open_chats, "rate_scheduled": args.open_rate, "updates": loop.updates,
                "updates_per_s": loop.rate, "late": loop.late, "reply_p50_ms": loop.pct(0.5),
                "reply_p99_ms": loop.pct(0.99), "submit_p50_ms": loop.pct(0.5, loop.submit),
                "cpu_ms_per_update": loop.cpu_ms, "full_gc": len(loop.full_gc),
                "full_gc_longest_ms": max(loop.full_gc, default=0) * 1000},
            "channel": {"accepted": stats.accepted, "turns": stats.turns, "stale": stats.stale,
                        "failed": stats.failed, "api_errors": len(failed_calls)}}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="a run of about ten seconds")
    p.add_argument("--budget", type=float, help="seconds for each scenario (new chats start until it is spent)")
    p.add_argument("--chats", type=int, help="at most this many chats in each scenario")
    p.add_argument("--concurrency", type=int, help="chats posting at once")
    p.add_argument("--messages", type=int, help="messages per chat for the echo bot and the menu-text scenario")
    p.add_argument("--no-warm-up", action="store_true", help="skip the warm-up (one echo chat, one citizen)")
    p.add_argument("--no-menu", action="store_true", help="skip the text-at-the-menu scenario")
    p.add_argument("--no-orm", action="store_true", help="skip the before rows (every step on the ORM path)")
    p.add_argument("--open-chats", type=int, help="chats of the open-loop run (0: none)")
    p.add_argument("--open-rate", type=float, help="updates per second the open loop schedules")
    p.add_argument("--open-seconds", type=float, help="seconds of the open loop's schedule")
    p.add_argument("--no-settle", action="store_true", help="leave the heap as it is (no gc.freeze after the "
                   "warm-up and before the open loop, unlike the bot's process)")
    p.add_argument("--pg", metavar="URL", help="run our bot on a fresh database on this PostgreSQL server "
                   "(e.g. postgresql://postgres@127.0.0.1:55433/postgres) instead of a SQLite file")
    p.add_argument("--api-latency", type=float, default=0.0, metavar="MS",
                   help="the fake Bot API answers each call this many milliseconds late, as a distant server does "
                        "(default 0: the harness measures CPU)")
    p.add_argument("--dir", type=Path, help="work in this folder (default: a temporary one)")
    p.add_argument("--json", action="store_true", help="also print the figures as JSON")
    return p


FULL = dict(budget=8.0, chats=100_000, concurrency=16, messages=20, open_chats=500, open_rate=100.0,
            open_seconds=30.0)
QUICK = dict(budget=0.3, chats=100_000, concurrency=2, messages=10, open_chats=20, open_rate=20.0, open_seconds=3.0)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for k, v in (QUICK if args.quick else FULL).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    # the benchmark's database has no officers: each filing's "leg has no officer to tell" is expected here
    logging.getLogger("dvcbot.cases").addFilter(lambda r: "has no officer" not in str(r.msg))
    aiogram_log = logging.getLogger("aiogram")
    level = aiogram_log.level
    aiogram_log.setLevel(logging.WARNING)  # aiogram logs every handled update at INFO
    try:
        with tempfile.TemporaryDirectory(prefix="dvcbot-tg-bench-") as tmp:
            workdir = args.dir or Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            figures = asyncio.run(run(args, workdir, print))
    finally:
        aiogram_log.setLevel(level)
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
