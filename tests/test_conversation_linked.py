"""Conversation tests for the linked (liên thông) procedure groups `lien-thong-khai-sinh` and `lien-thong-khai-tu`:
every route through both eligibility trees, driven as a citizen would, asserting the dossier's legs (agency, due
date on the fixed clock, status), the parent status while officers act on legs, and the legs' PDF forms."""
from __future__ import annotations

import asyncio
import io
import os
from datetime import date, datetime
from pathlib import Path

import pytest

from bot import cases as off
from bot.cli import main as cli_main
from bot.service import Runtime
from dialogs import lifecycle as lc
from dialogs.forms import render_pdf, render_text
from dialogs.parsing import Invalid
from storage.officers_repo import LegRepo, OfficerRepo, OutboxRepo
from storage.repo import DossierRepo, dossier_to_dict
from tests.conftest import VN, Chat, jpeg

BIRTH = "lien-thong-khai-sinh"
DEATH = "lien-thong-khai-tu"
GOLDEN = Path(__file__).parent / "golden"

# On the fixed clock (Monday 23/11/2026 09:00; Tuesday 24/11 is a holiday) n working days fall on:
DUE = {1: date(2026, 11, 25), 3: date(2026, 11, 27), 5: date(2026, 12, 1), 6: date(2026, 12, 2),
       8: date(2026, 12, 4), 9: date(2026, 12, 7), 11: date(2026, 12, 9), 13: date(2026, 12, 11),
       18: date(2026, 12, 18), 25: date(2026, 12, 29)}


# ---------------------------------------------------------------------------------------------------------
# birth group
# ---------------------------------------------------------------------------------------------------------
async def birth_start(chat: Chat, *, situation: str = "1", foreign: str = "không", born: str = "15/11/2026",
                      parts: str = "1", collective: str | None = "không") -> Chat:
    await chat.press(BIRTH)
    await chat.expect("case.situation")
    await chat.say(situation)
    if chat.field != "case.border_foreign_parent":  # a parent from China, Laos or Cambodia: then the border
        return chat
    await chat.say(foreign)
    if chat.field != "link.commune":
        return chat
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.expect("child.birth_date")
    await chat.say(born)
    if chat.field != "link.parts":
        return chat
    await chat.say(parts)
    if chat.field == "residence.collective":
        await chat.say(collective)
    return chat


async def birth_requester(chat: Chat, requester: str = "Mẹ") -> Chat:
    """Who files the birth (the mother, or a grandmother), up to their phone number."""
    await chat.expect("requester.relation")
    await chat.say(requester)
    await chat.expect("requester.full_name")
    if requester == "Mẹ":
        await chat.say("Trần Thị Hoa")
        await chat.say("12/04/1995")
        await chat.expect("requester.id_number")
        await chat.say("068195001234")
    else:  # a grandmother
        await chat.say("Lê Thị Mai")
        await chat.say("20/08/1968")
        await chat.expect("requester.id_number")
        await chat.say("068168002222")
        await chat.expect("requester.residence")  # asked only when the requester is not a parent
        await chat.say("Lâm Đồng")
        await chat.say("Đức Trọng")
        await chat.say("Thôn 5")
    await chat.expect("requester.phone")
    await chat.say("0912345678")
    return chat


async def birth_people(chat: Chat, *, father_same: bool = True, married: bool = True, requester: str = "Mẹ") -> Chat:
    await birth_requester(chat, requester)
    await chat.expect("child.full_name")
    await chat.say("nguyễn minh an")
    await chat.expect("child.sex")
    await chat.say("nam")
    await chat.expect("child.ethnicity")
    await chat.say("Kinh")
    await chat.expect("child.nationality")
    await chat.say("Việt Nam")
    await chat.expect("child.birth_place")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Trạm Y tế xã Đức Trọng")
    await chat.expect("child.hometown")
    await chat.say("Xã Đức Trọng, tỉnh Lâm Đồng")
    await chat.expect("child.copies")
    await chat.say("2")
    if requester != "Mẹ":  # the mother's identity is asked only when she is not the one filing
        await chat.expect("mother.full_name")
        await chat.say("Trần Thị Hoa")
        await chat.say("12/04/1995")
        await chat.expect("mother.id_number")
        await chat.say("068195001234")
    await chat.expect("mother.ethnicity")
    await chat.say("Kinh")
    await chat.expect("mother.nationality")
    await chat.say("1")
    await chat.expect("mother.residence")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.expect("father.full_name")
    await chat.say("Nguyễn Văn Bình")
    await chat.say("03/09/1993")
    await chat.expect("father.id_number")
    await chat.say("068093004321")
    await chat.expect("father.ethnicity")
    await chat.say("Tày")
    await chat.expect("father.nationality")
    await chat.say("1")
    await chat.expect("father.same_residence")
    await chat.say("có" if father_same else "không")
    if not father_same:
        await chat.expect("father.residence")
        await chat.say("Hà Nội")
        await chat.say("Ba Đình")
        await chat.say("Số 5 Phan Đình Phùng")
    await chat.expect("marriage.registered")
    await chat.say("có" if married else "không")
    if married:
        await chat.expect("marriage.number")
        await chat.say("125")
        await chat.expect("marriage.book")
        await chat.say("01/2020")
        await chat.expect("marriage.date")
        await chat.say("10/02/2020")
        await chat.expect("marriage.place")
        await chat.say("Ủy ban nhân dân xã Đức Trọng")
    return chat


async def child_after_sex(chat: Chat) -> None:
    """The child's ethnicity, nationality, place of birth, home town and copies, as a citizen types them."""
    await chat.say("Kinh")
    await chat.say("Việt Nam")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Trạm Y tế xã Đức Trọng")
    await chat.say("Xã Đức Trọng, tỉnh Lâm Đồng")
    await chat.say("2")


async def birth_residence(chat: Chat, *, consent: str = "vneid") -> Chat:
    await chat.expect("residence.case")
    await chat.say("với cha mẹ")  # two options begin so: their numbers are said
    assert chat.error is not None and "(số 1, 2)" in chat.error.text
    await chat.say("o voi bo me, nha cua minh")  # the home is the parents' own: option 1
    await chat.expect("residence.same_as_mother")
    await chat.say("có")
    await chat.expect("head.who")
    await chat.say("bo chau")  # the father, as typed (“Cha của trẻ”)
    assert (await chat.answers())["head.who"] == "father"
    await chat.expect("head.child_relation")
    await chat.say("Con")
    await chat.expect("head.consent")
    await chat.press(consent)
    if consent == "paper":
        await chat.expect("docs.consent")
        await chat.send_file(jpeg(7), "ct01-ky.jpg")
        await chat.press("done")
    return chat


async def birth_insurance(chat: Chat) -> Chat:
    await chat.expect("insurance.facility")
    await chat.say("Trạm Y tế xã Đức Trọng")
    await chat.expect("insurance.guardian")
    await chat.say("Mẹ")
    return chat


async def birth_docs(chat: Chat, proof: str = "certificate") -> Chat:
    await chat.expect("docs.proof")
    await chat.press(proof)
    field = {"certificate": "docs.birth_certificate", "witness": "docs.witness", "sworn": "docs.sworn"}[proof]
    await chat.expect(field)
    await chat.send_file(jpeg(3), f"{proof}.jpg")
    await chat.press("done")
    return chat


async def submit(chat: Chat) -> str:
    await chat.expect("_review")
    await chat.press("confirm")
    await chat.expect("_sworn")
    await chat.press("yes")
    code = chat.dossier
    assert code, chat.text()
    return code


async def legs_of(rt: Runtime, code: str) -> list[tuple[str, str, date]]:
    async with rt.sm() as db:
        d = await LegRepo(db).dossier(code)
        return [(leg.agency, leg.status, leg.due_date) for leg in await LegRepo(db).of_dossier(d.id)]


async def test_the_insurance_guardian_named_by_a_parents_name(chat: Chat):
    """“… là của ai?” answered with the father's name, typed without diacritics: the father (``same_as``)."""
    await birth_start(chat)
    await birth_people(chat)
    await birth_residence(chat)
    await chat.expect("insurance.facility")
    await chat.say("Trạm Y tế xã Đức Trọng")
    await chat.expect("insurance.guardian")
    await chat.say("nguyen van binh")
    await chat.expect("docs.proof")
    assert (await chat.answers())["insurance.guardian"] == "father"


async def dossier(rt: Runtime, code: str) -> dict:
    async with rt.sm() as db:
        return dossier_to_dict(await DossierRepo(db).by_code(code))


