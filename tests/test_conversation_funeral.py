"""Conversation tests for `ho-tro-chi-phi-mai-tang`, driven as a citizen would, on real databases."""
from __future__ import annotations

from datetime import date, datetime

from bot import formcopy
from bot.notifier import MemorySender, Notifier
from bot.service import Runtime
from storage.repo import DossierRepo, dossier_to_dict
from tests.conftest import VN, Chat, jpeg, pdf, shared_catalog

PROC = "ho-tro-chi-phi-mai-tang"


async def consent(chat: Chat) -> Chat:
    """The consent asked before the cause of death (health data; Luật 91/2025/QH15, from 01/01/2026)."""
    await chat.expect("consent.sensitive")
    assert "nguyên nhân" in chat.ask.text and "chỉ cán bộ" in chat.ask.text
    await chat.press("yes")
    return chat


async def to_deceased_name(chat: Chat) -> Chat:
    """Filed for oneself, a natural disaster, up to the deceased's name."""
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("1")
    return await chat.expect("deceased.full_name")


async def fill_until_organizer(chat: Chat, cause: str = "thien tai", burial_place: str = "Nghĩa trang thôn 3",
                               commune: str = "duc trong", helper: bool = False) -> Chat:
    await chat.press(PROC)
    await chat.expect("filer.role")
    assert "Hỗ trợ chi phí mai táng" in chat.text()  # the info card comes first
    await chat.say("2" if helper else "1")
    if helper:  # a volunteer files for the organiser, who agreed in person
        await chat.say("Phạm Văn Tình")
        await chat.say("0987654321")
        await chat.expect("consent.subject")
        await chat.press("in_person")
    await consent(chat)
    await chat.expect("deceased.cause")
    await chat.say(cause)
    await chat.expect("deceased.full_name")
    await chat.say("nguyễn văn an")
    await chat.expect("deceased.birth_date")
    await chat.say("5/3/1950")
    await chat.expect("deceased.sex")
    await chat.say("nam")
    await chat.expect("deceased.ethnicity")
    await chat.say("Kinh")
    await chat.expect("deceased.residence")
    await chat.say("Lâm Đồng")
    await chat.expect("deceased.residence")
    await chat.say(commune)
    await chat.expect("deceased.residence")
    await chat.say("Thôn 3")
    await chat.expect("deceased.status")
    await chat.say("đã mất")
    await chat.expect("deceased.death_date")
    await chat.say("10/11/2026")
    await chat.expect("deceased.burial_date")
    assert "Ví dụ: 22/11/2026" in chat.ask.text  # a recent day, as the death date's (not a birth date's 1960)
    await chat.say("12/11/2026")
    await chat.expect("deceased.burial_place")
    await chat.say(burial_place)
    if burial_place.isascii():
        return chat
    await chat.expect("organizer.kind")
    return chat


async def fill_household(chat: Chat) -> Chat:
    await chat.say("1")
    await chat.expect("applicant.full_name")
    await chat.say("Nguyễn Văn Bình")
    await chat.expect("applicant.birth_date")
    await chat.say("01/02/1975")
    await chat.expect("applicant.id_number")
    await chat.say("068 075 001 234")
    await chat.expect("applicant.id_issue_date")
    await chat.say("bỏ qua")
    await chat.expect("applicant.residence")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.expect("applicant.same_place")
    await chat.say("có")
    await chat.expect("applicant.relation")
    await chat.say("con trai")  # (written “Con trai”: dialogs/data/relations.yaml)
    return chat


async def finish(chat: Chat) -> Chat:
    await chat.expect("contact.phone")
    await chat.say("+84 912 345 678")
    await chat.expect("docs.death_notice")
    await chat.send_file(jpeg(1), "giay-bao-tu.jpg")
    await chat.expect("docs.death_notice")
    assert "Đã nhận 1 tệp" in chat.ask.text
    await chat.press("done")
    await chat.expect("_review")
    return chat


async def test_household_happy_path(chat: Chat, runtime: Runtime):
    await fill_until_organizer(chat)
    await fill_household(chat)
    await finish(chat)
    summary = chat.text()
    assert "NGUYỄN VĂN AN" in summary and "05/03/1950" in summary and "Xã Đức Trọng" in summary
    await chat.press("confirm")
    await chat.expect("_sworn")
    assert "Tôi xin cam đoan" in chat.ask.text
    await chat.press("yes")
    code = chat.dossier
    assert code and code.startswith("MT-")
    # Monday 09:00 + 3 working days; Tuesday 24/11 is Vietnam Culture Day in `holidays`, so Friday
    assert "27/11/2026" in chat.text()
    await chat.expect("procedure")  # back at the menu

    async with runtime.sm() as db:
        [d] = await DossierRepo(db).list()
        data = dossier_to_dict(d)
    assert data["code"] == code and data["procedure"] == PROC and data["status"] == "submitted"
    assert data["due_date"] == "2026-11-27"
    assert data["applicant_name"] == "NGUYỄN VĂN BÌNH"
    a = data["answers"]
    assert a["deceased.full_name"] == "NGUYỄN VĂN AN"
    assert a["deceased.birth_date"] == "1950-03-05"
    assert a["deceased.cause"] == "thien_tai"
    assert a["deceased.residence"]["province"] == "Tỉnh Lâm Đồng" or "Lâm Đồng" in a["deceased.residence"]["province"]
    assert a["deceased.residence"]["commune"].endswith("Đức Trọng")
    assert a["applicant.id_number"] == "068075001234"
    assert a["applicant.id_issue_date"] is None
    assert a["contact.phone"] == "0912345678"
    assert a["organizer.kind"] == "household"
    assert not any(k.startswith("org.") for k in a)
    assert len(data["attachments"]) == 1
    assert data["attachments"][0]["mime"] == "image/jpeg"
    assert runtime.attachments.exists(data["attachments"][0]["sha256"])
    assert [h["to"] for h in data["history"]] == ["submitted"]
    # the draft is gone and the menu no longer shows it as in progress
    s = await runtime.session(chat.user)
    assert PROC not in s.drafts


