"""``register.absent``: the person given must not already be in the register (a second registration).

    - effect: register.absent
      after: [person.id_number]
      args: {register: NAME, key: FIELD, message: TEXT, suggest: PROCEDURE}

``message`` may use ``{state}`` (the status of the earlier registration's dossier) and ``{code}``
(“, ” and its code, shown only to the chat that filed it). ``suggest`` is offered first.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs import lifecycle as lc
from dialogs.form import Form
from dialogs.i18n import N_
from storage.models import Dossier

from .base import Args, EffectContext, Refusal
from .registers import REGISTERS, key_arg, register_arg

NAME = "register.absent"
STAGE = "check"
REGISTERED = N_("đã đăng ký")


def validate(args: Mapping[str, Any], form: Form, catalog: Any = None) -> list[str]:
    a = Args(args, form, NAME, catalog)
    a.allowed("register", "key", "message", "suggest")
    register_arg(a)
    key_arg(a)
    a.text("message", ("state", "code"))
    a.procedure("suggest")
    return a.problems


async def execute(ctx: EffectContext, args: Mapping[str, Any]) -> Refusal | None:
    reg = REGISTERS[args["register"]]
    row = await reg.active_row(ctx.db, ctx.value(args["key"]))
    if row is None:
        return None
    _ = ctx._
    d = await ctx.db.get(Dossier, row.dossier_id) if row.dossier_id else None
    state = _(lc.STATUS_LABELS.get(d.status, d.status)) if d else _(REGISTERED)
    # the code only to the chat that filed it: an ID number alone does not disclose it
    code = ", " + d.code if d is not None and row.registered_chat == ctx.user else ""
    return Refusal(_(args["message"], state=state, code=code), args["key"], args.get("suggest"))
