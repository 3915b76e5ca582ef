"""The citizen's conversation: the last handler of the turn pipeline, which always answers.

It loads the chat's session, runs the engine (unless a plug-in handler already answered the step,
``turn.outcome``), applies the ``after_step`` hooks, stores new attachment blobs, serves each typed request
the engine returned (dialogs/protocol.py: submission, ``/hoso``, ratings, withdrawals, ``/theodoi``,
supplements, named checks) and resumes the engine once with its typed result, then saves the session.
The citizen's PDF copy of the form is only an outbox row here, written in the filing transaction; the
notifier renders and sends it as a follow-up document (bot/formcopy.py).
"""
from __future__ import annotations

import functools
import logging

from dialogs import lifecycle as lc
from dialogs.codes import new_dossier_code
from dialogs.engine import Session
from dialogs.forms import has_form
from dialogs.i18n import N_
from dialogs.messages import Message, Reply
from dialogs.protocol import (
    AfterCommit,
    CheckResult,
    DossierList,
    Follow,
    Followed,
    FormCopy,
    ListDossiers,
    OpenSupplement,
    Outcome,
    Rate,
    Rated,
    Request,
    Result,
    RunCheck,
    SendSupplement,
    Submit,
    Submitted,
    SupplementOpened,
    SupplementSent,
    Withdraw,
    Withdrawn,
)
from dialogs.qrscan import scan_message
from storage import filing
from storage.models import Dossier

from . import cases, formcopy
from .pipeline import CITIZEN, Pipeline, Turn

log = logging.getLogger("dvcbot.citizen")


def register(pipeline: Pipeline) -> None:
    pipeline.add(citizen_turn, name="citizen", order=CITIZEN)


async def citizen_turn(turn: Turn) -> list[Reply]:
    """The engine's step on the chat's conversation; always answers."""
    rt = turn.runtime
    session = await turn.load_session()
    outcome = turn.outcome  # a plug-in may have answered the step already
    if outcome is None:
        msg = turn.message
        if not turn.start and rt.engine.wants_card_scan(session, msg):
            # an ID card photo: its QR is read in a worker thread (CPU work), then the engine takes the message
            msg = await turn.off_transaction("card-scan", lambda: scan_message(msg))
        outcome = rt.engine.start(session) if turn.start else rt.engine.handle(session, msg)
    for after in rt.pipeline.after_steps:
        outcome = await after(turn, session, outcome)
    if outcome.error is not None:  # the engine caught a fault of ours: said to the citizen, logged for us
        log.error("chat step user=%s procedure=%s state=%s: engine error %s", _short(turn.user_key),
                  session.procedure, session.state, outcome.error)
    replies = await _apply(turn, session, outcome)
    await turn.save_session()
    log.info("chat step user=%s procedure=%s state=%s accepted=%s", _short(turn.user_key),
             session.procedure, session.state, outcome.accepted)
    return replies


async def _apply(turn: Turn, session: Session, outcome: Outcome) -> list[Reply]:
    """Apply what the engine returned: store its files, serve each request and resume the engine once with
    the request's result; queue its after-commit jobs. Returns the turn's replies."""
    rt = turn.runtime
    replies: list[Reply] = []
    pending: list[Request] = []
    filed: dict[str, int] = {}  # dossiers filed in this turn: code → id
    while True:
        if outcome.blobs:
            await turn.off_transaction("blobs:" + ",".join(sorted(outcome.blobs)),
                                       functools.partial(rt.store_blobs, dict(outcome.blobs)))
        replies += outcome.replies
        for job in outcome.after_commit:
            await _queue(turn, job, filed)
        pending += outcome.requests
        if not pending:
            return replies
        result = await serve(turn, session, pending.pop(0), filed)
        outcome = rt.engine.resume(session, result)


async def _queue(turn: Turn, job: AfterCommit, filed: dict[str, int]) -> None:
    """The engine's jobs for after the step: the form copy is rendered and sent from the outbox, so the
    filing step writes rows only."""
    if isinstance(job, FormCopy) and has_form(job.procedure):
        await formcopy.enqueue(turn.cases_rows, turn.user_key, job.code, job.lang, turn.now,
                               dossier_id=filed.get(job.code))