async def test_birth_all_three_parts(chat: Chat, runtime: Runtime):
    await birth_start(chat)
    await birth_people(chat)
    await birth_residence(chat)
    await birth_insurance(chat)
    await birth_docs(chat)
    summary = chat.text()
    assert "NGUYỄN MINH AN" in summary and "Cha cùng nơi cư trú với mẹ" in summary
    code = await submit(chat)
    assert code.startswith("LTKS-")
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[1]), ("police", "submitted", DUE[3]),
                                            ("social_insurance", "submitted", DUE[3])]
    d = await dossier(runtime, code)
    assert d["status"] == "submitted" and d["due_date"] == DUE[3].isoformat()
    a = d["answers"]
    # father "same residence as the mother": no address of his own; married parents' certificate fields
    assert a["father.same_residence"] is True and "father.residence" not in a
    assert (a["marriage.number"], a["marriage.book"], a["marriage.date"]) == ("125", "01/2020", "2020-02-10")
    assert a["marriage.place"] == "Ủy ban nhân dân xã Đức Trọng"
    assert a["child.full_name"] == "NGUYỄN MINH AN" and a["child.copies"] == 2
    assert a["head.who"] == "father" and a["head.consent"] == "vneid" and "docs.consent" not in a
    # the mother files: her identity is asked once, as the requester's
    assert a["requester.relation"] == "me" and "mother.full_name" not in a and "mother.id_number" not in a
    assert "requester.residence" not in a  # her residence is the mother's, asked once
    # one confirmation in the chat lists every agency with its own due date; the chat that filed gets no second
    # receipt from the outbox (the same dates twice, sometimes before the confirmation)
    async with runtime.sm() as db:
        assert [m for m in await OutboxRepo(db).list() if m.kind == "citizen_submitted"] == []
    receipt = chat.text()
    assert receipt.count("Đã nộp hồ sơ thành công") == 1 and "Biên nhận" not in receipt
    assert "Ngày trả kết quả dự kiến: 27/11/2026" in receipt
    assert "• Đăng ký khai sinh: Ủy ban nhân dân cấp xã" in receipt and "hẹn trả 25/11/2026" in receipt
    assert "• Đăng ký thường trú cho trẻ: Công an cấp xã" in receipt
    assert "• Cấp thẻ BHYT cho trẻ dưới 6 tuổi: Cơ quan Bảo hiểm xã hội" in receipt


async def test_a_newborns_birth_date_shows_its_own_example_not_an_old_date(chat: Chat):
    """The date hint's example is the field's own where the procedure gives one: a newborn's birth date is not
    shown “05/03/1960”. A grown person's birth date keeps the kind's example."""
    await chat.press(BIRTH)
    await chat.say("1")
    await chat.say("không")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.expect("child.birth_date")
    assert "Nhập ngày/tháng/năm." in chat.ask.text and "Ví dụ: 20/11/2026" in chat.ask.text
    assert "1960" not in chat.ask.text
    await chat.say("ngay mai kia")  # a date it cannot read: the format, with the same example
    assert chat.error and "ví dụ 20/11/2026" in chat.text() and "1960" not in chat.text()
    await chat.expect("child.birth_date")
    await chat.say("15/11/2026")
    await chat.say("1")
    if chat.field == "residence.collective":
        await chat.say("không")
    await chat.expect("requester.relation")
    await chat.say("Mẹ")
    await chat.say("Trần Thị Hoa")
    await chat.expect("requester.birth_date")
    assert "ví dụ 05/03/1960" in chat.ask.text


async def test_birth_and_insurance_only_without_certificate_takes_five_days(chat: Chat, runtime: Runtime):
    await birth_start(chat, parts="Khai sinh và cấp thẻ BHYT")
    await birth_people(chat, father_same=False, married=False, requester="Bà")
    await birth_insurance(chat)  # no residence questions
    await birth_docs(chat, proof="sworn")
    code = await submit(chat)
    # verification needed (no birth certificate): 3 days for the birth leg, 5 for the card
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[3]),
                                            ("social_insurance", "submitted", DUE[5])]
    d = await dossier(runtime, code)
    a = d["answers"]
    assert d["due_date"] == DUE[5].isoformat()
    assert a["father.residence"]["province"].endswith("Hà Nội") and a["father.residence"]["detail"]
    assert a["marriage.registered"] is False and not any(k.startswith("marriage.n") for k in a)
    assert not any(k.startswith(("residence.", "head.")) for k in a)
    assert [x["field"] for x in d["attachments"]] == ["docs.sworn"]
    assert a["requester.relation"] == "ba" and a["mother.full_name"] == "TRẦN THỊ HOA"
    assert d["applicant_name"] == "LÊ THỊ MAI"
    assert a["requester.residence"]["detail"] == "Thôn 5"
    text = render_text(BIRTH, a, code=code, template="to-khai-dang-ky-khai-sinh")
    assert "Nơi cư trú: Thôn 5, Xã Đức Trọng, Tỉnh Lâm Đồng" in text, text


async def test_birth_and_residence_with_witness_and_paper_consent(chat: Chat, runtime: Runtime):
    await birth_start(chat, parts="3")
    await birth_people(chat)
    await birth_residence(chat, consent="paper")
    await birth_docs(chat, proof="witness")  # no insurance questions
    code = await submit(chat)
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[3]), ("police", "submitted", DUE[5])]
    d = await dossier(runtime, code)
    assert not any(k.startswith("insurance.") for k in d["answers"])
    assert sorted(x["field"] for x in d["attachments"]) == ["docs.consent", "docs.witness"]


def assert_stopped(chat: Chat, *, reason: str, ref: str, instead: str) -> None:
    text = chat.text()
    assert "không thuộc diện" in text, text
    assert reason in text and "Căn cứ: " in text and ref in text and instead in text, text
    assert chat.field == "_eligibility"


@pytest.mark.parametrize("situation, reason, ref, instead", [
    ("Trẻ bị bỏ rơi", "trẻ bị bỏ rơi", "Nghị định 123/2015/NĐ-CP, Điều 14", "báo ngay Ủy ban nhân dân"),
    ("2", "chưa xác định được cha, mẹ", "Nghị định 123/2015/NĐ-CP, Điều 15", "Đăng ký khai sinh riêng"),
    ("mang thai hộ", "mang thai hộ", "Nghị định 123/2015/NĐ-CP, Điều 16", "kỹ thuật hỗ trợ sinh sản"),
])
async def test_birth_special_cases_stop(chat: Chat, situation: str, reason: str, ref: str, instead: str):
    await birth_start(chat, situation=situation)
    assert_stopped(chat, reason=reason, ref=ref, instead=instead)


async def test_birth_border_commune_stops_only_with_a_neighbouring_country_parent(chat: Chat):
    await birth_start(chat, foreign="có")
    await chat.expect("case.border")  # asked only now: most families never meet this hard question
    await chat.say("có")
    assert_stopped(chat, reason="công dân nước láng giềng", ref="Nghị định 123/2015/NĐ-CP, Điều 17",
                   instead="trực tiếp tại Ủy ban nhân dân xã")
    await chat.press("fix")
    await chat.expect("case.border")
    await chat.say("không")
    await chat.expect("link.commune")


async def test_birth_with_vietnamese_parents_is_linked_without_the_border_question(chat: Chat):
    """Luật Hộ tịch 2014 Điều 7 khoản 1 điểm d; NĐ 123/2015 Điều 17: only a parent who is a citizen of the
    neighbouring country takes the birth out of the linked group, so whether the commune is in the border area
    (hard to know) is asked of that family only."""
    await chat.press(BIRTH)
    await chat.say("1")
    await chat.expect("case.border_foreign_parent")
    assert "Trung Quốc, Lào hoặc Campuchia" in chat.ask.text
    await chat.say("không")
    await chat.expect("link.commune")
    assert "case.border" not in await chat.answers()


async def test_birth_collective_address_stops_residence_only(chat: Chat):
    await birth_start(chat, parts="1", collective="có")
    assert_stopped(chat, reason="nhân khẩu tập thể", ref="Kế hoạch 155/KH-UBND (2023), mục I.2.1",
                   instead="Khai sinh và cấp thẻ BHYT")
    # as the message says: fix, go back to the parts and link birth + insurance only
    await chat.press("fix")
    await chat.expect("residence.collective")
    await chat.say("quay lại")
    await chat.expect("link.parts")
    await chat.say("2")
    await chat.expect("requester.relation")
    assert "residence.collective" not in await chat.answers()
    # the collective question does not apply to birth + insurance
    s = await chat.answers()
    assert s["link.parts"] == "birth_insurance"


async def test_birth_insurance_only_under_six(chat: Chat):
    await birth_start(chat, born="10/11/2020", parts="2")  # six years old on 23/11/2026
    # the card is refused at the choice itself, with the reason and what to choose: the same question again
    assert chat.field == "link.parts" and chat.error is not None, chat.text()
    assert "đủ 6 tuổi" in chat.error.text and "“Khai sinh và đăng ký thường trú”" in chat.error.text
    assert "không thuộc diện" not in chat.text()
    await chat.say("1")  # all three still includes the card
    await chat.expect("link.parts")
    assert chat.error is not None and "đủ 6 tuổi" in chat.error.text
    await chat.say("3")
    await chat.expect("residence.collective")
    await chat.say("không")
    await chat.expect("requester.relation")
    assert (await chat.answers())["link.parts"] == "birth_residence"


async def test_birth_date_edited_to_six_or_more_asks_the_parts_again(chat: Chat):
    await birth_start(chat, born="10/11/2022", parts="2")
    await chat.expect("requester.relation")
    await chat.say("quay lại")
    await chat.expect("link.parts")
    await chat.say("quay lại")
    await chat.expect("child.birth_date")
    await chat.say("10/11/2020")  # now six: the card chosen earlier no longer fits, the choice is asked again
    await chat.expect("link.parts")
    assert "không còn khớp" in chat.text() and "đủ 6 tuổi" in chat.text()
    await chat.say("3")
    await chat.expect("residence.collective")


async def test_birth_of_an_adult_is_not_linked(chat: Chat):
    await birth_start(chat, born="01/01/1990")
    assert_stopped(chat, reason="đã đủ 18 tuổi", ref="Luật Hộ tịch 2014, Điều 15, 16",
                   instead="đăng ký khai sinh quá hạn")


async def test_birth_day_before_sixth_birthday_may_link_insurance(chat: Chat):
    await birth_start(chat, born="24/11/2020", parts="2")  # still 5 on 23/11/2026
    await chat.expect("requester.relation")


