"""``register.confirm_change``: a change that redirects money (a new account) is only a request until
the chat that registered the row confirms it. At submission a change row waits with the new values
and a one-time code (only its hash is kept); the registering chat gets the request with two buttons,
or answers ``/xacnhan CODE`` / ``/tuchoi CODE``; the reporting chat is told the outcome.

    - effect: register.confirm_change
      when: EXPRESSION
      args:
        register: NAME
        key: FIELD
        kind: CHANGE_KIND
        columns: {COLUMN: FIELD | {path, default, upper, max_len}}   # the change table has new_COLUMN
        stamp: COLUMN                  # optional: set to the time of confirmation
        name_column: COLUMN            # optional: {name} in the request
        days: N                        # how long the code is valid
        show: {NAME: COLUMN}           # {old_NAME} / {new_NAME} (and {NAME} in the messages to the reporter)
        request: TEXT                  # to the registering chat: {name} {code} {pin} {days} {old_*} {new_*}
        accept_label: TEXT
        refuse_label: TEXT
        message: TEXT                  # to the reporter at submission: {days} and the show names (new values)
        missing_message / confirmed_message / refused_message / expired_message / closed_message /
        done_message: TEXT             # confirmed_message may use the show names (the new values)
        confirmed_event / refused_event: TEXT   # the dossier's history, and the reporter's notice
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.codes import ALPHABET
from dialogs.form import Form
from dialogs.i18n import N_, translator
from dialogs.messages import Incoming, Message
from dialogs.textnorm import fold
from storage.models import Dossier, DossierEvent
from storage.officers_repo import secret_hash

from .base import Args, EffectContext, answer_value, notify
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
_TEXTS = ("request", "accept_label", "refuse_label", "message", "missing_message", "confirmed_message",
          "refused_message", "expired_message", "closed_message", "done_message", "confirmed_event", "refused_event")
log = logging.getLogger("dvcbot.effects")


def validate(args: Mapping[str, Any], form: Form, catalog: Any = None) -> list[str]:
    a = Args(args, form, NAME, catalog)
    a.allowed("register", "key", "kind", "columns", "data", "stamp", "days", "show", "name_column", *_TEXTS)
    reg = validate_common(a)
    columns_arg(a, reg, changes=True)
    for key in ("stamp", "name_column"):
        column = a.optional(key)
        if column is not None and reg is not None and column not in reg.columns:
            a.problem(f"{key}: register {reg.name!r} has no column {column!r}")
    days = a.required("days", int)
    if isinstance(days, int) and days < 1:
        a.problem("days: must be at least 1")
    show = a.optional("show", dict) or {}
    cols = a.args.get("columns") or {}
    for name, column in show.items():
        if column not in cols:
            a.problem(f"show.{name}: {column!r} is not one of the changed columns")
    names = list(show)
    a.text("request", ["name", "code", "pin", "days"] + [f"old_{n}" for n in names] + [f"new_{n}" for n in names])
    a.text("message", ["days"] + names)
    a.text("confirmed_message", names)
    for key in ("accept_label", "refuse_label", "refused_message", "expired_message", "closed_message",
                "done_message", "confirmed_event", "refused_event"):
        a.text(key, ())
    return a.problems


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _i in range(CODE_LEN))


async def execute(ctx: EffectContext, args: Mapping[str, Any]) -> list[Message]:
    reg, row, missing = await find_row(ctx, args)
    if row is None:
        return missing
    _ = ctx._
    d = ctx.dossier
    code = new_code()
    ch = new_change(ctx, reg, row, args, status=AWAITING)
    ch.confirm_chat = row.registered_chat
    ch.confirm_code_hash = secret_hash(code)
    ch.expires_at = ctx.now + timedelta(days=int(args["days"]))
    for col, spec in args["columns"].items():
        setattr(ch, f"new_{col}", reg.coerce(col, answer_value(ctx.answers, spec)))
    ctx.db.add(ch)
    await ctx.db.flush()
    show = args.get("show") or {}
    old = {f"old_{n}": reg.brief(c, getattr(row, c)) for n, c in show.items()}
    new = {n: reg.brief(c, getattr(ch, f"new_{c}")) for n, c in show.items()}
    params = {"name": getattr(row, args["name_column"]) if args.get("name_column") else "", "code": d.code,
              "pin": code, "days": args["days"], **old}
    params.update(("new_" + n, v) for n, v in new.items())
    text = _(args["request"], **params)
    await notify(ctx.db, row.registered_chat, "allowance_confirm", f"alw:{ch.id}:{row.registered_chat}", text,
                 ctx.now, dossier_id=d.id, choices=[(f"{CHOICE_PREFIX}ok:{code}", _(args["accept_label"])),
                                                    (f"{CHOICE_PREFIX}no:{code}", _(args["refuse_label"]))])
    log.info("register %s: change %s (%s) awaits confirmation, dossier=%s", reg.name, ch.id, ch.kind, d.code)
    return [Message(_(args["message"], days=args["days"], **new))]


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
    ch.decided_at = now
    show = args.get("show") or {}
    if accept:
        ch.status = "confirmed"
        for col in args["columns"]:
            setattr(row, col, getattr(ch, f"new_{col}") or getattr(row, col))
        if args.get("stamp"):
            setattr(row, args["stamp"], now)
        row.updated_at = now
        text = _(args["confirmed_message"], **{n: reg.brief(c, getattr(row, c)) for n, c in show.items()})
        reason = args["confirmed_event"]
    else:
        ch.status = "refused"
        text = _(args["refused_message"])
        reason = args["refused_event"]
    if dossier is not None:
        db.add(DossierEvent(dossier_id=dossier.id, at=now, from_status=dossier.status, to_status=dossier.status,
                            actor=user_key, role=lc.CITIZEN, reason=translator("vi")(reason), action=None,
                            data={"allowance_change": ch.status, "change_id": ch.id}))
        if ch.reported_by != user_key:
            _d = translator(dossier.lang)
            await notify(db, ch.reported_by, "allowance_decided", f"alwd:{ch.id}:{ch.reported_by}",
                         _d("Hồ sơ {code}: {result}", code=dossier.code, result=_d(reason)), now,
                         dossier_id=dossier.id)
    await db.flush()
    log.info("register %s: change %s %s", reg.name, ch.id, ch.status)
    return True, text
