"""Conversation tests for the four social-protection procedures of the commune catalogue
(seeds/004: Mẫu 01, Mẫu 06, Mẫu 1, Mẫu 14), driven through the real Runtime as a citizen would.

The clock is Monday 23/11/2026 09:00; Tuesday 24/11 is a holiday in `holidays`, so day 1 is Wednesday 25/11.
Procedures are opened with their menu button (the menu order changes as procedures are added).
"""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.service import Runtime
from dialogs.forms import render_text
from storage.repo import DossierRepo, dossier_to_dict
from tests.conftest import Chat, jpeg, pdf, shared_catalog

DISABILITY = "xac-dinh-muc-do-khuyet-tat"
HOUSING = "ho-tro-nha-o"
AVERAGE = "xac-nhan-ho-muc-song-trung-binh"
FACILITY = "dang-ky-co-so-tro-giup-xa-hoi"

GROUPS = ["disability.motor", "disability.hearing_speech", "disability.vision", "disability.neuro_mental",
          "disability.intellectual", "disability.other"]
ACTIVITIES = ["activity.walking", "activity.eating", "activity.toileting", "activity.hygiene", "activity.dressing",
              "activity.understanding", "activity.expressing", "activity.housework", "activity.social",
              "activity.learning"]


# ------------------------------------------------------------------------------------------------
# helpers
async def open_procedure(chat: Chat, proc: str, first_field: str, title: str) -> Chat:
    await chat.expect("procedure")
    assert proc in [c.value for c in chat.ask.choices]
    await chat.press(proc)
    assert title in chat.text()  # the info card comes first
    await chat.expect(first_field)
    return chat


# The housing support's answers, in the order asked by a household filing for itself (housing_until)
HOUSING_ANSWERS = ("hộ nghèo", "hư hỏng nặng", "hỏa hoạn", "20/11/2026", "1", "Hà Văn Sáu", "01/01/1960", "nam",
                   "Kinh", "068060001234", "bỏ qua")


async def housing_until(chat: Chat, field: str, *, to_review: bool = False) -> Chat:
    """The housing support opened, its answers typed one by one until ``field`` is asked; with ``to_review``, on
    through the household's address, the house and the phone, to the review."""
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở, sửa chữa nhà ở")
    for text in HOUSING_ANSWERS:
        if chat.field == field:
            break
        await chat.say(text)
    if to_review:
        await address(chat, "household.residence")
        for text in ("1", "0", "Nhà gỗ", "Nứt tường, không ở được", "0912000222", "bỏ qua"):
            await chat.say(text)
    return await chat.expect(field)


async def address(chat: Chat, field: str, province: str = "Lâm Đồng", commune: str = "Đức Trọng",
                  detail: str = "Thôn 3") -> Chat:
    await chat.expect(field)
    await chat.say(province)
    await chat.expect(field)
    await chat.say(commune)
    await chat.expect(field)
    await chat.say(detail)
    return chat


async def submit(chat: Chat, runtime: Runtime, proc: str, prefix: str, due: str) -> dict:
    await chat.expect("_review")
    await chat.press("confirm")
    await chat.expect("_sworn")
    await chat.press("yes")
    code = chat.dossier
    assert code and code.startswith(prefix + "-")
    d, m, y = due.split("-")[2], due.split("-")[1], due.split("-")[0]
    assert f"{d}/{m}/{y}" in chat.text()
    await chat.expect("procedure")
    async with runtime.sm() as db:
        [dossier] = await DossierRepo(db).list(procedure_id=proc)
        data = dossier_to_dict(dossier)
    assert data["code"] == code and data["status"] == "submitted"
    assert data["agency"] == "commune"
    assert data["due_date"] == due
    s = await runtime.session(chat.user)
    assert proc not in s.drafts
    return data


def assert_ineligible(chat: Chat, *, reason: str, ref: str, instead: list[str]) -> None:
    assert chat.field == "_eligibility", chat.transcript[-4:]
    text = chat.text()
    assert "không thuộc diện" in text
    assert "Lý do:" in text and reason in text
    assert "Căn cứ:" in text and ref in text
    assert "Bạn có thể:" in text
    for part in instead:
        assert part in text, part
    values = {c.value for c in chat.ask.choices}  # "fix:<path>": another answer behind the stop
    assert {"fix", "menu", "cancel"} <= values and all(v.startswith("fix:") for v in values - {"fix", "menu", "cancel"})


# ------------------------------------------------------------------------------------------------
# Mẫu 01 — xác định, xác định lại mức độ khuyết tật
async def disability_person(chat: Chat, *, name: str, birth: str, sex: str, id_number: str) -> Chat:
    await chat.expect("person.full_name")
    await chat.say(name)
    await chat.expect("person.birth_date")
    await chat.say(birth)
    await chat.expect("person.sex")
    await chat.say(sex)
    await chat.expect("person.id_number")
    await chat.say(id_number)
    await address(chat, "person.residence")
    await chat.expect("person.same_place")
    await chat.say("có")
    return chat


async def answer_groups(chat: Chat, answers: list[str]) -> Chat:
    for field, text in zip(GROUPS, answers, strict=True):
        await chat.expect(field)
        await chat.say(text)
    return chat


async def test_disability_request_and_filer_said_in_own_words(chat: Chat):
    """“lần đầu” / “khám lại” say which request; “tôi là mẹ” is the legal representative (a parent)."""
    await open_procedure(chat, DISABILITY, "request.type", "Xác định, xác định lại mức độ khuyết tật")
    for said, value in (("lan dau", "xac_dinh"), ("khám lại", "xac_dinh_lai"), ("chưa có giấy", "xac_dinh"),
                        ("chua", "xac_dinh"), ("co roi", "xac_dinh_lai")):  # never had one; had one already
        await chat.expect("request.type")
        await chat.say(said)
        assert chat.error is None and (await chat.answers())["request.type"] == value, said
        await chat.say("quay lại")
    await chat.say("1")
    await chat.expect("filer.role")
    await chat.say("tôi là mẹ cháu")
    assert chat.error is None and (await chat.answers())["filer.role"] == "representative"


async def test_filing_for_oneself_said_in_own_words(chat: Chat):
    """“chinh toi”, “toi tu lam” at “Ai đang làm đơn?” were refused (the option had no other words); a relative
    or a parent is still told apart (“mẹ tôi”, “làm cho con”)."""
    await open_procedure(chat, DISABILITY, "request.type", "Xác định, xác định lại mức độ khuyết tật")
    await chat.say("1")
    for said, role in (("chinh toi", "self"), ("toi tu lam", "self"), ("cho toi", "self"), ("me toi", "helper"),
                       ("lam cho con", "representative"), ("tôi khai giúp", "helper")):
        await chat.expect("filer.role")
        await chat.say(said)
        assert chat.error is None and (await chat.answers())["filer.role"] == role, said
        await chat.say("quay lại")


async def test_a_household_filing_for_itself_in_own_words(chat: Chat):
    """“toi la chu ho”, “nha toi”, “tôi là vợ” at “Ai đang khai hồ sơ này?” are the household itself; typed a
    question early (at the occupation), it is kept for that question."""
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    await chat.say("toi la chu ho")  # the next question's answer, typed early: kept, the occupation asked again
    assert chat.error is None and "Đã ghi “Tôi là chủ hộ hoặc người trong hộ” cho câu “Ai đang khai" in chat.text()
    await chat.expect("household.occupation")
    await chat.say("nông nghiệp")
    await chat.say("2 triệu")
    await chat.expect("applicant.full_name")  # (“Ai đang khai”: answered already)
    assert (await chat.answers())["filer.role"] == "self"
    await chat.say("quay lại")
    for said in ("toi la chu ho", "nha toi", "tôi là vợ", "gia dinh toi"):
        await chat.expect("filer.role")
        await chat.say(said)
        assert chat.error is None and (await chat.answers())["filer.role"] == "self", said
        await chat.say("quay lại")
    await chat.say("khai giúp")
    assert (await chat.answers())["filer.role"] == "helper"


async def test_answers_typed_at_a_spelling_skip_a_question_answered_before(chat: Chat):
    """A mother filing for her son: her relation was taken from “tôi là mẹ cháu”, so after her name comes her ID
    number. Typed while her name's spelling waited, the ID number and “giong chau” (her address, the child's)
    were not used (“Chưa ghi”: the relation, answered, was taken as the next question), and “giong chau” was
    offered as her name: both answer the questions after, skipping the one answered; “giống cháu” is no name."""
    await open_procedure(chat, DISABILITY, "request.type", "Xác định, xác định lại mức độ khuyết tật")
    await chat.say("1")
    await chat.say("toi la me chau")
    await disability_person(chat, name="Nguyễn Văn Khoa", birth="05/06/2012", sex="nam", id_number="068212001234")
    await chat.expect("rep.full_name")
    await chat.say("tran thi hoa")
    await chat.say("068085001234")
    await chat.say("giong chau")
    assert chat.error and "“giong chau” sẽ được dùng cho câu hỏi sau đó" in chat.text()
    await chat.say("1")
    assert "Đã ghi các câu trả lời bạn gõ trước: “068085001234”, “giong chau”." in chat.text()
    await chat.expect("rep.same_place")
    a = await chat.answers()
    assert (a["rep.full_name"], a["rep.relation"], a["rep.id_number"]) == ("Trần Thị Hoa", "Mẹ", "068085001234")
    assert a["rep.residence"] == a["person.residence"]


