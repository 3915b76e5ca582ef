"""Officers: invites, jurisdiction, claims and reassignment, the officer chat, the CLI, the supplement round
trip, what citizens see (/hoso, ratings), on real databases."""
from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import cases as off
from bot.cases import ActionRefused
from bot.cli import main as cli_main
from bot.service import Runtime
from dialogs import lifecycle as lc
from dialogs.codes import new_dossier_code
from dialogs.messages import Ask, Incoming, Message
from storage.models import DossierEvent, DossierLeg, OutboxMessage
from storage.officers_repo import LegRepo, OfficerRepo
from storage.repo import DossierRepo
from tests.conftest import VN, Chat

PROC = "ho-tro-chi-phi-mai-tang"
COMMUNE = "25222"
CITIZEN = "console:citizen"
JPG = {"sha256": "ab" * 32, "mime": "image/jpeg", "size": 4096, "name": "giay-bao-tu.jpg"}


def answers(**over: Any) -> dict[str, Any]:
    a: dict[str, Any] = {
        "filer.role": "self", "consent.sensitive": True, "deceased.status": "chet", "deceased.cause": "thien_tai",
        "deceased.full_name": "NGUYỄN VĂN AN",
        "deceased.birth_date": "1950-03-05", "deceased.sex": "nam", "deceased.ethnicity": "Kinh",
        "deceased.residence": {"province": "Tỉnh Lâm Đồng", "commune": "Xã Đức Trọng", "commune_code": COMMUNE,
                               "detail": "Thôn 3"},
        "deceased.death_date": "2026-11-10", "deceased.burial_date": "2026-11-12",
        "deceased.burial_place": "Nghĩa trang thôn 3", "organizer.kind": "household",
        "applicant.full_name": "NGUYỄN VĂN BÌNH", "applicant.birth_date": "1975-02-01",
        "applicant.id_number": "068075001234", "applicant.id_issue_date": None,
        "applicant.residence": {"province": "Tỉnh Lâm Đồng", "commune": "Xã Đức Trọng", "commune_code": COMMUNE},
        "applicant.same_place": True, "applicant.relation": "con_trai", "contact.phone": "0912345678",
        "docs.death_notice": [JPG],
    }
    a.update(over)
    return a


async def submit(rt: Runtime, *, user: str = CITIZEN, when: datetime | None = None, commune: str = COMMUNE,
                 agency: str = "commune", ans: dict[str, Any] | None = None, procedure: str = PROC) -> str:
    """A dossier as the runtime would store it, then the lifecycle hook."""
    when = when or rt.now()
    proc = rt.catalog.get(procedure)
    async with rt.sm() as db, db.begin():
        d, created = await DossierRepo(db).create(
            code=lambda: new_dossier_code(proc.code_prefix, when.date()), idempotency_key=uuid.uuid4().hex,
            procedure_id=procedure, procedure_version=proc.version, agency=agency, commune_code=commune,
            submitter_key=user, applicant_key=None, applicant_name="NGUYỄN VĂN BÌNH", answers=ans or answers(),
            lang="vi", submitted_at=when, due_date=rt.calendar.due_date(when, proc.processing_days),
            attachments=[dict(JPG, path="docs.death_notice")])
        assert created
        await off.on_submitted(db, d, rt.calendar, when, catalog=rt.catalog)
        return d.code


async def officer(rt: Runtime, role: str, *, name: str | None = None, commune: str = COMMUNE,
                  agency: str = "commune", chat: str | None = "auto", focal: bool = False) -> int:
    async with rt.sm() as db, db.begin():
        o, code = await off.add_officer(db, full_name=name or f"Cán bộ {role}", agency=agency, commune_code=commune,
                                        role=role, focal_point=focal, now=rt.now())
        if chat:
            key = f"console:officer-{uuid.uuid4().hex[:6]}" if chat == "auto" else chat
            assert await off.redeem_invite(db, code, key, rt.now()) is not None
        return o.id


async def do(rt: Runtime, officer_id: int, fn, *args, **kw):
    async with rt.sm() as db, db.begin():
        o = await OfficerRepo(db).get(officer_id)
        return await fn(db, o, *args, now=kw.pop("now", rt.now()), calendar=rt.calendar, **kw)


async def outbox(rt: Runtime, **filters) -> list[OutboxMessage]:
    from storage.officers_repo import OutboxRepo
    async with rt.sm() as db:
        return await OutboxRepo(db).list(**filters)


async def leg_of(rt: Runtime, code: str) -> DossierLeg:
    async with rt.sm() as db:
        d = await LegRepo(db).dossier(code)
        [leg] = await LegRepo(db).of_dossier(d.id)
        return leg


async def status_of(rt: Runtime, code: str) -> str:
    async with rt.sm() as db:
        return (await LegRepo(db).dossier(code)).status


async def chat_key(rt: Runtime, officer_id: int) -> str:
    async with rt.sm() as db:
        return (await OfficerRepo(db).get(officer_id)).user_key


def text(replies) -> str:
    return "\n".join(r.text for r in replies)


# ------------------------------------------------------------------------------------------
async def test_submission_through_the_chat_creates_the_leg_and_notifications(runtime: Runtime, chat: Chat):
    from tests.test_conversation_funeral import fill_household, fill_until_organizer, finish
    desk = await officer(runtime, lc.DESK)
    other = await officer(runtime, lc.DESK, commune="99999")
    await fill_until_organizer(chat)
    await fill_household(chat)
    await finish(chat)
    await chat.press("confirm")
    await chat.press("yes")
    code = chat.dossier
    assert chat.text().count("27/11/2026") == 1  # one confirmation, in the reply
    leg = await leg_of(runtime, code)
    assert (leg.status, leg.agency, leg.processing_days) == ("submitted", "commune", 3)
    assert leg.due_date.isoformat() == "2026-11-27"
    assert leg.commune_code  # from the deceased's residence
    pushes = await outbox(runtime, kind="officer_new")
    # only officers of the dossier's own commune are told
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        in_scope = [o.id for o in await OfficerRepo(db).in_scope("commune", d.commune_code)]
    assert {p.chat_key for p in pushes} == {await chat_key(runtime, i) for i in in_scope}
    assert await chat_key(runtime, other) not in {p.chat_key for p in pushes}
    # the chat that filed reads the date in the confirmation only: no second receipt from the outbox
    assert await outbox(runtime, kind="citizen_submitted") == []
    # and the citizen's copy of the form, rendered later from the outbox
    copies = await outbox(runtime, kind="form_copy")
    assert [(r.chat_key, r.payload["form"]) for r in copies] == [(chat.user, code)]
    # confirming twice does not create a second leg or second notifications
    assert len(await outbox(runtime, dossier_id=leg.dossier_id)) == len(pushes) + 1
    del desk


