"""A fake Telegram Bot API server on 127.0.0.1, for tests and the benchmark.

The real aiogram ``Bot`` talks to it through aiogram's custom-server setting
(``AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))``), so the
whole HTTP client path — multipart forms, JSON results, error mapping such
as 429 → ``TelegramRetryAfter`` — is exercised.

It implements getMe, sendMessage, editMessageText, editMessageReplyMarkup,
answerCallbackQuery, sendDocument, sendPhoto, getFile (and the file download
URL ``/file/bot<token>/<path>``), setMyCommands, setWebhook, deleteWebhook,
getWebhookInfo and getUpdates (a queue the test feeds). Every call is
recorded; ``fail(method, count, retry_after=…)`` makes the next calls answer
429 (or another error); ``latency`` delays every answer; ``hold(method)`` keeps
that method's answers until the event it returns is set.

It also builds the updates a test sends (``text``, ``photo``, ``document``,
``contact``, ``callback``), with files it serves for download.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

STRING_FIELDS = {"text", "caption", "callback_query_id", "file_id", "url", "secret_token", "description",
                 "language_code", "parse_mode", "document", "photo", "chat_id", "message_id"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    files: dict[str, bytes] = field(default_factory=dict)
    content_type: str = ""  # how the body came: application/json, a URL-encoded or a multipart form


@dataclass
class Sent:
    """A message the bot sent (or its current state after edits)."""

    chat_id: int
    message_id: int
    text: str | None
    reply_markup: dict[str, Any] | None
    kind: str = "text"  # text | document | photo
    file: bytes | None = None
    file_name: str | None = None
    edits: int = 0

    def buttons(self) -> list[dict[str, Any]]:
        rm = self.reply_markup or {}
        return [b for row in rm.get("inline_keyboard", []) for b in row]

    def labels(self) -> list[str]:
        return [b["text"] for b in self.buttons()]

    def keyboard(self) -> list[dict[str, Any]]:
        rm = self.reply_markup or {}
        return [b for row in rm.get("keyboard", []) for b in row]


class FakeTelegramAPI:
    def __init__(self, *, latency: float = 0.0, bot_id: int = 123456, username: str = "dvc_test_bot"):
        self.latency = latency
        self.bot_id = bot_id
        self.username = username
        self.calls: list[Call] = []
        self.webhook_calls: list[Call] = []  # calls returned in webhook responses (webhook_response)
        self.messages: dict[int, list[Sent]] = {}       # chat id -> messages, in order
        self.by_id: dict[tuple[int, int], Sent] = {}
        self.files: dict[str, tuple[str, bytes]] = {}   # file_id -> (file_path, bytes)
        self.updates: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self._failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._msg_ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._user_ids = itertools.count(5000)
        self._new_update = asyncio.Event()
        self._sent_event = asyncio.Event()
        self.listeners: list[Callable[[Sent], None]] = []
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeTelegramAPI:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    # -- test controls ----------------------------------------------------------------------------
    def fail(self, method: str, count: int = 1, *, retry_after: int | None = None, status: int = 429,
             description: str | None = None, after: int = 0) -> None:
        """The next ``count`` calls of ``method`` fail (429 with ``retry_after`` by default); with ``after``, only
        once that many calls of it have succeeded (a 429 between the parts of a long message)."""
        body: dict[str, Any] = {"ok": False, "error_code": status,
                                "description": description or ("Too Many Requests: retry after "
                                                               f"{retry_after}" if status == 429 else "Error")}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self._failures.setdefault(method.lower(), []).extend([None] * after + [(status, body)] * count)

    def hold(self, method: str) -> asyncio.Event:
        """Calls of ``method`` are recorded at once but answered only once the returned event is set."""
        return self._holds.setdefault(method.lower(), asyncio.Event())

    def add_file(self, data: bytes, name: str = "file.bin") -> tuple[str, str]:
        """Store a file as if a user had uploaded it; returns (file_id, file_unique_id)."""
        n = next(self._file_ids)
        file_id = f"F{n:06d}"
        self.files[file_id] = (f"documents/{n}-{name}", data)
        return file_id, f"U{n:06d}"

    def put_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._new_update.set()

    def sent(self, chat_id: int) -> list[Sent]:
        return list(self.messages.get(chat_id, []))

    def last(self, chat_id: int) -> Sent:
        return self.messages[chat_id][-1]

    def last_with_keyboard(self, chat_id: int) -> Sent:
        return next(m for m in reversed(self.messages.get(chat_id, [])) if m.reply_markup
                    and (m.reply_markup.get("inline_keyboard") or m.reply_markup.get("keyboard")))

    def method_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method.lower()]

    async def wait_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[Sent]:
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

    # -- updates a user sends ---------------------------------------------------------------------
    def user(self, chat_id: int, first_name: str = "Dân", language_code: str = "vi") -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": first_name, "language_code": language_code}

    def _message(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        return {"message_id": next(self._msg_ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Dân"},
                "from": self.user(chat_id), **fields}

    def text_update(self, chat_id: int, text: str) -> dict[str, Any]:
        msg = self._message(chat_id, text=text)
        if text.startswith("/"):
            cmd = text.split()[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(cmd)}]
        return {"update_id": next(self._update_ids), "message": msg}

    def photo_update(self, chat_id: int, data: bytes, *, media_group_id: str | None = None) -> dict[str, Any]:
        file_id, uniq = self.add_file(data, "photo.jpg")
        small_id, small_uniq = self.add_file(data[:64], "thumb.jpg")
        photo = [{"file_id": small_id, "file_unique_id": small_uniq, "width": 90, "height": 60, "file_size": 64},
                 {"file_id": file_id, "file_unique_id": uniq, "width": 1280, "height": 960, "file_size": len(data)}]
        extra = {"media_group_id": media_group_id} if media_group_id else {}
        return {"update_id": next(self._update_ids), "message": self._message(chat_id, photo=photo, **extra)}

    def document_update(self, chat_id: int, data: bytes, name: str = "giay-to.pdf",
                        mime: str = "application/pdf", *, media_group_id: str | None = None) -> dict[str, Any]:
        file_id, uniq = self.add_file(data, name)
        doc = {"file_id": file_id, "file_unique_id": uniq, "file_name": name, "mime_type": mime,
               "file_size": len(data)}
        extra = {"media_group_id": media_group_id} if media_group_id else {}
        return {"update_id": next(self._update_ids), "message": self._message(chat_id, document=doc, **extra)}

    def contact_update(self, chat_id: int, phone: str) -> dict[str, Any]:
        contact = {"phone_number": phone, "first_name": "Dân", "user_id": chat_id}
        return {"update_id": next(self._update_ids), "message": self._message(chat_id, contact=contact)}

    def sticker_update(self, chat_id: int) -> dict[str, Any]:
        sticker = {"file_id": "S1", "file_unique_id": "SU1", "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False}
        return {"update_id": next(self._update_ids), "message": self._message(chat_id, sticker=sticker)}

    def media_update(self, chat_id: int, kind: str) -> dict[str, Any]:
        """A message the bot cannot use as an answer: ``voice``, ``video``, ``video_note``, ``audio``,
        ``location``, ``venue``, ``poll``, ``dice`` or ``animation`` (a GIF also carries ``document``). The poll
        has an older shape than our aiogram's model expects: an update the bot cannot even parse."""
        f = {"file_id": f"F-{kind}", "file_unique_id": f"U-{kind}"}
        fields: dict[str, Any] = {
            "voice": {"voice": {**f, "duration": 3, "mime_type": "audio/ogg", "file_size": 9000}},
            "audio": {"audio": {**f, "duration": 120, "file_size": 900000}},
            "video": {"video": {**f, "width": 640, "height": 480, "duration": 9, "file_size": 900000}},
            "video_note": {"video_note": {**f, "length": 240, "duration": 5}},
            "animation": {"animation": {**f, "width": 320, "height": 240, "duration": 2},
                          "document": {**f, "file_name": "meo.gif.mp4", "mime_type": "video/mp4"}},
            "location": {"location": {"latitude": 11.94, "longitude": 108.44}},
            "venue": {"venue": {"location": {"latitude": 11.94, "longitude": 108.44}, "title": "UBND xã",
                                "address": "Thôn 3"}, "location": {"latitude": 11.94, "longitude": 108.44}},
            "poll": {"poll": {"id": "P1", "question": "?", "options": [{"text": "a", "voter_count": 0}],
                              "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
                              "allows_multiple_answers": False}},
            "dice": {"dice": {"emoji": "🎲", "value": 3}},
        }[kind]
        return {"update_id": next(self._update_ids), "message": self._message(chat_id, **fields)}

    def edited_update(self, chat_id: int, text: str, message_id: int | None = None) -> dict[str, Any]:
        """The person edited an earlier text message (``edited_message``)."""
        msg = self._message(chat_id, text=text, edit_date=int(time.time()))
        if message_id is not None:
            msg["message_id"] = message_id
        return {"update_id": next(self._update_ids), "edited_message": msg}

    def callback_update(self, chat_id: int, message: Sent, data: str) -> dict[str, Any]:
        msg = {"message_id": message.message_id, "date": int(time.time()),
               "chat": {"id": chat_id, "type": "private", "first_name": "Dân"},
               "from": {"id": self.bot_id, "is_bot": True, "first_name": "DVC", "username": self.username},
               "text": message.text or ""}
        if message.reply_markup:
            msg["reply_markup"] = message.reply_markup
        cq = {"id": str(next(self._user_ids)), "from": self.user(chat_id), "chat_instance": f"ci{chat_id}",
              "message": msg, "data": data}
        return {"update_id": next(self._update_ids), "callback_query": cq}

    def press(self, chat_id: int, label: str, message: Sent | None = None) -> dict[str, Any]:
        """The update for pressing the button labelled ``label`` (exactly, or as a prefix) of ``message``
        (default: the latest message with an inline keyboard)."""
        msg = message or next(m for m in reversed(self.messages.get(chat_id, [])) if m.buttons())
        for b in msg.buttons():
            if b["text"] == label:
                return self.callback_update(chat_id, msg, b["callback_data"])
        for b in msg.buttons():
            if b["text"].startswith(label):
                return self.callback_update(chat_id, msg, b["callback_data"])
        raise AssertionError(f"no button {label!r} in {msg.labels()}")

    # -- the API ----------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            params = await request.json()
        elif request.method == "POST":
            form = await request.post()
            for k, v in form.items():
                if hasattr(v, "file"):
                    files[k] = v.file.read()
                    params.setdefault("_filenames", {})[k] = v.filename
                    continue
                if k in STRING_FIELDS:
                    params[k] = v
                    continue
                try:
                    params[k] = json.loads(v)
                except (TypeError, ValueError):
                    params[k] = v
        params.update({k: v for k, v in request.query.items() if k not in params})
        return params, files

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        params, files = await self._params(request)
        call = Call(method, params, time.monotonic(), files=files, content_type=request.content_type)
        self.calls.append(call)
        if self.latency:
            await asyncio.sleep(self.latency)
        if method in self._holds:
            await self._holds[method].wait()
        queue = self._failures.get(method)
        failure = queue.pop(0) if queue else None  # (None: this call goes through)
        if failure is not None:
            status, body = failure
            call.status = status
            return web.json_response(body, status=status)
        handler = getattr(self, f"m_{method}", None)
        if handler is None:
            call.status = 404
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                                     status=404)
        try:
            result = await handler(params, files)
        except _ApiError as exc:
            call.status = exc.status
            return web.json_response({"ok": False, "error_code": exc.status, "description": exc.description},
                                     status=exc.status)
        return web.json_response({"ok": True, "result": result})

    async def webhook_response(self, body: Any) -> bool:
        """What Telegram does with a Bot API call a bot returns as its webhook's HTTP response (the body as
        received, or read): makes it, in process here (kept apart in :attr:`webhook_calls`, not in :attr:`calls`:
        the bot did not make it). Its result goes nowhere; False if there was no call or it failed."""
        if isinstance(body, (bytes, str)):
            try:
                body = json.loads(body) if len(body) > 2 else None  # (an empty response is "{}")
            except ValueError:
                return False
        if not isinstance(body, dict) or not body.get("method"):
            return False
        method = str(body["method"]).lower()
        params = {k: v for k, v in body.items() if k != "method"}
        call = Call(method, params, time.monotonic(), files={}, content_type="application/json")
        self.webhook_calls.append(call)
        handler = getattr(self, f"m_{method}", None)
        if handler is None:
            call.status = 404
            return False
        try:
            await handler(params, {})
        except _ApiError as exc:
            call.status = exc.status
            return False
        return True

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for file_path, data in self.files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)

    def _me(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Trợ lý DVC", "username": self.username,
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _record(self, chat_id: int, text: str | None, markup: Any, kind: str = "text", file: bytes | None = None,
                file_name: str | None = None) -> Sent:
        s = Sent(int(chat_id), next(self._msg_ids), text, markup if isinstance(markup, dict) else None, kind,
                 file, file_name)
        self.messages.setdefault(s.chat_id, []).append(s)
        self.by_id[(s.chat_id, s.message_id)] = s
        self._sent_event.set()
        for cb in self.listeners:
            cb(s)
        return s

    def _message_json(self, s: Sent) -> dict[str, Any]:
        out: dict[str, Any] = {"message_id": s.message_id, "date": int(time.time()),
                               "chat": {"id": s.chat_id, "type": "private", "first_name": "Dân"},
                               "from": {"id": self.bot_id, "is_bot": True, "first_name": "Trợ lý DVC",
                                        "username": self.username}}
        if s.kind == "text":
            out["text"] = s.text or ""
        else:
            if s.text:
                out["caption"] = s.text
            fid, uniq = self.add_file(s.file or b"", s.file_name or "file")
            if s.kind == "photo":
                out["photo"] = [{"file_id": fid, "file_unique_id": uniq, "width": 800, "height": 600}]
            else:
                out["document"] = {"file_id": fid, "file_unique_id": uniq, "file_name": s.file_name}
        if s.reply_markup and "inline_keyboard" in s.reply_markup:
            out["reply_markup"] = s.reply_markup
        return out

    async def m_getme(self, p, f):
        return self._me()

    async def m_sendmessage(self, p, f):
        text = p.get("text")
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        self._check_markup(p.get("reply_markup"))
        return self._message_json(self._record(p["chat_id"], text, p.get("reply_markup")))

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for b in row:
                    data = b.get("callback_data")
                    if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                        raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _target(self, p) -> Sent:
        s = self.by_id.get((int(p["chat_id"]), int(p["message_id"])))
        if s is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return s

    async def m_editmessagetext(self, p, f):
        s = self._target(p)
        self._check_markup(p.get("reply_markup"))
        if s.text == p.get("text") and s.reply_markup == p.get("reply_markup"):
            raise _ApiError(400, "Bad Request: message is not modified")
        s.text = p.get("text")
        s.reply_markup = p.get("reply_markup")
        s.edits += 1
        return self._message_json(s)

    async def m_editmessagereplymarkup(self, p, f):
        s = self._target(p)
        self._check_markup(p.get("reply_markup"))
        s.reply_markup = p.get("reply_markup")
        s.edits += 1
        return self._message_json(s)

    async def m_answercallbackquery(self, p, f):
        self.callback_answers.append(p)
        return True

    def _upload(self, p, files, field_name: str) -> tuple[bytes, str | None]:
        ref = p.get(field_name)
        if isinstance(ref, str) and ref.startswith("attach://"):
            key = ref[len("attach://"):]
            return files.get(key, b""), key
        if field_name in files:
            return files[field_name], field_name
        raise _ApiError(400, f"Bad Request: no {field_name}")

    async def m_senddocument(self, p, f):
        data, key = self._upload(p, f, "document")
        return self._message_json(self._record(p["chat_id"], p.get("caption"), p.get("reply_markup"), "document",
                                               data, (p.get("_filenames") or {}).get(key)))

    async def m_sendphoto(self, p, f):
        data, _key = self._upload(p, f, "photo")
        return self._message_json(self._record(p["chat_id"], p.get("caption"), p.get("reply_markup"), "photo", data))

    async def m_getfile(self, p, f):
        item = self.files.get(p.get("file_id"))
        if item is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path, data = item
        return {"file_id": p["file_id"], "file_unique_id": "U" + p["file_id"], "file_size": len(data),
                "file_path": path}

    async def m_setmycommands(self, p, f):
        self.commands[p.get("language_code")] = p.get("commands") or []
        return True

    async def m_setwebhook(self, p, f):
        self.webhook = dict(p)
        return True

    async def m_deletewebhook(self, p, f):
        self.webhook = {}
        return True

    async def m_getwebhookinfo(self, p, f):
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    async def m_getupdates(self, p, f):
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self.updates:
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), left)
            except TimeoutError:
                return []
        limit = int(p.get("limit") or 100)
        return self.updates[:limit]


class _ApiError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description