async def test_disability_redetermination_adult_happy_path(chat: Chat, runtime: Runtime):
    await open_procedure(chat, DISABILITY, "request.type", "Xác định, xác định lại mức độ khuyết tật")
    assert "25 ngày làm việc" in chat.text()
    await chat.say("2")  # xác định lại
    await chat.expect("filer.role")
    await chat.say("1")  # the person files for themself
    await disability_person(chat, name="trần thị hoa", birth="12/04/1985", sex="nữ", id_number="068 185 001 234")
    await chat.expect("contact.phone")  # no representative: the person's own phone
    await chat.say("0912 345 678")
    await chat.expect("consent.health")  # health data: what, why and who sees it, asked before it is collected
    assert "Hội đồng xác định mức độ khuyết tật" in chat.text()
    await chat.say("đồng ý")
    # section III.1: several items of one group in one message
    await chat.expect("disability.motor")
    assert chat.ask.kind == "multi_choice" and chat.ask.multi
    assert len(chat.ask.choices) == 6
    assert chat.ask.choices[3].label == "Yếu, liệt, teo cơ hoặc hạn chế vận động tay, chân, lưng, cổ"
    await chat.say("1, 3, 4")
    await chat.expect("disability.hearing_speech")
    await chat.say("không")
    await chat.expect("disability.vision")
    assert len(chat.ask.choices) == 7
    await chat.say("2 và 7")
    for field in GROUPS[3:]:
        await chat.expect(field)
        await chat.say("không")
    # section III.2: the person is 41, so the ten activities are asked
    levels = ["2", "1", "1", "2", "2", "1", "1", "3", "1", "4"]
    for field, level in zip(ACTIVITIES, levels, strict=True):
        await chat.expect(field)
        assert [c.label for c in chat.ask.choices] == ["Thực hiện được", "Thực hiện được nhưng cần trợ giúp",
                                                         "Không thực hiện được", "Không xác định được"]
        await chat.say(level)
    # re-determination asks for the current certificate
    await chat.expect("docs.current_certificate")
    assert "Giấy xác nhận khuyết tật đang có" in chat.ask.text
    await chat.send_file(jpeg(1), "giay-xac-nhan-mat-truoc.jpg")
    await chat.send_file(jpeg(2), "giay-xac-nhan-mat-sau.jpg")  # two files: the maximum, question closes
    await chat.expect("docs.medical")
    assert chat.ask.optional
    await chat.send_file(pdf(), "benh-an.pdf")
    await chat.press("done")
    await chat.expect("_review")
    summary = chat.text()
    assert "Trần Thị Hoa" in summary
    assert "Thiếu chân hoặc không cử động được chân" in summary
    data = await submit(chat, runtime, DISABILITY, "XD", "2026-12-29")  # 25 working days after 23/11
    assert data["applicant_name"] == "Trần Thị Hoa"
    a = data["answers"]
    assert a["request.type"] == "xac_dinh_lai"
    assert a["filer.role"] == "self"
    assert a["person.full_name"] == "Trần Thị Hoa"
    assert a["person.birth_date"] == "1985-04-12"
    assert a["person.sex"] == "nu"
    assert a["person.id_number"] == "068185001234"
    assert a["person.residence"]["commune"].endswith("Đức Trọng")
    assert a["contact.phone"] == "0912345678"
    assert a["disability.motor"] == ["1.1", "1.3", "1.4"]
    assert a["disability.hearing_speech"] == []
    assert a["disability.vision"] == ["3.2", "3.7"]
    assert all(a[g] == [] for g in GROUPS[3:])
    assert a["activity.walking"] == "can_tro_giup"
    assert a["activity.eating"] == "thuc_hien_duoc"
    assert a["activity.housework"] == "khong_thuc_hien_duoc"
    assert a["activity.learning"] == "khong_xac_dinh_duoc"
    assert not any(k.startswith("rep.") or k.startswith("filer.full") for k in a)
    assert [(x["field"], x["mime"]) for x in data["attachments"]] == [
        ("docs.current_certificate", "image/jpeg"), ("docs.current_certificate", "image/jpeg"),
        ("docs.medical", "application/pdf")]
    assert all(runtime.attachments.exists(x["sha256"]) for x in data["attachments"])
    assert data["commune_code"] == a["person.residence"]["commune_code"]


async def test_disability_child_under_six_skips_activities(chat: Chat, runtime: Runtime):
    await open_procedure(chat, DISABILITY, "request.type", "Xác định, xác định lại mức độ khuyết tật")
    await chat.say("1")  # first determination
    await chat.expect("filer.role")
    await chat.say("2")  # the mother, legal representative
    await disability_person(chat, name="Phạm Minh Khôi", birth="10/03/2022", sex="nam",
                            id_number="068222001234")
    await chat.expect("rep.full_name")
    await chat.say("Phạm Thị Lan")
    await chat.expect("rep.relation")
    await chat.say("mẹ")
    await chat.expect("rep.id_number")
    await chat.say("068190004321")
    await address(chat, "rep.residence")
    await chat.expect("rep.same_place")
    await chat.say("không")
    await address(chat, "rep.current_address", province="Hà Nội", commune="Ba Đình", detail="Số 5 ngõ 12")
    await chat.expect("rep.phone")
    await chat.say("0987654321")
    # no separate contact question: the representative's phone is on the form
    await chat.expect("consent.health")
    await chat.press("yes")
    await answer_groups(chat, ["không", "1, 3", "không", "không", "2", "không"])
    # 4 years old: section III.2 is skipped; first determination: no current certificate asked
    await chat.expect("docs.medical")
    await chat.say("bỏ qua")
    await chat.expect("_review")
    data = await submit(chat, runtime, DISABILITY, "XD", "2026-12-29")
    a = data["answers"]
    assert data["applicant_name"] == "Phạm Minh Khôi"
    assert a["request.type"] == "xac_dinh"
    assert a["filer.role"] == "representative"
    assert a["rep.full_name"] == "Phạm Thị Lan" and a["rep.relation"] == "Mẹ"
    assert a["rep.id_number"] == "068190004321"
    assert a["rep.current_address"]["detail"] == "Số 5 ngõ 12"
    assert a["rep.phone"] == "0987654321"
    assert a["disability.hearing_speech"] == ["2.1", "2.3"]
    assert a["disability.intellectual"] == ["5.2"]
    assert not any(k.startswith("activity.") for k in a)
    assert "contact.phone" not in a
    assert "docs.current_certificate" not in a
    assert a["docs.medical"] is None
    assert data["attachments"] == []


async def test_disability_helper_keeps_both_people_and_no_sign_is_ineligible(chat: Chat):
    await open_procedure(chat, DISABILITY, "request.type", "Xác định, xác định lại mức độ khuyết tật")
    await chat.say("1")
    await chat.expect("filer.role")
    await chat.say("3")  # a volunteer files for an elderly neighbour
    await chat.expect("filer.full_name")
    await chat.say("Đỗ Văn Tâm")
    await chat.expect("filer.phone")
    await chat.say("0901234567")
    await chat.expect("filer.has_rep")
    await chat.say("không")
    await chat.expect("consent.subject")  # the neighbour's own consent, apart from the volunteer's
    await chat.say("gặp trực tiếp")
    await disability_person(chat, name="Lò Thị Xuân", birth="02/02/1950", sex="nữ", id_number="068150001234")
    await chat.expect("contact.phone")
    await chat.say("0388111222")
    await chat.expect("consent.health")
    await chat.press("yes")
    await answer_groups(chat, ["không"] * 6)
    assert_ineligible(chat, reason="Không có biểu hiện khuyết tật nào",
                      ref="Thông tư 01/2019/TT-BLĐTBXH",
                      instead=["đi khám", "Hội đồng giám định y khoa cấp tỉnh"])
    answers = await chat.answers()
    assert answers["filer.full_name"] == "Đỗ Văn Tâm" and answers["filer.phone"] == "0901234567"
    assert answers["person.full_name"] == "Lò Thị Xuân"
    # a wrong answer can be fixed: the last group is asked again, and the form goes on
    await chat.press("fix")
    await chat.expect("disability.other")
    await chat.say("3")
    await chat.expect("activity.walking")  # 76 years old: the activities are asked
    assert (await chat.answers())["disability.other"] == ["6.3"]


