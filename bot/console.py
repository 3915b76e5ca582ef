"""Console channel: `dvcbot chat` for people, `dvcbot chat --jsonl` for programs.

Like every channel adapter, it only translates input into ``Incoming`` and
renders the engine's replies; it holds no procedure logic.
"""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from dialogs.i18n import N_, translator
from dialogs.messages import NAV_BACK, NAV_CANCEL, NAV_HELP, NAV_SKIP, Ask, Incoming, IncomingFile, Message, Reply

from .service import Runtime

FILE_COMMANDS = ("/tep", "/file", "/tệp")
QUIT = ("/thoat", "/thoát", "/quit", "/exit")
NAV_WORDS = {NAV_BACK: N_("quay lại"), NAV_SKIP: N_("bỏ qua"), NAV_HELP: N_("trợ giúp"), NAV_CANCEL: N_("hủy")}
MAX_FILE = 50 * 1024 * 1024


def read_file(path: str) -> IncomingFile | str:
    """The file to send, or an error message."""
    p = Path(path.strip().strip('"').strip("'")).expanduser()
    try:
        if p.stat().st_size > MAX_FILE:
            return N_("Tệp quá lớn (trên 50 MB).")
        return IncomingFile(data=p.read_bytes(), name=p.name)
    except OSError:
        return N_("Không mở được tệp “{path}”. Vui lòng kiểm tra lại đường dẫn.").format(path=p)


def render_human(replies: list[Reply], lang: str = "vi") -> str:
    _ = translator(lang)
    out: list[str] = []
    for r in replies:
        if isinstance(r, Message):
            out.append(("⚠️ " if r.error else "") + r.text)
            if r.file is not None:
                out.append(_("  (Tệp đã lưu tại: {path})", path=r.file.path))
        elif isinstance(r, Ask):
            head = f"[{r.step}] " if r.step else ""
            out.append(head + r.text)
            for i, c in enumerate(r.choices, 1):
                out.append(f"  {i}. {c.label}")
            if r.kind == "attachment":
                out.append(_("  (Gửi tệp: gõ /tep đường-dẫn-tới-tệp, ví dụ /tep ~/anh/giay-bao-tu.jpg)"))
            if r.nav:
                words = " · ".join(f"“{_(NAV_WORDS[n])}”" for n in r.nav if n in NAV_WORDS)
                out.append(_("  (Có thể gõ: {words})", words=words))
    return "\n".join(out)


def render_jsonl(replies: list[Reply]) -> list[str]:
    return [json.dumps(r.to_dict(), ensure_ascii=False) for r in replies]


async def _lines(stream: TextIO):
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, stream.readline)
        if not line:
            return
        yield line.rstrip("\n")


async def run_console(runtime: Runtime, user: str, *, jsonl: bool = False, stdin: TextIO = sys.stdin,
                      stdout: TextIO = sys.stdout) -> None:
    key = f"console:{user}"

    def emit(replies: list[Reply]) -> None:
        if jsonl:
            for line in render_jsonl(replies):
                stdout.write(line + "\n")
        else:
            stdout.write(render_human(replies) + "\n> ")
        stdout.flush()

    emit(await runtime.start(key))
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
                f = read_file(str(obj["file"]))
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
                stdout.write("Tạm biệt! Hồ sơ đang khai đã được lưu.\n")
                return
            head, _sep, rest = text.partition(" ")
            if head.lower() in FILE_COMMANDS:
                f = read_file(rest)
                if isinstance(f, str):
                    stdout.write("⚠️ " + f + "\n> ")
                    stdout.flush()
                    continue
                msg = Incoming(file=f)
            else:
                msg = Incoming(text=text)
        emit(await runtime.handle(key, msg))
    if not jsonl:
        stdout.write("\n")
