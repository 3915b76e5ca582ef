"""Joining as an officer (``/canbo CODE``) and an officer's own citizen mode (``/nguoidan``).

A chat that already has the citizen's own dossiers or a form being filled in is asked first (Đồng ý / Không):
once linked, the chat serves the officer's queue. The officer reaches their own dossiers again with
“/nguoidan” (the citizen's assistant, as before) and comes back with “/canbo”; a button of an officer's
notification also brings them back. While a link waits for the answer, the officer row keeps the chat and a
deadline in ``chat_state`` (the officer has no chat yet, so nothing else uses it).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.engine.commands import detect_rating, detect_rating_ask
from dialogs.i18n import translator
from dialogs.messages import Ask, ChoiceOut, Incoming, Message, Reply
from dialogs.textnorm import fold
from storage.models import Dossier, DraftRow, Officer
from storage.officers_repo import OfficerRepo

from ..accounts import conversation_key
from ..cases.base import ActionRefused, unit_text
from ..cases.conflict import own_dossier
from ..cases.invites import bind_chat, invite_officer, is_invite_attempt
from .context import CHOICE_ACTIONS, OfficerCtx

Handle = Callable[..., Awaitable[list[Reply]]]
"""``OfficerChat.handle``: one officer turn with the chat's plug-ins."""

CONFIRM_MINUTES = 15
YES_WORDS = {"dong y", "co", "yes", "ok", "1"}
NO_WORDS = {"khong", "no", "thoi", "huy", "2"}
CITIZEN_WORDS = {"/nguoidan", "nguoi dan", "che do nguoi dan", "ho so ca nhan", "/canhan"}
OFFICER_WORDS = {"/canbo", "can bo", "che do can bo"}
OFFICER_VERBS = {"open", "queue", "mine", "files", *CHOICE_ACTIONS}


def _back_to_citizen_ask() -> Ask:
    _ = translator("vi")
    return Ask(text=_("Gõ “menu” để dùng trợ lý như người dân."), procedure=None, field="officer.invite",
               kind="text")


async def has_citizen_data(db: AsyncSession, user_key: str) -> bool:
    """The chat has dossiers it filed or follows, or a form being filled in."""
    conv = await conversation_key(db, user_key)
    keys = {user_key, conv}
    drafts = (await db.execute(select(func.count()).select_from(DraftRow)
                               .where(DraftRow.user_key.in_(keys)))).scalar_one()
    dossiers = (await db.execute(select(func.count()).select_from(Dossier).where(
        or_(Dossier.submitter_key.in_(keys), Dossier.applicant_key.in_(keys))))).scalar_one()
    return bool(drafts or dossiers)


async def _pending(db: AsyncSession, user_key: str, now: datetime, officer_id: int | None = None) -> Officer | None:
    """The officer whose link to this chat waits for the chat's answer (and whose invite still works)."""
    if officer_id is not None:
        found = await OfficerRepo(db).get(officer_id, lock=True)
        candidates = [found] if found is not None else []
    else:
        candidates = list((await db.execute(select(Officer).where(Officer.invite_hash.is_not(None)))).scalars())
    for o in candidates:
        st = o.chat_state or {}
        live = o.active and o.invite_hash is not None and (o.invite_expires_at is None or o.invite_expires_at >= now)
        if live and st.get("join_chat") == user_key and _until(st) >= now:
            return o
    return None