async def test_disability_group_answered_one_item_at_a_time(db_url, tmp_path, clock):
    """Mẫu 01 III.1: the items of a group can be typed as numbers in one message, or answered one by one
    (có/không), with back inside the list, a specific message for a wrong answer, and a restart in between."""
    rt = Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog())
    await rt.open()
    chat = await Chat(rt, "console:items").start()
    await open_procedure(chat, DISABILITY, "request.type", "Xác định, xác định lại mức độ khuyết tật")
    await chat.say("1")
    await chat.expect("filer.role")
    await chat.say("1")
    await disability_person(chat, name="Trần Văn Lực", birth="02/02/1980", sex="nam", id_number="068080001234")
    await chat.expect("contact.phone")
    await chat.say("0912345678")
    await chat.expect("consent.health")
    await chat.press("yes")
    await chat.expect("disability.motor")
    assert "từng mục" in chat.text()
    await chat.say("từng mục")
    assert chat.field == "disability.motor" and chat.ask.kind == "yes_no"
    assert "Mục 1/6: Mềm nhẽo hoặc co cứng toàn thân" in chat.text()
    await chat.say("không")
    assert "Mục 2/6: Thiếu tay hoặc không cử động được tay" in chat.text()
    await chat.press("yes")
    assert "Mục 3/6" in chat.text()
    await chat.say("quay lại")  # back to item 2: its answer is taken back
    assert "Mục 2/6" in chat.text()
    await chat.say("co")
    await chat.say("cái gì cơ")  # not a yes/no answer: a specific message and the same item
    assert chat.error is not None and "Mục 3/6" in chat.text()
    await chat.say("ko")
    assert "Mục 4/6" in chat.text()
    await rt.close()

    rt2 = Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog())
    await rt2.open()
    try:
        chat = await Chat(rt2, "console:items").start()  # the place inside the list survives a restart
        assert chat.field == "disability.motor" and "Mục 4/6" in chat.text()
        await chat.say("có")
        await chat.say("2")  # numbered choices: 2 = Không
        await chat.say("ừ")
        await chat.expect("disability.hearing_speech")
        assert (await chat.answers())["disability.motor"] == ["1.2", "1.4", "1.6"]
        # the next group typed as numbers in one message
        await chat.say("1, 3")
        await chat.expect("disability.vision")
        # one by one, then back from the first item returns to the whole list
        await chat.say("lan luot")
        assert "Mục 1/7" in chat.text()
        await chat.say("quay lại")
        assert chat.field == "disability.vision" and chat.ask.kind == "multi_choice"
        await chat.say("không")
        await chat.expect("disability.neuro_mental")
        answers = await chat.answers()
        assert answers["disability.hearing_speech"] == ["2.1", "2.3"] and answers["disability.vision"] == []
    finally:
        await rt2.close()


async def test_disability_helper_with_representative_asks_section_two(chat: Chat):
    await open_procedure(chat, DISABILITY, "request.type", "Xác định, xác định lại mức độ khuyết tật")
    await chat.say("1")
    await chat.say("3")
    await chat.say("Đỗ Văn Tâm")
    await chat.say("0901234567")
    await chat.expect("filer.has_rep")
    await chat.say("có")
    await chat.expect("consent.subject")
    await chat.say("2")  # the child's representative agreed by phone
    await disability_person(chat, name="Lò Văn Pó", birth="02/02/2015", sex="nam", id_number="068215001234")
    await chat.expect("rep.full_name")  # section II, then no separate contact question


async def test_disability_id_number_cross_checked(chat: Chat):
    await open_procedure(chat, DISABILITY, "request.type", "Xác định, xác định lại mức độ khuyết tật")
    await chat.say("1")
    await chat.say("1")
    await chat.say("Trần Thị Hoa")
    await chat.say("12/04/1985")
    await chat.say("nữ")
    await chat.expect("person.id_number")
    await chat.say("068090001234")  # birth year 1990, not 1985
    assert chat.error and "năm sinh" in chat.error.text
    await chat.expect("person.id_number")


# ------------------------------------------------------------------------------------------------
# Mẫu 06 — hỗ trợ làm nhà ở, sửa chữa nhà ở
async def test_housing_happy_path(chat: Chat, runtime: Runtime):
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở, sửa chữa nhà ở")
    assert "2 ngày làm việc" in chat.text()
    await chat.say("hộ cận nghèo")
    await chat.expect("house.damage")
    await chat.say("1")  # đổ, sập
    await chat.expect("house.cause")  # the law and the officer need the cause (NĐ 20/2021 Điều 15)
    await chat.say("thiên tai")
    await chat.expect("house.event_date")
    await chat.say("15/11/2026")
    await chat.expect("filer.role")
    await chat.say("1")  # the household itself
    await chat.expect("rep.full_name")
    await chat.say("lê văn tám")
    await chat.expect("rep.birth_date")
    await chat.say("20/10/1972")
    await chat.expect("rep.sex")
    await chat.say("nam")
    await chat.expect("rep.ethnicity")
    await chat.say("Tày")
    await chat.expect("rep.id_number")
    await chat.say("068072009876")
    await chat.expect("rep.id_issue_date")
    await chat.say("bỏ qua")
    await address(chat, "household.residence", detail="Thôn 7")
    await chat.expect("household.size")
    await chat.say("nhà có 5 khẩu")  # the count in a sentence, with the word households are counted in
    await chat.expect("household.working_age")
    await chat.say("7")  # more than the household
    assert chat.error and "không thể nhiều hơn số người trong hộ" in chat.error.text
    await chat.expect("household.working_age")
    await chat.say("2")
    await chat.expect("house.before")
    await chat.say("Nhà cấp 4 mái tôn, 5 người ở")
    await chat.expect("house.now")
    await chat.say("Nhà sập hoàn toàn, đang ở nhờ nhà em trai")
    await chat.expect("contact.phone")
    await chat.say("0912 000 111")
    await chat.expect("docs.photos")
    await chat.send_file(jpeg(5), "nha-sap-1.jpg")
    await chat.send_file(jpeg(6), "nha-sap-2.jpg")
    await chat.say("xong")
    await chat.expect("_review")
    assert "LÊ VĂN TÁM" in chat.text()
    data = await submit(chat, runtime, HOUSING, "HNO", "2026-11-26")  # 2 working days: Wed 25, Thu 26
    assert data["applicant_name"] == "LÊ VĂN TÁM"
    a = data["answers"]
    assert a["household.status"] == "ho_can_ngheo"
    assert a["house.damage"] == "do_sap" and a["house.cause"] == "thien_tai"
    assert a["house.event_date"] == "2026-11-15"
    assert a["rep.full_name"] == "LÊ VĂN TÁM"
    assert a["rep.birth_date"] == "1972-10-20"
    assert a["rep.ethnicity"] == "Tày"
    assert a["rep.id_number"] == "068072009876"
    assert a["rep.id_issue_date"] is None
    assert a["household.residence"]["detail"] == "Thôn 7"
    assert a["household.size"] == 5 and a["household.working_age"] == 2
    assert a["house.now"].startswith("Nhà sập")
    assert a["contact.phone"] == "0912000111"
    assert [x["field"] for x in data["attachments"]] == ["docs.photos", "docs.photos"]
    assert data["commune_code"] == a["household.residence"]["commune_code"]


async def test_housing_photos_are_optional(chat: Chat, runtime: Runtime):
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở, sửa chữa nhà ở")
    for text in ("hộ nghèo", "hư hỏng nặng", "hỏa hoạn", "20/11/2026", "1", "Hà Văn Sáu", "01/01/1960", "nam", "Kinh",
                 "068060001234", "bỏ qua"):
        await chat.say(text)
    await address(chat, "household.residence")
    for text in ("1", "0", "Nhà gỗ", "Nứt tường, không ở được", "0912000222"):
        await chat.say(text)
    await chat.expect("docs.photos")
    await chat.say("bỏ qua")
    data = await submit(chat, runtime, HOUSING, "HNO", "2026-11-26")
    assert data["answers"]["house.damage"] == "hu_hong_nang"
    assert data["answers"]["household.working_age"] == 0
    assert data["answers"]["docs.photos"] is None and data["attachments"] == []


async def test_an_id_number_typed_early_is_kept_for_its_question(chat: Chat, runtime: Runtime):
    """The 12 digits of the ID card typed at the ethnic group were “Vui lòng trả lời bằng chữ”, and typed again
    two questions on: the one question of the section still to come that takes them keeps them, said so."""
    await housing_until(chat, "rep.ethnicity")
    await chat.say("068060001234")
    assert not chat.error
    assert "Đã ghi “068060001234” cho câu “Số CCCD” (được hỏi ở sau), không cần gõ lại." in chat.text()
    await chat.expect("rep.ethnicity")  # the question asked stays
    await chat.say("Kinh")
    await chat.expect("rep.id_issue_date")  # the number is not asked again
    await chat.say("quay lại")
    await chat.expect("rep.id_number")  # back in the form's order: the number kept, there to be changed
    await chat.say("giữ nguyên")
    await chat.say("bỏ qua")
    await chat.expect("household.residence")
    await chat.say("thon 4 xa ky anh, ha tinh")  # all at once: what was read is said back
    assert "Đã ghi: Thôn 4, Xã Kỳ Anh, Tỉnh Hà Tĩnh." in chat.text()
    for text in ("1", "0", "Nhà gỗ", "Nứt tường, không ở được", "0912000222", "bỏ qua"):
        await chat.say(text)
    data = await submit(chat, runtime, HOUSING, "HNO", "2026-11-26")
    assert data["answers"]["rep.id_number"] == "068060001234" and data["answers"]["rep.ethnicity"] == "Kinh"


