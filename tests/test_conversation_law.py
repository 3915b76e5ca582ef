"""The law in force on the day, driven as a citizen would: each changed rule on both sides of its date.

The clock is Monday 23/11/2026 09:00 (tests/conftest.py); the date that decides is the one the YAML names
(the date of death for the death group's benefits)."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.service import Runtime
from dialogs import lifecycle as lc
from dialogs.form import follows
from dialogs.messages import Incoming
from storage.repo import DossierRepo, dossier_to_dict
from tests.conftest import VN, Chat
from tests.test_conversation_linked import (
    DUE,
    assert_stopped,
    birth_start,
    death_payment,
    death_people,
    death_start,
    legs_of,
    submit,
)
from tests.test_officers import chat_key, officer

SOCIAL_PENSION_FUNERAL = "ho-tro-mai-tang-huu-tri-xa-hoi"


@pytest.mark.parametrize("died, asked", [("20/06/2025", False), ("10/11/2026", True)])
async def test_social_pension_route_from_its_start(chat: Chat, died, asked):
    """From 01/07/2025 (NĐ 176/2025/NĐ-CP) a social-pension recipient's funeral support is its own commune
    procedure; before, the death group asked about monthly social assistance straight away."""
    await death_start(chat)
    await death_people(chat, born="05/03/1948", died=died)
    await chat.say("6")
    await chat.expect("benefit.merit")
    await chat.say("không")
    if not asked:
        await chat.expect("benefit.social_assistance")
        return
    await chat.expect("benefit.social_pension")
    await chat.say("có")
    await chat.expect("benefit.route_social_pension")
    assert "Nghị định 176/2025/NĐ-CP" in chat.ask.text and "Mẫu số 02" in chat.ask.text
    await chat.press("yes")
    # the linked dossier keeps death registration and residence removal, with no funeral leg
    await chat.expect("_review")


async def test_social_pension_with_household_head_files_the_death_registration_alone(chat: Chat, runtime: Runtime):
    """When no benefit stays in the group and removal does not apply, only the death registration is left: it was
    a stop after 34 questions, “Đăng ký khai tử riêng …” elsewhere, everything typed to be typed again. It is
    said plainly, and the death registration is filed (the commune registers a death on its own)."""
    await death_start(chat, permanent="có", head="có")
    await chat.press("yes")  # removal.note_head
    await death_people(chat, born="05/03/1948", head_is_requester=None)
    await chat.say("6")
    await chat.say("không")
    await chat.expect("benefit.social_pension")
    await chat.say("có")
    await chat.press("yes")  # the social pension's funeral support: its own procedure, after this one
    await chat.expect("benefit.death_only")
    assert "chỉ gồm việc đăng ký khai tử" in chat.ask.text and "đổi chủ hộ" in chat.ask.text
    await chat.press("yes")
    code = await submit(chat)
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[1])]


async def social_pension_death_registered(chat: Chat) -> str:
    """The death group of a social-pension recipient, submitted; the follow-up offered."""
    await death_start(chat, permanent="có", head="có")
    await chat.press("yes")
    await death_people(chat, born="05/03/1948", head_is_requester=None)
    await chat.say("6")
    await chat.say("không")
    await chat.say("có")
    await chat.expect("benefit.route_social_pension")
    assert "điền sẵn" in chat.ask.text
    await chat.press("yes")
    await chat.press("yes")  # benefit.death_only
    code = await submit(chat)
    await chat.expect("procedure")
    assert "/theodoi" not in chat.text()  # the requester's is the only living person's ID number in it
    assert f"Trợ lý đã điền sẵn những thông tin đã khai ở hồ sơ {code}" in chat.ask.text
    assert [c.value for c in chat.ask.choices] == [SOCIAL_PENSION_FUNERAL]
    return code


async def test_the_social_pension_funeral_support_left_for_later_waits_in_the_menu(chat: Chat):
    await social_pension_death_registered(chat)
    await chat.say("cảm ơn")  # the offer again, with the numbers it had: “1” is still the funeral support
    await chat.start()  # back in the chat another day: offered again, not lost in the full menu
    assert "Chào bạn quay lại!" in chat.text()
    assert [c.value for c in chat.ask.choices] == [SOCIAL_PENSION_FUNERAL]
    await chat.say("hủy")  # not now: never taken for withdrawing the dossier just filed
    assert "được lưu lại cùng những thông tin đã điền sẵn" in chat.text() and "rút hồ sơ" not in chat.text()
    await chat.press(SOCIAL_PENSION_FUNERAL)
    await chat.expect("deceased.funeral_place")
    await chat.say("menu")
    await chat.expect("procedure")
    assert "Hỗ trợ chi phí mai táng cho người hưởng trợ cấp hưu trí xã hội (đang khai dở)" in [
        c.label for c in chat.ask.choices]
    await chat.press(SOCIAL_PENSION_FUNERAL)
    assert "Bạn đã khai dở hồ sơ này (12 câu đã trả lời)" in chat.text()  # (who files among them)
    await chat.expect("deceased.funeral_place")


async def test_the_social_pension_funeral_support_follows_with_what_was_declared(chat: Chat, runtime: Runtime):
    """The funeral support of a social-pension recipient is its own procedure: right after the death group's
    receipt it is offered, its draft begun from the answers given there (the deceased, the one who registered the
    death), so that the family types only what is new: the funeral place, who arranged it, how to be paid."""
    code = await social_pension_death_registered(chat)
    await chat.say("1")
    assert f"Trợ lý đã điền sẵn từ hồ sơ {code}:" in chat.text()
    assert "• Họ và tên người mất: NGUYỄN VĂN AN" in chat.text() and "• Số điện thoại: 0912345678" in chat.text()
    await chat.expect("deceased.funeral_place")  # the deceased's data are not asked again
    await chat.say("Nghĩa trang thôn 3")
    await chat.expect("organizer.kind")
    await chat.say("gia đình")
    await chat.expect("applicant.relation")  # asked once the family arranges it: what was said, offered
    assert "(Câu trả lời trước: Con." in chat.ask.text
    await chat.say("giữ nguyên")
    await chat.expect("payment.method")  # the applicant's other answers are not asked again
    await chat.say("tiền mặt")
    await chat.expect("docs.death_extract")
    await chat.say("bỏ qua")
    await chat.expect("_review")
    await chat.press("confirm")
    await chat.press("yes")
    async with runtime.sm() as db:
        [d] = await DossierRepo(db).list(procedure_id=SOCIAL_PENSION_FUNERAL)
    a = dossier_to_dict(d)["answers"]
    assert a["deceased.had_social_pension"] is True and a["deceased.full_name"] == "NGUYỄN VĂN AN"
    assert a["deceased.birth_date"] == "1948-03-05" and a["deceased.death_date"] == "2026-11-10"
    assert a["applicant.full_name"] == "NGUYỄN VĂN BÌNH" and a["applicant.id_number"] == "068075001234"
    assert a["applicant.relation"] == "Con" and a["contact.phone"] == "0912345678"
    assert a["deceased.residence"]["commune"].endswith("Đức Trọng") and a["payment.method"] == "cash"
    assert follows(a) == code  # the officers see which dossier it carries on from, in the chat and the desk
    leader = await officer(runtime, lc.LEADER, commune=d.commune_code)
    key = await chat_key(runtime, leader)
    shown = await runtime.handle(key, Incoming(choice=f"open:{d.code}"))
    assert f"Người mất: NGUYỄN VĂN AN\n↪ Nối tiếp hồ sơ {code}\n" in "\n".join(r.text for r in shown)


async def test_no_benefit_and_household_head_files_the_death_registration_alone(chat: Chat, runtime: Runtime):
    await death_start(chat, permanent="có", head="có")
    await chat.press("yes")
    await death_people(chat, born="05/03/1960", head_is_requester=None)
    await chat.say("6")
    await chat.say("không")
    await chat.expect("benefit.social_assistance")  # 66 at death: no social-pension question
    await chat.say("không")
    await chat.expect("benefit.route_none")
    await chat.press("yes")
    await chat.expect("benefit.death_only")
    await chat.press("yes")
    code = await submit(chat)
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[1])]


async def test_child_of_a_poor_single_parent_gets_the_social_protection_route(chat: Chat, runtime: Runtime):
    """NĐ 20/2021 Điều 11 khoản 1 điểm b: the child of a poor single parent."""
    await death_start(chat)
    await death_people(chat, born="05/03/2012", head_is_requester=True)
    await chat.say("6")
    await chat.say("không")
    await chat.expect("benefit.social_assistance")
    await chat.say("không")
    await chat.expect("benefit.single_parent_child")
    await chat.say("có")
    await chat.expect("benefit.route_btxh")
    assert "đơn thân nghèo" in chat.ask.text
    await chat.press("yes")
    await chat.say("12/11/2026")
    await chat.say("Nghĩa trang thôn 3")
    await death_payment(chat)
    code = await submit(chat)
    assert ("social_affairs", "submitted", DUE[6]) in await legs_of(runtime, code)


async def test_late_death_registration_is_told_it_may_not_be_free(chat: Chat):
    await death_start(chat)
    await death_people(chat, died="01/10/2026")  # more than 15 days before 23/11/2026
    await chat.expect("benefit.si_status")
    text = "\n".join(chat.transcript)
    assert "quá hạn" in text and "lệ phí" in text


@pytest.mark.parametrize("today, ref", [
    (datetime(2027, 2, 26, 9, 0, tzinfo=VN), "Luật Hộ tịch 2014, Điều 7 khoản 1 điểm d"),
    (datetime(2027, 3, 1, 9, 0, tzinfo=VN), "Luật Hộ tịch số 03/2026/QH16"),
])
async def test_border_rule_cites_the_civil_status_law_in_force(chat: Chat, clock, today, ref):
    """The new Civil Status Law (03/2026/QH16) switches itself on on 01/03/2027, without a release."""
    clock.when = today
    await birth_start(chat, foreign="có")
    await chat.expect("case.border")
    await chat.say("có")
    assert_stopped(chat, reason="công dân nước láng giềng", ref=ref, instead="xã, phường khu vực biên giới")
    other = "Luật Hộ tịch số 03/2026/QH16" if "2014" in ref else "Luật Hộ tịch 2014"
    assert other not in chat.text()


async def test_emergency_funeral_for_a_missing_person(chat: Chat, runtime: Runtime):
    """NĐ 20/2021 Điều 14: a person missing after a disaster is covered; no burial date is invented, and the
    commune police's confirmation replaces the death notice."""
    from tests.test_conversation_funeral import PROC, fill_household
    await chat.press(PROC)
    await chat.say("1")
    await chat.press("yes")  # consent: the cause of death is health data
    await chat.expect("deceased.cause")
    assert any(c.label == "Tai nạn lao động" for c in chat.ask.choices)  # not only “đặc biệt nghiêm trọng”
    await chat.say("thien tai")
    # “mất tích” typed at the name, the question that asks it coming after: kept for it, not offered as a name
    await chat.expect("deceased.full_name")
    await chat.say("mat tich")
    assert not chat.error and "Đã ghi “Mất tích” cho câu “Người đó đã mất hay đang mất tích?”" in chat.text()
    await chat.expect("deceased.full_name")
    for text in ("Nguyễn Văn An", "5/3/1950", "nam", "Kinh", "Lâm Đồng", "Đức Trọng", "Thôn 3"):
        await chat.say(text)
    await chat.expect("deceased.missing_date")
    await chat.say("15/11/2026")
    await chat.expect("organizer.kind")  # no death or burial date asked
    await fill_household(chat)
    await chat.expect("contact.phone")
    await chat.say("0912345678")
    await chat.expect("docs.missing_confirmation")
    from tests.conftest import jpeg
    await chat.send_file(jpeg(3), "xac-nhan-cong-an.jpg")
    await chat.press("done")
    await chat.expect("_review")
    a = await chat.answers()
    assert a["deceased.status"] == "mat_tich" and a["deceased.missing_date"] == "2026-11-15"
    assert "deceased.death_date" not in a and "deceased.burial_date" not in a and "docs.death_notice" not in a


