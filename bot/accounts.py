"""Linked accounts: one person, several chats (Telegram, Zalo, console), one conversation.

A citizen types ``/lienket`` in one chat and gets a one-time code (8 symbols,
valid 15 minutes); typing ``/lienket CODE`` in another chat links the two. From
then on:

* every linked chat key resolves to the account's **primary conversation key**
  (:func:`conversation_key`): the runtime loads and saves that conversation, so a
  draft begun on Zalo continues on Telegram, and the runtime's per-chat lock is
  taken on the resolved key too, so two quick messages from two linked chats never race;
* replies go back to the chat that wrote (the channel adapters send them);
* notifications (the outbox) go to the account's **preferred chat**
  (:func:`notify_keys`, used by ``bot.cases.notify.citizen_chats``), chosen with
  ``/thongbao zalo``, ``/thongbao telegram`` or ``/thongbao đây`` (default: the chat
  that asked for the code).

Which conversation is kept when two chats are linked: the one of the chat that asked
for the code, unless it has no draft and the other one has (so nothing being filled
in is hidden). Dossiers already submitted from the other chat keep notifying through
the account's preferred chat.

Only a SHA-256 of each code is stored. Codes are one-time: redeeming deletes them.
Runs inside the runtime's transaction (never commits).

Guessing a code: a code is 8 symbols of the 32-letter Crockford alphabet drawn with :mod:`secrets`
(32⁸ = 2⁴⁰ ≈ 1.1·10¹² values) and lives 15 minutes; a chat that asked for a new one loses its older one.
Wrong (or expired) codes are counted per chat and per day, exactly as ``/theodoi`` counts wrong PINs
(``Session.throttle``, read with ``Engine.failures``): after :data:`MAX_LINK_FAILURES` in a day the chat is
refused until the next day without the code even being looked up. With N codes alive at once, one chat
has a chance of about 5·N/2⁴⁰ a day of hitting one (N = 1000: 1 in 2·10⁸ a day).
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.codes import ALPHABET
from dialogs.i18n import N_, translator
from dialogs.messages import Incoming, Message, Reply
from dialogs.textnorm import fold
from storage import filing
from storage.account_models import Account, AccountIdentity, AccountLinkCode
from storage.audit_models import AuditEntry
from storage.audit_repo import AuditRepo
from storage.filing import Rows, rows_of
from storage.models import DraftRow
from storage.officers_repo import OfficerRepo, OutboxRepo
from storage.repo import ConversationRepo

from .pipeline import ACCOUNTS, PASS, Pass, Pipeline, Services, Turn

CODE_LEN = 8
CODE_VALID = timedelta(minutes=15)
MAX_LINK_FAILURES = 5  # wrong or expired codes a chat may type per day (as MAX_FOLLOW_FAILURES for /theodoi)
# wrong codes from all chats together in an hour: then linking stops for the hour and the focal points are alerted
LINK_GUESSES_PER_HOUR = int(os.environ.get("DVCBOT_LINK_GUESSES_PER_HOUR", "200"))
LINK_MISMATCH = "link.mismatch"
LINK_COMMANDS = ("/lienket", "/lien ket", "/link")
log = logging.getLogger("dvcbot.accounts")
NOTIFY_COMMANDS = ("/thongbao", "/thong bao", "/notify")
CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": N_("cửa sổ dòng lệnh (console)")}
HERE_WORDS = ("day", "o day", "here", "this")


def _channel(user_key: str) -> str:
    head, sep, _rest = user_key.partition(":")
    return head if sep and head else "console"


def _label(key: str, _) -> str:
    """How a chat is named to the person: "Zalo", "Telegram", or a console chat with its name."""
    ch = _channel(key)
    name = _(CHANNEL_NAMES.get(ch, ch))
    return f"{name} “{key.partition(':')[2]}”" if ch == "console" and ":" in key else name


def _option(key: str) -> str:
    """What to type after /thongbao to choose ``key``: the channel, or the whole key for console chats."""
    return key if _channel(key) == "console" else _channel(key)


def _hash(code: str) -> str:
    return hashlib.sha256(("link:" + code).encode("utf-8")).hexdigest()


_LOOK_ALIKES = str.maketrans("OIL", "011")


def normalise(code: str) -> str:
    """Upper case, no spaces or dashes, Crockford look-alikes (O→0, I/L→1)."""
    s = "".join(code.split()).replace("-", "").upper()
    return s.translate(_LOOK_ALIKES)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))


def _utc(now: datetime) -> datetime:
    return now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)


# -------------------------------------------------------------------------------------------------
# lookups
async def account_of(db: AsyncSession, user_key: str) -> Account | None:
    return (await db.execute(select(Account).join(AccountIdentity, AccountIdentity.account_id == Account.id)
                             .where(AccountIdentity.user_key == user_key))).scalar_one_or_none()


async def conversation_key(db: AsyncSession, user_key: str) -> str:
    """The conversation ``user_key`` reads and writes: the account's primary key, or itself if not linked."""
    key = (await db.execute(select(Account.primary_key).join(AccountIdentity, AccountIdentity.account_id == Account.id)
                            .where(AccountIdentity.user_key == user_key))).scalar_one_or_none()
    return key or user_key


