"""A fake Zalo Bot Platform API server on 127.0.0.1, for tests.

It answers ``POST /bot<token>/<method>`` with JSON as the real API does (``{"ok": true, "result": …}`` or
``{"ok": false, "error_code": N, "description": …}``): getMe, getUpdates (one update per call from a queue the
test feeds; 408 when the long poll ends empty), setWebhook, deleteWebhook, getWebhookInfo, sendMessage
(rejects text over 2000 characters), sendPhoto (a URL), sendChatAction. It serves the images of the image
events it builds under ``/files/<name>``. Every call is recorded; ``fail(method, count, status=429,
retry_after=…)`` makes the next calls fail.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TEXT_LIMIT = 2000


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200


@dataclass
class Sent:
    chat_id: str
    message_id: str
    text: str | None
    kind: str = "text"  # text | photo
    photo: str | None = None


@dataclass
class FakeZaloAPI:
    token: str = "1234567890:zalo-test-token"
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[Sent]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self._failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._sent_event = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> FakeZaloAPI:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/files/{name}", self._file)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    # -- test controls ----------------------------------------------------------------------------
    def fail(self, method: str, count: int = 1, *, status: int = 429, retry_after: int | None = None,
             description: str | None = None, after: int = 0) -> None:
        """The next ``count`` calls of ``method`` fail; with ``after``, only once that many calls of it have
        succeeded (a 429 between the parts of a long message)."""
        body: dict[str, Any] = {"ok": False, "error_code": status,
                                "description": description or ("Too Many Requests" if status == 429 else "Error")}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self._failures.setdefault(method.lower(), []).extend([None] * after + [(status, body)] * count)

    def put_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._new_update.set()

    def sent(self, chat_id: str) -> list[Sent]:
        return list(self.messages.get(chat_id, []))

    def last(self, chat_id: str) -> Sent:
        return self.messages[chat_id][-1]

    def method_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method.lower()]

    async def wait_messages(self, chat_id: str, count: int, timeout: float = 10.0) -> list[Sent]:
        deadline = time.monotonic() + timeout
        while len(self.messages.get(chat_id, [])) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"chat {chat_id}: {len(self.messages.get(chat_id, []))} messages, "
                                     f"expected {count}")
            self._sent_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent_event.wait(), left)
        return self.sent(chat_id)

    # -- updates a person sends -------------------------------------------------------------------
    def _message(self, chat_id: str, **fields: Any) -> dict[str, Any]:
        return {"message_id": f"m{next(self._ids):08x}", "date": int(time.time() * 1000),
                "from": {"id": chat_id, "display_name": "Dân", "is_bot": False},
                "chat": {"id": chat_id, "chat_type": "PRIVATE"}, **fields}

    def text_update(self, chat_id: str, text: str) -> dict[str, Any]:
        return {"event_name": "message.text.received", "message": self._message(chat_id, text=text)}

    def image_update(self, chat_id: str, data: bytes, caption: str | None = None) -> dict[str, Any]:
        name = f"img{next(self._ids)}.jpg"
        self.files[name] = data
        extra = {"caption": caption} if caption else {}
        return {"event_name": "message.image.received",
                "message": self._message(chat_id, photo_url=f"{self.base_url}/files/{name}", **extra)}

    def sticker_update(self, chat_id: str) -> dict[str, Any]:
        return {"event_name": "message.sticker.received", "message": self._message(chat_id, sticker="d063f44d")}

    # -- the API ----------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        try:
            params = await request.json() if request.can_read_body else {}
        except ValueError:
            params = {}
        call = Call(method, params if isinstance(params, dict) else {})
        self.calls.append(call)
        queue = self._failures.get(method)
        failure = queue.pop(0) if queue else None  # (None: this call goes through)
        if failure is not None:
            status, body = failure
            call.status = status
            return web.json_response(body, status=status)
        handler = getattr(self, f"m_{method}", None)
        if handler is None:
            call.status = 404
            return web.json_response({"ok": False, "error_code": 404, "description": "method not found"},
                                     status=404)
        try:
            result = await handler(call.params)
        except _ApiError as exc:
            call.status = exc.status
            return web.json_response({"ok": False, "error_code": exc.status, "description": exc.description},
                                     status=exc.status)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/jpeg")

    def _record(self, chat_id: Any, text: str | None, kind: str = "text", photo: str | None = None) -> dict:
        if not isinstance(chat_id, str) or not chat_id:
            raise _ApiError(400, "chat_id must be a string")
        s = Sent(chat_id, f"s{next(self._ids):08x}", text, kind, photo)
        self.messages.setdefault(chat_id, []).append(s)
        self._sent_event.set()
        return {"message_id": s.message_id, "date": int(time.time() * 1000)}

    async def m_getme(self, p):
        return {"id": self.token.split(":")[0], "account_name": "bot.dvc", "account_type": "BASIC",
                "can_join_groups": False}

    async def m_sendmessage(self, p):
        if getattr(self, "latency", 0):  # a slow Bot API: the test's kill lands while a send waits
            await asyncio.sleep(self.latency)
        text = p.get("text")
        if not isinstance(text, str) or not text:
            raise _ApiError(400, "text is empty")
        if len(text) > TEXT_LIMIT:
            raise _ApiError(400, "text is too long")
        return self._record(p.get("chat_id"), text)

    async def m_sendphoto(self, p):
        if not isinstance(p.get("photo"), str) or not p["photo"].startswith("http"):
            raise _ApiError(400, "photo must be a URL")
        return self._record(p.get("chat_id"), p.get("caption"), "photo", p["photo"])

    async def m_sendchataction(self, p):
        return {}

    async def m_setwebhook(self, p):
        if not 8 <= len(str(p.get("secret_token") or "")) <= 256:
            raise _ApiError(400, "secret_token must be 8-256 characters")
        self.webhook = dict(p)
        return {"url": p.get("url"), "updated_at": int(time.time() * 1000)}

    async def m_deletewebhook(self, p):
        self.webhook = {}
        return {"url": "", "updated_at": int(time.time() * 1000)}

    async def m_getwebhookinfo(self, p):
        return {"url": self.webhook.get("url", ""), "updated_at": int(time.time() * 1000)}

    async def m_getupdates(self, p):
        if self.webhook:
            raise _ApiError(400, "webhook is set")
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        while not self.updates:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _ApiError(408, "Request timeout")
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), left)
        return self.updates.pop(0)


class _ApiError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description
