"""Console channel: `dvcbot chat` for people, `dvcbot chat --jsonl` for programs.

Like every channel adapter, it only translates input into ``Incoming`` and
renders the engine's replies; it holds no procedure logic.
"""
from __future__ import annotations

import asyncio
import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select

from dialogs.i18n import N_, translator
from dialogs.messages import (
    NAV_BACK,
    NAV_CANCEL,
    NAV_HELP,
    NAV_SKIP,
    Ask,
    FileRef,
    Incoming,
    IncomingFile,
    Message,
    Reply,
)
from storage.chatstore import ChatTx
from storage.models import Conversation

from . import accounts, formcopy
from .notifier import Notifier
from .service import Runtime

FILE_COMMANDS = ("/tep", "/file", "/tệp")
QUIT = ("/thoat", "/thoát", "/quit", "/exit")
NAV_WORDS = {NAV_BACK: N_("quay lại"), NAV_SKIP: N_("bỏ qua"), NAV_HELP: N_("trợ giúp"), NAV_CANCEL: N_("hủy")}
MAX_FILE = 50 * 1024 * 1024
GOODBYE = N_("Tạm biệt! Hồ sơ đang khai đã được lưu.")


def read_file(path: str, _: Any = None) -> IncomingFile | str:
    """The file to send, or an error message (in the chat's language, with ``_``)."""
    _ = _ or translator("vi")
    p = Path(path.strip().strip('"').strip("'")).expanduser()
    try:
        if not stat.S_ISREG(p.stat().st_mode):  # a device (/dev/zero), a FIFO (blocks for ever), a folder
            return _("Không mở được tệp “{path}”. Vui lòng kiểm tra lại đường dẫn.", path=str(p))
        with p.open("rb") as fh:  # never trust st_size: read at most one byte past the limit
            data = fh.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            return _("Tệp quá lớn (trên 50 MB).")
        # the file's own name is not kept: files are stored and sent under names of our own
        return IncomingFile(data=data, name=None)
    except OSError:
        return _("Không mở được tệp “{path}”. Vui lòng kiểm tra lại đường dẫn.", path=str(p))


def where(file: FileRef, locate: Callable[[str], str] | None) -> str:
    """Where a person opens a file the bot sent: its place in the attachment store (a local path, or an
    ``s3://`` URI), or its own ``path``."""
    if file.sha256 and locate is not None:
        return locate(file.sha256)
    return file.path or file.sha256 or ""


def render_human(replies: list[Reply], lang: str = "vi", locate: Callable[[str], str] | None = None) -> str:
    _ = translator(lang)
    out: list[str] = []
    for r in replies:
        if isinstance(r, Message):
            out.append(("⚠️ " if r.error else "") + r.text)
            if r.file is not None:
                out.append(_("  (Tệp đã lưu tại: {path})", path=where(r.file, locate)))
        elif isinstance(r, Ask):
            head = f"[{r.step}] " if r.step else ""
            out.append(head + r.text)
            for i, c in enumerate(r.choices, 1):
                out.append(f"  {c.number if c.number is not None else i}. {c.label}")
            if r.kind == "attachment":
                out.append(_("  (Gửi tệp: gõ /tep đường-dẫn-tới-tệp, ví dụ /tep ~/anh/giay-to.jpg)"))
            elif r.photo:
                out.append(_("  (Gửi ảnh thẻ: gõ /tep đường-dẫn-tới-ảnh, ví dụ /tep ~/anh/the-can-cuoc.jpg)"))
            if r.nav:
                words = " · ".join(f"“{_(NAV_WORDS[n])}”" for n in r.nav if n in NAV_WORDS)
                out.append(_("  (Có thể gõ: {words})", words=words))
    return "\n".join(out)


def render_jsonl(replies: list[Reply], locate: Callable[[str], str] | None = None) -> list[str]:
    """One JSON object a reply; a file's ``path`` is where it is (see :func:`where`)."""
    out = []
    for r in replies:
        d = r.to_dict()
        if isinstance(r, Message) and r.file is not None:
            d["file"]["path"] = where(r.file, locate)
        out.append(json.dumps(d, ensure_ascii=False))
    return out


async def _lines(stream: TextIO):
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, stream.readline)
        if not line:
            return
        yield line.rstrip("\n")


class FollowUps:
    """The console chat's own outbox rows (the form copy after a filing), shown as soon as the turn's replies
    are: the notifier's sender for this one chat."""

    channel = "console"

    def __init__(self, emit) -> None:
        self.emit = emit

    async def send(self, chat_key: str, payload: dict[str, Any]) -> str | None:
        f = payload.get("file")
        ref = FileRef(sha256=f.get("sha256"), path=f.get("path"), name=str(f["name"]), mime=str(f["mime"])) \
            if isinstance(f, dict) else None
        self.emit([Message(str(payload.get("text") or ""), file=ref)])
        return None


async def run_console(runtime: Runtime, user: str, *, jsonl: bool = False, stdin: TextIO = sys.stdin,
                      stdout: TextIO = sys.stdout) -> None:
    key = f"console:{user}"
    lang = ["vi"]  # the conversation's language, read in each step's transaction

    async def remember_lang(db, _replies) -> None:
        if isinstance(db, ChatTx):  # the lean step: the chat's own conversation (storage/chatstore/)
            lang[0] = await db.conversation_lang(key) or "vi"
            return
        conv = await accounts.conversation_key(db, key)
        lang[0] = (await db.execute(select(Conversation.lang).where(Conversation.user_key == conv))
                   ).scalar_one_or_none() or "vi"
    remember_lang.lean = True  # type: ignore[attr-defined]

    def emit(replies: list[Reply]) -> None:
        if jsonl:
            for line in render_jsonl(replies, runtime.attachments.locate):
                stdout.write(line + "\n")
        else:
            stdout.write(render_human(replies, lang[0], runtime.attachments.locate) + "\n> ")
        stdout.flush()

    # this chat's own outbox rows, after each reply: the form copy of a dossier just filed, the slips, and what
    # the officers did meanwhile (received, supplement asked, approved…), as a chat channel pushes them
    followups = Notifier(runtime.sm, [FollowUps(emit)], chats=[key], now=runtime.now, write=runtime.orm_write)
    formcopy.attach(followups, runtime)
    emit(await runtime.start(key, tx_hook=remember_lang))
    await followups.drain()
    async for line in _lines(stdin):
        if jsonl:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError
            except ValueError:
                obj = {"text": line}
            if "file" in obj:
                f = read_file(str(obj["file"]), translator(lang[0]))
                if isinstance(f, str):
                    stdout.write(json.dumps({"type": "message", "text": f, "error": True, "dossier": None},
                                            ensure_ascii=False) + "\n")
                    msg = Incoming(text="")
                else:
                    msg = Incoming(file=f)
            else:
                msg = Incoming(text=str(obj.get("text") or "") or None,
                               choice=str(obj["choice"]) if obj.get("choice") is not None else None)
        else:
            text = line.strip()
            if text.lower() in QUIT:
                stdout.write(translator(lang[0])(GOODBYE) + "\n")
                return
            head, _sep, rest = text.partition(" ")
            if head.lower() in FILE_COMMANDS:
                f = read_file(rest, translator(lang[0]))
                if isinstance(f, str):
                    stdout.write("⚠️ " + f + "\n> ")
                    stdout.flush()
                    continue
                msg = Incoming(file=f)
            else:
                msg = Incoming(text=text)
        emit(await runtime.handle(key, msg, tx_hook=remember_lang))
        await followups.drain()
    if not jsonl:
        stdout.write("\n")
