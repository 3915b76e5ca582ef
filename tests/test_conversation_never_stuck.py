"""Conversation tests for the dead ends citizens met in the walk-through: a number the family does not know,
a stop that sent "Sửa câu trả lời" to the wrong question, a missing authorisation paper, a numbered list of
communes, answers lost when a branch was switched off and on, and filing for someone else. Each drives the
engine as a citizen would and takes the way forward."""
from __future__ import annotations

from bot.service import Runtime
from tests.conftest import Chat, jpeg, shared_catalog
from tests.test_allowances import REP_ID, beneficiary, residence_and_phone, start_registration
from tests.test_conversation_linked import birth_people, birth_start, child_after_sex, death_start


async def death_to_id(chat: Chat) -> Chat:
    """The death group up to the deceased's ID number."""
    await death_start(chat)
    await chat.expect("requester.full_name")
    await chat.say("Nguyễn Văn Bình")
    await chat.say("01/02/1975")
    await chat.expect("requester.id_number")
    await chat.say("068075001234")
    await chat.expect("requester.relation")
    await chat.say("Con")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.expect("requester.phone")
    await chat.say("0912345678")
    await chat.expect("deceased.full_name")
    await chat.say("Nguyễn Văn An")
    await chat.say("05/03/1940")
    await chat.say("nam")
    await chat.say("Kinh")
    await chat.say("Việt Nam")
    return await chat.expect("deceased.id_number")


async def test_deceased_id_unknown_is_noted_and_the_family_goes_on(chat: Chat):
    await death_to_id(chat)
    assert "không nhớ" in chat.ask.text and "CMND" in chat.ask.text
    await chat.say("trợ giúp")  # help says where the number is found, not the question again
    assert "giấy báo tử" in chat.text() and "Công an xã" in chat.text()
    assert "Vui lòng trả lời câu hỏi" not in chat.text()
    await chat.say("ko nho")
    await chat.expect("deceased.residence")
    assert "tra số định danh" in chat.text() and chat.error is None
    answers = await chat.answers()
    assert answers["deceased.id_number"] is None
    # back to it: the note is what the family reads, never "ko nho"
    await chat.say("quay lại")
    await chat.expect("deceased.id_number")
    assert "Gia đình không nhớ" in chat.ask.text


async def test_deceased_old_nine_digit_cmnd_is_taken(chat: Chat):
    await death_to_id(chat)
    await chat.say("245 123 456")
    await chat.expect("deceased.residence")
    assert (await chat.answers())["deceased.id_number"] == "245123456"


async def test_dont_know_on_a_required_question_is_never_stored(chat: Chat):
    await death_start(chat)
    await chat.say("Nguyễn Văn Bình")
    await chat.say("01/02/1975")
    await chat.expect("requester.id_number")
    await chat.say("khong nho so")
    await chat.expect("requester.id_number")
    assert chat.error is not None and "gõ “menu” để tạm dừng" in chat.error.text
    assert "requester.id_number" not in await chat.answers()
    await chat.say("068075001234")
    await chat.expect("requester.relation")


async def test_dont_remember_the_marriage_certificate_number(chat: Chat):
    await birth_start(chat)
    await birth_people(chat, married=False)
    await chat.say("quay lại")
    await chat.expect("marriage.registered")
    await chat.say("có")
    await chat.expect("marriage.number")
    await chat.say("ko nho")
    await chat.expect("marriage.book")
    assert (await chat.answers())["marriage.number"] is None
    await chat.say("không biết ạ")  # optional: skipped, not stored as the book number
    await chat.expect("marriage.date")
    assert (await chat.answers())["marriage.book"] is None
    assert "không bắt buộc" in chat.text()
    assert "ví dụ 20/10/2020" in chat.ask.text or "Ví dụ: 20/10/2020" in chat.ask.text, chat.ask.text
    await chat.say("không nhớ")  # a grandmother filing: the officer looks the marriage up by the parents' names
    await chat.expect("marriage.place")
    assert "Cán bộ hộ tịch sẽ tra việc kết hôn" in chat.text()
    assert (await chat.answers())["marriage.date"] is None


async def test_fix_after_a_stop_opens_the_answer_that_caused_it(chat: Chat):
    """The walk-through's loop: a border stop, "Sửa", back to the first question and a second stop, "Sửa", a
    first answer again: the border stop came back and "Sửa" kept opening the first question."""
    await birth_start(chat, foreign="có")
    await chat.expect("case.border")
    await chat.say("có")
    await chat.expect("_eligibility")
    # the citizen picks which of the answers behind the stop to change, the latest first
    labels = [c.label for c in chat.ask.choices]
    assert labels[:2] == ["Sửa “Xã thuộc khu vực biên giới”", "Sửa “Cha hoặc mẹ là công dân nước láng giềng”"]
    await chat.say("2")
    await chat.expect("case.border_foreign_parent")
    await chat.say("giữ nguyên")  # kept: the stop stands, and the answer just kept comes first now
    await chat.expect("_eligibility")
    assert chat.ask.choices[0].label == "Sửa “Cha hoặc mẹ là công dân nước láng giềng”"
    await chat.press("fix:case.border")
    await chat.expect("case.border")
    await chat.say("quay lại")  # the question before it in the form
    await chat.expect("case.border_foreign_parent")
    await chat.say("quay lại")
    await chat.expect("case.situation")
    await chat.say("2")  # parent not determined: a stop of its own
    await chat.expect("_eligibility")
    await chat.say("1")
    await chat.expect("case.situation")
    await chat.say("1")  # the first stop again: its own answer opens, not the first question
    await chat.expect("_eligibility")
    await chat.say("1")
    await chat.expect("case.border_foreign_parent")
    await chat.say("không")  # not a neighbouring country's citizen after all
    await chat.expect("link.commune")


