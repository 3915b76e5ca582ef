"""Files the Zalo bot sends as links: Zalo's Bot API cannot upload a file, and ``sendPhoto`` takes a URL.

A stored file (a paper, the form copy, the report's chart) is served by the webhook app under
``/zalo/files/<sha256>/<expiry>/<hmac>/<name>``; the HMAC (a key derived from the webhook secret) covers the digest,
the expiry and the name (one of ours, never what was uploaded), so none can be changed. See docs/zalo.md.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote

from aiohttp import web

from dialogs.filecheck import sniff
from storage.attachments import SERVED_TYPES, download_name

FILE_LINK_DAYS = 7
# A file served from the bot's domain is a download, never a page: no script, no frame, no sniffing.
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


class FileLinks:
    """Signed links to the attachment store under the bot's public URL, and the route that serves them."""

    def __init__(self, config: Any, attachments: Any):
        self.config = config  # ZaloConfig: public_url and secret are read at each call (they may be set late)
        self.attachments = attachments

    def link(self, sha: str, name: str, now: float | None = None) -> str | None:
        """A link to a stored file, valid :data:`FILE_LINK_DAYS` days; None without a public URL and a secret."""
        if not (self.config.public_url and self.config.secret):
            return None
        exp = int((now or time.time()) + FILE_LINK_DAYS * 86400)
        return f"{self.config.public_url.rstrip('/')}/zalo/files/{sha}/{exp}/{self._sig(sha, exp, name)}/{quote(name)}"

    async def photo(self, data: bytes, name: str) -> str | None:
        """A picture for a push (the report's chart: counts only), kept in the attachment store, as a link."""
        if not (self.config.public_url and self.config.secret):
            return None
        sha = await asyncio.to_thread(self.attachments.put, data)
        return self.link(sha, download_name(name, "image/png"))

    def _sig(self, sha: str, exp: int, name: str) -> str:
        key = hmac.new((self.config.secret or "").encode(), b"dvcbot-zalo-file-link", hashlib.sha256).digest()
        msg = f"{sha}:{exp}:{name}".encode("utf-8", "surrogatepass")
        return hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]

    async def serve(self, request: web.Request) -> web.Response:
        """Serve a signed file link: always a download (``Content-Disposition: attachment``), with the type
        sniffed from the stored bytes (only images and PDF; anything else is an opaque download), never guessed
        from the name, and ``nosniff`` plus a sandboxing CSP, so nothing stored can run as a page on our domain."""
        sha, exp, sig = request.match_info["sha"], request.match_info["exp"], request.match_info["sig"]
        name = request.match_info["name"]
        if not exp.isdigit() or len(exp) > 12 or int(exp) < time.time() or len(name) > 200 or \
                not hmac.compare_digest(sig.encode("utf-8", "surrogateescape"),
                                        self._sig(sha, int(exp), name).encode()):
            return web.Response(status=403, headers=FILE_HEADERS)
        try:
            data = await asyncio.to_thread(self.attachments.get, sha)
        except (OSError, ValueError):
            return web.Response(status=404, headers=FILE_HEADERS)
        mime = sniff(data)
        mime = mime if mime in SERVED_TYPES else "application/octet-stream"
        served = download_name(name, mime)
        headers = dict(FILE_HEADERS)
        headers["Content-Disposition"] = f"attachment; filename=\"{served}\""
        return web.Response(body=data, content_type=mime, headers=headers)