async def identities(db: AsyncSession, account_id: int) -> list[str]:
    return list((await db.execute(select(AccountIdentity.user_key).where(AccountIdentity.account_id == account_id)
                                  .order_by(AccountIdentity.linked_at, AccountIdentity.user_key))).scalars())


async def notify_keys(db: AsyncSession | Rows, keys: Iterable[str]) -> list[str]:
    """Where the notifications meant for ``keys`` go: a linked chat's account's preferred chat (once)."""
    return await filing.notify_keys(rows_of(db), keys)


async def _has_drafts(db: AsyncSession, key: str) -> bool:
    n = (await db.execute(select(func.count()).select_from(DraftRow).where(DraftRow.user_key == key))).scalar_one()
    return bool(n)


# -------------------------------------------------------------------------------------------------
# actions
async def issue_code(db: AsyncSession, user_key: str, now: datetime) -> str:
    """A new one-time code for ``user_key`` (its older codes stop working)."""
    await db.execute(delete(AccountLinkCode).where(AccountLinkCode.user_key == user_key))
    await db.execute(delete(AccountLinkCode).where(AccountLinkCode.expires_at < _utc(now)))
    code = new_code()
    db.add(AccountLinkCode(code_hash=_hash(code), user_key=user_key, expires_at=_utc(now) + CODE_VALID,
                           created_at=_utc(now)))
    await db.flush()
    return code


async def _wrong_link_guess(db: AsyncSession, user_key: str, now: datetime) -> None:
    """Record a wrong code (the chat, never the code typed); the guess that reaches the hourly limit of all chats
    together alerts the focal points (the people who administer the bot for the commune or province)."""
    db.add(AuditEntry(at=now, actor_key=user_key, action=LINK_MISMATCH))
    await db.flush()
    if await AuditRepo(db).count(LINK_MISMATCH, since=now - timedelta(hours=1)) != LINK_GUESSES_PER_HOUR:
        return
    log.warning("/lienket: %d wrong codes in an hour across chats; linking is stopped for the hour",
                LINK_GUESSES_PER_HOUR)
    _ = translator("vi")
    text = _("⚠️ Có {n} lần nhập sai mã liên kết tài khoản trong một giờ, từ nhiều cuộc trò chuyện: có thể có người "
             "dò mã. Trợ lý đã tạm ngừng nhận mã liên kết trong một giờ.", n=LINK_GUESSES_PER_HOUR)
    outbox = OutboxRepo(db)  # (bot.cases builds on this module: the rows are written here, as it writes them)
    for o in await OfficerRepo(db).focal_points():
        if o.user_key:
            await outbox.enqueue(chat_key=o.user_key, kind="officer_link_alert", payload={"text": text}, now=now,
                                 dedupe_key=f"link-alert:{now.strftime('%Y-%m-%dT%H')}:{o.id}")


class LinkRefused(Exception):
    """``guess`` is True when the code matched no live code (wrong or expired): that counts as a failed
    attempt; a refusal of a real code (the chat's own, already linked) does not."""

    def __init__(self, message: str, *, guess: bool = False, **params: Any):
        super().__init__(message)
        self.message = message
        self.guess = guess
        self.params = params


