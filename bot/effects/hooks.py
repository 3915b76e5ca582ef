"""The effects in the turn pipeline (bot/pipeline.py), registered by :func:`register`:

* :func:`plugin_turn` (a plug-in handler) — a registering chat's answer to a change waiting for its
  confirmation (``/xacnhan CODE``, ``/tuchoi CODE`` or the buttons); a typed number picking one of the
  banks offered after an ambiguous bank name (the bank kind's logic, dialogs/kinds/bank.py);
* :func:`after_step` — the procedure's ``checks`` as soon as their field is answered (and again at
  submission): a check that fails drops that answer and says why, offering the procedure that
  applies; an account number asked again when its bank changes; buttons for an ambiguous bank;
* each check effect also as a named database check (``pipeline.check``), answering the engine's
  ``RunCheck(name, args)`` with a ``CheckResult``;
* :func:`on_submitted` — the procedure's ``submit`` effects, in the submission's transaction;
* :func:`officer_step` and :func:`dossier_extra` — identity checks, reported changes to confirm and
  exports in an officer's chat.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.catalog import Catalog
from dialogs.kinds import bank as bank_kind
from dialogs.messages import Incoming, Message, Reply
from dialogs.protocol import CheckResult, Outcome, RunCheck, Submit
from storage.models import Dossier

from .. import verification
from ..officer_chat.router import officer_chat_of
from ..officer_chat.views import show_queue
from ..pipeline import PASS, PLUGINS, Pass, Pipeline, Turn
from . import register_confirm_change, register_export
from .base import REGISTRY, EffectContext, Refusal, holds


def register(pipeline: Pipeline) -> None:
    """The plug-in handler, the hooks of the citizen's step and submission, the named checks, and the
    officer chat's step and dossier extra."""
    pipeline.add(plugin_turn, name="effects", order=PLUGINS)
    pipeline.after_step(lambda turn, session, outcome: after_step(lambda: turn.cases_db, turn.runtime, session,
                                                                    turn.message, outcome))
    pipeline.on_submitted(_submitted)
    for name, module in REGISTRY.items():
        if module.STAGE == "check":
            pipeline.check(name)(_named_check(name))
    chat = officer_chat_of(pipeline)
    chat.add_step(officer_step)
    chat.add_dossier_extra(dossier_extra)


def _named_check(name: str) -> Any:
    async def run(turn: Turn, session: Any, req: RunCheck) -> CheckResult:
        rt = turn.runtime
        draft = session.draft
        ctx = EffectContext(db=turn.cases_db, catalog=rt.catalog, form=rt.catalog.form(session.procedure),
                            answers=dict(draft.answers) if draft is not None else {}, now=turn.now,
                            lang=session.lang, user=session.user)
        refusal = await REGISTRY[name].execute(ctx, req.args)
        if refusal is None:
            return CheckResult(name, True)
        return CheckResult(name, False, refusal.text, {"drop": refusal.drop, "suggest": refusal.suggest})
    return run


async def plugin_turn(turn: Turn) -> Pass:
    """Answer the citizen's step before the engine when :func:`before_step` does; always passes the turn on."""
    outcome = await before_step(lambda: turn.cases_db, turn.runtime, await turn.load_session(), turn.message)
    if outcome is not None:
        turn.outcome = outcome
    return PASS


DbOf = Callable[[], AsyncSession]
"""The turn's database, asked for only when needed (a lean turn has none: bot/pipeline.py)."""


async def before_step(db_of: DbOf, rt: Any, session: Any, msg: Incoming | None) -> Outcome | None:
    if msg is None:
        return None
    reply = register_confirm_change.parse_reply(msg)
    if reply is not None:
        ok, text = await register_confirm_change.decide(db_of(), rt.catalog, session.user, reply[1], reply[0], rt.now(),
                                                        session.lang)
        return Outcome(replies=[Message(text, error=not ok), rt.engine.safe_prompt(session)])
    picked = bank_kind.picked_choice(session, msg)
    if picked is not None:
        return rt.engine.handle(session, picked)
    return None


