"""``register.confirm_change``: a reported change that stops or redirects money (a new account, moving
away, a death, a benefit level) is only a request until it is confirmed: by the chat that registered
the row (a one-time code, only its hash kept; two buttons, or ``/xacnhan CODE`` / ``/tuchoi CODE``), or
by an officer of the dossier's agency and commune (buttons on the dossier). Until then the row is
unchanged (an export shows the change as reported, unconfirmed). The dossier's history says who
reported, from which chat, and who confirmed or refused; the reporting chat is told the outcome.

    - effect: register.confirm_change
      when: EXPRESSION
      args:
        register: NAME
        key: FIELD
        kind: CHANGE_KIND
        confirm_by: [chat, officer]    # who may confirm (default: chat)
        reporter_confirms: true        # optional: the registering chat's own report takes effect at once
        columns: {COLUMN: FIELD | {path, default, upper, max_len}}   # optional; the change table has new_COLUMN
        close: STATUS                  # optional: confirmed, the row is closed with this status
        data: {NAME: FIELD}            # kept with the change record (dates)
        stamp: COLUMN                  # optional: set to the time of confirmation
        name_column: COLUMN            # optional: {name} in the request and the notice
        days: N                        # how long the chat's code is valid
        show: {NAME: COLUMN}           # {old_NAME} / {new_NAME} (and {NAME} in the messages to the reporter)
        request: TEXT                  # with chat: to the registering chat: {name} {code} {pin} {days} {old_*} {new_*}
        accept_label / refuse_label: TEXT
        notice: TEXT                   # optional, without chat: the registering chat is told: {name} {code}
        pending_message: TEXT          # to the reporter while it waits: {days} and the show names (new values)
        message: TEXT                  # to the reporter when it took effect at once (reporter_confirms)
        missing_message / confirmed_message / refused_message / expired_message / closed_message /
        done_message: TEXT             # confirmed_message may use the show names (the new values)
        confirmed_event / refused_event: TEXT   # with chat: the dossier's history, and the reporter's notice
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.codes import ALPHABET
from dialogs.form import Form
from dialogs.i18n import N_, translator
from dialogs.messages import Incoming, Message
from dialogs.textnorm import fold
from storage.models import Dossier, DossierEvent, Officer
from storage.officers_repo import LegRepo, secret_hash

from ..cases.notify import enqueue as notify
from .base import Args, EffectContext, answer_value
from .changes import find_row, new_change, validate_common
from .registers import ACTIVE, REGISTERS, columns_arg

NAME = "register.confirm_change"
STAGE = "submit"
CODE_LEN = 6
AWAITING = "awaiting_confirmation"
CONFIRM_WORDS = ("/xacnhan", "xacnhan", "xac nhan", "/confirm")
REFUSE_WORDS = ("/tuchoi", "tuchoi", "tu choi", "/refuse")
CHOICE_PREFIX = "alw:"  # buttons of the request: alw:ok:CODE / alw:no:CODE
WRONG_CODE = N_("Mã xác nhận không đúng. Vui lòng kiểm tra lại tin nhắn yêu cầu xác nhận.")
_TEXTS = ("request", "accept_label", "refuse_label", "notice", "pending_message", "message", "missing_message",
          "confirmed_message", "refused_message", "expired_message", "closed_message", "done_message",
          "confirmed_event", "refused_event")
CHAT, OFFICER = "chat", "officer"
OFFICER_PREFIX = "chg:"  # the officer's buttons on the dossier: chg:ok:ID / chg:no:ID
OFFICER_WAITING = N_("Thay đổi đã báo, chưa xác nhận: chỉ có hiệu lực khi được xác nhận. Kiểm tra giấy tờ kèm theo "
                     "rồi chọn “Xác nhận thay đổi đã báo” hoặc “Không xác nhận thay đổi”.")
OFFICER_CONFIRM = N_("Xác nhận thay đổi đã báo")
OFFICER_REFUSE = N_("Không xác nhận thay đổi")
OFFICER_CONFIRMED = N_("Cán bộ đã xác nhận thay đổi được báo; thay đổi có hiệu lực.")
OFFICER_REFUSED = N_("Cán bộ không xác nhận thay đổi được báo; thay đổi không có hiệu lực.")
REPORTER_CONFIRMED = N_("Kênh chat đã đăng ký báo thay đổi này; thay đổi có hiệu lực ngay.")
log = logging.getLogger("dvcbot.effects")


def validate(args: Mapping[str, Any], form: Form, catalog: Any = None) -> list[str]:
    a = Args(args, form, NAME, catalog)
    a.allowed("register", "key", "kind", "columns", "data", "stamp", "days", "show", "name_column", "close",
              "confirm_by", "reporter_confirms", *_TEXTS)
    reg = validate_common(a)
    if "columns" in args:
        columns_arg(a, reg)
    if "columns" not in args and "close" not in args:
        a.problem("needs columns to change or a status to close with (close)")
    if a.optional("close") == ACTIVE:
        a.problem("close: closing a row cannot leave it active")
    by = a.optional("confirm_by", list) or [CHAT]
    for who in by:
        if who not in (CHAT, OFFICER):
            a.problem(f"confirm_by: unknown {who!r} (known: chat, officer)")
    reporter_confirms = a.optional("reporter_confirms", bool)
    if reporter_confirms and CHAT not in by:
        a.problem("reporter_confirms: only when the chat may confirm (confirm_by: [chat, ...])")
    for key in ("stamp", "name_column"):
        column = a.optional(key)
        if column is not None and reg is not None and column not in reg.columns:
            a.problem(f"{key}: register {reg.name!r} has no column {column!r}")
    days = a.required("days", int) if CHAT in by else a.optional("days", int)
    if isinstance(days, int) and days < 1:
        a.problem("days: must be at least 1")
    show = a.optional("show", dict) or {}
    cols = a.args.get("columns") or {}
    for name, column in show.items():
        if column not in cols:
            a.problem(f"show.{name}: {column!r} is not one of the changed columns")
    names = list(show)
    a.text("pending_message", ["days", *names])
    a.text("message", names, required=bool(reporter_confirms))
    a.text("notice", ["name", "code"], required=False)
    if CHAT in by:
        a.text("request", ["name", "code", "pin", "days"] + [f"old_{n}" for n in names] + [f"new_{n}" for n in names])
        a.text("confirmed_message", names)
        for key in ("accept_label", "refuse_label", "refused_message", "expired_message", "closed_message",
                    "done_message", "confirmed_event", "refused_event"):
            a.text(key, ())
    return a.problems


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _i in range(CODE_LEN))


def _set_new(reg: Any, ch: Any, col: str, value: Any) -> None:
    """A change's new value: in its ``new_COLUMN`` column, else in its data (not for personal columns:
    those registers have a ``new_`` column)."""
    if f"new_{col}" in reg.change_columns:
        setattr(ch, f"new_{col}", value)
    else:
        ch.data = {**(ch.data or {}), "new": {**(ch.data or {}).get("new", {}), col: value}}


def _new(reg: Any, ch: Any, col: str) -> Any:
    if f"new_{col}" in reg.change_columns:
        return getattr(ch, f"new_{col}")
    return ((ch.data or {}).get("new") or {}).get(col)


def _by(args: Mapping[str, Any]) -> list[str]:
    return list(args.get("confirm_by") or [CHAT])


async def execute(ctx: EffectContext, args: Mapping[str, Any]) -> list[Message]:
    reg, row, missing = await find_row(ctx, args)
    if row is None:
        return missing
    _ = ctx._
    d = ctx.submitted
    ch = new_change(ctx, reg, row, args, status=AWAITING)
    for col, spec in (args.get("columns") or {}).items():
        _set_new(reg, ch, col, reg.coerce(col, answer_value(ctx.answers, spec)))
    show = args.get("show") or {}
    new = {n: reg.brief(c, _new(reg, ch, c)) for n, c in show.items()}
    name = getattr(row, args["name_column"]) if args.get("name_column") else ""
    if args.get("reporter_confirms") and d.submitter_key == row.registered_chat:
        ctx.db.add(ch)
        await ctx.db.flush()
        await _apply(ctx.db, reg, ch, row, args, True, actor=d.submitter_key, role=lc.CITIZEN, via=CHAT,
                     reason=REPORTER_CONFIRMED, now=ctx.now, dossier=d, tell_reporter=False)
        return [Message(_(args["message"], **new))]
    code = None
    if CHAT in _by(args):
        code = new_code()
        ch.confirm_chat = row.registered_chat
        ch.confirm_code_hash = secret_hash(code)
        ch.expires_at = ctx.now + timedelta(days=int(args["days"]))
    ctx.db.add(ch)
    await ctx.db.flush()
    if code is not None:
        old = {f"old_{n}": reg.brief(c, getattr(row, c)) for n, c in show.items()}
        params = {"name": name, "code": d.code, "pin": code, "days": args["days"], **old}
        params.update(("new_" + n, v) for n, v in new.items())
        await notify(ctx.db, row.registered_chat, "allowance_confirm", f"alw:{ch.id}:{row.registered_chat}",
                     _(args["request"], **params), ctx.now, dossier_id=d.id,
                     choices=[(f"{CHOICE_PREFIX}ok:{code}", _(args["accept_label"])),
                              (f"{CHOICE_PREFIX}no:{code}", _(args["refuse_label"]))])
    elif args.get("notice") and row.registered_chat != d.submitter_key:  # the beneficiary's chat is told
        await notify(ctx.db, row.registered_chat, "allowance_notice", f"alwn:{ch.id}:{row.registered_chat}",
                     _(args["notice"], name=name, code=d.code), ctx.now, dossier_id=d.id)
    log.info("register %s: change %s (%s) awaits confirmation, dossier=%s", reg.name, ch.id, ch.kind, d.code)
    return [Message(_(args["pending_message"], days=args.get("days", ""), **new))]


async def _apply(db: AsyncSession, reg: Any, ch: Any, row: Any, args: Mapping[str, Any], accept: bool, *,
                 actor: str, role: str, via: str, reason: str, now: datetime, dossier: Dossier | None,
                 unit: str | None = None, tell_reporter: bool = True) -> None:
    """Confirm (apply to the row) or refuse a waiting change; the dossier's history says who and how."""
    ch.decided_at = now
    if accept:
        ch.status = "confirmed"
        for col in args.get("columns") or {}:
            value = _new(reg, ch, col)
            setattr(row, col, value if value not in (None, "") else getattr(row, col))
        if args.get("stamp"):
            setattr(row, args["stamp"], now)
        if args.get("close"):
            row.status, row.closed_at = args["close"], now
        row.updated_at = now
    else:
        ch.status = "refused"
    ch.data = {**(ch.data or {}), "decided_by": actor, "decided_via": via}
    if dossier is not None:
        db.add(DossierEvent(dossier_id=dossier.id, at=now, from_status=dossier.status, to_status=dossier.status,
                            actor=actor, role=role, unit=unit, reason=translator("vi")(reason), action=None,
                            data={"allowance_change": ch.status, "change_id": ch.id, "reported_by": ch.reported_by,
                                  "decided_via": via}))
        if tell_reporter and ch.reported_by != actor:
            _d = translator(dossier.lang)
            await notify(db, ch.reported_by, "allowance_decided", f"alwd:{ch.id}:{ch.reported_by}",
                         _d("Hồ sơ {code}: {result}", code=dossier.code, result=_d(reason)), now,
                         dossier_id=dossier.id)
    await db.flush()
    log.info("register %s: change %s %s via %s", reg.name, ch.id, ch.status, via)