# ---------------------------------------------------------------------------------------------------------
# death group
# ---------------------------------------------------------------------------------------------------------
async def death_start(chat: Chat, *, parts: str = "1", permanent: str = "có", head: str | None = "không") -> Chat:
    await chat.press(DEATH)
    await chat.expect("link.parts")
    assert chat.text().startswith("Xin chia buồn cùng gia đình.\n📋 ")  # the procedure's greeting, then its card
    await chat.say(parts)
    await chat.expect("link.commune")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.expect("removal.had_permanent")
    await chat.say(permanent)
    if chat.field == "removal.was_head":
        await chat.say(head)
    return chat


async def death_people(chat: Chat, *, born: str = "05/03/1950", notice: str = "giay_bao_tu",
                       head_is_requester: bool | None = False, died: str = "10/11/2026") -> Chat:
    await chat.expect("requester.full_name")
    await chat.say("Nguyễn Văn Bình")
    await chat.say("01/02/1975")
    await chat.expect("requester.id_number")
    await chat.say("068075001234")
    await chat.expect("requester.relation")
    await chat.say("Con")
    await chat.expect("requester.residence")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.expect("requester.phone")
    await chat.say("0912345678")
    await chat.expect("deceased.full_name")
    await chat.say("Nguyễn Văn An")
    await chat.say(born)
    await chat.expect("deceased.sex")
    await chat.say("nam")
    await chat.expect("deceased.ethnicity")
    await chat.say("Kinh")
    await chat.expect("deceased.nationality")
    await chat.say("Việt Nam")
    await chat.expect("deceased.id_number")
    await chat.say("068" + ("0" if born[-4:-2] == "19" else "2") + born[-2:] + "009876")
    await chat.expect("deceased.residence")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.expect("deceased.death_date")
    await chat.say(died)
    await chat.expect("deceased.death_time")
    await chat.say("o nha")  # where, typed at the hour: kept for “… qua đời tại nhà không?”, the hour asked again
    assert "Đã ghi “Có” cho câu “Chết tại nơi cư trú” (được hỏi ở sau)" in chat.text()
    await chat.expect("deceased.death_time")
    await chat.say("khoảng 2 giờ rưỡi chiều")  # as people say it: 14:30
    await chat.expect("consent.sensitive")
    await chat.say("quay lại")  # back in the form's order: where, then the hour
    await chat.expect("deceased.death_place_same")
    await chat.say("quay lại")
    await chat.expect("deceased.death_time")
    await chat.say("14h30")
    if chat.field == "deceased.death_place_same":
        await chat.say("có")
    await chat.expect("consent.sensitive")
    assert (await chat.answers())["deceased.death_place_same"] is True
    # the cause of death is health data, the bank account financial data: consent first (Luật 91/2025/QH15)
    await chat.expect("consent.sensitive")
    assert "nguyên nhân chết" in chat.ask.text and "chỉ cán bộ" in chat.ask.text
    await chat.press("yes")
    await chat.expect("deceased.cause")
    await chat.say("Già yếu")
    await chat.expect("notice.kind")
    await chat.press(notice)
    await chat.expect("notice.number")
    await chat.say("bỏ qua")
    await chat.expect("notice.date")
    await chat.say(died)
    await chat.expect("notice.issuer")
    await chat.say("Trạm Y tế xã Đức Trọng")
    await chat.expect("notice.copies")
    await chat.say("1")
    if chat.field == "notice.late_note":  # more than 15 days after the death
        assert "quá hạn" in chat.ask.text
        await chat.press("yes")
    await chat.expect("docs.death_notice")
    await chat.send_file(jpeg(5), "giay-bao-tu.jpg")
    await chat.press("done")
    if head_is_requester is None:
        return chat
    await chat.expect("head.is_requester")
    await chat.say("có" if head_is_requester else "không")
    if not head_is_requester:
        await chat.expect("head.full_name")
        await chat.say("Nguyễn Thị Lan")
        await chat.expect("head.id_number")
        await chat.say("068152005555")
    await chat.expect("head.relation")
    await chat.say("Chồng")
    return chat


# death_people's answers, in the order asked, for a test that stops on the way (death_until)
DEATH_ANSWERS = ("Nguyễn Văn Bình", "01/02/1975", "068075001234", "Con", "Lâm Đồng", "Đức Trọng", "Thôn 3",
                 "0912345678", "Nguyễn Văn An", "05/03/1950", "nam", "Kinh", "Việt Nam", "068050009876",
                 "Lâm Đồng", "Đức Trọng", "Thôn 3", "10/11/2026", "14h30", "tại nhà")


async def death_until(chat: Chat, field: str) -> Chat:
    """After death_start: death_people's answers typed one by one until ``field`` is asked."""
    for text in DEATH_ANSWERS:
        if chat.field == field:
            break
        await chat.say(text)
    return await chat.expect(field)


async def death_payment(chat: Chat, method: str = "cash") -> Chat:
    await chat.expect("recipient.is_requester")
    if method == "cash":  # how, typed at who: kept for “Nhận tiền mai táng bằng cách nào?”, who asked again
        await chat.say("tien mat")
        assert "Đã ghi “Nhận tiền mặt” cho câu “Nhận tiền mai táng bằng cách nào?”" in chat.text()
        await chat.expect("recipient.is_requester")
        await chat.say("có")
        assert (await chat.answers())["payment.method"] == "cash"
        return chat
    await chat.say("có")
    await chat.expect("payment.method")
    await chat.press(method)
    if method == "bank":
        # the same bank list and account checks as the allowance registration (dialogs/banks.py)
        await chat.expect("payment.bank")
        await chat.say("ngan hang nong nghiep")
        await chat.expect("payment.account_number")
        await chat.say("12345 67890")
        assert chat.error is not None and "Agribank có 13 chữ số" in chat.error.text  # same question again
        await chat.expect("payment.account_number")
        await chat.say("1234 5678 9012 3")
        await chat.expect("payment.account_holder")
        await chat.say("Nguyễn Thị Lan")  # not the recipient (the requester)
        assert chat.error is not None and "không trùng với họ tên người nhận" in chat.error.text
        await chat.expect("payment.account_holder")
        # the last question counts as the last: no question of a route not taken (merit, social assistance)
        # is still in the total
        assert chat.ask.step_no == chat.ask.step_total, chat.ask.step
        await chat.say("NGUYEN VAN BINH")  # without diacritics, as printed on the card
    return chat


# a daughter-in-law files the death group for her mother-in-law, typing without diacritics (walked in the console)
IN_LAW = ("me chong toi mat roi, lam giay chung tu the nao", "lam ca tro cap", "xa quynh luu nghe an", "co", "khong",
          "go tay", "nguyen thi lan", "dung", "con dau", "038190004321", "0987654321", "12/5/1990", "nhu tren",
          "xom 5", "go tay", "Hoang Thi Nhan", "dung", "5/6/1950", "nu", "kinh", "viet nam", "001150003456",
          "nhu tren", "20/11/2026", "luc 5 gio sang", "tai nha", "dong y", "ba bi tai bien",
          "co giay bao tu cua tram y te", "khong nho so", "hom qua", "tram y te xa quynh luu")


async def test_a_relation_typed_early_keeps_what_it_says(chat: Chat):
    """“con dau” typed at the requester's birth date was kept as “Khác” for “Bạn là gì của người mất?”, and the
    relation asked after it came back blank: the words that name it are kept for it too, as when the choice is
    answered where it is asked."""
    for said in ("me chong toi mat roi, lam giay chung tu the nao", "lam ca tro cap", "xa quynh luu nghe an", "co",
                 "khong", "go tay", "nguyen thi lan", "dung"):
        await chat.say(said)
    await chat.expect("requester.birth_date")
    await chat.say("con dau")
    assert "Đã ghi “Khác — Con dâu” cho câu “Bạn là gì của người mất?” (được hỏi ở sau)" in chat.text()
    await chat.expect("requester.birth_date")
    await chat.say("12/5/1990")
    a = await chat.answers()
    assert a["requester.relation"] == "khac" and a["requester.relation_other"] == "Con dâu"
    assert chat.field not in ("requester.relation", "requester.relation_other")


async def test_a_birth_date_less_than_a_year_ago_is_asked_about(chat: Chat):
    """The date of death typed at the dead person's birth date (“ngay 20/11/2026”) was filed as the birth date: a
    birth less than a year before is said and asked about; another date typed is taken, and a baby's is kept by
    its button (or “đúng”, or the number of the button)."""
    for said in IN_LAW[:17]:
        await chat.say(said)
    await chat.expect("deceased.birth_date")
    await chat.say("ngay 20/11/2026")
    assert "Người mất sinh ngày 20/11/2026, chưa đầy 1 tuổi, có đúng không?" in chat.text()
    await chat.expect("deceased.birth_date")
    assert [c.label for c in chat.ask.choices] == ["Đúng, giữ 20/11/2026"]
    assert "deceased.birth_date" not in await chat.answers()
    await chat.say("5/6/1950")
    assert chat.field == "deceased.sex" and (await chat.answers())["deceased.birth_date"] == "1950-06-05"
    for pressed, said in (("doubt:keep", None), (None, "dung"), (None, "1")):  # a baby's: the button, “đúng”, “1”
        await chat.say("quay lại")
        await chat.expect("deceased.birth_date")
        await chat.say("18/11/2026")
        await chat.expect("deceased.birth_date")
        await (chat.press(pressed) if pressed else chat.say(said or ""))
        assert chat.field == "deceased.sex", chat.text()
        assert (await chat.answers())["deceased.birth_date"] == "2026-11-18"


