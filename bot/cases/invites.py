"""Officers join with a one-time invite code (``/canbo CANBO-XXXXX-XXXXX``); one chat is one officer."""
from __future__ import annotations

import logging
import os
import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.codes import ALPHABET
from dialogs.i18n import N_
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.audit_models import AuditEntry
from storage.audit_repo import AuditRepo
from storage.models import Officer
from storage.officers_repo import LegRepo, OfficerRepo, secret_hash

from .base import ActionRefused, officer_actor
from .transition import transition

INVITE_PREFIX = "CANBO"


INVITE_LEN = 10  # Crockford base32 symbols: 50 random bits


INVITE_VALID_DAYS = 14


# Wrong invite codes a chat may type in a day (as /lienket and /theodoi), and in all in an hour (someone probing
# from many chats). Each wrong code is logged as INVITE_MISMATCH (the chat, never the code typed).
INVITE_GUESSES_PER_CHAT = int(os.environ.get("DVCBOT_INVITE_GUESSES_PER_CHAT", "5"))
INVITE_GUESSES_PER_HOUR = int(os.environ.get("DVCBOT_INVITE_GUESSES_PER_HOUR", "100"))
INVITE_MISMATCH = "invite.mismatch"

log = logging.getLogger("dvcbot.cases")


def new_invite_code() -> str:
    """A fresh ``CANBO-XXXXX-XXXXX`` code (50 random bits)."""
    bits = secrets.randbits(5 * INVITE_LEN)
    token = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(INVITE_LEN)))
    return f"{INVITE_PREFIX}-{token[:5]}-{token[5:]}"


_INVITE_RE = re.compile(r"^(?:/canbo(?:@\w+)?\s*)?(canbo[\s\-_.]*[0-9a-z][0-9a-z\s\-_.]{9,20})$", re.I)


_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def normalise_invite(text: str | None) -> str | None:
    """The canonical invite code in ``"/canbo CANBO-XXXXX-XXXXX"`` or the bare code, else None."""
    if not text:
        return None
    m = _INVITE_RE.match(text.strip())
    if not m:
        return None
    compact = re.sub(r"[\s\-_.]", "", m.group(1)).upper()
    token = compact[len(INVITE_PREFIX):].translate(_CONFUSABLES)
    if len(token) != INVITE_LEN or any(c not in ALPHABET for c in token):
        return None
    return f"{INVITE_PREFIX}-{token[:5]}-{token[5:]}"


def is_invite_attempt(text: str | None) -> bool:
    """``/canbo ...``, or something shaped like an invite code."""
    if not text:
        return False
    t = text.strip()
    return t.lower().startswith("/canbo") or normalise_invite(t) is not None


async def add_officer(db: AsyncSession, *, full_name: str, agency: str, commune_code: str, role: str,
                      focal_point: bool = False, now: datetime | None = None,
                      valid_days: int = INVITE_VALID_DAYS) -> tuple[Officer, str]:
    """Register an officer; returns the officer and the one-time invite code to send to the bot."""
    if role not in lc.OFFICER_ROLES:
        raise ActionRefused(N_("Vai trò không hợp lệ: {role}."), "role", role=role)
    if not full_name.strip() or not agency.strip() or not commune_code.strip():
        raise ActionRefused(N_("Cần họ tên, cơ quan và mã xã."), "fields")
    _check_valid_days(valid_days)
    now = now or datetime.now(UTC)
    code = new_invite_code()
    o = await OfficerRepo(db).add(full_name=full_name.strip(), agency=agency.strip(),
                                  commune_code=commune_code.strip(), role=role, focal_point=focal_point,
                                  invite_hash=secret_hash(code),
                                  invite_expires_at=now + timedelta(days=valid_days))
    return o, code


def _check_valid_days(valid_days: int) -> None:
    """An invite lives at least a day: 0 used to mean “never expires” and a negative number made a dead code."""
    if valid_days < 1:
        raise ActionRefused(N_("Số ngày hiệu lực của mã mời phải từ 1 trở lên (đang là {days})."), "valid_days",
                            days=valid_days)


async def new_invite(db: AsyncSession, officer_id: int, now: datetime, valid_days: int = INVITE_VALID_DAYS) -> str:
    """A new invite code for an existing officer (the old one stops working)."""
    _check_valid_days(valid_days)
    o = await OfficerRepo(db).get(officer_id, lock=True)
    if o is None:
        raise ActionRefused(N_("Không có cán bộ số {id}."), "not_found", id=officer_id)
    code = new_invite_code()
    o.invite_hash = secret_hash(code)
    o.invite_expires_at = now + timedelta(days=valid_days)
    return code


