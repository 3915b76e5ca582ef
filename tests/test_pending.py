"""Sub-dialogs (``Session.pending``) are typed, and sessions stored in the old dict format still load.

Every kind of sub-dialog a stored conversation can hold is loaded from the JSON the database has today,
comes back as its typed class, is stored again in the same shape, and the engine carries on from it.
"""
from __future__ import annotations

import json
from datetime import date

import pytest

from dialogs.engine import Draft, Engine, Session
from dialogs.kinds.address import AddressEntry
from dialogs.kinds.attachment import Files
from dialogs.kinds.bank import BankPick
from dialogs.kinds.multi_choice import Items
from dialogs.messages import Ask, Incoming, Message
from dialogs.pending import (
    Confirm,
    Doubted,
    EditField,
    EditSection,
    Ineligible,
    MenuCandidates,
    NameConfirm,
    RemoveItem,
    Revisit,
    SupplementReview,
    from_data,
    to_data,
)
from dialogs.protocol import Withdraw
from tests.conftest import shared_catalog

FUNERAL = "ho-tro-chi-phi-mai-tang"
TODAY = date(2026, 11, 23)
CATALOG = shared_catalog()
ENGINE = Engine(CATALOG, today=lambda: TODAY)

# the sub-dialogs as stored in conversations today, one per kind
STORED = {
    "cancel": ({"kind": "cancel", "resume": {"kind": "revisit", "path": "deceased.full_name"}, "typed": "Huy"},
               Confirm),
    "withdraw": ({"kind": "withdraw", "code": "MT-2611-7KQ4XP9Z", "resume": None}, Confirm),
    "name_confirm": ({"kind": "name_confirm", "path": "deceased.full_name", "proposal": "Nguyễn Văn An",
                      "typed": "Nguyen Van An"}, NameConfirm),
    "name_confirm_early": ({"kind": "name_confirm", "path": "deceased.full_name", "proposal": "Nguyễn Văn An",
                            "typed": "Nguyen Van An", "early": "5/3/1950", "later": ["nam", "Kinh"]}, NameConfirm),
    "menu_candidates": ({"kind": "menu_candidates", "ids": [FUNERAL, "ho-tro-nha-o"]}, MenuCandidates),
    "revisit": ({"kind": "revisit", "path": "deceased.full_name"}, Revisit),
    "edit_section": ({"kind": "edit_section", "options": ["deceased", "applicant"]}, EditSection),
    "edit_field": ({"kind": "edit_field", "section": "deceased", "options": ["deceased.full_name"]}, EditField),
    "items": ({"kind": "items", "path": "signs.group", "i": 1, "picked": ["a"]}, Items),
    "address": ({"kind": "address", "path": "deceased.residence", "stage": "commune",
                 "value": {"province_code": "68", "province": "Tỉnh Lâm Đồng"}, "options": []}, AddressEntry),
    "address_new": ({"kind": "address", "path": "deceased.residence", "stage": "province", "value": {}},
                    AddressEntry),
    "files": ({"kind": "files", "path": "docs.death_notice",
               "files": [{"sha256": "ab" * 32, "mime": "image/jpeg", "size": 10, "name": None}]}, Files),
    "ineligible": ({"kind": "ineligible", "rule": "not_covered"}, Ineligible),
    "supplement_review": ({"kind": "supplement_review"}, SupplementReview),
    "bank": ({"kind": "bank", "path": "payee.bank", "options": ["970405", "970418"]}, BankPick),
    "remove_item": ({"kind": "remove_item", "item": "members[2]"}, RemoveItem),
    "doubted": ({"kind": "doubted", "path": "deceased.birth_date", "typed": "20/11/2026", "shown": "20/11/2026"},
                Doubted),
}


