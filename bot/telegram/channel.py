"""The Telegram channel: aiogram's Bot and Dispatcher around the runtime, with a durable inbox.

Why one module of this size: webhook and polling ingress, album grouping and the inbox's ordered
processing all share one Bot, one Dispatcher and the same per-chat ordering state; the request checks
(webhook.py), rendering (render.py), sending (sending.py) and routers (handlers.py) are already apart.

::

    Telegram ──POST /telegram/webhook──► InboxWebhookHandler ─┐   (secret token checked, 401 otherwise)
    Telegram ◄──getUpdates── Dispatcher.start_polling ─► PollingIngress ─┤
                                                               ▼
                                         telegram_updates (INSERT … ON CONFLICT DO NOTHING)
                                                               │ 200 / next offset only after the commit
                                                               ▼
                            ChatQueues: one FIFO per chat ──► Dispatcher.feed_update(update, dvcbot_feed=…)
                                                               │ routers, filters, i18n middleware
                                                               ▼
                               handler → Turn(Incoming) → TurnMiddleware → TelegramChannel.run_turn
                                                               │ Runtime.start / Runtime.handle
                                                               ▼      (+ inbox row marked done, chat state)
                                    render → Outbound (shared rate limiter, 429 / network retries) → Bot API

A redelivered update hits the unique ``(bot_id, update_id)`` and is dropped. A
process that dies after storing an update processes it at the next start.

(Over 600 lines: one class whose parts — inbox, per-chat order, albums, buttons, delivery — share the same
per-chat state; the webhook request checks are in webhook.py, the aiogram handlers in handlers.py.)
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    SendDocument,
    SendMessage,
    SetMyCommands,
    SetWebhook,
)
from aiogram.types import BotCommand, BotCommandScopeDefault, BufferedInputFile, CallbackQuery, Message, Update
from aiogram.utils.i18n import gettext as _
from aiogram.webhook.aiohttp_server import setup_application
from aiohttp import web
from pydantic import ValidationError

from bot import formcopy
from bot.inbound import BUSY, OLDER_PENDING, OLDER_SENDING, InboundLimiter, InboundLimits, NoticeGate, apply_in_order
from bot.notifier import Limits
from dialogs.i18n import N_
from dialogs.messages import Ask, ChoiceOut, Incoming, IncomingFile, reply_from_json, reply_to_json
from storage.attachments import download_name
from storage.chatstore import ChatTx
from storage.db import unavailable

from .handlers import FEED_KEY, UNREADABLE, PollingIngress, Turn, build_router
from .i18n import ChatLocaleMiddleware, make_i18n
from .inbox import (
    ChatQueues,
    ChatRepo,
    ChatState,
    FeedCtx,
    FlushJob,
    InboxRepo,
    LeanInbox,
    OrmTurnRecord,
    UpdateJob,
    chat_of,
    media_group_of,
    safe_traceback,
    without_echo,
)
from .render import CODE_NAV, NAV_LABELS, ask_state, inline_keyboard, parse_callback, render, utf16_len
from .sending import BurstRateLimiter, JsonSession, Outbound, TelegramSender, default_limits, webhook_call
from .webhook import MAX_BODY, InboxWebhookHandler

log = logging.getLogger("dvcbot.telegram")

MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile limit of the public Bot API
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
COMMANDS = (
    ("start", N_("Bắt đầu, xem danh sách thủ tục")),
    ("hoso", N_("Xem hồ sơ đã nộp")),
    ("trogiup", N_("Trợ giúp")),
    ("huy", N_("Hủy hồ sơ đang khai")),
    ("ngonngu", N_("Đổi ngôn ngữ (Tiếng Việt / English)")),
)


SLOW_DOWN = N_("Bạn đang gửi tin nhắn quá nhanh. Vui lòng chờ một chút rồi gửi lại tin nhắn vừa rồi.")
LATE = N_("Một tin nhắn bạn gửi trước đó đến chậm, sau tin nhắn mới hơn, nên không được dùng để trả lời. "
          "Vui lòng xem câu hỏi mới nhất và gửi lại nếu cần.")
FILE_UNAVAILABLE = N_("(Tệp này tạm thời không mở được. Vui lòng thử lại sau ít phút.)")


class AlreadyProcessed(Exception):
    """The inbox row was processed by someone else meanwhile: the step is rolled back."""


class StaleButton(Exception):
    """The pressed button's question is no longer the current one: the step is rolled back."""


class OlderSending(Exception):
    """An older update of the same chat was applied but its replies are still being sent (by another process):
    the step is rolled back and waits, so its replies cannot overtake them."""


class OutOfOrder(Exception):
    """An older update of the same chat is still pending (received by this or another process): the step is
    rolled back, the older one is applied first."""


class LateUpdate(Exception):
    """A newer update of the same chat was already applied: this one came too late to be an answer."""


@dataclass
class NoticeJob:
    """Tell the chat something (in its language) without a conversation step."""

    text: str


@dataclass
class ReplayJob:
    """Send the replies of a turn that committed in an earlier run but were not all sent (the inbox row's
    ``replying`` status), then mark them sent."""

    row_id: int
    replies: dict[str, Any]


