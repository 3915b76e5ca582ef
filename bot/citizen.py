"""The citizen's conversation: the last handler of the turn pipeline, which always answers.

It loads the chat's session, runs the engine (unless a plug-in handler already answered the step,
``turn.outcome``), applies the ``after_step`` hooks, stores new attachment blobs, serves what the engine asked
of the database (submission, ``/hoso``, ratings, withdrawals, ``/theodoi``, supplements) through
bot/cases, and saves the session. The citizen's PDF copy of the form is an after-commit job.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from dialogs.codes import new_dossier_code
from dialogs.engine import Session
from dialogs.forms import has_form, render_pdf
from dialogs.i18n import N_, translator
from dialogs.messages import Ask, FileRef, Message, Outcome, Reply
from storage.repo import DossierRepo

from . import cases
from .pipeline import CITIZEN, Pipeline, Turn

log = logging.getLogger("dvcbot.citizen")


def register(pipeline: Pipeline) -> None:
    """The citizen's conversation as the last handler of the pipeline."""
    pipeline.add(citizen_turn, name="citizen", order=CITIZEN)


async def citizen_turn(turn: Turn) -> list[Reply]:
    """The engine's step on the chat's conversation; always answers."""
    rt, db = turn.runtime, turn.db
    session = await turn.load_session()
    outcome = turn.outcome  # a plug-in may have answered the step already
    if outcome is None:
        outcome = rt.engine.start(session) if turn.start else rt.engine.handle(session, turn.message)
    for after in rt.pipeline.after_steps:
        outcome = await after(turn, session, outcome)
    if outcome.blobs:
        await asyncio.to_thread(rt.store_blobs, outcome.blobs)
    replies = list(outcome.replies)
    if outcome.submit is not None:
        submitted = await _submit(turn, session, outcome)
        replies = replies + submitted.replies
    if outcome.list_dossiers or outcome.rating or outcome.open_supplement or outcome.supplement \
            or outcome.follow or outcome.withdraw:
        replies = await _citizen_requests(turn, session, outcome, replies)
    await rt.save_session(db, turn)
    log.info("chat step user=%s procedure=%s state=%s accepted=%s", _short(turn.user_key),
             session.procedure, session.state, outcome.accepted)
    return replies


async def _citizen_requests(turn: Turn, session: Session, outcome: Outcome, replies: list[Reply]) -> list[Reply]:
    """Serve what the engine asked of the database: /hoso, ratings and supplements."""
    rt, db = turn.runtime, turn.db
    now = turn.now
    head = [r for r in replies if not isinstance(r, Ask)]
    tail = [r for r in replies if isinstance(r, Ask)][-1:]
    if outcome.list_dossiers:
        items = await cases.citizen_dossiers(db, session.user, rt.calendar, now, catalog=rt.catalog)
        head.append(rt.engine.dossier_list(session, items))
    if outcome.rating:
        code, stars = outcome.rating
        if code is None:  # “đánh giá 5”: the latest closed dossier not yet rated
            items = await cases.citizen_dossiers(db, session.user, rt.calendar, now, catalog=rt.catalog)
            closed = [d for d in items if d["closed"]]  # (an already rated one is then said to be rated)
            code = next((d["code"] for d in closed if not d["rated"]), closed[0]["code"] if closed else None)
        try:
            if code is None:
                raise cases.ActionRefused(N_("Bạn chưa có hồ sơ nào đã giải quyết xong để đánh giá."))
            await cases.rate(db, code, session.user, stars, now=now)
            head.append(rt.engine.rating_result(session, True))
        except cases.ActionRefused as exc:
            head.append(rt.engine.rating_result(session, False, exc.text(session.lang)))
    if outcome.withdraw:
        try:
            await cases.withdraw(db, outcome.withdraw, session.user, now,
                                    "Người nộp rút hồ sơ trong cuộc trò chuyện", calendar=rt.calendar,
                                    catalog=rt.catalog)
            head.append(rt.engine.withdraw_result(session, outcome.withdraw, True))
        except cases.ActionRefused as exc:
            head.append(rt.engine.withdraw_result(session, outcome.withdraw, False, exc.text(session.lang)))
    if outcome.follow:
        code, last4 = outcome.follow
        try:
            await cases.follow_dossier(db, session.user, code, last4, catalog=rt.catalog)
            head.append(rt.engine.follow_result(session, code, True))
        except cases.ActionRefused as exc:
            head.append(rt.engine.follow_result(session, code, False, exc.text(session.lang)))
    if outcome.open_supplement:
        requests = await cases.open_supplement_requests(db, session.user)
        wanted = outcome.open_supplement
        req = next((r for r in requests if wanted is True or r["id"] == wanted), None)
        return head + rt.engine.begin_supplement(session, req).replies
    if outcome.supplement is not None:
        sup = outcome.supplement
        try:
            res = await cases.resubmit(db, sup.request_id, sup.answers, session.user, now,
                                          calendar=rt.calendar, catalog=rt.catalog)
        except cases.ActionRefused as exc:
            res = None
            head.append(Message(exc.text(session.lang), error=True))
        done = rt.engine.supplement_done(session, res["code"] if res else sup.code,
                                         res["changed"] if res else [], ok=res is not None)
        return head + done.replies
    return head + tail


