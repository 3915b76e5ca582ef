"""From the runtime's replies to Zalo text messages. Pure functions, no network, no procedure logic.

Zalo bots have no documented buttons, so a question's choices are numbered lines ("1. Có", "2. Không"): the
engine accepts the number or the text of a choice (as on the console). Navigation words are listed as words to
type. Text is cut under the 2000-character limit at blank lines, then line ends, then spaces.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dialogs.i18n import N_
from dialogs.messages import NAV_BACK, NAV_CANCEL, NAV_HELP, NAV_SKIP, Ask, Message

Gettext = Callable[..., str]

TEXT_LIMIT = 2000
NAV_ORDER = (NAV_BACK, NAV_SKIP, NAV_CANCEL, NAV_HELP)
NAV_WORDS = {NAV_BACK: N_("quay lại"), NAV_SKIP: N_("bỏ qua"), NAV_HELP: N_("trợ giúp"), NAV_CANCEL: N_("hủy")}


def _units(text: str) -> int:
    """Length in UTF-16 code units: what a JavaScript-based API counts (an emoji is 2). Never less than
    ``len(text)``, so a piece under the limit this way is under it however Zalo counts."""
    return len(text.encode("utf-16-le")) // 2


def file_note(caption: str, name: str, link: str | None, _: Gettext, days: int, *, officer: bool = False) -> str:
    """A file as text (Zalo cannot upload one): the caption and the signed link valid ``days`` days, or, without a
    link, where the file is kept (for an officer: where to see it, the web desk)."""
    if link:
        return caption + "\n" + _("Tải tệp “{name}” tại: {link}\n(Liên kết dùng được trong {days} ngày.)",
                                   name=name, link=link, days=days)
    if officer:
        return caption + "\n" + _("(Zalo chưa cho phép trợ lý gửi tệp “{name}” qua tin nhắn. Xem tệp trên bàn làm "
                                   "việc web: gõ /dangnhap để lấy mã đăng nhập.)", name=name)
    return caption + "\n" + _("(Zalo chưa cho phép trợ lý gửi tệp “{name}” qua tin nhắn. Tệp đã được lưu "
                               "cùng hồ sơ.)", name=name)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters (UTF-16 units), cut at blank lines, then line ends, then spaces;
    a word is cut only when it is longer than a third of the limit."""
    text = text.strip("\n") or "…"
    out: list[str] = []
    while _units(text) > limit:
        lo = min(len(text), limit)  # the longest prefix that fits
        while _units(text[:lo]) > limit:
            lo -= max(1, (_units(text[:lo]) - limit) // 2)
        head = text[:lo]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = head.rfind(sep)
            if cut > lo // 3:
                break
        if cut <= 0:
            cut = lo
        out.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        out.append(text)
    return out


def ask_text(ask: Ask, _: Gettext) -> str:
    parts = []
    if ask.step:
        parts.append(ask.step)
    parts.append(ask.text)
    if ask.choices and ask.kind != "attachment":  # an attachment's only choice is “Xong”: typed as a word
        parts.append("\n".join(f"{c.number if c.number is not None else i}. {c.label}"
                               for i, c in enumerate(ask.choices, 1)))
        if ask.kind == "multi_choice":
            parts.append(_("Gõ các số bạn chọn, cách nhau bằng dấu phẩy (ví dụ: 1, 3)."))
        else:
            parts.append(_("Gõ số thứ tự hoặc nội dung lựa chọn."))
    if ask.kind == "attachment":
        parts.append(_("📎 Gửi ảnh chụp giấy tờ ngay trong cuộc trò chuyện này (mỗi lần một ảnh)."))
    words = [f"“{_(NAV_WORDS[n])}”" for n in NAV_ORDER if n in ask.nav]
    if words:
        parts.append(_("(Có thể gõ: {words})", words=" · ".join(words)))
    return "\n".join(parts)


@dataclass
class Bubble:
    """One outgoing Zalo message: text, or a file (sent as a link or photo by the channel)."""

    text: str
    file: Any = None


def render(replies: Sequence[Any], _: Gettext, *, limit: int = TEXT_LIMIT) -> list[Bubble]:
    """One turn's replies as few messages as possible: paragraphs joined, the question last."""
    bubbles: list[Bubble] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            bubbles.extend(Bubble(c) for c in split_text("\n\n".join(pending), limit))
            pending.clear()

    for r in replies:
        if isinstance(r, Message):
            text = ("⚠️ " if r.error else "") + r.text
            if r.file is not None:
                flush()
                bubbles.append(Bubble(text, file=r.file))
            else:
                pending.append(text)
        elif isinstance(r, Ask):
            pending.append(ask_text(r, _))
        else:
            other = getattr(r, "text", None) or getattr(r, "caption", None)
            if getattr(r, "type", None) == "file":
                flush()
                bubbles.append(Bubble(str(other or ""), file=r))
            elif other:
                pending.append(str(other))
    flush()
    return bubbles
