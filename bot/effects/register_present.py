"""``register.present``: the person given must be in the register (a change to a registration), and
answers listed in ``same`` must match the row (compared without case or diacritics).

    - effect: register.present
      after: [person.id_number]
      args:
        register: NAME
        key: FIELD
        message: TEXT            # not registered; ``suggest`` is offered first
        suggest: PROCEDURE
        same: [{column: COLUMN, path: FIELD, message: TEXT}]   # a mismatch: the key is asked again
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs.form import Form
from dialogs.textnorm import fold

from .base import Args, EffectContext, Refusal
from .registers import REGISTERS, key_arg, register_arg

NAME = "register.present"
STAGE = "check"


def validate(args: Mapping[str, Any], form: Form, catalog: Any = None) -> list[str]:
    a = Args(args, form, NAME, catalog)
    a.allowed("register", "key", "message", "suggest", "same")
    reg = register_arg(a)
    key_arg(a)
    a.text("message", ())
    a.procedure("suggest")
    for i, item in enumerate(a.optional("same", list) or []):
        if not isinstance(item, dict) or set(item) != {"column", "path", "message"}:
            a.problem(f"same[{i}]: needs exactly column, path and message")
            continue
        if reg is not None and item["column"] not in reg.columns:
            a.problem(f"same[{i}]: register {reg.name!r} has no column {item['column']!r}")
        a.path(item["path"], f"same[{i}].path")
    return a.problems


async def execute(ctx: EffectContext, args: Mapping[str, Any]) -> Refusal | None:
    reg = REGISTERS[args["register"]]
    row = await reg.active_row(ctx.db, ctx.value(args["key"]))
    _ = ctx._
    if row is None:
        return Refusal(_(args["message"]), args["key"], args.get("suggest"))
    for item in args.get("same") or []:
        if fold(str(ctx.value(item["path"]) or "")) != fold(str(getattr(row, item["column"]) or "")):
            return Refusal(_(item["message"]), args["key"])
    return None