async def test_a_count_and_a_photo_at_a_places_spelling_wait_for_their_questions(chat: Chat):
    """At “Ý bạn là: Trạm y tế xã Quỳnh Lưu?”, “2 ban” (two copies) was read as the place “2 bản” (a village), and
    the death notice's photo sent there was dropped with words about a person's name: the count waits for its
    question, the photo is kept for its own, and the words say a place."""
    for said in IN_LAW:
        await chat.say(said)
    assert "Ý bạn là: Trạm y tế xã Quỳnh Lưu?" in chat.ask.text
    await chat.say("2 ban")
    assert "Vui lòng chọn cách viết tên nơi đó trước. “2 ban” sẽ được dùng cho câu hỏi tiếp theo." in chat.text()
    assert "Ý bạn là: Trạm y tế xã Quỳnh Lưu?" in chat.ask.text
    await chat.send_file(jpeg(3), "giay-bao-tu.jpg")
    assert "Đã nhận 1 tệp cho mục “Ảnh giấy báo tử” (được hỏi ở sau)" in chat.text()
    assert "Ý bạn là: Trạm y tế xã Quỳnh Lưu?" in chat.ask.text
    await chat.say("dung")
    a = await chat.answers()
    assert a["notice.issuer"] == "Trạm y tế xã Quỳnh Lưu" and a["notice.copies"] == 2
    assert len(a["docs.death_notice"]) == 1 and "họ tên" not in chat.text()


async def test_the_dead_womans_relation_to_the_head_said_the_other_way_is_asked_again(chat: Chat):
    """“Người mất là gì của chủ hộ?” answered “con trai” for a dead woman (the head is her son: said from his side)
    was filed as her being the head's son: a relation of the other sex is asked again, saying which way round."""
    for said in (*IN_LAW, "dung", "2 ban"):
        await chat.say(said)
    await chat.send_file(jpeg(3), "giay-bao-tu.jpg")
    for said in ("xong", "khong, chong toi la chu ho", "Tran Van Binh", "dung", "038088001122"):
        await chat.say(said)
    await chat.expect("head.relation")
    await chat.say("con trai")
    assert chat.error and "Người mất là nữ, nên không thể là con trai" in chat.error.text
    assert "gõ “Mẹ”" in chat.error.text
    await chat.expect("head.relation")
    await chat.say("me")
    assert chat.error is None and (await chat.answers())["head.relation"] == "Mẹ"


async def test_death_social_insurance_pension_paid_to_bank(chat: Chat, runtime: Runtime):
    await death_start(chat)
    await death_people(chat)
    await chat.expect("benefit.si_status")
    await chat.say("1")  # pension
    await chat.expect("benefit.route_si")
    assert "trợ cấp mai táng của bảo hiểm xã hội" in chat.ask.text and "Điều 85" in chat.ask.text
    # died 10/11/2026: 10 × the base salary of 2.530.000 đ in force from 01/07/2026
    assert "25.300.000 đ" in chat.ask.text and "2.530.000 đ" in chat.ask.text
    await chat.press("yes")
    await death_payment(chat, "bank")
    code = await submit(chat)
    assert code.startswith("LTKT-")
    # QĐ 296/QĐ-VPCP: removal on the day of the death registration, the SI allowance within 9 working days
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[1]), ("police", "submitted", DUE[1]),
                                            ("social_insurance", "submitted", DUE[9])]
    a = (await dossier(runtime, code))["answers"]
    assert a["payment.method"] == "bank" and a["payment.account_number"] == "1234567890123"
    assert a["payment.bank"] == "970405"  # Agribank's BIN
    assert a["payment.account_holder"] == "NGUYEN VAN BINH" and a["deceased.death_time"] == "14:30"
    assert "benefit.merit" not in a and "benefit.route_none" not in a


@pytest.mark.parametrize("status, c12, accident, c60, si, died", [
    # Luật BHXH 2024 Điều 85, deaths from 01/07/2025: 12 months of compulsory contributions...
    ("Đang đi làm, đang đóng BHXH bắt buộc", "có", None, None, True, "10/11/2026"),
    # ...unless the death was a work accident or an occupational disease
    ("Đang đi làm, đang đóng BHXH bắt buộc", "không", "có", None, True, "10/11/2026"),
    ("Đang đi làm, đang đóng BHXH bắt buộc", "không", "không", None, False, "10/11/2026"),
    # Luật BHXH 2014 Điều 66, deaths until 30/06/2025: contributing was enough
    ("Đang đi làm, đang đóng BHXH bắt buộc", None, None, None, True, "20/06/2025"),
    ("Đang chờ đủ tuổi để hưởng lương hưu, trợ cấp hằng tháng", None, None, None, True, "10/11/2026"),
    ("3", "có", None, None, True, "10/11/2026"),           # preserved, 12 months compulsory
    ("4", "không", None, "có", True, "10/11/2026"),        # voluntary, 60 months in all
    ("3", "không", None, "không", False, "10/11/2026"),    # preserved, not enough: the other branches are asked
])
async def test_death_social_insurance_conditions(chat: Chat, status, c12, accident, c60, si, died):
    await death_start(chat)
    await death_people(chat, died=died)
    await chat.expect("benefit.si_status")
    await chat.say(status)
    if c12 is not None:
        await chat.expect("benefit.compulsory_12m")
        await chat.say(c12)
    if accident is not None:
        await chat.expect("benefit.work_accident")
        await chat.say(accident)
    if c60 is not None:
        await chat.expect("benefit.total_60m")
        await chat.say(c60)
    await chat.expect("benefit.route_si" if si else "benefit.merit")


@pytest.mark.parametrize("died, amount, base", [
    ("30/06/2026", "23.400.000 đ", "2.340.000 đ"),  # the last day of the 2.340.000 đ base salary
    ("01/07/2026", "25.300.000 đ", "2.530.000 đ"),  # NĐ 161/2026/NĐ-CP from 01/07/2026
])
async def test_death_funeral_amount_follows_the_date_of_death(chat: Chat, died, amount, base):
    """The amount is a dated standard picked by the date of death, not by today (23/11/2026)."""
    await death_start(chat)
    await death_people(chat, died=died)
    await chat.expect("benefit.si_status")
    await chat.say("1")
    await chat.expect("benefit.route_si")
    assert amount in chat.ask.text and base in chat.ask.text


async def test_a_phone_number_typed_at_the_address_is_kept_for_its_question(chat: Chat):
    """The requester's phone typed at the house's line of the address was “Đây là một dãy số…”, to be typed again
    at the next question: it is that question's answer, said, and the address goes on where it was."""
    await death_start(chat)
    await death_until(chat, "requester.residence")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("0912 345 678")
    assert not chat.error and "Đã ghi “0912345678” cho câu “Số điện thoại”" in chat.text()
    await chat.expect("requester.residence")
    assert "Số nhà" in chat.ask.text  # the house's line, the province and the commune kept
    await chat.say("Thôn 3")
    await chat.expect("deceased.full_name")
    a = await chat.answers()
    assert a["requester.phone"] == "0912345678" and a["requester.residence"]["detail"] == "Thôn 3"


async def test_a_house_in_a_commune_named_before_needs_no_province(chat: Chat):
    """“thôn 7, đức trọng” at the deceased's residence, the requester's being in Xã Đức Trọng: that commune, not the
    old district of the same name with its communes offered."""
    await death_start(chat)
    await death_until(chat, "deceased.residence")
    await chat.say("thôn 7, xã đức trọng")
    assert "Đã ghi: Thôn 7, Xã Đức Trọng, Tỉnh Lâm Đồng." in chat.text()
    residence = (await chat.answers())["deceased.residence"]
    assert residence["commune"] == "Xã Đức Trọng" and residence["detail"] == "Thôn 7"


async def test_no_death_notice_yet_says_where_one_is_issued(chat: Chat):
    """“chưa có giấy báo tử” at “Bạn có giấy báo tử…?” was “Chưa rõ lựa chọn”: it says who issues one, and that
    the answers are kept; the help is not said twice when it comes under the question too."""
    await death_start(chat)
    await death_until(chat, "consent.sensitive")
    await chat.press("yes")
    await chat.say("Già yếu")
    await chat.expect("notice.kind")
    await chat.say("chưa có giấy báo tử")
    assert "Ủy ban nhân dân xã cấp" in chat.error.text and "được giữ lại" in chat.error.text
    await chat.expect("notice.kind")
    await chat.say("chua co giay gi ca")  # the second: the help under the question, not in the message again
    assert "Ủy ban nhân dân xã cấp" not in chat.error.text and "💡 Giấy báo tử do" in chat.ask.text
    await chat.say("không có giấy báo tử, có xác nhận của công an")
    await chat.expect("notice.number")
    assert (await chat.answers())["notice.kind"] == "thay_the"