async def test_a_place_typed_without_diacritics_is_spelled_with_one_question(chat: Chat, runtime: Runtime):
    """“nghia trang xa hai hau, nam dinh” would go on Mẫu 04 without diacritics: the lists of places (today's
    and the pre-2025 ones: Hải Hậu was a district of Nam Định) spell it, and one short question confirms it."""
    await fill_until_organizer(chat, burial_place="nghia trang xa hai hau, nam dinh")
    await chat.expect("deceased.burial_place")
    assert chat.ask.text == "Ý bạn là: Nghĩa trang xã Hải Hậu, Nam Định?"
    assert [c.label for c in chat.ask.choices] == ["Đúng", "Giữ như đã gõ"]
    await chat.say("trợ giúp")  # help says where the spelling comes from
    assert "danh sách tỉnh, xã" in chat.text()
    await chat.say("đúng")
    await chat.expect("organizer.kind")
    await fill_household(chat)
    await finish(chat)
    assert "Nghĩa trang xã Hải Hậu, Nam Định" in chat.text()  # the summary
    await chat.press("confirm")
    await chat.press("yes")
    async with runtime.sm() as db:
        [d] = await DossierRepo(db).list()
    assert dossier_to_dict(d)["answers"]["deceased.burial_place"] == "Nghĩa trang xã Hải Hậu, Nam Định"


async def test_a_place_the_dossier_names_is_offered_first(chat: Chat):
    """“nghia trang xa hiep thanh” spells Hiệp Thành or Hiệp Thạnh: the deceased lived in Xã Hiệp Thạnh, so that
    one comes first."""
    await fill_until_organizer(chat, commune="Hiệp Thạnh", burial_place="nghia trang xa hiep thanh")
    await chat.expect("deceased.burial_place")
    assert [c.label for c in chat.ask.choices][:2] == ["Nghĩa trang xã Hiệp Thạnh", "Nghĩa trang xã Hiệp Thành"]


async def test_a_place_is_kept_as_typed_when_asked_or_when_nothing_matches(chat: Chat):
    await fill_until_organizer(chat, burial_place="tan thanh, long an")
    await chat.expect("deceased.burial_place")  # three communes spell it: each offered, never one guessed
    assert [c.label for c in chat.ask.choices] == ["Tân Thạnh, Long An", "Tân Thanh, Long An", "Tân Thành, Long An",
                                                    "Giữ như đã gõ"]
    await chat.say("giữ như đã gõ")
    await chat.expect("organizer.kind")
    assert (await chat.answers())["deceased.burial_place"] == "tan thanh, long an"
    await chat.say("quay lại")
    await chat.expect("deceased.burial_place")
    await chat.say("nghia trang giao xu")  # not a listed place: kept as typed, no question
    await chat.expect("organizer.kind")
    assert (await chat.answers())["deceased.burial_place"] == "nghia trang giao xu"
    await chat.say("quay lại")
    await chat.say("xa hai hau, nam dinh")
    await chat.say("không")  # not that place: the question again, to type it another way
    await chat.expect("deceased.burial_place")
    await chat.say("Nghĩa trang Hải Hậu")  # typed with diacritics: taken as it is
    await chat.expect("organizer.kind")
    assert (await chat.answers())["deceased.burial_place"] == "Nghĩa trang Hải Hậu"


async def test_organisation_branch_and_pdf(chat: Chat, runtime: Runtime):
    await fill_until_organizer(chat, cause="hỏa hoạn")
    await chat.say("2")
    await chat.expect("org.name")
    await chat.say("Hội Chữ thập đỏ xã Đức Trọng")
    await chat.expect("org.address")
    await chat.say("xa duc trong, lam dong")  # province and commune in one line, no diacritics
    await chat.expect("org.address")
    await chat.say("Số 1 đường 3/2")
    await chat.expect("org.rep_name")
    await chat.say("Trần Thị Cúc")
    await chat.expect("org.rep_title")
    await chat.say("Chủ tịch")
    await chat.expect("contact.phone")
    await chat.say("0987654321")
    await chat.send_file(pdf(), "bao-tu.pdf")
    await chat.send_file(jpeg(2))
    await chat.send_file(jpeg(3))  # third file reaches the maximum and closes the question
    await chat.expect("_review")
    await chat.press("confirm")
    await chat.press("yes")
    async with runtime.sm() as db:
        [d] = await DossierRepo(db).list()
    assert d.applicant_name == "Hội Chữ thập đỏ xã Đức Trọng"
    assert d.answers["org.address"]["detail"] == "Số 1 đường 3/2"
    assert [a.mime for a in d.attachments] == ["application/pdf", "image/jpeg", "image/jpeg"]
    assert not any(k.startswith("applicant.") for k in d.answers)


async def test_ineligible_cause_explains_and_allows_fix(chat: Chat):
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.expect("deceased.cause")
    await chat.say("7")  # illness or old age
    await chat.expect("_eligibility")
    text = chat.text()
    assert "không thuộc diện" in text
    assert "Lý do:" in text and "thiên tai" in text
    assert "Điều 14" in text
    assert "Điều 11" in text and "bảo hiểm xã hội" in text  # what to do instead
    await chat.press("fix")
    await chat.expect("deceased.cause")
    assert "Câu trả lời trước" in chat.ask.text
    await chat.say("tai nan xe may")  # everyday words (``also:``), typed without diacritics
    await chat.expect("deceased.full_name")
    assert (await chat.answers())["deceased.cause"] == "tai_nan_giao_thong"


