"""Linked (liên thông) dossiers worked by several agencies' officers through the real runtime: a downstream leg
waits for its upstream leg's result (the death or birth extract), receives its number, and is closed when the
upstream leg is rejected (the citizen hears once); every agency sees every part; each agency gets its own
part's form; officers type a choice's label."""
from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestServer
from pydantic import ValidationError
from sqlalchemy import select

from bot import cases as off
from bot.cli import main as cli_main
from bot.service import Runtime
from dialogs import lifecycle as lc
from dialogs.messages import Ask, Incoming, Message
from dialogs.schema import Procedure
from storage.models import DossierEvent
from storage.officers_repo import LegRepo, SupplementRepo
from tests.conftest import VN, Chat
from tests.test_conversation_linked import (
    birth_docs,
    birth_insurance,
    birth_people,
    birth_residence,
    birth_start,
    death_people,
    death_start,
    dossier,
    legs_of,
    submit,
)
from tests.test_officers import chat_key, do, officer, outbox


async def officer_chat(rt: Runtime, officer_id: int):
    key = await chat_key(rt, officer_id)

    async def say(**kw) -> list:
        replies = await rt.handle(key, Incoming(**kw))
        assert isinstance(replies[-1], Ask) and sum(isinstance(r, Ask) for r in replies) == 1
        return replies
    return say


def text(replies) -> str:
    return "\n".join(r.text for r in replies)


def values(replies) -> list[str]:
    return [c.value for c in replies[-1].choices]


def error(replies) -> str:
    return "\n".join(r.text for r in replies if isinstance(r, Message) and r.error)


async def death_dossier(chat: Chat, runtime: Runtime) -> tuple[str, str]:
    await death_start(chat, parts="2")  # death registration + removal of permanent residence
    await death_people(chat)
    code = await submit(chat)
    return code, (await dossier(runtime, code))["commune_code"]


