"""Everything that goes out to Telegram: one rate limiter shared by replies and notifications, retries, and the
notifier's ``Sender`` for the ``telegram`` channel.

* :class:`BurstRateLimiter` is the notifier's :class:`bot.notifier.RateLimiter` (global token bucket, global
  halt after a 429) with a small per-chat bucket instead of a strict spacing: Telegram allows short bursts
  to one chat, and a turn often needs two calls (the answer and the edited button message).
* :class:`Outbound` makes the direct calls of a conversation (replies, edits, callback answers, files). A
  ``TelegramRetryAfter`` halts the limiter for ``retry_after`` seconds and the call is made again; network
  and server errors are retried with jittered backoff (a reply sent twice is better than a citizen left
  without the next question).
* :class:`JsonSession` is aiogram's aiohttp session, posting a call without files as one JSON body (serialised
  by pydantic in one pass) instead of a URL-encoded form: aiogram quotes every byte of a Vietnamese text and
  every keyboard in Python, 13 times the CPU of the JSON (189 against 15 µs for a question with five
  buttons). A call with a file, or with a field left to the bot's defaults that are set, goes the stock way.
  A call whose result the caller drops (``Outbound.call(..., result=False)``: a conversation's replies and
  edits) is not read into aiogram's models when it succeeded (120 µs a message); a failure is read and raised
  as aiogram raises it.
* :class:`TelegramSender` is what bot/notifier.py calls for outbox rows of the ``telegram`` channel. It makes
  one attempt and classifies the outcome for the notifier (``RetryAfter``, ``TransientError``,
  ``PermanentError``; a timeout is left unclassified, i.e. *uncertain*, and is not re-sent automatically).
  Buttons of a pushed message (an officer's "Nhận xử lý") are stored in ``telegram_buttons`` and stay
  valid whatever the chat is asked afterwards. A notification sent in several parts (a long text, or a chart
  whose caption is too long) resumes where it stopped: after each accepted part but the last it saves its
  progress (parts sent, the buttons' token) through the notifier's :class:`bot.notifier.Progress`, so a 429 or a
  network error between two parts never makes the first ones arrive twice.
"""
from __future__ import annotations

import asyncio
import base64
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson
from aiogram import Bot
from aiogram import methods as bot_api
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendDocument, SendMessage, SendPhoto
from aiogram.methods.base import Response, TelegramMethod, TelegramType
from aiogram.types import BufferedInputFile
from aiohttp import ClientError, ClientTimeout
from pydantic_core import PydanticSerializationError
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.notifier import DEFAULT_LIMITS, Limits, PermanentError, Progress, RateLimiter, RetryAfter, TransientError
from storage.attachments import AttachmentStore
from storage.channel_models import TelegramButton

from .render import CAPTION_LIMIT, push_keyboard, split_text

log = logging.getLogger("dvcbot.telegram.send")

# aiogram reads every Bot API answer as ``Response[method.__returning__]``, a pydantic generic model that pydantic
# caches only weakly: once collected, the next call builds it again (20–60 ms of CPU each; in a 30-update
# procedure that happened about once per update). The models of the methods we call are kept alive here.
RESPONSE_MODELS = tuple(Response[m.__returning__] for m in (  # type: ignore[name-defined]
    bot_api.SendMessage, bot_api.SendDocument, bot_api.SendPhoto, bot_api.EditMessageText,
    bot_api.EditMessageReplyMarkup, bot_api.AnswerCallbackQuery, bot_api.GetFile, bot_api.SetWebhook,
    bot_api.DeleteWebhook, bot_api.SetMyCommands, bot_api.GetMe))

CHANNEL = "telegram"

JSON_METHODS = frozenset({bot_api.SendMessage, bot_api.EditMessageText, bot_api.EditMessageReplyMarkup,
                          bot_api.AnswerCallbackQuery, bot_api.DeleteMessage, bot_api.SendChatAction})
"""The calls :class:`JsonSession` posts as JSON: a conversation's own, whose fields are text, numbers and
keyboards (no dates, which the Bot API wants as Unix times, and no files)."""


