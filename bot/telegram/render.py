"""From the runtime's replies to Telegram messages: text bubbles, inline keyboards, the contact keyboard.

Pure functions, no network and no database. Holds no procedure logic: it only
lays out what the engine (or the officer chat) asked.

Callback data (Telegram allows 1–64 *bytes*) never carries a choice value,
which may be long or Vietnamese. It names the question the keyboard belongs
to (an 8-character *ask token*) and the button's index::

    c:<token>:<i>      choice i of the question <token>
    n:<token>:<b|s|c|h> navigation: back, skip, cancel, help
    m:<token>:<i>      toggle choice i of a multi-choice question; m:<token>:ok sends the selection
    p:<token>:<i>      button i of a pushed notification (bot/telegram/sending.py)

The channel stores the current question's token and choice values per chat
(storage.channel_models.TelegramChat); a press whose token is not the current
one is a stale button and changes nothing.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from dialogs.i18n import N_
from dialogs.messages import NAV_BACK, NAV_CANCEL, NAV_HELP, NAV_SKIP, Ask, Message

Gettext = Callable[[str], str]

TEXT_LIMIT = 4096          # sendMessage.text, in UTF-16 code units
CAPTION_LIMIT = 1024
MAX_CHOICE_BUTTONS = 90    # aiogram's builder allows 100 buttons per keyboard; keep room for the nav row
BUTTON_LABEL = 64          # longer labels are cut on screen anyway

#: the nav row, in this order
NAV_ORDER = (NAV_BACK, NAV_SKIP, NAV_CANCEL, NAV_HELP)
NAV_CODE = {NAV_BACK: "b", NAV_SKIP: "s", NAV_CANCEL: "c", NAV_HELP: "h"}
CODE_NAV = {v: k for k, v in NAV_CODE.items()}
NAV_LABELS = {NAV_BACK: N_("Quay lại"), NAV_SKIP: N_("Bỏ qua"), NAV_CANCEL: N_("Hủy"), NAV_HELP: N_("Trợ giúp")}


# ---------------------------------------------------------------------------------------------
# text
def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut ``text`` into pieces Telegram accepts: at blank lines, then line ends, then spaces."""
    text = text.strip("\n") or "…"
    out: list[str] = []
    while utf16_len(text) > limit:
        # the longest prefix that fits
        lo, hi = 1, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if utf16_len(text[:mid]) <= limit:
                lo = mid
            else:
                hi = mid - 1
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


def progress(ask: Ask) -> str:
    """``▰▰▰▱▱▱▱▱▱▱ Bước 3/12``: the engine's own step text, with a bar."""
    if not ask.step:
        return ""
    if ask.step_no and ask.step_total:
        filled = max(1, min(10, round(10 * ask.step_no / ask.step_total)))  # a started form shows a start
        return "▰" * filled + "▱" * (10 - filled) + " " + ask.step
    return ask.step


def _label(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= BUTTON_LABEL else text[:BUTTON_LABEL - 1] + "…"


# ---------------------------------------------------------------------------------------------
# the question's identity
def ask_token(ask: Ask) -> str:
    """Eight hex characters naming *this* question: the same question (same field, same choices) asked again
    gets the same token, so its older keyboard still means the same thing; any other question a new one."""
    key = (ask.procedure, ask.field, ask.kind, tuple(c.value for c in ask.choices), tuple(ask.nav), ask.multi)
    token = _TOKENS.get(key)
    if token is None:
        ident = json.dumps([ask.procedure, ask.field, ask.kind, list(key[3]), list(ask.nav), ask.multi],
                           ensure_ascii=False, separators=(",", ":"))
        token = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:8]
        _keep(_TOKENS, key, token)
    return token


KEPT = 2048
"""How many tokens and keyboards :func:`ask_token` and :func:`inline_keyboard` keep. A step's question is
mostly one another citizen was asked a moment ago, and working it out again costs more than the rest of the
layout (a keyboard's buttons are pydantic models, about 15 µs each: 90 µs of a turn's 150)."""

_TOKENS: dict[tuple[Any, ...], str] = {}
_KEYBOARDS: dict[tuple[Any, ...], InlineKeyboardMarkup | None] = {}