async def deactivate_officer(db: AsyncSession, officer_id: int, now: datetime | None = None, *,
                             calendar: WorkCalendar | None = None) -> Officer:
    """Take an officer off duty at once (a lost phone, a transfer): their chat stops being an officer's, the web
    desk refuses their session on its next request, their invite stops working, and what they held goes back to
    the queue. The row stays for the audit trail."""
    o = await OfficerRepo(db).get(officer_id, lock=True)
    if o is None:
        raise ActionRefused(N_("Không có cán bộ số {id}."), "not_found", id=officer_id)
    now = now or datetime.now(UTC)
    repo = LegRepo(db)
    for leg, dossier in await repo.queue(o.agency, o.commune_code, claimed_by=o.id):
        if leg.status in lc.CLOSED:
            continue
        act = lc.Act(lc.RELEASE, officer_actor(o), reason="Cán bộ ngừng làm nhiệm vụ")
        try:  # a leg waiting for the citizen cannot be released: a leader reassigns it
            await transition(db, dossier, leg, act, now, calendar or DEFAULT_CALENDAR, notify=False)
        except ActionRefused:
            continue
    o.active = False
    _forget_invite(o)
    await db.flush()
    return o


async def set_officer(db: AsyncSession, officer_id: int, *, role: str | None = None,
                      focal_point: bool | None = None) -> Officer:
    """Change an officer's role or whether they are a focal point (who gets the daily report)."""
    o = await OfficerRepo(db).get(officer_id, lock=True)
    if o is None:
        raise ActionRefused(N_("Không có cán bộ số {id}."), "not_found", id=officer_id)
    if role is not None:
        if role not in lc.OFFICER_ROLES:
            raise ActionRefused(N_("Vai trò không hợp lệ: {role}."), "role", role=role)
        o.role = role
    if focal_point is not None:
        o.focal_point = focal_point
    await db.flush()
    return o


async def redeem_invite(db: AsyncSession, code: str, user_key: str, now: datetime | None = None) -> Officer | None:
    """Bind the chat to the officer the invite code was made for; the code then stops working. A wrong, used or
    expired code returns None and is logged; after too many in a day (or in all in an hour) even a right code is
    refused with :class:`ActionRefused` until the next day."""
    now = now or datetime.now(UTC)
    o = await invite_officer(db, code, user_key, now)
    if o is None:
        return None
    return await bind_chat(db, o, user_key)


async def invite_officer(db: AsyncSession, code: str, user_key: str, now: datetime) -> Officer | None:
    """The officer a live invite ``code`` was made for, without binding the chat (to ask first); a well-formed
    code that is wrong, used or expired counts against the chat's daily limit and the hourly one."""
    audit = AuditRepo(db)
    if await audit.count(INVITE_MISMATCH, since=now - timedelta(days=1), actor=user_key) >= INVITE_GUESSES_PER_CHAT \
            or await audit.count(INVITE_MISMATCH, since=now - timedelta(hours=1)) >= INVITE_GUESSES_PER_HOUR:
        raise ActionRefused(N_("Bạn đã nhập sai mã mời quá nhiều lần. Vui lòng thử lại vào ngày mai, hoặc xin "
                               "quản trị viên mã mới."), "locked")
    canonical = normalise_invite(code)
    if canonical is None:  # not shaped like a code (“/canbo” alone, a typo): no guess at a secret, not counted
        return None
    o = await OfficerRepo(db).by_invite(secret_hash(canonical))
    if o is None or not o.active or (o.invite_expires_at is not None and o.invite_expires_at < now):
        db.add(AuditEntry(at=now, actor_key=user_key, action=INVITE_MISMATCH, subject=None))
        await db.flush()
        if await audit.count(INVITE_MISMATCH, since=now - timedelta(days=1), actor=user_key) == \
                INVITE_GUESSES_PER_CHAT:
            log.warning("/canbo: a chat reached %d wrong invite codes in a day; invites are locked for it",
                        INVITE_GUESSES_PER_CHAT)
        return None
    return o


async def bind_chat(db: AsyncSession, o: Officer, user_key: str) -> Officer:
    """Make ``user_key`` the chat of officer ``o`` (whose invite was just checked); the invite stops working."""
    repo = OfficerRepo(db)
    current = await repo.by_user_key(user_key, lock=True)
    if current is not None and current.id != o.id:
        current.user_key = None  # one chat is one officer
        await db.flush()
    o.user_key = user_key
    _forget_invite(o)
    await db.flush()
    return o


def _forget_invite(o: Officer) -> None:
    """The invite can no longer be redeemed, and the chat starts from its queue."""
    o.invite_hash = None
    o.invite_expires_at = None
    o.chat_state = {}


async def officer_for(db: AsyncSession, user_key: str) -> Officer | None:
    """The officer bound to this chat, if any."""
    return await OfficerRepo(db).by_user_key(user_key)
