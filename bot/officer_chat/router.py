"""The officer's chat: the first handler of the turn pipeline.

A chat bound to an officer (``/canbo CODE``) is served here instead of the citizen's engine: the queue,
a dossier, numbered or button actions. Plug-ins (the identity check, the register export) add steps
and dossier lines through :class:`OfficerChatPlugins`. Every reply list ends with exactly one ``Ask``.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.codes import find_code
from dialogs.i18n import translator
from dialogs.messages import NAV_CANCEL, Ask, Incoming, Reply
from dialogs.parsing import match_choice
from dialogs.textnorm import fold
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.models import Officer
from storage.officers_repo import OfficerRepo

from ..cases.base import ActionRefused, catalog_or_default, unit_text
from ..pipeline import OFFICER_CHAT, PASS, Pass, Pipeline, Turn
from .context import CHOICE_ACTIONS, DossierExtra, OfficerChatPlugins, OfficerCtx, OfficerStep
from .joining import (
    enter_citizen_mode,
    in_citizen_mode,
    join,
    may_join,
    own_dossier_flag,
    own_rating,
    wants_citizen_mode,
    wants_officer_mode,
)
from .steps import (
    ask_free_text,
    do_action,
    on_confirm,
    on_confirm_release,
    on_free_text,
    on_supplement_fields,
    start_action,
)
from .views import send_files, show_dossier, show_queue

QUEUE_WORDS = {"/hoso", "hoso", "ho so", "/hangdoi", "hang doi", "hangdoi", "/start", "/menu", "menu", "queue",
               "danh sach", "/queue", "lam moi"}
MINE_WORDS = {"/cuatoi", "cua toi", "ho so cua toi", "mine"}
CANCEL_WORDS = {"huy", "/huy", "thoi", "bo", "cancel", "/cancel", "quay lai", "/back"}
HELP_WORDS = {"tro giup", "/help", "help", "huong dan", "?", "/trogiup"}


async def handle_officer_message(db: AsyncSession, officer: Officer, incoming: Incoming, now: datetime, *,
                                 calendar: WorkCalendar | None = None, catalog: Catalog | None = None,
                                 attachments: Any = None, plugins: OfficerChatPlugins | None = None) -> list[Reply]:
    """One turn of an officer's chat. The reply list always ends with exactly one ``Ask``."""
    ctx = OfficerCtx(db, officer, now, calendar or DEFAULT_CALENDAR, catalog_or_default(catalog), translator("vi"),
                     [], attachments, plugins or OfficerChatPlugins())
    try:
        await _dispatch(ctx, incoming)
    except ActionRefused as exc:
        ctx.replies = [r for r in ctx.replies if not isinstance(r, Ask)]
        ctx.say(exc.text("vi"), error=True)
        code = (ctx.state or {}).get("code")
        try:
            if not code:
                raise exc
            await show_dossier(ctx, code, brief=True)
        except ActionRefused:
            ctx.officer.chat_state = {}
            await show_queue(ctx)
    if not ctx.replies or not isinstance(ctx.replies[-1], Ask):
        await show_queue(ctx)
    return ctx.replies


COMMAND_WORDS = QUEUE_WORDS | MINE_WORDS | CANCEL_WORDS | HELP_WORDS


def _resolve_choice(ctx: OfficerCtx, incoming: Incoming) -> tuple[str | None, str]:
    """(choice value or None, typed text). A typed number or label (with or without diacritics, as for citizens:
    parsing.match_choice) picks from the last question's choices; the chat's commands and dossier codes keep
    their meaning, and the supplement picker reads its own multiple choice."""
    text = (incoming.text or "").strip()
    if incoming.choice:
        return incoming.choice, text
    last = ctx.state.get("choices") or []
    if not text or not last:
        return None, text
    if ctx.state.get("step") == "supplement_fields":  # a multiple choice: numbers and labels read there
        return None, text
    if re.fullmatch(r"\d{1,3}", text):
        i = int(text)
        numbers = ctx.state.get("numbers")
        if numbers:  # a menu with its own numbers (the dossier's actions)
            return (last[numbers.index(i)] if i in numbers else None), text
        return (last[i - 1] if 1 <= i <= len(last) else None), text
    labels = ctx.state.get("labels") or []
    if len(labels) != len(last) or \
            fold(text).strip(" .!") in COMMAND_WORDS or find_code(text):
        return None, text
    return match_choice(text, list(zip(last, labels, strict=True))), text