async def test_consent_before_the_cause_of_death_from_2026(chat: Chat, clock):
    """The Personal Data Protection Law (91/2025/QH15) is in force from 01/01/2026: from that day the cause of
    death (health data) is asked only after a short consent saying what, why and who sees it; the day before,
    the cause comes straight after who files."""
    clock.when = datetime(2025, 12, 31, 9, 0, tzinfo=VN)
    await chat.press(PROC)
    await chat.say("1")
    await chat.expect("deceased.cause")
    await chat.say("hủy")
    await chat.say("có")
    await chat.expect("procedure")
    clock.when = datetime(2026, 1, 1, 9, 0, tzinfo=VN)
    await chat.press(PROC)
    await chat.say("1")
    await chat.expect("consent.sensitive")
    text = chat.ask.text
    assert "nguyên nhân" in text and "sức khỏe" in text  # what
    assert "xét hỗ trợ chi phí mai táng" in text and "chỉ cán bộ" in text  # why, and who sees it
    assert "“hủy”" in text and "trực tiếp" in text  # what to do if you do not agree
    await chat.say("không")  # declining is not a dead end: what it means, and the same question
    assert chat.error and "hủy" in chat.error.text
    await chat.expect("consent.sensitive")
    await chat.press("yes")
    await chat.expect("deceased.cause")
    assert (await chat.answers())["consent.sensitive"] is True


async def test_back_skip_help(chat: Chat):
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("thiên tai")
    await chat.say("Lê Thị Mai")
    await chat.expect("deceased.birth_date")
    await chat.say("quay lại")
    await chat.expect("deceased.full_name")
    assert "LÊ THỊ MAI" in chat.ask.text  # the earlier answer is shown
    await chat.say("Lê Thị Mây")
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "LÊ THỊ MÂY"
    await chat.say("bo qua")  # required: refused, same question
    assert chat.error and "bắt buộc" in chat.error.text
    await chat.expect("deceased.birth_date")
    await chat.say("trợ giúp")
    await chat.expect("deceased.birth_date")
    assert "ngày/tháng/năm" in chat.text()
    # back twice, then forward again: answers stay
    await chat.say("quay lai")
    await chat.say("quay lai")
    await chat.expect("deceased.cause")
    await chat.say("quay lại")
    await chat.expect("consent.sensitive")
    await chat.say("quay lại")
    await chat.expect("filer.role")
    await chat.say("quay lại")  # back from the first question: the list of procedures, the draft kept
    assert not chat.error and "đầu tiên" in chat.text() and "đã được lưu" in chat.text()
    await chat.expect("procedure")
    await chat.say("tiếp tục")
    await chat.expect("deceased.birth_date")  # where it stopped
    answers = await chat.answers()
    assert answers["deceased.full_name"] == "LÊ THỊ MÂY" and answers["deceased.cause"] == "thien_tai"


async def test_back_when_answer_changes_relevance(chat: Chat):
    await chat.press(PROC)
    await chat.say("2")  # a helper files for someone
    await chat.expect("filer.full_name")
    await chat.say("Phạm Văn Tình")
    await chat.expect("filer.phone")
    await chat.say("quay lại")
    await chat.say("quay lại")
    await chat.expect("filer.role")
    await chat.say("1")  # actually the organiser: helper questions no longer apply
    await chat.expect("consent.sensitive")
    answers = await chat.answers()
    assert "filer.full_name" not in answers
    await chat.say("quay lại")
    await chat.expect("filer.role")


async def test_cancel_asks_first_and_huy_can_be_a_name(chat: Chat, runtime: Runtime):
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("thiên tai")
    await chat.expect("deceased.full_name")
    await chat.say("Huy")  # a name, or "hủy" typed without diacritics?
    await chat.expect("_cancel")
    labels = [c.label for c in chat.ask.choices]
    assert any("Huy" in lbl for lbl in labels)
    await chat.press("answer")
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "HUY"
    await chat.say("hủy")
    await chat.expect("_cancel")
    await chat.say("không")
    await chat.expect("deceased.birth_date")
    await chat.say("hủy")
    await chat.say("có")
    await chat.expect("procedure")
    assert "Đã hủy" in chat.text()
    s = await runtime.session(chat.user)
    assert s.drafts == {}


async def test_edit_from_review_asks_new_and_drops_stale(chat: Chat, runtime: Runtime):
    await fill_until_organizer(chat)
    await fill_household(chat)
    await finish(chat)
    await chat.press("edit")
    await chat.expect("_edit_section")
    section = next(c.value for c in chat.ask.choices if c.value == "organizer")
    await chat.press(section)
    await chat.expect("organizer.kind")  # one field in the section: asked at once
    await chat.say("2")  # now an organisation
    await chat.expect("org.name")
    await chat.say("UBND xã Đức Trọng")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("bỏ qua")  # no house number
    await chat.say("Ngô Văn Sáu")
    await chat.say("Phó Chủ tịch")
    await chat.expect("_review")
    answers = await chat.answers()
    assert not any(k.startswith("applicant.") for k in answers)
    assert answers["org.address"]["detail"] is None
    # edit one field directly and come straight back to the review
    await chat.press("edit")
    await chat.press("contact")
    await chat.expect("contact.phone")
    await chat.say("0388 111 222")
    await chat.expect("_review")
    assert "0388111222" in chat.text()


async def test_resume_after_restart(db_url, tmp_path, clock):
    rt = Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog())
    await rt.open()
    chat = await Chat(rt, "console:resume").start()
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("1")
    await chat.say("Đỗ Văn Hải")
    await chat.expect("deceased.birth_date")
    await rt.close()

    rt2 = Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog())
    await rt2.open()
    try:
        chat2 = await Chat(rt2, "console:resume").start()
        await chat2.expect("deceased.birth_date")
        assert "tiếp tục" in chat2.text()
        # leave for the menu, come back days later: the draft is still there
        await chat2.say("menu")
        await chat2.expect("procedure")
        assert any("đang khai dở" in c.label for c in chat2.ask.choices)
        await chat2.press(PROC)
        await chat2.expect("deceased.birth_date")
        assert (await chat2.answers())["deceased.full_name"] == "ĐỖ VĂN HẢI"
    finally:
        await rt2.close()