async def test_death_meritorious_person_cash(chat: Chat, runtime: Runtime):
    await death_start(chat)
    await death_people(chat, notice="thay_the")
    await chat.expect("benefit.si_status")
    await chat.say("Không thuộc trường hợp nào")
    await chat.expect("benefit.merit")
    await chat.say("có")
    await chat.expect("benefit.route_merit")
    assert "người có công" in chat.ask.text and "Nghị định 131/2021/NĐ-CP" in chat.ask.text
    assert "25.300.000 đ" in chat.ask.text
    assert "55/2023" not in chat.ask.text  # amends NĐ 75/2021 (amounts), not NĐ 131/2021
    await chat.press("yes")
    await chat.expect("benefit.merit_category")
    await chat.say("Thương binh")
    await chat.expect("benefit.merit_decision")
    await chat.say("1234/QĐ-SLĐTBXH")
    await chat.expect("docs.merit_decision")  # the decision the document list asks for
    await chat.send_file(jpeg(7), "quyet-dinh.jpg")
    await chat.press("done")
    await death_payment(chat, "cash")
    code = await submit(chat)
    # a substitute for the death notice needs verification: death registration and removal two days longer;
    # the meritorious-people allowance at most 18 working days (QĐ 296/QĐ-VPCP)
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[3]), ("police", "submitted", DUE[3]),
                                            ("social_affairs", "submitted", DUE[18])]
    a = (await dossier(runtime, code))["answers"]
    assert a["payment.method"] == "cash" and not any(k.startswith("payment.bank") for k in a)
    assert len(a["docs.merit_decision"]) == 1


async def test_a_notice_is_read_by_typing_on_and_what_was_typed_is_kept(chat: Chat):
    """A notice to read (“Tôi đã hiểu”), not a consent nor an oath: the next answer typed at it (here the
    requester's name) is taken as read and answers the next question, instead of being refused and lost; “hiểu
    rồi ạ” is read only; a question or a “không” about it is answered and the notice asked again."""
    await death_start(chat, permanent="có", head="có")
    await chat.expect("removal.note_head")
    await chat.say("tại sao không xóa thường trú?")
    assert chat.error is not None and "trợ giúp" in chat.error.text
    await chat.expect("removal.note_head")
    await chat.say("không")
    assert "hủy" in chat.error.text
    await chat.expect("removal.note_head")
    await chat.say("hieu roi a")
    await chat.expect("requester.full_name")  # under the card offer, which is still there
    assert "thẻ căn cước" in chat.ask.text
    await chat.say("quay lại")
    await chat.expect("removal.note_head")
    await chat.say("tôi là con trai")  # not a name: said so at the name, nothing else is lost
    assert "không hỏi vai trò" in chat.error.text
    await chat.expect("requester.full_name")
    assert "thẻ căn cước" in chat.ask.text
    await chat.say("Nguyễn Văn Bình")
    await chat.expect("requester.birth_date")
    answers = await chat.answers()
    assert answers["removal.note_head"] is True and answers["requester.full_name"] == "NGUYỄN VĂN BÌNH"


@pytest.mark.parametrize("born, monthly, aged, days", [("05/03/1950", "có", None, 6),
                                                      ("05/03/1940", "không", "có", 11),
                                                      # papers that show only the year: the age as of 01/01
                                                      ("không nhớ ngày, chỉ biết năm 1940", "không", "có", 11)])
async def test_death_social_protection_funeral_support(chat: Chat, runtime: Runtime, born, monthly, aged, days):
    await death_start(chat, permanent="có", head="có")  # household head: no residence removal leg
    await chat.expect("removal.note_head")
    assert "đổi chủ hộ" in chat.ask.text
    await chat.press("yes")
    await death_people(chat, born=born, head_is_requester=None)
    await chat.expect("benefit.si_status")
    await chat.say("6")
    await chat.say("không")  # not a person with meritorious service
    await chat.expect("benefit.social_pension")  # 70 or over at death, after 01/07/2025
    await chat.say("không")
    await chat.expect("benefit.social_assistance")
    await chat.say(monthly)
    if aged:
        await chat.expect("benefit.aged_allowance")  # 86 at death
        await chat.say(aged)
    await chat.expect("benefit.route_btxh")
    assert "hỗ trợ chi phí mai táng" in chat.ask.text and "Nghị định 76/2024/NĐ-CP" in chat.ask.text
    assert "10.000.000 đ" in chat.ask.text
    await chat.press("yes")
    await chat.expect("benefit.funeral_date")
    await chat.say("12/11/2026")
    await chat.expect("benefit.funeral_place")
    await chat.say("Nghĩa trang thôn 3")
    if aged:  # the proof that the survivor's allowance ended, which the dossier needs
        await chat.expect("docs.allowance_end")
        await chat.say("bỏ qua")
    await death_payment(chat)
    await chat.expect("_review")  # the notice was read, not confirmed
    assert "Xóa thường trú làm riêng (người mất là chủ hộ): Đã đọc" in chat.text()
    code = await submit(chat)
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[1]),
                                            ("social_affairs", "submitted", DUE[days])]
    # the receipt's expected date is the longest leg's, and so is the number of working days it names
    receipt = next(m.text for m in chat.messages if m.dossier)
    assert DUE[days].strftime("%d/%m/%Y") in receipt and f"({days} ngày làm việc)" in receipt
    assert "ước tính" in receipt  # the time limit runs from the desk's receipt
    a = (await dossier(runtime, code))["answers"]
    assert "head.is_requester" not in a and a["removal.was_head"] is True
    assert a["deceased.birth_date"] == ("1940" if born.startswith("không") else "1940-03-05" if aged else "1950-03-05")


@pytest.mark.parametrize("born, asks_aged", [("05/03/1950", False), ("05/03/1940", True)])
async def test_death_no_benefit_applies(chat: Chat, runtime: Runtime, born, asks_aged):
    await death_start(chat)
    await death_people(chat, born=born, head_is_requester=True)
    # the family does not know: the last option says “hoặc không rõ”, and that is what “không biết” picks
    await chat.say("ko biet" if asks_aged else "6")
    assert not chat.error
    await chat.say("không")
    await chat.expect("benefit.social_pension")
    await chat.say("không")
    await chat.expect("benefit.social_assistance")
    await chat.say("không")
    if asks_aged:
        await chat.expect("benefit.aged_allowance")
        await chat.say("không")
    await chat.expect("benefit.route_none")
    assert "không thuộc diện" in chat.ask.text and "trợ giúp đột xuất" in chat.ask.text
    assert "xóa thường trú" not in chat.ask.text  # it says nothing false about what the dossier holds
    await chat.press("yes")
    code = await submit(chat)  # no payment questions
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[1]), ("police", "submitted", DUE[1])]
    a = (await dossier(runtime, code))["answers"]
    assert a["head.is_requester"] is True and "head.full_name" not in a
    assert not any(k.startswith(("payment.", "recipient.")) for k in a)


async def test_death_only_death_and_residence_removal(chat: Chat, runtime: Runtime):
    await death_start(chat, parts="Chỉ khai tử và xóa thường trú")
    await death_people(chat)
    code = await submit(chat)  # no benefit questions
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[1]), ("police", "submitted", DUE[1])]


async def test_death_without_permanent_residence_with_benefit_has_no_removal(chat: Chat, runtime: Runtime):
    await death_start(chat, parts="cả 3", permanent="không")  # (all three: “Khai tử, xóa thường trú và trợ cấp…”)
    await chat.expect("removal.note_none")
    await chat.press("yes")
    await death_people(chat, head_is_requester=None)
    await chat.say("1")
    await chat.press("yes")
    await death_payment(chat)
    code = await submit(chat)
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[1]),
                                            ("social_insurance", "submitted", DUE[9])]


@pytest.mark.parametrize("permanent, head", [("không", None), ("có", "có")])
async def test_death_with_nothing_to_link_is_filed_as_the_death_registration(chat: Chat, runtime: Runtime,
                                                                             permanent, head):
    """“Chỉ khai tử và xóa thường trú” where the removal cannot go with it (no permanent residence, or the head of
    the household): said at once, and the death registration is filed alone — not stopped, with “Đăng ký khai tử
    riêng” to be done elsewhere."""
    await death_start(chat, parts="2", permanent=permanent, head=head)
    await chat.expect("removal.death_only")
    assert "chỉ gồm việc đăng ký khai tử" in chat.ask.text
    await chat.press("yes")
    await death_people(chat, head_is_requester=None)
    code = await submit(chat)
    assert await legs_of(runtime, code) == [("commune", "submitted", DUE[1])]


# ---------------------------------------------------------------------------------------------------------
# officers act on legs; the parent dossier follows
# ---------------------------------------------------------------------------------------------------------
async def officer(rt: Runtime, agency: str, commune: str, role: str = lc.LEADER) -> int:
    async with rt.sm() as db, db.begin():
        o, _code = await off.add_officer(db, full_name=f"Cán bộ {agency}", agency=agency, commune_code=commune,
                                         role=role, now=rt.now())
        return o.id


async def act(rt: Runtime, officer_id: int, fn, *args):
    async with rt.sm() as db, db.begin():
        o = await OfficerRepo(db).get(officer_id)
        return await fn(db, o, *args, now=rt.now(), calendar=rt.calendar)