async def test_no_authorisation_paper_says_how_to_get_one_and_keeps_the_draft(chat: Chat):
    await start_registration(chat, "authorised")
    await beneficiary(chat)
    await residence_and_phone(chat)
    await chat.say("Trần Văn Bình")
    await chat.say("01/02/1975")
    await chat.say(REP_ID)
    await chat.say("con trai")
    await chat.say("0987654321")
    await chat.expect("rep.authorisation")
    await chat.say("chua co giay uy quyen")
    await chat.expect("rep.authorisation")
    said = chat.text()
    assert "chứng thực chữ ký" in said and "Ủy ban nhân dân xã" in said and "tại nhà" in said, said
    assert "niêm yết" in said and "được giữ lại" in said
    assert "rep.authorisation" not in await chat.answers()
    # as the message says: pause, and come back when the paper is signed
    await chat.say("menu")
    await chat.expect("procedure")
    await chat.say("tiếp tục")
    await chat.expect("rep.authorisation")
    assert (await chat.answers())["rep.phone"] == "0987654321"
    await chat.send_file(jpeg(3), "giay-uy-quyen.jpg")
    await chat.press("done")
    await chat.expect("account.owner")


async def to_residence(chat: Chat) -> None:
    """The death group up to the residence of the person filing."""
    await death_start(chat)
    await chat.say("Nguyễn Văn Bình")
    await chat.say("01/02/1975")
    await chat.say("068075001234")
    await chat.say("Con")
    await chat.expect("requester.residence")


async def test_a_commune_is_picked_by_its_number_in_the_list(chat: Chat):
    await to_residence(chat)
    await chat.say("lam dong")
    await chat.say("gia nghia")  # the old city of Gia Nghĩa: its three wards of today
    assert "“Thành phố Gia Nghĩa” là đơn vị cấp huyện cũ" in chat.text(), chat.text()
    assert [c.label for c in chat.ask.choices][2] == "Phường Nam Gia Nghĩa", chat.ask
    await chat.say("3")  # as a console or Zalo user answers a numbered list
    assert chat.error is None, chat.error
    await chat.say("Tổ 5")
    await chat.expect("requester.phone")
    residence = (await chat.answers())["requester.residence"]
    assert residence["commune"] == "Phường Nam Gia Nghĩa" and residence["detail"] == "Tổ 5"


async def test_an_old_commune_name_maps_to_todays_commune(chat: Chat):
    await to_residence(chat)
    await chat.say("hai duong")
    assert "Hải Phòng" in chat.text()
    await chat.say("an phuong")  # merged on 01/07/2025
    assert "nay thuộc Xã Hà Tây" in chat.text(), chat.text()
    await chat.say("Thôn 3")
    await chat.expect("requester.phone")
    residence = (await chat.answers())["requester.residence"]
    assert (residence["province"], residence["commune"]) == ("Thành phố Hải Phòng", "Xã Hà Tây")


async def test_an_old_district_shows_its_communes_of_today_and_chooses_none(chat: Chat):
    """“huyện Can Lộc” is no longer a unit: the bot used to take Xã Can Lộc, a commune of the same name."""
    await to_residence(chat)
    await chat.say("ha tinh")
    await chat.say("huyen can loc")
    assert "“Huyện Can Lộc” là đơn vị cấp huyện cũ" in chat.text(), chat.text()
    assert chat.error is None
    offered = [c.label for c in chat.ask.choices]
    assert offered == ["Xã Can Lộc", "Xã Đồng Lộc", "Xã Gia Hanh", "Xã Trường Lưu", "Xã Tùng Lộc", "Xã Xuân Lộc"]
    assert "requester.residence" not in await chat.answers()
    await chat.say("9")
    assert chat.error is not None and chat.error.text == "Số 9 không có trong danh sách. Vui lòng gõ số từ 1 đến 6."
    await chat.say("3")
    await chat.say("xom 2")  # typed plainly: written on the form as “Xóm 2”
    await chat.expect("requester.phone")
    residence = (await chat.answers())["requester.residence"]
    assert (residence["commune"], residence["detail"]) == ("Xã Gia Hanh", "Xóm 2")
    # a bare name that is also today's commune's is that commune, as before
    await chat.say("quay lại")
    await chat.say("Hà Tĩnh")
    await chat.say("can loc")
    await chat.say("Xóm 2")
    assert (await chat.answers())["requester.residence"]["commune"] == "Xã Can Lộc"