async def redeem(db: AsyncSession, user_key: str, code: str, now: datetime) -> Account:
    """Link ``user_key`` to the chat that asked for ``code``. Raises :class:`LinkRefused`."""
    row = (await db.execute(select(AccountLinkCode).where(AccountLinkCode.code_hash == _hash(normalise(code)))
                            .with_for_update())).scalar_one_or_none()
    if row is None or row.expires_at <= _utc(now):
        raise LinkRefused(N_("Mã liên kết không đúng hoặc đã hết hạn (mã chỉ dùng được trong 15 phút). Gõ "
                             "“/lienket” ở tài khoản kia để lấy mã mới."), guess=True)
    issuer = row.user_key
    if issuer == user_key:
        raise LinkRefused(N_("Mã này được tạo trong chính cuộc trò chuyện này. Hãy gõ “/lienket {code}” trong "
                             "cuộc trò chuyện với Trợ lý trên ứng dụng kia (Zalo hoặc Telegram)."),
                          code=normalise(code))
    await db.delete(row)  # one-time, even if the link is refused below
    mine = await account_of(db, issuer)
    theirs = await account_of(db, user_key)
    if mine is not None and theirs is not None and mine.id == theirs.id:
        raise LinkRefused(N_("Hai tài khoản này đã được liên kết với nhau từ trước."))
    if mine is None:
        mine = Account(primary_key=await conversation_key(db, issuer), notify_key=issuer, created_at=_utc(now))
        db.add(mine)
        await db.flush()
        db.add(AccountIdentity(user_key=issuer, account_id=mine.id, linked_at=_utc(now)))
    other_primary = theirs.primary_key if theirs is not None else user_key
    if not await _has_drafts(db, mine.primary_key) and await _has_drafts(db, other_primary):
        mine.primary_key = other_primary  # keep what is being filled in
    if theirs is not None:  # merge: every chat of the other account joins this one
        for key in await identities(db, theirs.id):
            ident = await db.get(AccountIdentity, key)
            assert ident is not None  # identities() just listed it
            ident.account_id = mine.id
        await db.flush()
        await db.delete(theirs)
    else:
        db.add(AccountIdentity(user_key=user_key, account_id=mine.id, linked_at=_utc(now)))
    await db.flush()
    return mine


async def set_notify(db: AsyncSession, user_key: str, target: str) -> tuple[Account | None, str | None]:
    """Send the account's notifications to the linked chat of channel ``target`` (or this chat for "đây").
    Returns (account, chosen chat key or None if ``target`` names no linked chat)."""
    acct = await account_of(db, user_key)
    if acct is None:
        return None, None
    keys = await identities(db, acct.id)
    t = fold(target)
    if t in HERE_WORDS:
        chosen: str | None = user_key
    else:
        chosen = next((k for k in keys if k == user_key and _channel(k) == t), None) or \
            next((k for k in keys if _channel(k) == t or fold(k) == t), None)
    if chosen is not None:
        acct.notify_key = chosen
        await db.flush()
    return acct, chosen


# -------------------------------------------------------------------------------------------------
# the chat commands (a handler of the turn pipeline, before the citizen's)
def _command(text: str, commands: tuple[str, ...]) -> str | None:
    """The argument after one of ``commands`` ("" if none), or None if ``text`` is not that command."""
    folded = fold(text)
    for c in commands:
        if folded == c or folded.startswith(c + " "):
            return folded[len(c):].strip()
    return None


def register(pipeline: Pipeline) -> None:
    """``/lienket`` and ``/thongbao`` as a handler; linked chats resolve to their account's conversation."""
    pipeline.add(accounts_handler, name="accounts", order=ACCOUNTS)
    pipeline.resolve_key(conversation_key)


async def accounts_handler(turn: Turn) -> list[Reply] | Pass:
    """The pipeline handler around :func:`account_turn`."""
    msg = turn.message
    text = (msg.text or "").strip()
    if not text.startswith("/") or msg.file is not None or msg.files or (
            _command(text, LINK_COMMANDS) is None and _command(text, NOTIFY_COMMANDS) is None):
        return PASS  # (before the database: most messages are no account command)
    replies = await account_turn(turn.db, turn.user_key, turn.message, turn.now, turn.runtime)
    return PASS if replies is None else replies