async def test_parent_status_follows_legs(chat: Chat, runtime: Runtime):
    await birth_start(chat)
    await birth_people(chat)
    await birth_residence(chat)
    await birth_insurance(chat)
    await birth_docs(chat)
    code = await submit(chat)
    commune = (await dossier(runtime, code))["commune_code"]
    assert commune
    ubnd, police, bhxh = [await officer(runtime, a, commune) for a in ("commune", "police", "social_insurance")]

    async def status() -> str:
        return (await dossier(runtime, code))["status"]

    await act(runtime, ubnd, off.claim, code)
    await act(runtime, ubnd, off.receive, code)
    assert [s for _, s, _ in await legs_of(runtime, code)] == ["received", "submitted", "submitted"]
    assert await status() == "submitted"  # the least advanced open leg
    for o in (police, bhxh):
        await act(runtime, o, off.claim, code)
        await act(runtime, o, off.receive, code)
    assert await status() == "received"
    await act(runtime, police, off.claim, code)
    await act(runtime, police, off.request_supplement, code, ["residence.case"], "Thiếu ý kiến chủ sở hữu")
    assert await status() == "needs_supplement"
    await act(runtime, ubnd, off.claim, code)
    await act(runtime, ubnd, off.approve, code, "15/2026")
    await act(runtime, ubnd, off.claim, code)
    await act(runtime, ubnd, off.return_result, code)
    await act(runtime, bhxh, off.claim, code)
    await act(runtime, bhxh, off.reject, code, "Trẻ đã có thẻ BHYT")
    legs = await legs_of(runtime, code)
    assert [s for _, s, _ in legs] == ["result_issued", "needs_supplement", "rejected"]
    assert await status() == "needs_supplement"
    # the citizen is told which part changed, and where to collect each result
    async with runtime.sm() as db:
        sent = {m.kind: m.payload["text"] for m in await OutboxRepo(db).list(chat_key=chat.user)}
    assert "— Đăng ký thường trú cho trẻ) cần bổ sung" in sent["citizen_needs_supplement"]
    assert "— Đăng ký khai sinh) đã có kết quả (số 15/2026)" in sent["citizen_result_issued"]
    assert "đến Ủy ban nhân dân cấp xã nơi đăng ký khai sinh" in sent["citizen_result_issued"]
    # a part's refusal reads as that part only, and the others go on
    assert "Rất tiếc, phần “Cấp thẻ BHYT cho trẻ dưới 6 tuổi” của hồ sơ" in sent["citizen_rejected"]
    assert "Các phần khác của hồ sơ vẫn được giải quyết tiếp" in sent["citizen_rejected"]
    # each part's message gives its own date (the birth registration's 1 working day), not the dossier's last
    async with runtime.sm() as db:
        received = [m.payload["text"] for m in await OutboxRepo(db).list(chat_key=chat.user)
                    if m.kind == "citizen_received"]
    birth = next(t for t in received if "— Đăng ký khai sinh)" in t)
    assert f"Ngày hẹn trả kết quả: {DUE[1]:%d/%m/%Y}" in birth
    assert all(f"Ngày hẹn trả kết quả: {DUE[3]:%d/%m/%Y}" in t for t in received if t != birth)
    # each leg only in its own agency's queue; an officer of another agency cannot touch it
    async with runtime.sm() as db:
        o = await OfficerRepo(db).get(bhxh)
        with pytest.raises(off.ActionRefused):
            await off.approve(db, o, code, "1", now=runtime.now(), calendar=runtime.calendar)


async def test_death_group_parent_closes_when_every_leg_closes(chat: Chat, runtime: Runtime):
    await death_start(chat, parts="2")
    await death_people(chat)
    code = await submit(chat)
    commune = (await dossier(runtime, code))["commune_code"]
    ubnd, police = await officer(runtime, "commune", commune), await officer(runtime, "police", commune)
    for o, number in ((ubnd, "20/TLKT"), (police, "XTT-1")):
        await act(runtime, o, off.claim, code)
        await act(runtime, o, off.receive, code)
        await act(runtime, o, off.claim, code)
        await act(runtime, o, off.approve, code, number)
    assert (await dossier(runtime, code))["status"] == "approved"
    await act(runtime, ubnd, off.claim, code)
    await act(runtime, ubnd, off.return_result, code)
    assert (await dossier(runtime, code))["status"] == "approved"  # the police leg is still open
    await act(runtime, police, off.claim, code)
    await act(runtime, police, off.return_result, code)
    assert (await dossier(runtime, code))["status"] == "result_issued"


# ---------------------------------------------------------------------------------------------------------
# the legs' forms
# ---------------------------------------------------------------------------------------------------------
UPDATE = os.environ.get("DVCBOT_UPDATE_GOLDEN") == "1"
SUBMITTED = datetime(2026, 11, 23, 9, 0, tzinfo=VN)


def golden(name: str, text: str) -> None:
    """tests/golden/<template-id>.txt; regenerate with DVCBOT_UPDATE_GOLDEN=1 and read the diff."""
    path = GOLDEN / f"{name}.txt"
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote {path}; read it against the form, then run the tests again")
    assert text == path.read_text(encoding="utf-8")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


async def test_leg_forms_render_with_diacritics(chat: Chat, runtime: Runtime, tmp_path, capsys):
    await birth_start(chat)
    await birth_people(chat, father_same=False)
    await birth_residence(chat)
    await birth_insurance(chat)
    await birth_docs(chat)
    code = await submit(chat)
    d = await dossier(runtime, code)
    a, when = d["answers"], (await _submitted_at(runtime, code))
    expected = {
        "to-khai-dang-ky-khai-sinh": ["TỜ KHAI ĐĂNG KÝ KHAI SINH", "NGUYỄN MINH AN", "TRẦN THỊ HOA", "NGUYỄN VĂN BÌNH",
                                      "Giấy chứng nhận kết hôn của cha mẹ: số 125", "Phan Đình Phùng"],
        "ct01-tt66": ["TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ", "Đăng ký thường trú cho trẻ mới sinh",
                      "Họ, chữ đệm và tên chủ hộ: NGUYỄN VĂN BÌNH", "068093004321"],
        "tk1-ts": ["BẢO HIỂM Y TẾ", "TRẦN THỊ HOA (mẹ)", "Trạm Y tế xã Đức Trọng", "Ngân sách nhà nước đóng"],
    }
    for tpl, needles in expected.items():
        text = render_text(BIRTH, a, submitted_at=when, code=code, template=tpl)
        golden(tpl, render_text(BIRTH, a, submitted_at=SUBMITTED, code="LTKS-2611-GOLDEN01", template=tpl))
        for n in needles:
            assert n in text, (tpl, n, text)
        assert "…" not in text.split("Họ, chữ đệm", 1)[0] or tpl != "to-khai-dang-ky-khai-sinh"
        pdf_text = _pdf_text(render_pdf(BIRTH, a, submitted_at=when, code=code, template=tpl))
        for n in needles[:3]:
            assert n in pdf_text, (tpl, n)
    # the officer side: `dvcbot form CODE --leg LEG`
    out = tmp_path / "ct01.pdf"
    assert await asyncio.to_thread(cli_main, ["--db", runtime.db_url, "--var", str(tmp_path / "var"), "form", code,
                                              "--leg", "residence", "--out", str(out)]) == 0
    assert "TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ" in _pdf_text(out.read_bytes())
    assert await asyncio.to_thread(cli_main, ["--db", runtime.db_url, "--var", str(tmp_path / "var"), "form", code,
                                              "--leg", "nope", "--text"]) == 1
    capsys.readouterr()


async def _submitted_at(rt: Runtime, code: str):
    async with rt.sm() as db:
        return (await DossierRepo(db).by_code(code)).submitted_at


async def test_death_form_renders(chat: Chat, runtime: Runtime):
    await death_start(chat, parts="2")
    await death_people(chat, notice="thay_the")
    code = await submit(chat)
    a = (await dossier(runtime, code))["answers"]
    text = render_text(DEATH, a, submitted_at=await _submitted_at(runtime, code), code=code,
                       template="to-khai-dang-ky-khai-tu")
    for n in ("TỜ KHAI ĐĂNG KÝ KHAI TỬ", "NGUYỄN VĂN AN", "Đã chết vào lúc: 14:30, ngày 10 tháng 11 năm 2026",
              "Giấy tờ thay thế giấy báo tử số: ", "Nguyên nhân chết: Già yếu", "☒ Có"):
        assert n in text, (n, text)
    assert "Kính gửi: Ủy ban nhân dân xã Đức Trọng" in text
    assert "Nơi cư trú: Thôn 3, Xã Đức Trọng, Tỉnh Lâm Đồng\nGiấy tờ tùy thân" in text, text  # the requester's
    golden("to-khai-dang-ky-khai-tu", render_text(DEATH, a, submitted_at=SUBMITTED, code="LTKT-2611-GOLDEN01",
                                                  template="to-khai-dang-ky-khai-tu"))
    pdf_text = _pdf_text(render_pdf(DEATH, a, code=code, template="to-khai-dang-ky-khai-tu"))
    assert "TỜ KHAI ĐĂNG KÝ KHAI TỬ" in pdf_text and "NGUYỄN VĂN AN" in pdf_text


async def test_two_agencies_supplements_the_citizen_hears_of_the_second(chat: Chat, runtime: Runtime):
    """D10: the commune and the police each ask for something; after answering the first request, the citizen
    is told another is waiting, and answers it too."""
    await death_start(chat, parts="2")
    await death_people(chat)
    code = await submit(chat)
    commune = (await dossier(runtime, code))["commune_code"]
    ubnd, police = await officer(runtime, "commune", commune), await officer(runtime, "police", commune)
    for o, path in ((ubnd, "requester.phone"), (police, "deceased.death_time")):
        await act(runtime, o, off.claim, code)
        await act(runtime, o, off.receive, code)
        await act(runtime, o, off.claim, code)
        await act(runtime, o, off.request_supplement, code, [path], "Cần kiểm tra lại")
    await chat.say("bổ sung")
    first = chat.field
    assert first in ("requester.phone", "deceased.death_time")
    await chat.say("0987654321" if first == "requester.phone" else "15:45")
    await chat.press("send")
    assert "Còn 1 yêu cầu bổ sung khác đang chờ bạn" in chat.text()
    await chat.say("bổ sung")
    second = chat.field
    assert {first, second} == {"requester.phone", "deceased.death_time"}