# ---------------------------------------------------------------------------------------------
# the registering chat's answer
# ---------------------------------------------------------------------------------------------
def parse_reply(msg: Incoming) -> tuple[bool, str] | None:
    """(accept, code) for a confirmation button or ``/xacnhan CODE`` / ``/tuchoi CODE``."""
    if msg.choice and msg.choice.startswith(CHOICE_PREFIX):
        verb, _sep, code = msg.choice[len(CHOICE_PREFIX):].partition(":")
        if verb in ("ok", "no") and code:
            return verb == "ok", code
        return None
    text = fold(msg.text or "")
    for words, accept in ((CONFIRM_WORDS, True), (REFUSE_WORDS, False)):
        for w in words:
            if text.startswith(w + " "):
                code = text[len(w):].strip().replace(" ", "").replace("-", "")
                if len(code) == CODE_LEN and code.isalnum():
                    return accept, code
    return None


def _args_for(catalog: Catalog, dossier: Dossier | None, kind: str) -> Mapping[str, Any] | None:
    proc = catalog.procedures.get(dossier.procedure_id) if dossier is not None else None
    for call in proc.effects.submit if proc is not None else ():
        if call.effect == NAME and call.args.get("kind") == kind:
            return call.args
    return None


async def decide(db: AsyncSession, catalog: Catalog, user_key: str, code: str, accept: bool, now: datetime,
                 lang: str = "vi") -> tuple[bool, str]:
    """The registering chat confirms (or refuses) a waiting change. Returns (ok, message)."""
    _ = translator(lang)
    code = code.strip().upper()
    found = None
    for reg in REGISTERS.values():
        ch = (await db.execute(select(reg.changes).where(reg.changes.confirm_code_hash == secret_hash(code))))\
            .scalars().first()
        if ch is not None:
            found = reg, ch
            break
    if found is None or found[1].confirm_chat != user_key:  # a wrong code and another chat's code look the same
        return False, _(WRONG_CODE)
    reg, ch = found
    dossier = await db.get(Dossier, ch.dossier_id) if ch.dossier_id else None
    args = _args_for(catalog, dossier, ch.kind)
    if args is None:
        return False, _(WRONG_CODE)
    if ch.status != AWAITING:
        return False, _(args["done_message"])
    if ch.expires_at is not None and ch.expires_at < now:
        ch.status, ch.decided_at = "expired", now
        return False, _(args["expired_message"])
    row = await db.get(reg.model, getattr(ch, reg.change_fk))
    if row is None or row.status != ACTIVE:
        ch.status, ch.decided_at = "expired", now
        return False, _(args["closed_message"])
    await _apply(db, reg, ch, row, args, accept, actor=user_key, role=lc.CITIZEN, via=CHAT,
                 reason=args["confirmed_event"] if accept else args["refused_event"], now=now, dossier=dossier)
    show = args.get("show") or {}
    if accept:
        return True, _(args["confirmed_message"], **{n: reg.brief(c, getattr(row, c)) for n, c in show.items()})
    return True, _(args["refused_message"])


