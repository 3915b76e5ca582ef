"""Conversation tests for `ho-tro-mai-tang-huu-tri-xa-hoi` (NĐ 176/2025/NĐ-CP, national code 1.014028): a
procedure added as data only (its YAML, its English strings and this test), driven as a citizen would."""
from __future__ import annotations

import pytest

from bot.service import Runtime
from storage.repo import DossierRepo, dossier_to_dict
from tests.conftest import Chat, jpeg

PROC = "ho-tro-mai-tang-huu-tri-xa-hoi"


async def until_death_date(chat: Chat) -> Chat:
    await chat.press(PROC)
    await chat.expect("deceased.had_social_pension")
    assert "Hỗ trợ chi phí mai táng cho người hưởng trợ cấp hưu trí xã hội" in chat.text()  # the info card
    await chat.say("có")
    await chat.expect("filer.role")
    await chat.say("tôi là con")  # the one who arranged the funeral files
    await chat.expect("deceased.full_name")
    await chat.say("Trần Thị Mai")
    await chat.say("ngay 2 thang 3")  # no year: never this year's birth
    assert chat.error and "chưa nhập năm" in chat.error.text
    await chat.expect("deceased.birth_date")
    await chat.say("02/03/1945")
    await chat.say("nữ")
    await chat.expect("deceased.residence")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.expect("deceased.death_date")
    return chat


async def test_social_pension_funeral_support_paid_to_an_account(chat: Chat, runtime: Runtime):
    await until_death_date(chat)
    await chat.say("10/11/2026")
    await chat.expect("deceased.funeral_place")
    await chat.say("Nghĩa trang thôn 3")
    await chat.expect("organizer.kind")
    await chat.say("con trai")  # the family: “Gia đình, người thân hoặc cá nhân”
    await chat.expect("applicant.full_name")
    await chat.say("Nguyễn Văn Bình")
    await chat.expect("applicant.id_number")
    await chat.say("068075001234")
    await chat.expect("applicant.relation")
    await chat.say("con")
    await chat.expect("applicant.residence")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.expect("contact.phone")
    await chat.say("0912345678")
    await chat.expect("payment.method")
    await chat.press("bank")
    # the account number is financial data: a short consent first (Luật 91/2025/QH15)
    await chat.expect("consent.bank")
    assert "chỉ cán bộ" in chat.ask.text
    await chat.press("yes")
    await chat.expect("payment.bank")
    await chat.say("ngan hang nong nghiep")
    await chat.expect("payment.account_number")
    await chat.say("1234 5678 9012 3")
    await chat.expect("payment.account_holder")
    assert [c.label for c in chat.ask.choices] == ["Nguyễn Văn Bình"]  # the applicant's name, offered
    await chat.say("nhu tren")
    await chat.expect("docs.death_extract")
    assert "Đã ghi: NGUYỄN VĂN BÌNH." in chat.text()  # (in capitals, as the bank prints it)
    await chat.send_file(jpeg(4), "trich-luc-khai-tu.jpg")
    await chat.press("done")
    await chat.expect("_review")
    await chat.press("confirm")
    await chat.expect("_sworn")
    await chat.press("yes")
    code = chat.dossier
    assert code and code.startswith("MTH-")
    assert "ước tính" in chat.text()  # the date is an estimate until the commune receives the dossier
    async with runtime.sm() as db:
        [d] = await DossierRepo(db).list(procedure_id=PROC)
        data = dossier_to_dict(d)
    a = data["answers"]
    assert a["deceased.had_social_pension"] is True and a["deceased.death_date"] == "2026-11-10"
    assert a["payment.method"] == "bank" and a["payment.bank"] == "970405"
    assert data["applicant_name"] == "Nguyễn Văn Bình" and a["payment.account_holder"] == "NGUYỄN VĂN BÌNH"
    assert a["organizer.kind"] == "person"
    await chat.say("hủy")  # after filing, nothing open: how to withdraw is said, nothing is cancelled
    assert not chat.error and f"gõ “rút hồ sơ {code}”" in chat.text()
    await chat.expect("procedure")