@pytest.mark.parametrize("name", sorted(STORED))
def test_stored_sub_dialog_loads_typed_and_stores_the_same_shape(name):
    data, cls = STORED[name]
    blob = json.loads(json.dumps({"state": "collecting", "procedure": FUNERAL, "pending": data}))
    session = Session.from_data("u", blob, [])
    assert isinstance(session.pending, cls) and session.pending.kind == data["kind"]
    assert session.conversation_data()["pending"] == data
    assert to_data(from_data(json.loads(json.dumps(to_data(session.pending))))) == data


def test_unknown_or_broken_sub_dialogs_are_dropped_not_fatal():
    for data in ({"kind": "no-such-kind"}, {"no": "kind"}, "cancel", 7, {"kind": "revisit", "path": [1, 2],
                                                                          "i": {"x": 1}}):
        session = Session.from_data("u", {"state": "menu", "pending": data}, [])
        out = ENGINE.handle(session, Incoming(text="menu"))
        assert out.error is None and isinstance(out.replies[-1], Ask)


def _collecting() -> dict:
    return {"state": "collecting", "lang": "vi", "procedure": FUNERAL, "pending": None, "errors": 0}


def _session(conv: dict, answers: dict | None = None) -> Session:
    draft = Draft(id="d1", procedure=FUNERAL, version=CATALOG.get(FUNERAL).version, answers=answers or {},
                  history=list(answers or {}))
    return Session.from_data("u", json.loads(json.dumps(conv)), [draft])


def test_old_cancel_confirmation_carries_on():
    conv = dict(_collecting(), pending={"kind": "cancel", "resume": None})
    session = _session(conv)
    out = ENGINE.handle(session, Incoming(choice="no"))
    assert [r.text for r in out.replies if isinstance(r, Message)] == ["Được, chúng ta tiếp tục."]
    assert isinstance(out.replies[-1], Ask) and session.pending is None and session.state == "collecting"
    session = _session(conv)
    out = ENGINE.handle(session, Incoming(text="có"))
    assert session.state == "cancelled" and FUNERAL in session.deleted_drafts


def test_old_withdraw_confirmation_asks_the_runtime():
    conv = {"state": "menu", "lang": "vi", "pending": {"kind": "withdraw", "code": "MT-2611-7KQ4XP9Z",
                                                       "resume": None}}
    session = Session.from_data("u", conv, [])
    out = ENGINE.handle(session, Incoming(choice="yes"))
    assert out.requests == [Withdraw(code="MT-2611-7KQ4XP9Z")] and out.accepted
    assert session.pending is None


ANSWERED = {"filer.role": "self", "consent.sensitive": True, "deceased.cause": "thien_tai"}


def test_old_name_confirmation_carries_on():
    conv = dict(_collecting(), pending={"kind": "name_confirm", "path": "deceased.full_name",
                                        "proposal": "Nguyễn Văn An", "typed": "Nguyen Van An"})
    session = _session(conv, dict(ANSWERED))
    out = ENGINE.handle(session, Incoming(choice="proposal"))
    assert out.error is None and out.accepted
    assert session.draft.answers["deceased.full_name"] == "Nguyễn Văn An"
    assert out.replies[-1].field == "deceased.birth_date"


def test_old_address_steps_carry_on():
    conv = dict(_collecting(), pending={"kind": "address", "path": "deceased.residence", "stage": "commune",
                                        "value": {"province_code": "68", "province": "Tỉnh Lâm Đồng"},
                                        "options": []})
    answers = dict(ANSWERED, **{"deceased.full_name": "Nguyễn Văn An", "deceased.birth_date": "1950-03-05",
                                "deceased.sex": "nam", "deceased.ethnicity": "Kinh"})
    session = _session(conv, answers)
    assert "Lâm Đồng" in ENGINE.start(session).replies[-1].text  # the commune of the province given before
    out = ENGINE.handle(session, Incoming(text="Đức Trọng"))
    assert out.error is None and isinstance(session.pending, AddressEntry) and session.pending.stage == "detail"