async def test_a_whole_old_address_keeps_its_village_and_offers_the_districts_communes(chat: Chat):
    await to_residence(chat)
    await chat.say("Xóm 3, Huyện Thạch Hà, Hà Tĩnh")
    assert "“Huyện Thạch Hà” là đơn vị cấp huyện cũ" in chat.text(), chat.text()
    assert "Xã Thạch Hà" in [c.label for c in chat.ask.choices]
    await chat.say("Xã Thạch Hà")
    await chat.expect("requester.phone")  # the village was typed already: not asked again
    residence = (await chat.answers())["requester.residence"]
    assert (residence["commune"], residence["detail"]) == ("Xã Thạch Hà", "Xóm 3")


async def test_an_old_city_typed_without_its_province_says_the_province(chat: Chat):
    """“to 5 phuong 2 da lat” at the province's question kept it all as the house's part and asked the province:
    Đà Lạt, a city before 2025 and one district of that name in the country, says it is Lâm Đồng; its old ward
    “phường 2” is one ward of today."""
    await to_residence(chat)
    await chat.say("to 5 phuong 2 da lat")
    assert "“phuong 2, da lat” nay thuộc Phường Xuân Hương - Đà Lạt, Tỉnh Lâm Đồng" in chat.text(), chat.text()
    await chat.expect("requester.phone")
    residence = (await chat.answers())["requester.residence"]
    assert (residence["province"], residence["commune"], residence["detail"]) == \
        ("Tỉnh Lâm Đồng", "Phường Xuân Hương - Đà Lạt", "Tổ 5")
    await chat.say("quay lại")
    await chat.say("thon 3 can loc")  # an old district without an old commune: its communes of today
    assert "“Huyện Can Lộc” là đơn vị cấp huyện cũ" in chat.text() and "(Đã ghi: Thôn 3.)" in chat.ask.text
    assert "Xã Gia Hanh" in [c.label for c in chat.ask.choices]
    assert chat.ask.choices[0].label == "Xã Can Lộc"  # the commune that carries the district's name, first
    await chat.say("quay lại")
    await chat.say("phu my")  # a district of two provinces before 2025: no province said
    assert chat.error is not None and "Không tìm thấy tỉnh/thành" in chat.error.text
    # an old ward of a city whose province merged into another: “phường 2, tp vũng tàu” (Bà Rịa - Vũng Tàu, now
    # Hồ Chí Minh city) offered the city's five wards of today, and kept “phuong 2” as the house
    await chat.say("to 3 phuong 2 tp vung tau")
    assert "nay thuộc Phường Vũng Tàu, Thành phố Hồ Chí Minh" in chat.text(), chat.text()
    await chat.expect("requester.phone")
    residence = (await chat.answers())["requester.residence"]
    assert (residence["commune"], residence["detail"]) == ("Phường Vũng Tàu", "Tổ 3")


async def test_an_old_district_typed_as_a_commune_offers_its_communes(chat: Chat):
    """“thon 4 xa quang xuong thanh hoa” (the farming household walked as its head) kept “Thôn 4 xa quang xuong” as
    the house and asked the commune as if none was said: Quảng Xương was a huyện, and no commune of Thanh Hóa had
    or has its name, so the citizen's “xã” is the old district's land; its communes of today are offered."""
    await to_residence(chat)
    await chat.say("thon 4 xa quang xuong thanh hoa")
    assert "“Huyện Quảng Xương” là đơn vị cấp huyện cũ" in chat.text() and "(Đã ghi: Thôn 4.)" in chat.ask.text
    assert "Xã Quảng Ngọc" in [c.label for c in chat.ask.choices]
    await chat.say("quay lại")
    await chat.say("xom 2 xa quang ninh thanh hoa")  # a commune of today: taken
    await chat.expect("requester.phone")
    assert (await chat.answers())["requester.residence"]["commune"] == "Xã Quảng Ninh"


async def test_an_old_commune_typed_before_todays_province_is_todays_commune(chat: Chat):
    """“ong o mot minh o thon 2 xa ea tieu tinh dak lak” (the emergency funeral walked as a neighbour) asked the
    commune again: Ea Tiêu, an old commune of Đắk Lắk named with its type word, is one commune of today, said; the
    words of the sentence before the hamlet are not the house's address."""
    await to_residence(chat)
    await chat.say("ong o mot minh o thon 2 xa ea tieu tinh dak lak")
    assert "“xa ea tieu” nay thuộc Xã Ea Ktur, Tỉnh Đắk Lắk" in chat.text(), chat.text()
    await chat.expect("requester.phone")
    residence = (await chat.answers())["requester.residence"]
    assert (residence["commune"], residence["detail"]) == ("Xã Ea Ktur", "Thôn 2")
    await chat.say("quay lại")
    await chat.say("to 3 phuong 2 thanh pho ho chi minh")  # a name several old wards of the city shared: asked
    assert "Xã, phường hoặc đặc khu nào" in chat.ask.text and "(Đã ghi: Tổ 3 phuong 2.)" in chat.ask.text, \
        chat.ask.text


