"""The turn pipeline: one chat message through an ordered list of handlers, inside one transaction.

The runtime (bot/service.py) locks the chat, opens a transaction and builds a :class:`Turn`; the
:class:`Pipeline` offers it to each registered handler in order. A handler either answers the turn
(returns its replies) or passes it on (returns :data:`PASS`), as an aiogram router does with
``UNHANDLED``. The last handler, the citizen's conversation, always answers. After the commit, the
runtime runs the jobs the handlers queued with :meth:`Turn.after_commit` (work that must not hold the
database's write lock, such as rendering a PDF), each of which may change the replies.

A feature registers itself with a ``register(pipeline)`` function; bot/app.py lists the features.
A plug-in handler (order :data:`PLUGINS`) may answer the citizen's engine step itself: it sets
``turn.outcome`` and passes the turn on, and the citizen handler finishes it (hooks, submission,
saving). Besides handlers, a feature may hook into the citizen's step (:meth:`Pipeline.after_step`,
:meth:`Pipeline.on_submitted`) and resolve which conversation a chat uses (:meth:`Pipeline.resolve_key`).

Orders of the built-in handlers: :data:`OFFICER_CHAT`, :data:`ACCOUNTS`, :data:`PLUGINS`,
:data:`CITIZEN`.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.catalog import Catalog
from dialogs.engine import Draft, Engine, Session
from dialogs.messages import Incoming, Message, Reply
from dialogs.protocol import CheckResult, Outcome, RunCheck
from dialogs.workdays import WorkCalendar
from storage.attachments import AttachmentStore
from storage.chatstore import ChatRows, ChatTx
from storage.filing import Rows, SessionRows
from storage.models import Dossier

OFFICER_CHAT: Final = 10
ACCOUNTS: Final = 20
PLUGINS: Final = 30
CITIZEN: Final = 100


class Pass:
    """The sentinel a handler returns when the turn is not its own."""

    _instance: Pass | None = None

    def __new__(cls) -> Pass:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "PASS"

    def __bool__(self) -> bool:
        return False


PASS: Final = Pass()

AfterCommit = Callable[[list[Reply]], Awaitable[list[Reply]]]
"""A job run once the turn's transaction committed: takes the turn's replies, returns them (perhaps changed)."""


class Services(Protocol):
    """What a handler may use of the runtime (bot/service.py's ``Runtime``)."""

    engine: Engine
    catalog: Catalog
    calendar: WorkCalendar
    attachments: AttachmentStore
    pipeline: Pipeline
    now: Callable[[], datetime]

    async def conversation_key(self, db: AsyncSession, user_key: str) -> str: ...

    async def load_session(self, db: AsyncSession, user_key: str, *, lock: bool = True) -> tuple[str, Any, Session]:
        ...

    def session_from_rows(self, user_key: str, conv: Any, drafts: Any) -> Session: ...

    async def save_session(self, db: AsyncSession, turn: Turn) -> None: ...

    def store_blobs(self, blobs: dict[str, bytes]) -> None: ...


class NeedsDatabase(Exception):
    """A lean turn (only the chat's own rows at hand) reached for the database: the runtime runs it again on the
    ORM path. Nothing of the lean attempt was committed."""


class OutsideWork(Exception):
    """A lean turn needs work that must not run inside its write transaction (a file written, CPU in a worker
    thread): the runtime rolls the turn back, runs ``work`` in a thread, and runs the turn again with the
    result at hand (:meth:`Turn.off_transaction`). Nothing of the attempt was committed."""

    def __init__(self, key: str, work: Callable[[], Any]):
        super().__init__(key)
        self.key, self.work = key, work


@dataclass
class Turn:
    """One message of one chat, as every handler sees it.

    A turn is *lean* when the runtime read the chat's rows through the driver-level store
    (storage/chatstore/): :attr:`chat` says what they are (an officer's chat? linked?) and :attr:`tx` writes
    them back. A lean turn has no ORM session: :attr:`db` raises :class:`NeedsDatabase` and the runtime runs the
    turn again with one. So a handler reads ``turn.db`` only once it knows the turn is its own; and a handler may
    be offered the same message twice (lean, then with the database, when a later handler needed it): its
    effects belong in the transaction or in :meth:`after_commit`, which only the turn that commits runs."""

    orm: AsyncSession | None
    user_key: str
    message: Incoming
    now: datetime
    runtime: Services  # the services: engine, catalog, calendar, attachments, sessions
    start: bool = False  # the chat was (re)opened (``Runtime.start``), not sent a message
    conv_key: str | None = None  # the conversation this chat reads and writes (after the account link)
    session: Session | None = None  # the citizen's session, once loaded (:meth:`load_session`)
    conversation: Any = None  # its stored row (None before the first save)
    outcome: Outcome | None = None  # set by a plug-in that answered the engine step itself
    jobs: list[AfterCommit] = field(default_factory=list)
    chat: ChatRows | None = None  # a lean turn: the chat's rows and flags as the store read them
    tx: ChatTx | None = None  # a lean turn: its transaction
    done: dict[str, Any] = field(default_factory=dict)  # a lean turn: results of work done outside it, by key

    @property
    def db(self) -> AsyncSession:
        """The turn's ORM session (in its transaction); on a lean turn, :class:`NeedsDatabase`."""
        if self.orm is None:
            raise NeedsDatabase()
        return self.orm

    @property
    def cases_db(self) -> AsyncSession:
        """The ORM session for the cases' own tables (dossiers, legs, events, outbox, registrations), never the
        chat's conversation and drafts (those are :meth:`load_session`'s and :meth:`save_session`'s). On a lean
        turn where the store has one (SQLite) it is a session in the turn's own transaction
        (:meth:`ChatTx.orm <storage.chatstore.ChatTx.orm>`), so a filing or a database check stays lean;
        otherwise :attr:`db`."""
        if self.orm is None and self.tx is not None:
            db = self.tx.orm()
            if db is not None:
                return db
        return self.db

    @property
    def cases_rows(self) -> Rows:
        """The cases' tables on the driver (storage/filing.py: a filing's rows), in the turn's transaction: a lean
        turn's own (:class:`~storage.chatstore.ChatTx`) where its store lets a step's work on other tables in,
        as :attr:`cases_db`; otherwise the ORM session's connection."""
        if self.orm is None and self.tx is not None and self.tx.store.inline_orm:
            return self.tx
        return SessionRows(self.db)

    async def off_transaction(self, key: str, work: Callable[[], Any]) -> Any:
        """``work()`` in a worker thread, never inside a lean turn's write transaction (the single writer would
        wait on it): a lean turn raises :class:`OutsideWork` and is run again with the result under ``key``.
        ``work`` must be safe to run for a turn that then does not commit (storing a content-addressed file,
        decoding an image)."""
        if key in self.done:
            return self.done[key]
        if self.tx is None:
            return await asyncio.to_thread(work)
        raise OutsideWork(key, work)

    def after_commit(self, job: AfterCommit) -> None:
        """Queue ``job`` to run after the commit, in order of queueing."""
        self.jobs.append(job)

    async def load_session(self) -> Session:
        """The citizen's session for this chat (loaded once per turn, row-locked on PostgreSQL)."""
        if self.session is None:
            if self.chat is not None:
                c = self.chat
                self.conv_key, self.conversation = c.user_key, c.revision
                self.session = Session.from_data(c.user_key, c.data, [
                    Draft(id=d["id"], procedure=d["procedure"], version=d["version"], answers=d["answers"],
                          history=list(d["history"]), revision=d["revision"]) for d in c.drafts])
            else:
                self.conv_key, self.conversation, self.session = await self.runtime.load_session(self.db,
                                                                                                  self.user_key)
        return self.session

    async def save_session(self) -> None:
        """Write the session back (conversation row and changed drafts), in the turn's transaction."""
        session = self.session
        if session is None:
            return
        if self.tx is not None:
            drafts = [session.drafts[p] for p in session.dirty_drafts if p in session.drafts]
            await self.tx.save(session.conversation_data(), session.lang,  # (written at once: no copies)
                               [{"id": d.id, "procedure": d.procedure, "version": d.version, "answers": d.answers,
                                 "history": d.history, "revision": d.revision} for d in drafts],
                               session.deleted_drafts)
        else:
            await self.runtime.save_session(self.db, self)


class Handler(Protocol):
    """Answers a turn (its replies) or passes it on (:data:`PASS`)."""

    async def __call__(self, turn: Turn) -> list[Reply] | Pass: ...


AfterStep = Callable[[Turn, Session, Outcome], Awaitable[Outcome]]
OnSubmitted = Callable[[Turn, Dossier], Awaitable[list[Message]]]
KeyResolver = Callable[[AsyncSession, str], Awaitable[str]]
DatabaseCheck = Callable[[Turn, Session, RunCheck], Awaitable[CheckResult]]


@dataclass(frozen=True)
class _Entry:
    order: int
    name: str
    handler: Handler


async def _same_key(db: AsyncSession, user_key: str) -> str:
    return user_key


class Pipeline:
    """The ordered handlers and the hooks of the citizen's step."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self.after_steps: list[AfterStep] = []
        self.submitted: list[OnSubmitted] = []
        self.key_resolver: KeyResolver = _same_key
        self.checks: dict[str, DatabaseCheck] = {}

    # --- registration -------------------------------------------------------------------------
    def handler(self, name: str, order: int) -> Callable[[Handler], Handler]:
        """Decorator: ``@pipeline.handler("accounts", ACCOUNTS)`` registers an ``async def (turn)``."""
        def deco(fn: Handler) -> Handler:
            self.add(fn, name=name, order=order)
            return fn
        return deco

    def add(self, handler: Handler, *, name: str, order: int) -> None:
        """Register ``handler`` at ``order`` (lower runs first; equal orders keep registration order)."""
        if any(e.name == name for e in self._entries):
            raise ValueError(f"handler {name!r} is already registered")
        self._entries.append(_Entry(order, name, handler))
        self._entries.sort(key=lambda e: e.order)

    def after_step(self, fn: AfterStep) -> AfterStep:
        """After the engine's step (or a plug-in's): return the outcome, perhaps changed."""
        self.after_steps.append(fn)
        return fn

    def on_submitted(self, fn: OnSubmitted) -> OnSubmitted:
        """Right after a new dossier and its legs were created: messages to place after the receipt."""
        self.submitted.append(fn)
        return fn

    def check(self, name: str) -> Callable[[DatabaseCheck], DatabaseCheck]:
        """Decorator: the named database check a procedure declares, answering the engine's ``RunCheck``."""
        def deco(fn: DatabaseCheck) -> DatabaseCheck:
            if name in self.checks:
                raise ValueError(f"check {name!r} is already registered")
            self.checks[name] = fn
            return fn
        return deco

    def resolve_key(self, fn: KeyResolver) -> KeyResolver:
        """Which conversation a chat key reads and writes (linked accounts share one)."""
        self.key_resolver = fn
        return fn

    def get(self, name: str) -> Handler | None:
        """The handler registered under ``name`` (a plug-in of a feature finds the feature's handler)."""
        return next((e.handler for e in self._entries if e.name == name), None)

    # --- running ------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [e.name for e in self._entries]

    async def run(self, turn: Turn) -> list[Reply]:
        """Offer ``turn`` to each handler in order; the first answer is the turn's replies."""
        for entry in self._entries:
            result = await entry.handler(turn)
            if not isinstance(result, Pass):
                return list(result)
        raise LookupError("no handler answered the turn (is the citizen handler registered?)")