async def test_a_number_typed_early_is_not_kept_where_it_is_unclear_or_checked(chat: Chat):
    """Not kept: an ID number that does not fit the birth date given (it fits no question), a number the procedure
    checks against the register as it is given (the change report's beneficiary)."""
    await housing_until(chat, "rep.ethnicity")
    await chat.say("068072001234")  # born 1972 by the number
    assert chat.error and "Tên dân tộc không có chữ số" in chat.error.text
    await chat.expect("rep.ethnicity")
    assert "rep.id_number" not in await chat.answers()
    await chat.say("menu")
    await chat.say("hủy")
    await chat.press("bao-thay-doi-nhan-tro-cap")
    for _ in range(3):
        if chat.field == "beneficiary.full_name":
            break
        await chat.say("1")
    await chat.expect("beneficiary.full_name")
    await chat.say("068060001234")
    assert chat.error and "Đã ghi" not in chat.text()
    assert "beneficiary.id_number" not in await chat.answers()


async def test_how_the_person_agreed_in_everyday_words(chat: Chat):
    """“bà ngồi cạnh tôi, bà đồng ý rồi” at how the person filed for agreed was “Người đó đã đồng ý như thế nào?”:
    in person, said back; “gọi điện cho bà rồi” is by phone; “bà chưa đồng ý” is still the refusal."""
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở, sửa chữa nhà ở")
    for text in ("hộ nghèo", "hư hỏng nặng", "hỏa hoạn", "20/11/2026", "2", "Đỗ Văn Tâm", "0901234567"):
        await chat.say(text)
    await chat.expect("consent.subject")
    await chat.say("bà chưa đồng ý")
    assert "chưa thể nhận hồ sơ" in chat.text()
    await chat.expect("consent.subject")
    await chat.say("ba ngoi canh toi, ba dong y roi")
    assert "Đã ghi: Người đó đã đồng ý khi gặp trực tiếp." in chat.text()
    assert (await chat.answers())["consent.subject"]["how"] == "in_person"
    await chat.say("quay lại")
    await chat.expect("consent.subject")
    await chat.say("gọi điện cho bà rồi, bà đồng ý")
    assert (await chat.answers())["consent.subject"]["how"] == "phone"
    await chat.say("quay lại")
    await chat.say("tôi gọi điện rồi nhưng bà không đồng ý")  # a refusal, whatever else is said
    assert "chưa thể nhận hồ sơ" in chat.text()
    await chat.expect("consent.subject")
    assert "consent.subject" not in await chat.answers()  # (a consent given before and withdrawn is not kept)


async def test_an_answer_named_at_the_review_is_asked_again(chat: Chat, runtime: Runtime):
    """“sửa số điện thoại” at “Thông tin đã đúng chưa?” was “Vui lòng chọn một trong các lựa chọn”: the answer named
    is asked again; “ngày sinh sai rồi” too; “sai rồi” alone opens the parts to edit."""
    await housing_until(chat, "_review", to_review=True)
    await chat.say("sửa số điện thoại")
    await chat.expect("contact.phone")
    await chat.say("0912000333")
    await chat.expect("_review")
    await chat.say("ngay sinh sai roi")
    await chat.expect("rep.birth_date")
    await chat.say("giữ nguyên")
    await chat.expect("_review")
    await chat.say("sai rồi")
    await chat.expect("_edit_section")
    assert (await chat.answers())["contact.phone"] == "0912000333"
    await chat.say("quay lại")
    await chat.expect("_review")
    await chat.say("xem lại thông tin")  # the summary again (scrolled away on a small phone), not “Vui lòng chọn”
    assert not chat.error and "Xin kiểm tra lại thông tin đã khai" in chat.text()
    await chat.expect("_review")


async def test_an_option_read_from_a_sentence_is_said_back(chat: Chat):
    """“tại bị bão số 3 quét qua” at the cause is “Thiên tai”, read from its other words: said back, so that a
    misreading is seen at once; a short word of the option (“bão”), its label or its number are not."""
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở, sửa chữa nhà ở")
    await chat.say("hộ nghèo")
    await chat.say("1")
    await chat.expect("house.cause")
    await chat.say("tại bị bão số 3 quét qua")
    assert "Đã ghi: Thiên tai (bão, lũ, lụt, sạt lở, lốc…)." in chat.text()
    await chat.say("quay lại")
    await chat.say("bão")
    assert "Đã ghi" not in chat.text()
    await chat.expect("house.event_date")


async def test_housing_not_poor_is_ineligible(chat: Chat):
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở, sửa chữa nhà ở")
    await chat.say("4")  # không thuộc các diện trên
    await chat.expect("house.damage")
    await chat.say("1")  # đổ, sập
    assert_ineligible(chat, reason="hộ nghèo, hộ cận nghèo", ref="Nghị định 20/2021/NĐ-CP, Điều 15",
                      instead=["Điều 12", "Mặt trận Tổ quốc"])
    assert "rep.full_name" not in await chat.answers()  # stopped before any personal detail


async def test_housing_urgent_relocation_does_not_need_a_poor_household(chat: Chat):
    """NĐ 20/2021 Điều 15 khoản 2: a household relocated urgently by decision, whatever its means."""
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở, sửa chữa nhà ở")
    await chat.say("4")
    await chat.expect("house.damage")
    await chat.say("phải di dời")
    await chat.expect("house.cause")
    await chat.say("thiên tai")
    await chat.expect("house.event_date")


async def test_housing_a_fallen_roof_is_heavy_damage_not_a_collapse(chat: Chat):
    """“nhà tôi thuê bị bão làm sập mái” was “trợ lý chưa hỗ trợ dịch vụ này” (“thuê” read as “thuế”), and “sập mái”
    was filed “Đổ, sập”, the whole house fallen: the question's own help names a fallen roof as “Hư hỏng nặng,
    không ở được”, and so do its words now, also said with “không ở được”."""
    await chat.say("nha toi thue bi bao lam sap mai, xin ho tro")
    await chat.expect("household.status")
    assert "• Tình trạng thiệt hại về nhà ở: Hư hỏng nặng, không ở được (câu hỏi sau)" in chat.text()
    await chat.say("ho ngheo")
    await chat.expect("house.event_date")
    await chat.say("quay lại")
    await chat.say("quay lại")
    await chat.expect("house.damage")
    await chat.say("sap mai, khong o duoc")  # (two options' words: the one holding the other's)
    assert (await chat.answers())["house.damage"] == "hu_hong_nang"


async def test_housing_worn_out_house_is_not_emergency_support(chat: Chat):
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở, sửa chữa nhà ở")
    await chat.say("1")
    await chat.say("1")
    await chat.expect("house.cause")
    await chat.say("4")  # nhà cũ, xuống cấp
    assert_ineligible(chat, reason="xuống cấp", ref="Nghị định 20/2021/NĐ-CP, Điều 15",
                      instead=["nhà tạm, nhà dột nát"])


@pytest.mark.parametrize("damage,value", [("6", "hu_hong_nhe"), ("7", "khac")])
async def test_housing_minor_or_other_damage_is_ineligible(chat: Chat, damage: str, value: str):
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở, sửa chữa nhà ở")
    await chat.say("1")
    await chat.expect("house.damage")
    await chat.say(damage)
    assert_ineligible(chat, reason="hư hỏng nặng không ở được", ref="Nghị định 20/2021/NĐ-CP, Điều 15",
                      instead=["hỗ trợ sửa chữa", "Mặt trận Tổ quốc", "Điều 12"])
    assert (await chat.answers())["house.damage"] == value
    await chat.press("fix")
    await chat.expect("house.damage")
    await chat.say("phải di dời")
    await chat.expect("house.cause")


# ------------------------------------------------------------------------------------------------
# Mẫu 1 — hộ làm nông, lâm, ngư, diêm nghiệp có mức sống trung bình
async def average_applicant(chat: Chat) -> Chat:
    await chat.expect("filer.role")
    await chat.say("1")  # the household itself
    await chat.expect("applicant.full_name")
    await chat.say("Nguyễn Văn Bình")
    await chat.expect("applicant.birth_date")  # (in the order of the ID card, as a member's)
    await chat.say("01/02/1975")
    await chat.expect("applicant.sex")
    await chat.say("nam")
    await chat.expect("applicant.ethnicity")
    await chat.say("Kinh")
    await chat.expect("applicant.id_number")
    await chat.say("068075001234")
    await chat.expect("applicant.phone")
    await chat.say("0912345678")
    return chat