async def test_confirming_twice_creates_one_dossier(chat: Chat, runtime: Runtime):
    await fill_until_organizer(chat)
    await fill_household(chat)
    await finish(chat)
    await chat.press("confirm")
    await chat.press("yes")
    first = chat.dossier
    await chat.press("yes")  # a stale button pressed again
    await chat.say("có")
    assert "đã được nộp" in chat.text()
    async with runtime.sm() as db:
        rows = await DossierRepo(db).list()
    assert [d.code for d in rows] == [first]


async def test_wrong_input_for_every_kind(chat: Chat):
    await chat.press(PROC)
    await chat.say("9")  # choice out of range
    assert chat.error
    await chat.expect("filer.role")
    await chat.say("1")
    await chat.say("xyz")  # not a consent: refused, asked again
    assert chat.error
    await consent(chat)
    await chat.say("xyz")
    assert chat.error
    await chat.expect("deceased.cause")
    await chat.say("1")
    await chat.say("12345")  # name with digits
    assert chat.error and "tên" in chat.error.text.lower()
    await chat.say("Trịnh Văn Lộc")
    await chat.say("31/02/1950")  # impossible date
    assert chat.error
    await chat.say("01/01/2099")  # future
    assert chat.error
    await chat.expect("deceased.birth_date")
    await chat.say("01/01/1940")
    await chat.say("khong biet")
    assert chat.error
    await chat.say("nữ")
    await chat.say("Tày")
    await chat.say("Atlantis")  # no such province
    assert chat.error and "34" in chat.error.text
    await chat.expect("deceased.residence")
    await chat.say("Lâm Đồng")
    await chat.say("zzzz")
    assert chat.error
    await chat.say("Đức Trọng")
    await chat.say("Thôn 1")
    await chat.say("đã mất")
    await chat.say("01/01/1930")  # death before birth
    assert chat.error and "trước ngày sinh" in chat.error.text
    await chat.say("01/11/2026")
    await chat.say("30/10/2026")  # burial before death
    assert chat.error
    await chat.say("02/11/2026")
    await chat.say("Nghĩa trang")
    await chat.say("1")
    await chat.say("Trịnh Văn Phúc")
    await chat.say("01/02/1975")
    await chat.say("12345")  # too short
    assert chat.error
    await chat.say("999075001234")  # unknown province code
    assert chat.error
    await chat.say("068175001234")  # female/century digit, but birth year 1975 male unknown: year check
    await chat.expect("applicant.id_issue_date")
    await chat.say("quay lại")
    await chat.say("068080001234")  # birth year does not match 1975
    assert chat.error and "năm sinh" in chat.error.text
    await chat.say("068075001234")
    await chat.say("bỏ qua")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 1")
    await chat.say("có lẽ")  # not yes/no
    assert chat.error
    await chat.say("ko")
    await chat.expect("applicant.current_address")
    await chat.say("Thái Nguyên")
    await chat.say("bỏ qua")  # the commune is required inside an address
    await chat.expect("applicant.current_address")
    assert chat.error
    await chat.say("phan dinh phung")
    await chat.say("Tổ 5")
    await chat.say("cháu")
    await chat.say("012345")  # landline-like / too short
    assert chat.error
    await chat.say("0912345678")
    await chat.expect("docs.death_notice")
    await chat.say("đây là giấy báo tử")  # text where a file is needed
    assert chat.error
    await chat.send_file(b"plain text, not a photo", "note.txt")
    assert chat.error
    await chat.send_file(b"", "empty.jpg")
    assert chat.error
    await chat.expect("docs.death_notice")
    await chat.say("chua co giay bao tu")  # not had yet: where it is issued, and how to come back with it
    await chat.expect("docs.death_notice")
    assert "bệnh viện" in chat.text() and "gõ “tiếp tục” rồi gửi ảnh" in chat.text()


async def test_file_where_text_expected_is_refused_and_kept_place(chat: Chat):
    await chat.press(PROC)
    await chat.send_file(jpeg())
    assert chat.error
    await chat.expect("filer.role")


async def test_dates_are_iso_in_answers(chat: Chat):
    await fill_until_organizer(chat)
    answers = await chat.answers()
    assert date.fromisoformat(answers["deceased.death_date"]) == date(2026, 11, 10)


async def to_deceased_residence(chat: Chat) -> Chat:
    """The funeral support up to the deceased's residence (an address)."""
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("1")
    await chat.say("Vũ Thị Lan")
    await chat.say("01/01/1960")
    await chat.say("nữ")
    await chat.say("Kinh")
    await chat.expect("deceased.residence")
    return chat


async def test_back_inside_an_address_steps_back_one_part(chat: Chat):
    await to_deceased_residence(chat)
    await chat.say("Đắk Nông")  # a pre-2025 province: mapped, with a note
    assert "Lâm Đồng" in chat.text()
    await chat.say("Đức Trọng")
    assert "Số nhà" in chat.ask.text
    await chat.say("quay lại")
    await chat.expect("deceased.residence")
    assert "Xã, phường hoặc đặc khu nào" in chat.ask.text
    await chat.say("quay lại")
    await chat.expect("deceased.residence")
    assert "tỉnh/thành phố" in chat.ask.text
    await chat.say("quay lại")
    await chat.expect("deceased.ethnicity")


async def test_the_house_typed_with_the_province_is_kept_while_the_commune_is_asked(chat: Chat):
    """“Hà Tĩnh, thôn 1”: no commune in it, so the commune is asked, saying what is kept; the house's part is not
    asked again."""
    await to_deceased_residence(chat)
    await chat.say("Hà Tĩnh, thôn 1")
    await chat.expect("deceased.residence")
    assert "Xã, phường hoặc đặc khu nào của Tỉnh Hà Tĩnh?" in chat.ask.text and "(Đã ghi: Thôn 1.)" in chat.ask.text
    await chat.say("Thạch Hà")
    await chat.expect("deceased.status")
    address = (await chat.answers())["deceased.residence"]
    assert (address["commune"], address["detail"]) == ("Xã Thạch Hà", "Thôn 1")