# ---------------------------------------------------------------------------------------------
# an officer's decision, from the dossier in the officer chat
# ---------------------------------------------------------------------------------------------
async def _waiting(db: AsyncSession, catalog: Catalog, officer: Officer, dossier: Dossier) -> list[tuple[Any, Any]]:
    """(register, change) waiting for an officer of this officer's agency and commune on this dossier."""
    legs = await LegRepo(db).of_dossier(dossier.id)
    if not any(leg.agency == officer.agency and leg.commune_code == officer.commune_code for leg in legs):
        return []
    out = []
    for reg in REGISTERS.values():
        for ch in (await db.execute(select(reg.changes).where(reg.changes.dossier_id == dossier.id,
                                                              reg.changes.status == AWAITING))).scalars():
            args = _args_for(catalog, dossier, ch.kind)
            if args is not None and OFFICER in _by(args):
                out.append((reg, ch))
    return out


async def officer_extra(db: AsyncSession, catalog: Catalog, officer: Officer, dossier: Dossier, _: Any
                        ) -> tuple[list[str], list[tuple[str, str]]]:
    """A line and two buttons on a dossier whose reported change waits for this officer."""
    waiting = await _waiting(db, catalog, officer, dossier)
    if not waiting:
        return [], []
    choices: list[tuple[str, str]] = []
    for _reg, ch in waiting:
        choices += [(f"{OFFICER_PREFIX}ok:{ch.id}", _(OFFICER_CONFIRM)),
                    (f"{OFFICER_PREFIX}no:{ch.id}", _(OFFICER_REFUSE))]
    return ["⏳ " + _(OFFICER_WAITING)], choices


