"""The effects in the turn pipeline (bot/pipeline.py), registered by :func:`register`:

* :func:`plugin_turn` (a plug-in handler) — a registering chat's answer to a change waiting for its
  confirmation (``/xacnhan CODE``, ``/tuchoi CODE`` or the buttons); a typed number picking one of the
  banks offered after an ambiguous bank name;
* :func:`after_step` — the procedure's ``checks`` as soon as their field is answered (and again at
  submission): a check that fails drops that answer and says why, offering the procedure that
  applies; an account number asked again when its bank changes; buttons for an ambiguous bank;
* :func:`on_submitted` — the procedure's ``submit`` effects, in the submission's transaction;
* :func:`officer_step` — identity checks, reported changes to confirm and exports in an officer's chat
  (called by the officer chat).
"""
from __future__ import annotations

import contextvars
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import banks
from dialogs.catalog import Catalog
from dialogs.messages import Incoming, Message, Outcome, Reply
from storage.models import Dossier

from .. import verification
from ..pipeline import PASS, PLUGINS, Pass, Pipeline, Turn
from . import register_confirm_change, register_export
from .base import REGISTRY, EffectContext, Refusal, holds

# the catalogue of the runtime serving this turn (the officer chat's dossier buttons are not given one)
_CATALOG: contextvars.ContextVar[Catalog | None] = contextvars.ContextVar("dvcbot_effects_catalog", default=None)


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    return Catalog.load()


def _catalog() -> Catalog:
    return _CATALOG.get() or _default_catalog()


def register(pipeline: Pipeline) -> None:
    """The plug-in handler, and the hooks of the citizen's step and submission."""
    pipeline.add(plugin_turn, name="effects", order=PLUGINS)
    pipeline.after_step(lambda turn, session, outcome: after_step(turn.db, turn.runtime, session, turn.message,
                                                                    outcome))
    pipeline.on_submitted(lambda turn, dossier: on_submitted(turn.db, dossier, turn.now, turn.runtime.catalog))


async def plugin_turn(turn: Turn) -> Pass:
    """Answer the citizen's step before the engine when :func:`before_step` does; always passes the turn on."""
    outcome = await before_step(turn.db, turn.runtime, await turn.load_session(), turn.message)
    if outcome is not None:
        turn.outcome = outcome
    return PASS


async def before_step(db: AsyncSession, rt: Any, session: Any, msg: Incoming | None) -> Outcome | None:
    _CATALOG.set(rt.catalog)
    if msg is None:
        return None
    reply = register_confirm_change.parse_reply(msg)
    if reply is not None:
        ok, text = await register_confirm_change.decide(db, rt.catalog, session.user, reply[1], reply[0], rt.now(),
                                                        session.lang)
        return Outcome(replies=[Message(text, error=not ok), rt.engine._safe_prompt(session)])
    picked = banks.picked_choice(session, msg)
    if picked is not None:
        return rt.engine.handle(session, picked)
    return None


async def after_step(db: AsyncSession, rt: Any, session: Any, msg: Incoming | None, outcome: Outcome) -> Outcome:
    _CATALOG.set(rt.catalog)
    draft = session.draft if session.supplement is None else None
    proc = rt.catalog.procedures.get(session.procedure) if draft is not None and session.procedure else None
    if proc is not None and proc.effects.checks:
        refusal = await _run_checks(db, rt, session, proc, outcome)
        if refusal is not None:
            return _stop(rt, session, outcome, refusal)
    if proc is not None and draft is not None and outcome.accepted and draft.history:
        outcome = banks.recheck_accounts(session, rt.catalog.form(session.procedure), outcome,
                                         rt.engine._safe_prompt)
    return banks.offer_choices(session, msg, outcome)


async def _run_checks(db: AsyncSession, rt: Any, session: Any, proc: Any, outcome: Outcome) -> Refusal | None:
    draft = session.draft
    assert draft is not None
    last = draft.history[-1] if outcome.accepted and draft.history else None
    ctx = EffectContext(db=db, catalog=rt.catalog, form=rt.catalog.form(proc.id), answers=draft.answers,
                        now=rt.now(), lang=session.lang, user=session.user)
    for call in proc.effects.checks:
        if any(draft.answers.get(p) in (None, "") for p in call.after):
            continue
        if (last not in call.after and outcome.submit is None) or not holds(ctx, call.when):
            continue
        refusal = await REGISTRY[call.effect].execute(ctx, call.args)
        if refusal is not None:
            return refusal
    return None


def _stop(rt: Any, session: Any, outcome: Outcome, refusal: Refusal) -> Outcome:
    """Drop the answer refused; ask it again (nothing to suggest) or go to the menu with the procedure
    that applies first."""
    draft = session.draft
    draft.answers.pop(refusal.drop, None)
    draft.history = [p for p in draft.history if p != refusal.drop]
    draft.revision += 1
    session.dirty_drafts.add(draft.procedure)
    if refusal.suggest is None and outcome.submit is None:
        session.pending = None
        return Outcome(replies=[Message(refusal.text, error=True), rt.engine._safe_prompt(session)], accepted=True)
    current = session.procedure
    rt.engine.handle(session, Incoming(text="menu"))  # the draft is kept (without the answer just refused)
    if not refusal.suggest:
        return Outcome(replies=[Message(refusal.text, error=True), rt.engine._safe_prompt(session)], accepted=True)
    # a short list of its own, numbered 1, 2: the procedure that applies, or this one again (to retype)
    offer = Outcome()
    head: list[Reply] = [Message(refusal.text, error=True)]
    rt.engine._offer_candidates(session, [refusal.suggest] + ([current] if current and current != refusal.suggest
                                                              else []), offer)
    return Outcome(replies=head + offer.replies, accepted=True)


async def on_submitted(db: AsyncSession, dossier: Dossier, now: datetime, catalog: Catalog | None = None
                       ) -> list[Message]:
    """The procedure's submit effects whose ``when`` holds, in order; what they tell the citizen."""
    catalog = catalog or _catalog()
    proc = catalog.procedures.get(dossier.procedure_id)
    if proc is None or not proc.effects.submit:
        return []
    ctx = EffectContext(db=db, catalog=catalog, form=catalog.form(proc.id), answers=dict(dossier.answers or {}),
                        now=now, lang=dossier.lang or "vi", user=dossier.submitter_key, dossier=dossier)
    notes: list[Message] = []
    for call in proc.effects.submit:
        if holds(ctx, call.when):
            notes += await REGISTRY[call.effect].execute(ctx, call.args)
    return notes


async def _change_choices(db: AsyncSession, officer: Any, dossier: Dossier) -> list[tuple[str, str]]:
    return await register_confirm_change.officer_choices(db, _catalog(), officer, dossier)


verification.CHOICE_SOURCES.append(_change_choices)


async def officer_step(ctx: Any, value: str | None, text: str) -> bool:
    """Identity checks, reported changes to confirm, and the exports an officer's agency may ask for;
    False if not ours."""
    _CATALOG.set(ctx.catalog)
    prefix = register_confirm_change.OFFICER_PREFIX
    if value is not None and value.startswith(prefix) and await register_confirm_change.officer_decide(ctx, value):
        await _back_to_queue(ctx)
        return True
    if await verification.officer_step(ctx, value, text):
        return True
    args = register_export.asked(ctx.catalog, ctx.officer.agency, text) if value is None else None
    if args is None:
        return False
    await register_export.officer_export(ctx, args)
    await _back_to_queue(ctx)
    return True


async def _back_to_queue(ctx: Any) -> None:
    from ..officers import _show_queue  # the officer chat's queue view; public once the officer chat is split

    await _show_queue(ctx)
