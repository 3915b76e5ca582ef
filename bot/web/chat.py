"""``/dangnhap`` in an officer's chat: a one-time code (and link) to sign in to the web desk."""
from __future__ import annotations

import os
from datetime import UTC
from typing import Any

from dialogs.i18n import translator
from dialogs.textnorm import fold

from . import auth

LOGIN_WORDS = {"/dangnhap", "dang nhap", "dangnhap", "/login", "dang nhap web"}


def is_login_request(text: str | None) -> bool:
    key = fold(text or "").strip(" .!").split("@", 1)[0]
    return key in LOGIN_WORDS


async def officer_step(ctx: Any, value: str | None, text: str) -> bool:
    """The officer chat's hook: answer ``/dangnhap`` with a fresh code; False for anything else."""
    if value is not None or not is_login_request(text):
        return False
    _ = translator("vi")
    issued = await auth.issue_login(ctx.db, ctx.officer, ctx.now.astimezone(UTC))
    until = ctx.calendar.to_local(issued.expires_at).strftime("%H:%M")
    msg = _("🔐 Mã đăng nhập bàn làm việc trên web: {code}\nDùng một lần, hết hạn lúc {until}. Không đưa mã này "
            "cho ai, kể cả người xưng là cán bộ kỹ thuật.", code=issued.code, until=until)
    base = os.environ.get("DVCBOT_WEB_URL", "").rstrip("/")
    if base:
        url = base + "/login/link/" + issued.link_token
        msg += "\n" + _("Hoặc mở liên kết (dùng một lần): {url}", url=url)
    ctx.say(msg)
    return True


def register(pipeline) -> None:
    """``/dangnhap`` as a step of the officer chat (bot/app.py lists this feature after the officer chat)."""
    from ..officer_chat.router import officer_chat_of
    officer_chat_of(pipeline).add_step(officer_step)