async def test_police_waits_for_the_death_extract_and_receives_its_number(chat: Chat, runtime: Runtime, tmp_path,
                                                                         capsys):
    code, commune = await death_dossier(chat, runtime)
    ubnd = await officer(runtime, lc.LEADER, name="Trần Lan", commune=commune, agency="commune")
    police = await officer(runtime, lc.LEADER, name="Đỗ Hùng", commune=commune, agency="police")
    cu, ca = await officer_chat(runtime, ubnd), await officer_chat(runtime, police)

    # the police see both parts, and that theirs waits for the death registration
    r = await ca(choice=f"open:{code}")
    assert "【Các phần việc liên thông】" in text(r)
    assert "Người mất: NGUYỄN VĂN AN" in text(r)  # whom it is about, not only the requester
    # each agency sees the sections its part uses (data minimisation): the household head is the police's
    assert "【Chủ hộ (để xóa đăng ký thường trú)】" in text(r) and "Chỉ hiện thông tin mà phần việc" in text(r)
    r_commune = await cu(choice=f"open:{code}")
    assert "【Chủ hộ (để xóa đăng ký thường trú)】" not in text(r_commune) and "NGUYỄN VĂN AN" in text(r_commune)
    assert "• Đăng ký khai tử — UBND cấp xã: Đã nộp, chờ tiếp nhận" in text(r)
    assert "• Xóa đăng ký thường trú — Công an cấp xã: Đã nộp, chờ tiếp nhận · chờ kết quả “Đăng ký khai tử” " \
           "(phần của bạn)" in text(r)
    assert "⏳ Phần việc này chờ kết quả “Đăng ký khai tử”" in text(r)
    # they may take it and receive it, but never approve it before the extract exists
    await ca(choice=f"claim:{code}")
    await ca(choice=f"receive:{code}")
    r = await ca(choice=f"claim:{code}")
    assert f"approve:{code}" not in values(r) and f"reject:{code}" in values(r)
    r = await ca(choice=f"approve:{code}")  # an old button, or a forged choice: refused before asking the number
    assert "Chưa thể “Duyệt”: phần việc này chờ kết quả “Đăng ký khai tử”" in error(r)
    assert r[-1].field == "officer.dossier"
    refusal = None
    try:
        await do(runtime, police, off.approve, code, "XTT-77/CA")
    except off.ActionRefused as exc:
        refusal = exc
    assert refusal is not None and refusal.code == "upstream"
    assert [s for _, s, _ in await legs_of(runtime, code)] == ["submitted", "received"]

    # the commune registers the death with the extract number
    await cu(choice=f"claim:{code}")
    await cu(choice=f"receive:{code}")
    await cu(choice=f"claim:{code}")
    r = await cu(choice=f"approve:{code}")
    assert r[-1].field == "officer.approve_number"
    await cu(text="20/2026/TLKT")
    await cu(choice="yes")  # confirmed
    # the number reaches the police: pushed, stored in the leg's history, shown in their view
    [push] = await outbox(runtime, chat_key=await chat_key(runtime, police), kind="officer_upstream_result")
    assert "đã có kết quả “Đăng ký khai tử” số 20/2026/TLKT, có thể xử lý" in push.payload["text"]
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        legs = await LegRepo(db).of_dossier(d.id)
        [ev] = (await db.execute(select(DossierEvent).where(DossierEvent.leg_id == legs[1].id,
                                                            DossierEvent.action == lc.UPSTREAM_RESULT))).scalars()
    assert ev.data["result_number"] == "20/2026/TLKT" and ev.role == lc.SYSTEM
    r = await ca(choice=f"open:{code}")
    assert "• Đăng ký khai tử — UBND cấp xã: Đã duyệt, chờ trả kết quả · số 20/2026/TLKT" in text(r)
    assert "📌 Đã có kết quả “Đăng ký khai tử” số 20/2026/TLKT, có thể xử lý." in text(r)
    assert f"approve:{code}" in values(r)
    await ca(choice=f"approve:{code}")
    await ca(text="XTT-77/CA")
    r = await ca(choice="yes")
    assert "Đã duyệt hồ sơ" in text(r)
    assert [s for _, s, _ in await legs_of(runtime, code)] == ["approved", "approved"]
    # the commune sees the police's number too
    r = await cu(choice=f"open:{code}")
    assert "• Xóa đăng ký thường trú — Công an cấp xã: Đã duyệt, chờ trả kết quả · số XTT-77/CA" in text(r)

    # a new dossier's push already tells the police what their part waits for
    other = await Chat(runtime, "console:other").start()
    await death_start(other, parts="2")
    await death_people(other)
    second = await submit(other)
    [new] = [m for m in await outbox(runtime, chat_key=await chat_key(runtime, police), kind="officer_new")
             if second in m.payload["text"]]
    assert "Phần này chờ kết quả “Đăng ký khai tử” (UBND cấp xã); chỉ duyệt được khi đã có kết quả." \
        in new.payload["text"]
    [new] = [m for m in await outbox(runtime, chat_key=await chat_key(runtime, ubnd), kind="officer_new")
             if second in m.payload["text"]]
    assert "chờ kết quả" not in new.payload["text"]

    # the CLI shows every part as well
    clock_free = ["--db", runtime.db_url, "--var", str(tmp_path / "var"), "officer"]
    assert await asyncio.to_thread(cli_main, [*clock_free, "show", code, "--as", str(police), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(x["part"], x["status"], x["result_number"], x["mine"]) for x in shown["legs"]] == [
        ("Đăng ký khai tử", "approved", "20/2026/TLKT", False),
        ("Xóa đăng ký thường trú", "approved", "XTT-77/CA", True)]


async def test_cli_refuses_to_approve_a_waiting_leg(chat: Chat, runtime: Runtime, clock, tmp_path, capsys):
    clock.when = datetime.now(VN) - timedelta(minutes=5)  # the CLI runs on the real clock
    code, commune = await death_dossier(chat, runtime)
    police = await officer(runtime, lc.LEADER, commune=commune, agency="police")
    base = ["--db", runtime.db_url, "--var", str(tmp_path / "var"), "officer"]
    assert await asyncio.to_thread(cli_main, [*base, "claim", code, "--as", str(police)]) == 0
    assert await asyncio.to_thread(cli_main, [*base, "receive", code, "--as", str(police)]) == 0
    assert await asyncio.to_thread(cli_main, [*base, "claim", code, "--as", str(police)]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(cli_main, [*base, "approve", code, "--as", str(police), "--number", "X-1"]) == 1
    assert "chờ kết quả “Đăng ký khai tử”" in capsys.readouterr().err
    assert await asyncio.to_thread(cli_main, [*base, "show", code, "--as", str(police)]) == 0
    out = capsys.readouterr().out
    assert "• Đăng ký khai tử — UBND cấp xã: Đã nộp, chờ tiếp nhận" in out and "(phần của bạn)" in out


async def test_rejected_death_registration_closes_the_other_parts_and_the_citizen_hears_once(chat: Chat,
                                                                                            runtime: Runtime):
    code, commune = await death_dossier(chat, runtime)
    ubnd = await officer(runtime, lc.LEADER, commune=commune, agency="commune")
    police = await officer(runtime, lc.LEADER, commune=commune, agency="police")
    await do(runtime, police, off.claim, code)
    await do(runtime, police, off.receive, code)
    await do(runtime, police, off.claim, code)
    await do(runtime, police, off.request_supplement, code, ["head.relation"], "Ghi rõ quan hệ với chủ hộ")
    before = {m.id for m in await outbox(runtime, chat_key=chat.user)}
    await do(runtime, ubnd, off.claim, code)
    await do(runtime, ubnd, off.reject, code, "Giấy báo tử không hợp lệ")
    assert [s for _, s, _ in await legs_of(runtime, code)] == ["rejected", "rejected"]
    assert (await dossier(runtime, code))["status"] == "rejected"
    # one message covers the rejection and the part closed with it
    new = [m for m in await outbox(runtime, chat_key=chat.user) if m.id not in before]
    assert [m.kind for m in new] == ["citizen_rejected", "slip"]  # one message, and the refusal slip with it
    assert new[1].payload["slip"] == "refusal"
    said = new[0].payload["text"]
    assert "Lý do: Giấy báo tử không hợp lệ" in said and "Rất tiếc, phần “" in said
    assert "Các phần khác của hồ sơ vẫn được giải quyết tiếp" not in said  # nothing else goes on
    assert "các phần liên thông sau cũng không được thực hiện: Xóa đăng ký thường trú." in said
    # the police leg is closed with the reason, its supplement request closed, and its officer told
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        legs = await LegRepo(db).of_dossier(d.id)
        [ev] = (await db.execute(select(DossierEvent).where(DossierEvent.leg_id == legs[1].id,
                                                            DossierEvent.action == lc.UPSTREAM_CLOSED))).scalars()
        assert not await SupplementRepo(db).open_for_leg(legs[1].id)
    assert ev.reason == "Không thực hiện do hồ sơ đăng ký khai tử bị từ chối." and ev.to_status == lc.REJECTED
    assert legs[1].paused_since is None and legs[1].closed_at is not None
    [push] = await outbox(runtime, chat_key=await chat_key(runtime, police), kind="officer_upstream_closed")
    assert "Không thực hiện do hồ sơ đăng ký khai tử bị từ chối." in push.payload["text"]
    assert "Giấy báo tử không hợp lệ" in push.payload["text"]


# ---------------------------------------------------------------------------------------------------------
# each agency's own form
# ---------------------------------------------------------------------------------------------------------
def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


async def test_each_agency_gets_its_own_parts_form(chat: Chat, runtime: Runtime):
    await birth_start(chat)
    await birth_people(chat)
    await birth_residence(chat)
    await birth_insurance(chat)
    await birth_docs(chat)
    code = await submit(chat)
    commune = (await dossier(runtime, code))["commune_code"]
    expected = {"commune": ("to-khai-dang-ky-khai-sinh", "TỜ KHAI ĐĂNG KÝ KHAI SINH"),
                "police": ("ct01-tt66", "TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ"),
                "social_insurance": ("tk1-ts", "BẢO HIỂM Y TẾ")}
    for agency, (tpl, title) in expected.items():
        say = await officer_chat(runtime, await officer(runtime, lc.DESK, commune=commune, agency=agency))
        r = await say(choice=f"files:{code}")
        forms = [m for m in r if isinstance(m, Message) and m.file is not None and m.file.mime == "application/pdf"]
        assert [m.file.name for m in forms] == [f"{code}-{tpl}.pdf"], agency
        assert "📄 Tờ khai phần" in forms[0].text
        assert title in _pdf_text(runtime.attachments.get(forms[0].file.sha256)), agency
        assert r[-1].field == "officer.dossier"


async def test_a_part_without_its_own_form_says_so(chat: Chat, runtime: Runtime):
    code, commune = await death_dossier(chat, runtime)
    say = await officer_chat(runtime, await officer(runtime, lc.DESK, commune=commune, agency="police"))
    r = await say(choice=f"files:{code}")
    assert not [m for m in r if isinstance(m, Message) and m.file is not None and m.file.mime == "application/pdf"]
    assert "Phần “Xóa đăng ký thường trú” không có mẫu tờ khai riêng" in text(r)
    say = await officer_chat(runtime, await officer(runtime, lc.DESK, commune=commune, agency="commune"))
    r = await say(choice=f"files:{code}")
    [form] = [m for m in r if isinstance(m, Message) and m.file is not None and m.file.mime == "application/pdf"]
    assert "TỜ KHAI ĐĂNG KÝ KHAI TỬ" in _pdf_text(runtime.attachments.get(form.file.sha256))


# ---------------------------------------------------------------------------------------------------------
# typed labels
# ---------------------------------------------------------------------------------------------------------
async def test_officers_type_a_choices_label(chat: Chat, runtime: Runtime):
    code, commune = await death_dossier(chat, runtime)
    desk = await officer(runtime, lc.DESK, commune=commune, agency="commune")
    say = await officer_chat(runtime, desk)
    r = await say(text=code)
    assert f"claim:{code}" in values(r)
    await say(text="Nhận xử lý")  # the label, with diacritics
    r = await say(text="tiep nhan")  # without diacritics
    assert next(s for _, s, _ in await legs_of(runtime, code)) == "received"
    assert "Đã tiếp nhận hồ sơ" in text(r)
    # an unknown reply asks the same dossier's menu again instead of dropping it
    r = await say(text="làm gì đây")
    assert "Chưa rõ lựa chọn" in error(r) and r[-1].field == "officer.dossier" and code in text(r)
    # the chat's own words keep their meaning
    r = await say(text="/hoso")
    assert r[-1].field == "officer.queue"
    r = await say(text="hồ sơ của tôi")  # the queue's button, typed
    assert r[-1].field == "officer.queue"


# ---------------------------------------------------------------------------------------------------------
# the pure parts: the guard and the YAML key
# ---------------------------------------------------------------------------------------------------------
def test_the_lifecycle_guard_names_the_upstream_part():
    actor = lc.Actor("console:x", lc.LEADER, officer_id=1)
    waiting = lc.LegState(lc.IN_REVIEW, 1, waiting_for="Đăng ký khai tử")
    try:
        lc.fire(waiting, lc.Act(lc.APPROVE, actor, result_number="1"))
    except lc.Refused as exc:
        assert exc.code == "upstream" and exc.params["part"] == "Đăng ký khai tử"
    else:
        raise AssertionError("approved while waiting")
    assert lc.fire(waiting, lc.Act(lc.REJECT, actor, reason="Sai")) == lc.REJECTED  # rejecting is never held up
    assert lc.fire(lc.LegState(lc.IN_REVIEW, 1), lc.Act(lc.APPROVE, actor, result_number="1")) == lc.APPROVED


def test_after_must_name_an_earlier_leg():
    raw = yaml.safe_load((Path(__file__).parent.parent / "dialogs" / "procedures" / "lien-thong-khai-tu.yaml")
                         .read_text(encoding="utf-8"))
    assert Procedure.model_validate(raw).legs[1].after == ["death"]
    raw["legs"][1]["after"] = "funeral_si"  # declared later
    with pytest.raises(ValidationError, match="must name a leg declared before it"):
        Procedure.model_validate(raw)


def test_a_legs_sections_must_be_the_procedures():
    raw = yaml.safe_load((Path(__file__).parent.parent / "dialogs" / "procedures" / "lien-thong-khai-tu.yaml")
                         .read_text(encoding="utf-8"))
    assert Procedure.model_validate(raw).legs[1].sections == ["link", "requester", "deceased", "notice", "head"]
    raw["legs"][1]["sections"] = ["deceased", "househld"]  # a typo would silently hide fields from officers
    with pytest.raises(ValidationError, match=r"sections \['househld'\] are not sections of this procedure"):
        Procedure.model_validate(raw)


# ---------------------------------------------------------------------------------------------------------
# the web desk obeys the same order and shows every part
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture
async def web(runtime: Runtime):
    from bot.web.server import WebConfig, make_app
    from tests.test_web import Desk
    server = TestServer(make_app(runtime, WebConfig(secret=b"test-secret", page_size=3)))
    await server.start_server()
    d = Desk(runtime, server)
    try:
        yield d
    finally:
        for c in d.clients:
            await c.close()
        await server.close()


async def test_the_web_desk_shows_the_wait_and_refuses_to_approve(chat: Chat, runtime: Runtime, web):
    from tests.test_web import post

    code, commune = await death_dossier(chat, runtime)
    police = await officer(runtime, lc.LEADER, commune=commune, agency="police")
    ubnd = await officer(runtime, lc.LEADER, commune=commune, agency="commune")
    await do(runtime, police, off.claim, code)
    await do(runtime, police, off.receive, code)
    await do(runtime, police, off.claim, code)
    c = await web.login(police)
    page = f"/d/{code}"
    t = await (await c.get(page)).text()
    assert "⏳ Phần việc này chờ kết quả “Đăng ký khai tử”" in t and 'id="act-approve"' not in t
    assert "Đã tiếp nhận · chờ kết quả “Đăng ký khai tử”" in t
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        v = (await LegRepo(db).of_dossier(d.id))[1].version
    r = await post(c, f"{page}/act/approve", {"v": v}, page=page)
    assert r.status == 409 and "Chưa thể “Duyệt”" in await r.text()
    assert (await c.get(f"{page}/form.pdf")).status == 404  # the removal has no form of its own
    # the commune's page links its own part's form: the death declaration
    cu = await web.login(ubnd)
    r = await cu.get(f"{page}/form.pdf")
    assert r.status == 200 and "TỜ KHAI ĐĂNG KÝ KHAI TỬ" in _pdf_bytes_text(await r.read())


def _pdf_bytes_text(data: bytes) -> str:
    from pypdf import PdfReader
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


# ---------------------------------------------------------------------------------------------------------
# the supplement picker: each agency its own part's fields (legs[].sections)
# ---------------------------------------------------------------------------------------------------------
async def test_each_agency_asks_supplements_of_its_own_parts_fields_only(chat: Chat, runtime: Runtime):
    from dialogs.i18n import translator
    await birth_start(chat)
    await birth_people(chat)
    await birth_residence(chat)
    await birth_insurance(chat)
    await birth_docs(chat)
    code = await submit(chat)
    commune = (await dossier(runtime, code))["commune_code"]
    form, _ = runtime.catalog.form("lien-thong-khai-sinh"), translator("vi")
    label = {p: form.label(p, _) for p in ("child.full_name", "marriage.number", "residence.case",
                                           "insurance.facility", "docs.birth_certificate")}
    seen = {}
    for agency in ("commune", "police", "social_insurance"):
        leader = await officer(runtime, lc.LEADER, commune=commune, agency=agency)
        say = await officer_chat(runtime, leader)
        await say(choice=f"claim:{code}")
        r = await say(choice=f"supplement:{code}")
        assert r[-1].kind == "multi_choice" and "Theo phần: " in r[-1].text
        seen[agency] = (leader, [c.label for c in r[-1].choices])
        await say(text="hủy")
    commune_labels, police_labels, si_labels = (seen[a][1] for a in ("commune", "police", "social_insurance"))
    assert label["child.full_name"] in commune_labels and label["child.full_name"] in police_labels
    assert label["marriage.number"] in commune_labels and label["docs.birth_certificate"] in commune_labels
    assert label["residence.case"] not in commune_labels and label["insurance.facility"] not in commune_labels
    assert label["residence.case"] in police_labels and label["insurance.facility"] not in police_labels
    assert label["insurance.facility"] in si_labels and label["marriage.number"] not in si_labels
    assert len(commune_labels) < len(set(commune_labels) | set(police_labels) | set(si_labels))
    # the commune cannot ask for the police's fields from the CLI either
    with pytest.raises(off.ActionRefused):
        await do(runtime, seen["commune"][0], off.request_supplement, code, ["residence.case"], "Thiếu địa chỉ",
                 catalog=runtime.catalog)


async def test_a_supplement_for_the_police_tells_the_commune_of_the_changes_its_part_uses(chat: Chat,
                                                                                          runtime: Runtime):
    code, commune = await death_dossier(chat, runtime)
    ubnd = await officer(runtime, lc.LEADER, name="Trần Lan", commune=commune, agency="commune")
    police = await officer(runtime, lc.LEADER, name="Đỗ Hùng", commune=commune, agency="police")
    cu, ca = await officer_chat(runtime, ubnd), await officer_chat(runtime, police)
    await cu(choice=f"claim:{code}")
    await cu(choice=f"receive:{code}")
    await cu(choice=f"approve:{code}")
    await cu(text="20/2026/TLKT")
    await cu(choice="yes")  # the death is registered: the commune's part has its result
    await ca(choice=f"claim:{code}")
    await ca(choice=f"receive:{code}")
    await do(runtime, police, off.request_supplement, code, ["deceased.death_time", "head.full_name"],
             "Giờ chết và chủ hộ cần khớp giấy tờ.", catalog=runtime.catalog)
    await chat.say("bổ sung")
    await chat.expect("deceased.death_time")
    await chat.say("15h45")
    await chat.expect("head.full_name")
    await chat.say("Trần Văn Cường")
    await chat.expect("_supplement")
    await chat.press("send")
    assert "Đã gửi bổ sung" in chat.text()
    # the police, who asked, see both changes
    [mine] = await outbox(runtime, chat_key=await chat_key(runtime, police), kind="officer_supplement_received")
    assert "• Giờ chết: 14:30 → 15:45" in mine.payload["text"] and "→ TRẦN VĂN CƯỜNG" in mine.payload["text"]
    # the commune, whose death registration uses the time of death, is told too, and asked to check its result
    [other] = await outbox(runtime, chat_key=await chat_key(runtime, ubnd), kind="officer_supplement_elsewhere")
    body = other.payload["text"]
    assert body.startswith(f"📎 Hồ sơ {code}: người dân đã bổ sung theo yêu cầu của Công an cấp xã, có thay đổi ở "
                           "thông tin mà phần “Đăng ký khai tử” của bạn sử dụng:\n• Giờ chết: 14:30 → 15:45\n")
    assert "chủ hộ" not in body.lower() and "Trần Văn Cường" not in body  # the head of household is the police's
    assert "đã có kết quả (số 20/2026/TLKT)" in body
    assert other.payload["choices"] == [{"value": f"open:{code}", "label": "Xem hồ sơ"}]


async def test_the_web_desks_supplement_picker_lists_the_parts_own_fields(chat: Chat, runtime: Runtime, web):
    from tests.test_web import post

    code, commune = await death_dossier(chat, runtime)
    police = await officer(runtime, lc.LEADER, commune=commune, agency="police")
    ubnd = await officer(runtime, lc.LEADER, commune=commune, agency="commune")
    page = f"/d/{code}"
    for who, own, other in ((police, "head.full_name", "xxx"), (ubnd, "notice.number", "head.full_name")):
        await do(runtime, who, off.claim, code)
        c = await web.login(who)
        async with runtime.sm() as db:
            d = await LegRepo(db).dossier(code)
            agency = "police" if who == police else "commune"
            v = next(x.version for x in await LegRepo(db).of_dossier(d.id) if x.agency == agency)
        t = await (await post(c, f"{page}/act/supplement", {"v": v}, page=page)).text()
        assert f'name="item" value="{own}"' in t and 'name="item" value="deceased.death_time"' in t
        assert f'name="item" value="{other}"' not in t  # the head of household is the police's only


async def test_the_web_desk_says_where_a_lone_leaders_dossier_went(chat: Chat, runtime: Runtime, web):
    from tests.test_web import post

    code, commune = await death_dossier(chat, runtime)
    ubnd = await officer(runtime, lc.LEADER, name="Trần Lan", commune=commune, agency="commune")
    await do(runtime, ubnd, off.claim, code)
    c = await web.login(ubnd)
    page = f"/d/{code}"

    async def version() -> int:
        async with runtime.sm() as db:
            d = await LegRepo(db).dossier(code)
            return next(x.version for x in await LegRepo(db).of_dossier(d.id) if x.agency == "commune")
    t = await (await post(c, f"{page}/act/receive", {"v": await version()}, page=page)).text()
    assert "vẫn do bạn xử lý" in t and "công chức chuyên môn" not in t
    t = await (await post(c, f"{page}/act/reassign", {"v": await version()}, page=page)).text()
    assert "Trần Lan (" not in t  # never offered to themself


async def test_deadline_pushes_skip_a_part_still_waiting_for_its_upstream(chat: Chat, runtime: Runtime):
    """Both parts overdue: the commune (whose death registration holds everything up) and its leader are pushed;
    the police, who cannot remove the residence before the death extract, are not."""
    code, commune = await death_dossier(chat, runtime)
    await officer(runtime, lc.LEADER, name="Trần Lan", commune=commune, agency="commune")
    police = await officer(runtime, lc.LEADER, name="Đỗ Hùng", commune=commune, agency="police")
    later = runtime.now() + timedelta(days=30)
    async with runtime.sm() as db, db.begin():
        assert await off.scan_deadlines(db, runtime.calendar, later, catalog=runtime.catalog) == 1
    pushed = [m for m in await outbox(runtime) if m.kind == "officer_overdue"]
    assert len(pushed) == 1 and pushed[0].chat_key != await chat_key(runtime, police)
    assert code in pushed[0].payload["text"]
