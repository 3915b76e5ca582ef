"""One citizen's conversation as data: the session, its drafts, and the macro-state machine.

Macro-states (``STATES``) are few; where the citizen is inside a procedure is not a state but the
*form cursor* (dialogs/form.py), recomputed from the answers, plus at most one sub-dialog in
``Session.pending`` (dialogs/pending.py). A session is plain, JSON-serialisable data the runtime
loads and stores (``from_data``/``conversation_data``); the engine binds it to the `transitions`
machine only for the length of a call (``bound``). Binding is one attribute: the triggers are methods of
``Session`` that fire the bound machine's event on the session (``Event.trigger(model)``), so a step never
registers the session with the machine (``add_model``/``remove_model`` cost about half of a bare step).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from transitions import Machine

from .. import kinds as _kinds  # noqa: F401 - registers the field kinds' sub-dialogs before sessions load
from ..form import answered
from ..pending import Pending
from ..pending import from_data as pending_from_data
from ..pending import to_data as pending_to_data

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict

STATES = ["menu", "eligibility", "collecting", "reviewing", "editing", "confirming", "submitted", "cancelled",
          "supplementing"]

TRANSITIONS: list[TransitionConfigDict] = [
    {"trigger": "start_procedure", "source": ["menu", "submitted", "cancelled"], "dest": "collecting"},
    {"trigger": "found_ineligible", "source": ["collecting", "editing", "reviewing"], "dest": "eligibility"},
    {"trigger": "fix_answer", "source": "eligibility", "dest": "collecting"},
    {"trigger": "review", "source": ["collecting", "editing", "confirming", "eligibility"], "dest": "reviewing",
     "conditions": "form_complete"},
    {"trigger": "edit", "source": "reviewing", "dest": "editing"},
    {"trigger": "confirm", "source": "reviewing", "dest": "confirming", "conditions": "form_complete"},
    {"trigger": "submitted_ok", "source": "confirming", "dest": "submitted"},
    {"trigger": "cancel", "source": ["collecting", "editing", "reviewing", "confirming", "eligibility"],
     "dest": "cancelled"},
    {"trigger": "to_menu", "source": "*", "dest": "menu"},
    # an officer asked for a supplement to a submitted dossier: only the requested items are asked
    {"trigger": "begin_supplement", "source": ["menu", "submitted", "cancelled", "collecting", "editing",
                                               "reviewing", "eligibility", "supplementing"],
     "dest": "supplementing"},
]
# states in which a procedure's draft is being filled in (the conversation resumes there)
IN_PROCEDURE = ("collecting", "editing", "reviewing", "confirming", "eligibility")


@dataclass
class Draft:
    id: str
    procedure: str
    version: int
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    revision: int = 0

    def record(self, path: str) -> None:
        """``path`` answered last: at the end of the history (once)."""
        if path in self.history:
            self.history.remove(path)
        self.history.append(path)

    @property
    def begun(self) -> bool:
        """Something answered: a draft in progress, listed, resumed and said to be kept. One only opened (its
        first question asked, nothing answered) is none of these."""
        return bool(answered(self.answers))


@dataclass
class Session:
    """Everything the engine knows about one citizen's conversation."""

    user: str
    state: str = "menu"
    lang: str = "vi"
    procedure: str | None = None
    pending: Pending | None = None  # the sub-dialog the next message answers first (dialogs/pending.py)
    errors: int = 0
    last_dossier: str | None = None
    supplement: dict[str, Any] | None = None  # an officer's request being answered (see begin_supplement)
    throttle: dict[str, Any] | None = None  # failed attempts per day, e.g. {"follow": ["2026-11-23", 2]}
    reminders_off: bool = False  # “tắt nhắc”: no reminders of drafts left halfway (bot/reminders.py)
    drafts: dict[str, Draft] = field(default_factory=dict)
    # set by the engine when a draft changed or went away, read by the runtime
    dirty_drafts: set[str] = field(default_factory=set)
    deleted_drafts: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.pending = pending_from_data(self.pending)

    @property
    def draft(self) -> Draft | None:
        if self.supplement is not None:
            if self._sup_draft is None:
                sup = self.supplement
                self._sup_draft = Draft(id=f"sup-{sup['id']}", procedure=sup["procedure"], version=0,
                                        answers=sup["answers"], history=sup["history"])
            return self._sup_draft
        return self.drafts.get(self.procedure) if self.procedure else None

    def conversation_data(self) -> dict[str, Any]:
        if self.supplement is not None and self._sup_draft is not None:
            self.supplement["answers"], self.supplement["history"] = self._sup_draft.answers, self._sup_draft.history
        return {"state": self.state, "lang": self.lang, "procedure": self.procedure,
                "pending": pending_to_data(self.pending), "errors": self.errors, "last_dossier": self.last_dossier,
                "supplement": self.supplement, "throttle": self.throttle, "reminders_off": self.reminders_off}

    @classmethod
    def from_data(cls, user: str, data: dict[str, Any] | None, drafts: list[Draft]) -> Session:
        data = data or {}
        s = cls(user=user, **{k: data[k] for k in ("state", "lang", "procedure", "pending", "errors",
                                                    "last_dossier", "supplement", "throttle", "reminders_off")
                                                   if k in data})
        s.drafts = {d.procedure: d for d in drafts}
        if s.state not in STATES:
            s.state = "menu"
        return s

    def forget_supplement_draft(self) -> None:
        self._sup_draft = None

    # Where a state guarantees a draft, a procedure or a supplement request. Each raises the error the code it
    # guards raised before (None.answers, catalog[None], None["id"]), so callers' handling is unchanged.
    def require_draft(self) -> Draft:
        draft = self.draft
        if draft is None:
            raise AttributeError(f"no draft in state {self.state!r} (procedure {self.procedure!r})")
        return draft

    def require_procedure(self) -> str:
        if self.procedure is None:
            raise KeyError(f"no procedure in state {self.state!r}")
        return self.procedure

    def require_supplement(self) -> dict[str, Any]:
        if self.supplement is None:
            raise TypeError(f"no supplement request in state {self.state!r}")
        return self.supplement

    # transitions condition
    def form_complete(self) -> bool:
        return bool(self.complete)

    complete: bool = False  # the form has no question left (the transitions condition below)
    _sup_draft: Draft | None = None
    # the engine's machine while the session is bound to it (``bound``), else None
    machine: Machine | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def is_bound(self) -> bool:
        """Whether the session is bound to an engine's machine (only inside an engine call)."""
        return self.machine is not None

    # the machine's triggers (TRANSITIONS); each raises transitions.MachineError from a state it does not leave
    def _fire(self, trigger: str) -> bool:
        if self.machine is None:
            raise RuntimeError("the session is not bound to the engine's machine")
        return bool(self.machine.events[trigger].trigger(self))

    def start_procedure(self) -> bool:
        return self._fire("start_procedure")

    def found_ineligible(self) -> bool:
        return self._fire("found_ineligible")

    def fix_answer(self) -> bool:
        return self._fire("fix_answer")

    def review(self) -> bool:
        return self._fire("review")

    def edit(self) -> bool:
        return self._fire("edit")

    def confirm(self) -> bool:
        return self._fire("confirm")

    def submitted_ok(self) -> bool:
        return self._fire("submitted_ok")

    def cancel(self) -> bool:
        return self._fire("cancel")

    def to_menu(self) -> bool:
        return self._fire("to_menu")

    def begin_supplement(self) -> bool:
        return self._fire("begin_supplement")


def new_machine() -> Machine:
    return Machine(model=None, states=STATES, transitions=TRANSITIONS, initial="menu", auto_transitions=False,
                   ignore_invalid_triggers=False)


@contextmanager
def bound(machine: Machine, session: Session, on_end: Callable[[], None] | None = None) -> Iterator[Session]:
    """The session with the machine's triggers (``session.review()``…) for the length of a call; a session
    already bound stays bound (calls nest). ``on_end`` runs when the outermost call ends: the engine's turn
    is over."""
    if session.machine is machine:
        yield session
        return
    session.machine = machine
    try:
        yield session
    finally:
        session.machine = None
        if on_end is not None:
            on_end()