async def _dispatch(ctx: OfficerCtx, incoming: Incoming) -> None:
    _ = ctx._
    value, text = _resolve_choice(ctx, incoming)
    key = fold(text).strip(" .!") if text else ""
    step = ctx.state.get("step")
    for plugin_step in ctx.plugins.steps:  # e.g. identity checks by the commune police, the register export
        if await plugin_step(ctx, value, text):
            return

    if value is None and key in HELP_WORDS:
        ctx.say(_("Bạn là cán bộ {role}, {unit}.\nGõ “/hoso” để xem hàng đợi, gõ mã hồ sơ để mở một hồ sơ, "
                  "“/cuatoi” để xem hồ sơ bạn đang xử lý, “hủy” để bỏ thao tác đang làm, “/nguoidan” để "
                  "xem hồ sơ và làm thủ tục của riêng bạn.",
                  role=_(lc.ROLE_LABELS[ctx.officer.role]),
                  unit=unit_text(ctx.officer.agency, ctx.officer.commune_code, _)))
        return await show_queue(ctx)
    if value is None and key in QUEUE_WORDS:
        return await show_queue(ctx)
    if value is None and key in MINE_WORDS:
        return await show_queue(ctx, mine=True)
    if step and ((value is None and key in CANCEL_WORDS) or value == NAV_CANCEL):
        ctx.say(_("Đã hủy thao tác."))
        return await show_dossier(ctx, ctx.state["code"], brief=True)

    # a multi-step action in progress
    if step == "supplement_fields":
        return await on_supplement_fields(ctx, value, text)
    if step in ("supplement_reason", "approve_number", "reject_reason") and value is None and text:
        return await on_free_text(ctx, step, text)
    if step == "confirm" and (value in ("yes", "fix") or (value is None and text and not find_code(text))):
        return await on_confirm(ctx, value)
    if step == "confirm_release" and (value in ("yes", "no") or (value is None and text and not find_code(text))):
        return await on_confirm_release(ctx, value)
    if step == "reassign_pick" and value and value.startswith("to:"):
        return await do_action(ctx, lc.REASSIGN, ctx.state["code"], target=int(value[3:]))

    if value:
        verb, _sep, arg = value.partition(":")
        if verb == "queue":
            f, _sep, page = arg.partition(":")
            return await show_queue(ctx, f=f or None, page=int(page) if page.isdigit() else 1)
        if verb == "mine":
            return await show_queue(ctx, mine=True)
        if verb == "open" and arg:
            return await show_dossier(ctx, arg)
        if verb == "files" and arg:
            return await send_files(ctx, arg)
        if verb in CHOICE_ACTIONS and arg:
            return await start_action(ctx, CHOICE_ACTIONS[verb], arg)
    code = find_code(text) if text else None
    if code:
        return await show_dossier(ctx, code)
    if step in ("supplement_reason", "approve_number", "reject_reason", "reassign_pick"):
        ctx.say(_("Vui lòng trả lời câu hỏi, hoặc gõ “hủy” để bỏ thao tác."), error=True)
        return await _reask(ctx)
    if text and not value and ctx.state.get("code") and ctx.state.get("choices"):
        # an open dossier's menu: the same menu again, the dossier is not lost
        ctx.say(_("Chưa rõ lựa chọn. Gõ số thứ tự hoặc nội dung một lựa chọn, hoặc gõ “/hoso” để về hàng đợi."),
                error=True)
        return await show_dossier(ctx, ctx.state["code"], brief=True)
    if text and not value and not ctx.state.get("code") and len(fold(text).strip()) >= 2:
        return await show_queue(ctx, q=text[:100])  # a name, phone or ID number typed at the queue: a search
    if text or value:
        ctx.say(_("Chưa rõ yêu cầu. Chọn một hồ sơ trong danh sách, gõ mã hồ sơ, hoặc gõ “trợ giúp”."), error=True)
    await show_queue(ctx)


