"""What ``register.update``, ``register.close`` and ``register.confirm_change`` share: the person's
active row, and a change row recording what was reported, by which chat, for which dossier."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs.messages import Message

from .base import Args, EffectContext, answer_value
from .registers import REGISTERS, Register, key_arg, register_arg

RECORDED = "recorded"


def validate_common(a: Args) -> Register | None:
    reg = register_arg(a)
    key_arg(a)
    a.required("kind")
    a.text("missing_message", ())
    data = a.optional("data", dict) or {}
    for name, path in data.items():
        a.path(path, f"data.{name}")
    return reg


async def find_row(ctx: EffectContext, args: Mapping[str, Any]) -> tuple[Register, Any, list[Message]]:
    """The register, the person's active row (None: told by ``missing_message``)."""
    reg = REGISTERS[args["register"]]
    row = await reg.active_row(ctx.db, str(ctx.value(args["key"]) or ""))
    # the chat checked this before submission; a race (the registration closed meanwhile) ends here
    return reg, row, [] if row is not None else [Message(ctx._(args["missing_message"]))]


def new_change(ctx: EffectContext, reg: Register, row: Any, args: Mapping[str, Any], status: str = RECORDED) -> Any:
    data = {name: answer_value(ctx.answers, path) for name, path in (args.get("data") or {}).items()}
    return reg.change(row, dossier_id=ctx.submitted.id, kind=args["kind"], status=status,
                      reported_by=ctx.submitted.submitter_key, data=data, created_at=ctx.now)