class FileTooBig(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@dataclass
class TelegramConfig:
    token: str
    api_base: str | None = None            # a local Bot API server, or the fake one in tests
    secret: str | None = None              # webhook secret token (X-Telegram-Bot-Api-Secret-Token)
    webhook_path: str = "/telegram/webhook"
    album_window: float = 0.8              # seconds to wait for the next part of an album
    limits: Limits = field(default_factory=default_limits)
    per_chat_burst: int = 3
    max_concurrency: int = 16              # conversation steps running at once (database connections)
    max_attempts: int = 3                  # tries of one update before it is marked failed
    retry_delay: float = 0.5
    busy_retry_max: float = 30.0           # the longest wait between tries while the database is unavailable
    busy_notice_every: float = 300.0       # “hệ thống đang bận” at most once per chat in this many seconds
    set_commands: bool = True
    request_timeout: float = 30.0
    inbound: InboundLimits = field(default_factory=InboundLimits)
    order_tries: int = 5                   # an update waits for older ones of its chat at most this many times
    sending_wait: float = 15.0             # …and at most this long for an older one's replies being sent
    reply_wait: float = 2.0                # a typed message's webhook response waits this long for its turn's
                                           # last reply, to carry it (0: never; replies are all calls)


@dataclass
class Album:
    group: str
    chat_id: int
    rows: list[int] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    seq: int = 0
    timer: asyncio.TimerHandle | None = None


@dataclass
class WebhookReply:
    """A turn's last message, returned as the body of the webhook's HTTP response to the message it answers
    (Telegram sends it: one Bot API call fewer, one round trip less to wait for). ``held``: the inbox row whose
    replies it ends, marked sent once the response is written."""

    body: bytes  # the call as JSON, with its "method"
    chat_key: str
    method: SendMessage
    held: int | None


@dataclass
class ChannelStats:
    accepted: int = 0
    duplicates: int = 0
    turns: int = 0
    stale: int = 0
    failed: int = 0
    limited: int = 0
    late: int = 0
    reordered: int = 0
    webhook_replies: int = 0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _settle(fut: asyncio.Future[bool] | None, value: bool) -> None:
    if fut is not None and not fut.done():
        fut.set_result(value)


def _typed(raw: dict[str, Any]) -> bool:
    """A message whose turn can return its reply in the webhook's response (not a press, whose response
    carries its callback answer, nor a part of an album, answered when the album is complete)."""
    m = raw.get("message")
    return isinstance(m, dict) and not m.get("media_group_id")


class TelegramChannel:
    """One bot token served by one process. See the module docstring and docs/telegram.md."""

    def __init__(self, runtime, config: TelegramConfig):
        self.runtime = runtime
        self.config = config
        api = TelegramAPIServer.from_base(config.api_base) if config.api_base else None
        session = JsonSession(api=api, timeout=config.request_timeout) if api else \
            JsonSession(timeout=config.request_timeout)
        self.bot = Bot(config.token, session=session)
        self.i18n = make_i18n(runtime.var_dir)
        self.limiter = BurstRateLimiter(config.limits, per_chat_burst=config.per_chat_burst)
        self.inbound = InboundLimiter(config.inbound)
        self.out = Outbound(self.bot, self.limiter)
        self.queues = ChatQueues(self._process)
        self.albums: dict[str, Album] = {}
        self.sem = asyncio.Semaphore(config.max_concurrency)
        self.stats = ChannelStats()
        self._langs: dict[int, str] = {}
        # the question each chat was last asked (its buttons' token), as this process last stored it, and the
        # presses already answered in the webhook's HTTP response (see webhook_reply)
        self._ask_tokens: dict[int, str] = {}
        self._answered: set[str] = set()
        # typed messages whose webhook response waits for the turn's last reply (update_id → its future)
        self._slots: dict[int, asyncio.Future[WebhookReply | None]] = {}
        # updates whose step stores them (see accept): update_id → whether it was new, and a press's answer
        # decided before its step changed the chat's question
        self._inflight: dict[int, asyncio.Future[bool]] = {}
        self._press_replies: dict[int, dict[str, Any]] = {}
        self._sending: set[asyncio.Future[None]] = set()  # replies of responses cut off, sent as calls
        self._busy = NoticeGate(config.busy_notice_every)  # “hệ thống đang bận”, once in a while per chat
        self._started = False
        self._purger: asyncio.Task | None = None
        # Runtime.handle/start(..., tx_hook=) (see docs/telegram.md): mark the inbox row and store the chat
        # state in the conversation step's own transaction. Without it, right after the step.
        self.hooks = all("tx_hook" in inspect.signature(f).parameters for f in (runtime.handle, runtime.start))

        self.dp = Dispatcher(disable_fsm=True, channel=self)
        self.dp.update.outer_middleware(PollingIngress(self))
        router = build_router()
        ChatLocaleMiddleware(self.i18n, self.locale_of).setup(router)
        self.dp.include_router(router)
        self.dp.startup.register(self._on_startup)
        self.dp.shutdown.register(self._on_shutdown)

    @property
    def sm(self):
        return self.runtime.sm

    @property
    def bot_id(self) -> int:
        return self.bot.id

    def sender(self) -> TelegramSender:
        """The notifier's Sender for ``telegram:`` outbox rows (share :attr:`limiter` with the notifier too)."""
        return TelegramSender(self.bot, self.sm, store=self.runtime.attachments)

    def attach_notifier(self, notifier) -> None:
        """Register our sender with a Notifier and make it use this channel's rate limiter, so replies and
        notifications share one budget and one 429 halt."""
        notifier.senders["telegram"] = self.sender()
        notifier.limiters["telegram"] = self.limiter
        formcopy.attach(notifier, self.runtime)  # the citizen's form copy, a follow-up document

    def gettext(self, lang: str):
        return lambda message: self.i18n.gettext(message, locale=lang)

    # ------------------------------------------------------------------------------------------
    # start-up and shutdown
    async def _on_startup(self) -> None:
        await self.start()

    async def _on_shutdown(self) -> None:
        await self.stop()

    async def start(self) -> None:
        """Set the command menu, process what the last run left in the inbox, start the clean-up loop."""
        if self._started:
            return
        self._started = True
        if self.config.set_commands:
            try:
                await self.set_commands()
            except TelegramAPIError as exc:
                log.warning("setMyCommands failed: %s", exc)
        await self.recover()
        self._purger = asyncio.get_running_loop().create_task(self._purge_loop(), name="tg-inbox-purge")

    async def stop(self, drain: float = 10.0) -> None:
        if self._purger is not None:
            self._purger.cancel()
            self._purger = None
        try:
            await asyncio.wait_for(self.join(), drain)
        except TimeoutError:
            log.warning("telegram: %d updates still queued at shutdown; they stay in the inbox", len(self.queues))
        await self.queues.cancel()
        for al in self.albums.values():
            if al.timer:
                al.timer.cancel()
        self.albums.clear()
        self._started = False

    async def close(self) -> None:
        await self.stop()
        await self.bot.session.close()

    async def set_commands(self) -> None:
        for lang in ("vi", "en", None):
            loc = lang or "vi"
            commands = [BotCommand(command=c, description=self.i18n.gettext(d, locale=loc)) for c, d in COMMANDS]
            await self.out.call(None, SetMyCommands(commands=commands, scope=BotCommandScopeDefault(),
                                                    language_code=lang), limited=False)

    async def recover(self) -> int:
        """Queue what a previous run did not finish, in the order it came: the replies of turns that committed
        but were not sent, then the updates it stored but did not process."""
        async with self.sm() as db:
            unsent = await InboxRepo(db).unsent(self.bot_id)
            rows = await InboxRepo(db).pending(self.bot_id)
        for row_id, key, replies in unsent:
            if key:
                self.queues.put(key, ReplayJob(row_id, replies))
        for row_id, key, raw in rows:
            self.queues.put(key or "telegram:_", UpdateJob(row_id, raw))
        if rows or unsent:
            log.info("telegram: %d unprocessed updates and %d unsent replies from the last run", len(rows),
                     len(unsent))
        return len(rows)

    async def _purge_loop(self, every: float = 6 * 3600) -> None:
        while True:
            try:
                async with self.sm() as db, db.begin():
                    n = await InboxRepo(db).purge(_utcnow())
                if n:
                    log.info("telegram: purged %d processed updates", n)
            except Exception as exc:
                log.error("telegram: inbox purge failed\n%s", safe_traceback(exc))
            await asyncio.sleep(every)

    async def join(self, timeout: float | None = None) -> None:
        """Wait until every received update is processed and its replies are marked sent (tests, shutdown)."""
        async def _idle() -> None:
            while True:
                await self.queues.idle.wait()
                if not self.albums and self.queues.idle.is_set():
                    return
                await asyncio.sleep(0.01)
        await asyncio.wait_for(_idle(), timeout)
        chats = getattr(self.runtime, "chats", None)
        if chats is not None:
            await chats.settle()

    # ------------------------------------------------------------------------------------------
    # modes
    def webhook_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        setup_application(app, self.dp, bot=self.bot)  # before register(): drain first, close the session last
        if not self.config.secret:
            log.warning("telegram webhook without a secret token: anyone can post updates")
        InboxWebhookHandler(self, dispatcher=self.dp, bot=self.bot, secret_token=self.config.secret,
                            handle_in_background=False).register(app, path=self.config.webhook_path)

        async def health(_request: web.Request) -> web.Response:
            state = await self.runtime.health()
            state.update(queued=len(self.queues), accepted=self.stats.accepted, duplicates=self.stats.duplicates)
            return web.json_response(state, status=200 if state["ok"] else 503)
        app.router.add_get("/healthz", health)
        return app

    async def run_webhook(self, host: str, port: int, *, webhook_url: str | None = None,
                          stop: asyncio.Event | None = None) -> None:
        runner = web.AppRunner(self.webhook_app(), access_log=None)
        await runner.setup()  # startup: command menu, inbox recovery
        site = web.TCPSite(runner, host, port)
        await site.start()
        try:
            if webhook_url:
                await self.out.call(None, SetWebhook(url=webhook_url, secret_token=self.config.secret,
                                                     allowed_updates=ALLOWED_UPDATES, max_connections=40),
                                    limited=False)
                log.info("webhook set to %s", webhook_url)
            log.info("telegram webhook listening on %s:%s%s", host, port, self.config.webhook_path)
            await (stop or asyncio.Event()).wait()
        finally:
            await runner.cleanup()

    async def run_polling(self, *, polling_timeout: int = 25, handle_signals: bool = True) -> None:
        """Long polling; updates are stored in the inbox before their offset is confirmed."""
        await self.out.call(None, DeleteWebhook(drop_pending_updates=False), limited=False)
        await self.dp.start_polling(self.bot, handle_as_tasks=False, polling_timeout=polling_timeout,
                                    allowed_updates=ALLOWED_UPDATES, handle_signals=handle_signals,
                                    close_bot_session=False)

    # ------------------------------------------------------------------------------------------
    # the inbox
    async def accept(self, raw: dict[str, Any], *, respond: bool = False) -> bool:
        """Store one update (webhook or polling); False if it was already received. An update over the chat's
        inbound limit is stored as refused (a redelivery is still a duplicate) and the person asked to wait.
        ``respond`` (the webhook): a typed message's turn may return its last reply for the HTTP response
        (:meth:`turn_reply`)."""
        raw = without_echo(raw)
        chat = chat_of(raw)
        key = f"telegram:{chat}" if chat is not None else None
        limited = key is not None and not self.inbound.allow_chat(key)
        chats = getattr(self.runtime, "chats", None)
        if respond and key is not None and not limited and self._stored_by_step(raw, key, chats):
            return await self._accept_in_step(raw, key)
        if chats is not None and not limited:  # the hot path: one INSERT on the runtime's driver-level store
            async with chats.write(single=True) as tx:
                row_id = await LeanInbox(tx).accept(self.bot_id, raw, key, _utcnow())
        else:
            async with self.sm() as db, db.begin():
                repo = InboxRepo(db)
                row_id = await repo.accept(self.bot_id, raw, key, _utcnow())
                if row_id is not None and limited:
                    await repo.failed_attempt(row_id, "RateLimited", _utcnow(), final=True)
        if row_id is None:
            self.stats.duplicates += 1
            log.info("telegram: duplicate update %s ignored", raw.get("update_id"))
            return False
        if limited:
            self.stats.limited += 1
            log.warning("telegram %s: inbound limit, update %s not processed", key, raw.get("update_id"))
            assert key is not None  # only a chat's updates are limited
            if self.inbound.should_notice(key):
                self.queues.put(key, NoticeJob(SLOW_DOWN))
            return True
        self.stats.accepted += 1
        if respond and key is not None:
            self._open_slot(raw)
        self.queues.put(key or "telegram:_", UpdateJob(row_id, raw))
        return True

    def _open_slot(self, raw: dict[str, Any]) -> None:
        """A typed message's webhook response will wait for its turn's last reply (:meth:`turn_reply`)."""
        if self.config.reply_wait > 0 and _typed(raw):
            self._slots[int(raw["update_id"])] = asyncio.get_running_loop().create_future()

    def _stored_by_step(self, raw: dict[str, Any], key: str, chats: Any) -> bool:
        """Whether the webhook's update can be stored by its own step's transaction, one commit instead of two:
        on the embedded store, whose one writer serves one process (so this process's queues see every update of
        the chat), for a typed text, a shared contact or a press of a chat with nothing else under way; its
        step runs at once, and the webhook answers once it has committed. A file (downloaded first), an album's
        part, or an update queued behind another is stored first, as before."""
        if chats is None or not getattr(chats, "single_writer", False) or not self.hooks:
            return False
        if int(raw["update_id"]) in self._inflight:  # a redelivery while the first is in its step
            return True
        if key in self.queues.tasks or key in self.albums:
            return False
        m = raw.get("message")
        if isinstance(m, dict):
            return not m.get("media_group_id") and (isinstance(m.get("text"), str) or isinstance(m.get("contact"),
                                                                                                dict))
        return isinstance(raw.get("callback_query"), dict)

    async def _accept_in_step(self, raw: dict[str, Any], key: str) -> bool:
        """:meth:`accept` of an update its step stores (:meth:`_stored_by_step`): queued unstored, and True once
        the step (or, if it was no step, a transaction of its own) has stored it; False if it was received
        before. The webhook answers Telegram only then, so an update it was told of is stored, as always; one
        that fails to be stored is answered with an error, and Telegram delivers it again."""
        uid = int(raw["update_id"])
        first = self._inflight.get(uid)
        if first is not None:  # Telegram delivered it again while the first delivery is in its step
            await asyncio.shield(first)  # (if that one could not be stored, neither is this: an error again)
            self.stats.duplicates += 1
            return False
        stored = self._inflight[uid] = asyncio.get_running_loop().create_future()
        press = self.webhook_reply(raw)  # decided now: the step is about to change the chat's question
        if press is not None:
            self._press_replies[uid] = press
        self._open_slot(raw)
        self.queues.put(key, UpdateJob(None, raw, stored=stored))
        try:
            new = await asyncio.shield(stored)  # (a request that goes away leaves the step to finish)
        except BaseException:
            self._press_replies.pop(uid, None)
            self._slots.pop(uid, None)
            raise
        finally:
            self._inflight.pop(uid, None)
        if not new:
            self._slots.pop(uid, None)
            self.stats.duplicates += 1
            log.info("telegram: duplicate update %s ignored", uid)
            if self._press_replies.pop(uid, None) is not None:
                self._answered.discard(raw["callback_query"]["id"])
            return False
        self.stats.accepted += 1
        return True

    async def _store_now(self, key: str, job: UpdateJob, feed: FeedCtx) -> int | None:
        """An update its step did not store (it was no step, or the step was rolled back): stored now in a
        transaction of its own, as :meth:`accept` stores one; its row. None if it had been received before (the
        step found it so, or the store does): there is nothing more to do with it."""
        if feed.extra.get("duplicate"):  # the step found it stored already: a redelivery
            _settle(job.stored, False)
            return None
        try:
            async with self.runtime.chats.write(single=True) as tx:
                row_id = await LeanInbox(tx).accept(self.bot_id, job.raw, key, _utcnow())
        except BaseException as exc:
            if job.stored is not None and not job.stored.done():
                job.stored.set_exception(exc)
            raise
        if row_id is None:
            _settle(job.stored, False)
            return None
        job.row_id, feed.rows, feed.fresh = row_id, [row_id], None
        _settle(job.stored, True)
        return row_id

    async def turn_reply(self, raw: dict[str, Any]) -> WebhookReply | None:
        """The last message of the turn a stored update started, for the webhook's HTTP response, once the turn
        has committed (at most :attr:`TelegramConfig.reply_wait` seconds: an update queued behind others of its
        chat is answered with an empty response, and its replies are sent as calls). None when the turn had
        nothing to return there."""
        uid = int(raw["update_id"])
        fut = self._slots.get(uid)
        if fut is None:
            return None
        try:
            await asyncio.wait({fut}, timeout=self.config.reply_wait)
        except asyncio.CancelledError:  # the request is gone: a reply handed over already goes as a call
            handed = fut.result() if fut.done() and not fut.cancelled() else None
            if handed is not None:
                task = asyncio.ensure_future(self.webhook_sent(handed, False))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
            raise
        finally:
            self._slots.pop(uid, None)
            if not fut.done():
                fut.cancel()  # (the turn, when it comes, sends its replies itself)
        return None if fut.cancelled() else fut.result()

    async def webhook_sent(self, reply: WebhookReply, written: bool) -> None:
        """After the webhook's response: its turn's replies are all out, or — the response could not be
        written (Telegram hung up) — the last one is sent as a call."""
        if not written:
            log.warning("%s: the webhook's response was not written; its reply goes as a call", reply.chat_key)
            with contextlib.suppress(TelegramAPIError):
                await self.out.call(reply.chat_key, reply.method, result=False)
        if reply.held is not None:
            await self._replies_sent(reply.held)

    async def _mark_done(self, rows: Sequence[int]) -> None:
        if rows:
            async with self.sm() as db, db.begin():
                await InboxRepo(db).mark_done(rows, _utcnow())

    async def _process(self, key: str, job: Any) -> None:
        if isinstance(job, FlushJob):
            return await self._flush_album(key, job.group, job.seq)
        if isinstance(job, ReplayJob):
            return await self._replay(key, job)
        if isinstance(job, NoticeJob):
            chat = key.split(":", 1)[1]
            if chat.lstrip("-").isdigit():
                with self.i18n.context(), self.i18n.use_locale(await self.locale_of(int(chat))):
                    text = _(job.text)
                with contextlib.suppress(TelegramAPIError):
                    await self.notice(int(chat), text)
            return
        try:
            await self._process_job(key, job)
        finally:  # a webhook response still waiting gets nothing to carry: it is answered now
            fut = self._slots.get(int(job.raw.get("update_id") or 0))
            if fut is not None and not fut.done():
                fut.set_result(None)
            if job.stored is not None and not job.stored.done():  # (not stored: Telegram sends it again)
                job.stored.set_exception(RuntimeError("update not stored"))

    async def _process_job(self, key: str, job: UpdateJob) -> None:
        async def step() -> str | None:
            feed = await self._process_update(key, job)
            if feed is None or not feed.out_of_order:
                return None
            return OLDER_SENDING if feed.extra.pop("sending", False) else OLDER_PENDING

        def overtake() -> None:
            job.overtake = True

        async def older() -> None:
            assert job.row_id is not None  # (an update found out of order is stored first)
            await self._apply_older(key, job.row_id)

        if not await apply_in_order(step, older, overtake=overtake,
                                    tries=self.config.order_tries, wait=self.config.sending_wait):
            log.warning("telegram %s: update %s still waits for an older one; left pending", key,
                        job.raw.get("update_id"))

    async def _process_update(self, key: str, job: UpdateJob) -> FeedCtx | None:
        group = media_group_of(job.raw)
        al = self.albums.get(key)
        if al is not None and al.group != group:  # something else came after the album: deliver it first
            await self._flush_album(key, al.group, None)
        feed = FeedCtx(rows=[] if job.row_id is None else [job.row_id], overtake=job.overtake,
                       slot=self._slots.get(int(job.raw["update_id"])),
                       fresh=job.raw if job.row_id is None else None, stored=job.stored)
        try:
            update = Update.model_validate(job.raw, context={"bot": self.bot})
        except ValidationError:
            # a message kind newer than our aiogram (or malformed): the person still gets an answer
            log.warning("telegram: update %s does not parse; dropped", job.raw.get("update_id"))
            row = job.row_id if job.row_id is not None else await self._store_now(key, job, feed)
            if row is None:
                return None
            async with self.sm() as db, db.begin():
                await InboxRepo(db).failed_attempt(row, "ValidationError", _utcnow(), final=True)
            chat = chat_of(job.raw)
            if chat is not None and isinstance(job.raw.get("message") or job.raw.get("edited_message"), dict):
                with self.i18n.context(), self.i18n.use_locale(await self.locale_of(chat)):
                    text = _(UNREADABLE)
                with contextlib.suppress(TelegramAPIError):
                    await self.notice(chat, text)
            return None
        attempt, waited = 0, 0
        while attempt < self.config.max_attempts:
            attempt += 1
            try:
                with self.i18n.context():
                    await self.dp.feed_update(self.bot, update, **{FEED_KEY: feed})
                break
            except Exception as exc:
                if feed.done or feed.deferred:  # the step committed; what failed was sending the replies
                    log.warning("telegram %s: replies not delivered: %s", key, type(exc).__name__)
                    break
                if unavailable(exc) and job.row_id is None:  # not stored: the webhook answers 503 and
                    if job.stored is not None and not job.stored.done():  # Telegram sends it again later
                        job.stored.set_exception(exc)
                    return feed
                if unavailable(exc):  # the database is down, locked or full: nothing was written; keep the
                    attempt -= 1      # update (still pending in the inbox) and try again, however long it takes
                    waited += 1
                    log.warning("telegram %s: database unavailable (%s); update %s waits", key,
                                type(exc).__name__, update.update_id)
                    chat = chat_of(job.raw)
                    if chat is not None:
                        await self.busy(chat)
                    await asyncio.sleep(min(self.config.busy_retry_max, self.config.retry_delay * 2 ** waited))
                    continue
                row = job.row_id if job.row_id is not None else await self._store_now(key, job, feed)
                if row is None:
                    return feed
                final = attempt >= self.config.max_attempts
                log.warning("telegram %s: update %s failed (%s), attempt %d%s%s", key, update.update_id,
                            type(exc).__name__, attempt, ", giving up" if final else "",
                            "\n" + safe_traceback(exc) if final else "")
                async with self.sm() as db, db.begin():
                    await InboxRepo(db).failed_attempt(row, type(exc).__name__, _utcnow(), final=final)
                if final:
                    self.stats.failed += 1
                    chat = chat_of(job.raw)
                    if chat is not None:
                        await self._apologise(chat)
                    return feed
                await asyncio.sleep(self.config.retry_delay * 2 ** (attempt - 1))
        if job.row_id is None:
            if feed.rows:  # stored by its step
                job.row_id = feed.rows[0]
            elif await self._store_now(key, job, feed) is None:
                return feed
            elif feed.done:  # (a step that stored nothing: its row is done all the same)
                await self._mark_done(feed.rows)
                return feed
        if feed.out_of_order:
            return feed
        if feed.late:
            await self._refuse_late(key, feed.rows)
            return feed
        if not feed.done and not feed.deferred:
            await self._mark_done(feed.rows)
        return feed

    async def _replay(self, key: str, job: ReplayJob) -> None:
        chat = key.split(":", 1)[1]
        try:
            replies = [reply_from_json(r) for r in job.replies.get("list") or []]
        except (TypeError, ValueError):
            replies = []
        try:
            if replies and chat.lstrip("-").isdigit():
                await self.deliver(int(chat), replies, lang=str(job.replies.get("lang") or "vi"),
                                   remove_contact_keyboard=bool(job.replies.get("remove")))
        except Exception:
            log.warning("telegram %s: replies of an earlier run not delivered", key)
        await self._replies_sent(job.row_id)

    async def _replies_sent(self, row_id: int) -> None:
        chats = getattr(self.runtime, "chats", None)
        if chats is not None:  # on SQLite carried by the next write transaction (a kill first: sent again)
            await chats.soon(LeanInbox.REPLIES_SENT, row_id)
            return
        async with self.sm() as db, db.begin():
            await InboxRepo(db).replies_sent(row_id)

    async def _refuse_late(self, key: str, rows: Sequence[int]) -> None:
        """A message that arrived after a newer one of the same chat was applied: it cannot be the answer to
        the question it was typed for, so it is not applied, and the person is told."""
        self.stats.late += 1
        async with self.sm() as db, db.begin():
            for row in rows:
                await InboxRepo(db).failed_attempt(row, "LateUpdate", _utcnow(), final=True)
        log.warning("telegram %s: an update arrived after a newer one was applied; not applied", key)
        chat = key.split(":", 1)[1]
        if chat.lstrip("-").isdigit():
            with self.i18n.context(), self.i18n.use_locale(await self.locale_of(int(chat))):
                text = _(LATE)
            with contextlib.suppress(TelegramAPIError):
                await self.notice(int(chat), text)

    async def busy(self, chat_id: int) -> None:
        """Tell the chat the system is busy, at most once every few minutes: its message is kept and will be
        answered once the database is back."""
        if not self._busy.allow(str(chat_id)):
            return
        text = self.gettext(self._langs.get(chat_id, "vi"))(BUSY)
        with contextlib.suppress(TelegramAPIError):
            await self.notice(chat_id, text)

    async def _apologise(self, chat_id: int) -> None:
        with self.i18n.context(), self.i18n.use_locale(await self.locale_of(chat_id)):
            text = _("Xin lỗi, đã có lỗi khi xử lý tin nhắn này. Vui lòng gửi lại sau ít phút.")
        with contextlib.suppress(TelegramAPIError):
            await self.notice(chat_id, text)

    # ------------------------------------------------------------------------------------------
    # albums and files
    def album_add(self, message: Message, feed: FeedCtx) -> None:
        key = f"telegram:{message.chat.id}"
        group = str(message.media_group_id)
        al = self.albums.get(key)
        if al is None or al.group != group:
            al = self.albums[key] = Album(group, message.chat.id)
        al.rows += feed.rows
        al.messages.append(message)
        al.seq += 1
        feed.deferred = True
        if al.timer is not None:
            al.timer.cancel()
        al.timer = asyncio.get_running_loop().call_later(self.config.album_window, self.queues.put, key,
                                                         FlushJob(group, al.seq))

    async def _flush_album(self, key: str, group: str, seq: int | None) -> None:
        al = self.albums.get(key)
        if al is None or al.group != group or (seq is not None and seq != al.seq):
            return  # already delivered, or more parts came and a later flush is scheduled
        del self.albums[key]
        if al.timer is not None:
            al.timer.cancel()
        feed = FeedCtx(rows=al.rows)
        lang = await self.locale_of(al.chat_id)
        with self.i18n.context(), self.i18n.use_locale(lang):
            try:
                files = await self.fetch_files(al.messages)

                async def step() -> str | None:
                    feed.out_of_order = False
                    await self.run_turn(al.chat_id, Turn(Incoming(files=tuple(files))), feed)
                    if not feed.out_of_order:
                        return None
                    return OLDER_SENDING if feed.extra.pop("sending", False) else OLDER_PENDING

                def overtake() -> None:
                    feed.overtake = True

                if files:
                    await apply_in_order(step, functools.partial(self._apply_older, key, min(al.rows), exclude=al.rows),
                                         overtake=overtake, tries=self.config.order_tries,
                                         wait=self.config.sending_wait)
            except Exception as exc:
                if not feed.done:
                    log.warning("telegram %s: album failed (%s)\n%s", key, type(exc).__name__, safe_traceback(exc))
                    async with self.sm() as db, db.begin():
                        for row in al.rows:
                            await InboxRepo(db).failed_attempt(row, type(exc).__name__, _utcnow(), final=True)
                    await self._apologise(al.chat_id)
                    return
        if feed.late:
            await self._refuse_late(key, feed.rows)
            return
        if feed.out_of_order:
            log.warning("telegram %s: album still waits for an older update; left pending", key)
            return
        if not feed.done:
            await self._mark_done(feed.rows)

    async def _apply_older(self, key: str, row_id: int, exclude: Sequence[int] = ()) -> None:
        """Apply the chat's pending updates older than row ``row_id``, oldest first (they reached another
        process, or wait for a retry there; whoever applies one first wins, the other rolls back)."""
        async with self.sm() as db:
            older = [(i, raw) for i, raw in await InboxRepo(db).pending_before(self.bot_id, key, row_id)
                     if i not in exclude and raw]
        self.stats.reordered += 1
        for i, raw in older:
            await self._process_update(key, UpdateJob(i, raw))
        if not older:
            await asyncio.sleep(0.05)

    async def fetch_files(self, messages: Sequence[Message]) -> list[IncomingFile]:
        """Download the photos/documents of ``messages`` through the Bot API (largest photo size). Files over
        the 20 MB download limit are skipped with a message to the person."""
        async def one(m: Message) -> IncomingFile | None:
            if m.photo:
                ph = m.photo[-1]
                mime: str | None
                file_id, size, name, mime = ph.file_id, ph.file_size, f"anh-{m.message_id}.jpg", "image/jpeg"
            elif m.document:
                d = m.document
                file_id, size, name, mime = d.file_id, d.file_size, d.file_name or f"tep-{m.message_id}", d.mime_type
            else:
                return None
            if size and size > MAX_DOWNLOAD:
                raise FileTooBig(name)
            f = await self.out.call(None, GetFile(file_id=file_id), limited=False)
            if f.file_size and f.file_size > MAX_DOWNLOAD:
                raise FileTooBig(name)
            for attempt in range(3):
                try:
                    buf = await self.bot.download_file(f.file_path, timeout=60)
                    assert isinstance(buf, io.BytesIO)  # no destination given: aiogram returns a BytesIO
                    data = buf.getvalue()
                    if len(data) > MAX_DOWNLOAD:
                        raise FileTooBig(name)
                    # no uploaded name: files are stored and sent under names of our own (it may carry an ID
                    # number, or pose as another type: "giay-bao-tu.pdf.exe")
                    return IncomingFile(data=data, name=None, mime=mime)
                except Exception:
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.5 * 2 ** attempt)
            return None

        results = await asyncio.gather(*(one(m) for m in messages), return_exceptions=True)
        files: list[IncomingFile] = []
        for m, r in zip(messages, results, strict=False):
            if isinstance(r, FileTooBig):
                await self.notice(m.chat.id, _("Tệp “{name}” lớn hơn 20 MB nên không tải về được. Vui lòng gửi "
                                               "ảnh chụp hoặc tệp PDF nhỏ hơn.").format(name=r.name))
            elif isinstance(r, BaseException):
                raise r
            elif r is not None:
                files.append(r)
        return files

    # ------------------------------------------------------------------------------------------
    # buttons
    async def locale_of(self, chat_id: int) -> str:
        lang = self._langs.get(chat_id)
        if lang is None:  # (a chat's first update since the process started)
            key = f"telegram:{chat_id}"
            chats = getattr(self.runtime, "chats", None)
            if chats is not None:  # one column of one row, on the driver: no ORM session, no thread hop
                async with chats.read() as tx:
                    state = await LeanInbox(tx).chat(key, lock=False)
                lang = state.lang if state is not None else "vi"
            else:
                async with self.sm() as db:
                    row = await ChatRepo(db).get(key)
                lang = row.lang if row is not None else "vi"
            self._remember_lang(chat_id, lang)
        return lang

    def _remember_token(self, chat_id: int, token: str) -> None:
        if len(self._ask_tokens) > 100_000:
            self._ask_tokens.clear()
        self._ask_tokens[chat_id] = token

    def _remember_lang(self, chat_id: int, lang: str) -> None:
        if len(self._langs) > 100_000:
            self._langs.clear()
        self._langs[chat_id] = lang

    def webhook_reply(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        """The Bot API call to return as the webhook's HTTP response to a stored update, if any (Telegram makes
        it for us: one call fewer per button press). A press on the current question's buttons, or on a
        notification's, is answered there, silently. Any other press (an old question's button, garbage data,
        a chat this process has not seen yet) is left to the handler, which may need to say the button is
        stale."""
        cq = raw.get("callback_query")
        if not isinstance(cq, dict) or not isinstance(cq.get("id"), str):
            return None
        uid = raw.get("update_id")
        decided = self._press_replies.pop(uid, None) if isinstance(uid, int) else None  # (_accept_in_step)
        if decided is not None:
            return decided
        p = parse_callback(cq.get("data"))
        chat = ((cq.get("message") or {}).get("chat") or {}).get("id")
        if p is None or not isinstance(chat, int):
            return None
        if p.kind != "p" and self._ask_tokens.get(chat) != p.token:
            return None
        if len(self._answered) > 100_000:
            self._answered.clear()
        self._answered.add(cq["id"])
        return {"method": "answerCallbackQuery", "callback_query_id": cq["id"]}

    async def _answer(self, query: CallbackQuery, text: str | None = None) -> None:
        if query.id in self._answered:  # answered in the webhook's response
            self._answered.discard(query.id)
            return
        with contextlib.suppress(TelegramBadRequest):  # "query is too old": nothing to do
            await self.out.call(None, AnswerCallbackQuery(callback_query_id=query.id, text=text), limited=False)

    async def _stale(self, query: CallbackQuery) -> None:
        self.stats.stale += 1
        await self._answer(query, _("Nút này đã cũ, không còn dùng được. Vui lòng trả lời câu hỏi mới nhất bên "
                                    "dưới."))

    async def _mark_pressed(self, query: CallbackQuery, label: str) -> None:
        """The answered question keeps its text, shows the choice, and loses its buttons."""
        m = query.message
        if not isinstance(m, Message):
            return
        key = f"telegram:{m.chat.id}"
        try:
            if m.text is not None and utf16_len(m.text) + utf16_len(label) + 4 <= 4096:
                await self.out.call(key, EditMessageText(chat_id=m.chat.id, message_id=m.message_id,
                                                         text=f"{m.text}\n\n➡️ {label}", reply_markup=None),
                                    result=False)
            else:
                await self.out.call(key, EditMessageReplyMarkup(chat_id=m.chat.id, message_id=m.message_id,
                                                                reply_markup=None), result=False)
        except TelegramBadRequest:  # message too old to edit, or not modified
            pass

    async def on_press(self, query: CallbackQuery) -> Turn | None:
        p = parse_callback(query.data)
        assert query.message is not None  # the bot sends no inline-mode messages
        chat_id = query.message.chat.id
        key = f"telegram:{chat_id}"
        if p is None:
            await self._stale(query)
            return None
        state: Any = None
        chats = getattr(self.runtime, "chats", None)
        if chats is not None:  # the hot path: two columns of one row, on the driver, no write lock
            async with chats.read() as tx:
                if p.kind == "p":
                    choices = await LeanInbox(tx).button_choices(p.token, key) or []
                else:
                    state = await LeanInbox(tx).asked(key)
        else:
            async with self.sm() as db:
                repo = ChatRepo(db)
                if p.kind == "p":
                    btn = await repo.button(p.token, key)
                    choices = btn.choices if btn is not None else []
                else:
                    state = await repo.get(key)
        if state is not None and state.ask_token:
            self._remember_token(chat_id, state.ask_token)
        if p.kind == "p":
            if not p.arg.isdigit() or int(p.arg) >= len(choices):
                await self._stale(query)
                return None
            value, _label = choices[int(p.arg)]
            await self._answer(query)  # a notification keeps its buttons: they do not belong to a question
            return Turn(Incoming(choice=value))
        if state is None or state.ask_token != p.token:
            await self._stale(query)
            return None
        choices = state.ask_choices or []
        if p.kind == "c":
            if not p.arg.isdigit() or int(p.arg) >= len(choices):
                await self._stale(query)
                return None
            value, label = choices[int(p.arg)]
            await self._answer(query)
            return Turn(Incoming(choice=value), expect_token=p.token,
                        beside=functools.partial(self._mark_pressed, query, label))
        if p.kind == "n":
            nav = CODE_NAV.get(p.arg)
            if nav is None or nav not in (state.ask_nav or []):
                await self._stale(query)
                return None
            await self._answer(query)
            return Turn(Incoming(choice=nav), expect_token=p.token,
                        beside=functools.partial(self._mark_pressed, query, _(NAV_LABELS[nav])))
        # m: a multi-choice toggle, or "ok"
        picked = sorted({int(i) for i in (state.selection or []) if int(i) < len(choices)})
        if p.arg == "ok":
            await self._answer(query)
            labels = ", ".join(choices[i][1] for i in picked) or _("(không chọn mục nào)")
            text = ", ".join(str(i + 1) for i in picked) if picked else "không"
            return Turn(Incoming(text=text), expect_token=p.token,
                        beside=functools.partial(self._mark_pressed, query, labels))
        if not p.arg.isdigit() or int(p.arg) >= len(choices):
            await self._stale(query)
            return None
        i = int(p.arg)
        picked = sorted(set(picked) ^ {i})
        async with self.sm() as db, db.begin():
            repo = ChatRepo(db)
            row = await repo.get(key, lock=True)
            if row is None or row.ask_token != p.token:
                await self._stale(query)
                return None
            await repo.put(key, row, selection=picked)
        await self._answer(query)
        ask = Ask(text="", procedure=None, field="", kind="multi_choice",
                  choices=tuple(ChoiceOut(v, lab) for v, lab in choices), nav=tuple(state.ask_nav or ()), multi=True)
        markup = inline_keyboard(ask, p.token, _, picked)
        if isinstance(query.message, Message):
            with contextlib.suppress(TelegramBadRequest):
                await self.out.call(key, EditMessageReplyMarkup(chat_id=chat_id, message_id=query.message.message_id,
                                                                reply_markup=markup))
        return None

    # ------------------------------------------------------------------------------------------
    # a conversation step
    async def _record_turn(self, db, key: str, replies: Sequence[Any], rows: Sequence[int],
                           expect_token: str | None, box: dict[str, Any], *, strict: bool,
                           wait_sending: bool = True, fresh: dict[str, Any] | None = None) -> None:
        """Inside the step's transaction (or right after it): the inbox rows are done, and the chat's
        keyboard state follows the new question. ``db`` is the ORM session, or the lean step's transaction
        (storage/chatstore/), whose statements :class:`LeanInbox` writes."""
        now = _utcnow()
        rec = LeanInbox(db) if isinstance(db, ChatTx) else OrmTurnRecord(db, self.runtime.conversation_key)
        prev: ChatState | None
        if fresh is not None and not rows:  # stored by this very transaction (see accept), then as any other
            row = await rec.accept(self.bot_id, fresh, key, now)
            if row is None:
                raise AlreadyProcessed()  # (received before: by a previous run)
            rows = [row]
        if rows and strict:  # the conversation is locked: updates of this chat are applied in update_id order
            where, prev = await rec.order_and_chat(self.bot_id, key, rows, wait_sending=wait_sending)
            if where == "processed":
                raise AlreadyProcessed()
            if where == "older":
                raise OutOfOrder()
            if where == "sending":
                raise OlderSending()
            if where == "late":
                raise LateUpdate()
        else:
            prev = await rec.chat(key, lock=strict)
        if expect_token is not None and (prev is None or prev.ask_token != expect_token):
            raise StaleButton()
        lang = await rec.conversation_lang(key) or (prev.lang if prev is not None else "vi")
        st = ask_state(replies)
        values: dict[str, Any] = {"lang": lang, "reply_keyboard": bool(st and st.contact_keyboard)}
        if st is not None:
            values.update(ask_token=st.token, ask_kind=st.kind, ask_choices=st.choices, ask_nav=st.nav, selection=[])
            box["token"] = st.token
        elif prev is not None and prev.ask_token:
            box["token"] = prev.ask_token
        box["lang"] = lang
        box["remove"] = bool(prev is not None and prev.reply_keyboard) and not (st and st.contact_keyboard)
        # processed; the replies kept until sent: a process killed after this commit sends them at start
        hold = {"list": [reply_to_json(r) for r in replies], "lang": lang, "remove": box["remove"]} if rows else {}
        n = await rec.record(key, now, values, rows, hold)
        if rows:
            if strict and n != len(rows):
                raise AlreadyProcessed()
            box["held"] = rows[-1]

    async def run_turn(self, chat_id: int, turn: Turn, feed: FeedCtx) -> None:
        """The step, with the turn's call beside it (the pressed question marked) under way meanwhile: a press
        waits for one Bot API round trip before its next question, not two."""
        beside = asyncio.ensure_future(turn.beside()) if turn.beside is not None else None
        try:
            await self._step(chat_id, turn, feed)
        finally:
            if beside is not None:
                try:
                    await beside
                except Exception as exc:  # (the question only keeps its buttons: the step stands)
                    log.warning("telegram: marking the pressed question failed: %s", type(exc).__name__)

    async def _step(self, chat_id: int, turn: Turn, feed: FeedCtx) -> None:
        key = f"telegram:{chat_id}"
        box: dict[str, Any] = {}
        rt = self.runtime
        try:
            async with self.sem:
                if self.hooks:
                    async def hook(db, replies):
                        await self._record_turn(db, key, replies, feed.rows, turn.expect_token, box, strict=True,
                                                wait_sending=not feed.overtake, fresh=feed.fresh)
                    hook.lean = True  # type: ignore[attr-defined]  # it also records on the lean step's transaction
                    replies = await (rt.start(key, tx_hook=hook) if turn.start
                                     else rt.handle(key, turn.incoming, tx_hook=hook))
                else:
                    replies = await (rt.start(key) if turn.start else rt.handle(key, turn.incoming))
                    async with self.sm() as db, db.begin():
                        await self._record_turn(db, key, replies, feed.rows, None, box, strict=False)
        except AlreadyProcessed:
            feed.done = True
            if feed.fresh is None:
                self.stats.duplicates += 1
            else:  # (counted by _accept_in_step)
                feed.extra["duplicate"] = True
            return
        except OutOfOrder:
            feed.out_of_order = True
            return
        except OlderSending:
            feed.out_of_order = True
            feed.extra["sending"] = True
            return
        except LateUpdate:
            feed.late = True
            return
        except StaleButton:
            self.stats.stale += 1
            await self.notice(chat_id, _("Nút này đã cũ, không còn dùng được. Vui lòng trả lời câu hỏi mới nhất "
                                         "bên dưới."))
            return
        feed.done = True
        self.stats.turns += 1
        if feed.fresh is not None and box.get("held"):  # stored by the step: the webhook may answer now
            feed.rows, feed.fresh = [box["held"]], None
            _settle(feed.stored, True)
        self._remember_lang(chat_id, box.get("lang", "vi"))
        if box.get("token"):
            self._remember_token(chat_id, box["token"])
        try:
            returned = await self.deliver(chat_id, replies, lang=box.get("lang", "vi"),
                                          remove_contact_keyboard=box.get("remove", False), slot=feed.slot,
                                          held=box.get("held"))
        except Exception:  # failed for good (Outbound retried what can be retried): not sent again later
            if box.get("held"):
                await self._replies_sent(box["held"])
            raise
        # a kill or a cancellation before this line leaves them for the next start; the last one returned in
        # the webhook's response: marked once that is written (webhook_sent)
        if box.get("held") and not returned:
            await self._replies_sent(box["held"])

    async def deliver(self, chat_id: int, replies: Sequence[Any], *, lang: str = "vi",
                      remove_contact_keyboard: bool = False, slot: asyncio.Future | None = None,
                      held: int | None = None) -> bool:
        """Send one turn's replies (also used for files an officer opens); what Telegram answers is dropped.
        With ``slot`` (a webhook response waiting, see :meth:`turn_reply`) the last message, if it is text and
        the rate limit has room now, is handed to it instead of sent: True then."""
        key = f"telegram:{chat_id}"
        bubbles = render(replies, self.gettext(lang), remove_contact_keyboard=remove_contact_keyboard)
        for i, b in enumerate(bubbles):
            if slot is not None and i == len(bubbles) - 1 and b.file is None and not slot.done():
                method = SendMessage(chat_id=chat_id, text=b.text, reply_markup=b.markup)
                body = webhook_call(self.bot, method)
                if body is not None and self.limiter.take_now(key):
                    self.stats.webhook_replies += 1
                    slot.set_result(WebhookReply(body, key, method, held))
                    return True
            try:
                if b.file is not None:
                    f = b.file
                    try:
                        data = await asyncio.to_thread(self._file_bytes, f)
                    except (OSError, ValueError):  # the store unreachable, or the file gone: the rest still goes
                        log.warning("telegram %s: a file could not be read from the attachment store", key)
                        note = self.gettext(lang)(FILE_UNAVAILABLE)
                        text = f"{b.text}\n{note}" if b.text else note
                        await self.out.call(key, SendMessage(chat_id=chat_id, text=text), result=False)
                        continue
                    doc = BufferedInputFile(data, filename=download_name(getattr(f, "name", None),
                                                                         getattr(f, "mime", None)))
                    await self.out.call(key, SendDocument(chat_id=chat_id, document=doc,
                                                          caption=(b.text or None) and b.text[:1024]), result=False)
                else:
                    await self.out.call(key, SendMessage(chat_id=chat_id, text=b.text, reply_markup=b.markup),
                                        result=False)
            except TelegramForbiddenError:
                log.info("telegram %s: the bot is blocked; replies dropped", key)
                break
        return False

    def _file_bytes(self, f: Any) -> bytes:
        """A file reply's bytes: given, or from the attachment store by digest (a ``FileRef``; a local ``path``
        only in a reply stored before files were named by digest)."""
        if getattr(f, "data", None) is not None:
            return f.data
        if getattr(f, "sha256", None):
            return self.runtime.attachments.get(f.sha256)
        return Path(f.path).read_bytes()

    async def notice(self, chat_id: int, text: str) -> Message:
        return await self.out.call(f"telegram:{chat_id}", SendMessage(chat_id=chat_id, text=text))