_RESULT_DROPPED: ContextVar[bool] = ContextVar("telegram_result_dropped", default=False)


class JsonSession(AiohttpSession):
    """aiogram's session; the calls of :data:`JSON_METHODS` are posted as ``application/json`` (the Bot API
    takes either), the others as aiogram posts them."""

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
                           ) -> TelegramType:
        body = _json_body(bot, method) if type(method) in JSON_METHODS else None
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(url, data=body, headers={"Content-Type": "application/json"},
                                    timeout=ClientTimeout(total=self.timeout if timeout is None else timeout)
                                    ) as resp:
                raw = await resp.text()
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except ClientError as exc:
            raise TelegramNetworkError(method=method, message=f"{type(exc).__name__}: {exc}") from exc
        if resp.status == 200 and _RESULT_DROPPED.get() and _succeeded(raw):
            return cast(TelegramType, None)  # (the caller drops it: not read into models)
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw)
        return cast(TelegramType, response.result)


def _succeeded(raw: str) -> bool:
    try:
        return orjson.loads(raw).get("ok") is True  # (orjson, as the webhook reads an update: on every reply)
    except (ValueError, AttributeError):
        return False


def _json_body(bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
    """The call as one JSON object (unset fields left out), or None where a field is left to a bot default
    that is set (aiogram's own path fills it in)."""
    unset = set()
    for name, value in method:
        if isinstance(value, Default):
            if bot.default[value.name] is not None:
                return None
            unset.add(name)
    try:
        return method.model_dump_json(exclude=unset, exclude_none=True, warnings=False).encode("utf-8")
    except PydanticSerializationError:
        return None


def webhook_call(bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
    """The call as the JSON body of a webhook's HTTP response (Telegram makes it), or None where it cannot be
    one (a file, a bot default that is set)."""
    if type(method) not in JSON_METHODS:
        return None
    body = _json_body(bot, method)
    if body is None or not body.startswith(b"{"):
        return None
    return b'{"method":"' + method.__api_method__.encode() + (b'",' if len(body) > 2 else b'"') + body[1:]


def chat_id_of(chat_key: str) -> int:
    """``telegram:123`` → 123."""
    head, _sep, rest = chat_key.partition(":")
    if head != CHANNEL or not rest.lstrip("-").isdigit():
        raise ValueError(f"not a telegram chat key: {chat_key[:40]}")
    return int(rest)


class BurstRateLimiter(RateLimiter):
    """Global token bucket and 429 halt as in the notifier; per chat a bucket of ``per_chat_burst`` messages
    refilled at one per ``per_chat_interval`` seconds (``0`` disables the per-chat limit)."""

    def __init__(self, limits: Limits, *, per_chat_burst: int = 3, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        super().__init__(limits, clock, sleep)
        self.per_chat_burst = max(1, per_chat_burst)
        self.chats: dict[str, tuple[float, float]] = {}  # chat -> (tokens, updated)

    def _take(self, chat_key: str) -> float:
        """Take one message's tokens if they are there now (0.0), else how long to wait for them."""
        interval = self.limits.per_chat_interval
        now = self.clock()
        self._refill(now)
        waits = [self.halt_until - now]
        tokens, updated = self.chats.get(chat_key, (float(self.per_chat_burst), now))
        if interval > 0:
            tokens = min(float(self.per_chat_burst), tokens + (now - updated) / interval)
            if tokens < 1:
                waits.append((1 - tokens) * interval)
        if self.tokens < 1:
            waits.append((1 - self.tokens) / self.limits.global_rate)
        delay = max(waits)
        if delay <= 0:
            self.tokens -= 1
            if interval > 0:
                self.chats[chat_key] = (tokens - 1, now)
                if len(self.chats) > 10000:  # forget chats whose bucket is full again
                    horizon = now - interval * self.per_chat_burst
                    self.chats = {k: v for k, v in self.chats.items() if v[1] > horizon}
            return 0.0
        if interval > 0:
            self.chats[chat_key] = (tokens, now)
        return delay

    async def wait(self, chat_key: str) -> None:
        while True:
            async with self.lock:
                delay = self._take(chat_key)
            if delay <= 0:
                return
            await self.sleep(delay)

    def take_now(self, chat_key: str) -> bool:
        """Take one message's tokens if they are there now, without waiting (False if anyone is waiting or the
        sends are halted): a reply returned in the webhook's response cannot wait, nor be retried after a 429."""
        return not self.lock.locked() and self._take(chat_key) <= 0


def default_limits() -> Limits:
    return DEFAULT_LIMITS.get(CHANNEL, Limits(1.0, 25.0, 25.0))


@dataclass
class SendStats:
    calls: int = 0
    retry_after: int = 0
    network_retries: int = 0
    failed: int = 0


class Outbound:
    """Direct Bot API calls of a conversation, through the shared limiter, with retries."""

    def __init__(self, bot: Bot, limiter: RateLimiter, *, max_attempts: int = 6, max_rate_limited: int = 20,
                 backoff: float = 0.5, backoff_cap: float = 10.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.bot = bot
        self.limiter = limiter
        self.max_attempts = max_attempts
        self.max_rate_limited = max_rate_limited
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.stats = SendStats()

    async def call(self, chat_key: str | None, method: TelegramMethod, *, limited: bool = True,
                   result: bool = True) -> Any:
        """``limited=False`` for calls that are not messages (answerCallbackQuery, getFile): they skip the
        buckets but still wait out a 429 halt. ``result=False``: the caller drops what the call returns (it
        returns None when it succeeded; a failure raises all the same)."""
        failures = rate_limited = 0
        while True:
            if limited and chat_key:
                await self.limiter.wait(chat_key)
            else:
                pause = self.limiter.halt_until - self.limiter.clock()
                if pause > 0:
                    await self.sleep(pause)
            self.stats.calls += 1
            dropped = None if result else _RESULT_DROPPED.set(True)
            try:
                return await self.bot(method)
            except TelegramRetryAfter as exc:
                self.stats.retry_after += 1
                rate_limited += 1
                self.limiter.halt(float(exc.retry_after))
                log.warning("telegram 429 on %s: halting sends for %ss", method.__api_method__, exc.retry_after)
                if rate_limited > self.max_rate_limited:
                    self.stats.failed += 1
                    raise
            except TelegramEntityTooLarge:
                self.stats.failed += 1
                raise
            except (TelegramNetworkError, TelegramServerError) as exc:
                failures += 1
                if failures >= self.max_attempts:
                    self.stats.failed += 1
                    raise
                self.stats.network_retries += 1
                delay = min(self.backoff_cap, self.backoff * 2 ** (failures - 1)) * (0.5 + random.random() / 2)
                log.warning("telegram %s failed (%s); retry %d in %.1fs", method.__api_method__,
                            type(exc).__name__, failures, delay)
                await self.sleep(delay)
            finally:
                if dropped is not None:
                    _RESULT_DROPPED.reset(dropped)


# ---------------------------------------------------------------------------------------------
class TelegramSender:
    """The notifier's ``Sender`` for ``telegram:<chat id>`` rows. Payload: ``{"text", "choices": [{"value",
    "label"}], "image_png": base64, "image_name"}``, or ``{"text", "file": {"sha256", "name"}}`` for a document
    (the citizen's copy of the form, bot/formcopy.py; the text is its caption). Returns the (last) Telegram
    message id. Resumable: see the module's docstring."""

    channel = CHANNEL
    resumable = True

    def __init__(self, bot: Bot, sm: async_sessionmaker | None, *, timeout: float | None = None,
                 store: AttachmentStore | None = None):
        self.bot = bot
        self.sm = sm
        self.timeout = timeout
        self.store = store  # where a document's bytes are read from, by its digest

    async def _buttons(self, chat_key: str, choices: list[dict[str, Any]]) -> str:
        token = secrets.token_hex(4)
        if self.sm is not None:
            async with self.sm() as db, db.begin():
                db.add(TelegramButton(token=token, chat_key=chat_key,
                                      choices=[[str(c.get("value")), str(c.get("label"))] for c in choices],
                                      created_at=datetime.now(UTC)))
        return token

    async def _document(self, file: dict[str, Any]) -> bytes:
        """A row's document, read from the attachment store by its digest (off the event loop): gone from the
        store is permanent (the citizen had their data erased), the store unreachable is worth a retry. A row
        written before files were named by digest has its ``path`` instead."""
        sha = str(file.get("sha256") or "")
        try:
            if sha and self.store is not None:
                return await asyncio.to_thread(self.store.get, sha)
            if file.get("path"):
                return await asyncio.to_thread(Path(str(file["path"])).read_bytes)
        except FileNotFoundError:
            raise PermanentError("the document is no longer stored") from None
        except ValueError:
            raise PermanentError("not a stored document") from None
        except OSError as exc:
            raise TransientError(f"attachment store: {type(exc).__name__}") from None
        raise PermanentError("a document row without a stored file")

    async def send(self, chat_key: str, payload: dict[str, Any], progress: Progress | None = None) -> str | None:
        try:
            chat_id = chat_id_of(chat_key)
        except ValueError as exc:
            raise PermanentError(str(exc)) from None
        done = progress.parts if progress is not None else 0
        text = str(payload.get("text") or payload.get("caption") or "")
        choices = [c for c in (payload.get("choices") or []) if isinstance(c, dict) and c.get("value") is not None]
        token = (progress.state.get("token") if progress is not None and done else None) or \
            (await self._buttons(chat_key, choices) if choices else None)
        markup = push_keyboard(token, choices) if choices and token else None
        methods: list[TelegramMethod] = []
        file = payload.get("file") if isinstance(payload.get("file"), dict) else None
        if file is not None:
            data = await self._document(file)
            doc = BufferedInputFile(data, filename=str(file.get("name") or "tep.pdf"))
            caption = text if len(text) <= CAPTION_LIMIT else None
            methods.append(SendDocument(chat_id=chat_id, document=doc, caption=caption or None))
            if caption is None and text:
                methods += [SendMessage(chat_id=chat_id, text=c) for c in split_text(text)]
        elif payload.get("image_png"):
            photo = BufferedInputFile(base64.b64decode(payload["image_png"]),
                                      filename=f"{payload.get('image_name') or 'image'}.png")
            caption = text if len(text) <= CAPTION_LIMIT else None
            methods.append(SendPhoto(chat_id=chat_id, photo=photo, caption=caption,
                                     reply_markup=markup if caption is not None or not text else None))
            if caption is None and text:
                chunks = split_text(text)
                methods += [SendMessage(chat_id=chat_id, text=c) for c in chunks[:-1]]
                methods.append(SendMessage(chat_id=chat_id, text=chunks[-1], reply_markup=markup))
        else:
            chunks = split_text(text or "…")
            methods += [SendMessage(chat_id=chat_id, text=c) for c in chunks[:-1]]
            methods.append(SendMessage(chat_id=chat_id, text=chunks[-1], reply_markup=markup))
        ref = None
        for i, m in enumerate(methods):
            if i < done:  # accepted on an earlier try
                continue
            try:
                # aiogram annotates request_timeout as int; its aiohttp session takes any number of seconds
                msg = (await self.bot(m, request_timeout=self.timeout)  # type: ignore[arg-type]
                       if self.timeout else await self.bot(m))
            except TelegramRetryAfter as exc:
                raise RetryAfter(float(exc.retry_after), "telegram 429") from None
            except TelegramEntityTooLarge as exc:
                raise PermanentError(f"too large: {exc.message[:200]}") from None
            except TelegramNetworkError as exc:
                if "timeout" in exc.message.lower():
                    raise  # the message may have gone out: the notifier marks it uncertain
                raise TransientError(exc.message[:200]) from None
            except TelegramServerError as exc:
                raise TransientError(exc.message[:200]) from None
            except (TelegramForbiddenError, TelegramBadRequest, TelegramNotFound, TelegramMigrateToChat,
                    TelegramUnauthorizedError) as exc:
                raise PermanentError(f"{type(exc).__name__}: {exc.message[:200]}") from None
            ref = str(msg.message_id)
            if progress is not None and i < len(methods) - 1:
                await progress.save(parts=i + 1, token=token)
        return ref