def _keep(cache: dict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> None:
    if len(cache) >= KEPT:  # (the procedures' questions are a bound anyway: started again when full)
        cache.clear()
    cache[key] = value


@dataclass
class AskState:
    """What the channel stores about the question a chat is being asked."""

    token: str
    kind: str
    choices: list[list[str]]  # [[value, label], ...]
    nav: list[str]

    @property
    def contact_keyboard(self) -> bool:
        return self.kind == "phone"


def ask_state(replies: Sequence[Any]) -> AskState | None:
    ask = next((r for r in reversed(replies) if isinstance(r, Ask)), None)
    if ask is None:
        return None
    return AskState(ask_token(ask), ask.kind, [[c.value, c.label] for c in ask.choices], list(ask.nav))


# ---------------------------------------------------------------------------------------------
# keyboards
def _rows(buttons: list[InlineKeyboardButton], labels: list[str]) -> list[list[InlineKeyboardButton]]:
    """Short labels side by side (Có / Không), anything longer one per row."""
    if len(buttons) <= 4 and sum(len(lab) for lab in labels) <= 28:
        return [buttons]
    return [[b] for b in buttons]


def inline_keyboard(ask: Ask, token: str, _: Gettext, selection: Sequence[int] = ()) -> InlineKeyboardMarkup | None:
    """The question's inline keyboard. The same question in the same words (a multi-choice one with the same
    choices ticked) gets the very same markup object: kept (:data:`KEPT`), and never changed by its users."""
    choices = list(ask.choices)[:MAX_CHOICE_BUTTONS]
    multi = ask.kind == "multi_choice"
    navs = [n for n in NAV_ORDER if n in ask.nav]
    nav = tuple(_(NAV_LABELS[n]) for n in navs)
    key = (token, multi, tuple(c.label for c in choices), nav,
           (tuple(sorted(set(selection))), _("Xong")) if multi else ())
    try:
        return _KEYBOARDS[key]
    except KeyError:
        pass
    rows: list[list[InlineKeyboardButton]] = []
    if multi:
        picked = set(selection)
        for i, c in enumerate(choices):
            mark = "✅ " if i in picked else "☐ "
            rows.append([InlineKeyboardButton(text=_label(mark + c.label), callback_data=f"m:{token}:{i}")])
        rows.append([InlineKeyboardButton(text=_("Xong"), callback_data=f"m:{token}:ok")])
    elif choices:
        labels = [_label(c.label) for c in choices]
        buttons = [InlineKeyboardButton(text=lab, callback_data=f"c:{token}:{i}") for i, lab in enumerate(labels)]
        rows += _rows(buttons, labels)
    if nav:
        rows.append([InlineKeyboardButton(text=lab, callback_data=f"n:{token}:{NAV_CODE[n]}")
                     for n, lab in zip(navs, nav, strict=True)])
    markup = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    _keep(_KEYBOARDS, key, markup)
    return markup


def contact_keyboard(ask: Ask, _: Gettext) -> ReplyKeyboardMarkup:
    """A phone question: the contact-sharing button, and the nav words as plain buttons (they send text the
    engine understands as commands, since a message has only one keyboard)."""
    rows = [[KeyboardButton(text=_("📱 Gửi số điện thoại của tôi"), request_contact=True)]]
    nav = [KeyboardButton(text=_(NAV_LABELS[n])) for n in NAV_ORDER if n in ask.nav]
    if nav:
        rows.append(nav)
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, one_time_keyboard=True,
                               input_field_placeholder="0912 345 678")


def push_keyboard(token: str, choices: Sequence[dict[str, Any] | Sequence[str]]) -> InlineKeyboardMarkup | None:
    labels = [_label(c["label"] if isinstance(c, dict) else c[1]) for c in choices][:MAX_CHOICE_BUTTONS]
    if not labels:
        return None
    buttons = [InlineKeyboardButton(text=lab, callback_data=f"p:{token}:{i}") for i, lab in enumerate(labels)]
    return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, labels))


# ---------------------------------------------------------------------------------------------
# bubbles
@dataclass
class Bubble:
    """One outgoing Telegram message: text with an optional keyboard, or a file."""

    text: str
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None
    file: Any = None  # sent with sendDocument: a FileRef (``path``, ``name``, ``mime``) or a file reply

    @property
    def is_ask(self) -> bool:
        return isinstance(self.markup, (InlineKeyboardMarkup, ReplyKeyboardMarkup))