async def serve(turn: Turn, session: Session, req: Request, filed: dict[str, int] | None = None) -> Result:
    """One request of the engine, served with the database, in the turn's transaction; a dossier it files is
    noted in ``filed`` (code → id)."""
    if isinstance(req, Submit):  # (on the driver: no ORM session)
        return await _submit(turn, session, req, filed)
    rt, db = turn.runtime, turn.cases_db
    now = turn.now
    if isinstance(req, ListDossiers):
        return DossierList(tuple(await cases.citizen_dossiers(db, session.user, rt.calendar, now,
                                                                 catalog=rt.catalog)))
    if isinstance(req, Rate):
        code = req.code
        if code is None:  # “đánh giá 5”: the latest closed dossier not yet rated
            items = await cases.citizen_dossiers(db, session.user, rt.calendar, now, catalog=rt.catalog)
            closed = [d for d in items if d["rateable"]]  # (an already rated one is then said to be rated)
            code = next((d["code"] for d in closed if not d["rated"]), closed[0]["code"] if closed else None)
        try:
            if code is None:
                raise cases.ActionRefused(N_("Bạn chưa có hồ sơ nào đã giải quyết xong để đánh giá."))
            await cases.rate(db, code, session.user, req.stars, now=now)
            return Rated(True)
        except cases.ActionRefused as exc:
            return Rated(False, exc.text(session.lang))
    if isinstance(req, Withdraw):
        try:
            await cases.withdraw(db, req.code, session.user, now, "Người nộp rút hồ sơ trong cuộc trò chuyện",
                                    calendar=rt.calendar, catalog=rt.catalog)
            return Withdrawn(req.code, True)
        except cases.ActionRefused as exc:
            return Withdrawn(req.code, False, exc.text(session.lang))
    if isinstance(req, Follow):
        try:
            d = await cases.follow_dossier(db, session.user, req.code, req.last4, catalog=rt.catalog, now=now)
            items = await cases.citizen_dossiers(db, session.user, rt.calendar, now, catalog=rt.catalog)
            status = next((i["status_label"] for i in items if i["code"] == d.code), None)
            return Followed(d.code, True, status=status)
        except cases.ActionRefused as exc:
            return Followed(req.code, False, exc.text(session.lang))
    if isinstance(req, OpenSupplement):
        requests = await cases.open_supplement_requests(db, session.user)
        return SupplementOpened(next((r for r in requests if req.request_id in (None, r["id"])), None))
    if isinstance(req, SendSupplement):
        try:
            res = await cases.resubmit(db, req.request_id, req.answers, session.user, now,
                                          calendar=rt.calendar, catalog=rt.catalog)
        except cases.ActionRefused as exc:
            return SupplementSent(req.code, False, reason=exc.text(session.lang))
        remaining = len(await cases.open_supplement_requests(db, session.user))
        return SupplementSent(res["code"], True, tuple(res["changed"]), remaining=remaining)
    if isinstance(req, RunCheck):
        check = rt.pipeline.checks.get(req.name)
        if check is None:
            log.error("no database check named %s", req.name)
            return CheckResult(req.name, False)
        return await check(turn, session, req)
    raise TypeError(f"unknown request {type(req).__name__}")


async def _submit(turn: Turn, session: Session, req: Submit, filed: dict[str, int] | None = None) -> Submitted:
    rt = turn.runtime
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
    rows = turn.cases_rows
    values = dict(idempotency_key=f"{session.user}:{req.procedure}:{req.draft_id}", procedure_id=req.procedure,
                  procedure_version=req.procedure_version, agency=proc.agency.key, commune_code=commune,
                  applicant_key=None, submitter_key=session.user, applicant_name=req.applicant_name,
                  answers=req.answers, lang=req.lang, status=lc.SUBMITTED, submitted_at=now, due_date=due)
    new = await filing.insert_dossier(rows, values, lambda: new_dossier_code(proc.code_prefix, now.date()),
                                      attachments)
    notes: list[Message] = []
    details = ""
    if new.created:  # the agency legs, their due dates, officer pushes, the receipt to the citizen's other chats
        dossier = Dossier(id=new.id, code=new.code, **values)  # (as written; in no session)
        details = await cases.on_submitted(rows, dossier, rt.calendar, now, catalog=rt.catalog,
                                           replied_chat=turn.user_key, new=True)
        for hook in rt.pipeline.submitted:  # plug-ins' submission effects, same transaction
            notes += await hook(turn, dossier)
    if filed is not None:
        filed[new.code] = new.id
    log.info("dossier %s procedure=%s created=%s", new.code, req.procedure, new.created)
    return Submitted(new.code, new.due_date, new.created, submitted_at=now, notes=tuple(notes), details=details)


def _short(user_key: str) -> str:
    """Chat ids are not secret, but keep logs terse."""
    return user_key if len(user_key) <= 32 else user_key[:29] + "..."
