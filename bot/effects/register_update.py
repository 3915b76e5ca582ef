"""``register.update``: at submission, columns of the person's active row take new answers, and the
change is recorded.

    - effect: register.update
      when: EXPRESSION
      args:
        register: NAME
        key: FIELD
        kind: CHANGE_KIND
        columns: {COLUMN: FIELD | {path, default, upper, max_len}}
        data: {NAME: FIELD}            # kept with the change record (dates, notes)
        message: TEXT
        missing_message: TEXT          # the person is no longer in the register
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dialogs.form import Form
from dialogs.messages import Message

from .base import Args, EffectContext, answer_value, params_of
from .changes import find_row, new_change, validate_common
from .registers import columns_arg

NAME = "register.update"
STAGE = "submit"
log = logging.getLogger("dvcbot.effects")


def validate(args: Mapping[str, Any], form: Form, catalog: Any = None) -> list[str]:
    a = Args(args, form, NAME, catalog)
    a.allowed("register", "key", "kind", "columns", "data", "message", "params", "missing_message")
    reg = validate_common(a)
    columns_arg(a, reg)
    a.text("message", a.params())
    return a.problems


async def execute(ctx: EffectContext, args: Mapping[str, Any]) -> list[Message]:
    reg, row, missing = await find_row(ctx, args)
    if row is None:
        return missing
    for col, spec in args["columns"].items():
        setattr(row, col, reg.coerce(col, answer_value(ctx.answers, spec)))
    row.updated_at = ctx.now
    ch = new_change(ctx, reg, row, args)
    ctx.db.add(ch)
    await ctx.db.flush()
    log.info("register %s: change %s (%s) recorded, dossier=%s", reg.name, ch.id, ch.kind, ctx.submitted.code)
    return [Message(ctx._(args["message"], **params_of(ctx, args)))]