async def member(chat: Chat, k: int, name: str, birth: str, sex: str, relation: str, id_number: str,
                 more: bool | None) -> Chat:
    """One item of the `members` repeat group; ``more`` answers “another member?” (None: not asked)."""
    i = k - 1
    await chat.expect(f"members[{i}].full_name")
    assert f"[Thành viên {k}]" in chat.ask.text
    await chat.say(name)
    await chat.expect(f"members[{i}].birth_date")
    await chat.say(birth)
    await chat.expect(f"members[{i}].sex")
    await chat.say(sex)
    await chat.expect(f"members[{i}].relation")
    await chat.say(relation)
    await chat.expect(f"members[{i}].id_number")
    await chat.say(id_number)
    if more is not None:
        await chat.expect(f"members[{i}]._more")
        await chat.say("có" if more else "không")
    return chat


async def test_average_household_happy_path(chat: Chat, runtime: Runtime):
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    await chat.say("nha toi di bien")  # everyday words, not the label “Ngư nghiệp” (``also:`` of the choice)
    await chat.expect("household.income_per_person")
    await chat.say("2")  # “2” for 2 triệu (or out of habit after a numbered question): never filed as 2 đồng
    assert chat.error and "Số tiền 2 đồng quá nhỏ" in chat.error.text and "“2 triệu”" in chat.error.text
    await chat.expect("household.income_per_person")
    await chat.say("96 trieu mot nam")  # the household's year: the question asks per person and month
    assert chat.error and "chia cho 12" in chat.error.text
    await chat.expect("household.income_per_person")
    await chat.say("1,8 triệu một tháng")  # as the question asks it
    await average_applicant(chat)
    await address(chat, "applicant.residence")
    await chat.expect("applicant.same_place")
    await chat.say("không")
    await address(chat, "applicant.current_address", province="Khánh Hòa", commune="Nha Trang", detail="Tổ 4")
    # living in a ward: the urban poverty line (2.000.000 đ) is above 1.800.000 đ, so the commune is told
    await chat.expect("band.poor_note")
    await chat.press("yes")
    await head_is_member_1(chat)
    await member(chat, 2, "Lê Thị Hồng", "03/04/1978", "nữ", "vợ hoặc chồng", "bỏ qua", more=True)
    await chat.expect("members[2].full_name")
    await chat.say("Nguyễn Văn Cường")
    await chat.say("05/06/2012")
    await chat.say("nam")
    await chat.say("con")
    await chat.expect("members[2].id_number")
    await chat.say("068090001234")  # birth year 1990 against 2012: cross-checked within the same member
    assert chat.error and "năm sinh" in chat.error.text
    await chat.say("068212001234")
    await chat.expect("members[2]._more")
    await chat.say("không")
    await chat.expect("_review")  # three members: no fourth is asked
    assert "Thành viên 3" in chat.text()
    data = await submit(chat, runtime, AVERAGE, "MS", "2026-12-08")  # 10 working days
    assert data["applicant_name"] == "Nguyễn Văn Bình"
    a = data["answers"]
    assert a["household.occupation"] == "ngu_nghiep"
    assert a["household.income_per_person"] == 1800000
    assert a["applicant.sex"] == "nam" and a["applicant.birth_date"] == "1975-02-01"
    assert a["applicant.id_number"] == "068075001234" and a["applicant.phone"] == "0912345678"
    assert a["applicant.same_place"] is False
    assert a["applicant.current_address"]["detail"] == "Tổ 4"
    assert a["members[0].relation"] == "chu_ho" and a["members[0].full_name"] == "Nguyễn Văn Bình"
    assert a["members[1].relation"] == "vo_chong" and a["members[1].sex"] == "nu"
    assert a["members[1].id_number"] is None
    assert a["members[2].relation"] == "con" and a["members[2].birth_date"] == "2012-06-05"
    assert a["members[2].id_number"] == "068212001234"
    assert not any(k.startswith("members[3]") for k in a)
    assert data["attachments"] == []


async def average_until_residence(chat: Chat) -> Chat:
    """A farming household with an income inside the band, its head described: the residence asked."""
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    await chat.say("nông nghiệp")
    await chat.say("2 triệu")
    await average_applicant(chat)
    await chat.expect("applicant.residence")
    return chat


async def test_as_above_where_no_address_was_given_says_so(chat: Chat):
    """“như trên” at the first address of a dossier was “Không tìm thấy tỉnh/thành “nhu tren””: nothing above to
    take, said so, and the province asked again."""
    await average_until_residence(chat)
    first = chat.field
    await chat.say("nhu tren")
    assert chat.error is not None and "chưa có địa chỉ nào ở trên để dùng lại" in chat.error.text
    await chat.expect(first)


async def average_until_members(chat: Chat) -> Chat:
    """A farming household with an income inside the band, living where it is registered."""
    await average_until_residence(chat)
    await address(chat, "applicant.residence")
    await chat.say("có")
    return chat


async def head_is_member_1(chat: Chat) -> None:
    """Member 1 is the head of household, described above: filled from those answers (``first_from``), never
    asked; “another member?” comes at once."""
    await chat.expect("members[0]._more")
    assert "Thành viên 1: đã điền từ thông tin khai ở trên" in chat.text()
    a = await chat.answers()
    assert (a["members[0].full_name"], a["members[0].birth_date"], a["members[0].sex"], a["members[0].relation"],
            a["members[0].id_number"]) == ("Nguyễn Văn Bình", "1975-02-01", "nam", "chu_ho", "068075001234")
    await chat.say("có")


async def test_average_household_members_related_in_own_words(chat: Chat):
    """“vợ ông” is the spouse; a daughter-in-law or a brother is no child or parent of the head: “Quan hệ khác”,
    with what they are kept from the same words and written on Mẫu 1 (“con dâu” had been filed as “Con”)."""
    await average_until_members(chat)
    await head_is_member_1(chat)
    for k, (name, sex, said) in enumerate((("Trần Thị Lan", "nữ", "vo ong"), ("Phạm Thị Thu", "nữ", "con dau"),
                                           ("Nguyễn Văn Tư", "nam", "la em trai ong")), start=2):
        await chat.expect(f"members[{k - 1}].full_name")
        await chat.say(name)
        await chat.say("02/03/1980")
        await chat.say(sex)
        await chat.expect(f"members[{k - 1}].relation")
        await chat.say(said)
        await chat.expect(f"members[{k - 1}].id_number")
        await chat.say("bỏ qua")
        await chat.say("có" if k < 4 else "không")
    await chat.expect("_review")
    a = await chat.answers()
    assert [a[f"members[{i}].relation"] for i in (1, 2, 3)] == ["vo_chong", "khac", "khac"]
    assert [a.get(f"members[{i}].relation_other") for i in (1, 2, 3)] == [None, "Con dâu", "Em trai"]
    text = render_text(AVERAGE, a)
    assert "Con dâu" in text and "Vợ hoặc chồng" in text


async def test_average_household_size_said_at_another_member(chat: Chat):
    """“4 nguoi” at “Hộ còn thành viên nào khác không?” was “Vui lòng trả lời Có hoặc Không”: a count above the
    members given so far, or “còn … nữa”, is a yes, said back; “1 người” (the head given, or one more?) is asked
    again."""
    await average_until_members(chat)
    await chat.expect("members[0]._more")
    await chat.say("1 người")
    assert chat.error is not None and "Đã khai 1 thành viên. Nếu còn thành viên khác, chọn “Có”" in chat.error.text
    await chat.expect("members[0]._more")
    await chat.say("nha co 4 nguoi")
    assert "Đã ghi: Có." in chat.text()
    await chat.expect("members[1].full_name")
    await chat.say("Trần Thị Lan")
    await chat.say("02/03/1980")
    await chat.say("nữ")
    await chat.say("vợ")
    await chat.say("bỏ qua")
    await chat.expect("members[1]._more")
    await chat.say("con 2 nguoi nua")
    await chat.expect("members[2].full_name")
    assert (await chat.answers())["members[1]._more"] is True