async def test_no_house_number_is_no_house_number(chat: Chat):
    """“không có” at “Số nhà, đường/thôn…?” is as “bỏ qua”: never filed as the house's address."""
    await to_deceased_residence(chat)
    await chat.say("Hà Tĩnh")
    await chat.say("Thạch Hà")
    assert "Số nhà" in chat.ask.text
    await chat.say("không có")
    await chat.expect("deceased.status")
    address = (await chat.answers())["deceased.residence"]
    assert (address["commune"], address.get("detail")) == ("Xã Thạch Hà", None)


async def test_a_place_only_guessed_from_a_short_word_is_asked_about(chat: Chat):
    """“long” begins one name only (Long An): the guess is offered, not taken; “đúng” takes it, and typing again
    replaces it. “nam” (“male”, “south”, part of Hà Nam, Nam Định and Quảng Nam) is no guess at all. A commune
    guessed from a part of its name (“lam”, “trong”) likewise."""
    await to_deceased_residence(chat)
    await chat.say("không biết")
    assert not chat.error and "tên tỉnh cũ" in chat.text()
    await chat.say("nam")
    await chat.expect("deceased.residence")
    assert chat.error and "Không tìm thấy tỉnh/thành “nam”" in chat.error.text and not chat.ask.choices
    await chat.say("long")
    assert "Ý bạn là tỉnh/thành dưới đây?" in chat.text()
    await chat.say("nam dinh")  # typed again: that one, for sure
    assert "Xã, phường hoặc đặc khu nào của Tỉnh Ninh Bình" in chat.ask.text
    await chat.say("quay lại")
    await chat.say("long")
    assert [c.label for c in chat.ask.choices] == ["Long An (nay thuộc Tỉnh Tây Ninh)"]
    await chat.say("đúng")
    assert "Xã, phường hoặc đặc khu nào của Tỉnh Tây Ninh" in chat.ask.text
    await chat.say("quay lại")
    await chat.say("lam dong")  # a name typed whole is taken at once
    assert "Xã, phường hoặc đặc khu nào của Tỉnh Lâm Đồng" in chat.ask.text
    # the same for the commune, which decides where the dossier goes
    await chat.say("lam")
    assert "Ý bạn là xã/phường dưới đây?" in chat.text()
    assert [c.label for c in chat.ask.choices] == ["Phường Lâm Viên - Đà Lạt"]
    await chat.say("trong")
    assert [c.label for c in chat.ask.choices] == ["Xã Đức Trọng"]
    await chat.say("có")
    assert "Số nhà" in chat.ask.text
    await chat.say("quay lại")
    # not knowing the commune's new name: told to type the old one, which is looked up
    await chat.say("không nhớ")
    assert not chat.error and "tên xã, phường cũ" in chat.text() and not chat.ask.choices
    await chat.say("lien nghia")
    assert "nay thuộc Xã Đức Trọng" in chat.text() and "Số nhà" in chat.ask.text
    await chat.say("Thôn 3")
    assert (await chat.answers())["deceased.residence"]["commune"] == "Xã Đức Trọng"


async def test_citizen_gets_a_copy_of_the_filled_form(chat: Chat, runtime: Runtime):
    await fill_until_organizer(chat)
    await fill_household(chat)
    await finish(chat)
    await chat.press("confirm")
    await chat.press("yes")
    # the filing step writes rows only: the copy follows from the outbox, rendered by the notifier
    assert chat.dossier and not [m for m in chat.messages if m.file is not None]
    sender = MemorySender("console")
    notifier = Notifier(runtime.sm, [sender])
    formcopy.attach(notifier, runtime)
    assert (await notifier.drain()).delivered == 1  # the copy (the receipt was in the filing turn's own reply)
    [(to, payload)] = [(k, p) for k, p in sender.sent if "file" in p]
    assert to == chat.user and payload["text"] == f"Bản sao tờ khai (PDF) của bạn: {chat.dossier}.pdf"
    assert payload["file"]["name"] == f"{chat.dossier}.pdf" and payload["file"]["mime"] == "application/pdf"
    assert runtime.attachments.get(payload["file"]["sha256"])[:5] == b"%PDF-"
    assert (await notifier.drain()).delivered == 0  # once


async def test_numbered_done_after_a_photo(chat: Chat):
    """Channels without buttons show “1. Xong”: typing 1 finishes the attachment question."""
    await fill_until_organizer(chat)
    await fill_household(chat)
    await chat.expect("contact.phone")
    await chat.say("0912345678")
    await chat.expect("docs.death_notice")
    await chat.say("1")  # nothing sent yet: still asked for the photo
    await chat.expect("docs.death_notice")
    await chat.send_file(jpeg(1), "giay-bao-tu.jpg")
    await chat.say("1")
    await chat.expect("_review")
    assert len((await chat.answers())["docs.death_notice"]) == 1


async def test_answers_typed_ahead_of_the_name_spelling_question_are_not_lost(chat: Chat):
    """A citizen who keeps typing the next answers while the bot asks how to spell the name: each is kept for
    the question after the one before it, and a one-word answer does not overwrite the name."""
    await to_deceased_name(chat)
    await chat.say("nguyen van an")
    await chat.say("5/3/1950")
    assert chat.error and "5/3/1950" in chat.text()
    await chat.say("nam")  # the sex, typed even earlier: not taken as a re-typed name "Nam", and kept too
    assert chat.error and "“nam” sẽ được dùng cho câu hỏi sau đó" in chat.text()
    await chat.expect("deceased.full_name")
    await chat.say("1")
    asked = chat.field
    assert "Đã ghi các câu trả lời bạn gõ trước: “5/3/1950”, “nam”." in chat.text()
    answers = await chat.answers()
    assert answers["deceased.full_name"] == "NGUYỄN VĂN AN"
    assert answers["deceased.birth_date"] == "1950-03-05" and answers["deceased.sex"] == "nam"
    assert asked not in ("deceased.full_name", "deceased.birth_date", "deceased.sex")