async def test_a_province_typed_for_the_commune_is_named_as_such(chat: Chat):
    await to_residence(chat)
    await chat.say("ha tinh")
    await chat.say("ha tinh")  # the province again: not “Hà Linh or Hải Ninh?”
    assert chat.error is not None and "“ha tinh” là tên tỉnh, thành phố" in chat.error.text, chat.error
    assert not chat.ask.choices
    await chat.say("nghe an")  # the wrong province was chosen
    said = chat.error.text if chat.error is not None else ""
    assert "tỉnh, thành khác (Tỉnh Nghệ An)" in said and "quay lại" in said, said
    await chat.say("quay lại")
    await chat.say("nghe an")
    assert "Tỉnh Nghệ An" in chat.ask.text


async def test_answers_under_a_branch_switched_off_and_on_are_offered_back(chat: Chat, runtime: Runtime):
    """The walk-through's D24: the health-insurance answers were gone after the route was toggled."""
    from tests.test_conversation_linked import birth_docs, birth_insurance, birth_residence, submit
    await birth_start(chat)
    await birth_people(chat)
    await birth_residence(chat)
    await birth_insurance(chat)
    await birth_docs(chat)
    await chat.expect("_review")
    # switch the card off: birth and residence only
    await chat.press("edit")
    await chat.press("link")
    await chat.expect("_edit_field")
    await chat.press("link.parts")
    await chat.say("3")
    await chat.expect("_review")
    answers = await chat.answers()
    assert "insurance.facility" not in answers and "insurance.facility" not in chat.text()
    # and on again: the answers given before are offered back, and kept with “giữ nguyên”
    await chat.press("edit")
    await chat.press("link")
    await chat.press("link.parts")
    await chat.say("1")
    await chat.expect("insurance.facility")
    assert "Câu trả lời trước: Trạm Y tế xã Đức Trọng" in chat.ask.text
    await chat.say("giữ nguyên")
    await chat.expect("insurance.guardian")
    await chat.say("giu nguyen")
    await chat.expect("_review")
    answers = await chat.answers()
    assert answers["insurance.facility"] == "Trạm Y tế xã Đức Trọng" and "_hidden" not in answers
    # a branch left off at submission: its answers are not in the dossier
    await chat.press("edit")
    await chat.press("link")
    await chat.press("link.parts")
    await chat.say("3")
    code = await submit(chat)
    from tests.test_conversation_linked import dossier
    stored = (await dossier(runtime, code))["answers"]
    assert "_hidden" not in stored and not any(k.startswith("insurance.") for k in stored)


async def test_parents_id_numbers_are_checked_against_their_sex(chat: Chat):
    await birth_start(chat)
    await chat.expect("requester.relation")
    await chat.say("Mẹ")
    await chat.say("Trần Thị Hoa")
    await chat.say("12/04/1995")
    await chat.expect("requester.id_number")
    await chat.say("068095001234")  # sex digit 0: a man born in the 1900s
    await chat.expect("requester.id_number")
    assert chat.error is not None and "giới tính" in chat.error.text
    await chat.say("068195001234")
    await chat.expect("requester.phone")
    await chat.say("0912345678")
    await chat.say("nguyễn minh an")
    await chat.say("nam")
    await child_after_sex(chat)
    await chat.say("Kinh")
    await chat.say("1")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.expect("father.full_name")
    await chat.say("Nguyễn Văn Bình")
    await chat.say("03/09/1993")
    await chat.expect("father.id_number")
    await chat.say("068193004321")  # sex digit 1: a woman
    await chat.expect("father.id_number")
    assert chat.error is not None and "giới tính" in chat.error.text
    await chat.say("068093004321")
    await chat.expect("father.ethnicity")


