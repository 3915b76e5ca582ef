"""``register.add``: at submission, the person joins the register (a new active row, linked to the
dossier and to the chat that filed it).

    - effect: register.add
      args:
        register: NAME
        key: FIELD                      # the person's ID number (looked up by its keyed hash)
        columns: {COLUMN: FIELD, COLUMN: {path: FIELD, default: VALUE, upper: true, max_len: N}}
        message: TEXT                   # optional, told to the citizen; placeholders from params
        params: {NAME: FIELD}
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dialogs.form import Form
from dialogs.messages import Message
from storage.officers_repo import person_key

from .base import Args, EffectContext, answer_value, params_of
from .registers import ACTIVE, REGISTERS, columns_arg, key_arg, register_arg

NAME = "register.add"
STAGE = "submit"
log = logging.getLogger("dvcbot.effects")


def validate(args: Mapping[str, Any], form: Form, catalog: Any = None) -> list[str]:
    a = Args(args, form, NAME, catalog)
    a.allowed("register", "key", "columns", "message", "params")
    reg = register_arg(a)
    key_arg(a)
    columns_arg(a, reg)
    a.text("message", a.params(), required=False)
    return a.problems


async def execute(ctx: EffectContext, args: Mapping[str, Any]) -> list[Message]:
    reg = REGISTERS[args["register"]]
    d = ctx.submitted
    values = {col: reg.coerce(col, answer_value(ctx.answers, spec)) for col, spec in args["columns"].items()}
    row = reg.model(person_key=person_key(str(ctx.value(args["key"]))), commune_code=d.commune_code,
                    dossier_id=d.id, registered_chat=d.submitter_key, status=ACTIVE, created_at=ctx.now,
                    updated_at=ctx.now, **values)
    ctx.db.add(row)
    await ctx.db.flush()
    log.info("register %s: row %s added by dossier %s", reg.name, row.id, d.code)
    return [Message(ctx._(args["message"], **params_of(ctx, args)))] if args.get("message") else []
