"""What goes out to Zalo: direct replies (:class:`Outbound`, with retries) and the notifier's
:class:`ZaloSender` (one attempt, classified for bot/notifier.py). Both share one rate limiter per bot: the
notifier's token bucket and global 429 halt, with a small per-chat burst (Zalo's limits are not published:
``DEFAULT_LIMITS["zalo"]`` is conservative and every 429 is honoured).
"""
from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import logging
import random
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notifier import DEFAULT_LIMITS, Limits, PermanentError, Progress, RateLimiter, RetryAfter, TransientError
from dialogs.i18n import N_, translator
from storage.channel_models import TelegramButton

from .client import ZaloAPIError, ZaloClient, ZaloNetworkError
from .render import TEXT_LIMIT, split_text

log = logging.getLogger("dvcbot.zalo.send")

CHANNEL = "zalo"


def chat_id_of(chat_key: str) -> str:
    """``zalo:abc123`` → ``abc123`` (Zalo ids are opaque strings)."""
    head, _sep, rest = chat_key.partition(":")
    if head != CHANNEL or not rest:
        raise ValueError(f"not a zalo chat key: {chat_key[:40]}")
    return rest


def default_limits() -> Limits:
    return DEFAULT_LIMITS.get(CHANNEL, Limits(1.0, 10.0, 10.0))


def make_limiter(limits: Limits, per_chat_burst: int = 3) -> RateLimiter:
    from bot.telegram.sending import BurstRateLimiter  # the same bucket logic (global bucket, 429 halt)
    return BurstRateLimiter(limits, per_chat_burst=per_chat_burst)


@dataclass
class SendStats:
    calls: int = 0
    retry_after: int = 0
    network_retries: int = 0
    failed: int = 0