async def test_a_volunteer_files_housing_support_for_a_household(chat: Chat, runtime: Runtime):
    from tests.test_conversation_social import HOUSING, address, open_procedure, submit
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở")
    for text in ("hộ nghèo", "đổ sập", "thiên tai", "20/11/2026"):
        await chat.say(text)
    await chat.expect("filer.role")
    await chat.say("tôi khai giúp")
    await chat.expect("filer.full_name")
    await chat.say("Lò Thị Hiền")
    await chat.expect("filer.phone")
    await chat.say("0977 123 456")
    # the household's own consent (Personal Data Protection Law 2025), before any of its data is asked
    await chat.expect("consent.subject")
    text = chat.ask.text
    assert "người đại diện hộ gia đình đồng ý" in text and "số định danh" in text  # whose, and what
    assert "xét hỗ trợ nhà ở" in text and "chỉ cán bộ" in text  # why, and who sees it
    assert [c.value for c in chat.ask.choices] == ["in_person", "phone", "guardian", "no"]
    await chat.say("qua điện thoại")
    await chat.expect("rep.full_name")
    for text in ("Hà Văn Sáu", "01/01/1960", "nam", "e de", "068060001234", "bỏ qua"):
        await chat.say(text)
    await address(chat, "household.residence")
    for text in ("3", "1", "Nhà gỗ", "Sập hết mái"):
        await chat.say(text)
    await chat.expect("contact.phone")
    assert "hộ gia đình" in chat.ask.text  # whose number: the household's, not the volunteer's
    await chat.say("0912000222")
    await chat.say("bỏ qua")
    data = await submit(chat, runtime, HOUSING, "HNO", "2026-11-26")
    a = data["answers"]
    assert (a["filer.role"], a["filer.full_name"], a["filer.phone"]) == ("helper", "Lò Thị Hiền", "0977123456")
    assert a["contact.phone"] == "0912000222" and data["applicant_name"] == "HÀ VĂN SÁU"
    assert a["rep.ethnicity"] == "Ê Đê"  # typed "e de": the form gets the group's spelling
    # recorded apart from the volunteer's own: how, when, and which wording was read
    from dialogs.kinds.consent import text_version
    field = shared_catalog().form(HOUSING).field("consent.subject")
    assert a["consent.subject"] == {"how": "phone", "at": a["consent.subject"]["at"],
                                    "text_version": text_version(field)}
    assert a["consent.subject"]["at"].startswith("2026-") and "+07:00" in a["consent.subject"]["at"]


async def test_a_volunteer_may_file_for_a_household_or_a_care_home(chat: Chat):
    from tests.test_conversation_social import AVERAGE, FACILITY, open_procedure
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    await chat.say("1")
    await chat.say("2.000.000")
    await chat.expect("filer.role")
    await chat.say("2")
    await chat.expect("filer.full_name")
    await chat.say("menu")
    await open_procedure(chat, FACILITY, "conditions.civil_capacity", "cơ sở trợ giúp xã hội")
    for _ in range(4):
        await chat.say("có")
    await chat.expect("filer.role")
    assert "Tôi khai giúp cơ sở" in chat.ask.text or any("khai giúp" in c.label for c in chat.ask.choices)
    await chat.say("2")
    await chat.expect("filer.full_name")


def test_ethnic_groups_are_spelled_as_the_list_spells_them():
    from dialogs import spelling
    assert len(spelling.names("ethnic_groups")) == 54
    assert [spelling.spell("ethnic_groups", t) for t in ("e de", "kinh", "H'Mông", "khơ mú", "van kieu")] == \
        ["Ê Đê", "Kinh", "Mông", "Khơ Mú", "Bru - Vân Kiều"]
    assert spelling.spell("ethnic_groups", "người Pháp") == "người Pháp"  # not in the list: as typed
    # “dân tộc Kinh”, “người Tày”: the name after the words that introduce it
    assert [spelling.spell("ethnic_groups", t) for t in ("dân tộc Kinh", "dan toc e de", "người Tày", "dt hoa")] == \
        ["Kinh", "Ê Đê", "Tày", "Hoa"]
    # and the polite words after it (“người Kinh ạ”); “La Ha” keeps its own last word
    assert [spelling.spell("ethnic_groups", t) for t in ("nguoi kinh a", "Người Kinh ạ", "tay nhe", "la ha")] == \
        ["Kinh", "Kinh", "Tày", "La Ha"]
    assert spelling.spell("relations", "con trai a") == "Con trai"
    assert spelling.listed("ethnic_groups", "Ê Đê") and not spelling.listed("ethnic_groups", "khanh hoa")


def test_a_relation_typed_plainly_is_written_as_on_a_form():
    """“hang xom” at “Người đứng ra mai táng là gì của người mất?” went on Mẫu 04 as typed: a whole answer that is
    a word of kinship is written with its diacritics; anything else as typed, never asked about."""
    from dialogs import spelling
    assert [spelling.spell("relations", t) for t in ("hang xom", "con trai", "tôi là cháu nội", "con dâu của bà",
                                                      "chau ngoai")] == \
        ["Hàng xóm", "Con trai", "Cháu nội", "Con dâu", "Cháu ngoại"]
    assert spelling.spell("relations", "ba") == "ba"  # Ba (a father, in the South) or Bà: as typed
    assert spelling.spell("relations", "con trai cả") == "con trai cả"  # more than the list says: as typed


