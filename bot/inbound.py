"""What both chat channels (Telegram, Zalo) do with an inbound update before and around its step.

Inbound rate limits: one token bucket per chat and one for the process.

A person types a message every few seconds and sends an album of up to ten photos at once; a flooding chat
sends dozens a second and makes every other chat wait. So:

* per chat, a burst of :attr:`InboundLimits.chat_burst` updates, refilled at :attr:`InboundLimits.chat_rate`
  a second. An update over the limit is stored (so a redelivery is still recognised) but not processed; the
  person is told, at most once per :attr:`InboundLimits.notice_every` seconds, to wait and send it again;
* for the whole webhook, :attr:`InboundLimits.global_rate` updates a second (burst ``global_burst``): over it
  the webhook answers 429 with ``Retry-After``, and Telegram or Zalo deliver the update again later (nothing
  is lost).

The console is a local program for one person and has no limit.

Also here, what both webhooks do with a request before storing it: the secret compared in constant time on
bytes, the body capped before it is read whole, JSON of bounded depth, ids that fit a BIGINT; anything else
is a 4xx, never a 500 (a 500 makes Telegram deliver the same bad request again, for ever).

And :func:`apply_in_order`: a chat's updates are applied in the order they came, across redeliveries and
processes, replies included.
"""
from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from dialogs.i18n import N_

#: what a person hears when the database is down, locked or out of disk (their message is kept)
BUSY = N_("Hệ thống đang bận, vui lòng thử lại sau ít phút. Tin nhắn của bạn đã được giữ lại và sẽ được trả lời "
          "ngay khi hệ thống sẵn sàng.")


@dataclass(frozen=True)
class InboundLimits:
    chat_rate: float = 1.0        # updates per second per chat, sustained
    chat_burst: float = 20.0      # an album of 10 photos and a few words
    global_rate: float = 200.0    # updates per second per process
    global_burst: float = 400.0
    notice_every: float = 30.0    # seconds between two "slow down" notices to one chat


class _Bucket:
    __slots__ = ("at", "tokens")

    def __init__(self, tokens: float, at: float):
        self.tokens = tokens
        self.at = at


class NoticeGate:
    """Whether to tell a chat something now: at most once per ``every`` seconds per chat (a “slow down”, a “the
    system is busy”), remembering at most ``max_chats`` chats."""

    def __init__(self, every: float, clock: Callable[[], float] = time.monotonic, max_chats: int = 50_000):
        self.every, self.clock, self.max_chats = every, clock, max_chats
        self._told: dict[str, float] = {}

    def allow(self, key: str) -> bool:
        now = self.clock()
        last = self._told.get(key)
        if last is not None and now - last < self.every:
            return False
        if len(self._told) >= self.max_chats:
            self._told.clear()
        self._told[key] = now
        return True