class Outbound:
    """The replies of a conversation: through the shared limiter; a 429 halts the limiter for the time asked
    and the call is made again; connection errors and 5xx are retried with jittered backoff. 4xx are raised."""

    def __init__(self, client: ZaloClient, limiter: RateLimiter, *, max_attempts: int = 6,
                 max_rate_limited: int = 20, backoff: float = 0.5, backoff_cap: float = 10.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.client = client
        self.limiter = limiter
        self.max_attempts = max_attempts
        self.max_rate_limited = max_rate_limited
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.stats = SendStats()

    async def call(self, chat_key: str | None, fn: Callable[[], Awaitable[Any]], what: str = "send") -> Any:
        failures = rate_limited = 0
        while True:
            if chat_key:
                await self.limiter.wait(chat_key)
            self.stats.calls += 1
            try:
                return await fn()
            except ZaloAPIError as exc:
                if exc.code == 429:
                    self.stats.retry_after += 1
                    rate_limited += 1
                    self.limiter.halt(exc.retry_after or 1.0)
                    log.warning("zalo 429 on %s: halting sends for %ss", what, exc.retry_after)
                    if rate_limited > self.max_rate_limited:
                        self.stats.failed += 1
                        raise
                    continue
                if exc.code < 500:
                    self.stats.failed += 1
                    raise
                failures += 1
            except ZaloNetworkError:
                failures += 1
            if failures >= self.max_attempts:
                self.stats.failed += 1
                raise ZaloNetworkError(what, f"gave up after {failures} attempts")
            self.stats.network_retries += 1
            delay = min(self.backoff_cap, self.backoff * 2 ** (failures - 1)) * (0.5 + random.random() / 2)
            await self.sleep(delay)

    async def text(self, chat_key: str, text: str) -> list[dict[str, Any]]:
        chat_id = chat_id_of(chat_key)
        return [await self.call(chat_key, functools.partial(self.client.send_message, chat_id, c), "sendMessage")
                for c in split_text(text, TEXT_LIMIT)]


# ---------------------------------------------------------------------------------------------
# choices of a pushed message
#
# A push (an officer's "new dossier: Xem hồ sơ / Nhận xử lý", a citizen's "confirm the new bank account") is not
# the chat's current question, so its choices cannot be numbered lines: "2" would answer whatever the chat was
# asked last (an officer with dossier A open would act on A). Each push gets a short code of four consonants
# instead, and its choices are typed as code + number ("KQTR2"). They are stored like Telegram's pushed buttons
# (``telegram_buttons``, chat key ``zalo:…``) and stay valid whatever the chat is asked afterwards.
PUSH_LETTERS = "BCDFGHJKMNPQRSTVXZ"  # no vowels: a code is never a word someone would type as an answer
PUSH_RE = re.compile(r"^\s*([A-Za-z]{4})\s*[-.]?\s*(\d{1,2})\s*$")


def push_row_token(code: str, chat_key: str) -> str:
    """The stored row's key (``telegram_buttons.token`` is unique across chats; the typed code per chat only)."""
    return "z" + code.upper() + hashlib.sha256(chat_key.encode("utf-8")).hexdigest()[:10]


async def pushed_choice(db: AsyncSession, chat_key: str, text: str) -> str | None:
    """The value of a pushed choice typed as ``CODE<n>`` in ``chat_key``, or None."""
    m = PUSH_RE.match(text or "")
    if m is None or any(ch not in PUSH_LETTERS for ch in m.group(1).upper()):
        return None
    row = (await db.execute(select(TelegramButton).where(
        TelegramButton.token == push_row_token(m.group(1), chat_key),
        TelegramButton.chat_key == chat_key))).scalar_one_or_none()
    i = int(m.group(2))
    if row is None or not 1 <= i <= len(row.choices or []):
        return None
    return str(row.choices[i - 1][0])


async def _delivery_call(call: Awaitable[Any]) -> Any:
    """A Bot API call of the notifier's delivery, its failure in the notifier's terms (retry, halt, give up)."""
    try:
        return await call
    except ZaloAPIError as exc:
        if exc.code == 429:
            raise RetryAfter(exc.retry_after or 1.0, "zalo 429") from None
        if exc.code >= 500:
            raise TransientError(f"zalo {exc.code}: {exc.description[:200]}") from None
        raise PermanentError(f"zalo {exc.code}: {exc.description[:200]}") from None
    except ZaloNetworkError as exc:
        if exc.timeout:
            raise  # the message may have gone out: the notifier marks it uncertain
        raise TransientError(str(exc)) from None


class ZaloSender:
    """The notifier's ``Sender`` for ``zalo:<chat id>`` rows. Payload ``{"text", "choices": [{"value",
    "label"}]}`` (choices become typed codes, see above: Zalo has no buttons; a pushed image is not sent, Zalo's
    sendPhoto takes a public URL only), with ``"file"`` for the citizen's form copy (sent as a signed link).
    Returns the last Zalo message id.

    A text over 2000 characters goes out in several messages; the send resumes where it stopped: after each
    accepted part but the last, the parts sent and what the rest is rendered with (the push's code, the chat's
    language) are saved through the notifier's :class:`bot.notifier.Progress`, so a retry after a 429 or a
    network error between two parts sends only the missing ones, split exactly as before."""

    channel = CHANNEL
    resumable = True

    def __init__(self, client: ZaloClient, sm: Any = None,
                 file_text: Callable[[str, dict[str, Any], Callable[..., str]], str] | None = None,
                 photo_link: Callable[[bytes, str], Awaitable[str | None]] | None = None):
        self.client = client
        self.sm = sm
        self.file_text = file_text  # a row with a file (the form copy): its text with a signed link
        self.photo_link = photo_link  # a row with a picture (the report's chart): stored, then a signed link

    @staticmethod
    def text_of(payload: dict[str, Any], code: str | None = None, _: Callable[..., str] | None = None) -> str:
        text = str(payload.get("text") or payload.get("caption") or "")
        choices = [c for c in (payload.get("choices") or []) if isinstance(c, dict) and c.get("label")]
        if choices and code:
            _ = _ or translator("vi")
            text += "\n" + _("Để chọn, gõ mã tương ứng:") + "\n" + "\n".join(
                f"• {code}{i}: {c['label']}" for i, c in enumerate(choices, 1))
        elif choices:  # nowhere to store the codes: the labels only
            text += "\n" + "\n".join(f"• {c['label']}" for c in choices)
        return text.strip() or "…"

    async def _store_choices(self, chat_key: str, choices: list[dict[str, Any]]) -> tuple[str | None, str]:
        """A fresh code for this push's choices (stored), and the chat's language."""
        from bot import accounts
        from storage.models import Conversation
        async with self.sm() as db, db.begin():
            key = await accounts.conversation_key(db, chat_key)
            lang = (await db.execute(select(Conversation.lang).where(Conversation.user_key == key))
                    ).scalar_one_or_none() or "vi"
            for _attempt in range(20):
                code = "".join(secrets.choice(PUSH_LETTERS) for _ in range(4))
                token = push_row_token(code, chat_key)
                if await db.get(TelegramButton, token) is None:
                    db.add(TelegramButton(token=token, chat_key=chat_key,
                                          choices=[[str(c.get("value")), str(c.get("label"))] for c in choices],
                                          created_at=datetime.now(UTC)))
                    return code, lang
        return None, lang

    async def send(self, chat_key: str, payload: dict[str, Any], progress: Progress | None = None) -> str | None:
        try:
            chat_id = chat_id_of(chat_key)
        except ValueError as exc:
            raise PermanentError(str(exc)) from None
        choices = [c for c in (payload.get("choices") or []) if isinstance(c, dict) and c.get("value") is not None
                   and c.get("label")]
        done = progress.parts if progress is not None else 0
        if done:  # resuming: render exactly as on the try that sent the first parts
            assert progress is not None
            code, lang = progress.state.get("code"), str(progress.state.get("lang") or "vi")
        elif choices and self.sm is not None:
            code, lang = await self._store_choices(chat_key, choices)
        else:
            code, lang = None, "vi"
        file = payload.get("file") if isinstance(payload.get("file"), dict) else None
        if file is not None and self.file_text is not None:
            lang = str(payload.get("lang") or lang)
            text = self.file_text(str(payload.get("text") or ""), file, translator(lang))
            chunks = split_text(text, TEXT_LIMIT)
        else:
            chunks = split_text(self.text_of(payload, code, translator(lang)), TEXT_LIMIT)
        photo = None
        if payload.get("image_png"):  # Zalo's sendPhoto takes a URL: a signed link, or where to see the picture
            data = base64.b64decode(str(payload["image_png"]))
            name = str(payload.get("image_name") or "bieu-do.png")
            photo = await self.photo_link(data, name) if self.photo_link is not None else None
            if photo is None:
                note = translator(lang)(N_("(Biểu đồ không gửi được qua Zalo: xem trên bàn làm việc web, trang "
                                           "Tổng hợp. Gõ /dangnhap để lấy mã đăng nhập.)"))
                chunks = split_text("\n\n".join(chunks) + "\n" + note, TEXT_LIMIT)
        ref = None
        for i, chunk in enumerate(chunks):
            if i < done:  # accepted on an earlier try
                continue
            result = await _delivery_call(self.client.send_message(chat_id, chunk))
            if isinstance(result, dict) and result.get("message_id") is not None:
                ref = str(result["message_id"])
            if progress is not None and (i < len(chunks) - 1 or photo):
                await progress.save(parts=i + 1, code=code, lang=lang)
        if photo and done <= len(chunks):
            await _delivery_call(self.client.send_photo(chat_id, photo))
        return ref
