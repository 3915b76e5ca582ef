"""The dialog engine: one citizen's conversation as a `transitions` state machine.

The engine is synchronous and pure: it takes a ``Session`` (plain, JSON-serialisable data loaded by
the runtime) and an ``Incoming`` message, mutates the session, and returns an ``Outcome``
(dialogs/protocol.py) with structured replies and, when the turn needs the database, typed requests.
The runtime serves each request in the turn's transaction and calls ``resume`` once with its typed
result. The engine never touches a database or a channel.

The engine is put together from one class per responsibility, each in its own module:

- session.py      ``Session``, ``Draft``, the macro-states and their transitions
- commands.py     global commands and the requests recognised in a message (``detect_*``)
- dispatch.py     ``start`` and ``handle``: routing one message
- results.py      ``resume``: a request's result rendered, then the next question
- prompts.py      the form cursor and the question as shown
- collect.py      answering the question asked (field kinds: dialogs/kinds/)
- ahead.py        answers given ahead of their question, kept for it (and the next item of a repeat group named)
- names.py        the usual spelling of a name typed without diacritics
- menu.py         the menu of procedures and the information about one
- eligibility.py  “this case is not covered”, early
- review.py       the review of all answers and editing one
- confirm.py      the one confirmation dialog: cancel, withdraw, the sworn statement
- supplement.py   answering an officer's supplement request
- parts.py        what one part offers another (the base of every part, for the type checker)
Sub-dialogs (``Session.pending``) are typed values from dialogs/pending.py.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from ..catalog import Catalog
from .ahead import Ahead
from .collect import Collect, EngineTurn
from .commands import (
    COMMANDS,
    KEEP_WORDS,
    MAX_FOLLOW_FAILURES,
    NAV_TO_COMMAND,
    detect_command,
    detect_follow,
    detect_rating,
    detect_withdraw,
)
from .confirm import Confirming
from .dispatch import Dispatch
from .eligibility import Eligibility
from .id_card import IdCardSteps
from .menu import Menu
from .names import Names
from .prompts import Prompts
from .results import Results
from .review import Review
from .session import STATES, TRANSITIONS, Draft, Session, bound, new_machine
from .supplement import Supplement

__all__ = [
    "COMMANDS",
    "KEEP_WORDS",
    "MAX_FOLLOW_FAILURES",
    "NAV_TO_COMMAND",
    "STATES",
    "TRANSITIONS",
    "Draft",
    "Engine",
    "EngineTurn",
    "Session",
    "bound",
    "detect_command",
    "detect_follow",
    "detect_rating",
    "detect_withdraw",
]


class Engine(Dispatch, Results, Prompts, Collect, Ahead, Names, Menu, Eligibility, Review, Confirming, Supplement,
             IdCardSteps):
    """Drives sessions through procedures defined in the catalogue."""

    def __init__(self, catalog: Catalog, *, today: Callable[[], date] | None = None,
                 now: Callable[[], datetime] | None = None):
        self.catalog = catalog
        self.today = today or date.today
        self.now = now or (lambda: datetime.now().astimezone())
        self.machine = new_machine()
