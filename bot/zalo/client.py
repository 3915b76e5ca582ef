"""A thin async client of the Zalo Bot Platform API (``https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>``).

Every method is a ``POST`` with a JSON body; answers are ``{"ok": true, "result": …}`` or
``{"ok": false, "error_code": N, "description": "…"}``. See ../shared/reference/telegram-zalo-platforms.md §2.1
(no official machine-readable spec exists; what is not in the documentation copy is marked there).

Why not a library: ``python-zalo-bot`` (PyPI) is a fork of python-telegram-bot with its own Application and
update loop, which would bypass our durable inbox; ``zalobot-python`` is a work in progress without
``sendPhoto``. Six HTTP calls do not need either.

Errors: :class:`ZaloAPIError` (the API said no; ``code`` is ``error_code`` or the HTTP status, ``retry_after``
for 429), :class:`ZaloNetworkError` (no answer: connection refused/reset, DNS, or a timeout — ``timeout`` tells
which, since after a timeout the message may have been sent).
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp

log = logging.getLogger("dvcbot.zalo.client")

DEFAULT_BASE = "https://bot-api.zaloplatforms.com"
TEXT_LIMIT = 2000


class ZaloError(Exception):
    pass


class ZaloAPIError(ZaloError):
    def __init__(self, method: str, code: int, description: str, retry_after: float | None = None):
        super().__init__(f"{method}: {code} {description[:200]}")
        self.method = method
        self.code = code
        self.description = description
        self.retry_after = retry_after

    @property
    def is_poll_timeout(self) -> bool:
        return self.code == 408


class ZaloNetworkError(ZaloError):
    def __init__(self, method: str, reason: str, *, timeout: bool = False):
        super().__init__(f"{method}: {reason}")
        self.method = method
        self.timeout = timeout


class ZaloClient:
    def __init__(self, token: str, base_url: str | None = None, *, timeout: float = 30.0,
                 session: aiohttp.ClientSession | None = None):
        self.token = token
        self.base_url = (base_url or DEFAULT_BASE).rstrip("/")
        self.timeout = timeout
        self._session = session
        self._own = session is None

    @property
    def bot_id(self) -> str:
        """The ``{bot_id}`` part of the ``{bot_id}:{access_token}`` token (no secret in it)."""
        return self.token.split(":", 1)[0][:64]

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own = True
        return self._session

    async def close(self) -> None:
        if self._own and self._session is not None:
            await self._session.close()

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        url = f"{self.base_url}/bot{self.token}/{method}"
        try:
            async with self.session().post(url, json=params or {},
                                           timeout=aiohttp.ClientTimeout(total=timeout or self.timeout)) as r:
                raw = await r.read()
                status, headers = r.status, r.headers
        except TimeoutError:
            raise ZaloNetworkError(method, "timeout", timeout=True) from None
        except aiohttp.ClientError as exc:
            raise ZaloNetworkError(method, type(exc).__name__) from None
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if status == 200 and body.get("ok") is True:
            return body.get("result")
        code = int(body.get("error_code") or (status if status != 200 else 500))
        retry_after = None
        if code == 429 or status == 429:
            code = 429
            parameters = body.get("parameters")
            params_ = parameters if isinstance(parameters, dict) else {}
            ra = params_.get("retry_after") or headers.get("Retry-After")
            try:
                retry_after = float(ra) if ra is not None else 1.0
            except ValueError:
                retry_after = 1.0
        raise ZaloAPIError(method, code, str(body.get("description") or f"HTTP {status}"), retry_after)

    # -- methods ---------------------------------------------------------------------------------
    async def get_me(self) -> dict[str, Any]:
        return await self.call("getMe")

    async def get_updates(self, timeout: int = 30) -> list[dict[str, Any]]:
        """One long poll. The API returns one update (an object) per call; a list is accepted too. A 408
        means the poll ended with nothing."""
        try:
            result = await self.call("getUpdates", {"timeout": str(timeout)}, timeout=timeout + 10)
        except ZaloAPIError as exc:
            if exc.is_poll_timeout:
                return []
            raise
        if isinstance(result, list):
            return [u for u in result if isinstance(u, dict)]
        return [result] if isinstance(result, dict) and result else []

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text})

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> dict[str, Any]:
        params = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", params, timeout=max(self.timeout, 60))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        return await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def url_allowed(self, url: str) -> bool:
        """Whether an image URL named in an event may be fetched: the API's own host, or an ``https`` host whose
        every address is public (no loopback, private, link-local or reserved address: an event must not make
        the bot call an internal service)."""
        try:
            u = urlsplit(url)
            port = u.port
        except ValueError:
            return False
        if u.scheme not in ("http", "https") or not u.hostname:
            return False
        api = urlsplit(self.base_url)
        if u.scheme == api.scheme and u.hostname == api.hostname and port == api.port:
            return True
        if u.scheme != "https":
            return False
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(u.hostname, port or 443, type=socket.SOCK_STREAM)
        except OSError:
            return False
        try:
            return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]).is_global
                                       for info in infos)
        except ValueError:
            return False

    async def download(self, url: str, max_bytes: int) -> bytes:
        """An image the citizen sent (the URL in the event). Raises ValueError if it is over ``max_bytes``, and
        ZaloAPIError (403) for a URL we do not fetch (see :meth:`url_allowed`; redirects are not followed)."""
        if not await self.url_allowed(url):
            raise ZaloAPIError("download", 403, "image URL refused")
        try:
            async with self.session().get(url, timeout=aiohttp.ClientTimeout(total=60),
                                          allow_redirects=False) as r:
                if r.status != 200:
                    raise ZaloAPIError("download", r.status, f"HTTP {r.status}")
                if r.content_length and r.content_length > max_bytes:
                    raise ValueError("too big")
                data = bytearray()
                async for chunk in r.content.iter_chunked(65536):
                    data += chunk
                    if len(data) > max_bytes:
                        raise ValueError("too big")
                return bytes(data)
        except TimeoutError:
            raise ZaloNetworkError("download", "timeout", timeout=True) from None
        except aiohttp.ClientError as exc:
            raise ZaloNetworkError("download", type(exc).__name__) from None
