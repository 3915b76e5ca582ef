"""Joining as an officer: wrong invite codes are limited and logged, odd validity and unknown communes are refused,
a citizen's chat is asked before it becomes an officer's and keeps its own dossiers (“/nguoidan”), and an officer
cannot decide their own dossier."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import cases as off
from bot.cases import ActionRefused
from bot.cases.invites import INVITE_GUESSES_PER_CHAT, INVITE_MISMATCH
from bot.cli import main as cli_main
from bot.service import Runtime
from dialogs import lifecycle as lc
from dialogs.messages import Ask, Incoming
from storage.audit_models import AuditEntry
from storage.audit_repo import AuditRepo
from storage.officers_repo import OfficerRepo
from tests.test_officers import COMMUNE, do, officer, submit, text


async def _invite(rt: Runtime, name: str = "Nguyễn Thị Lan", role: str = lc.DESK) -> tuple[int, str]:
    async with rt.sm() as db, db.begin():
        o, code = await off.add_officer(db, full_name=name, agency="commune", commune_code=COMMUNE, role=role,
                                        now=rt.now())
        return o.id, code


async def test_wrong_invite_codes_are_limited_per_chat_and_logged(runtime: Runtime):
    _oid, code = await _invite(runtime)
    for i in range(INVITE_GUESSES_PER_CHAT):
        r = await runtime.handle("console:guess", Incoming(text=f"/canbo CANBO-ABCDE-FGH{i:02d}"))
        assert "không đúng" in text(r) and isinstance(r[-1], Ask)
    # the limit is reached: even the right code is refused from this chat today, and nothing is linked
    r = await runtime.handle("console:guess", Incoming(text=f"/canbo {code}"))
    assert "nhập sai mã mời quá nhiều lần" in text(r) and r[-1].field == "officer.invite"
    async with runtime.sm() as db:
        assert await off.officer_for(db, "console:guess") is None
        logged = list((await db.execute(select(AuditEntry).where(AuditEntry.action == INVITE_MISMATCH))).scalars())
    assert len(logged) == INVITE_GUESSES_PER_CHAT and {e.actor_key for e in logged} == {"console:guess"}
    assert all(e.subject is None and not e.details for e in logged)  # never the code typed
    # another chat is not locked out
    r = await runtime.handle("console:lan", Incoming(text="/canbo"))  # no code at all: refused, not counted
    assert "không đúng" in text(r)
    r = await runtime.handle("console:lan", Incoming(text=f"/canbo {code}"))
    assert "Xin chào Nguyễn Thị Lan" in text(r)
    async with runtime.sm() as db:
        assert await AuditRepo(db).count(INVITE_MISMATCH, since=runtime.now() - timedelta(days=1),
                                          actor="console:lan") == 0


async def test_invite_validity_must_be_at_least_a_day(runtime: Runtime):
    async with runtime.sm() as db, db.begin():
        for days in (0, -3):
            with pytest.raises(ActionRefused) as exc:
                await off.add_officer(db, full_name="Lan", agency="commune", commune_code=COMMUNE, role=lc.DESK,
                                      now=runtime.now(), valid_days=days)
            assert "từ 1 trở lên" in exc.value.text("vi")
        o, _code = await off.add_officer(db, full_name="Lan", agency="commune", commune_code=COMMUNE,
                                         role=lc.DESK, now=runtime.now(), valid_days=1)
        assert o.invite_expires_at is not None
        with pytest.raises(ActionRefused):
            await off.new_invite(db, o.id, runtime.now(), valid_days=0)


async def _cli(*argv: str) -> int:
    return await asyncio.to_thread(cli_main, list(argv))


async def test_cli_add_refuses_bad_validity_and_unknown_commune_unless_forced(runtime, db_url, tmp_path, capsys):
    base = ["--db", db_url, "--var", str(tmp_path / "var"), "officer", "add", "--name", "Võ Minh",
            "--agency", "commune", "--role", "receiving_desk"]
    assert await _cli(*base, "--commune", COMMUNE, "--valid-days", "0") != 0
    assert "từ 1 trở lên" in capsys.readouterr().err
    assert await _cli(*base, "--commune", COMMUNE, "--valid-days", "-3") != 0
    assert await _cli(*base, "--commune", "99999") == 2
    assert "Không có xã, phường mã 99999" in capsys.readouterr().err
    assert await _cli(*base, "--commune", "99999", "--force", "--json") == 0
    assert json.loads(capsys.readouterr().out)["invite_code"].startswith("CANBO-")
    async with runtime.sm() as db:
        assert [o.commune_code for o in await OfficerRepo(db).list()] == ["99999"]


async def test_a_citizens_chat_is_asked_first_and_keeps_its_own_dossiers(runtime: Runtime):
    mine = await submit(runtime, user="console:binh")
    _oid, code = await _invite(runtime, "Nguyễn Văn Bình")
    r = await runtime.handle("console:binh", Incoming(text=f"/canbo {code}"))
    assert "đang có hồ sơ hoặc tờ khai đang điền của chính bạn" in text(r)
    assert r[-1].field == "officer.join" and [c.label for c in r[-1].choices] == ["Đồng ý", "Không"]
    # “Không”: nothing changes, the chat is still a citizen's
    r = await runtime.handle("console:binh", Incoming(text="không"))
    assert "vẫn là của người dân" in text(r)
    async with runtime.sm() as db:
        assert await off.officer_for(db, "console:binh") is None
    r = await runtime.handle("console:binh", Incoming(text="/hoso"))
    assert mine in text(r)
    # asked again and agreed (with the button)
    r = await runtime.handle("console:binh", Incoming(text=f"/canbo {code}"))
    r = await runtime.handle("console:binh", Incoming(text="Đồng ý", choice=r[-1].choices[0].value))
    assert "Xin chào Nguyễn Văn Bình" in text(r) and "/nguoidan" in text(r)
    assert r[-1].field == "officer.queue"
    # his own dossiers stay reachable in citizen mode, and “/canbo” brings the queue back
    r = await runtime.handle("console:binh", Incoming(text="/nguoidan"))
    assert "chế độ người dân" in text(r)
    r = await runtime.handle("console:binh", Incoming(text="/hoso"))
    assert mine in text(r) and r[-1].field != "officer.queue"
    r = await runtime.handle("console:binh", Incoming(text="/canbo"))
    assert r[-1].field == "officer.queue"


async def test_an_empty_chat_is_linked_at_once(runtime: Runtime):
    _oid, code = await _invite(runtime)
    r = await runtime.handle("console:new", Incoming(text=f"/canbo {code}"))
    assert "Xin chào" in text(r) and r[-1].field == "officer.queue"


async def test_an_officer_cannot_approve_or_reject_their_own_dossier(runtime: Runtime):
    leader = await officer(runtime, lc.LEADER, chat="console:ha")
    own = await submit(runtime, user="console:ha")
    other = await submit(runtime)
    await do(runtime, leader, off.claim, own)
    r = await runtime.handle("console:ha", Incoming(text=own))
    assert "Đây là hồ sơ của chính bạn" in text(r)
    for fn, arg in ((off.approve, "12/QĐ-UBND"), (off.reject, "Không đủ điều kiện")):
        with pytest.raises(ActionRefused) as exc:
            await do(runtime, leader, fn, own, arg)
        assert "không được tự duyệt hay từ chối" in exc.value.text("vi")
    # someone else's dossier is decided as before
    await do(runtime, leader, off.claim, other)
    await do(runtime, leader, off.reject, other, "Không thuộc diện hỗ trợ")
    r = await runtime.handle("console:ha", Incoming(text=other))
    assert "Đây là hồ sơ của chính bạn" not in text(r)


async def test_the_reassign_list_sorts_people_by_given_name(runtime: Runtime):
    """Vietnamese lists of people go by the given name (the last word), in Vietnamese letter order."""
    leader = await officer(runtime, lc.LEADER, name="Phạm Văn Đức", chat="console:duc")
    for name in ("Nguyễn Thị Yến", "Trần Văn Đông", "Lê Thị Ánh", "Võ Minh Dũng"):
        await officer(runtime, lc.DESK, name=name)
    code = await submit(runtime)
    await do(runtime, leader, off.claim, code)
    await runtime.handle("console:duc", Incoming(text=code))
    r = await runtime.handle("console:duc", Incoming(text="Giao cho người khác"))
    assert r[-1].field == "officer.reassign"
    names = [c.label.split(" (")[0] for c in r[-1].choices]
    assert names == ["Lê Thị Ánh", "Võ Minh Dũng", "Trần Văn Đông", "Nguyễn Thị Yến"]


async def test_an_unanswered_link_question_expires(runtime: Runtime, clock):
    await submit(runtime, user="console:binh")
    _oid, code = await _invite(runtime, "Nguyễn Văn Bình")
    r = await runtime.handle("console:binh", Incoming(text=f"/canbo {code}"))
    yes = r[-1].choices[0].value
    clock.when += timedelta(minutes=16)
    r = await runtime.handle("console:binh", Incoming(text="Đồng ý", choice=yes))
    assert "đã hết hạn" in text(r) and r[-1].field == "officer.invite"
    async with runtime.sm() as db:
        assert await off.officer_for(db, "console:binh") is None
    # the invite itself still works: asked again, then linked
    r = await runtime.handle("console:binh", Incoming(text=f"/canbo {code}"))
    r = await runtime.handle("console:binh", Incoming(text="đồng ý"))
    assert "Xin chào Nguyễn Văn Bình" in text(r)


async def test_an_officer_rates_their_own_dossier_from_the_officer_chat(runtime: Runtime):
    """The result message says “gõ đánh giá CODE”: typed in the officer's chat, it rates their own dossier."""
    mine = await submit(runtime, user="console:ha")
    await officer(runtime, lc.DESK, chat="console:ha", name="Hà")
    leader = await officer(runtime, lc.LEADER)
    await do(runtime, leader, off.claim, mine)
    await do(runtime, leader, off.reject, mine, "Không thuộc diện hỗ trợ")
    r = await runtime.handle("console:ha", Incoming(text=f"đánh giá {mine} 4"))
    assert "Cảm ơn bạn đã đánh giá" in text(r)
    r = await runtime.handle("console:ha", Incoming(text="/hoso"))
    assert r[-1].field == "officer.queue"  # still the officer's chat