async def account_turn(db: AsyncSession, user_key: str, msg: Incoming, now: datetime,
                       runtime: Services) -> list[Reply] | None:
    """``/lienket``, ``/lienket CODE`` and ``/thongbao …`` for any chat; None for anything else. The reply
    ends with the question the (resolved) conversation is at, unchanged."""
    text = (msg.text or "").strip()
    if not text.startswith("/") or msg.file is not None or msg.files:
        return None
    link_arg = _command(text, LINK_COMMANDS)
    notify_arg = _command(text, NOTIFY_COMMANDS) if link_arg is None else None
    if link_arg is None and notify_arg is None:
        return None
    key = await conversation_key(db, user_key)
    repo = ConversationRepo(db)
    conv, drafts = await repo.load(key)  # locked (PostgreSQL): the failure count below is read-modify-write
    session = runtime.session_from_rows(key, conv, drafts)
    _ = translator(session.lang or "vi")
    out: list[Reply] = []
    welcome_back = False
    audit = AuditRepo(db)
    if link_arg and await audit.count(LINK_MISMATCH, since=now - timedelta(hours=1)) >= LINK_GUESSES_PER_HOUR:
        # many chats guessing at once (a chat alone stops at MAX_LINK_FAILURES): no code is looked up this hour
        out.append(Message(_("Trợ lý tạm ngừng nhận mã liên kết trong ít phút để bảo vệ tài khoản của mọi người. "
                             "Vui lòng thử lại sau một giờ."), error=True))
    elif link_arg and runtime.engine.failures(session, "link") >= MAX_LINK_FAILURES:
        # refused before the code is even looked up, so guessing stays bounded whatever is typed
        out.append(Message(_("Bạn đã nhập sai mã liên kết quá nhiều lần hôm nay. Để bảo vệ tài khoản, Trợ lý tạm "
                             "ngừng nhận mã liên kết ở cuộc trò chuyện này đến hết hôm nay. Vui lòng thử lại vào "
                             "ngày mai (gõ “/lienket” ở tài khoản kia để lấy mã mới)."), error=True))
    elif link_arg == "":
        code = await issue_code(db, user_key, now)
        out.append(Message(_("Mã liên kết của bạn: {code}\nTrong 15 phút, hãy gõ “/lienket {code}” trong cuộc trò "
                             "chuyện với Trợ lý Dịch vụ công trên ứng dụng kia (Zalo hoặc Telegram). Sau khi liên "
                             "kết, hồ sơ đang khai được dùng chung và bạn chọn được nơi nhận thông báo. Không đưa "
                             "mã này cho người khác.", code=code)))
    elif link_arg is not None:
        try:
            linked = await redeem(db, user_key, link_arg, now)
        except LinkRefused as exc:
            out.append(Message(_(exc.message, **exc.params), error=True))
            if exc.guess:  # counted per day, as /theodoi counts wrong PINs (dialogs/engine/results.py)
                session.throttle = dict(session.throttle or {}, link=[
                    runtime.engine.today().isoformat(), runtime.engine.failures(session, "link") + 1])
                await repo.save(key, conv, session.conversation_data(), session.lang, [], [])
                await _wrong_link_guess(db, user_key, now)
        else:
            chats = ", ".join(_label(k, _) for k in await identities(db, linked.id))
            out.append(Message(_("Đã liên kết tài khoản ({chats}). Hồ sơ đang khai được dùng chung: bạn tiếp tục "
                                 "ở ứng dụng nào cũng được.\nThông báo về hồ sơ sẽ gửi về {target}. Gõ “/thongbao "
                                 "đây” để nhận thông báo ở cuộc trò chuyện này.", chats=chats,
                                 target=_label(linked.notify_key, _))))
            key = linked.primary_key
            welcome_back = True
    else:
        acct, chosen = await set_notify(db, user_key, notify_arg) if notify_arg else (await account_of(db, user_key),
                                                                                      None)
        if acct is None:
            out.append(Message(_("Tài khoản này chưa liên kết với tài khoản nào khác, nên thông báo luôn gửi về "
                                 "đây. Gõ “/lienket” để lấy mã liên kết với Zalo hoặc Telegram."), error=bool(
                                     notify_arg)))
        elif chosen is not None:
            out.append(Message(_("Từ nay thông báo về hồ sơ sẽ gửi về {target}.", target=_label(chosen, _))))
        else:
            names = [_option(k) for k in await identities(db, acct.id)]
            current = _label(acct.notify_key, _)
            out.append(Message(_("Thông báo đang gửi về {target}. Để đổi, gõ {options}.", target=current,
                                 options=_(" hoặc ").join(f"“/thongbao {n}”" for n in dict.fromkeys(names))),
                               error=bool(notify_arg)))
    if key != session.user:  # linked just now: the account's conversation
        conv, drafts = await repo.load(key, lock=False)
        session = runtime.session_from_rows(key, conv, drafts)
    if welcome_back and session.draft is not None and session.state != "menu":
        out += runtime.engine.start(session).replies
    else:
        out.append(runtime.engine.safe_prompt(session))
    return out