def is_file(reply: Any) -> bool:
    """A reply that is only a file (``type == "file"``: ``name``, ``mime``, and ``path``, ``sha256`` or
    ``data``; ``caption``). Files usually come as ``Message.file`` (a ``FileRef``); see docs/telegram.md."""
    return getattr(reply, "type", None) == "file"


def message_text(m: Message) -> str:
    return ("⚠️ " if m.error else "") + m.text


def ask_text(ask: Ask, _: Gettext, *, with_progress: bool = True) -> str:
    parts = []
    bar = progress(ask) if with_progress else ""
    if bar:
        parts.append(bar)
    parts.append(ask.text)
    if ask.kind == "attachment":
        parts.append(_("📎 Gửi ảnh chụp hoặc tệp ngay trong cuộc trò chuyện này; có thể chọn nhiều ảnh gửi cùng "
                       "một lần."))
    elif ask.kind == "phone":
        parts.append(_("📱 Bấm nút “Gửi số điện thoại của tôi” bên dưới, hoặc gõ số."))
    elif ask.kind == "multi_choice" and ask.choices:
        parts.append(_("Bấm để chọn (chọn được nhiều mục), rồi bấm “Xong”."))
    if len(ask.choices) > MAX_CHOICE_BUTTONS:
        parts.append("\n".join(f"{c.number if c.number is not None else i}. {c.label}"
                               for i, c in enumerate(ask.choices, 1)))
    return "\n".join(parts)


def render(replies: Sequence[Any], _: Gettext, *, remove_contact_keyboard: bool = False,
           selection: Sequence[int] = ()) -> list[Bubble]:
    """Lay out one turn's replies as few messages as possible (each under 4096 characters): messages are
    joined as paragraphs, and the question with its keyboard comes last.

    ``remove_contact_keyboard``: a contact keyboard from the previous question is showing and must go; it is
    removed with the first message that carries no inline keyboard (a message has one keyboard only)."""
    bubbles: list[Bubble] = []
    pending: list[str] = []

    def flush_pending() -> None:
        if pending:
            for chunk in split_text("\n\n".join(pending)):
                bubbles.append(Bubble(chunk))
            pending.clear()

    for r in replies:
        if isinstance(r, Message) and getattr(r, "file", None) is not None:
            # a file the bot sends (the citizen's copy of the filled form): the text becomes its caption
            flush_pending()
            text = message_text(r)
            if utf16_len(text) <= CAPTION_LIMIT:
                bubbles.append(Bubble(text, file=r.file))
            else:
                bubbles += [Bubble(chunk) for chunk in split_text(text)]
                bubbles.append(Bubble("", file=r.file))
        elif isinstance(r, Message):
            pending.append(message_text(r))
        elif isinstance(r, Ask):
            token = ask_token(r)
            if r.kind == "phone":
                markup: Any = contact_keyboard(r, _)
                remove_contact_keyboard = False  # replaced by the new one
            else:
                markup = inline_keyboard(r, token, _, selection)
            body = ask_text(r, _)
            if remove_contact_keyboard and markup is not None:
                if not pending:  # something must carry the removal: the progress line, or a tick
                    pending.append(progress(r) or "✓")
                    body = ask_text(r, _, with_progress=False)
                flush_pending()
            else:
                body = "\n\n".join([*pending, body])
                pending.clear()
            chunks = split_text(body)
            for chunk in chunks[:-1]:
                bubbles.append(Bubble(chunk))
            bubbles.append(Bubble(chunks[-1], markup))
        elif is_file(r):
            flush_pending()
            bubbles.append(Bubble(getattr(r, "caption", None) or "", file=r))
        else:  # an unknown reply type: show its text if it has one
            other = getattr(r, "text", None)
            if other:
                pending.append(str(other))
    flush_pending()
    if remove_contact_keyboard:
        for b in bubbles:
            if b.markup is None and b.file is None:
                b.markup = ReplyKeyboardRemove()
                break
    return bubbles


@dataclass
class Pressed:
    """A parsed callback payload."""

    kind: str  # c | n | m | p
    token: str
    arg: str
    extra: dict[str, Any] = field(default_factory=dict)


def parse_callback(data: str | None) -> Pressed | None:
    if not data:
        return None
    parts = data.split(":")
    if len(parts) != 3 or parts[0] not in ("c", "n", "m", "p") or not parts[1]:
        return None
    return Pressed(parts[0], parts[1], parts[2])
