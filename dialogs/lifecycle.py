"""The dossier lifecycle: statuses, who may do what, and how a dossier's status follows its legs.

A dossier is handled by one or more agencies; each agency's part is a *leg*
(storage.models.DossierLeg) with its own status, clock and assignee. Every leg
moves through::

    submitted ─receive─► received ─review─► in_review ─approve─► approved ─return_result─► result_issued
        │                   │                  │
        └──── request_supplement ──────────────┴──► needs_supplement ─resubmit─► resubmitted ─► (receive,
                                                                                   review, approve, ...)
    any open status ─reject─► rejected          any open status ─withdraw─► withdrawn (the citizen)

This module is pure (no database): a `transitions` machine whose transitions
are generated from :data:`PERMISSIONS`, the role × action × status table, with
guards for the role, the claim (an officer acts only on a leg they claimed),
a reason (supplement request, rejection), the requested items (supplement
request) and the result number (approval). :func:`check` names the first guard
that fails, so callers can tell the officer why; :func:`fire` runs the machine.

Claims: ``claim`` takes a free leg; ``release`` gives it back; ``reassign``
(leaders) gives it to someone else. A leg is released automatically when it is
handed over: after ``receive`` (the one-stop desk hands it to the specialists)
and after ``approve`` (the result goes back to the desk to be returned).

Linked legs (a procedure's ``legs[].after``): a downstream leg waits for its upstream leg's result (the
birth or death extract). :class:`LegState` carries ``waiting_for``, the title of an upstream leg that has no
result yet; while it is set, the actions in :data:`NEEDS_UPSTREAM` (approve, return the result) are refused
with that title. Which leg waits for which is data; the database side (bot/cases/links.py) fills it in.

Parent status (:func:`parent_status`), for a dossier with several legs:

1. no legs → the dossier keeps its own status;
2. any leg ``needs_supplement`` → ``needs_supplement`` (the citizen must act);
3. every leg closed → ``result_issued`` if any leg issued a result, else
   ``rejected`` if any was rejected, else ``withdrawn``;
4. otherwise the least advanced *open* leg's status, in the order
   submitted < received < resubmitted < in_review < approved (closed legs are
   ignored), so the dossier shows the step that still holds it up.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from transitions import Machine

from .i18n import N_

# -- statuses ------------------------------------------------------------------------------
SUBMITTED, RECEIVED, IN_REVIEW = "submitted", "received", "in_review"
NEEDS_SUPPLEMENT, RESUBMITTED = "needs_supplement", "resubmitted"
APPROVED, RESULT_ISSUED, REJECTED, WITHDRAWN = "approved", "result_issued", "rejected", "withdrawn"

STATUSES = (SUBMITTED, RECEIVED, IN_REVIEW, NEEDS_SUPPLEMENT, RESUBMITTED, APPROVED, RESULT_ISSUED, REJECTED,
            WITHDRAWN)
CLOSED = frozenset({RESULT_ISSUED, REJECTED, WITHDRAWN})
OPEN = frozenset(STATUSES) - CLOSED
#: open statuses in which the agency's clock runs (it is paused while waiting for the citizen)
CLOCK_RUNNING = OPEN - {NEEDS_SUPPLEMENT}
#: how far a leg has come, for the parent status of a dossier with several legs
PROGRESS = {SUBMITTED: 0, RECEIVED: 1, RESUBMITTED: 2, IN_REVIEW: 3, NEEDS_SUPPLEMENT: 3, APPROVED: 4,
            RESULT_ISSUED: 5, REJECTED: 5, WITHDRAWN: 5}

STATUS_LABELS = {
    SUBMITTED: N_("Đã nộp, chờ tiếp nhận"),
    RECEIVED: N_("Đã tiếp nhận"),
    IN_REVIEW: N_("Đang xem xét, giải quyết"),
    NEEDS_SUPPLEMENT: N_("Cần bổ sung giấy tờ, thông tin"),
    RESUBMITTED: N_("Đã bổ sung, chờ xử lý"),
    APPROVED: N_("Đã duyệt, chờ trả kết quả"),
    RESULT_ISSUED: N_("Đã trả kết quả"),
    REJECTED: N_("Bị từ chối"),
    WITHDRAWN: N_("Đã rút hồ sơ"),
}

# -- roles ---------------------------------------------------------------------------------
DESK, SPECIALIST, LEADER = "receiving_desk", "specialist", "leader"
CITIZEN, SYSTEM = "citizen", "system"
OFFICER_ROLES = (DESK, SPECIALIST, LEADER)
ROLES = (*OFFICER_ROLES, CITIZEN)
ROLE_LABELS = {
    DESK: N_("Bộ phận một cửa (tiếp nhận, trả kết quả)"),
    SPECIALIST: N_("Công chức chuyên môn"),
    LEADER: N_("Lãnh đạo"),
    CITIZEN: N_("Người dân"),
    SYSTEM: N_("Hệ thống"),
}

#: the agencies (``Officer.agency``, ``DossierLeg.agency``; schema.AGENCY_KEYS), as officers read them
AGENCY_LABELS = {
    "commune": N_("UBND cấp xã"),
    "police": N_("Công an cấp xã"),
    "social_insurance": N_("Bảo hiểm xã hội"),
    "social_affairs": N_("Cơ quan xã hội (trợ cấp, người có công)"),
}

# -- actions -------------------------------------------------------------------------------
CLAIM, RELEASE, REASSIGN = "claim", "release", "reassign"
RECEIVE, REVIEW, REQUEST_SUPPLEMENT, RESUBMIT = "receive", "review", "request_supplement", "resubmit"
APPROVE, REJECT, RETURN_RESULT, WITHDRAW = "approve", "reject", "return_result", "withdraw"

#: where each status-changing action leads
DEST = {
    RECEIVE: RECEIVED, REVIEW: IN_REVIEW, REQUEST_SUPPLEMENT: NEEDS_SUPPLEMENT, RESUBMIT: RESUBMITTED,
    APPROVE: APPROVED, REJECT: REJECTED, RETURN_RESULT: RESULT_ISSUED, WITHDRAW: WITHDRAWN,
}
STATUS_ACTIONS = tuple(DEST)
CLAIM_ACTIONS = (CLAIM, RELEASE, REASSIGN)
ACTIONS = STATUS_ACTIONS + CLAIM_ACTIONS

ACTION_LABELS = {
    CLAIM: N_("Nhận xử lý"), RELEASE: N_("Trả lại hàng đợi"), REASSIGN: N_("Giao cho người khác"),
    RECEIVE: N_("Tiếp nhận"), REVIEW: N_("Bắt đầu thẩm định"), REQUEST_SUPPLEMENT: N_("Yêu cầu bổ sung"),
    RESUBMIT: N_("Gửi bổ sung"), APPROVE: N_("Duyệt"), REJECT: N_("Từ chối"),
    RETURN_RESULT: N_("Trả kết quả"), WITHDRAW: N_("Rút hồ sơ"),
}

_S = frozenset
#: The role × action table: for each status-changing action, the statuses each role may apply it in.
#: Claim actions are derived below. Officers must also have claimed the leg (see NEEDS_CLAIM).
PERMISSIONS: dict[str, dict[str, frozenset[str]]] = {
    RECEIVE: {DESK: _S({SUBMITTED, RESUBMITTED}), LEADER: _S({SUBMITTED, RESUBMITTED})},
    REVIEW: {SPECIALIST: _S({RECEIVED, RESUBMITTED}), LEADER: _S({RECEIVED, RESUBMITTED})},
    REQUEST_SUPPLEMENT: {
        DESK: _S({SUBMITTED, RESUBMITTED}),
        SPECIALIST: _S({RECEIVED, IN_REVIEW, RESUBMITTED}),
        LEADER: _S({SUBMITTED, RECEIVED, IN_REVIEW, RESUBMITTED}),
    },
    RESUBMIT: {CITIZEN: _S({NEEDS_SUPPLEMENT})},
    APPROVE: {SPECIALIST: _S({IN_REVIEW, RESUBMITTED}), LEADER: _S({RECEIVED, IN_REVIEW, RESUBMITTED})},
    REJECT: {  # in NEEDS_SUPPLEMENT only once the supplement's deadline passed (bot/cases/actions.py)
        DESK: _S({SUBMITTED, RESUBMITTED, NEEDS_SUPPLEMENT}),
        SPECIALIST: _S({IN_REVIEW, RESUBMITTED, NEEDS_SUPPLEMENT}),
        LEADER: _S({SUBMITTED, RECEIVED, IN_REVIEW, RESUBMITTED, NEEDS_SUPPLEMENT}),
    },
    RETURN_RESULT: {DESK: _S({APPROVED}), LEADER: _S({APPROVED})},
    WITHDRAW: {CITIZEN: _S({SUBMITTED, RECEIVED, IN_REVIEW, NEEDS_SUPPLEMENT, RESUBMITTED})},
}


def _claimable(role: str) -> frozenset[str]:
    """An officer may claim a leg in a status where their role can do something with it."""
    out: set[str] = set()
    for by_role in PERMISSIONS.values():
        out |= by_role.get(role, set())
    return frozenset(out)


PERMISSIONS[CLAIM] = {r: _claimable(r) for r in OFFICER_ROLES}
PERMISSIONS[RELEASE] = {r: frozenset(OPEN - {NEEDS_SUPPLEMENT}) | {APPROVED} for r in OFFICER_ROLES}
PERMISSIONS[REASSIGN] = {LEADER: frozenset(OPEN | {APPROVED})}

NEEDS_CLAIM = frozenset({RECEIVE, REVIEW, REQUEST_SUPPLEMENT, APPROVE, REJECT, RETURN_RESULT})
NEEDS_REASON = frozenset({REQUEST_SUPPLEMENT, REJECT})
#: after these, the leg goes back to its agency's queue (handed over to the next desk)
RELEASES_CLAIM = frozenset({RECEIVE, APPROVE})
#: a downstream leg of a linked dossier does these only once its upstream leg has a result
NEEDS_UPSTREAM = frozenset({APPROVE, RETURN_RESULT})
#: the statuses in which a leg has a result (its number) that downstream legs may use
WITH_RESULT = frozenset({APPROVED, RESULT_ISSUED})

#: audit notes that are no action of the table: the upstream leg's result handed on, a leg closed with it
UPSTREAM_RESULT, UPSTREAM_CLOSED = "upstream_result", "upstream_closed"
#: an officer's apology for a late leg with a new appointment date (bot/cases/apology.py); the status stays
REAPPOINT = "reappoint"
NOTE_LABELS = {
    UPSTREAM_RESULT: N_("Nhận kết quả của phần liên thông trước"),
    UPSTREAM_CLOSED: N_("Không thực hiện do phần liên thông trước bị từ chối"),
    REAPPOINT: N_("Xin lỗi và hẹn lại ngày trả kết quả"),
}


def event_label(action: str | None) -> str | None:
    """The label (a msgid) of an audit event's action or note; None for a bare status change."""
    if not action:
        return None
    return ACTION_LABELS.get(action) or NOTE_LABELS.get(action) or action


