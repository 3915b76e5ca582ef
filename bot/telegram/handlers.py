"""aiogram routers, filters and middlewares of the Telegram channel.

Handlers only *translate*: each returns a :class:`Turn` (what the person did,
as an ``Incoming``), and :class:`TurnMiddleware` takes it to the runtime and
renders the replies. Nothing here knows a procedure.

* text → ``Incoming(text)`` (``/hoso@bot`` is reduced to ``/hoso``); ``/start`` → ``Runtime.start``;
* a shared contact → ``Incoming(text=phone number)``;
* a photo or a document → ``Incoming(file)``; parts of an album (same ``media_group_id``) are buffered
  by the channel and delivered together as ``Incoming(files=...)``;
* a button → ``Incoming(choice=value)`` after the stale check (see :mod:`bot.telegram.render`);
* anything else (stickers, voice notes, videos, locations, polls…) gets a polite explanation and changes nothing;
* an edited message is not taken as an answer (the step it answered may be long past): the person is asked to
  send the correction as a new message.

:class:`PollingIngress` is the outer update middleware that makes long polling as durable as the webhook:
an update coming from ``getUpdates`` is only stored in the inbox (polling runs with
``handle_as_tasks=False``, so the next offset — which confirms the update to Telegram — is requested only
after the store committed); it is handled later from the inbox like a webhook update.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram import BaseMiddleware, Router
from aiogram.enums import ChatType
from aiogram.filters import CommandStart, Filter
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.utils.i18n import gettext as _

from dialogs.i18n import N_
from dialogs.messages import Incoming

FEED_KEY = "dvcbot_feed"
UNREADABLE = N_("Xin lỗi, tôi chỉ đọc được tin nhắn chữ, ảnh chụp, tệp (PDF) và số điện thoại được chia sẻ. "
                "Vui lòng trả lời câu hỏi ở trên.")


class TelegramChannel(Protocol):
    """What the handlers need of bot.telegram.channel.TelegramChannel (named here, not imported: the channel
    imports this module, never the reverse)."""

    async def run_turn(self, chat_id: int, turn: Turn, feed: Any) -> None: ...
    async def accept(self, raw: dict[str, Any]) -> bool: ...
    async def fetch_files(self, messages: Any) -> list[Any]: ...
    async def notice(self, chat_id: int, text: str) -> Any: ...
    async def on_press(self, query: CallbackQuery) -> Turn | None: ...
    def album_add(self, message: Message, feed: Any) -> None: ...


@dataclass
class Turn:
    """A conversation step to run: ``Runtime.start`` or ``Runtime.handle(incoming)``."""

    incoming: Incoming | None = None
    start: bool = False
    expect_token: str | None = None  # a pressed button's question: the step is void if it is no longer current
    beside: Callable[[], Awaitable[None]] | None = None  # a Bot API call made while the step runs (the pressed
    # question marked): it costs the next question no round trip; its failure does not void the step


_COMMAND = re.compile(r"^(/[A-Za-z0-9_]+)@[A-Za-z0-9_]+")


def command_text(text: str) -> str:
    """``/hoso@dvc_bot`` → ``/hoso`` (the engine knows commands without the bot's name)."""
    return _COMMAND.sub(r"\1", text.strip(), count=1)


class TurnMiddleware(BaseMiddleware):
    """Inner middleware of messages and callback queries: runs the :class:`Turn` a handler returned."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        result = await handler(event, data)
        if isinstance(result, Turn):
            await data["channel"].run_turn(data["event_chat"].id, result, data[FEED_KEY])
            return True
        return result


class PollingIngress(BaseMiddleware):
    """Outer middleware of ``update``: updates from polling go to the inbox first (see the module docstring)."""

    def __init__(self, channel: TelegramChannel):
        self.channel = channel

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        if FEED_KEY in data:
            return await handler(event, data)
        assert isinstance(event, Update)
        await self.channel.accept(event.model_dump(mode="json", by_alias=True, exclude_none=True))
        return None


class Where(Filter):
    """A filter that is a plain test of the event, run on the event loop. aiogram runs a filter that is a plain
    callable (a magic filter too) in a worker thread (``asyncio.to_thread``): an attribute check would cost a
    thread hop, and a wait for the GIL, at every handler it is tried on, for every update. A magic filter
    resolved here instead still costs its interpretation (2% of an update's CPU): these are lambdas."""

    def __init__(self, test: Callable[[Any], Any]):
        self.test = test

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.test(event))


def _private(m: Message) -> bool:
    return m.chat.type == ChatType.PRIVATE


def _is_file(m: Message) -> bool:
    return bool(m.photo) or (m.document is not None and m.animation is None)  # a GIF has a document too


def build_router() -> Router:
    router = Router(name="dvcbot-telegram")
    router.message.filter(Where(_private))
    router.edited_message.filter(Where(_private))
    router.callback_query.filter(Where(lambda q: q.message is not None and _private(q.message)))
    router.message.middleware(TurnMiddleware())
    router.callback_query.middleware(TurnMiddleware())

    @router.message(CommandStart())
    async def on_start(message: Message) -> Turn:
        return Turn(start=True)

    files = Where(_is_file)

    @router.message(Where(lambda m: m.media_group_id is not None), files)
    async def on_album_part(message: Message, channel: TelegramChannel, dvcbot_feed) -> None:
        channel.album_add(message, dvcbot_feed)

    @router.message(files)
    async def on_file(message: Message, channel: TelegramChannel) -> Turn | None:
        got = await channel.fetch_files([message])
        return Turn(Incoming(file=got[0])) if got else None

    @router.message(Where(lambda m: m.contact is not None))
    async def on_contact(message: Message) -> Turn:
        assert message.contact is not None  # (the filter)
        return Turn(Incoming(text=message.contact.phone_number))

    @router.message(Where(lambda m: m.text is not None))
    async def on_text(message: Message) -> Turn:
        assert message.text is not None  # (the filter)
        return Turn(Incoming(text=command_text(message.text)))

    @router.message()
    async def on_other(message: Message, channel: TelegramChannel) -> None:
        await channel.notice(message.chat.id, _(UNREADABLE))

    @router.edited_message()
    async def on_edited(message: Message, channel: TelegramChannel) -> None:
        await channel.notice(message.chat.id, _("Tôi không đọc lại được tin nhắn đã sửa. Nếu muốn đổi câu trả lời, "
                                                "vui lòng gửi câu trả lời mới thành một tin nhắn mới (hoặc bấm "
                                                "“Quay lại”)."))

    @router.callback_query()
    async def on_button(query: CallbackQuery, channel: TelegramChannel) -> Turn | None:
        return await channel.on_press(query)

    return router