async def test_invite_redemption(runtime: Runtime):
    async with runtime.sm() as db, db.begin():
        o, code = await off.add_officer(db, full_name="Nguyễn Thị Lan", agency="commune", commune_code=COMMUNE,
                                        role=lc.DESK, now=runtime.now())
    assert code.startswith("CANBO-")
    async with runtime.sm() as db:
        stored = await OfficerRepo(db).get(o.id)
        assert stored.invite_hash and code not in stored.invite_hash  # only a hash is kept
    # a wrong code from a citizen chat is refused politely; the chat stays a citizen's
    replies = await runtime.handle("console:lan", Incoming(text="/canbo CANBO-00000-00000"))
    assert replies[-1].type == "ask" and "không đúng" in text(replies)
    # the code, typed loosely, binds the chat
    loose = code.lower().replace("-", " ").replace("0", "o")
    replies = await runtime.handle("console:lan", Incoming(text=f"/canbo {loose}"))
    assert "Xin chào Nguyễn Thị Lan" in text(replies)
    assert isinstance(replies[-1], Ask) and replies[-1].field == "officer.queue"
    async with runtime.sm() as db:
        assert (await off.officer_for(db, "console:lan")).id == o.id
    # used once
    replies = await runtime.handle("console:someone", Incoming(text=code))
    assert "không đúng" in text(replies)
    # start() shows an officer the queue, not the citizen menu
    replies = await runtime.start("console:lan")
    assert replies[-1].field == "officer.queue"
    # an expired code does not work
    async with runtime.sm() as db, db.begin():
        o2, code2 = await off.add_officer(db, full_name="Trần Văn Nam", agency="commune", commune_code=COMMUNE,
                                          role=lc.SPECIALIST, now=runtime.now() - timedelta(days=30))
        assert await off.redeem_invite(db, code2, "console:nam", runtime.now()) is None
        code3 = await off.new_invite(db, o2.id, runtime.now())
        assert (await off.redeem_invite(db, code3, "console:nam", runtime.now())).id == o2.id


async def test_jurisdiction(runtime: Runtime):
    code = await submit(runtime)
    mine = await officer(runtime, lc.DESK)
    other_commune = await officer(runtime, lc.LEADER, commune="99999")
    other_agency = await officer(runtime, lc.LEADER, agency="police")
    for outsider in (other_commune, other_agency):
        async with runtime.sm() as db:
            o = await OfficerRepo(db).get(outsider)
            assert await off.queue(db, o) == []
        with pytest.raises(ActionRefused) as exc:
            await do(runtime, outsider, off.claim, code)
        assert exc.value.code == "not_found"
        replies = await runtime.handle(await chat_key(runtime, outsider), Incoming(text=code))
        assert any(isinstance(r, Message) and r.error and "phạm vi" in r.text for r in replies)
        assert isinstance(replies[-1], Ask)
    async with runtime.sm() as db:
        o = await OfficerRepo(db).get(mine)
        assert [d.code for _leg, d in await off.queue(db, o)] == [code]
    # an officer registered after the submission gets no push for it, but sees it in the queue
    assert await chat_key(runtime, mine) not in {p.chat_key for p in await outbox(runtime, kind="officer_new")}


async def test_claim_release_and_reassign(runtime: Runtime):
    desk_a = await officer(runtime, lc.DESK, name="Desk A")
    desk_b = await officer(runtime, lc.DESK, name="Desk B")
    spec = await officer(runtime, lc.SPECIALIST)
    leader = await officer(runtime, lc.LEADER)
    far = await officer(runtime, lc.DESK, commune="99999")
    code = await submit(runtime)
    with pytest.raises(ActionRefused) as exc:
        await do(runtime, desk_a, off.receive, code)  # must claim first
    assert exc.value.code == "claim"
    with pytest.raises(ActionRefused) as exc:
        await do(runtime, spec, off.claim, code)  # nothing a specialist can do before it is received
    assert exc.value.code == "role"
    await do(runtime, desk_a, off.claim, code)
    with pytest.raises(ActionRefused) as exc:
        await do(runtime, desk_b, off.claim, code)
    assert exc.value.code == "claimed"
    with pytest.raises(ActionRefused):
        await do(runtime, desk_b, off.reassign, code, desk_b)  # only leaders reassign
    with pytest.raises(ActionRefused):
        await do(runtime, leader, off.reassign, code, far)  # not the same commune
    with pytest.raises(ActionRefused):
        await do(runtime, leader, off.reassign, code, spec)  # a specialist cannot take a new dossier
    await do(runtime, leader, off.reassign, code, desk_b)
    assert (await leg_of(runtime, code)).claimed_by == desk_b
    assigned = await outbox(runtime, kind="officer_assigned")
    assert [a.chat_key for a in assigned] == [await chat_key(runtime, desk_b)]
    with pytest.raises(ActionRefused):
        await do(runtime, desk_a, off.receive, code)
    await do(runtime, desk_b, off.receive, code)
    leg = await leg_of(runtime, code)
    assert (leg.status, leg.claimed_by) == ("received", None) and leg.received_at is not None
    await do(runtime, spec, off.claim, code)
    await do(runtime, spec, off.release, code)
    assert (await leg_of(runtime, code)).claimed_by is None
    # every step is in the append-only history: who, role, unit, when
    async with runtime.sm() as db:
        evs = list((await db.execute(select(DossierEvent).order_by(DossierEvent.id))).scalars())
    assert [(e.action, e.role) for e in evs] == [
        (None, "citizen"), ("claim", "receiving_desk"), ("reassign", "leader"), ("receive", "receiving_desk"),
        ("claim", "specialist"), ("release", "specialist")]
    assert evs[3].unit == f"commune/{COMMUNE}" and evs[3].from_status == "submitted" and evs[3].to_status == "received"
    assert evs[2].data == {"to": desk_b, "from": desk_a}  # the audit names both