class InboundLimiter:
    def __init__(self, limits: InboundLimits | None = None, clock: Callable[[], float] = time.monotonic,
                 max_chats: int = 50_000):
        self.limits = limits or InboundLimits()
        self.clock = clock
        self.max_chats = max_chats
        self._chats: dict[str, _Bucket] = {}
        self._global = _Bucket(self.limits.global_burst, clock())
        self._notices = NoticeGate(self.limits.notice_every, clock, max_chats)
        self.refused_chat = 0
        self.refused_global = 0

    @staticmethod
    def _take(b: _Bucket, rate: float, burst: float, now: float) -> bool:
        b.tokens = min(burst, b.tokens + (now - b.at) * rate)
        b.at = now
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return True
        return False

    def allow_global(self) -> bool:
        ok = self._take(self._global, self.limits.global_rate, self.limits.global_burst, self.clock())
        if not ok:
            self.refused_global += 1
        return ok

    def retry_after(self) -> int:
        return max(1, int(1.0 / max(self.limits.global_rate, 0.001)) + 1)

    def allow_chat(self, key: str) -> bool:
        now = self.clock()
        b = self._chats.get(key)
        if b is None:
            if len(self._chats) >= self.max_chats:
                self._forget_idle(now)
            b = self._chats[key] = _Bucket(self.limits.chat_burst, now)
        ok = self._take(b, self.limits.chat_rate, self.limits.chat_burst, now)
        if not ok:
            self.refused_chat += 1
        return ok

    def should_notice(self, key: str) -> bool:
        """Whether to tell this chat it is over its limit now (not again within ``notice_every``)."""
        return self._notices.allow(key)

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled completely (they hold nothing worth keeping)."""
        full = self.limits.chat_burst / max(self.limits.chat_rate, 0.001)
        for k in [k for k, b in self._chats.items() if now - b.at >= full]:
            del self._chats[k]
        if len(self._chats) >= self.max_chats:
            self._chats.clear()


# -- webhook requests ------------------------------------------------------------------------------------------
MAX_JSON_DEPTH = 40


def secret_ok(header: str | None, secret: str | None) -> bool:
    """Constant-time comparison of a webhook secret header, on bytes: any header (non-ASCII included) is
    simply wrong, never an error."""
    if not secret or header is None:
        return False
    given = header.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, secret.encode("utf-8"))


def json_depth_ok(obj: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    stack = [(obj, 0)]
    while stack:
        o, d = stack.pop()
        if d > limit:
            return False
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)
    return True


async def read_json(request: web.Request, max_bytes: int) -> tuple[Any, int | None]:
    """The request's JSON body, or (None, status): 413 over ``max_bytes`` (checked on the declared length
    before reading, and while reading), 400 for anything that is not JSON of sane depth."""
    if request.content_length is not None and request.content_length > max_bytes:
        return None, 413
    try:
        body = await request.content.read(max_bytes + 1)
    except (web.HTTPException, ConnectionError, asyncio.IncompleteReadError):
        return None, 400
    if len(body) > max_bytes:
        return None, 413
    try:
        obj = orjson.loads(body)  # (a sixth of the standard library's time; stricter: no lone surrogates, NaN)
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, or nested too deep for the parser
        return None, 400
    if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH and not json_depth_ok(obj):
        return None, 400  # (fewer brackets than the limit cannot nest deeper: an update is not walked)
    return obj, None


def bounded_int(value: Any, lo: int = -(2 ** 63), hi: int = 2 ** 63 - 1) -> bool:
    """A JSON integer that fits a BIGINT (a bool is not an integer here)."""
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


#: what an update's step says when it could not be applied yet (:func:`apply_in_order`)
OLDER_PENDING = "older"    # an older update of the chat is still pending (another process has it, or a retry)
OLDER_SENDING = "sending"  # an older update's replies are being sent by another process


async def apply_in_order(step: Callable[[], Awaitable[str | None]], apply_older: Callable[[], Awaitable[None]], *,
                         overtake: Callable[[], None], tries: int, wait: float) -> bool:
    """Apply one inbound update in its chat's order. ``step()`` applies it and returns None (applied, or refused
    for good), or why it must wait:

    * :data:`OLDER_SENDING`: ours go after those replies. After ``wait`` seconds (that process died holding
      them; they are sent at its restart) ``overtake()`` lets ours go anyway;
    * :data:`OLDER_PENDING`: ``apply_older()`` applies the chat's older pending updates first, oldest first,
      then ours again; given up after ``tries`` tries and ``wait`` seconds.

    Returns False if it gave up: the update stays pending (applied at the next start)."""
    n, waited, pause = 0, 0.0, 0.01
    while True:
        why = await step()
        if why is None:
            return True
        if why == OLDER_SENDING:
            if waited >= wait:
                overtake()
        else:
            n += 1
            if n >= tries and waited >= wait:
                return False
            await apply_older()
        await asyncio.sleep(pause)
        waited, pause = waited + pause, min(pause * 2, 0.2)
