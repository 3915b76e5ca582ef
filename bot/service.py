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
from datetime import date, datetime
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from dialogs.catalog import Catalog
from dialogs.codes import new_dossier_code
from dialogs.engine import Draft, Engine, Session
from dialogs.forms import has_form, render_pdf
from dialogs.i18n import N_, translator
from dialogs.messages import Ask, FileRef, Incoming, Message, Outcome, Reply
from dialogs.qrscan import scan_message
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
            replies = await self._turn(db, user_key, step, officer_msg)
            if tx_hook is not None:
                await tx_hook(db, replies)
        job = getattr(replies, "pdf_job", None)
        if job is not None:  # after the commit: rendering must not hold the database's write lock
            replies = await self._pdf_copy(list(replies), *job)
        return list(replies)

    async def _turn(self, db, user_key: str, step: Callable[[Session], Outcome],
                    officer_msg: Incoming | None) -> list[Reply]:
        # --- officers (issue #4): an officer's chat, or an invite code, goes to bot/officers.py ---
        if officer_msg is not None:
            replies = await officers.officer_turn(db, user_key, officer_msg, self.now(), calendar=self.calendar,
                                                  catalog=self.catalog, attachments=self.attachments)
            if replies is not None:
                return replies
        # --- end officers ---
        # --- accounts (issue #8): /lienket, /thongbao; a linked chat uses its account's conversation ---
        if officer_msg is not None:
            replies = await accounts.account_turn(db, user_key, officer_msg, self.now(), self)
            if replies is not None:
                return replies
        conv_key = await accounts.conversation_key(db, user_key)
        # --- end accounts ---
        repo = ConversationRepo(db)
        conv, drafts = await repo.load(conv_key)
        session = self._session(conv_key, conv, drafts)
        pre = await allowances.before_step(db, self, session, officer_msg)  # issue #6: /xacnhan, bank picks
        if pre is None and officer_msg is not None and self.engine.wants_card_scan(session, officer_msg):
            # an ID card photo: its QR is read in a worker thread (CPU work), then the engine takes the message
            read = await asyncio.to_thread(scan_message, officer_msg)
            step = lambda s: self.engine.handle(s, read)  # noqa: E731
        outcome = pre if pre is not None else step(session)
        outcome = await allowances.after_step(db, self, session, officer_msg, outcome)  # issue #6
        if outcome.blobs:
            await asyncio.to_thread(self._store_blobs, outcome.blobs)
        replies = list(outcome.replies)
        pdf_job = None
        if outcome.submit is not None:
            submitted = await self._submit(db, session, outcome)
            pdf_job = getattr(submitted, "pdf_job", None)
            replies = replies + submitted.replies
        if outcome.list_dossiers or outcome.rating or outcome.open_supplement or outcome.supplement \
                or outcome.follow or outcome.withdraw:
            replies = await self._citizen_requests(db, session, outcome, replies)
        await repo.save(
            conv_key, conv, session.conversation_data(), session.lang,
            [self._draft_data(session.drafts[p]) for p in session.dirty_drafts if p in session.drafts],
            session.deleted_drafts)
        log.info("chat step user=%s procedure=%s state=%s accepted=%s", _short(user_key),
                 session.procedure, session.state, outcome.accepted)
        if pdf_job is not None:
            replies = _Replies(replies)
            replies.pdf_job = pdf_job
        return replies

    async def _pdf_copy(self, replies: list[Reply], procedure: str, answers: dict[str, Any], when: datetime,
                        code: str, lang: str) -> list[Reply]:
        """The citizen's copy of the filled official form, kept in the attachment store, placed after the
        submission message. A failure here costs the copy only (officers render the form on demand)."""
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

    async def _citizen_requests(self, db, session: Session, outcome: Outcome, replies: list[Reply]) -> list[Reply]:
        """Serve what the engine asked of the database: /hoso, ratings and supplements (issue #4)."""
        now = self.now()
        head = [r for r in replies if not isinstance(r, Ask)]
        tail = [r for r in replies if isinstance(r, Ask)][-1:]
        if outcome.list_dossiers:
            items = await officers.citizen_dossiers(db, session.user, self.calendar, now, catalog=self.catalog)
            head.append(self.engine.dossier_list(session, items))
        if outcome.rating:
            code, stars = outcome.rating
            if code is None:  # “đánh giá 5”: the latest closed dossier not yet rated
                items = await officers.citizen_dossiers(db, session.user, self.calendar, now, catalog=self.catalog)
                closed = [d for d in items if d["closed"]]  # (an already rated one is then said to be rated)
                code = next((d["code"] for d in closed if not d["rated"]), closed[0]["code"] if closed else None)
            try:
                if code is None:
                    raise officers.ActionRefused(N_("Bạn chưa có hồ sơ nào đã giải quyết xong để đánh giá."))
                await officers.rate(db, code, session.user, stars, now=now)
                head.append(self.engine.rating_result(session, True))
            except officers.ActionRefused as exc:
                head.append(self.engine.rating_result(session, False, exc.text(session.lang)))
        if outcome.withdraw:
            try:
                await officers.withdraw(db, outcome.withdraw, session.user, now,
                                        "Người nộp rút hồ sơ trong cuộc trò chuyện", calendar=self.calendar,
                                        catalog=self.catalog)
                head.append(self.engine.withdraw_result(session, outcome.withdraw, True))
            except officers.ActionRefused as exc:
                head.append(self.engine.withdraw_result(session, outcome.withdraw, False, exc.text(session.lang)))
        if outcome.follow:
            code, last4 = outcome.follow
            try:
                await officers.follow_dossier(db, session.user, code, last4, catalog=self.catalog)
                head.append(self.engine.follow_result(session, code, True))
            except officers.ActionRefused as exc:
                head.append(self.engine.follow_result(session, code, False, exc.text(session.lang)))
        if outcome.open_supplement:
            requests = await officers.open_supplement_requests(db, session.user)
            wanted = outcome.open_supplement
            req = next((r for r in requests if wanted is True or r["id"] == wanted), None)
            return head + self.engine.begin_supplement(session, req).replies
        if outcome.supplement is not None:
            sup = outcome.supplement
            try:
                res = await officers.resubmit(db, sup.request_id, sup.answers, session.user, now,
                                              calendar=self.calendar, catalog=self.catalog)
            except officers.ActionRefused as exc:
                res = None
                head.append(Message(exc.text(session.lang), error=True))
            done = self.engine.supplement_done(session, res["code"] if res else sup.code,
                                               res["changed"] if res else [], ok=res is not None)
            return head + done.replies
        return head + tail

    def _store_blobs(self, blobs: dict[str, bytes]) -> None:
        for sha, data in blobs.items():
            self.attachments.put_known(sha, data)

    @staticmethod
    def _draft_data(d: Draft) -> dict[str, Any]:
        return asdict(d)

    async def _submit(self, db, session: Session, outcome: Outcome) -> Outcome:
        req = outcome.submit
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
        out = self.engine.submitted(session, dossier.code, dossier.due_date, created)
        out.replies[1:1] = notes
        if created and has_form(req.procedure):  # rendered by _run_once once the transaction committed
            out.pdf_job = (req.procedure, req.answers, now, dossier.code, req.lang)
        return out


TxHook = Callable[[Any, list[Reply]], Awaitable[None]]


class _Replies(list):
    """A turn's replies, carrying the form copy still to render once the transaction committed."""

    pdf_job: tuple | None = None


def _short(user_key: str) -> str:
    """Chat ids are not secret, but keep logs terse."""
    return user_key if len(user_key) <= 32 else user_key[:29] + "..."