def allowed(role: str, action: str, status: str) -> bool:
    """Whether the role table lets ``role`` do ``action`` on a leg in ``status`` (claims aside)."""
    return status in PERMISSIONS.get(action, {}).get(role, frozenset())


def actions_for(role: str, status: str) -> list[str]:
    """The actions the table allows ``role`` in ``status``, in a stable order."""
    return [a for a in ACTIONS if allowed(role, a, status)]


# -- acting ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Actor:
    key: str                    # chat key, or "officer:<id>", or "cli:<name>"
    role: str                   # one of ROLES (or SYSTEM)
    officer_id: int | None = None
    unit: str | None = None     # "agency/commune" for officers


@dataclass
class Act:
    action: str
    actor: Actor
    reason: str | None = None
    result_number: str | None = None
    items: list[str] = field(default_factory=list)   # requested fields or documents
    target: int | None = None                        # reassign: the new assignee's officer id


class Refused(Exception):
    """An action the lifecycle does not allow; ``code`` says which guard failed, ``message`` is Vietnamese
    (a gettext msgid, with ``params``)."""

    def __init__(self, code: str, message: str, /, **params: Any):
        super().__init__(message.format(**params) if params else message)
        self.code = code
        self.message = message
        self.params = params


@dataclass
class LegState:
    """What the machine needs to know about a leg."""

    state: str
    claimed_by: int | None = None
    waiting_for: str | None = None  # the title (msgid) of an upstream leg that has no result yet