async def test_an_ethnicity_the_list_lacks_is_asked_again_or_kept(chat: Chat, runtime: Runtime):
    from tests.test_conversation_social import AVERAGE, open_procedure
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    for text in ("1", "2 triệu", "1", "Nguyễn Văn Bình", "01/02/1975", "nam"):
        await chat.say(text)
    await chat.expect("applicant.ethnicity")
    await chat.say("thôn 3")  # a part of the address with a number: no ethnicity has one, so not kept either
    await chat.expect("applicant.ethnicity")
    assert "không có chữ số" in chat.text() and not chat.ask.choices
    await chat.say("khanh hoa")  # the address, typed early: a place's name, never kept as an ethnicity
    await chat.expect("applicant.ethnicity")
    assert chat.error and "“khanh hoa” là tên một địa danh, không phải tên dân tộc" in chat.error.text
    assert not chat.ask.choices
    await chat.say("dan toc thieu so")  # a name the list lacks: asked to retype, or kept by its button
    await chat.expect("applicant.ethnicity")
    assert "“dan toc thieu so” không có trong danh sách 54 dân tộc" in chat.ask.text
    assert [c.label for c in chat.ask.choices] == ["Giữ như tôi gõ: dan toc thieu so"]
    await chat.say("tro giup")
    assert "danh sách 54 dân tộc" in chat.text() and chat.field == "applicant.ethnicity"
    await chat.say("nguoi kinh a")  # typed again: read as the answer (“người Kinh ạ”)
    await chat.expect("applicant.id_number")
    assert (await chat.answers())["applicant.ethnicity"] == "Kinh"
    await chat.say("quay lại")
    await chat.expect("applicant.ethnicity")
    await chat.say("Pà Thẻn lai Pháp")  # not in the list, and meant: kept by its button's number
    await chat.expect("applicant.ethnicity")
    await chat.say("1")
    await chat.expect("applicant.id_number")
    assert (await chat.answers())["applicant.ethnicity"] == "Pà Thẻn lai Pháp"
    await chat.say("quay lại")
    await chat.say("nguoi phap")
    await chat.say("nguoi phap")  # the same again: kept as typed
    await chat.expect("applicant.id_number")
    assert (await chat.answers())["applicant.ethnicity"] == "nguoi phap"


def test_places_typed_without_diacritics_are_spelled_from_the_lists():
    from dialogs.spelling import restore_place
    assert restore_place("xa hai hau, nam dinh") == ["Xã Hải Hậu, Nam Định"]  # a pre-2025 district, a province
    assert restore_place("hai hau nam dinh") == ["Hải Hậu, Nam Định"]  # a province after a name: a comma
    assert restore_place("xa hai hau tinh nam dinh") == ["Xã Hải Hậu tỉnh Nam Định"]  # (after its unit word: none)
    assert restore_place("xa an phuong, huyen thanh ha, hai duong") == ["Xã An Phượng, Huyện Thanh Hà, Hải Dương"]
    # after "xã", the communes, not the province (a commune of Hương Trà was called Hải Dương before 2025)
    assert restore_place("xa hai duong") == ["Xã Hải Dương", "Xã Hải Đường"]
    assert restore_place("thon 3, xa nhan co, tinh lam dong") == ["Thôn 3, Xã Nhân Cơ, Tỉnh Lâm Đồng"]
    assert restore_place("nghia trang nhan dan xa hai hau") == ["Nghĩa trang nhân dân xã Hải Hậu"]
    assert len(restore_place("tan thanh, long an")) == 3  # three places: each offered
    # who issues a death notice or cares for a child (“Cơ quan cấp giấy báo tử?”, “Nơi khám chữa bệnh ban đầu?”)
    assert restore_place("tram y te xa dien chau") == ["Trạm y tế xã Diễn Châu"]
    assert restore_place("bv da khoa tinh nghe an") == ["Bệnh viện đa khoa tỉnh Nghệ An"]
    # an area: places joined by “và”, “các… lân cận” (“Địa bàn hoạt động?”); joining words alone are no place
    assert restore_place("xa nhan co va cac xa lan can") == ["Xã Nhân Cơ và các xã lân cận"]
    assert restore_place("toan xa nhan co") == ["toàn xã Nhân Cơ"]
    for kept in ("Xã Hải Hậu, Nam Định", "benh vien da khoa quoc te", "xa nhan co gan cho", "va cac", "12345", ""):
        assert restore_place(kept) == []  # already spelled, or a word no list knows: kept as typed


async def test_none_to_a_count_is_zero_not_dont_know(chat: Chat):
    from tests.test_conversation_social import HOUSING, address, open_procedure
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở")
    for text in ("hộ nghèo", "đổ sập", "thiên tai", "20/11/2026", "1", "Hà Văn Sáu", "01/01/1960", "nam", "Kinh",
                 "068060001234", "bỏ qua"):
        await chat.say(text)
    await address(chat, "household.residence")
    await chat.say("2")
    await chat.expect("household.working_age")
    await chat.say("không có")  # nobody of working age
    await chat.expect("house.before")
    assert (await chat.answers())["household.working_age"] == 0


async def test_menu_at_the_menu_shows_the_menu_without_an_error(chat: Chat):
    """Typing “menu” where the menu already is: the menu again, not “Chưa rõ bạn cần thủ tục nào”."""
    await chat.start()
    for word in ("menu", "về danh sách thủ tục"):  # the words of the bot's own button
        await chat.say(word)
        await chat.expect("procedure")
        assert not chat.error and "Chưa rõ" not in chat.text()
    for word in ("hủy", "quay lại"):  # nothing open to cancel or go back in: said so, no warning
        await chat.say(word)
        await chat.expect("procedure")
        assert not chat.error and "chưa mở hồ sơ nào" in chat.text()
    await chat.say("")  # Enter alone: the list again
    await chat.expect("procedure")
    assert not chat.error


