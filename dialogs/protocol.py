"""The engine ↔ runtime protocol: what the engine asks of the runtime, and what it gets back.

The engine has no database. When a turn needs one (submit a dossier, list the citizen's dossiers,
rate, withdraw, follow, open or send a supplement, run a named check), the engine returns an
``Outcome`` whose ``requests`` hold typed ``Request`` values and whose replies stop short of the
closing question. The runtime serves each request, inside the turn's transaction, and resumes the
engine once with the matching typed ``Result``::

    out = engine.handle(session, msg)              # replies so far + requests
    for request in out.requests:
        result = await serve(request)              # the runtime's database work
        more = engine.resume(session, result)      # the result rendered, and the next question
    ...commit...
    for job in out.after_commit: await run(job)    # work that must not hold the transaction

This is the shape of goflow's (RapidPro's) engine: the caller applies what the engine returns, and the
engine never calls back into the caller. Every request and result is a plain, frozen dataclass.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from .messages import Ask, Message, Reply

# --------------------------------------------------------------------------------------------
# requests: engine -> runtime


@dataclass(frozen=True)
class Request:
    """Something the engine needs the runtime (which has the database) to do."""


@dataclass(frozen=True)
class Submit(Request):
    """The citizen swore to the declaration: store the dossier. Answered with ``Submitted``."""

    procedure: str
    procedure_version: int
    draft_id: str
    answers: dict[str, Any]
    applicant_name: str | None
    lang: str


@dataclass(frozen=True)
class ListDossiers(Request):
    """“/hoso”: the citizen's dossiers. Answered with ``DossierList``."""


@dataclass(frozen=True)
class Rate(Request):
    """“đánh giá 5”: rate a closed dossier (``code`` None: the latest closed one). Answered with ``Rated``."""

    code: str | None
    stars: int


@dataclass(frozen=True)
class Withdraw(Request):
    """The citizen confirmed withdrawing this dossier. Answered with ``Withdrawn``."""

    code: str


@dataclass(frozen=True)
class Follow(Request):
    """“/theodoi CODE 1234”: notify this chat about a dossier filed for them. Answered with ``Followed``."""

    code: str
    last4: str  # last four digits of the applicant's ID number


@dataclass(frozen=True)
class OpenSupplement(Request):
    """“bổ sung”: load an officer's open supplement request (``request_id`` None: the first open one).
    Answered with ``SupplementOpened``."""

    request_id: int | None = None


@dataclass(frozen=True)
class SendSupplement(Request):
    """The citizen finished answering a supplement request. Answered with ``SupplementSent``."""

    request_id: int
    code: str
    answers: dict[str, Any]


@dataclass(frozen=True)
class RunCheck(Request):
    """A named database check declared by a procedure (e.g. “already registered”), with its arguments.
    Answered with ``CheckResult``."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# results: runtime -> engine (``Engine.resume``)


@dataclass(frozen=True)
class Result:
    """The runtime's answer to one ``Request``."""


@dataclass(frozen=True)
class Submitted(Result):
    """The dossier is stored (``created`` False: it had been submitted before, same draft).
    ``details`` are the receipt's own lines (each agency's date, a warning), part of the confirmation: the chat
    that submitted gets no separate receipt. ``notes`` are the runtime's own messages, shown right after it."""

    code: str
    due: date
    created: bool = True
    submitted_at: datetime | None = None
    notes: tuple[Message, ...] = ()
    details: str = ""


@dataclass(frozen=True)
class DossierList(Result):
    """The citizen's dossiers, newest first: dicts with code, procedure, status, status_label, closed,
    rateable (closed by the agencies, not withdrawn), rated and days_left."""

    items: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Rated(Result):
    ok: bool
    reason: str | None = None  # already translated, when refused


@dataclass(frozen=True)
class Withdrawn(Result):
    code: str
    ok: bool
    reason: str | None = None


@dataclass(frozen=True)
class Followed(Result):
    code: str
    ok: bool
    reason: str | None = None
    status: str | None = None  # where the dossier stands now, as the citizen reads it


@dataclass(frozen=True)
class SupplementOpened(Result):
    """The open request (id, code, procedure, fields, reason, answers), or None when there is none."""

    request: dict[str, Any] | None


@dataclass(frozen=True)
class SupplementSent(Result):
    code: str
    ok: bool
    changed: tuple[str, ...] = ()
    reason: str | None = None
    remaining: int = 0  # other supplement requests still open for this chat (another agency's, another dossier's)


@dataclass(frozen=True)
class CheckResult(Result):
    name: str
    ok: bool
    message: str | None = None  # already translated; shown to the citizen when given
    data: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# after the commit


@dataclass(frozen=True)
class AfterCommit:
    """Work the runtime does once the turn's transaction committed (it must not hold the write lock)."""


@dataclass(frozen=True)
class FormCopy(AfterCommit):
    """The citizen's copy of the filled official form (when the procedure has one) of dossier ``code``: the
    runtime sends it as a follow-up document once the filing committed (rendered off the request path)."""

    procedure: str
    answers: dict[str, Any]
    submitted_at: datetime | None
    code: str
    lang: str


# --------------------------------------------------------------------------------------------

R = TypeVar("R", bound=Request)


@dataclass
class Outcome:
    """What one engine call returns."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    after_commit: list[AfterCommit] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)  # sha256 -> bytes of accepted files, to store
    accepted: bool = False  # an answer (or part of one) was accepted
    error: str | None = None  # the exception the engine caught instead of crashing, if any

    def request(self, kind: type[R]) -> R | None:
        """The first request of this type, if any."""
        return next((r for r in self.requests if isinstance(r, kind)), None)

    @property
    def ask(self) -> Ask | None:
        """The closing question, when the replies end with one."""
        return self.replies[-1] if self.replies and isinstance(self.replies[-1], Ask) else None
