"""``register.close``: at submission, the person's active row is closed with a status (moved away,
deceased), and the change is recorded.

    - effect: register.close
      when: EXPRESSION
      args:
        register: NAME
        key: FIELD
        kind: CHANGE_KIND
        status: STATUS                 # the row's status from now on (not ``active``)
        data: {NAME: FIELD}
        message: TEXT
        missing_message: TEXT
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dialogs.form import Form
from dialogs.messages import Message

from .base import Args, EffectContext, params_of
from .changes import find_row, new_change, validate_common
from .registers import ACTIVE

NAME = "register.close"
STAGE = "submit"
log = logging.getLogger("dvcbot.effects")


def validate(args: Mapping[str, Any], form: Form, catalog: Any = None) -> list[str]:
    a = Args(args, form, NAME, catalog)
    a.allowed("register", "key", "kind", "status", "data", "message", "params", "missing_message")
    validate_common(a)
    status = a.required("status")
    if status == ACTIVE:
        a.problem("status: closing a row cannot leave it active")
    a.text("message", a.params())
    return a.problems


async def execute(ctx: EffectContext, args: Mapping[str, Any]) -> list[Message]:
    reg, row, missing = await find_row(ctx, args)
    if row is None:
        return missing
    row.status, row.closed_at, row.updated_at = args["status"], ctx.now, ctx.now
    ch = new_change(ctx, reg, row, args)
    ctx.db.add(ch)
    await ctx.db.flush()
    log.info("register %s: change %s (%s) recorded, dossier=%s", reg.name, ch.id, ch.kind, ctx.submitted.code)
    return [Message(ctx._(args["message"], **params_of(ctx, args)))]