async def test_a_greeting_at_the_menu_is_greeted_back_not_called_unclear(chat: Chat):
    """“chao ban” at the menu (the first thing many type): a greeting and the menu, without the warning that the
    request is unclear; a greeting with a request in it still starts that request."""
    await chat.start()
    for word in ("chao ban", "Xin chào!", "alo ad ơi"):
        await chat.say(word)
        await chat.expect("procedure")
        assert not chat.error and "Chưa rõ" not in chat.text() and "Xin chào" in chat.text()
    await chat.say("chao ban, toi muon lam ho tro mai tang")
    assert chat.field != "procedure" or len(chat.ask.choices) < 5  # the request, not the whole menu again


async def test_typing_the_stop_buttons_words_goes_to_the_menu_and_keeps_the_draft(chat: Chat):
    """At an ineligibility stop the bot says to choose “Về danh sách thủ tục”: typed, it does just that."""
    await chat.start()
    await chat.press("doi-cap-lai-giay-xac-nhan-khuyet-tat")
    await chat.say("chưa")  # never had a certificate: a stop
    await chat.expect("_eligibility")
    await chat.say("về danh sách thủ tục")
    await chat.expect("procedure")
    assert not chat.error and any("đang khai dở" in c.label for c in chat.ask.choices)



async def test_back_at_a_procedures_first_question_goes_to_the_list(chat: Chat):
    """A citizen who opened the wrong procedure types “quay lại” at its first question: the list of procedures
    comes back (it said “không quay lại được nữa” and asked the same question). A draft with nothing answered
    is not shown as one in progress; one with answers is kept, and “tiếp tục” goes on with it."""
    await chat.start()
    await chat.say("7")
    await chat.expect("household.status")
    await chat.say("quay lai")
    await chat.expect("procedure")
    assert not chat.error and "Bạn có thể chọn thủ tục khác" in chat.text()
    assert not any("đang khai dở" in c.label for c in chat.ask.choices)
    await chat.say("3")
    await chat.press("1")
    second = chat.field
    await chat.say("quay lại")  # to the first question, its answer shown
    await chat.say("quay lại")  # and out
    await chat.expect("procedure")
    assert "Hồ sơ đang khai đã được lưu" in chat.text() and "tiếp tục" in chat.text()
    assert [c.value for c in chat.ask.choices if "đang khai dở" in c.label] == ["ho-tro-chi-phi-mai-tang"]
    await chat.say("tiếp tục")
    await chat.expect(second)


async def test_stop_words_pause_and_are_never_taken_as_an_answer(chat: Chat):
    """“dừng lại” typed without diacritics is close to “đứng ra” in the first option of the funeral support
    (“Tôi là người đứng ra mai táng”) and was taken as that answer. It and the other ways to say “pause”
    (“tạm dừng”, as the bot's own “gõ “menu” để tạm dừng”, “thoát”, “để sau”) go to the list, the draft kept."""
    await chat.start()
    await chat.say("3")
    await chat.expect("filer.role")
    await chat.say("dung lai")
    await chat.expect("procedure")
    assert not chat.error and "đã được lưu" not in chat.text()  # nothing answered, nothing kept to speak of
    await chat.say("3")
    await chat.expect("filer.role")
    await chat.press("1")
    await chat.expect("consent.sensitive")
    for words in ("tạm dừng", "thoat", "de sau", "gửi sau"):
        await chat.say(words)
        await chat.expect("procedure")
        assert "đã được lưu" in chat.text()
        await chat.say("tiếp tục")
        await chat.expect("consent.sensitive")
    assert (await chat.answers())["filer.role"] == "self"


async def test_coming_back_after_an_unanswered_cancel_goes_on_with_the_form(chat: Chat, runtime: Runtime):
    """“hủy”, then the chat left without answering the yes/no: coming back, the bot greets and asks the form's
    question, and the answer to it is taken. It used to show that question while still waiting for the yes/no,
    so the answer got “Vui lòng chọn Có hoặc Không” about a confirmation no longer on screen."""
    await death_to_id(chat)
    await chat.say("hủy")
    await chat.expect("_cancel")
    await chat.start()  # the citizen comes back later (/start, or the console started again)
    await chat.expect("deceased.id_number")
    assert "quay lại" in chat.text()
    await chat.say("068040001111")
    assert not chat.error and chat.field != "deceased.id_number" and chat.field != "_cancel"
    again = Chat(runtime, chat.user)  # and the draft is still there: nothing was deleted
    await again.start()
    assert again.field == chat.field


async def test_no_conversation_s_answers_stay_in_memory_after_its_turn(chat: Chat, runtime: Runtime):
    """The form keeps its walk of the answers within a turn (dialogs/form.py) and drops it when the turn ends:
    an idle conversation leaves nothing in memory, not even in the procedure's form."""
    await death_to_id(chat)
    await chat.say("068040001111")
    assert not any(runtime.catalog.form(p).keeps_walk for p in runtime.catalog.procedures)
    await chat.start()
    assert not any(runtime.catalog.form(p).keeps_walk for p in runtime.catalog.procedures)