async def test_answers_typed_ahead_stop_at_the_first_one_refused(chat: Chat):
    """Typed ahead while a spelling waits: a refused one is named with those after it (none of which is put
    anywhere else), and why it was refused is said at its own question."""
    await to_deceased_name(chat)
    await chat.say("nguyen van an")
    await chat.say("32/13/1950")  # no such date
    await chat.say("nam")
    await chat.say("1")
    await chat.expect("deceased.birth_date")
    assert chat.error and "deceased.sex" not in await chat.answers()
    # the refused one named first, then why, just before its question
    assert "Chưa ghi: “32/13/1950”, “nam”. Vui lòng trả lời lại khi được hỏi." in chat.text()
    assert chat.text().index("Chưa ghi") < chat.text().index(chat.error.text)
    await chat.say("5/3/1950")
    await chat.expect("deceased.sex")


async def test_planned_burial_date_without_a_year_is_the_coming_one(chat: Chat):
    """On Monday 23/11/2026 a funeral planned for Wednesday is typed “25/11”: this year's, not last year's
    (which would be before the death and refused)."""
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("thien tai")
    await chat.say("Nguyễn Văn An")
    await chat.say("5/3/1950")
    await chat.say("nam")
    await chat.say("Kinh")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.say("1")  # đã mất
    await chat.expect("deceased.death_date")
    await chat.say("2 ngày trước")
    await chat.expect("deceased.burial_date")
    await chat.say("25/11")
    await chat.expect("deceased.burial_place")
    a = await chat.answers()
    assert a["deceased.death_date"] == "2026-11-21" and a["deceased.burial_date"] == "2026-11-25"


async def test_a_name_typed_without_diacritics_never_reaches_the_form_silently(chat: Chat, runtime: Runtime):
    """“do thi thu” could be Thu or Thư: both are offered. “vu thi nong” has a word the tables do not know: the
    citizen is asked to type it with diacritics, and may keep it as typed."""
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("thien tai")
    await chat.expect("deceased.full_name")
    await chat.say("do thi thu")
    await chat.expect("deceased.full_name")
    assert [c.label for c in chat.ask.choices][:2] == ["ĐỖ THỊ THU", "ĐỖ THỊ THƯ"] or \
        [c.label.lower() for c in chat.ask.choices][:2] == ["đỗ thị thu", "đỗ thị thư"], chat.ask.choices
    await chat.say("2")
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"].lower() == "đỗ thị thư"
    await chat.say("quay lại")
    await chat.expect("deceased.full_name")
    await chat.say("vu thi nong")
    await chat.expect("deceased.full_name")
    assert "gõ lại họ tên có dấu" in chat.ask.text and "Giữ như tôi gõ" in chat.ask.choices[-1].label
    await chat.say("Vũ Thị Nông")
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"].lower() == "vũ thị nông"


async def test_a_spelling_answered_with_a_correction_takes_the_corrected_answer(chat: Chat):
    """“không, tên tôi là …” at a name's spelling, and “khong, xa hai hau, nam dinh” at a place's: not that one,
    this one. The corrected answer is read (its own spelling asked), and the answers typed ahead meanwhile are not
    lost."""
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("thien tai")
    await chat.expect("deceased.full_name")
    await chat.say("nong van thang")
    await chat.expect("deceased.full_name")
    assert chat.ask.choices[0].label == "NÔNG VĂN THẮNG"
    await chat.say("5/3/1950")  # the next answer, typed early: kept
    await chat.say("khong, ten bo toi la Nong Van Hai")
    await chat.expect("deceased.full_name")
    assert chat.ask.choices[0].label == "NÔNG VĂN HẢI", chat.ask.choices
    await chat.say("1")
    await chat.expect("deceased.sex")
    a = await chat.answers()
    assert a["deceased.full_name"] == "NÔNG VĂN HẢI" and a["deceased.birth_date"] == "1950-03-05"
    assert "Đã ghi các câu trả lời bạn gõ trước: “5/3/1950”" in chat.text()


async def test_a_place_spelling_answered_with_a_correction_takes_the_place(chat: Chat):
    await fill_until_organizer(chat, burial_place="nghia trang xa hai duong")
    await chat.expect("deceased.burial_place")
    await chat.say("khong, nghia trang xa hai hau, nam dinh")
    await chat.expect("deceased.burial_place")
    assert chat.ask.text == "Ý bạn là: Nghĩa trang xã Hải Hậu, Nam Định?", chat.ask.text
    await chat.say("đúng")
    await chat.expect("organizer.kind")
    assert (await chat.answers())["deceased.burial_place"] == "Nghĩa trang xã Hải Hậu, Nam Định"


async def test_a_province_typed_at_a_name_question_asks_for_the_name(chat: Chat):
    """“ha tinh” at the deceased's name is the address typed ahead, not a name: the name is asked for, and a
    person who is really called so keeps it."""
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("thien tai")
    await chat.expect("deceased.full_name")
    await chat.say("ha tinh")
    await chat.expect("deceased.full_name")
    assert "giống tên một tỉnh, xã hoặc phường" in chat.ask.text
    assert [c.label for c in chat.ask.choices] == ["Giữ như tôi gõ: HA TINH"]
    await chat.say("trợ giúp")
    assert "không phải nơi ở" in chat.text()
    await chat.say("xa thach ha")  # the commune, typed ahead too: not taken for a name either
    await chat.expect("deceased.full_name")
    assert "“XA THACH HA” giống tên một tỉnh" in chat.ask.text
    await chat.say("Nguyễn Văn An")  # the name, typed now: read as the answer
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "NGUYỄN VĂN AN"
    await chat.say("quay lại")
    await chat.say("Hà Nam")  # someone called so: kept by its button
    await chat.expect("deceased.full_name")
    await chat.say("1")
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "HÀ NAM"