async def test_the_next_member_named_at_another_member_is_a_yes(chat: Chat):
    """“vo toi”, “con gai” at “Hộ còn thành viên nào khác không?” were “Vui lòng trả lời Có hoặc Không”: naming
    the next one is a yes; what the words say of that one alone (“con gái”: a daughter) is kept for the new
    member's questions, said with the yes; “vợ tôi” (whose wife: the head's or a son's?) and several people keep
    nothing; “chỉ có vậy thôi” is a no, naming no “chị”."""
    await average_until_members(chat)
    await chat.expect("members[0]._more")
    await chat.say("vo toi")
    assert "Đã ghi: Có." in chat.text()
    await chat.expect("members[1].full_name")
    assert "members[1].relation" not in await chat.answers()
    await chat.say("Trần Thị Lan")
    await chat.say("02/03/1980")
    await chat.say("nữ")
    await chat.say("vợ")
    await chat.say("bỏ qua")
    await chat.expect("members[1]._more")
    await chat.say("con gai")
    assert "Đã ghi: Có. Thành viên 3 — Giới tính: Nữ; Quan hệ với chủ hộ: Con (không cần gõ lại)." in chat.text()
    await chat.expect("members[2].full_name")
    await chat.say("Nguyễn Thị Mai")
    await chat.say("02/03/2005")
    await chat.expect("members[2].id_number")  # (the sex and the relation: given)
    await chat.say("bỏ qua")
    await chat.expect("members[2]._more")
    await chat.say("con vo va 2 con nua")  # several: a yes, nothing kept
    await chat.expect("members[3].full_name")
    a = await chat.answers()
    assert (a["members[2].sex"], a["members[2].relation"]) == ("nu", "con")
    assert "members[3].relation" not in a and "members[3].sex" not in a
    for text in ("Lê Văn Tám", "02/03/2008", "nam", "con trai", "bỏ qua"):
        await chat.say(text)
    await chat.expect("members[3]._more")
    await chat.say("chi co vay thoi")  # all are given (no “chị”)
    await chat.expect("_review")


async def test_average_household_member_added_and_taken_out_at_the_review(chat: Chat):
    """At the review a household had no way to list a member forgotten, nor to take out one listed by mistake
    (only each answer could be edited): “Thêm thành viên” asks a new member's questions, then the review again;
    “Xóa thành viên 2 khỏi hồ sơ”, once confirmed, moves the members after it up. The head, member 1, copied from
    above, is never offered to be taken out."""
    await average_until_members(chat)
    await head_is_member_1(chat)
    for name, said in (("Trần Thị Lan", "vợ"), ("Lê Văn Minh", "con trai")):
        await chat.say(name)
        await chat.say("02/03/1980")
        await chat.say("nữ" if said == "vợ" else "nam")
        await chat.say(said)
        await chat.say("bỏ qua")
        await chat.say("có" if said == "vợ" else "không")
    await chat.expect("_review")
    await chat.press("edit")
    assert [c.value for c in chat.ask.choices][-4:] == ["members[0]", "members[1]", "members[2]", "+members"]
    await chat.press("members[0]")
    assert not any(c.value.startswith("-") for c in chat.ask.choices)  # the head
    await chat.say("quay lại")
    await chat.press("+members")
    await chat.expect("members[3].full_name")
    await chat.say("Lê Thị Na")
    await chat.say("12/08/2021")
    await chat.say("nữ")
    await chat.say("cháu nội")
    await chat.say("bỏ qua")
    await chat.say("không")
    await chat.expect("_review")
    await chat.press("edit")
    await chat.press("members[1]")
    await chat.press("-members[1]")
    assert "Xóa thành viên 2 (Trần Thị Lan) khỏi hồ sơ?" in chat.ask.text
    await chat.say("không xóa")
    await chat.expect("_review")
    assert (await chat.answers())["members[1].full_name"] == "Trần Thị Lan"
    await chat.press("edit")
    await chat.press("members[1]")
    await chat.press("-members[1]")
    await chat.say("xóa")
    assert "Đã xóa thành viên 2 (Trần Thị Lan) khỏi hồ sơ." in chat.text()
    await chat.expect("_review")
    a = await chat.answers()
    assert [a.get(f"members[{i}].full_name") for i in range(4)] == ["Nguyễn Văn Bình", "Lê Văn Minh", "Lê Thị Na",
                                                                    None]
    assert (a["members[0]._more"], a["members[1]._more"], a["members[2]._more"]) == (True, True, False)
    assert a["members[2].relation"] == "chau" and "members[3].relation" not in a


async def test_average_household_back_and_edit_inside_the_repeat_group(chat: Chat):
    await average_until_members(chat)
    await head_is_member_1(chat)
    await chat.expect("members[1].full_name")
    await chat.say("quay lại")  # back to “another member?”
    await chat.expect("members[0]._more")
    await chat.say("không")  # only one member after all
    await chat.expect("_review")
    await chat.press("edit")
    await chat.expect("_edit_section")
    assert any(c.value == "members[0]" for c in chat.ask.choices)
    # the head's name corrected: member 1, a copy of it, follows
    await chat.press("applicant")
    await chat.expect("_edit_field")
    await chat.press("applicant.full_name")
    await chat.say("Nguyễn Văn Bính")
    await chat.expect("_review")
    assert (await chat.answers())["members[0].full_name"] == "Nguyễn Văn Bính"


async def test_average_household_one_head_and_distinct_id_numbers(chat: Chat):
    await average_until_members(chat)
    await head_is_member_1(chat)
    await chat.expect("members[1].full_name")
    await chat.say("Nguyễn Văn Bảo")  # a twin brother: same birth date, so the ID check alone cannot tell
    await chat.say("01/02/1975")
    await chat.say("nam")
    await chat.expect("members[1].relation")
    await chat.say("chủ hộ")  # a second head of household
    assert chat.error and "chỉ có một chủ hộ" in chat.error.text
    await chat.expect("members[1].relation")
    await chat.say("quan hệ khác")
    await chat.expect("members[1].relation_other")  # which: written on Mẫu 1
    await chat.say("em trai sinh đôi")
    await chat.expect("members[1].id_number")
    await chat.say("068075001234")  # the head's number again
    assert chat.error and "thành viên khác" in chat.error.text
    await chat.expect("members[1].id_number")
    await chat.say("068075009999")
    await chat.expect("members[1]._more")
    a = await chat.answers()
    assert a["members[1].relation"] == "khac" and a["members[1].id_number"] == "068075009999"
    assert a["members[0].full_name"] == "Nguyễn Văn Bình"  # nothing answered before was lost


async def test_average_household_band_edges(chat: Chat):
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    await chat.say("1")
    await chat.expect("household.income_per_person")
    await chat.say("99999999999999999999999 đồng")  # a slip (the question sets no maximum): asked again
    assert chat.error and "Số tiền quá lớn" in chat.error.text
    await chat.expect("household.income_per_person")
    await chat.say("2.250.000")  # the top of the rural band is still in it
    await chat.expect("filer.role")
    await chat.say("quay lại")
    await chat.expect("household.income_per_person")
    await chat.say("1.500.001")  # just above the poverty line
    await chat.expect("filer.role")


async def test_average_household_income_from_a_head_count_and_not_from_an_id_number(chat: Chat):
    """The farmer says how many they are, then the household's total with it; an ID number typed a question early
    is asked again, not filed as a billion đồng a month per person."""
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    await chat.say("trong lua")
    for said, named in (("001075012345", "giống số căn cước"), ("nam nguoi", "kèm số người")):
        await chat.say(said)
        await chat.expect("household.income_per_person")
        assert chat.error is not None and named in chat.error.text, said
    await chat.say("ca nha nam nguoi khoang 8 trieu")
    await chat.expect("filer.role")
    assert (await chat.answers())["household.income_per_person"] == 1_600_000


async def test_a_helper_gives_own_number_for_a_household_with_no_phone(chat: Chat):
    """A neighbour files for an old man without a phone: “ông không có điện thoại, lấy số của tôi” takes the
    neighbour's number given above, said back; without a number above to take, where to find one is said."""
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    for said in ("lam ruong", "2 trieu ruoi", "toi lam giup ong hang xom", "Lê Văn Tâm", "0987 654 321"):
        await chat.say(said)
    await chat.expect("consent.subject")
    await chat.say("1")
    for said in ("Nguyễn Văn Hải", "01/01/1950", "nam", "Kinh", "036050001234"):
        await chat.say(said)
    await chat.expect("applicant.phone")
    await chat.say("ong khong co dien thoai")
    await chat.expect("applicant.phone")
    assert chat.error is not None and "số của người thân hoặc hàng xóm" in chat.error.text
    await chat.say("ong ko co dt, lay so cua toi")
    await chat.expect("applicant.residence")
    assert "Đã ghi: 0987654321." in chat.text()
    assert (await chat.answers())["applicant.phone"] == "0987654321"


async def test_an_old_commune_typed_with_its_old_district_is_todays(chat: Chat):
    """“thon 2 xa kien thanh, luc ngan, bac giang”, as the old household book says it, was filed in Xã Lục Ngạn:
    the commune is today's Xã Kiên Lao, said so, and the hamlet kept."""
    await average_until_residence(chat)
    await chat.say("thon 2 xa kien thanh, luc ngan, bac giang")
    await chat.expect("applicant.same_place")
    assert "nay thuộc Xã Kiên Lao, Tỉnh Bắc Ninh" in chat.text()
    residence = (await chat.answers())["applicant.residence"]
    assert (residence["commune"], residence["province"], residence["detail"]) == \
        ("Xã Kiên Lao", "Tỉnh Bắc Ninh", "Thôn 2")


