"""The Zalo channel (Zalo Bot Platform): webhook or long polling in front of the runtime, with a durable inbox.

::

    Zalo ──POST /zalo/webhook──► webhook handler ─┐   (X-Bot-Api-Secret-Token checked with
    Zalo ◄──getUpdates── polling loop ────────────┤    hmac.compare_digest; 401 otherwise)
                                                  ▼
                         zalo_updates (INSERT … ON CONFLICT DO NOTHING on event_name:message_id)
                                                  │ 200 / next poll only after the commit
                                                  ▼
                   ChatQueues: one FIFO per chat ──► text → Incoming(text); image → download → Incoming(file)
                                                  │ Runtime.start / Runtime.handle (commits), row marked done
                                                  ▼
                      render (numbered choices, ≤ 2000 characters) → Outbound (rate limiter, 429, retries)

Zalo has no buttons (choices are numbered lines), no file upload (``sendPhoto`` takes a public URL; there is
no ``sendDocument``): a file the engine sends (the citizen's PDF copy of the form) goes out as a signed link
served by the webhook app when ``public_url`` is set, otherwise as a short note. See docs/zalo.md.

Why one module of this size: one class whose parts (ingress by webhook or polling, the inbox's per-chat order,
the held replies, the busy answers, delivery) share the same per-chat state; the signed file links are in
files.py, rendering in render.py, sending and push codes in sending.py, the inbox in inbox.py.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot import accounts, formcopy
from bot.inbound import (
    BUSY,
    OLDER_PENDING,
    OLDER_SENDING,
    InboundLimiter,
    InboundLimits,
    NoticeGate,
    apply_in_order,
    read_json,
    secret_ok,
)
from bot.notifier import Limits
from bot.telegram.inbox import ChatQueues, safe_traceback
from dialogs.i18n import N_, translator
from dialogs.messages import Ask, Incoming, IncomingFile, reply_from_json, reply_to_json
from storage.attachments import download_name
from storage.chatstore import ChatTx
from storage.db import unavailable
from storage.models import Conversation
from storage.officers_repo import OfficerRepo

from .client import TEXT_LIMIT, ZaloAPIError, ZaloClient, ZaloError, ZaloNetworkError
from .files import FILE_LINK_DAYS, FileLinks
from .inbox import IMAGE_EVENT, TEXT_EVENT, InboxRepo, LeanZaloInbox, parse, unwrap
from .render import file_note, render
from .sending import PUSH_RE, Outbound, ZaloSender, default_limits, make_limiter, pushed_choice

log = logging.getLogger("dvcbot.zalo")


class _AlreadyDone(Exception):
    """The inbox row was no longer pending when the step was about to commit: the step is rolled back."""


class _OlderSending(Exception):
    """An earlier event of the chat was applied but its replies are still being sent (by another process)."""


class _OlderPending(Exception):
    """An event of the same chat stored earlier is still pending: the step is rolled back, that one goes first."""


SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024
MAX_CHAT_ID = 128
SLOW_DOWN = N_("Bạn đang gửi tin nhắn quá nhanh. Vui lòng chờ một chút rồi gửi lại tin nhắn vừa rồi.")


@dataclass
class ZaloConfig:
    token: str
    api_base: str | None = None           # default https://bot-api.zaloplatforms.com; the fake one in tests
    secret: str | None = None             # webhook secret (X-Bot-Api-Secret-Token), 8-256 characters
    webhook_path: str = "/zalo/webhook"
    public_url: str | None = None         # https://bot.example.vn: file replies become signed links under it
    limits: Limits = field(default_factory=default_limits)
    per_chat_burst: int = 3
    max_concurrency: int = 16
    max_attempts: int = 3                 # tries of one update before it is marked failed
    retry_delay: float = 0.5
    busy_retry_max: float = 30.0      # the longest wait between tries while the database is unavailable
    busy_notice_every: float = 300.0  # “hệ thống đang bận” at most once per chat in this many seconds
    request_timeout: float = 30.0
    max_image: int = 10 * 1024 * 1024
    inbound: InboundLimits = field(default_factory=InboundLimits)
    order_tries: int = 5
    sending_wait: float = 15.0  # how long an event waits for an earlier one's replies being sent elsewhere


@dataclass
class ChannelStats:
    accepted: int = 0
    duplicates: int = 0
    turns: int = 0
    failed: int = 0
    refused: int = 0
    limited: int = 0
    reordered: int = 0


@dataclass
class Job:
    row_id: int
    raw: dict[str, Any]
    overtake: bool = False  # waited long enough for an earlier event's replies: apply it anyway


class ImageTooBig(Exception):
    pass


@dataclass
class _Notice:
    text: str


@dataclass
class _Replay:
    """The replies of a turn that committed in an earlier run but were not all sent."""

    row_id: int
    replies: dict[str, Any]


def _valid_event(raw: dict[str, Any]) -> bool:
    """An event whose chat id and message id we can store (a 500 would have it delivered again for ever)."""
    try:
        ev = parse(raw)
    except (TypeError, ValueError, AttributeError):
        return False
    return ev.chat_id is None or len(ev.chat_id) <= MAX_CHAT_ID


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ZaloChannel:
    def __init__(self, runtime, config: ZaloConfig):
        self.runtime = runtime
        self.config = config
        self.client = ZaloClient(config.token, config.api_base, timeout=config.request_timeout)
        self.limiter = make_limiter(config.limits, config.per_chat_burst)
        self.inbound = InboundLimiter(config.inbound)
        self.out = Outbound(self.client, self.limiter)
        self.queues = ChatQueues(self._process)
        self.sem = asyncio.Semaphore(config.max_concurrency)
        self.stats = ChannelStats()
        self._started = False
        self._purger: asyncio.Task | None = None
        self._busy = NoticeGate(config.busy_notice_every)  # “hệ thống đang bận”, once in a while per chat
        self._langs: dict[str, str] = {}  # chat → its last known language (for the busy notice)
        self.links = FileLinks(config, runtime.attachments)

    @property
    def sm(self):
        return self.runtime.sm

    @property
    def bot_id(self) -> str:
        return self.client.bot_id

    def sender(self) -> ZaloSender:
        return ZaloSender(self.client, self.sm, file_text=self.file_text, photo_link=self.photo_link)

    async def photo_link(self, data: bytes, name: str) -> str | None:
        """A picture for a push (the report's chart) as a signed link; None without a public URL."""
        return await self.links.photo(data, name)

    def attach_notifier(self, notifier) -> None:
        """Our sender for ``zalo:`` outbox rows, sharing this channel's rate limiter (one budget, one 429 halt)."""
        notifier.senders["zalo"] = self.sender()
        notifier.limiters["zalo"] = self.limiter
        formcopy.attach(notifier, self.runtime)  # the citizen's form copy: a signed link (no sendDocument)

    # ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        await self.recover()
        self._purger = asyncio.get_running_loop().create_task(self._purge_loop(), name="zalo-inbox-purge")

    async def stop(self, drain: float = 10.0) -> None:
        if self._purger is not None:
            self._purger.cancel()
            self._purger = None
        try:
            await asyncio.wait_for(self.join(), drain)
        except TimeoutError:
            log.warning("zalo: %d updates still queued at shutdown; they stay in the inbox", len(self.queues))
        await self.queues.cancel()
        self._started = False

    async def close(self) -> None:
        await self.stop()
        await self.client.close()

    async def recover(self) -> int:
        """Queue what a previous run did not finish: replies of committed turns not sent, then stored events."""
        async with self.sm() as db:
            unsent = await InboxRepo(db).unsent(self.bot_id)
            rows = await InboxRepo(db).pending(self.bot_id)
        for row_id, key, replies in unsent:
            if key:
                self.queues.put(key, _Replay(row_id, replies))
        for row_id, key, raw in rows:
            self.queues.put(key or "zalo:_", Job(row_id, raw))
        if rows:
            log.info("zalo: %d unprocessed updates from the last run", len(rows))
        return len(rows)

    async def _purge_loop(self, every: float = 6 * 3600) -> None:
        while True:
            try:
                async with self.sm() as db, db.begin():
                    await InboxRepo(db).purge(_utcnow())
            except Exception as exc:
                log.error("zalo: inbox purge failed\n%s", safe_traceback(exc))
            await asyncio.sleep(every)

    async def join(self, timeout: float | None = None) -> None:
        """Wait until every received event is processed and its replies are marked sent (tests, shutdown)."""
        await asyncio.wait_for(self.queues.idle.wait(), timeout)
        chats = getattr(self.runtime, "chats", None)
        if chats is not None:
            await chats.settle()

    # ------------------------------------------------------------------------------------------
    # webhook
    def check_secret(self, header: str | None) -> bool:
        return secret_ok(header, self.config.secret)

    async def _webhook(self, request: web.Request) -> web.Response:
        """Store an event. A request that can never be stored gets a 4xx, never a 500 (bot/inbound.py): wrong
        secret 401, body over 1 MB 413, not an event 400, a flood over the process's limit 429."""
        if not self.check_secret(request.headers.get(SECRET_HEADER)):
            self.stats.refused += 1
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        if not self.inbound.allow_global():
            return web.json_response({"ok": False, "description": "Too Many Requests"}, status=429,
                                     headers={"Retry-After": str(self.inbound.retry_after())})
        body, status = await read_json(request, MAX_BODY)
        if status is not None:
            return web.json_response({"ok": False, "description": "Bad Request"}, status=status)
        raw = unwrap(body)
        if raw is None or not _valid_event(raw):
            return web.json_response({"ok": False, "description": "Bad Request"}, status=400)
        try:
            await self.accept(raw)
        except Exception as exc:
            if unavailable(exc):  # down, locked or disk full: Zalo posts it again; the person is told, once
                log.warning("zalo webhook: database unavailable (%s); update refused with 503", type(exc).__name__)
                chat = parse(raw).chat_key
                if chat:
                    await self.busy(chat)
                return web.json_response({"ok": False}, status=503, headers={"Retry-After": "10"})
            log.error("zalo webhook: could not store an update\n%s", safe_traceback(exc))
            return web.json_response({"ok": False}, status=500)
        return web.json_response({"ok": True})

    def webhook_app(self) -> web.Application:
        if not self.config.secret:
            raise ValueError("the Zalo webhook needs a secret token")
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.config.webhook_path, self._webhook)
        app.router.add_get("/zalo/files/{sha}/{exp}/{sig}/{name}", self.links.serve)

        async def health(_request: web.Request) -> web.Response:
            state = await self.runtime.health()
            state.update(queued=len(self.queues), accepted=self.stats.accepted, duplicates=self.stats.duplicates)
            return web.json_response(state, status=200 if state["ok"] else 503)
        app.router.add_get("/healthz", health)

        async def on_startup(_app) -> None:
            await self.start()

        async def on_cleanup(_app) -> None:
            await self.stop()
        app.on_startup.append(on_startup)
        app.on_cleanup.append(on_cleanup)
        return app

    async def run_webhook(self, host: str, port: int, *, webhook_url: str | None = None,
                          stop: asyncio.Event | None = None) -> None:
        runner = web.AppRunner(self.webhook_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        try:
            if webhook_url:
                await self.client.set_webhook(webhook_url, self.config.secret or "")
                log.info("zalo webhook set to %s", webhook_url)
            log.info("zalo webhook listening on %s:%s%s", host, port, self.config.webhook_path)
            await (stop or asyncio.Event()).wait()
        finally:
            await runner.cleanup()

    # ------------------------------------------------------------------------------------------
    # long polling
    async def run_polling(self, *, poll_timeout: int = 30, stop: asyncio.Event | None = None) -> None:
        """getUpdates in a loop; each update is stored before anything else is done with it, and before the next
        poll. The API has no offset and no acknowledgement: an update is handed out once, so one received but
        not yet committed to ``zalo_updates`` when the process dies is lost (see docs/zalo.md, “the polling
        window”). To keep that window as small as it can be:

        * a stop request does not hang up on a poll in flight (the API may already have handed an update to it):
          the poll is let to end by itself (at most ``poll_timeout`` seconds, or the client's timeout), and what
          it returned is stored before the loop ends;
        * storing comes first (one short INSERT … ON CONFLICT DO NOTHING and its commit); handling is queued
          after it. A failed INSERT (database locked or down) is retried with backoff, the update kept in
          memory, and no new poll is made meanwhile."""
        stop = stop or asyncio.Event()
        await self.start()
        try:
            await self.client.delete_webhook()
        except ZaloError as exc:
            log.warning("zalo deleteWebhook failed: %s", exc)
        pause = 1.0
        while not stop.is_set():
            poll = asyncio.ensure_future(self.client.get_updates(poll_timeout))
            halt = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({poll, halt}, return_when=asyncio.FIRST_COMPLETED)
                if not poll.done():
                    # stopping: hanging up now could lose an update the API is already handing to this poll
                    log.info("zalo: stopping after the poll in flight (at most %ss)", poll_timeout)
                    await asyncio.wait({poll}, timeout=poll_timeout + 15)  # bounded: a stuck poll is given up
            finally:  # also when this task is cancelled: no poll or stop-waiter is left running behind it
                halt.cancel()
                if not poll.done():
                    poll.cancel()
                    await asyncio.gather(poll, return_exceptions=True)
            if poll.cancelled():
                break
            try:
                updates = poll.result()
                pause = 1.0
            except ZaloAPIError as exc:
                wait = exc.retry_after if exc.code == 429 else pause
                log.warning("zalo getUpdates failed: %s; again in %.0fs", exc, wait)
                await self._sleep(stop, wait or 1.0)
                pause = min(30.0, pause * 2)
                continue
            except ZaloNetworkError as exc:
                log.warning("zalo getUpdates failed: %s; again in %.0fs", exc, pause)
                await self._sleep(stop, pause)
                pause = min(30.0, pause * 2)
                continue
            for u in updates:
                raw = unwrap(u)
                if raw is None:
                    log.warning("zalo getUpdates: not an update (no event_name); ignored")
                    continue
                await self._store_polled(raw, stop)

    async def _store_polled(self, raw: dict[str, Any], stop: asyncio.Event, *, backoff: float = 0.5,
                            tries_after_stop: int = 5) -> bool:
        """Store a polled update, retrying while the database refuses: it exists nowhere else (the API will not
        hand it out again). Gives up only when stopping and still failing after ``tries_after_stop`` tries."""
        failures = 0
        while True:
            try:
                await self.accept(raw)
                return True
            except Exception as exc:
                failures += 1
                key = parse(raw).key
                if stop.is_set() and failures >= tries_after_stop:
                    log.error("zalo: polled update %s LOST: could not store it before stopping (%s)", key,
                              type(exc).__name__)
                    return False
                delay = min(30.0, backoff * 2 ** (failures - 1))
                log.error("zalo: could not store polled update %s (%s); again in %.1fs\n%s", key,
                          type(exc).__name__, delay, safe_traceback(exc))
                await asyncio.sleep(delay)

    @staticmethod
    async def _sleep(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    # ------------------------------------------------------------------------------------------
    # the inbox
    async def accept(self, raw: dict[str, Any]) -> bool:
        """Store one update; False if it was already received. An event over the chat's inbound limit is stored
        as refused (so a redelivery is still a duplicate), and the person asked to wait and send it again."""
        ev = parse(raw)
        limited = ev.chat_key is not None and not self.inbound.allow_chat(ev.chat_key)
        chats = getattr(self.runtime, "chats", None)
        if chats is not None and not limited:  # the hot path: one INSERT on the runtime's driver-level store
            async with chats.write(single=True) as tx:
                row_id = await LeanZaloInbox(tx).accept(self.bot_id, ev.key, raw, ev.chat_key, _utcnow())
        else:
            async with self.sm() as db, db.begin():
                repo = InboxRepo(db)
                row_id = await repo.accept(self.bot_id, ev.key, raw, ev.chat_key, _utcnow())
                if row_id is not None and limited:
                    await repo.failed_attempt(row_id, "RateLimited", _utcnow(), final=True)
        if row_id is None:
            self.stats.duplicates += 1
            log.info("zalo: duplicate update %s ignored", ev.name)
            return False
        if limited:
            self.stats.limited += 1
            log.warning("zalo %s: inbound limit, event not processed", ev.chat_key)
            assert ev.chat_key is not None  # only a chat's events are limited
            if self.inbound.should_notice(ev.chat_key):
                self.queues.put(ev.chat_key, _Notice(SLOW_DOWN))
            return True
        self.stats.accepted += 1
        self.queues.put(ev.chat_key or "zalo:_", Job(row_id, raw))
        return True

    async def _replies_sent(self, row_id: int) -> None:
        chats = getattr(self.runtime, "chats", None)
        if chats is not None:  # on SQLite carried by the next write transaction (a kill first: sent again)
            await chats.soon(LeanZaloInbox.REPLIES_SENT, row_id)
            return
        async with self.sm() as db, db.begin():
            await InboxRepo(db).replies_sent(row_id)

    async def _mark(self, row_id: int, error: str | None = None, *, final: bool = True) -> None:
        async with self.sm() as db, db.begin():
            if error is None:
                await InboxRepo(db).mark_done([row_id], _utcnow())
            else:
                await InboxRepo(db).failed_attempt(row_id, error, _utcnow(), final=final)

    async def _process(self, key: str, job: Job | _Notice | _Replay) -> None:
        if isinstance(job, _Notice):
            return await self._safe_notice(key, job.text)
        if isinstance(job, _Replay):
            try:
                replies = [reply_from_json(r) for r in job.replies.get("list") or []]
                if replies:
                    await self.deliver(key, replies)
            except Exception as exc:
                log.warning("zalo %s: replies of an earlier run not delivered: %s", key, type(exc).__name__)
            return await self._replies_sent(job.row_id)

        def overtake() -> None:
            job.overtake = True

        if not await apply_in_order(functools.partial(self._process_event, key, job),
                                    functools.partial(self._apply_older, key, job.row_id), overtake=overtake,
                                    tries=self.config.order_tries, wait=self.config.sending_wait):
            log.warning("zalo %s: an event still waits for an earlier one; left pending", key)

    async def _apply_older(self, key: str, row_id: int) -> None:
        """Apply the chat's events stored before row ``row_id`` and still pending, in the order they were stored
        (another process has them, or they wait for a retry)."""
        self.stats.reordered += 1
        async with self.sm() as db:
            older = await InboxRepo(db).older_pending(self.bot_id, key, row_id)
        for row_id_, raw in older:
            if raw:
                await self._process_event(key, Job(row_id_, raw))

    async def _process_event(self, key: str, job: Job) -> str | None:
        """Handle one stored event; :data:`OLDER_PENDING` when it must wait for an earlier event of the chat,
        :data:`OLDER_SENDING` when an earlier event's replies are still being sent, else None."""
        ev = parse(job.raw)
        if ev.chat_key is None:
            await self._mark(job.row_id)
            return None
        attempt, waited = 0, 0
        while attempt < self.config.max_attempts:
            attempt += 1
            stepped = False
            try:
                async with self.sem:
                    incoming = await self._incoming(ev)
                    if incoming is None:
                        await self._mark(job.row_id)
                        return None
                    try:
                        replies = await self._step(ev.chat_key, incoming, job.row_id,
                                                   wait_sending=not job.overtake)
                    except _AlreadyDone:  # another worker applied this update meanwhile: ours rolled back
                        self.stats.duplicates += 1
                        return None
                    except _OlderPending:
                        return OLDER_PENDING
                    except _OlderSending:
                        return OLDER_SENDING
                    stepped = True
                self.stats.turns += 1
                await self.deliver(ev.chat_key, replies, lang=self._langs.get(ev.chat_key))
                await self._replies_sent(job.row_id)  # a kill before this line: sent at the next start
                return None
            except Exception as exc:
                if not stepped and unavailable(exc):  # nothing written: the event stays pending; try again
                    attempt -= 1
                    waited += 1
                    log.warning("zalo %s: database unavailable (%s); the event waits", key, type(exc).__name__)
                    await self.busy(ev.chat_key)
                    await asyncio.sleep(min(self.config.busy_retry_max, self.config.retry_delay * 2 ** waited))
                    continue
                if stepped:  # the step committed; what failed was sending the replies (or marking the row)
                    log.warning("zalo %s: replies not delivered: %s", key, type(exc).__name__)
                    await self._replies_sent(job.row_id)
                    return None
                final = attempt >= self.config.max_attempts
                log.warning("zalo %s: update failed (%s), attempt %d%s%s", key, type(exc).__name__, attempt,
                            ", giving up" if final else "", "\n" + safe_traceback(exc) if final else "")
                await self._mark(job.row_id, type(exc).__name__, final=final)
                if final:
                    self.stats.failed += 1
                    await self._safe_notice(ev.chat_key, N_("Xin lỗi, đã có lỗi khi xử lý tin nhắn này. Vui lòng "
                                                            "gửi lại sau ít phút."))
                    return None
                await asyncio.sleep(self.config.retry_delay * 2 ** (attempt - 1))
        return None

    async def _step(self, chat_key: str, incoming: Incoming, row_id: int | None = None, *,
                    wait_sending: bool = True) -> list[Any]:
        """One conversation step. Zalo has no /start: a person's very first text message gets the greeting
        too (and only the greeting if the text, e.g. “xin chào”, was not understood at the menu).

        The inbox row is marked done inside the step's own transaction (the runtime's ``tx_hook``), so a
        crash cannot leave a committed step with a pending row, and two workers never both apply it."""
        rt = self.runtime
        hook = None
        if row_id is not None:
            async def hook(db, replies) -> None:
                hold = {"list": [reply_to_json(r) for r in replies]}
                # the conversation is locked here: a chat's events are applied in the order they were stored
                if isinstance(db, ChatTx):  # the lean step's transaction (storage/chatstore/)
                    lean = LeanZaloInbox(db)
                    older_pending, older_replying = await lean.older(self.bot_id, chat_key, row_id)
                    if older_pending:
                        raise _OlderPending()
                    if wait_sending and older_replying:
                        raise _OlderSending()
                    if await lean.mark_done(row_id, _utcnow(), hold=hold) != 1:
                        raise _AlreadyDone()
                    # the replies are rendered in the conversation's language: read here, not again after
                    self._remember_lang(chat_key, await db.conversation_lang(chat_key) or "vi")
                    return
                repo = InboxRepo(db)
                if await repo.older_pending(self.bot_id, chat_key, row_id):
                    raise _OlderPending()
                if wait_sending and await repo.older_replying(self.bot_id, chat_key, row_id):
                    raise _OlderSending()
                if await repo.mark_done([row_id], _utcnow(), hold=hold) != 1:
                    raise _AlreadyDone()
                self._langs.pop(chat_key, None)  # (a linked chat's conversation is another's: read it after)
            hook.lean = True  # type: ignore[attr-defined]
        if incoming.text == "/start":
            return await rt.start(chat_key, tx_hook=hook)
        if incoming.text is not None and not incoming.text.startswith("/") and await self._first_contact(chat_key):
            greet = await rt.start(chat_key)
            replies = await rt.handle(chat_key, incoming, tx_hook=hook)
            asks = [r for r in replies if isinstance(r, Ask)]
            if asks and asks[-1].field == "procedure" and any(getattr(r, "error", False) for r in replies):
                return greet
            return [r for r in greet if not isinstance(r, Ask)] + replies
        return await rt.handle(chat_key, incoming, tx_hook=hook)

    async def _first_contact(self, chat_key: str) -> bool:
        """Nobody has talked from this chat yet: no conversation, and not an officer's chat (an officer's turns
        do not create a conversation; greeting them would reset their queue and dossier view every time)."""
        from storage.officers_repo import OfficerRepo
        chats = getattr(self.runtime, "chats", None)
        if chats is not None:
            async with chats.read() as tx:
                has_conversation, officer, _lang = await LeanZaloInbox(tx).conversation(chat_key)
            return not has_conversation and not officer
        async with self.sm() as db:
            key = await accounts.conversation_key(db, chat_key)
            found = (await db.execute(select(Conversation.user_key).where(Conversation.user_key == key))).first()
            if found is not None:
                return False
            return await OfficerRepo(db).by_user_key(chat_key) is None

    async def _lang(self, chat_key: str) -> str:
        """The chat's conversation language (remembered, so a busy notice can use it while the database is down)."""
        chats = getattr(self.runtime, "chats", None)
        if chats is not None:
            async with chats.read() as tx:
                lang = (await LeanZaloInbox(tx).conversation(chat_key))[2] or "vi"
        else:
            async with self.sm() as db:
                key = await accounts.conversation_key(db, chat_key)
                lang = (await db.execute(select(Conversation.lang).where(Conversation.user_key == key))
                        ).scalar_one_or_none() or "vi"
        self._remember_lang(chat_key, lang)
        return lang

    def _remember_lang(self, chat_key: str, lang: str) -> None:
        if len(self._langs) > 100_000:
            self._langs.clear()
        self._langs[chat_key] = lang

    async def _incoming(self, ev) -> Incoming | None:
        """The runtime's input for an event, or None (after telling the person) for what we cannot read."""
        if ev.name == TEXT_EVENT and ev.text and ev.text.strip():
            text = ev.text.strip()
            if PUSH_RE.match(text):  # a choice of a pushed message, typed as its code (see bot/zalo/sending.py)
                async with self.sm() as db:
                    value = await pushed_choice(db, ev.chat_key, text)
                if value is not None:
                    return Incoming(choice=value)
            return Incoming(text="/start" if text.lower() in ("/start", "/batdau") else text)
        if not ev.name.startswith("message."):  # user.follow and the like: nothing to answer
            return None
        _ = translator(await self._lang(ev.chat_key))
        if ev.name == IMAGE_EVENT and ev.image_url:
            # “typing…” while the photo downloads: the two round trips at once, not one after the other
            typing = asyncio.ensure_future(self.client.send_chat_action(ev.chat_id, "typing"))
            try:
                data = await self.client.download(ev.image_url, self.config.max_image)
            except ValueError:
                await self.notice(ev.chat_key, _("Ảnh lớn hơn {mb} MB nên không tải về được. Vui lòng chụp lại với "
                                                 "kích thước nhỏ hơn.", mb=self.config.max_image // (1024 * 1024)))
                return None
            finally:
                with contextlib.suppress(ZaloError):
                    await typing
            return Incoming(file=IncomingFile(data=data, name=f"anh-{ev.message_id[:24]}.jpg", mime="image/jpeg"))
        await self.notice(ev.chat_key, _("Trợ lý chỉ đọc được tin nhắn chữ và ảnh chụp. Vui lòng gõ câu trả lời, "
                                         "hoặc gửi ảnh giấy tờ."))
        return None

    # ------------------------------------------------------------------------------------------
    # sending
    async def deliver(self, chat_key: str, replies: Sequence[Any], *, lang: str | None = None) -> None:
        _ = translator(lang or await self._lang(chat_key))
        for b in render(replies, _):
            try:
                if b.file is not None:
                    await self._send_file(chat_key, b.text, b.file, _)
                else:
                    await self.out.text(chat_key, b.text)
            except ZaloAPIError as exc:
                if exc.code in (401, 403):
                    log.info("zalo %s: refused (%s); replies dropped", chat_key, exc.code)
                    return
                raise

    def file_link(self, sha: str, name: str, now: float | None = None) -> str | None:
        """A signed link to a stored file (see :class:`bot.zalo.files.FileLinks`), or None without a public URL."""
        return self.links.link(sha, name, now)

    async def _send_file(self, chat_key: str, caption: str, f: Any, _) -> None:
        """Zalo has no sendDocument and sendPhoto takes a URL: a signed link to the file (an image as a photo),
        or, without a public URL, a note that the file is kept with the dossier."""
        sha = getattr(f, "sha256", None) or (Path(f.path).name if getattr(f, "path", None) else None)
        mime = getattr(f, "mime", None) or ""
        name = download_name(getattr(f, "name", None), mime)  # ours: never the name a file was uploaded with
        link = self.file_link(sha, name) if sha and len(sha) == 64 else None
        if link and mime.startswith("image/"):
            await self.out.call(chat_key, lambda: self.client.send_photo(chat_key.split(":", 1)[1], link,
                                                                         caption[:TEXT_LIMIT] or None), "sendPhoto")
            return
        officer = False
        if link is None:
            async with self.sm() as db:
                officer = await OfficerRepo(db).by_user_key(chat_key) is not None
        await self.out.text(chat_key, file_note(caption, name, link, _, FILE_LINK_DAYS, officer=officer))

    def file_text(self, caption: str, file: dict[str, Any], _) -> str:
        """An outbox row's file (the citizen's form copy) as the text the notifier's sender posts."""
        mime = str(file.get("mime") or "")
        name = download_name(str(file.get("name") or ""), mime)
        sha = str(file.get("sha256") or "")
        return file_note(caption, name, self.file_link(sha, name) if len(sha) == 64 else None, _, FILE_LINK_DAYS)

    async def busy(self, chat_key: str) -> None:
        """Tell the chat the system is busy, at most once every few minutes: its message is kept and will be
        answered once the database is back (the language is this process's last known one: no database now)."""
        if not self._busy.allow(chat_key):
            return
        with contextlib.suppress(Exception):
            await self.notice(chat_key, translator(self._langs.get(chat_key, "vi"))(BUSY))

    async def notice(self, chat_key: str, text: str) -> None:
        await self.out.text(chat_key, text)

    async def _safe_notice(self, chat_key: str, text: str) -> None:
        try:
            _ = translator(await self._lang(chat_key))
            await self.notice(chat_key, _(text))
        except Exception:
            pass
