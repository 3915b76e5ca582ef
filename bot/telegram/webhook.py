"""The Telegram webhook request: checked, then stored in the inbox (the channel handles it afterwards).

See bot/inbound.py for the checks shared with Zalo, and docs/security.md.
"""
from __future__ import annotations

import logging
from typing import Any, Protocol

from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.inbound import InboundLimiter, bounded_int, read_json, secret_ok
from storage.db import unavailable

from .inbox import chat_of, safe_traceback

log = logging.getLogger("dvcbot.telegram")

MAX_BODY = 1024 * 1024  # an update with a 4,096-character text and its entities is a few tens of kilobytes


class _Channel(Protocol):
    """What the handler needs of bot.telegram.channel.TelegramChannel (which imports this module)."""

    config: Any
    inbound: InboundLimiter

    async def accept(self, raw: dict[str, Any], *, respond: bool = False) -> bool: ...

    async def turn_reply(self, raw: dict[str, Any]) -> Any: ...

    async def webhook_sent(self, reply: Any, written: bool) -> None: ...

    def webhook_reply(self, raw: dict[str, Any]) -> dict[str, Any] | None: ...

    async def busy(self, chat_id: int) -> None: ...


class InboxWebhookHandler(SimpleRequestHandler):
    """aiogram's webhook request handler, storing the update in the inbox instead of handling it in the
    request. Telegram gets its 200 as soon as the update is committed. A database that is down, locked or out of
    disk answers 503 (and the person is told the system is busy), any other failure to store 500, so Telegram
    delivers the update again; a request that can never be stored gets a 4xx (see bot/inbound.py):
    a wrong secret (compared in constant time, any bytes) 401, a body over :data:`MAX_BODY` 413, anything
    that is not an update (bad JSON, too deep, an ``update_id`` or chat id that is not a 64-bit integer) 400,
    and a flood over the process's inbound limit 429. The 200 of a new button press carries its
    ``answerCallbackQuery`` (the channel's ``webhook_reply``), so the press costs one Bot API call fewer."""

    def __init__(self, channel: _Channel, **kwargs: Any):
        super().__init__(**kwargs)
        self.channel = channel

    async def handle(self, request: web.Request) -> web.Response:
        secret = self.channel.config.secret
        if secret and not secret_ok(request.headers.get("X-Telegram-Bot-Api-Secret-Token"), secret):
            return web.Response(body="Unauthorized", status=401)
        if not self.channel.inbound.allow_global():
            return web.Response(body="Too Many Requests", status=429,
                                headers={"Retry-After": str(self.channel.inbound.retry_after())})
        raw, status = await read_json(request, MAX_BODY)
        if status is not None:
            return web.Response(body="Request Entity Too Large" if status == 413 else "Bad Request", status=status)
        if not valid_update(raw):
            return web.Response(body="Bad Request", status=400)
        try:
            new = await self.channel.accept(raw, respond=True)
        except Exception as exc:
            if unavailable(exc):  # down, locked or disk full: Telegram posts it again later; the person is told
                log.warning("telegram webhook: database unavailable (%s); update %s refused with 503",
                            type(exc).__name__, raw.get("update_id"))
                chat = chat_of(raw)
                if chat is not None:
                    await self.channel.busy(chat)
                return web.Response(body="Busy", status=503, headers={"Retry-After": "10"})
            log.error("telegram webhook: could not store update %s\n%s", raw.get("update_id"), safe_traceback(exc))
            return web.Response(body="Try again", status=500)
        # one Bot API call may ride on the response (Telegram makes it): a button press is answered here, and a
        # typed message gets the last message of its turn once that has committed
        reply = self.channel.webhook_reply(raw) if new else None
        if reply is None and new:
            turn = await self.channel.turn_reply(raw)
            if turn is not None:
                return await self._respond(request, turn)
        return web.json_response(reply or {})

    async def _respond(self, request: web.Request, turn: Any) -> web.Response:
        """The turn's last message as the response, written out before its replies are marked sent."""
        resp = web.Response(body=turn.body, content_type="application/json")
        written = False
        try:
            await resp.prepare(request)
            await resp.write_eof()
            written = True
        except (ConnectionError, RuntimeError) as exc:  # (cancelled: the replies are sent at the next start)
            log.info("telegram webhook: response not written (%s)", type(exc).__name__)
        await self.channel.webhook_sent(turn, written)
        return resp


def valid_update(raw: Any) -> bool:
    """An object with a 64-bit ``update_id`` whose chat, if any, has a 64-bit integer id."""
    if not isinstance(raw, dict) or not bounded_int(raw.get("update_id"), 0):
        return False
    try:
        chat = chat_of(raw)
    except (AttributeError, TypeError):
        return False
    return chat is None or bounded_int(chat)