async def test_a_commune_two_old_ones_were_named_after_is_asked(chat: Chat):
    """Thanh Hóa had two xã Quảng Phú: the city's is Phường Quảng Phú today, Thọ Xuân's is in Xã Xuân Tín. “xa quang
    phu” was filed as the ward without a question; the two are offered with their old districts, whole address or
    commune alone. Typed as today's ward, “phường Quảng Phú”, it is taken."""
    await average_until_residence(chat)
    await chat.say("thon 4, xa quang phu, thanh hoa")
    await chat.expect("applicant.residence")
    assert "có hơn một xã/phường tên này" in chat.text()
    assert [c.label for c in chat.ask.choices] == ["Phường Quảng Phú (trước đây thuộc thành phố Thanh Hóa)",
                                                   "Xã Xuân Tín (trước đây thuộc huyện Thọ Xuân)"]
    await chat.say("2")
    await chat.expect("applicant.same_place")
    residence = (await chat.answers())["applicant.residence"]
    assert (residence["commune"], residence["detail"]) == ("Xã Xuân Tín", "Thôn 4")
    await chat.say("quay lại")
    await chat.say("Thanh Hóa")
    await chat.say("xa quang phu")  # the commune alone: the same two
    assert len(chat.ask.choices) == 2 and chat.error is not None
    await chat.say("phường Quảng Phú")  # today's name, as today's type: taken
    await chat.expect("applicant.residence")  # (the house's part, asked)
    await chat.say("Thôn 4")
    await chat.expect("applicant.same_place")
    assert (await chat.answers())["applicant.residence"]["commune"] == "Phường Quảng Phú"


async def test_average_household_other_occupation_is_ineligible(chat: Chat):
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    await chat.say("5")  # nghề khác
    assert_ineligible(chat, reason="nông nghiệp, lâm nghiệp, ngư nghiệp hoặc diêm nghiệp",
                      ref="Luật Bảo hiểm y tế", instead=["bảo hiểm y tế theo hộ gia đình"])


async def test_average_household_income_above_band_is_filed_and_flagged(chat: Chat):
    """The band is unverified and the commune decides: above it the citizen is told and may still file
    (the note's answer flags the dossier for the commune's check); no door is closed."""
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    await chat.say("nông nghiệp")
    await chat.say("2,3 triệu")
    await average_applicant(chat)
    await address(chat, "applicant.residence")  # Xã Đức Trọng: the rural band
    await chat.say("có")
    await chat.expect("band.above_note")
    assert "2.250.000 đ" in chat.ask.text and "3.000.000 đ" in chat.ask.text and "vẫn có thể nộp" in chat.ask.text
    await chat.say("con gai")  # a notice, read by typing on: the words answer “another member?” after member 1
    assert "Đã ghi: Có. Thành viên 2 — Giới tính: Nữ; Quan hệ với chủ hộ: Con" in chat.text()
    await chat.expect("members[1].full_name")  # (member 1, the head, filled from above)
    assert (await chat.answers())["band.above_note"] is True


async def test_average_household_in_a_ward_is_judged_on_the_urban_band(chat: Chat):
    await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
    await chat.say("nông nghiệp")
    await chat.say("2,3 triệu")  # above the rural band, inside the urban one
    await average_applicant(chat)
    await address(chat, "applicant.residence", province="Khánh Hòa", commune="Nha Trang", detail="Tổ 4")
    assert (await chat.answers())["applicant.residence"]["commune"].startswith("Phường")
    await chat.say("có")
    await chat.expect("members[0]._more")  # no note


@pytest.mark.parametrize("today, noted", [
    (datetime(2026, 12, 31, 9, 0), True),   # the standard extended to the end of 2026
    (datetime(2027, 1, 4, 9, 0), True),     # after it: the latest recorded one still only raises a note
])
async def test_average_household_poverty_line_note_either_side_of_the_standard_end(db_url, tmp_path, today, noted):
    rt = Runtime(db_url, var_dir=tmp_path / "var", now=lambda: today)
    await rt.open()
    try:
        chat = await Chat(rt, "console:band").start()
        await open_procedure(chat, AVERAGE, "household.occupation", "mức sống trung bình")
        await chat.say("lâm nghiệp")
        await chat.say("1.500.000")
        await average_applicant(chat)
        await address(chat, "applicant.residence")
        await chat.say("có")
        await chat.expect("band.poor_note")
        assert "1.500.000 đ" in chat.ask.text and "hộ nghèo hoặc hộ cận nghèo" in chat.ask.text
        await chat.press("yes")
        await chat.expect("members[0]._more")
    finally:
        await rt.close()

# ------------------------------------------------------------------------------------------------
# Mẫu 14 — đăng ký hoạt động cơ sở trợ giúp xã hội dưới 10 đối tượng
CONDITIONS = ["conditions.civil_capacity", "conditions.no_criminal_record", "conditions.has_worker",
              "conditions.basic_facilities"]


async def test_facility_filer_said_in_own_words(chat: Chat):
    """Who is filing, said as people say it: “tôi là tình nguyện viên” is the helper (it matched nothing: both
    options open with “Tôi”), “tôi là giám đốc” the facility itself."""
    await open_procedure(chat, FACILITY, "conditions.civil_capacity", "Đăng ký hoạt động cơ sở trợ giúp xã hội")
    for field in CONDITIONS:
        await chat.expect(field)
        await chat.say("có")
    for said, role in (("tôi là tình nguyện viên", "helper"), ("toi la giam doc", "self"), ("khai ho", "helper")):
        await chat.expect("filer.role")
        await chat.say(said)
        assert chat.error is None and (await chat.answers())["filer.role"] == role, said
        await chat.say("quay lại")


async def test_facility_happy_path(chat: Chat, runtime: Runtime):
    await open_procedure(chat, FACILITY, "conditions.civil_capacity", "Đăng ký hoạt động cơ sở trợ giúp xã hội")
    assert "10 ngày làm việc" in chat.text()
    for field in CONDITIONS:  # the conditions are asked first
        await chat.expect(field)
        await chat.say("có")
    await chat.expect("filer.role")
    await chat.say("1")  # the facility itself
    await chat.expect("facility.name")
    await chat.say("Mái ấm Tình Thương")
    await chat.expect("facility.address")
    await chat.say("xa duc trong, lam dong")
    await chat.expect("facility.address")
    await chat.say("Số 12 đường Lê Lợi")
    await chat.expect("facility.phone")
    await chat.say("0977 833 181")
    await chat.expect("facility.type")
    await chat.say("1")
    await chat.expect("facility.functions")
    await chat.say("1, 3")
    await chat.expect("registration.served")
    await chat.say("không")  # at least one group must be chosen
    assert chat.error
    await chat.say("1, 3")
    await chat.expect("registration.scale")
    await chat.say("12")
    assert chat.error and "dưới 10 đối tượng" in chat.error.text and "giấy phép" in chat.error.text
    await chat.expect("registration.scale")
    await chat.say("8")
    await chat.expect("registration.area")
    await chat.say("Xã Đức Trọng")
    await chat.expect("registration.tasks")
    await chat.say("Nuôi dưỡng, chăm sóc hằng ngày; tư vấn tâm lý")
    await chat.expect("head.full_name")
    await chat.say("Phạm Hữu Thanh")
    await chat.expect("head.id_number")
    await chat.say("030080001234")
    await chat.expect("docs.criminal_records")
    await chat.send_file(pdf(), "lltp-thanh.pdf")
    await chat.send_file(jpeg(7), "lltp-nhan-vien.jpg")
    await chat.press("done")
    await chat.expect("docs.id_copies")
    await chat.send_file(jpeg(8), "cccd-thanh.jpg")
    await chat.send_file(jpeg(9), "cccd-nhan-vien.jpg")
    await chat.say("xong")
    await chat.expect("_review")
    assert "Mái ấm Tình Thương" in chat.text()
    assert "Chúng tôi cam kết" in (await chat.press("confirm")).ask.text
    await chat.press("no")  # back to the review, then submit through the helper
    data = await submit(chat, runtime, FACILITY, "CS", "2026-12-08")  # 10 working days
    assert data["applicant_name"] == "Mái ấm Tình Thương"
    a = data["answers"]
    assert all(a[c] is True for c in CONDITIONS)
    assert a["facility.address"]["commune"].endswith("Đức Trọng")
    assert a["facility.address"]["detail"] == "Số 12 đường Lê Lợi"
    assert a["facility.phone"] == "0977833181"
    assert a["facility.type"] == "nguoi_cao_tuoi"
    assert a["facility.functions"] == ["nuoi_duong", "tu_van"]
    assert a["registration.served"] == ["nguoi_cao_tuoi", "nguoi_khuyet_tat"]
    assert a["registration.scale"] == 8
    assert a["head.full_name"] == "Phạm Hữu Thanh" and a["head.id_number"] == "030080001234"
    assert [(x["field"], x["mime"]) for x in data["attachments"]] == [
        ("docs.criminal_records", "application/pdf"), ("docs.criminal_records", "image/jpeg"),
        ("docs.id_copies", "image/jpeg"), ("docs.id_copies", "image/jpeg")]
    assert data["commune_code"] == a["facility.address"]["commune_code"]