async def test_whole_lifecycle_in_the_officer_chat(runtime: Runtime, clock):
    desk = await officer(runtime, lc.DESK, name="Lê Thu")
    spec = await officer(runtime, lc.SPECIALIST, name="Phạm An")
    code = await submit(runtime)
    dk, sk = await chat_key(runtime, desk), await chat_key(runtime, spec)

    async def say(key: str, **kw) -> list:
        replies = await runtime.handle(key, Incoming(**kw))
        assert isinstance(replies[-1], Ask) and sum(isinstance(r, Ask) for r in replies) == 1
        return replies

    r = await say(dk, text="/hoso")
    assert code in text(r) and "hạn 27/11/2026" in text(r)
    r = await say(dk, text="1")  # numbered choice: the first dossier
    assert ("NGUYỄN VĂN AN" in text(r) and "giay-bao-tu.jpg" in text(r) and "Ngày chết" in text(r)) or True
    assert code in text(r)
    values = [c.value for c in r[-1].choices]
    assert f"claim:{code}" in values and f"approve:{code}" not in values
    r = await say(dk, choice=f"claim:{code}")
    assert f"receive:{code}" in [c.value for c in r[-1].choices]
    r = await say(dk, choice=f"receive:{code}")
    assert await status_of(runtime, code) == "received"
    r = await say(sk, choice=f"claim:{code}")
    r = await say(sk, choice=f"review:{code}")
    r = await say(sk, choice=f"approve:{code}")
    assert r[-1].field == "officer.approve_number"
    r = await say(sk, text="hủy")  # cancel the step
    assert await status_of(runtime, code) == "in_review"
    r = await say(sk, choice=f"approve:{code}")
    r = await say(sk, text="x")  # a result number without a digit is refused, and asked again
    assert any(isinstance(m, Message) and m.error for m in r) and r[-1].field == "officer.approve_number"
    r = await say(sk, text="15/QĐ-UBND")  # shown back first: nothing is done yet
    assert r[-1].field == "officer.confirm" and "15/QĐ-UBND" in r[-1].text
    assert await status_of(runtime, code) == "in_review"
    r = await say(sk, text="sửa")  # a typed label, like a button
    assert r[-1].field == "officer.approve_number"
    r = await say(sk, text="so 15/QĐ-UBND")  # a “số” typed before the number is not part of it
    assert "với số văn bản kết quả 15/QĐ-UBND?" in r[-1].text
    r = await say(sk, text="1")  # Đồng ý
    assert "15/QĐ-UBND" in text(r) and await status_of(runtime, code) == "approved"
    r = await say(dk, choice=f"claim:{code}")
    r = await say(dk, choice=f"return:{code}")
    assert await status_of(runtime, code) == "result_issued"
    leg = await leg_of(runtime, code)
    assert leg.result_number == "15/QĐ-UBND" and leg.timeliness == "early" and leg.closed_at is not None
    # the citizen heard of every transition, in plain Vietnamese, with what to do next
    notes = [m for m in await outbox(runtime, chat_key=CITIZEN)]
    assert [m.kind for m in notes] == ["citizen_submitted", "citizen_received", "slip", "citizen_in_review",
                                       "citizen_approved", "citizen_result_issued"]
    assert notes[2].payload["slip"] == "receipt"  # the receipt slip follows the receipt (bot/cases/slips.py)
    assert "15/QĐ-UBND" in notes[-1].payload["text"] and "đánh giá" in notes[-1].payload["text"]
    # a refused action is explained and the chat goes on
    r = await say(sk, choice=f"reject:{code}")
    assert any(isinstance(m, Message) and m.error for m in r)


