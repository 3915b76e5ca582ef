"""A fake S3-compatible object server on 127.0.0.1, for tests of the bucket store (storage/attachments.py).

It answers the plain object calls boto3 makes with path-style addressing (``/<bucket>/<key>``): PutObject,
GetObject, HeadObject, DeleteObject and ListObjectsV2 (``GET /<bucket>?list-type=2``, in pages of
``page_size``), with S3's XML errors (NoSuchKey, NoSuchBucket, AccessDenied). A request must carry an
AWS SigV4 ``Authorization`` header with the expected access key; the signature itself is not checked.
Objects live in memory (``objects``: key → :class:`Obj`, whose ``modified`` a test may set back), every request is
recorded (``requests``), and ``deny()`` makes every later call fail with 403 (``allow()`` ends it).

boto3 is synchronous, so the server runs on its own event loop in a thread of its own: a test calls the store
directly or through ``asyncio.to_thread`` and the server answers either way.
"""
from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


@dataclass
class Obj:
    data: bytes
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def etag(self) -> str:
        return '"' + hashlib.md5(self.data, usedforsecurity=False).hexdigest() + '"'


@dataclass
class Request:
    method: str
    path: str
    query: str


class FakeS3:
    def __init__(self, bucket: str = "dvcbot-test", access_key: str = "test-access-key", page_size: int = 1000):
        self.bucket = bucket
        self.access_key = access_key
        self.page_size = page_size
        self.objects: dict[str, Obj] = {}
        self.requests: list[Request] = []
        self.denied = False
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # -- running it --------------------------------------------------------------------------------
    def start(self) -> FakeS3:
        started = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._serve())
            started.set()
            self._loop.run_forever()
            assert self._runner is not None
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-s3", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the fake S3 server did not start")
        return self

    async def _serve(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{bucket}", self._bucket)
        app.router.add_route("*", "/{bucket}/{key:.+}", self._object)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def deny(self) -> None:
        self.denied = True

    def allow(self) -> None:
        self.denied = False

    # -- the API -----------------------------------------------------------------------------------
    @staticmethod
    def _error(status: int, code: str, head: bool = False) -> web.Response:
        if head:  # a HEAD answer has no body: the status says it
            return web.Response(status=status)
        body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{code}</Message></Error>'
        return web.Response(status=status, body=body.encode(), content_type="application/xml")

    def _refused(self, request: web.Request) -> web.Response | None:
        self.requests.append(Request(request.method, request.path, request.query_string))
        auth = request.headers.get("Authorization", "")
        head = request.method == "HEAD"
        if not auth.startswith("AWS4-HMAC-SHA256 ") or f"Credential={self.access_key}/" not in auth \
                or "x-amz-date" not in request.headers:
            return self._error(403, "InvalidAccessKeyId", head)
        if self.denied:
            return self._error(403, "AccessDenied", head)
        if request.match_info["bucket"] != self.bucket:
            return self._error(404, "NoSuchBucket", head)
        return None

    async def _object(self, request: web.Request) -> web.StreamResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        key = request.match_info["key"]
        if request.method == "PUT":
            data = await request.read()
            self.objects[key] = Obj(data)
            return web.Response(status=200, headers={"ETag": self.objects[key].etag})
        if request.method == "DELETE":
            self.objects.pop(key, None)
            return web.Response(status=204)
        obj = self.objects.get(key)
        if request.method not in ("GET", "HEAD"):
            return self._error(405, "MethodNotAllowed")
        if obj is None:
            return self._error(404, "NoSuchKey", request.method == "HEAD")
        headers = {"ETag": obj.etag, "Last-Modified": format_datetime(obj.modified, usegmt=True),
                   "Content-Type": "application/octet-stream"}
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(obj.data))
            return web.Response(status=200, headers=headers)
        return web.Response(status=200, body=obj.data, headers=headers)

    async def _bucket(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        if request.method != "GET" or request.query.get("list-type") != "2":
            return self._error(405, "MethodNotAllowed")
        prefix = request.query.get("prefix", "")
        after = request.query.get("continuation-token") or request.query.get("start-after") or ""
        size = min(int(request.query.get("max-keys", "1000")), self.page_size)
        keys = sorted(k for k in self.objects if k.startswith(prefix) and k > after)
        page, more = keys[:size], len(keys) > size
        items = "".join(
            f"<Contents><Key>{escape(k)}</Key>"
            f"<LastModified>{self.objects[k].modified.strftime('%Y-%m-%dT%H:%M:%S.000Z')}</LastModified>"
            f"<ETag>{escape(self.objects[k].etag)}</ETag><Size>{len(self.objects[k].data)}</Size>"
            f"<StorageClass>STANDARD</StorageClass></Contents>" for k in page)
        token = f"<NextContinuationToken>{escape(page[-1])}</NextContinuationToken>" if more else ""
        body = (f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{NS}"><Name>{self.bucket}</Name>'
                f"<Prefix>{escape(prefix)}</Prefix><KeyCount>{len(page)}</KeyCount><MaxKeys>{size}</MaxKeys>"
                f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{token}{items}</ListBucketResult>")
        return web.Response(status=200, body=body.encode(), content_type="application/xml")