def _until(state: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(state.get("join_until")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def may_join(incoming: Incoming) -> bool:
    """Whether a message of a chat that is no officer's may be about joining (a pending invite's “yes/no” aside,
    which only a chat an invite waits for can answer): an invite code, or the answer button of one."""
    return (incoming.choice or "").startswith("join:") or is_invite_attempt((incoming.text or "").strip())


async def join(handle: Handle, db: AsyncSession, user_key: str, incoming: Incoming, now: datetime,
               **kw: Any) -> list[Reply] | None:
    """A chat that is no officer's: redeem an invite (asking first if the chat is a citizen's), answer that
    question, or None to leave the message to the citizen's assistant."""
    _ = translator("vi")
    text = (incoming.text or "").strip()
    choice = incoming.choice or ""
    if choice.startswith("join:"):
        _verb, answer, oid = [*choice.split(":"), "", ""][:3]
        pending = await _pending(db, user_key, now, int(oid) if oid.isdigit() else None)
        return await _answer(handle, db, pending, user_key, answer == "yes", now, **kw)
    word = fold(text).strip(" .!")
    if word in YES_WORDS | NO_WORDS:
        pending = await _pending(db, user_key, now)
        if pending is not None:
            return await _answer(handle, db, pending, user_key, word in YES_WORDS, now, **kw)
    if not is_invite_attempt(text):
        return None
    code = text.split(None, 1)[1] if text.lower().startswith("/canbo") and " " in text else text
    try:
        officer = await invite_officer(db, code, user_key, now)
    except ActionRefused as exc:
        return [Message(exc.text("vi"), error=True), _back_to_citizen_ask()]
    if officer is None:
        return [Message(_("Mã mời không đúng, đã dùng hoặc đã hết hạn. Vui lòng xin mã mới."), error=True),
                _back_to_citizen_ask()]
    if await has_citizen_data(db, user_key):
        officer.chat_state = {"join_chat": user_key,
                              "join_until": (now + timedelta(minutes=CONFIRM_MINUTES)).isoformat()}
        return [Message(_("Cuộc trò chuyện này đang có hồ sơ hoặc tờ khai đang điền của chính bạn. Nếu đăng ký "
                          "làm cán bộ {unit} tại đây, trợ lý sẽ hiện hàng đợi hồ sơ của đơn vị; hồ sơ của bạn vẫn "
                          "được giữ nguyên, gõ “/nguoidan” để xem lại và “/canbo” để về chế độ cán bộ. Bạn nên "
                          "dùng một tài khoản riêng cho công việc nếu có.",
                          unit=unit_text(officer.agency, officer.commune_code, _))),
                Ask(text=_("Bạn có muốn đăng ký cuộc trò chuyện này làm tài khoản cán bộ không?"), procedure=None,
                    field="officer.join", kind="choice",
                    choices=(ChoiceOut(f"join:yes:{officer.id}", _("Đồng ý")),
                             ChoiceOut(f"join:no:{officer.id}", _("Không"))))]
    return await _welcome(handle, db, await bind_chat(db, officer, user_key), now, **kw)


async def _answer(handle: Handle, db: AsyncSession, pending: Officer | None, user_key: str, yes: bool,
                  now: datetime, **kw: Any) -> list[Reply]:
    _ = translator("vi")
    if pending is None:
        return [Message(_("Yêu cầu đăng ký cán bộ đã hết hạn. Vui lòng gõ lại “/canbo” kèm mã mời."), error=True),
                _back_to_citizen_ask()]
    if not yes:
        pending.chat_state = {}
        return [Message(_("Đã hủy. Cuộc trò chuyện này vẫn là của người dân; mã mời vẫn dùng được ở tài khoản "
                          "khác.")), _back_to_citizen_ask()]
    return await _welcome(handle, db, await bind_chat(db, pending, user_key), now, **kw)


async def _welcome(handle: Handle, db: AsyncSession, officer: Officer, now: datetime, **kw: Any) -> list[Reply]:
    _ = translator("vi")
    hello = Message(_("Xin chào {name}! Tài khoản này đã được đăng ký là {role}, {unit}. Bạn sẽ nhận thông báo "
                      "khi có hồ sơ mới. Gõ “/nguoidan” để dùng trợ lý cho việc riêng của bạn.",
                      name=officer.full_name, role=_(lc.ROLE_LABELS[officer.role]),
                      unit=unit_text(officer.agency, officer.commune_code, _)))
    return [hello, *await handle(db, officer, Incoming(text="/hoso"), now, **kw)]


def in_citizen_mode(officer: Officer) -> bool:
    return (officer.chat_state or {}).get("mode") == "citizen"


def wants_citizen_mode(incoming: Incoming) -> bool:
    return not incoming.choice and fold(incoming.text or "").strip(" .!") in CITIZEN_WORDS


def wants_officer_mode(incoming: Incoming) -> bool:
    """“/canbo” typed, or a button of an officer's notification pressed, in citizen mode."""
    if incoming.choice:
        return incoming.choice.partition(":")[0] in OFFICER_VERBS
    word = fold(incoming.text or "").strip(" .!")
    return word in OFFICER_WORDS or word.startswith("/canbo ")


def own_rating(officer: Officer, incoming: Incoming) -> bool:
    """“đánh giá [CODE] 5” (or its star buttons) outside an action: the officer rating their own dossier, which the
    citizen's assistant serves as it is, without switching modes."""
    if (officer.chat_state or {}).get("step"):
        return False
    if incoming.choice:
        return incoming.choice.startswith("rate:")
    text = incoming.text or ""
    return detect_rating(text) is not None or detect_rating_ask(text) is not None


def enter_citizen_mode(officer: Officer) -> list[Reply]:
    _ = translator("vi")
    officer.chat_state = {"mode": "citizen"}
    return [Message(_("Đã chuyển sang chế độ người dân: trợ lý phục vụ việc riêng của bạn (hồ sơ của bạn, bổ "
                      "sung, đánh giá, thủ tục mới). Thông báo công việc vẫn đến; gõ “/canbo” để về hàng đợi.")),
            Ask(text=_("Gõ “/hoso” để xem hồ sơ của bạn, hoặc “menu” để làm thủ tục."), procedure=None,
                field="officer.citizen_mode", kind="text")]


async def own_dossier_flag(ctx: OfficerCtx, dossier: Dossier) -> tuple[list[str], list[tuple[str, str]]]:
    """A dossier view's warning when the officer filed the dossier or is its applicant."""
    if not await own_dossier(ctx.db, ctx.officer, dossier):
        return [], []
    return [ctx._("⚠️ Đây là hồ sơ của chính bạn (bạn nộp hoặc đứng tên): bạn không được tự duyệt hay từ chối; "
                  "hãy để cán bộ khác hoặc lãnh đạo quyết định.")], []