async def test_a_neighbour_files_for_the_son_who_arranged_the_funeral(chat: Chat, runtime: Runtime):
    """“ông hàng xóm … vừa mất, con ông nhờ tôi làm giúp”: the declaration was asked of “bạn (người khai, người lo mai
    táng…)”, so a neighbour typing for the son filed under their own name, and the account asked was theirs. Who files
    is asked (here read from the request), the helper's name, phone and the son's consent kept apart, and the
    questions after speak of “người lo mai táng”, whose the dossier and the money are."""
    await chat.say("ong hang xom toi huong tro cap huu tri xa hoi vua mat, con ong nho toi lam giup ho so mai tang")
    assert "• Người khai: Tôi khai giúp người lo mai táng" in chat.text()
    await chat.expect("filer.full_name")
    await chat.say("Phạm Thị Hằng")
    await chat.say("0987 111 222")
    await chat.expect("consent.subject")
    assert "cần người lo mai táng đồng ý" in chat.ask.text
    await chat.say("anh ay dong y qua dien thoai")
    await chat.expect("deceased.full_name")
    await chat.say("Đỗ Văn Khang")
    await chat.say("chỉ có năm 1940")
    await chat.say("nam")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.say("10/11/2026")
    await chat.say("Nghĩa trang thôn 3")
    await chat.expect("organizer.kind")
    await chat.say("gia đình")
    await chat.expect("applicant.full_name")
    assert "\nHọ và tên người lo mai táng (hoặc người đại diện cơ quan)?" in chat.ask.text
    await chat.say("Đỗ Văn Bình")
    await chat.say("068075001234")
    await chat.expect("applicant.relation")
    assert "Người lo mai táng là gì của người mất?" in chat.ask.text
    await chat.say("con trai")
    await chat.say("như trên")  # the deceased's residence
    await chat.expect("contact.phone")
    await chat.say("0912345678")
    await chat.expect("payment.method")
    await chat.press("bank")
    await chat.press("yes")
    await chat.expect("payment.bank")
    assert "Tài khoản của người lo mai táng" in chat.ask.text
    await chat.say("agribank")
    await chat.say("1234 5678 9012 3")
    await chat.say("PHAM THI HANG")  # the helper's own account: refused
    assert chat.error is not None and "không trùng với họ tên người lo mai táng" in chat.error.text
    await chat.say("như trên")
    await chat.expect("docs.death_extract")
    await chat.say("bỏ qua")
    await chat.expect("_review")  # the son's details named as his, apart from the helper's (“người khai” was both)
    assert "• Họ tên người lo mai táng: Đỗ Văn Bình" in chat.text() and "• Họ tên người khai giúp: Phạm Thị Hằng" \
        in chat.text()
    await chat.press("confirm")
    await chat.press("yes")
    async with runtime.sm() as db:
        [d] = await DossierRepo(db).list(procedure_id=PROC)
        data = dossier_to_dict(d)
    a = data["answers"]
    assert data["applicant_name"] == "Đỗ Văn Bình" and a["payment.account_holder"] == "ĐỖ VĂN BÌNH"
    assert (a["filer.role"], a["filer.full_name"], a["consent.subject"]["how"]) == ("helper", "Phạm Thị Hằng", "phone")


@pytest.mark.parametrize("died, stopped", [("30/06/2025", True), ("01/07/2025", False)])
async def test_social_pension_starts_on_1_july_2025(chat: Chat, died: str, stopped: bool):
    """The social pension and its funeral support exist for deaths from 01/07/2025; before, the elderly
    were on NĐ 20/2021 Điều 11 (the death group's social-protection route)."""
    await until_death_date(chat)
    await chat.say(died)
    if stopped:
        assert chat.field == "_eligibility"
        assert "01/07/2025" in chat.text() and "Nghị định 20/2021/NĐ-CP, Điều 11" in chat.text()
    else:
        await chat.expect("deceased.funeral_place")


async def test_not_a_social_pension_recipient_is_sent_to_the_right_procedure(chat: Chat):
    await chat.press(PROC)
    await chat.expect("deceased.had_social_pension")
    await chat.say("không")
    assert chat.field == "_eligibility"
    text = chat.text()
    assert "Liên thông: Đăng ký khai tử" in text and "trợ giúp đột xuất" in text


async def test_a_paper_sent_early_is_kept_for_its_question(chat: Chat, runtime: Runtime):
    """A photo of the death extract sent at the deceased's name was “Tệp vừa gửi chưa được lưu”, to be sent again at
    the end: the form's one attachment question still to come takes it, and says so."""
    await chat.press(PROC)
    await chat.say("có")
    await chat.press("self")
    await chat.expect("deceased.full_name")
    await chat.send_file(jpeg(5), "trich-luc.jpg")
    assert not chat.error and "Đã nhận 1 tệp cho mục “Trích lục khai tử hoặc giấy báo tử”" in chat.text()
    await chat.expect("deceased.full_name")  # the question asked stays
    [kept] = (await chat.answers())["docs.death_extract"]
    assert kept["mime"] == "image/jpeg" and runtime.attachments.exists(kept["sha256"])


async def test_a_paper_sent_where_several_could_take_it_is_not_kept(chat: Chat):
    """Where two attachment questions are still to come, which one is meant is not guessed."""
    await chat.press("ho-tro-chi-phi-mai-tang")
    first = chat.field
    await chat.send_file(jpeg(6), "giay.jpg")
    assert chat.error and "Tệp vừa gửi chưa được lưu" in chat.error.text
    await chat.expect(first)
    assert not any(isinstance(v, list) for v in (await chat.answers()).values())