async def test_words_people_type_for_the_birth_groups_choices(chat: Chat):
    """“cả 3” for the three procedures, “bà nội” for the grandmother (it was “Cha or Bà?”), “trai” for a boy, and
    “như trên” for the mother's residence when she lives with the grandmother who files (``same_as``)."""
    await birth_start(chat, parts="cả 3")
    await chat.expect("requester.relation")
    assert (await chat.answers())["link.parts"] == "all"
    await chat.say("bà nội")
    await chat.expect("requester.full_name")
    await chat.say("Lê Thị Mai")
    await chat.say("20/08/1968")
    await chat.say("068168002222")
    await chat.expect("requester.residence")
    await chat.say("Lâm Đồng, Đức Trọng, Thôn 5")  # written province first
    await chat.expect("requester.phone")
    await chat.say("0912345678")
    await chat.say("Nguyễn Minh An")
    await chat.expect("child.sex")
    await chat.say("trai")
    await chat.expect("child.ethnicity")
    answers = await chat.answers()
    assert (answers["requester.relation"], answers["child.sex"]) == ("ba", "nam")
    assert answers["requester.residence"]["commune"] == "Xã Đức Trọng"
    assert answers["requester.residence"]["detail"] == "Thôn 5"
    await child_after_sex(chat)
    await chat.say("Trần Thị Hoa")
    await chat.say("12/04/1995")
    await chat.say("068195001234")
    await chat.say("Kinh")
    await chat.say("1")
    await chat.expect("mother.residence")
    # the grandmother's, then the commune of the registration (its village is then asked)
    assert [c.label for c in chat.ask.choices] == ["Thôn 5, Xã Đức Trọng, Tỉnh Lâm Đồng", "Xã Đức Trọng, Tỉnh Lâm Đồng"]
    await chat.say("2")
    await chat.expect("mother.residence")
    assert "Số nhà, đường/thôn/ấp/tổ dân phố?" in chat.ask.text
    await chat.say("quay lại")  # the commune's list, then the province's question and its offer again
    await chat.say("quay lại")
    await chat.say("như trên")
    await chat.expect("father.full_name")
    answers = await chat.answers()
    assert answers["mother.residence"] == answers["requester.residence"]


async def test_what_is_left_out_and_the_kin_named_are_understood(chat: Chat):
    """“ko can bhyt” at “Bạn muốn làm liên thông những việc nào?” and “chu” at “Bạn là gì của trẻ?” both got
    “Chưa rõ lựa chọn”: the first is the one option without BHYT, the second “Người thân thích khác”, and the kin
    asked next is answered “chú” (``also_answers_next``)."""
    await birth_start(chat, parts="ko can bhyt")
    await chat.expect("requester.relation")
    assert (await chat.answers())["link.parts"] == "birth_residence"
    await chat.say("la chu cua be a")
    await chat.expect("requester.full_name")
    answers = await chat.answers()
    assert (answers["requester.relation"], answers["requester.relation_other"]) == ("khac", "Chú")
    await chat.say("quay lại")  # the kin's own question, as it was answered
    await chat.expect("requester.relation_other")


async def test_a_child_not_yet_named_is_told_how_to_pause(chat: Chat):
    """“khong” at the child's name was offered to be kept as the name “KHONG”, and “chua dat ten” to be kept
    without diacritics: the first is asked again, the second told the birth needs a name and how to pause."""
    await birth_start(chat)
    await birth_requester(chat)
    await chat.expect("child.full_name")
    await chat.say("khong")
    assert chat.error is not None and chat.error.text.startswith("Câu này hỏi họ và tên.")
    await chat.say("chua dat ten a")
    await chat.expect("child.full_name")
    assert chat.error is not None and "được giữ lại" in chat.error.text
    assert "Nếu gia đình chưa đặt tên" in chat.text()  # (the help once: under the question, the 2nd wrong answer)
    await chat.say("menu")
    await chat.say("tiếp tục")
    await chat.expect("child.full_name")
    assert (await chat.answers())["requester.phone"] == "0912345678"


async def test_the_kin_of_the_dead_named_answers_two_questions(chat: Chat):
    """“con dâu” at “Bạn là gì của người mất?” picked “Con” (the label inside the answer): it is “Khác”, and
    “Quan hệ cụ thể” is answered with it."""
    await death_start(chat)
    await chat.expect("requester.full_name")
    await chat.say("Nguyễn Thị Bình")
    await chat.say("01/02/1975")
    await chat.say("068175001234")
    await chat.expect("requester.relation")
    await chat.say("con dau")
    answers = await chat.answers()
    assert (answers["requester.relation"], answers["requester.relation_other"]) == ("khac", "Con dâu")
    await chat.say("quay lại")
    await chat.say("quay lại")
    await chat.expect("requester.relation")
    await chat.say("me toi")  # my mother died: the one filing is her child, not her parent
    assert (await chat.answers())["requester.relation"] == "con"
    await chat.expect("requester.residence")
    await chat.say("xom 3")  # the hamlet before the province: kept, and it completes the commune offered
    assert chat.error is not None and chat.error.text.startswith("Đã ghi “Xóm 3”.")
    await chat.say("1")
    residence = (await chat.answers())["requester.residence"]
    assert (residence["detail"], residence["commune"]) == ("Xóm 3", "Xã Đức Trọng")


async def test_an_ethnic_group_not_on_the_buttons_is_typed_by_its_name(chat: Chat):
    """“co ho” at “Dân tộc của trẻ?” (eight groups and “Dân tộc khác” as buttons) got “Chưa rõ lựa chọn”; it is
    now “Dân tộc khác” (``also_in: ethnic_groups``), and the name asked next is answered with it, spelled."""
    await birth_start(chat)
    await birth_requester(chat)
    await chat.say("Nguyễn Minh An")
    await chat.say("nam")
    await chat.expect("child.ethnicity")
    await chat.say("co ho")
    await chat.expect("child.nationality")
    answers = await chat.answers()
    assert (answers["child.ethnicity"], answers["child.ethnicity_other"]) == ("khac", "Cơ Ho")
    await chat.say("quay lại")  # the name's own question, as it was answered
    await chat.expect("child.ethnicity_other")
    assert "Cơ Ho" in chat.ask.text


async def to_birth_place(chat: Chat) -> Chat:
    """The birth group up to the child's place of birth."""
    await birth_start(chat)
    await birth_requester(chat)
    for text in ("nguyễn minh an", "nam", "Kinh", "Việt Nam"):
        await chat.say(text)
    return await chat.expect("child.birth_place")


async def test_a_hospital_named_after_an_old_district_keeps_its_name(chat: Chat):
    """“benh vien da khoa huyen hai hau” at the place of birth offered the old district's communes and kept “Bệnh
    viện đa khoa huyện” as the place: the hospital's name is kept whole, spelled; a hamlet typed with the district
    (“thon 3 huyen hai hau”) loses the district's words, its type word too."""
    await to_birth_place(chat)
    await chat.say("benh vien da khoa huyen hai hau")
    assert "“Huyện Hải Hậu” là đơn vị cấp huyện cũ" in chat.text() and "Tỉnh Ninh Bình" in chat.ask.text
    assert "(Đã ghi: Bệnh viện đa khoa huyện Hải Hậu.)" in chat.ask.text, chat.ask.text
    await chat.say("quay lại")
    await chat.say("benh vien da khoa hai hau")  # its type word not typed: none added (“huyện” was)
    assert "(Đã ghi: Bệnh viện đa khoa Hải Hậu.)" in chat.ask.text, chat.ask.text
    await chat.say("quay lại")
    await chat.say("thon 3 huyen hai hau")
    assert "(Đã ghi: Thôn 3.)" in chat.ask.text, chat.ask.text
    await chat.say("Xã Hải Hậu")
    await chat.expect("child.hometown")
    place = (await chat.answers())["child.birth_place"]
    assert (place["commune"], place["detail"]) == ("Xã Hải Hậu", "Thôn 3")


async def test_a_hospital_typed_before_its_province_is_kept_for_the_place(chat: Chat):
    """“benh vien tu du” at the province of the place of birth was “Không tìm thấy tỉnh/thành”: the hospital's
    name is kept (its opening words spelled) for the place, and the province asked, then the ward."""
    await to_birth_place(chat)
    await chat.say("benh vien tu du")
    assert "Đã ghi “Bệnh viện tu du”" in chat.text() and "tỉnh/thành phố trước" in chat.text()
    await chat.say("tp hcm")
    assert "(Đã ghi: Bệnh viện tu du.)" in chat.ask.text, chat.ask.text
    await chat.say("phuong ben thanh")
    await chat.expect("child.hometown")
    place = (await chat.answers())["child.birth_place"]
    assert (place["commune"], place["detail"]) == ("Phường Bến Thành", "Bệnh viện tu du")


async def test_a_hometown_said_as_a_parents_names_no_place_and_is_asked(chat: Chat):
    """“giong me” at “Quê quán của trẻ?” was filed as the hometown “giong me”: a place said only as someone's is
    asked again for the place; “quê mẹ ở nghệ an” names it."""
    await to_birth_place(chat)
    await chat.say("benh vien tu du")
    await chat.say("tp hcm")
    await chat.say("phuong ben thanh")
    await chat.expect("child.hometown")
    for said in ("giong me", "theo quê bố", "que cua ong noi"):
        await chat.say(said)
        assert chat.error and f"“{said}” chưa ghi nơi nào" in chat.error.text, said
        await chat.expect("child.hometown")
    await chat.say("que me o nghe an")
    assert "Nghệ An" in chat.ask.text  # (its spelling asked)
    assert "child.hometown" not in await chat.answers()