async def test_a_word_of_respect_before_a_name_is_not_filed(chat: Chat):
    """“cụ Nguyễn Văn An”: the deceased is named with respect; the form takes the name alone. “Ông Văn Dũng”
    (Ông is a surname too) stays as typed."""
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("thien tai")
    await chat.expect("deceased.full_name")
    await chat.say("cụ Nguyễn Văn An")
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "NGUYỄN VĂN AN"
    await chat.say("quay lại")
    await chat.say("cu ong nguyen van an")  # without diacritics: the spelling proposed is the name alone
    await chat.expect("deceased.full_name")
    assert chat.ask.choices[0].label == "NGUYỄN VĂN AN"
    await chat.say("1")
    await chat.say("quay lại")
    await chat.say("Ông Văn Dũng")
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "ÔNG VĂN DŨNG"
    await chat.say("quay lại")
    await chat.say("Nguyễn Thị Lan (mẹ tôi)")  # a note in brackets after the name: not filed either
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "NGUYỄN THỊ LAN"
    await chat.say("quay lại")
    await chat.say("mẹ tôi")  # whose relative, not a name: asked again, never filed as “MẸ TÔI”
    await chat.expect("deceased.full_name")
    assert chat.error and "không hỏi quan hệ (“mẹ tôi”)" in chat.error.text
    await chat.say("Trần Thị Hoa, mẹ tôi")  # the name, then whose relative: the name
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "TRẦN THỊ HOA"


async def test_an_address_given_before_is_taken_again_with_one_press(chat: Chat, runtime: Runtime):
    """The organiser often lived with the deceased (``same_as: [deceased.residence]``): that address is offered
    under the question, and “như trên” or its number takes it; a province typed is still a new address."""
    await fill_until_organizer(chat)
    await chat.say("1")
    await chat.say("Nguyễn Văn Bình")
    await chat.say("01/02/1975")
    await chat.say("068 075 001 234")
    await chat.say("bỏ qua")
    await chat.expect("applicant.residence")
    assert "Nếu trùng một địa chỉ đã khai, chọn ở dưới." in chat.ask.text
    assert [c.label for c in chat.ask.choices] == ["Thôn 3, Xã Đức Trọng, Tỉnh Lâm Đồng"]
    await chat.say("nhu tren")
    await chat.expect("applicant.same_place")
    answers = await chat.answers()
    assert answers["applicant.residence"] == answers["deceased.residence"]
    await chat.say("quay lại")
    await chat.expect("applicant.residence")
    await chat.say("Lâm Đồng")  # the offer's words are not matched: this is a new address in Lâm Đồng
    assert "Xã, phường hoặc đặc khu nào của Tỉnh Lâm Đồng?" in chat.ask.text and not chat.ask.choices
    await chat.say("quay lại")  # back to the province: the offer again, taken by its number
    await chat.say("2")  # not on the list of one: said so (no province is looked up for a number)
    assert chat.error is not None and chat.error.text == "Danh sách chỉ có một lựa chọn: gõ 1 để chọn."
    await chat.say("0912 345 678")  # the phone typed ahead: no place, and not “gõ 1 để chọn”
    assert chat.error is not None and chat.error.text.startswith("Đây không phải tên tỉnh/thành.")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("0912.345.678")  # nor a house: asked again, the number not said back
    assert chat.error is not None and chat.error.text.startswith("Đây là một dãy số") and "0912" not in chat.text()
    await chat.say("quay lại")
    await chat.say("quay lại")
    await chat.say("xom 3")  # the hamlet first: kept, and the province asked for (the offer's own wins)
    assert chat.error is not None and chat.error.text.startswith("Đã ghi “Xóm 3”. Vui lòng nhập tỉnh/thành phố")
    await chat.say("1")
    await chat.expect("applicant.same_place")
    assert (await chat.answers())["applicant.residence"]["detail"] == "Thôn 3"
    await chat.say("quay lại")
    await chat.say("giống ông An")  # the one person's address offered, named by who he is
    await chat.expect("applicant.same_place")
    assert (await chat.answers())["applicant.residence"] == answers["deceased.residence"]
    await chat.say("quay lại")
    await chat.say("xóm 5 cùng xã")  # another house of the offered address's commune
    assert "Đã ghi: Xóm 5, Xã Đức Trọng, Tỉnh Lâm Đồng." in chat.text(), chat.text()
    await chat.expect("applicant.same_place")
    await chat.say("quay lại")
    await chat.say("cùng xã")  # the commune only: the house is asked
    await chat.expect("applicant.residence")
    assert "Xã Đức Trọng" in chat.ask.text and "Số nhà" in chat.ask.text, chat.ask.text



async def test_a_name_holding_an_options_word_is_kept_as_a_name(chat: Chat):
    """“mất tích” at the name is the status asked after (tests/test_conversation_law.py); “Thị Hoa”, holding the
    ethnic group “Hoa”, and “Hoa” alone, are names, not the ethnic group kept ahead."""
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.say("thien tai")
    await chat.expect("deceased.full_name")
    for text in ("Thị Hoa", "Hoa"):
        await chat.say(text)
        assert "Đã ghi" not in chat.text(), text
        assert "deceased.ethnicity" not in await chat.answers()
        await chat.say("quay lại")
        await chat.expect("deceased.full_name")


async def test_a_date_typed_at_an_address_is_named_a_date(chat: Chat):
    """“hôm kia” at the residence was “Không tìm thấy tỉnh/thành “hôm kia””: it is said to be a day."""
    await to_deceased_residence(chat)
    await chat.say("hôm kia")
    assert chat.error and "“hôm kia” là một ngày; câu này hỏi nơi chốn" in chat.error.text
    await chat.say("Lâm Đồng")
    await chat.say("12/3/2025")  # at the commune too
    assert chat.error and "là một ngày" in chat.error.text
    await chat.expect("deceased.residence")