async def officer_decide(ctx: Any, value: str) -> bool:
    """``chg:ok:ID`` / ``chg:no:ID`` from an officer in scope; False if the value is not ours."""
    verb, _sep, arg = value[len(OFFICER_PREFIX):].partition(":")
    if verb not in ("ok", "no") or not arg.isdigit():
        return False
    _ = ctx._
    found = None
    for reg in REGISTERS.values():
        ch = await ctx.db.get(reg.changes, int(arg))
        dossier = await ctx.db.get(Dossier, ch.dossier_id) if ch is not None and ch.dossier_id else None
        if dossier is not None and any(c.id == ch.id for _r, c in await _waiting(ctx.db, ctx.catalog, ctx.officer,
                                                                               dossier)):
            found = reg, ch, dossier
            break
    if found is None:
        ctx.say(_("Không tìm thấy thay đổi đang chờ xác nhận này trong phạm vi của bạn."), error=True)
        return True
    reg, ch, dossier = found
    row = await ctx.db.get(reg.model, getattr(ch, reg.change_fk))
    accept = verb == "ok"
    if accept and (row is None or row.status != ACTIVE):
        ch.status, ch.decided_at = "expired", ctx.now
        ctx.say(_("Người hưởng không còn trong danh sách; thay đổi không áp dụng được."), error=True)
        return True
    args = _args_for(ctx.catalog, dossier, ch.kind)
    assert args is not None  # _waiting found them
    o = ctx.officer
    await _apply(ctx.db, reg, ch, row, args, accept, actor=o.user_key or f"officer:{o.id}", role=o.role,
                 via=OFFICER, reason=OFFICER_CONFIRMED if accept else OFFICER_REFUSED, now=ctx.now, dossier=dossier,
                 unit=f"{o.agency}/{o.commune_code}")
    ctx.say("✅ " + _(OFFICER_CONFIRMED if accept else OFFICER_REFUSED), dossier=dossier.code)
    return True