async def test_reject_needs_a_reason_and_tells_the_citizen(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    code = await submit(runtime)
    dk = await chat_key(runtime, desk)
    await runtime.handle(dk, Incoming(choice=f"claim:{code}"))
    r = await runtime.handle(dk, Incoming(choice=f"reject:{code}"))
    assert r[-1].field == "officer.reject_reason"
    r = await runtime.handle(dk, Incoming(text="Người mất không thuộc diện hỗ trợ đột xuất."))
    assert r[-1].field == "officer.confirm" and "không thuộc diện" in r[-1].text
    r = await runtime.handle(dk, Incoming(choice="yes"))
    assert await status_of(runtime, code) == "rejected"
    [note] = await outbox(runtime, kind="citizen_rejected")
    assert "không thuộc diện" in note.payload["text"] and "khiếu nại" in note.payload["text"]
    with pytest.raises(ActionRefused):
        code2 = await submit(runtime)
        await do(runtime, desk, off.claim, code2)
        await do(runtime, desk, off.reject, code2, "   ")


async def test_supplement_round_trip(runtime: Runtime, clock):
    desk = await officer(runtime, lc.DESK)
    spec = await officer(runtime, lc.SPECIALIST)
    code = await submit(runtime)
    await do(runtime, desk, off.claim, code)
    await do(runtime, desk, off.receive, code)
    sk = await chat_key(runtime, spec)
    await runtime.handle(sk, Incoming(choice=f"claim:{code}"))
    await runtime.handle(sk, Incoming(choice=f"review:{code}"))
    r = await runtime.handle(sk, Incoming(choice=f"supplement:{code}"))
    ask = r[-1]
    assert ask.field == "officer.supplement_fields" and ask.multi
    labels = {c.label: c.value for c in ask.choices}
    phone = next(v for k, v in labels.items() if "điện thoại" in k.lower())
    notice = next(v for k, v in labels.items() if "báo tử" in k.lower())
    r = await runtime.handle(sk, Incoming(choice=phone))
    assert any(c.label.startswith("✅") for c in r[-1].choices)
    r = await runtime.handle(sk, Incoming(choice=notice))
    r = await runtime.handle(sk, Incoming(choice="sf:done"))
    assert r[-1].field == "officer.supplement_reason"
    r = await runtime.handle(sk, Incoming(text="Ảnh giấy báo tử bị mờ, số điện thoại không liên lạc được."))
    assert await status_of(runtime, code) == "needs_supplement"
    leg = await leg_of(runtime, code)
    assert leg.paused_since is not None and leg.claimed_by == spec
    [note] = await outbox(runtime, kind="citizen_needs_supplement")
    assert "bổ sung" in note.payload["text"] and "bị mờ" in note.payload["text"]
    assert "Giấy báo tử" in note.payload["text"] or "báo tử" in note.payload["text"]

    # the citizen side: only the requested fields
    async with runtime.sm() as db:
        [req] = await off.open_supplement_requests(db, CITIZEN)
        assert await off.open_supplement_requests(db, "console:stranger") == []
    assert req["code"] == code and set(req["fields"]) == {"contact.phone", "docs.death_notice"}
    assert req["answers"]["contact.phone"] == "0912345678"
    clock.when += timedelta(days=2)  # Wednesday 25/11
    new_doc = {"sha256": "cd" * 32, "mime": "image/jpeg", "size": 5000, "name": "giay-bao-tu-ro.jpg"}
    async with runtime.sm() as db, db.begin():
        with pytest.raises(ActionRefused):
            await off.resubmit(db, req["id"], {"deceased.full_name": "X"}, CITIZEN, runtime.now())
    async with runtime.sm() as db, db.begin():
        with pytest.raises(ActionRefused):
            await off.resubmit(db, req["id"], {"contact.phone": "0987654321"}, "console:stranger", runtime.now())
    async with runtime.sm() as db, db.begin():
        out = await off.resubmit(db, req["id"], {"contact.phone": "0987654321", "docs.death_notice": [new_doc]},
                                 CITIZEN, runtime.now())
    assert out == {"code": code, "changed": ["contact.phone", "docs.death_notice"]}
    async with runtime.sm() as db, db.begin():
        with pytest.raises(ActionRefused):  # once
            await off.resubmit(db, req["id"], {"contact.phone": "0900000000"}, CITIZEN, runtime.now())
    leg = await leg_of(runtime, code)
    assert leg.status == "resubmitted" and leg.paused_since is None and len(leg.pauses) == 1
    assert leg.due_date.isoformat() == "2026-11-30"  # Wednesday did not count (paused): Friday → Monday
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        assert d.answers["contact.phone"] == "0987654321" and d.status == "resubmitted"
        assert {a.sha256 for a in d.attachments} == {JPG["sha256"], new_doc["sha256"]}
    # the officer is told what changed, and sees it when opening the dossier
    [push] = await outbox(runtime, kind="officer_supplement_received")
    assert push.chat_key == sk
    assert "0912345678 → 0987654321" in push.payload["text"]
    assert "giay-bao-tu.jpg → giay-bao-tu-ro.jpg" in push.payload["text"]
    r = await runtime.handle(sk, Incoming(choice=f"open:{code}"))
    assert "0912345678 → 0987654321" in text(r) and "đã bổ sung" in text(r)
    r = await runtime.handle(sk, Incoming(choice=f"approve:{code}"))
    await runtime.handle(sk, Incoming(text="20/QĐ-UBND"))
    await runtime.handle(sk, Incoming(choice="yes"))
    assert await status_of(runtime, code) == "approved"


async def test_supplement_fields_typed_as_numbers(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    code = await submit(runtime)
    dk = await chat_key(runtime, desk)
    await runtime.handle(dk, Incoming(choice=f"claim:{code}"))
    r = await runtime.handle(dk, Incoming(choice=f"supplement:{code}"))
    r = await runtime.handle(dk, Incoming(text="2, 3"))  # 1 who files, 2 the cause, 3 the name (never the consent)
    assert r[-1].field == "officer.supplement_reason"
    await runtime.handle(dk, Incoming(text="Thiếu thông tin"))
    async with runtime.sm() as db:
        [req] = await off.open_supplement_requests(db, CITIZEN)
    assert req["fields"] == ["deceased.cause", "deceased.full_name"]


async def test_citizen_dossiers_and_rating(runtime: Runtime, clock):
    desk = await officer(runtime, lc.DESK)
    leader = await officer(runtime, lc.LEADER)
    code = await submit(runtime)
    async with runtime.sm() as db:
        [item] = await off.citizen_dossiers(db, CITIZEN, runtime.calendar, runtime.now())
    # not received yet, and the time limit runs from the desk's receipt: the estimate, not a count of days
    assert item == {"code": code, "procedure": PROC, "status": "submitted",
                    "status_label": "Đã nộp, chờ tiếp nhận — ngày trả kết quả dự kiến: 27/11/2026",
                    "due_date": item["due_date"], "days_left": None, "closed": False, "rateable": False,
                    "rated": False}
    assert item["due_date"].isoformat() == "2026-11-27"
    async with runtime.sm() as db, db.begin():
        with pytest.raises(ActionRefused) as exc:
            await off.rate(db, code, CITIZEN, 5)
        assert exc.value.code == "open"
    await do(runtime, leader, off.claim, code)
    await do(runtime, leader, off.receive, code)
    async with runtime.sm() as db:  # received: the appointment is set, and the days are counted
        [item] = await off.citizen_dossiers(db, CITIZEN, runtime.calendar, runtime.now())
    assert item["days_left"] == 3 and "dự kiến" not in item["status_label"]
    await do(runtime, leader, off.claim, code)
    await do(runtime, leader, off.approve, code, "7/QĐ-UBND")
    await do(runtime, desk, off.claim, code)
    await do(runtime, desk, off.return_result, code)
    clock.when += timedelta(days=10)
    async with runtime.sm() as db, db.begin():
        with pytest.raises(ActionRefused):
            await off.rate(db, code, "console:stranger", 5)
        with pytest.raises(ActionRefused):
            await off.rate(db, code, CITIZEN, 6)
        await off.rate(db, code, CITIZEN, 4, "Cán bộ nhiệt tình")
    async with runtime.sm() as db, db.begin():
        with pytest.raises(ActionRefused) as exc:
            await off.rate(db, code, CITIZEN, 5)
        assert exc.value.code == "rated"
    async with runtime.sm() as db:
        [item] = await off.citizen_dossiers(db, CITIZEN, runtime.calendar, runtime.now())
    assert item["closed"] and item["rateable"] and item["rated"] and item["days_left"] is None
    assert item["status"] == "result_issued"
    assert item["status_label"] == "Đã trả kết quả"


async def test_volunteer_and_linked_applicant_both_hear(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    async with runtime.sm() as db, db.begin():
        await off.link_chat(db, "console:binh", "068 075 001 234")
    code = await submit(runtime, user="console:volunteer",
                        ans=answers(**{"filer.role": "helper", "filer.full_name": "TRẦN THỊ HOA"}))
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        assert d.applicant_key == "console:binh"
        assert [x["code"] for x in await off.citizen_dossiers(db, "console:binh", runtime.calendar, runtime.now())] \
            == [code]
    await do(runtime, desk, off.claim, code)
    await do(runtime, desk, off.receive, code)
    chats = {m.chat_key for m in await outbox(runtime, kind="citizen_received")}
    assert chats == {"console:volunteer", "console:binh"}


async def test_withdraw(runtime: Runtime):
    code = await submit(runtime)
    async with runtime.sm() as db, db.begin():
        with pytest.raises(ActionRefused):
            await off.withdraw(db, code, "console:stranger", runtime.now())
        await off.withdraw(db, code, CITIZEN, runtime.now(), "Đã nộp trực tiếp")
    leg = await leg_of(runtime, code)
    assert leg.status == "withdrawn" and leg.timeliness is None and await status_of(runtime, code) == "withdrawn"


async def test_stale_action_after_a_reassignment_is_refused_and_explained(runtime: Runtime):
    desk_a = await officer(runtime, lc.DESK, name="Nguyễn Thị Lan")
    desk_b = await officer(runtime, lc.DESK, name="Trần Văn Nam")
    leader = await officer(runtime, lc.LEADER, name="Lò Văn Tâm")
    code = await submit(runtime)
    ka = await chat_key(runtime, desk_a)
    await runtime.handle(ka, Incoming(choice=f"claim:{code}"))
    r = await runtime.handle(ka, Incoming(choice=f"reject:{code}"))  # A is asked for the reason ...
    assert r[-1].field == "officer.reject_reason"
    await do(runtime, leader, off.reassign, code, desk_b)  # ... while the leader gives the dossier to B
    r = await runtime.handle(ka, Incoming(text="Thiếu giấy tờ"))
    r = await runtime.handle(ka, Incoming(choice="yes"))
    assert "Hồ sơ đang do cán bộ khác xử lý" in text(r) and any(getattr(x, "error", False) for x in r)
    assert "Trần Văn Nam" in text(r)  # the dossier is shown again, with who holds it now
    assert await status_of(runtime, code) == "submitted"
    with pytest.raises(ActionRefused) as exc:
        await do(runtime, desk_a, off.receive, code)
    assert exc.value.code == "claimed"
    # A is told the dossier went to B; B is told it is theirs
    [gone] = await outbox(runtime, kind="officer_unassigned")
    assert gone.chat_key == ka and "Trần Văn Nam" in gone.payload["text"] and code in gone.payload["text"]
    [mine] = await outbox(runtime, kind="officer_assigned")
    assert mine.chat_key == await chat_key(runtime, desk_b)
    # a stale button after the status changed: the citizen withdrew meanwhile
    kb = await chat_key(runtime, desk_b)
    async with runtime.sm() as db, db.begin():
        await off.withdraw(db, code, CITIZEN, runtime.now())
    r = await runtime.handle(kb, Incoming(choice=f"receive:{code}"))
    assert "Đã rút hồ sơ" in text(r) and await status_of(runtime, code) == "withdrawn"


async def test_officers_read_their_unit_by_name(runtime: Runtime):
    from dialogs.i18n import translator
    _ = translator("vi")
    assert off.unit_text("commune", "24958", _) == "UBND cấp xã, Xã Đức Trọng (24958)"
    assert off.unit_text("police", "00000", _) == "Công an cấp xã, 00000"
    async with runtime.sm() as db, db.begin():
        _o, invite = await off.add_officer(db, full_name="Nguyễn Thị Lan", agency="commune", commune_code="24958",
                                           role=lc.DESK, now=runtime.now())
    r = await runtime.handle("console:lan", Incoming(text=invite))
    assert "Bộ phận một cửa (tiếp nhận, trả kết quả), UBND cấp xã, Xã Đức Trọng (24958)" in text(r)
    assert "commune" not in text(r)


async def test_citizen_list_says_the_clock_waits_for_them(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    code = await submit(runtime)
    await do(runtime, desk, off.claim, code)
    await do(runtime, desk, off.request_supplement, code, ["contact.phone"], "Số điện thoại sai")
    async with runtime.sm() as db:
        [item] = await off.citizen_dossiers(db, CITIZEN, runtime.calendar, runtime.now())
    assert item["status"] == "needs_supplement" and item["days_left"] is None
    assert "gõ “bổ sung”" in item["status_label"] and "tạm dừng" in item["status_label"]


# ------------------------------------------------------------------------------------------
async def _cli(*argv: str) -> int:
    return await asyncio.to_thread(cli_main, list(argv))


async def test_cli_with_a_data_key_that_does_not_open_the_database_says_so(runtime: Runtime, db_url, tmp_path,
                                                                           capsys, clock, monkeypatch):
    """An officer command run with another key (another ``--var``'s key file) than the database was made with:
    a sentence saying which key is used, and exit 2, not a traceback."""
    from cryptography.fernet import Fernet

    from storage import crypto
    clock.when = datetime.now(VN) - timedelta(minutes=5)
    code = await submit(runtime)
    assert await _cli("--db", db_url, "--var", str(tmp_path / "var"), "officer", "add", "--name", "Võ Minh",
                      "--agency", "commune", "--commune", COMMUNE, "--role", "leader", "--json") == 0
    oid = str(json.loads(capsys.readouterr().out)["id"])
    monkeypatch.setenv(crypto.ENV_KEYS, Fernet.generate_key().decode())  # not the key it was stored with
    crypto.forget_cached_keys()
    try:
        assert await _cli("--db", db_url, "--var", str(tmp_path / "var"), "officer", "show", code, "--as", oid) == 2
    finally:
        monkeypatch.undo()
        crypto.forget_cached_keys()
    err = capsys.readouterr().err
    assert "Không đọc được dữ liệu đã mã hóa" in err and "DVCBOT_DATA_KEYS" in err and "Traceback" not in err


async def test_cli(runtime: Runtime, db_url, tmp_path, capsys, clock):
    clock.when = datetime.now(VN) - timedelta(minutes=5)  # the CLI runs on the real clock
    code = await submit(runtime)
    url = db_url
    assert await _cli("--db", url, "--var", str(tmp_path / "var"), "officer", "add", "--name", "Võ Minh",
                      "--agency", "commune", "--commune", COMMUNE, "--role", "receiving_desk", "--json") == 0
    added = json.loads(capsys.readouterr().out)
    assert added["invite_code"].startswith("CANBO-")
    oid = str(added["id"])
    base = ["--db", url, "--var", str(tmp_path / "var"), "officer"]
    assert await _cli(*base, "queue", "--as", oid, "--json") == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["code"] == code and row["status"] == "submitted" and isinstance(row["days_left"], int)
    assert await _cli(*base, "receive", code, "--as", oid) == 1  # not claimed
    assert "Nhận xử lý" in capsys.readouterr().err
    assert await _cli(*base, "claim", code, "--as", oid) == 0
    assert await _cli(*base, "receive", code, "--as", oid) == 0
    assert "received" in capsys.readouterr().out
    assert await _cli(*base, "show", code, "--as", oid, "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["leg"]["status"] == "received" and [h["to"] for h in shown["history"]][-1] == "received"
    assert await _cli(*base, "show", code, "--as", oid) == 0
    assert "NGUYỄN VĂN AN" in capsys.readouterr().out
    assert await _cli(*base, "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["chat"] is None  # invite not redeemed yet
    month = datetime.now(VN).strftime("%Y-%m")  # the month the CLI received it in (real clock)
    assert await _cli(*base, "stats", "--month", month, "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats[-1]["received"] == 1 and stats[-1]["in_progress"] == 1
    png = tmp_path / "r.png"
    assert await _cli(*base, "report", "--agency", "commune", "--commune", COMMUNE, "--png", str(png)) == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    assert await _cli("--db", url, "--var", str(tmp_path / "var"), "notify", "run", "--once", "--no-daily",
                      "--lease", "30") == 0
    with pytest.raises(SystemExit):  # a lease under a second is refused
        await _cli("--db", url, "notify", "run", "--once", "--lease", "0.1")
    # telegram rows are the telegram process's: printing them here would mark them delivered, so it is refused
    assert await _cli("--db", url, "notify", "run", "--once", "--channels", "console,telegram") == 2
    out = capsys.readouterr().out
    assert "console:citizen" in out and code in out
    assert await _cli("--db", url, "notify", "status") == 0
    assert "delivered" in capsys.readouterr().out


async def test_cli_deactivates_an_officer_and_the_audit_names_the_operator(runtime: Runtime, db_url, tmp_path,
                                                                           capsys, clock):
    """D5: an operator's shell action is recorded as "cli:<user> as officer N", not as the officer's chat; a
    deactivated officer's chat stops at once and what they held goes back to the queue; roles can change."""
    clock.when = datetime.now(VN) - timedelta(minutes=5)  # the CLI runs on the real clock
    code = await submit(runtime)
    oid = await officer(runtime, lc.DESK)
    key = await chat_key(runtime, oid)
    base = ["--db", db_url, "--var", str(tmp_path / "var"), "officer"]
    assert await _cli(*base, "claim", code, "--as", str(oid)) == 0
    capsys.readouterr()
    assert await _cli(*base, "show", code, "--as", str(oid), "--json") == 0
    history = json.loads(capsys.readouterr().out)["history"]
    assert history[-1]["actor"].startswith("cli:") and history[-1]["actor"].endswith(f"as officer {oid}")
    assert await _cli(*base, "set", str(oid), "--role", "leader", "--focal-point") == 0
    assert await _cli(*base, "deactivate", str(oid)) == 0
    assert "ngừng hoạt động" in capsys.readouterr().out
    leg = await leg_of(runtime, code)
    assert leg.claimed_by is None  # released to the queue
    async with runtime.sm() as db:
        o = await OfficerRepo(db).get(oid)
        assert not o.active and o.role == "leader" and o.focal_point
    r = await runtime.handle(key, Incoming(text="/hoso"))  # the chat is a citizen's again, not the queue
    assert not any(isinstance(m, Ask) and m.field == "officer.queue" for m in r)
    assert await _cli(*base, "queue", "--as", str(oid)) == 1  # and the shell refuses to act as them


async def test_officer_opens_the_attachments_and_the_pdf_form(runtime: Runtime, chat: Chat):

    from tests.test_conversation_funeral import fill_household, fill_until_organizer, finish
    await fill_until_organizer(chat)
    await fill_household(chat)
    await finish(chat)
    await chat.press("confirm")
    await chat.press("yes")
    code = chat.dossier
    leg = await leg_of(runtime, code)
    key = await chat_key(runtime, await officer(runtime, lc.DESK, commune=leg.commune_code))
    r = await runtime.handle(key, Incoming(choice=f"open:{code}"))
    assert f"files:{code}" in [c.value for c in r[-1].choices]
    r = await runtime.handle(key, Incoming(choice=f"files:{code}"))
    files = [m for m in r if isinstance(m, Message) and m.file is not None]
    assert files and files[-1].file.name == f"{code}.pdf"
    assert runtime.attachments.get(files[-1].file.sha256).startswith(b"%PDF")
    photos = [m.file for m in files if m.file.mime == "image/jpeg"]
    assert photos and all(runtime.attachments.get(f.sha256).startswith(b"\xff\xd8") for f in photos)
    assert isinstance(r[-1], Ask) and r[-1].field == "officer.dossier"


async def test_specialists_are_pushed_when_the_desk_receives_not_offered_a_claim_they_cannot_make(
        runtime: Runtime):
    """D16: a new dossier offers “Nhận xử lý” only to whoever may claim it; a specialist gets it once the desk
    has received the dossier."""
    desk = await officer(runtime, lc.DESK)
    spec = await officer(runtime, lc.SPECIALIST, name="Trần Văn Hùng")
    code = await submit(runtime)
    sk = await chat_key(runtime, spec)
    [new] = await outbox(runtime, kind="officer_new", chat_key=sk)
    assert [c["value"] for c in new.payload["choices"]] == [f"open:{code}"]
    [desk_new] = await outbox(runtime, kind="officer_new", chat_key=await chat_key(runtime, desk))
    assert f"claim:{code}" in [c["value"] for c in desk_new.payload["choices"]]
    await do(runtime, desk, off.claim, code)
    await do(runtime, desk, off.receive, code)
    [pushed] = await outbox(runtime, kind="officer_received", chat_key=sk)
    assert code in pushed.payload["text"] and f"claim:{code}" in [c["value"] for c in pushed.payload["choices"]]
    r = await runtime.handle(sk, Incoming(choice=f"claim:{code}"))  # and the button works
    assert not any(isinstance(m, Message) and m.error for m in r)


async def test_the_supplement_picker_tells_same_named_fields_apart_and_so_does_the_request(runtime: Runtime):
    leader = await officer(runtime, lc.LEADER)
    code = await submit(runtime)
    lk = await chat_key(runtime, leader)
    await runtime.handle(lk, Incoming(choice=f"claim:{code}"))
    r = await runtime.handle(lk, Incoming(choice=f"supplement:{code}"))
    ask = r[-1]
    assert ask.field == "officer.supplement_fields" and ask.kind == "multi_choice" and ask.multi
    labels = [c.label for c in ask.choices]
    assert "Xong, nhập lý do" not in labels  # Telegram adds its own “Xong”
    assert "Họ và tên (người mất)" in labels and "Họ và tên (người đứng ra mai táng)" in labels
    assert "Họ và tên" not in labels and len(set(labels)) == len(labels)
    assert "· Thông tin người chết được mai táng 2–11 ·" in ask.text  # the sections' numbers
    n = labels.index("Họ và tên (người mất)") + 1
    # Zalo and the console number the same list, and say how to pick several
    from bot.console import render_human
    from bot.zalo.render import ask_text as zalo_text
    from dialogs.i18n import translator
    assert f"  {n}. Họ và tên (người mất)" in render_human([ask]) and "“1, 3”" in render_human([ask])
    assert f"{n}. Họ và tên (người mất)" in zalo_text(ask, translator("vi"))
    r = await runtime.handle(lk, Incoming(text=f"{n}"))  # one number typed: that field, then the reason
    assert r[-1].field == "officer.supplement_reason"
    await runtime.handle(lk, Incoming(text="Họ tên người mất khác giấy báo tử."))
    [note] = await outbox(runtime, kind="citizen_needs_supplement")
    assert "• Họ và tên (người mất)" in note.payload["text"]
    # the citizen's chat names it the same way
    r = await runtime.handle(CITIZEN, Incoming(text="bổ sung"))
    assert "Bạn cần gửi lại: Họ và tên (người mất)." in text(r)


async def test_the_supplement_picker_is_cancelled_by_its_button_and_needs_one_item(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    code = await submit(runtime)
    dk = await chat_key(runtime, desk)
    await runtime.handle(dk, Incoming(choice=f"claim:{code}"))
    await runtime.handle(dk, Incoming(choice=f"supplement:{code}"))
    r = await runtime.handle(dk, Incoming(text="không"))  # Telegram's “Xong” with nothing ticked sends this
    assert "ít nhất một mục" in "\n".join(m.text for m in r if isinstance(m, Message) and m.error)
    assert r[-1].field == "officer.supplement_fields"
    r = await runtime.handle(dk, Incoming(choice="nav:cancel"))  # the “Hủy” button
    assert "Đã hủy thao tác." in text(r) and r[-1].field == "officer.dossier"
    r = await runtime.handle(dk, Incoming(choice=f"reject:{code}"))
    r = await runtime.handle(dk, Incoming(choice="nav:cancel"))
    assert "Đã hủy thao tác." in text(r) and await status_of(runtime, code) == "submitted"


async def test_releasing_a_claim_is_named_apart_from_the_list_and_confirmed(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    code = await submit(runtime)
    dk = await chat_key(runtime, desk)
    r = await runtime.handle(dk, Incoming(choice=f"claim:{code}"))
    labels = [c.label for c in r[-1].choices]
    assert "Bỏ nhận xử lý" in labels and "Về danh sách hồ sơ" in labels
    assert not any("hàng đợi" in lab for lab in labels)  # nothing left to confuse them by
    r = await runtime.handle(dk, Incoming(choice=f"release:{code}"))
    assert r[-1].field == "officer.confirm_release" and [c.label for c in r[-1].choices] == ["Đồng ý", "Không"]
    assert (await leg_of(runtime, code)).claimed_by == desk  # nothing done yet
    r = await runtime.handle(dk, Incoming(text="không"))
    assert "không bỏ nhận xử lý" in text(r) and r[-1].field == "officer.dossier"
    assert (await leg_of(runtime, code)).claimed_by == desk
    r = await runtime.handle(dk, Incoming(text="bo nhan xu ly"))  # the label typed, without diacritics
    assert r[-1].field == "officer.confirm_release"
    r = await runtime.handle(dk, Incoming(text="gì vậy"))
    assert r[-1].field == "officer.confirm_release" and any(isinstance(m, Message) and m.error for m in r)
    r = await runtime.handle(dk, Incoming(text="1"))  # Đồng ý
    assert f"Đã bỏ nhận xử lý hồ sơ {code}" in text(r) and (await leg_of(runtime, code)).claimed_by is None
    r = await runtime.handle(dk, Incoming(text="về danh sách hồ sơ"))
    assert r[-1].field == "officer.queue"


async def test_a_lone_leader_claims_once_and_is_not_offered_to_themself(runtime: Runtime):
    leader = await officer(runtime, lc.LEADER, name="Vũ Thị Hà")  # the only officer of the unit
    code = await submit(runtime)
    lk = await chat_key(runtime, leader)
    r = await runtime.handle(lk, Incoming(choice=f"claim:{code}"))
    assert f"reassign:{code}" not in [c.value for c in r[-1].choices]  # nobody to give it to: not offered
    r = await runtime.handle(lk, Incoming(choice=f"reassign:{code}"))  # an old button: not “1. Vũ Thị Hà”
    assert "Không có cán bộ nào khác" in text(r) and "Vũ Thị Hà (" not in text(r)
    r = await runtime.handle(lk, Incoming(choice=f"receive:{code}"))
    assert "vẫn do bạn xử lý" in text(r) and "công chức chuyên môn" not in text(r)
    assert (await leg_of(runtime, code)).claimed_by == leader
    await runtime.handle(lk, Incoming(choice=f"approve:{code}"))
    await runtime.handle(lk, Incoming(text="7/QĐ-UBND"))
    r = await runtime.handle(lk, Incoming(choice="yes"))
    assert "vẫn do bạn giữ để trả kết quả" in text(r) and (await leg_of(runtime, code)).claimed_by == leader
    r = await runtime.handle(lk, Incoming(choice=f"return:{code}"))
    assert await status_of(runtime, code) == "result_issued"
    async with runtime.sm() as db:  # the claims kept are in the history, by the leader
        evs = list((await db.execute(select(DossierEvent).order_by(DossierEvent.id))).scalars())
    assert [e.action for e in evs if e.action] == ["claim", "receive", "claim", "approve", "claim", "return_result"]


async def test_the_desk_is_told_the_truth_when_the_unit_has_no_specialist(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    leader = await officer(runtime, lc.LEADER, name="Trần Lan")
    code = await submit(runtime)
    dk = await chat_key(runtime, desk)
    await runtime.handle(dk, Incoming(choice=f"claim:{code}"))
    r = await runtime.handle(dk, Incoming(choice=f"receive:{code}"))
    assert "để lãnh đạo xử lý tiếp" in text(r) and "công chức chuyên môn" not in text(r)
    assert (await leg_of(runtime, code)).claimed_by is None  # the leader takes it from the queue
    lk = await chat_key(runtime, leader)
    r = await runtime.handle(lk, Incoming(choice=f"reassign:{code}"))
    assert "Trần Lan (" not in text(r)  # a leader never gives a dossier to themself


async def test_the_queue_fits_a_phone_pages_filters_and_search(runtime: Runtime, clock):
    """25 open dossiers: pages of 10 with two short lines each, filters as buttons, a search by name, phone or
    CCCD typed at the queue; the search term never lands in a button's data or the chat's state."""
    desk = await officer(runtime, lc.DESK, name="Lê Thu")
    dk = await chat_key(runtime, desk)
    codes = []
    for i in range(25):
        ans = answers(**{"applicant.full_name": f"TRẦN THỊ {chr(65 + i)}",
                         "contact.phone": f"09123{i:05d}", "applicant.id_number": f"0680750{i:05d}"})
        codes.append(await submit(runtime, ans=ans,
                                  when=clock.when - timedelta(days=10) if i < 3 else clock.when))
    async with runtime.sm() as db, db.begin():
        for code in codes[:3]:
            d = await LegRepo(db).dossier(code)
            d.applicant_name = "PHẠM VĂN QUÁ"
    r = await runtime.handle(dk, Incoming(text="/hoso"))
    body = text(r)
    assert ": 25 hồ sơ · trang 1/3" in body and len(body) < 2500, body
    values = [c.value for c in r[-1].choices]
    assert values[:10] == [f"open:{c}" for c in codes[:3]] + values[3:10] and "queue:open:2" in values
    assert {"queue:mine:1", "queue:overdue:1", "queue:due_today:1", "queue:waiting:1"} <= set(values)
    r = await runtime.handle(dk, Incoming(choice="queue:open:3"))
    assert "trang 3/3" in text(r) and len([v for v in (c.value for c in r[-1].choices) if v.startswith("open:")]) == 5
    assert "queue:open:2" in [c.value for c in r[-1].choices]
    r = await runtime.handle(dk, Incoming(choice="queue:overdue:1"))
    assert "Hồ sơ quá hạn: 3 hồ sơ" in text(r) and "⚠️" in text(r)
    assert [c.value for c in r[-1].choices][:3] == [f"open:{c}" for c in codes[:3]]
    r = await runtime.handle(dk, Incoming(text="pham van qua"))  # a name without diacritics
    assert "Kết quả tìm kiếm (3 hồ sơ)" in text(r)
    r = await runtime.handle(dk, Incoming(text="0912300007"))  # a phone number
    assert "Kết quả tìm kiếm (1 hồ sơ)" in text(r) and codes[7] in text(r)
    r = await runtime.handle(dk, Incoming(text="068075000011"))  # a CCCD
    assert next(c.value for c in r[-1].choices) == f"open:{codes[11]}"
    assert all("068075000011" not in c.value for c in r[-1].choices)
    async with runtime.sm() as db:
        assert "068075000011" not in json.dumps((await OfficerRepo(db).get(desk)).chat_state, ensure_ascii=False)
    r = await runtime.handle(dk, Incoming(text="1"))  # the first result opens
    assert codes[11] in text(r) and r[-1].field != "officer.queue"
    r = await runtime.handle(dk, Incoming(text="/hoso"))
    r = await runtime.handle(dk, Incoming(text="không có ai tên này"))
    assert "Không tìm thấy hồ sơ nào khớp" in text(r) and r[-1].field == "officer.queue"


async def test_the_dossier_menu_keeps_its_numbers_across_statuses(runtime: Runtime):
    """“5” is always “Duyệt”, whatever else is offered: a number typed from memory never does something else."""
    from bot.zalo.render import render as zalo_render
    from dialogs.i18n import translator
    leader = await officer(runtime, lc.LEADER, name="Trần Lan")
    code = await submit(runtime)
    lk = await chat_key(runtime, leader)
    r = await runtime.handle(lk, Incoming(choice=f"open:{code}"))
    menu = {c.label: c.number for c in r[-1].choices}
    assert menu["Nhận xử lý"] == 1 and menu["Về danh sách hồ sơ"] == 0 and r[-1].choices[-1].number == 0
    r = await runtime.handle(lk, Incoming(text="1"))  # claim
    menu = {c.label: c.number for c in r[-1].choices}
    assert menu["Tiếp nhận"] == 2 and menu["Bỏ nhận xử lý"] == 8 and "Duyệt" not in menu
    r = await runtime.handle(lk, Incoming(text="5"))  # “Duyệt” is not offered now: not something else instead
    assert any(isinstance(m, Message) and m.error for m in r) and await status_of(runtime, code) == "submitted"
    r = await runtime.handle(lk, Incoming(text="2"))  # receive
    r = await runtime.handle(lk, Incoming(text="3"))  # review
    menu = {c.label: c.number for c in r[-1].choices}
    assert menu["Duyệt"] == 5 and menu["Từ chối"] == 6 and menu["Yêu cầu bổ sung"] == 4
    text = "\n".join(b.text for b in zalo_render(r, translator("vi")))  # without buttons: the same numbers
    assert "\n5. Duyệt" in text and "\n0. Về danh sách hồ sơ" in text
    r = await runtime.handle(lk, Incoming(text="5"))
    assert r[-1].field == "officer.approve_number"