async def test_a_consent_withdrawn_is_not_kept(chat: Chat):
    """“không đồng ý” to the sensitive data's consent, after “quay lại” to it, said “Để đi tiếp, bạn cần chọn…”
    but kept the consent given before: paused and resumed, the form went on to the cause of death. It is dropped."""
    await chat.press(PROC)
    await chat.say("1")
    await consent(chat)
    await chat.expect("deceased.cause")
    await chat.say("quay lại")
    await chat.expect("consent.sensitive")
    await chat.say("không đồng ý")
    assert chat.error and "Để đi tiếp, bạn cần chọn" in chat.error.text
    assert "consent.sensitive" not in await chat.answers()
    await chat.say("menu")
    await chat.say("tiếp tục")
    await chat.expect("consent.sensitive")  # not past it


async def test_a_neighbour_filing_for_a_drowned_old_man_is_read_in_his_words(chat: Chat, runtime: Runtime):
    """Walked as a neighbour who buried an old man drowned in a pond: “tôi lo ma cho ông” was no option of who
    files; “ông bị đuối nước ở ao” no cause (the NLU opens this procedure for “chết đuối”); “hôm qua chôn rồi” no
    date; a phone number at the birth date and “chỉ có CMND …”, “không có căn cước” at the ID number were told
    only that the format was wrong."""
    await chat.press(PROC)
    await chat.say("toi lo ma cho ong")
    assert "Đã ghi: Tôi là người đứng ra mai táng" in chat.text(), chat.text()
    await consent(chat)
    await chat.say("ong bi duoi nuoc o ao")
    assert "Đã ghi: Lý do bất khả kháng khác." in chat.text(), chat.text()
    await chat.expect("deceased.full_name")
    await chat.say("bỏ qua")  # (the ID card's photo)
    await chat.say("Nguyễn Văn Tâm")
    await chat.say("chỉ có năm 1950")
    await chat.say("nam")
    await chat.say("ong o mot minh o thon 2 xa ea tieu tinh dak lak")  # typed a question early
    assert chat.error and "Tên dân tộc không có chữ số" in chat.error.text, chat.error  # (not “quá dài”)
    await chat.say("kinh")
    await chat.say("ong o mot minh o thon 2 xa ea tieu tinh dak lak")
    await chat.expect("deceased.status")
    await chat.say("da mat")
    await chat.say("10/11/2026")
    await chat.say("hom qua chon roi")
    assert (await chat.answers())["deceased.burial_date"] == "2026-11-22"  # (the clock's day: 23/11/2026)
    await chat.expect("deceased.burial_place")
    await chat.say("Nghĩa địa thôn 2")
    await chat.expect("organizer.kind")
    await chat.say("tôi")
    await chat.say("Lê Thị Hoa")
    await chat.expect("applicant.birth_date")
    await chat.say("037 912 3456")
    assert chat.error and "giống số điện thoại" in chat.error.text, chat.error
    await chat.say("15/8/1972")
    await chat.expect("applicant.id_number")
    await chat.say("không có căn cước")
    assert chat.error and "VNeID" in chat.error.text and "Công an cấp xã" in chat.error.text, chat.error
    await chat.say("chỉ có CMND 241234567")
    assert chat.error and "Số CMND 9 số không còn dùng được" in chat.error.text, chat.error
    await chat.expect("applicant.id_number")
    answers = await chat.answers()
    assert answers["deceased.cause"] == "bat_kha_khang" and answers["filer.role"] == "self"
    assert (answers["deceased.residence"]["commune"], answers["deceased.residence"]["detail"]) == \
        ("Xã Ea Ktur", "Thôn 2")


async def test_a_neighbour_files_for_a_flood_victim_as_people_type(chat: Chat):
    """Walked as a neighbour types, without diacritics: the burial day said in a sentence of two clauses is named to
    be typed alone (it was only “Ngày chưa đúng”), and “con trai ong ay dung ra lo” typed at the burial place's
    spelling took “đứng” for the “Đúng” button, filing the spelling unasked: it waits for its question instead."""
    for said in ("ong hang xom nha toi bi lu cuon troi chet, xin ho tro mai tang",
                 "toi la hang xom, khai giup gia dinh ong ay", "le van tam", "dung", "0905123456",
                 "con trai ong ay dang ngoi canh toi", "dong y", "bi lu cuon", "go tay", "nguyen van hai", "dung",
                 "12/3/1958", "nam", "kinh", "thon 4 xa nghi loc nghe an", "chet roi", "20/11/2026"):
        await chat.say(said)
    await chat.expect("deceased.burial_date")
    await chat.say("hom qua moi tim thay xac, chon hom nay")
    assert chat.error and chat.error.text == ("Câu này hỏi một ngày. Nếu là ngày 23/11/2026 (“chon hom nay”), vui "
                                              "lòng gõ “23/11/2026”.")
    await chat.expect("deceased.burial_date")
    await chat.say("23/11/2026")
    await chat.expect("deceased.burial_place")
    await chat.say("nghia trang thon 4 xa nghi loc")
    assert "Ý bạn là: Nghĩa trang thôn 4 xã Nghi Lộc?" in chat.ask.text
    await chat.say("con trai ong ay dung ra lo")
    assert "Ý bạn là: Nghĩa trang thôn 4 xã Nghi Lộc?" in chat.ask.text
    assert "deceased.burial_place" not in await chat.answers()
    await chat.say("dung")
    a = await chat.answers()
    assert a["deceased.burial_date"] == "2026-11-23" and a["deceased.burial_place"] == "Nghĩa trang thôn 4 xã Nghi Lộc"
    assert a["organizer.kind"] == "household" and a["deceased.cause"] == "thien_tai"
