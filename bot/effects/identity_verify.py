"""``identity.verify``: at submission, a person of the dossier is checked against the national
population database, through the :class:`bot.verification.IdentityVerifier` in use (the embedded one
opens a manual task for the officers of the named leg). The outcome is written on the register row the
dossier created, if any.

    - effect: identity.verify
      args:
        leg: LEG_ID                    # the procedure's leg whose officers check (its agency)
        person: {full_name: FIELD, birth_date: FIELD, id_number: FIELD, residence: FIELD}
        register: NAME                 # optional: the register row to mark with the outcome
        message: TEXT                  # optional, told to the citizen; placeholders from params
        params: {NAME: FIELD}
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.catalog import Catalog
from dialogs.form import Form
from dialogs.messages import Message
from storage.allowance_models import IdentityCheck
from storage.models import Dossier
from storage.officers_repo import LegRepo

from .. import verification
from .base import Args, EffectContext, params_of
from .registers import REGISTERS, register_arg

NAME = "identity.verify"
STAGE = "submit"
PERSON_KEYS = ("full_name", "birth_date", "id_number", "residence")
log = logging.getLogger("dvcbot.effects")


def validate(args: Mapping[str, Any], form: Form, catalog: Any = None) -> list[str]:
    a = Args(args, form, NAME, catalog)
    a.allowed("leg", "person", "register", "message", "params")
    leg = a.required("leg")
    if leg is not None and leg not in {x.id for x in form.proc.legs}:
        a.problem(f"leg: the procedure has no leg {leg!r}")
    person = a.required("person", dict) or {}
    for k in PERSON_KEYS:
        if k not in person and "person" in args:
            a.problem(f"person: missing {k!r}")
    for k, path in person.items():
        if k not in PERSON_KEYS:
            a.problem(f"person: unknown key {k!r}")
        else:
            a.path(path, f"person.{k}")
    if "register" in args:
        register_arg(a)
    a.text("message", a.params(), required=False)
    return a.problems


async def execute(ctx: EffectContext, args: Mapping[str, Any]) -> list[Message]:
    d = ctx.submitted
    agency = next(x.agency.key for x in ctx.form.proc.legs if x.id == args["leg"])
    leg = next((x for x in await LegRepo(ctx.db).of_dossier(d.id) if x.agency == agency), None)
    person = verification.person_from_answers(ctx.answers, args["person"])
    if person is None:
        return []
    result = await verification.DEFAULT_VERIFIER.verify(ctx.db, person, dossier=d, leg=leg, now=ctx.now)
    log.info("identity check for dossier=%s: %s", d.code, result.status)
    return [Message(ctx._(args["message"], **params_of(ctx, args)))] if args.get("message") else []


def _args_of(catalog: Catalog, dossier: Dossier) -> Mapping[str, Any] | None:
    proc = catalog.procedures.get(dossier.procedure_id)
    return next((c.args for c in proc.effects.submit if c.effect == NAME), None) if proc is not None else None


def person_of(catalog: Catalog, dossier: Dossier) -> verification.Person | None:
    """The person a dossier's identity check is about (for the officer's card)."""
    args = _args_of(catalog, dossier)
    return verification.person_from_answers(dossier.answers or {}, args["person"]) if args else None


async def mark_register(db: AsyncSession, dossier: Dossier, check: IdentityCheck, now: datetime) -> None:
    """A recorded outcome on the register row the dossier created."""
    for reg in REGISTERS.values():
        row = await reg.row_of_dossier(db, dossier.id)
        if row is not None and "identity_status" in reg.columns:
            row.identity_status, row.identity_note, row.updated_at = check.status, check.note, now


verification.LISTENERS.append(mark_register)
verification.PERSON_SOURCES.append(person_of)