async def _submit(turn: Turn, session: Session, outcome: Outcome) -> Outcome:
    rt, db = turn.runtime, turn.db
    req = outcome.submit
    proc = rt.catalog.get(req.procedure)
    form = rt.catalog.form(req.procedure)
    now = turn.now
    legs = form.planned_legs(req.answers, now.date())
    due = max(rt.calendar.due_date(now, leg.days) for leg in legs)  # the whole dossier: its last leg
    attachments, commune = [], None
    for path, value in req.answers.items():
        f = form.field(path)
        if f is None:
            continue
        if f.kind == "attachment" and isinstance(value, list):
            attachments += [dict(v, path=path) for v in value]
        if f.kind == "address" and isinstance(value, dict) and commune is None:
            commune = value.get("commune_code")
    dossier, created = await DossierRepo(db).create(
        code=lambda: new_dossier_code(proc.code_prefix, now.date()),
        idempotency_key=f"{session.user}:{req.procedure}:{req.draft_id}",
        procedure_id=req.procedure, procedure_version=req.procedure_version, agency=proc.agency.key,
        commune_code=commune, submitter_key=session.user, applicant_key=None,
        applicant_name=req.applicant_name, answers=req.answers, lang=req.lang, submitted_at=now,
        due_date=due, attachments=attachments)
    notes: list[Message] = []
    if created:  # the agency legs, their due dates, officer pushes and the citizen's receipt
        await cases.on_submitted(db, dossier, rt.calendar, now, catalog=rt.catalog)
        for hook in rt.pipeline.submitted:  # plug-ins' submission effects, same transaction
            notes += await hook(turn, dossier)
    log.info("dossier %s procedure=%s created=%s", dossier.code, req.procedure, created)
    out = rt.engine.submitted(session, dossier.code, dossier.due_date, created)
    out.replies[1:1] = notes
    if created and has_form(req.procedure):  # rendered once the transaction committed
        job = (req.procedure, req.answers, now, dossier.code, req.lang)

        async def pdf_copy(replies: list[Reply]) -> list[Reply]:
            return await _pdf_copy(rt, replies, *job)
        turn.after_commit(pdf_copy)
    return out


async def _pdf_copy(rt, replies: list[Reply], procedure: str, answers: dict[str, Any], when: datetime,
                    code: str, lang: str) -> list[Reply]:
    """The citizen's copy of the filled official form, kept in the attachment store, placed after the
    submission message. A failure here costs the copy only (officers render the form on demand)."""
    try:
        pdf = await asyncio.to_thread(render_pdf, procedure, answers, submitted_at=when, code=code)
        sha = await asyncio.to_thread(rt.attachments.put, pdf)
    except Exception as exc:  # noqa: BLE001 - never lose the submission reply over the copy
        log.error("form copy for %s failed: %s", code, type(exc).__name__)
        return replies
    _ = translator(lang)
    ref = FileRef(path=str(rt.attachments.path(sha)), name=f"{code}.pdf", mime="application/pdf")
    at = next((i + 1 for i, r in enumerate(replies) if isinstance(r, Message) and r.dossier == code),
              len(replies))
    return replies[:at] + [Message(_("Bản sao tờ khai (PDF) của bạn: {name}", name=ref.name), file=ref)] \
        + replies[at:]


def _short(user_key: str) -> str:
    """Chat ids are not secret, but keep logs terse."""
    return user_key if len(user_key) <= 32 else user_key[:29] + "..."