async def test_not_remembering_a_date_said_in_a_sentence_is_read_so(chat: Chat):
    """“khong nho ngay sinh cua no” at the mother's birth date, typed by a grandmother, was “Ngày chưa đúng”: a
    reply without a digit that begins by saying it is not known is read so, and told where it is found; the
    ID number's question says where that number is found too."""
    await birth_start(chat)
    await birth_requester(chat, "Bà")
    for text in ("nguyễn minh an", "nam", "Kinh", "Việt Nam", "Lâm Đồng", "Đức Trọng", "Trạm Y tế xã Đức Trọng",
                 "Xã Đức Trọng, tỉnh Lâm Đồng", "2", "Trần Thị Hoa"):
        await chat.say(text)
    await chat.expect("mother.birth_date")
    await chat.say("khong nho ngay sinh cua no")
    assert chat.error and "Câu này cần có câu trả lời" in chat.error.text, chat.error
    await chat.expect("mother.birth_date")
    await chat.say("1995")  # a year alone may be a date begun: how to keep it is said
    assert chat.error and "gõ “chỉ có năm 1995”" in chat.error.text, chat.error
    await chat.say("bà chỉ biết năm 1995 thôi")  # the declaration prints the parents' year only
    await chat.expect("mother.id_number")
    assert (await chat.answers())["mother.birth_date"] == "1995"
    await chat.say("bà không biết số căn cước của nó")
    assert chat.error and "VNeID" in chat.error.text, chat.error
    await chat.say("068195001234")
    await chat.say("Kinh")
    await chat.say("1")
    await chat.expect("mother.residence")
    assert len(chat.ask.choices) == 2  # the grandmother's house and the commune of registration, offered
    await chat.say("o chung nha voi ba")  # the one of them that is a person's house
    assert "Đã ghi: Thôn 5, Xã Đức Trọng, Tỉnh Lâm Đồng." in chat.text(), chat.text()
    answers = await chat.answers()
    assert answers["mother.residence"] == answers["requester.residence"]
    await chat.say("quay lại")
    await chat.expect("mother.residence")
    await chat.say("o cung nha voi toi")  # (“tôi”, the one typing, was “Không tìm thấy tỉnh/thành”)
    assert "Đã ghi: Thôn 5, Xã Đức Trọng, Tỉnh Lâm Đồng." in chat.text(), chat.text()


def test_a_parents_in_law_is_a_grandparent_not_a_parent():
    """A mother living with her husband's parents answers “bố chồng” or “con dâu” at “Trẻ là gì của chủ hộ?”:
    the child is the head's grandchild (filed “Con” by the first word before); a grandmother answering “mẹ chồng”
    at “Bạn là gì của trẻ?” is “Bà”, not “Mẹ”. At the death group the in-laws are the other relations."""
    from tests.test_conversation_disability import read_answer

    for said in ("bo chong", "me chong", "con dau", "con rể", "bố vợ", "nha chong"):
        assert read_answer(BIRTH, "head.child_relation", said) == "chau", said
    for said in ("bo no", "me", "con"):
        assert read_answer(BIRTH, "head.child_relation", said) == "con", said
    assert [read_answer(BIRTH, "requester.relation", s) for s in ("me chong", "bo vo", "me", "bo")] == \
        ["ba", "ong", "me", "cha"]
    assert [read_answer("lien-thong-khai-tu", "requester.relation", s) for s in ("anh re", "chi dau")] == \
        ["khac", "khac"]
    assert [read_answer("lien-thong-khai-tu", "head.relation", s) for s in ("me chong", "chau re")] == \
        ["Mẹ chồng", "Cháu rể"]


async def test_a_grandmother_filing_is_the_head_of_household(chat: Chat):
    """“tôi là chủ hộ”, typed by a grandmother filing, was “Người khác”, then offered as the head's name “LA TOI”
    (“là tôi”): the one filing is an option of “Ai là chủ hộ?”, whose name and number are not asked again and
    are printed on CT01."""
    from dialogs.forms.render import render_text

    await birth_start(chat)
    await birth_people(chat, requester="Bà")
    await chat.expect("residence.case")
    await chat.say("o voi ba noi")
    await chat.expect("residence.same_as_mother")
    await chat.say("có")
    await chat.expect("head.who")
    await chat.say("tôi là chủ hộ")
    await chat.expect("head.child_relation")
    await chat.say("cháu nội")
    await chat.expect("head.consent")
    a = await chat.answers()
    assert a["head.who"] == "requester" and "head.full_name" not in a
    text = render_text(BIRTH, a, template="ct01-tt66")
    assert "7. Họ, chữ đệm và tên chủ hộ: LÊ THỊ MAI   8. Mối quan hệ với chủ hộ: Cháu" in text
    assert "9. Số định danh cá nhân của chủ hộ: 068168002222" in text


def test_a_kin_word_is_never_taken_for_another_kin():
    """A whole answer that is a word of kinship is not filed as an option naming another kin by a label only like
    it or only begun by it: “bố chồng” was the child's father as head of household and on the health card, “cháu”
    and “chắt” the father (“cha”), “chắt” at the death group a parent. An option that names no kin (“Người khác”,
    “Nam”) still takes it: “em trai” is male."""
    from tests.test_conversation_disability import read_answer

    assert [read_answer(BIRTH, "head.who", s) for s in ("bo chong", "me vo", "bố")] == ["other", "other", "father"]
    for field, said in (("insurance.guardian", "me chong"), ("insurance.guardian", "bo vo"),
                        ("insurance.guardian", "chau"), ("requester.relation", "chat"),
                        ("requester.relation", "ban"), ("case.situation", "chu")):
        with pytest.raises(Invalid):
            read_answer(BIRTH, field, said)
    assert read_answer(BIRTH, "insurance.guardian", "nguoi than") == "requester"  # “(… hoặc người thân khác)”
    assert read_answer("lien-thong-khai-tu", "requester.relation", "chat") == "khac"
    assert [read_answer("lien-thong-khai-tu", "deceased.sex", s) for s in ("em trai", "chi gai")] == ["nam", "nu"]
    # an option naming no kin and sharing no word with it was only like it: “cháu” is not “Tôi là chủ hộ”
    for proc, field, said in (("xac-nhan-ho-muc-song-trung-binh", "filer.role", "chau"),
                              ("ho-tro-chi-phi-mai-tang", "deceased.cause", "di"),
                              (DEATH, "deceased.ethnicity", "ong")):
        with pytest.raises(Invalid):
            read_answer(proc, field, said)
    # a daughter registering her mother's account is filing for her (“người thân” of the option)
    assert read_answer("nhan-tro-cap-qua-tai-khoan", "filer.kind", "toi la con gai") == "helper"


async def test_a_father_says_who_he_is_early_and_a_parents_birth_date_is_checked(chat: Chat):
    """Walked as a father types: “toi la bo chau” at the collective-residence question was refused as no yes or no
    (three questions to come take “bố”): said of oneself, it answers the first, “Bạn là gì của trẻ?”; and a birth
    date that makes him younger than 13 at the child's birth is asked about (the child's date typed here, mostly)."""
    for said in ("vo toi moi sinh em be, muon lam giay khai sinh", "co ca bo va me", "khong", "xa dien chau nghe an",
                 "hom kia", "ca ba viec"):
        await chat.say(said)
    await chat.expect("residence.collective")
    await chat.say("toi la bo chau")
    assert "Đã ghi “Cha” cho câu “Bạn là gì của trẻ?” (được hỏi ở sau)" in chat.text()
    await chat.expect("residence.collective")
    await chat.say("khong")
    assert (await chat.answers())["requester.relation"] == "cha"
    for said in ("go tay", "phan van duc", "dung"):
        await chat.say(said)
    await chat.expect("requester.birth_date")
    await chat.say("5/12/2020")
    assert "Bạn sinh ngày 05/12/2020, khi trẻ ra đời bạn chưa đủ 13 tuổi, có đúng không?" in chat.text()
    await chat.expect("requester.birth_date")
    await chat.say("12/8/1994")
    assert chat.field == "requester.id_number" and (await chat.answers())["requester.birth_date"] == "1994-08-12"


async def test_a_day_said_in_the_request_is_kept_for_its_question(chat: Chat):
    """“bố tôi … mất ngày 20/11/2026 tại nhà …, tôi muốn làm giấy chứng tử” had its date lost, to be typed again much
    later: the date after a word of death is the date of death, said back and not asked again; in the birth group,
    the date after words of the birth said of the child is the child's (never the mother's “sinh ngày …”)."""
    await chat.say("bo toi ten Nguyen Van Hung sinh nam 1945, mat ngay 20/11/2026 tai nha o xa dien chau nghe an, "
                   "toi muon lam giay chung tu")
    assert "• Ngày chết: 20/11/2026 (câu hỏi sau)" in chat.text()
    assert chat.field == "link.parts" and (await chat.answers())["deceased.death_date"] == "2026-11-20"
    await chat.say("menu")
    await chat.say("me chau sinh ngay 3/4/1996, chau moi sinh hom qua, toi muon lam khai sinh cho chau")
    assert "• Ngày sinh của trẻ: 22/11/2026 (câu hỏi sau)" in chat.text()
    assert (await chat.answers())["child.birth_date"] == "2026-11-22"