def _blank(v: str | None) -> bool:
    return v is None or not str(v).strip()


def check(leg: LegState, act: Act) -> None:
    """Raise :class:`Refused` with the first failing guard, or return if ``act`` is allowed."""
    a, actor = act.action, act.actor
    if a not in PERMISSIONS:
        raise Refused("unknown", N_("Thao tác không hợp lệ."))
    if leg.state not in STATUSES:
        raise Refused("status", N_("Trạng thái hồ sơ không hợp lệ."))
    if not any(leg.state in s for s in PERMISSIONS[a].values()):
        raise Refused("status", N_("Không thể “{action}” khi hồ sơ đang ở trạng thái “{status}”."),
                      action=ACTION_LABELS[a], status=STATUS_LABELS[leg.state])
    if not allowed(actor.role, a, leg.state):
        raise Refused("role", N_("Vai trò của bạn không được “{action}” hồ sơ ở trạng thái “{status}”."),
                      action=ACTION_LABELS[a], status=STATUS_LABELS[leg.state])
    if a in NEEDS_UPSTREAM and leg.waiting_for:
        raise Refused("upstream", N_("Chưa thể “{action}”: phần việc này chờ kết quả “{part}”. Khi có kết quả (số "
                                     "trích lục, giấy tờ), bạn sẽ được báo để xử lý tiếp."),
                      action=ACTION_LABELS[a], part=leg.waiting_for)
    if a == CLAIM and leg.claimed_by is not None and leg.claimed_by != actor.officer_id:
        raise Refused("claimed", N_("Hồ sơ đang do cán bộ khác xử lý. Lãnh đạo có thể giao lại."))
    if a == RELEASE and leg.claimed_by != actor.officer_id and actor.role != LEADER:
        raise Refused("claim", N_("Bạn chưa nhận xử lý hồ sơ này."))
    if a in NEEDS_CLAIM and leg.claimed_by is not None and leg.claimed_by != actor.officer_id:
        # (also a stale action: the officer held it, and a leader has given it to someone else meanwhile)
        raise Refused("claimed", N_("Hồ sơ đang do cán bộ khác xử lý. Lãnh đạo có thể giao lại."))
    if a in NEEDS_CLAIM and (actor.officer_id is None or leg.claimed_by != actor.officer_id):
        raise Refused("claim", N_("Bạn cần “Nhận xử lý” hồ sơ trước khi thao tác."))
    if a in NEEDS_REASON and _blank(act.reason):
        raise Refused("reason", N_("Vui lòng nêu lý do."))
    if a == REQUEST_SUPPLEMENT and not act.items:
        raise Refused("items", N_("Vui lòng chọn ít nhất một mục cần bổ sung."))
    if a == APPROVE and _blank(act.result_number):
        raise Refused("result_number", N_("Vui lòng nhập số, ký hiệu văn bản kết quả."))
    if a == REASSIGN and act.target is None:
        raise Refused("target", N_("Vui lòng chọn cán bộ được giao."))