async def test_keep_where_nothing_was_answered_is_asked_again_not_stored_as_a_name(chat: Chat):
    """“giu nguyen” after going back from the accents offer: nothing was stored there to keep, so it is not taken
    as the name “Giu Nguyen”; the question stays, and the name typed next is taken."""
    await death_start(chat)
    await chat.expect("requester.full_name")
    await chat.say("nguyen van binh")  # offered with its accents
    await chat.say("quay lại")
    await chat.expect("requester.full_name")
    await chat.say("giu nguyen")
    assert chat.error is not None and chat.error.text == "Câu này chưa có câu trả lời trước để giữ nguyên. Vui lòng " \
                                                         "gõ câu trả lời."
    await chat.expect("requester.full_name")
    await chat.say("Nguyễn Văn Bình")
    await chat.expect("requester.birth_date")
    assert (await chat.answers())["requester.full_name"] == "NGUYỄN VĂN BÌNH"


async def test_keep_at_an_optional_question_left_empty_keeps_it_empty(chat: Chat):
    """An optional question skipped, then asked again by going back: “giữ nguyên” leaves it empty (it was
    stored as the text “giữ nguyên” before)."""
    await death_to_id(chat)
    await chat.say("068040009876")
    await chat.expect("deceased.residence")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.expect("deceased.death_date")
    await chat.say("10/11/2026")
    await chat.expect("deceased.death_time")
    await chat.say("bỏ qua")
    await chat.expect("deceased.death_place_same")
    await chat.say("quay lại")
    await chat.expect("deceased.death_time")
    await chat.say("giữ nguyên")
    await chat.expect("deceased.death_place_same")
    assert (await chat.answers())["deceased.death_time"] is None


async def test_an_id_number_typed_at_a_choice_is_not_echoed(chat: Chat):
    await death_start(chat)
    await chat.expect("requester.full_name")
    await chat.say("Nguyễn Văn Bình")
    await chat.say("01/02/1975")
    await chat.say("068075001234")
    await chat.expect("requester.relation")
    await chat.say("079085001234")  # the ID again, or a relative's: not a choice, and never repeated back
    await chat.expect("requester.relation")
    assert "079085001234" not in chat.text() and "lựa chọn" in chat.text()
    await chat.say("9")  # a short number is named, so the person sees which one
    assert "Số 9 không có trong danh sách" in chat.text()
    await chat.say("Con")
    await chat.expect("requester.residence")
    assert (await chat.answers())["requester.id_number"] == "068075001234"


async def test_an_address_question_answered_with_no_or_a_number_is_asked_again_without_echo(chat: Chat):
    await start_registration(chat)
    await beneficiary(chat)
    await chat.expect("beneficiary.residence")
    await chat.say("ko")  # not a province called “ko”: the question needs an answer
    await chat.expect("beneficiary.residence")
    assert "cần có câu trả lời" in chat.text() and "“ko”" not in chat.text()
    await chat.say("079 148 001 234")  # an ID number typed here: never repeated back
    assert chat.error and "Đây không phải tên tỉnh/thành" in chat.text() and "079" not in chat.text()
    await chat.say("Lâm Đồng")
    await chat.say("0912345678")  # the phone, typed one question early: kept for its question, said so
    assert not chat.error and "Đã ghi “0912345678” cho câu “Số điện thoại" in chat.text()
    await chat.expect("beneficiary.residence")  # the commune asked again
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    a = await chat.answers()
    assert a["beneficiary.residence"]["commune"].endswith("Đức Trọng") and a["beneficiary.phone"] == "0912345678"
    assert chat.field != "beneficiary.phone"


async def test_a_questions_help_comes_with_the_second_wrong_answer_not_under_every_one(chat: Chat):
    await start_registration(chat, "guardian")
    await beneficiary(chat)
    await residence_and_phone(chat)
    await chat.expect("rep.full_name")
    for text in ("Trần Văn Bình", "01/02/1975", REP_ID, "con trai", "0987654321"):
        await chat.say(text)
    await chat.expect("rep.authorisation")
    shown = []
    for _ in range(5):
        await chat.say("chưa có giấy")  # text where a photo is asked
        await chat.expect("rep.authorisation")
        shown.append("💡" in chat.ask.text)
    assert shown == [False, True, False, False, True]
    await chat.say("trợ giúp")  # and whenever asked for
    assert "chứng thực" in chat.text()
    await chat.say("là sao?")  # the question not understood: its help too (was “cần ảnh chụp … không gõ chữ”)
    assert "chứng thực" in chat.text() and chat.error is None
    await chat.say("khong")  # a bare “không” where a photo is asked: the paper is not at hand (was “không gõ chữ”)
    assert "tạm dừng" in chat.text() and "không gõ chữ" not in chat.text()
    await chat.expect("rep.authorisation")
    await chat.send_file(jpeg(3), "giay-uy-quyen.jpg")
    await chat.press("done")
    await chat.expect("account.owner")