async def test_allowance_by_account_lists_the_social_pension(chat: Chat):
    """NĐ 176/2025: the social pension is a monthly allowance that can be paid into an account."""
    await chat.press("nhan-tro-cap-qua-tai-khoan")
    await chat.expect("allowance.type")
    assert "huu_tri_xa_hoi" in [c.value for c in chat.ask.choices]
    await chat.press("huu_tri_xa_hoi")
    await chat.expect("filer.kind")
    assert (await chat.answers())["allowance.type"] == "huu_tri_xa_hoi"


async def test_a_stop_the_rules_no_longer_make_is_lifted_on_return(chat: Chat, runtime: Runtime, db_url, tmp_path):
    """A case stopped by a rule, and the rules changed since (as the law does, or as the death group's “only the
    death registration left” became a filing): back in the chat, the stop is lifted and the form goes on where it
    was, rather than offering to fix an answer against a rule that is gone."""
    import shutil

    import yaml

    from dialogs.catalog import PROCEDURES_DIR, Catalog

    await chat.press("ho-tro-nha-o")
    await chat.say("hộ nghèo")
    await chat.say("Hư hỏng nhẹ, vẫn ở được")
    assert chat.field == "_eligibility" and "không thuộc diện" in chat.text()
    changed = tmp_path / "procedures"
    shutil.copytree(PROCEDURES_DIR, changed)
    path = changed / "ho-tro-nha-o.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["eligibility"] = [r for r in data["eligibility"] if r["id"] != "damage_not_covered"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    catalog = Catalog.load(changed)
    assert catalog.errors == []
    later = Runtime(db_url, var_dir=runtime.var_dir, now=runtime.now, catalog=catalog)
    await later.open(migrate=False)
    try:
        back = await Chat(later, chat.user).start()
        await back.say("tiếp tục")
        await back.expect("house.cause")
        assert (await back.answers())["house.damage"] == "hu_hong_nhe"
    finally:
        await later.close()