async def after_step(db_of: DbOf, rt: Any, session: Any, msg: Incoming | None, outcome: Outcome) -> Outcome:
    draft = session.draft if session.supplement is None else None
    proc = rt.catalog.procedures.get(session.procedure) if draft is not None and session.procedure else None
    if proc is not None and proc.effects.checks:
        refusal = await _run_checks(db_of, rt, session, proc, outcome)
        if refusal is not None:
            return _stop(rt, session, outcome, refusal)
    if proc is not None and draft is not None and outcome.accepted and draft.history:
        outcome = bank_kind.recheck_accounts(session, rt.catalog.form(session.procedure), outcome,
                                             rt.engine.safe_prompt)
    return bank_kind.offer_choices(session, msg, outcome)


async def _run_checks(db_of: DbOf, rt: Any, session: Any, proc: Any, outcome: Outcome) -> Refusal | None:
    draft = session.draft
    assert draft is not None
    last = draft.history[-1] if outcome.accepted and draft.history else None
    submitting = outcome.request(Submit) is not None
    due = [call for call in proc.effects.checks
           if not any(draft.answers.get(p) in (None, "") for p in call.after)
           and (last in call.after or submitting)]
    if not due:
        return None  # (no database needed)
    ctx = EffectContext(db=db_of(), catalog=rt.catalog, form=rt.catalog.form(proc.id), answers=draft.answers,
                        now=rt.now(), lang=session.lang, user=session.user)
    for call in due:
        if not holds(ctx, call.when):
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
    if refusal.suggest is None and outcome.request(Submit) is None:
        session.pending = None
        return Outcome(replies=[Message(refusal.text, error=True), rt.engine.safe_prompt(session)], accepted=True)
    current = session.procedure
    rt.engine.handle(session, Incoming(text="menu"))  # the draft is kept (without the answer just refused)
    if not refusal.suggest:
        return Outcome(replies=[Message(refusal.text, error=True), rt.engine.safe_prompt(session)], accepted=True)
    # a short list of its own, numbered 1, 2: the procedure that applies, or this one again (to retype)
    offer = Outcome()
    head: list[Reply] = [Message(refusal.text, error=True)]
    rt.engine.offer_candidates(session, [refusal.suggest] + ([current] if current and current != refusal.suggest
                                                             else []), offer)
    return Outcome(replies=head + offer.replies, accepted=True)


async def _submitted(turn: Turn, dossier: Dossier) -> list[Message]:
    """(The session is opened only for a procedure with submit effects.)"""
    proc = turn.runtime.catalog.procedures.get(dossier.procedure_id)
    if proc is None or not proc.effects.submit:
        return []
    return await on_submitted(turn.cases_db, dossier, turn.now, turn.runtime.catalog)


async def on_submitted(db: AsyncSession, dossier: Dossier, now: datetime, catalog: Catalog) -> list[Message]:
    """The procedure's submit effects whose ``when`` holds, in order; what they tell the citizen. (The filing
    step's ``dossier`` is in no session: the effects get the session's own.)"""
    proc = catalog.procedures.get(dossier.procedure_id)
    if proc is None or not proc.effects.submit:
        return []
    dossier = await db.get(Dossier, dossier.id) or dossier
    ctx = EffectContext(db=db, catalog=catalog, form=catalog.form(proc.id), answers=dict(dossier.answers or {}),
                        now=now, lang=dossier.lang or "vi", user=dossier.submitter_key, dossier=dossier)
    notes: list[Message] = []
    for call in proc.effects.submit:
        if holds(ctx, call.when):
            notes += await REGISTRY[call.effect].execute(ctx, call.args)
    return notes


async def dossier_extra(ctx: Any, dossier: Dossier) -> tuple[list[str], list[tuple[str, str]]]:
    """A reported change waiting for this officer's confirmation: a line and two buttons on the dossier."""
    return await register_confirm_change.officer_extra(ctx.db, ctx.catalog, ctx.officer, dossier, ctx._)


async def officer_step(ctx: Any, value: str | None, text: str) -> bool:
    """Identity checks, reported changes to confirm, and the exports an officer's agency may ask for;
    False if not ours."""
    prefix = register_confirm_change.OFFICER_PREFIX
    if value is not None and value.startswith(prefix) and await register_confirm_change.officer_decide(ctx, value):
        await show_queue(ctx)
        return True
    if await verification.officer_step(ctx, value, text):
        return True
    args = register_export.asked(ctx.catalog, ctx.officer.agency, text) if value is None else None
    if args is None:
        return False
    await register_export.officer_export(ctx, args)
    await show_queue(ctx)
    return True
