"""The runtime core shared by every channel: load a chat's session, run the engine, persist, reply.

One chat's messages are handled one at a time (an asyncio lock per chat in
this process, and a row lock on the conversation in PostgreSQL across
processes). Every message's outcome — accepted answers, stored attachments,
a submitted dossier — is committed in one transaction before the replies are
returned to the channel, so a crash never loses an accepted answer and never
submits twice.
"""
from __future__ import annotations

import asyncio
import copy
import logging
from collections import defaultdict
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from dialogs.catalog import Catalog
from dialogs.codes import new_dossier_code
from dialogs.engine import Draft, Engine, Session
from dialogs.forms import has_form, render_pdf
from dialogs.i18n import N_, translator
from dialogs.messages import FileRef, Incoming, Message, Reply
from dialogs.protocol import (AfterCommit, CheckResult, DossierList, Follow, Followed, FormCopy, ListDossiers,
                              OpenSupplement, Outcome, Rate, Rated, Request, Result, RunCheck, SendSupplement,
                              Submit, Submitted, SupplementOpened, SupplementSent, Withdraw, Withdrawn)
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.attachments import AttachmentStore
from storage.db import make_engine, sessionmaker, upgrade
from storage.repo import ConversationRepo, DossierRepo

from . import officers
from . import accounts  # issue #8: linked chats share one conversation
from . import allowances  # issue #6: allowances paid by bank account

