"""The lifecycle machine: role × status × action, allowed and refused; guards; the parent status."""
from __future__ import annotations

import itertools

import pytest

from dialogs import lifecycle as lc
from dialogs.lifecycle import Act, Actor, LegState, Refused

D, S, L, C = lc.DESK, lc.SPECIALIST, lc.LEADER, lc.CITIZEN
SUB, REC, REV, NS, RES = lc.SUBMITTED, lc.RECEIVED, lc.IN_REVIEW, lc.NEEDS_SUPPLEMENT, lc.RESUBMITTED
APP, ISS, REJ, WD = lc.APPROVED, lc.RESULT_ISSUED, lc.REJECTED, lc.WITHDRAWN

# Written out by hand from docs/lifecycle.md, independently of lc.PERMISSIONS: (action, role) -> statuses.
EXPECTED = {
    ("receive", D): {SUB, RES}, ("receive", L): {SUB, RES},
    ("review", S): {REC, RES}, ("review", L): {REC, RES},
    ("request_supplement", D): {SUB, RES}, ("request_supplement", S): {REC, REV, RES},
    ("request_supplement", L): {SUB, REC, REV, RES},
    ("resubmit", C): {NS},
    ("approve", S): {REV, RES}, ("approve", L): {REC, REV, RES},
    # rejecting a dossier waiting for the citizen: only once the supplement's deadline passed (bot/cases)
    ("reject", D): {SUB, RES, NS}, ("reject", S): {REV, RES, NS}, ("reject", L): {SUB, REC, REV, RES, NS},
    ("return_result", D): {APP}, ("return_result", L): {APP},
    ("withdraw", C): {SUB, REC, REV, NS, RES},
    ("claim", D): {SUB, RES, APP, NS}, ("claim", S): {REC, REV, RES, NS},
    ("claim", L): {SUB, REC, REV, RES, APP, NS},
    ("release", D): {SUB, REC, REV, RES, APP}, ("release", S): {SUB, REC, REV, RES, APP},
    ("release", L): {SUB, REC, REV, RES, APP},
    ("reassign", L): {SUB, REC, REV, NS, RES, APP},
}
DEST = {"receive": REC, "review": REV, "request_supplement": NS, "resubmit": RES, "approve": APP,
        "reject": REJ, "return_result": ISS, "withdraw": WD}

OFFICER_ID = 7


def _act(action: str, role: str) -> Act:
    officer = role in lc.OFFICER_ROLES
    actor = Actor(key="k", role=role, officer_id=OFFICER_ID if officer else None)
    return Act(action, actor, reason="lý do", result_number="12/QĐ-UBND", items=["deceased.full_name"],
               target=8)


MATRIX = list(itertools.product(lc.ROLES, lc.STATUSES, lc.ACTIONS))


@pytest.mark.parametrize("role,status,action", MATRIX, ids=["-".join(x) for x in MATRIX])
def test_role_status_action_matrix(role, status, action):
    allowed = status in EXPECTED.get((action, role), set())
    assert lc.allowed(role, action, status) is allowed
    # the leg is claimed by the acting officer (claim itself: by nobody), so only the table decides
    leg = LegState(status, claimed_by=None if action == "claim" else OFFICER_ID)
    if allowed:
        new = lc.fire(leg, _act(action, role))
        assert new == DEST.get(action, status)
    else:
        with pytest.raises(Refused) as exc:
            lc.fire(leg, _act(action, role))
        assert exc.value.code in ("role", "status")
        assert leg.state == status  # nothing changed


def test_every_officer_action_needs_the_claim():
    for action in sorted(lc.NEEDS_CLAIM):
        role, status = next((r, min(s)) for (a, r), s in EXPECTED.items() if a == action and r in lc.OFFICER_ROLES)
        for claimed_by, code in ((None, "claim"), (OFFICER_ID + 1, "claimed")):
            with pytest.raises(Refused) as exc:
                lc.fire(LegState(status, claimed_by), _act(action, role))
            assert exc.value.code == code, (action, claimed_by)


def test_claim_taken_by_someone_else_is_refused_and_a_leader_can_reassign():
    leg = LegState(SUB, claimed_by=99)
    with pytest.raises(Refused) as exc:
        lc.fire(leg, _act("claim", D))
    assert exc.value.code == "claimed"
    lc.fire(leg, Act("reassign", Actor("lead", L, officer_id=1), target=OFFICER_ID))
    assert leg.claimed_by == OFFICER_ID and leg.state == SUB
    with pytest.raises(Refused):
        lc.fire(leg, Act("reassign", Actor("spec", S, officer_id=OFFICER_ID), target=1))


@pytest.mark.parametrize("action,role,status,missing,code", [
    ("reject", D, SUB, {"reason": None}, "reason"),
    ("reject", L, REV, {"reason": "   "}, "reason"),
    ("request_supplement", S, REV, {"reason": ""}, "reason"),
    ("request_supplement", S, REV, {"items": []}, "items"),
    ("approve", S, REV, {"result_number": None}, "result_number"),
    ("approve", L, REC, {"result_number": " "}, "result_number"),
])
def test_guards_reason_items_result_number(action, role, status, missing, code):
    act = _act(action, role)
    for k, v in missing.items():
        setattr(act, k, v)
    with pytest.raises(Refused) as exc:
        lc.fire(LegState(status, OFFICER_ID), act)
    assert exc.value.code == code
    assert exc.value.message  # a Vietnamese message for the officer


def test_handover_releases_the_claim():
    leg = LegState(SUB, OFFICER_ID)
    lc.fire(leg, _act("receive", D))
    assert (leg.state, leg.claimed_by) == (REC, None)  # to the specialists' queue
    leg.claimed_by = OFFICER_ID
    lc.fire(leg, _act("review", S))
    lc.fire(leg, _act("approve", S))
    assert (leg.state, leg.claimed_by) == (APP, None)  # back to the desk to return the result
    leg.claimed_by = OFFICER_ID
    lc.fire(leg, _act("return_result", D))
    assert leg.state == ISS and lc.is_closed(leg.state)


def test_supplement_keeps_the_claim_for_the_requester():
    leg = LegState(REV, OFFICER_ID)
    lc.fire(leg, _act("request_supplement", S))
    assert (leg.state, leg.claimed_by) == (NS, OFFICER_ID)
    lc.fire(leg, _act("resubmit", C))
    assert (leg.state, leg.claimed_by) == (RES, OFFICER_ID)


@pytest.mark.parametrize("legs,expected", [
    ([], None),
    ([SUB], SUB),
    ([REV, NS], NS),
    ([ISS, NS], NS),
    ([REC, REV], REC),
    ([REV, RES], RES),
    ([APP, REV, ISS], REV),
    ([APP, REJ], APP),
    ([ISS, ISS], ISS),
    ([ISS, REJ], ISS),
    ([REJ, WD], REJ),
    ([WD, WD], WD),
])
def test_parent_status(legs, expected):
    assert lc.parent_status(legs) == expected
    assert lc.parent_status(legs, "submitted") == (expected or "submitted")


def test_labels_cover_everything():
    assert set(lc.STATUS_LABELS) == set(lc.STATUSES)
    assert set(lc.ACTION_LABELS) == set(lc.ACTIONS)
    assert set(lc.ROLE_LABELS) >= set(lc.ROLES)