# The `transitions` machine. Its conditions are the same guards as `check`; `fire` calls `check`
# first (for a precise refusal) and then the machine, which is the single place a status changes.
class _Guards:
    @staticmethod
    def guard_ok(event) -> bool:
        try:
            check(LegState(event.model.state, event.model.claimed_by, event.model.waiting_for), event.kwargs["act"])
        except Refused:
            return False
        return True


def _transitions() -> list[dict[str, Any]]:
    rows = []
    for action, by_role in PERMISSIONS.items():
        sources = sorted(set().union(*by_role.values()))
        for s in sources:
            rows.append({"trigger": action, "source": s, "dest": DEST.get(action),  # None: internal
                         "conditions": "guard_ok"})
    return rows


class _Leg(LegState, _Guards):
    pass


MACHINE = Machine(model=None, states=list(STATUSES), transitions=_transitions(), initial=SUBMITTED,
                  auto_transitions=False, ignore_invalid_triggers=False, send_event=True)


def fire(leg: LegState, act: Act) -> str:
    """Apply ``act`` to ``leg`` (its state and claim are updated); return the new status.

    Raises :class:`Refused` if a guard fails.
    """
    check(leg, act)
    model = _Leg(leg.state, leg.claimed_by, leg.waiting_for)
    MACHINE.add_model(model, initial=leg.state)
    try:
        ok = getattr(model, act.action)(act=act)
    finally:
        MACHINE.remove_model(model)
    if not ok:  # pragma: no cover - check() and the machine's guard are the same function
        raise Refused("guard", N_("Thao tác không được phép."))
    leg.state = model.state
    if act.action == CLAIM:
        leg.claimed_by = act.actor.officer_id
    elif act.action == RELEASE or act.action in RELEASES_CLAIM:
        leg.claimed_by = None
    elif act.action == REASSIGN:
        leg.claimed_by = act.target
    return leg.state


# -- the dossier's status from its legs -----------------------------------------------------
def parent_status(legs: Iterable[str], current: str | None = None) -> str | None:
    """A dossier's status from its legs' statuses (see the module docs for the rule)."""
    legs = list(legs)
    if not legs:
        return current
    if NEEDS_SUPPLEMENT in legs:
        return NEEDS_SUPPLEMENT
    open_legs = [s for s in legs if s not in CLOSED]
    if not open_legs:
        for s in (RESULT_ISSUED, REJECTED, WITHDRAWN):
            if s in legs:
                return s
    return min(open_legs, key=lambda s: PROGRESS[s])


def is_closed(status: str) -> bool:
    return status in CLOSED