log = logging.getLogger("dvcbot.service")
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class ChatLocks:
    """One asyncio.Lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                self._users.pop(key, None)
                self._locks.pop(key, None)

    def __len__(self) -> int:
        return len(self._locks)


class Runtime:
    """Everything a channel adapter needs: ``start`` and ``handle`` for one chat."""

    def __init__(self, db_url: str | None = None, *, var_dir: str | Path = "var", catalog: Catalog | None = None,
                 calendar: WorkCalendar | None = None, now: Callable[[], datetime] | None = None):
        self.db_url = db_url
        self.var_dir = Path(var_dir)
        self.catalog = catalog or Catalog.load()
        self.calendar = calendar or DEFAULT_CALENDAR
        self.now = now or (lambda: datetime.now(VN_TZ))
        self.engine = Engine(self.catalog, today=lambda: self.now().date())
        self.attachments = AttachmentStore(self.var_dir / "attachments")
        self.locks = ChatLocks()
        self.db_engine = None
        self.sm = None
        # named database checks a procedure may declare (RunCheck requests): name -> async (db, session, req)
        self.checks: dict[str, Callable[[Any, Session, RunCheck], Awaitable[CheckResult]]] = {}

    async def open(self, migrate: bool = True) -> "Runtime":
        if migrate:
            await upgrade(self.db_url)
        self.db_engine = make_engine(self.db_url)
        self.sm = sessionmaker(self.db_engine)
        return self

    async def close(self) -> None:
        if self.db_engine is not None:
            await self.db_engine.dispose()

    async def __aenter__(self) -> "Runtime":
        return await self.open()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------
    async def start(self, user_key: str, *, tx_hook: TxHook | None = None) -> list[Reply]:
        return await self._run(user_key, lambda s: self.engine.start(s), officer_msg=Incoming(text="/start"),
                               tx_hook=tx_hook)

    async def handle(self, user_key: str, msg: Incoming, *, tx_hook: TxHook | None = None) -> list[Reply]:
        """One message of one chat. ``tx_hook(db, replies)``, if given, runs inside the step's transaction just
        before it commits (a channel marks its inbox row done there, so the step and the mark commit
        together); an exception from it rolls the whole step back and propagates."""
        return await self._run(user_key, lambda s: self.engine.handle(s, msg), officer_msg=msg, tx_hook=tx_hook)

    async def session(self, user_key: str) -> Session:
        """A read-only look at a chat's session (tests, CLI)."""
        async with self.sm() as db:
            conv, drafts = await ConversationRepo(db).load(await accounts.conversation_key(db, user_key), lock=False)
            return self._session(user_key, conv, drafts)

    @staticmethod
    def _session(user_key: str, conv, drafts) -> Session:
        # deep copies: the engine mutates its session, and the ORM must see new values, not the same objects
        return Session.from_data(user_key, copy.deepcopy(conv.data) if conv else None, [
            Draft(id=d.id, procedure=d.procedure_id, version=d.procedure_version,
                  answers=copy.deepcopy(d.answers), history=list(d.history), revision=d.revision)
            for d in drafts])

    async def _run(self, user_key: str, step: Callable[[Session], Outcome],
                   officer_msg: Incoming | None = None, tx_hook: TxHook | None = None) -> list[Reply]:
        async with accounts.chat_lock(self.locks, self.sm, user_key):  # issue #8: and the linked conversation's
            for attempt in range(3):
                try:
                    return await self._run_once(user_key, step, officer_msg, tx_hook)
                except IntegrityError:
                    # another process created this chat's first row at the same moment: run again on it
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

    async def _run_once(self, user_key: str, step: Callable[[Session], Outcome],
                        officer_msg: Incoming | None = None, tx_hook: TxHook | None = None) -> list[Reply]:
        async with self.sm() as db, db.begin():
            replies, after = await self._turn(db, user_key, step, officer_msg)
            if tx_hook is not None:
                await tx_hook(db, replies)
        for job in after:  # after the commit: rendering must not hold the database's write lock
            if isinstance(job, FormCopy) and has_form(job.procedure):
                replies = await self._pdf_copy(replies, job)
        return replies

    async def _turn(self, db, user_key: str, step: Callable[[Session], Outcome],
                    officer_msg: Incoming | None) -> tuple[list[Reply], list[AfterCommit]]:
        # --- officers (issue #4): an officer's chat, or an invite code, goes to bot/officers.py ---
        if officer_msg is not None:
            replies = await officers.officer_turn(db, user_key, officer_msg, self.now(), calendar=self.calendar,
                                                  catalog=self.catalog, attachments=self.attachments)
            if replies is not None:
                return replies, []
        # --- end officers ---
        # --- accounts (issue #8): /lienket, /thongbao; a linked chat uses its account's conversation ---
        if officer_msg is not None:
            replies = await accounts.account_turn(db, user_key, officer_msg, self.now(), self)
            if replies is not None:
                return replies, []
        conv_key = await accounts.conversation_key(db, user_key)
        # --- end accounts ---
        repo = ConversationRepo(db)
        conv, drafts = await repo.load(conv_key)
        session = self._session(conv_key, conv, drafts)
        pre = await allowances.before_step(db, self, session, officer_msg)  # issue #6: /xacnhan, bank picks
        outcome = pre if pre is not None else step(session)
        outcome = await allowances.after_step(db, self, session, officer_msg, outcome)  # issue #6
        replies, after = await self._apply(db, session, outcome)
        await repo.save(
            conv_key, conv, session.conversation_data(), session.lang,
            [self._draft_data(session.drafts[p]) for p in session.dirty_drafts if p in session.drafts],
            session.deleted_drafts)
        log.info("chat step user=%s procedure=%s state=%s accepted=%s", _short(user_key),
                 session.procedure, session.state, outcome.accepted)
        return replies, after

    async def _pdf_copy(self, replies: list[Reply], job: FormCopy) -> list[Reply]:
        """The citizen's copy of the filled official form, kept in the attachment store, placed after the
        submission message. A failure here costs the copy only (officers render the form on demand)."""
        procedure, answers, when, code, lang = job.procedure, job.answers, job.submitted_at, job.code, job.lang
        try:
            pdf = await asyncio.to_thread(render_pdf, procedure, answers, submitted_at=when, code=code)
            sha = await asyncio.to_thread(self.attachments.put, pdf)
        except Exception as exc:  # noqa: BLE001 - never lose the submission reply over the copy
            log.error("form copy for %s failed: %s", code, type(exc).__name__)
            return replies
        _ = translator(lang)
        ref = FileRef(path=str(self.attachments.path(sha)), name=f"{code}.pdf", mime="application/pdf")
        at = next((i + 1 for i, r in enumerate(replies) if isinstance(r, Message) and r.dossier == code),
                  len(replies))
        return replies[:at] + [Message(_("Bản sao tờ khai (PDF) của bạn: {name}", name=ref.name), file=ref)] \
            + replies[at:]

    async def _apply(self, db, session: Session, outcome: Outcome) -> tuple[list[Reply], list[AfterCommit]]:
        """Apply what the engine returned: store its files, serve each request and resume the engine once
        with the request's result. Returns the turn's replies and the jobs for after the commit."""
        replies: list[Reply] = []
        after: list[AfterCommit] = []
        pending: list[Request] = []
        while True:
            if outcome.blobs:
                await asyncio.to_thread(self._store_blobs, outcome.blobs)
            replies += outcome.replies
            after += outcome.after_commit
            pending += outcome.requests
            if not pending:
                return replies, after
            result = await self._serve(db, session, pending.pop(0))
            outcome = self.engine.resume(session, result)

    async def _serve(self, db, session: Session, req: Request) -> Result:
        """One request of the engine, served with the database: /hoso, ratings, withdrawals, /theodoi,
        supplements, checks and the submission itself."""
        now = self.now()
        if isinstance(req, Submit):
            return await self._submit(db, session, req)
        if isinstance(req, ListDossiers):
            items = await officers.citizen_dossiers(db, session.user, self.calendar, now, catalog=self.catalog)
            return DossierList(tuple(items))
        if isinstance(req, Rate):
            code = req.code
            if code is None:  # “đánh giá 5”: the latest closed dossier not yet rated
                items = await officers.citizen_dossiers(db, session.user, self.calendar, now, catalog=self.catalog)
                closed = [d for d in items if d["closed"]]  # (an already rated one is then said to be rated)
                code = next((d["code"] for d in closed if not d["rated"]), closed[0]["code"] if closed else None)
            try:
                if code is None:
                    raise officers.ActionRefused(N_("Bạn chưa có hồ sơ nào đã giải quyết xong để đánh giá."))
                await officers.rate(db, code, session.user, req.stars, now=now)
                return Rated(True)
            except officers.ActionRefused as exc:
                return Rated(False, exc.text(session.lang))
        if isinstance(req, Withdraw):
            try:
                await officers.withdraw(db, req.code, session.user, now, "Người nộp rút hồ sơ trong cuộc trò chuyện",
                                        calendar=self.calendar, catalog=self.catalog)
                return Withdrawn(req.code, True)
            except officers.ActionRefused as exc:
                return Withdrawn(req.code, False, exc.text(session.lang))
        if isinstance(req, Follow):
            try:
                await officers.follow_dossier(db, session.user, req.code, req.last4, catalog=self.catalog)
                return Followed(req.code, True)
            except officers.ActionRefused as exc:
                return Followed(req.code, False, exc.text(session.lang))
        if isinstance(req, OpenSupplement):
            requests = await officers.open_supplement_requests(db, session.user)
            return SupplementOpened(next((r for r in requests if req.request_id in (None, r["id"])), None))
        if isinstance(req, SendSupplement):
            try:
                res = await officers.resubmit(db, req.request_id, req.answers, session.user, now,
                                              calendar=self.calendar, catalog=self.catalog)
            except officers.ActionRefused as exc:
                return SupplementSent(req.code, False, reason=exc.text(session.lang))
            return SupplementSent(res["code"], True, tuple(res["changed"]))
        if isinstance(req, RunCheck):
            check = self.checks.get(req.name)
            if check is None:
                log.error("no database check named %s", req.name)
                return CheckResult(req.name, False)
            return await check(db, session, req)
        raise TypeError(f"unknown request {type(req).__name__}")

    def _store_blobs(self, blobs: dict[str, bytes]) -> None:
        for sha, data in blobs.items():
            self.attachments.put_known(sha, data)

    @staticmethod
    def _draft_data(d: Draft) -> dict[str, Any]:
        return asdict(d)

    async def _submit(self, db, session: Session, req: Submit) -> Submitted:
        proc = self.catalog.get(req.procedure)
        form = self.catalog.form(req.procedure)
        now = self.now()
        legs = form.planned_legs(req.answers, now.date())
        due = max(self.calendar.due_date(now, leg.days) for leg in legs)  # the whole dossier: its last leg
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
        if created:  # issue #4: the agency leg, its due date, officer pushes and the citizen's receipt
            await officers.on_submitted(db, dossier, self.calendar, now, catalog=self.catalog)
            notes = await allowances.on_submitted(db, dossier, now)  # issue #6: register, identity check, confirmation
        log.info("dossier %s procedure=%s created=%s", dossier.code, req.procedure, created)
        return Submitted(dossier.code, dossier.due_date, created, submitted_at=now, notes=tuple(notes))


TxHook = Callable[[Any, list[Reply]], Awaitable[None]]


def _short(user_key: str) -> str:
    """Chat ids are not secret, but keep logs terse."""
    return user_key if len(user_key) <= 32 else user_key[:29] + "..."