async def _reask(ctx: OfficerCtx) -> None:
    step, code = str(ctx.state.get("step") or ""), str(ctx.state.get("code") or "")
    if step == "reassign_pick":
        return await start_action(ctx, lc.REASSIGN, code)
    return await ask_free_text(ctx, step, code)


class OfficerChat:
    """The officer-chat handler of the turn pipeline; plug-ins add to :attr:`plugins`."""

    def __init__(self) -> None:
        self.plugins = OfficerChatPlugins()

    def add_step(self, step: OfficerStep) -> None:
        """``step(ctx, value, text)`` sees every officer message first; True if it served it."""
        self.plugins.steps.append(step)

    def add_dossier_extra(self, extra: DossierExtra) -> None:
        """``extra(ctx, dossier)`` adds lines and buttons to every dossier an officer opens."""
        self.plugins.dossier_extras.append(extra)

    async def __call__(self, turn: Turn) -> list[Reply] | Pass:
        """An officer's chat, or a chat redeeming an invite; anything else passes on."""
        rt = turn.runtime
        chat = turn.chat  # a lean turn: the store already says whether the chat is an officer's
        if chat is not None and not chat.officer and not chat.join_pending and not may_join(turn.message):
            return PASS
        replies = await self.officer_turn(turn.db, turn.user_key, turn.message, turn.now, calendar=rt.calendar,
                                          catalog=rt.catalog, attachments=rt.attachments)
        return PASS if replies is None else replies

    async def handle(self, db: AsyncSession, officer: Officer, incoming: Incoming, now: datetime, *,
                     calendar: WorkCalendar | None = None, catalog: Catalog | None = None,
                     attachments: Any = None) -> list[Reply]:
        """:func:`handle_officer_message` with this chat's plug-ins."""
        return await handle_officer_message(db, officer, incoming, now, calendar=calendar, catalog=catalog,
                                            attachments=attachments, plugins=self.plugins)

    async def officer_turn(self, db: AsyncSession, user_key: str, incoming: Incoming, now: datetime, *,
                           calendar: WorkCalendar | None = None, catalog: Catalog | None = None,
                           attachments: Any = None) -> list[Reply] | None:
        """Replies if this chat is an officer's (or redeems an invite), else None."""
        officer = await OfficerRepo(db).by_user_key(user_key, lock=True)
        kw = {"calendar": calendar, "catalog": catalog, "attachments": attachments}
        if officer is None:
            return await join(self.handle, db, user_key, incoming, now, **kw)
        if in_citizen_mode(officer):  # the officer's own affairs: the citizen's assistant until “/canbo”
            if not wants_officer_mode(incoming):
                return None
            officer.chat_state = {}
            if not incoming.choice:
                incoming = Incoming(text="/hoso")
        elif wants_citizen_mode(incoming):
            return enter_citizen_mode(officer)
        elif own_rating(officer, incoming):  # rating their own dossier, as the result message told them
            return None
        return await self.handle(db, officer, incoming, now, calendar=calendar, catalog=catalog,
                                 attachments=attachments)


NAME = "officer_chat"


def register(pipeline: Pipeline) -> None:
    """The officer chat (and invite codes) as the first handler of the turn pipeline."""
    chat = OfficerChat()
    chat.add_dossier_extra(own_dossier_flag)
    pipeline.add(chat, name=NAME, order=OFFICER_CHAT)


def officer_chat_of(pipeline: Pipeline) -> OfficerChat:
    """The pipeline's officer chat, for plug-ins to register with."""
    chat = pipeline.get(NAME)
    if not isinstance(chat, OfficerChat):
        raise LookupError("the officer chat is not registered in this pipeline (see bot/app.py)")
    return chat