async def test_facility_groups_and_papers_as_typed(chat: Chat):
    """Walked as a director types: the groups served named in other words (“người già”) are said back, all of them
    (some of a label's words once were not); a photo sent twice at one question is kept once; the criminal
    record's photo sent again for the ID copies is not taken unless sent once more (one scan of both papers)."""
    await open_procedure(chat, FACILITY, "conditions.civil_capacity", "Đăng ký hoạt động cơ sở trợ giúp xã hội")
    for field in CONDITIONS:
        await chat.expect(field)
        await chat.say("co")
    for said in ("toi la giam doc", "Mái ấm Tình Thương", "xa duc trong, lam dong", "Số 12 đường Lê Lợi",
                 "0977 833 181", "cham soc nguoi gia"):
        await chat.say(said)
    await chat.expect("facility.functions")
    await chat.say("nuoi duong cham soc va tu van tam ly")
    assert "Đã ghi: Chăm sóc, nuôi dưỡng đối tượng; Tư vấn, trị liệu tâm lý." in chat.text()
    await chat.expect("registration.served")
    await chat.say("nguoi gia va nguoi khuyet tat")
    assert "Đã ghi: Người cao tuổi; Người khuyết tật." in chat.text()
    await chat.expect("registration.scale")
    await chat.say("1, 3")  # (numbers: nothing said back)
    await chat.say("quay lại")
    await chat.expect("registration.served")
    await chat.say("1, 3")
    assert "Đã ghi" not in chat.text()
    for said in ("7", "Xã Đức Trọng", "Nuôi dưỡng, chăm sóc hằng ngày", "Phạm Hữu Thanh", "030080001234"):
        await chat.say(said)
    await chat.expect("docs.criminal_records")
    await chat.send_file(jpeg(7), "lltp.jpg")
    await chat.send_file(jpeg(7), "lltp.jpg")
    assert "Tệp này đã nhận rồi" in chat.text() and "Đã nhận 1 tệp" in chat.ask.text
    await chat.say("xong")
    await chat.expect("docs.id_copies")
    await chat.send_file(jpeg(7), "lltp.jpg")
    assert chat.error and "giống hệt tệp bạn đã gửi cho “Phiếu lý lịch tư pháp”" in chat.error.text
    await chat.expect("docs.id_copies")
    await chat.send_file(jpeg(8), "cccd.jpg")
    assert "Đã nhận 1 tệp" in chat.ask.text
    await chat.send_file(jpeg(7), "lltp.jpg")  # sent again: one scan holds both papers
    assert chat.error is None and "Đã nhận 2 tệp" in chat.ask.text
    await chat.say("xong")
    await chat.expect("_review")
    a = await chat.answers()
    assert a["registration.served"] == ["nguoi_cao_tuoi", "nguoi_khuyet_tat"]
    assert len(a["docs.criminal_records"]) == 1 and len(a["docs.id_copies"]) == 2
    assert a["docs.id_copies"][1]["sha256"] == a["docs.criminal_records"][0]["sha256"]


@pytest.mark.parametrize("failing,reason,instead", [
    (0, "năng lực hành vi dân sự đầy đủ", "cử người có năng lực hành vi dân sự đầy đủ"),
    (1, "chưa được xóa án tích", "xóa án tích"),
    (2, "nhân viên trợ giúp xã hội", "tuyển hoặc phân công ít nhất một nhân viên"),
    (3, "nhà ở, nhà bếp, điện, nước", "hoàn thiện chỗ ở, bếp, điện và nước"),
])
async def test_facility_each_condition_stops_with_reason(chat: Chat, failing: int, reason: str, instead: str):
    await open_procedure(chat, FACILITY, "conditions.civil_capacity", "Đăng ký hoạt động cơ sở trợ giúp xã hội")
    for i, field in enumerate(CONDITIONS[: failing + 1]):
        await chat.expect(field)
        await chat.say("không" if i == failing else "có")
    assert_ineligible(chat, reason=reason, ref="Nghị định 103/2017/NĐ-CP", instead=[instead])
    assert "facility.name" not in await chat.answers()
    await chat.press("fix")
    await chat.expect(CONDITIONS[failing])
    await chat.say("có")
    await chat.expect(CONDITIONS[failing + 1] if failing < 3 else "filer.role")


async def test_info_card_marks_unverified_facts(chat: Chat):
    await open_procedure(chat, HOUSING, "household.status", "Hỗ trợ làm nhà ở")
    await chat.say("thông tin")
    await chat.expect("household.status")  # the place is kept
    text = chat.text()
    for part in ("Nơi giải quyết:", "Thời hạn: 2 ngày làm việc", "Lệ phí:", "Giấy tờ cần chuẩn bị:", "Các bước:",
                 "Kết quả:", "Căn cứ pháp lý: Nghị định 20/2021/NĐ-CP"):
        assert part in text, part
    # a fact with its legal basis, marked where it is not verified
    assert "tối thiểu 40.000.000 đồng/hộ. (Nghị định 20/2021/NĐ-CP, Điều 15) (*)" in text
    assert "(*) Có thể đã thay đổi; cán bộ tiếp nhận sẽ xác nhận" in text and "chưa kiểm chứng" not in text
    # citizens see no internal notes: the open questions and review notes are for officers (docs/law.md)
    assert "Cơ quan xem xét khi xã thiếu nguồn lực" not in text and "not checked" not in text


def test_facility_conditions_answered_in_their_own_words():
    """“không ai có án tích” at “Lý lịch tư pháp … trong sạch, đúng không?” got “Vui lòng trả lời Có hoặc Không”: a
    condition's own words say yes or no (``yes_also``/``no_also``)."""
    from tests.test_conversation_disability import read_answer

    for field, said, meant in (("conditions.no_criminal_record", "khong ai co an tich", True),
                               ("conditions.no_criminal_record", "co nguoi co an tich", False),
                               ("conditions.no_criminal_record", "anh ay da duoc xoa an tich", True),
                               ("conditions.civil_capacity", "deu tren 18 tuoi", True),
                               ("conditions.civil_capacity", "co nguoi duoi 18 tuoi", False)):
        assert read_answer(FACILITY, field, said) is meant, said


async def test_a_name_typed_at_the_areas_spelling_is_not_the_area(chat: Chat):
    """“Nguyen thi hanh” (the head's name, typed early) at “Ý bạn là: Xã Đức Trọng và các xã lân cận?” became the
    area, and kept for the next question it became the facility's tasks: the area's spelling is still asked, and
    the name, no place and no task, is said not filed."""
    await open_procedure(chat, FACILITY, "conditions.civil_capacity", "Đăng ký hoạt động cơ sở trợ giúp xã hội")
    for field in CONDITIONS:
        await chat.expect(field)
        await chat.say("có")
    for said in ("1", "Mái ấm Tình Thương", "xa duc trong, lam dong", "Số 12 đường Lê Lợi", "0977 833 181", "1",
                 "1, 3", "1, 3", "8"):
        await chat.say(said)
    await chat.expect("registration.area")
    await chat.say("xa duc trong va cac xa lan can")
    assert "Ý bạn là: Xã Đức Trọng và các xã lân cận?" in chat.ask.text
    await chat.say("Nguyen thi hanh")
    assert "Ý bạn là: Xã Đức Trọng và các xã lân cận?" in chat.ask.text
    await chat.say("1")
    await chat.expect("registration.tasks")
    assert "Chưa ghi: “Nguyen thi hanh”." in chat.text()
    a = await chat.answers()
    assert a["registration.area"] == "Xã Đức Trọng và các xã lân cận" and "registration.tasks" not in a


async def test_the_day_of_the_disaster_said_in_the_request_is_kept(chat: Chat, runtime: Runtime):
    """“nhà em bị bão làm sập mái hôm qua” had its day asked again later: the day right after the words of what
    happened is kept for “Sự việc xảy ra ngày nào?”, once the cause that makes that question apply is read."""
    await chat.say("nha e bi bao lam sap mai hom qua, xin ho tro sua nha")
    assert "• Ngày xảy ra: 22/11/2026 (câu hỏi sau)" in chat.text()
    a = await chat.answers()
    assert a["house.cause"] == "thien_tai" and a["house.event_date"] == "2026-11-22"
    other = await Chat(runtime, user="console:fire").start()
    await other.say("nha toi bi chay nha ngay 20/11, xin ho tro")
    assert "• Ngày xảy ra: 20/11/2026 (câu hỏi sau)" in other.text()
