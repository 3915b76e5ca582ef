"""The dossier lifecycle backend: what happens to a submitted dossier, for citizens and officers.

Everything here runs inside the caller's open transaction (an ``AsyncSession``) and never commits.
A status change, its audit event and the notifications it causes (rows in the outbox, delivered later
by bot/notifier.py) are written together, so either all of them happen or none.

Modules
-------
* :mod:`.transition` — the one function that changes a leg's status (the lifecycle machine);
* :mod:`.submission` — a new dossier's legs, due dates, officer pushes and the citizen's receipt;
* :mod:`.actions` — officers' actions: claim, release, receive, review, supplement, approve, reject,
  return the result, reassign, and the queue;
* :mod:`.citizen` — ``/hoso``, ``/theodoi``, supplements, ratings, withdrawal;
* :mod:`.invites` — officers' one-time invite codes;
* :mod:`.notify` — outbox rows for citizens and officers; :mod:`.reminders` — daily deadline pushes;
* :mod:`.deadlines` — a leg's clock; :mod:`.base` — the refusal, the catalogue, labels;
* :mod:`.slips` — the desk's slips of a leg (which exist, their values, the citizen's copy in the outbox);
  :mod:`.apology` — the apology for a late leg with a new appointment date.

This package's namespace re-exports the public entry points below. Refusals raise
:class:`ActionRefused` with a Vietnamese message (a gettext msgid). See docs/lifecycle.md.
"""
from __future__ import annotations

from .actions import (
    approve,
    claim,
    queue,
    reassign,
    receive,
    reject,
    release,
    request_supplement,
    requestable_fields,
    return_result,
    review,
    scoped,
)
from .apology import apologise, can_apologise
from .base import ActionRefused, acting_via, unit_text
from .citizen import (
    citizen_dossiers,
    follow_dossier,
    link_chat,
    open_supplement_requests,
    rate,
    resubmit,
    withdraw,
)
from .deadlines import base_due, days_left, deadline_class, effective_due
from .invites import (
    add_officer,
    deactivate_officer,
    is_invite_attempt,
    new_invite,
    new_invite_code,
    normalise_invite,
    officer_for,
    redeem_invite,
    set_officer,
)
from .notify import citizen_chats, enqueue, push_officers
from .reminders import scan_deadlines, scan_supplements
from .slips import available_slips, reappointed, slip_values
from .submission import on_submitted
from .transition import transition

__all__ = [
    "ActionRefused",
    "acting_via",
    "add_officer",
    "apologise",
    "approve",
    "available_slips",
    "base_due",
    "can_apologise",
    "citizen_chats",
    "citizen_dossiers",
    "claim",
    "days_left",
    "deactivate_officer",
    "deadline_class",
    "effective_due",
    "enqueue",
    "follow_dossier",
    "is_invite_attempt",
    "link_chat",
    "new_invite",
    "new_invite_code",
    "normalise_invite",
    "officer_for",
    "on_submitted",
    "open_supplement_requests",
    "push_officers",
    "queue",
    "rate",
    "reappointed",
    "reassign",
    "receive",
    "redeem_invite",
    "reject",
    "release",
    "request_supplement",
    "requestable_fields",
    "resubmit",
    "return_result",
    "review",
    "scan_deadlines",
    "scan_supplements",
    "scoped",
    "set_officer",
    "slip_values",
    "transition",
    "unit_text",
    "withdraw",
]
