"""Conversation tests for `doi-cap-lai-giay-xac-nhan-khuyet-tat`, driven as a citizen would, on real databases."""
from __future__ import annotations

import pytest

from bot.service import Runtime
from dialogs.parsing import Invalid
from storage.repo import DossierRepo, dossier_to_dict
from tests.conftest import Chat, jpeg

PROC = "doi-cap-lai-giay-xac-nhan-khuyet-tat"


async def open_procedure(chat: Chat) -> Chat:
    await chat.expect("procedure")
    assert PROC in [c.value for c in chat.ask.choices]
    await chat.press(PROC)
    await chat.expect("request.has_certificate")
    assert "Đổi, cấp lại Giấy xác nhận khuyết tật" in chat.text()  # the info card comes first
    return chat


async def fill_request(chat: Chat, kind: str = "cap_doi", reason: str = "Giấy bị rách, mờ chữ",
                       has: str = "có") -> Chat:
    await open_procedure(chat)
    await chat.say(has)
    await chat.expect("request.type")
    await chat.press(kind)
    if kind == "cap_lai":
        await chat.expect("request.reissue_reason")
        await chat.press("mat")
    await chat.expect("request.reason")
    await chat.say(reason)
    await chat.expect("filer.role")
    return chat


ACTIVITIES = ["walking", "eating", "toileting", "hygiene", "dressing", "understanding", "expressing", "housework",
              "social", "learning"]


async def fill_section_iii(chat: Chat) -> None:
    """Mẫu 01 section III, which a re-issue after a loss declares again: consent, the six groups of signs,
    then (from 6 years of age) the ten activities."""
    await chat.expect("consent.health")
    assert "thông tin sức khỏe" in chat.text()
    await chat.press("yes")
    await chat.expect("disability.motor")
    await chat.say("chau bi bai nao, tri tue")  # a condition: an answer here, no switch to the first assessment
    await chat.expect("disability.motor")
    assert chat.error is not None and "thủ tục khác" not in chat.text()
    await chat.say("cháu bị câm điếc")  # the next question's signs: said where they go, nothing kept here
    assert chat.error and "câu “Khuyết tật nghe, nói”, được hỏi sau" in chat.error.text
    await chat.expect("disability.motor")
    await chat.say("2, 4")
    await chat.expect("disability.hearing_speech")
    await chat.say("câm điếc")  # one part, two signs, read from their everyday words and said back
    assert "Đã ghi: Không phát ra âm thanh, lời nói; Không nghe được." in chat.text()
    for _ in range(4):
        await chat.say("không")
    for name in ACTIVITIES:
        await chat.expect(f"activity.{name}")
        await chat.say("2")  # can do it with help


async def fill_person(chat: Chat, *, name: str = "nguyễn văn nam", birth: str = "05/06/2010", sex: str = "nam",
                      id_number: str = "068 210 001 234", same_place: bool = True) -> Chat:
    await chat.expect("person.full_name")
    await chat.say(name)
    await chat.expect("person.birth_date")
    await chat.say(birth)
    await chat.expect("person.sex")
    await chat.say(sex)
    await chat.expect("person.id_number")
    await chat.say(id_number)
    await chat.expect("person.residence")
    await chat.say("Lâm Đồng")
    await chat.expect("person.residence")
    await chat.say("duc trong")
    await chat.expect("person.residence")
    await chat.say("Thôn 3")
    await chat.expect("person.same_place")
    await chat.say("giống" if same_place else "khong giong")  # the question's verb echoed: yes, no
    return chat


async def fill_rep(chat: Chat) -> Chat:
    await chat.expect("rep.full_name")
    await chat.say("Trần Thị Hoa")
    await chat.expect("rep.relation")
    await chat.say("mẹ")
    await chat.expect("rep.id_number")
    await chat.say("068185001111")
    await chat.expect("rep.residence")
    assert len(chat.ask.choices) == 1  # the person's, offered: “giống” (or “có”) takes the one offered
    await chat.say("giống ạ")
    await chat.expect("rep.same_place")  # Mẫu 01 mục II: the representative's current address and phone
    a = await chat.answers()
    assert a["rep.residence"] == a["person.residence"]
    await chat.say("có")
    await chat.expect("rep.phone")
    await chat.say("0987654321")
    return chat


async def stored_dossier(runtime: Runtime) -> dict:
    async with runtime.sm() as db:
        [d] = await DossierRepo(db).list(procedure_id=PROC)
        return dossier_to_dict(d)


async def test_cap_doi_by_legal_representative(chat: Chat, runtime: Runtime):
    await fill_request(chat, "cap_doi")
    await chat.say("2")  # the legal representative
    await fill_person(chat)
    await fill_rep(chat)
    await chat.expect("cert.number")  # the representative's phone is the contact: not asked again
    assert chat.ask.optional
    await chat.say("KT-0123/2019")
    await chat.expect("cert.photo")
    assert chat.ask.kind == "attachment"
    await chat.send_file(jpeg(7), "giay-xac-nhan-cu.jpg")
    await chat.expect("cert.photo")
    assert "Đã nhận 1 tệp" in chat.ask.text
    await chat.press("done")
    await chat.expect("_review")
    summary = chat.text()
    assert "NGUYỄN VĂN NAM" not in summary  # names keep their case unless the field says upper
    assert "Nguyễn Văn Nam" in summary and "Trần Thị Hoa" in summary and "05/06/2010" in summary
    assert "Thông tin người đại diện hợp pháp" in summary
    await chat.press("confirm")
    await chat.expect("_sworn")
    assert "Tôi xin cam đoan" in chat.ask.text
    await chat.press("yes")
    code = chat.dossier
    assert code and code.startswith("KT-")
    # Monday 23/11/2026 09:00 + 5 working days; Tuesday 24/11 is Vietnam Cultural Day, so Tuesday 1/12
    assert "01/12/2026" in chat.text()
    await chat.expect("procedure")

    data = await stored_dossier(runtime)
    assert data["code"] == code and data["procedure"] == PROC and data["status"] == "submitted"
    assert data["due_date"] == "2026-12-01"
    assert data["applicant_name"] == "Nguyễn Văn Nam"
    assert data["commune_code"]  # routed to the person's commune
    a = data["answers"]
    assert a["request.has_certificate"] is True
    assert a["request.type"] == "cap_doi"
    assert a["request.reason"] == "Giấy bị rách, mờ chữ"
    assert a["filer.role"] == "representative"
    assert "filer.full_name" not in a and "filer.phone" not in a
    assert a["person.full_name"] == "Nguyễn Văn Nam"
    assert a["person.birth_date"] == "2010-06-05"
    assert a["person.sex"] == "nam"
    assert a["person.id_number"] == "068210001234"
    assert a["person.residence"]["commune"].endswith("Đức Trọng")
    assert a["person.residence"]["detail"] == "Thôn 3"
    assert a["person.same_place"] is True
    assert "person.current_address" not in a
    assert a["rep.full_name"] == "Trần Thị Hoa"
    assert a["rep.relation"] == "Mẹ"
    assert a["rep.id_number"] == "068185001111"
    assert "Lâm Đồng" in a["rep.residence"]["province"]
    assert a["rep.phone"] == "0987654321" and "contact.phone" not in a
    assert a["cert.number"] == "KT-0123/2019"
    [photo] = a["cert.photo"]
    assert photo["mime"] == "image/jpeg" and photo["name"] == "giay-xac-nhan-cu.jpg"
    [att] = data["attachments"]
    assert att["field"] == "cert.photo" and att["mime"] == "image/jpeg" and att["sha256"] == photo["sha256"]
    assert runtime.attachments.exists(att["sha256"])
    s = await runtime.session(chat.user)
    assert PROC not in s.drafts


async def test_cap_lai_by_the_person_themself_asks_no_photo(chat: Chat, runtime: Runtime):
    await fill_request(chat, "cap_lai", reason="Bị mất khi chuyển nhà")
    await chat.say("Tôi là người khuyết tật")  # a choice by its label
    await fill_person(chat, name="Lê Văn Bảy", birth="12/12/1980", id_number="068080004567")
    await chat.expect("contact.phone")  # no representative section for oneself
    await chat.say("0987654321")
    await fill_section_iii(chat)  # the form exempts only "cấp đổi" from section III
    await chat.expect("cert.number")
    await chat.say("bỏ qua")
    await chat.expect("_review")  # cấp lại: the certificate is lost, no photo is asked
    assert "Ảnh giấy cũ" not in chat.text()
    await chat.say("sua khuyet tat nghe noi")  # “Khuyết tật nghe, nói”, named without its comma
    await chat.expect("disability.hearing_speech")
    await chat.say("giữ nguyên")
    await chat.expect("_review")
    await chat.press("confirm")
    await chat.press("yes")
    assert chat.dossier

    data = await stored_dossier(runtime)
    a = data["answers"]
    assert a["request.type"] == "cap_lai" and a["filer.role"] == "self"
    assert a["cert.number"] is None
    assert "cert.photo" not in a
    assert not any(k.startswith("rep.") for k in a)
    assert not any(k.startswith("filer.") and k != "filer.role" for k in a)
    assert data["attachments"] == []
    assert data["applicant_name"] == "Lê Văn Bảy"
    assert a["consent.health"] is True and a["disability.motor"] == ["1.2", "1.4"]
    assert a["disability.vision"] == [] and a["activity.learning"] == "can_tro_giup"
    assert a["disability.hearing_speech"] == ["2.1", "2.3"]


async def test_helper_keeps_both_peoples_details(chat: Chat, runtime: Runtime):
    await fill_request(chat, "cap_lai", reason="bị mất", has="1")  # yes/no shown as "1. Có 2. Không"
    await chat.say("toi lam cho me toi")  # a son files for his mother: he helps, he is no legal representative
    assert (await chat.answers())["filer.role"] == "helper"
    await chat.expect("filer.full_name")
    assert "người khai giúp" in chat.ask.text
    await chat.say("Phạm Văn Tình")
    await chat.expect("filer.phone")
    await chat.say("0987 654 321")
    await chat.expect("consent.subject")
    await chat.say("1")  # the person agreed when the volunteer met her
    await fill_person(chat, name="Hoàng Thị Lựu", birth="03/04/1955", sex="nữ", id_number="068155000777")
    await chat.expect("contact.phone")
    await chat.say("0388111222")
    await fill_section_iii(chat)
    await chat.say("bỏ qua")
    await chat.expect("_review")
    summary = chat.text()
    assert "Phạm Văn Tình" in summary and "Hoàng Thị Lựu" in summary
    await chat.press("confirm")
    await chat.press("yes")
    data = await stored_dossier(runtime)
    a = data["answers"]
    assert a["filer.role"] == "helper"
    assert a["filer.full_name"] == "Phạm Văn Tình" and a["filer.phone"] == "0987654321"
    assert a["person.full_name"] == "Hoàng Thị Lựu" and a["person.sex"] == "nu"
    assert a["contact.phone"] == "0388111222"
    assert a["consent.subject"]["how"] == "in_person" and a["consent.subject"]["at"] == "2026-11-23T09:00:00+07:00"
    assert "Người đó đã đồng ý khi gặp trực tiếp (09:00 23/11/2026)" in summary
    assert not any(k.startswith("rep.") for k in a)
    # the dossier stands in the disabled person's name, not the helper's
    assert data["applicant_name"] == "Hoàng Thị Lựu"


async def test_a_volunteer_without_the_persons_consent_is_shown_a_way_and_keeps_the_draft(chat: Chat,
                                                                                           runtime: Runtime, clock):
    """From 01/01/2026 a volunteer confirms that the person filed for agreed (Personal Data Protection Law 2025).
    “Not yet” is no dead end: the person may file themselves or at the commune; what was typed is kept, and
    once the person agrees the volunteer goes on where they stopped."""
    await fill_request(chat, "cap_lai", reason="bị mất", has="1")
    await chat.say("3")
    await chat.say("Phạm Văn Tình")
    await chat.say("0987 654 321")
    await chat.expect("consent.subject")
    text = chat.ask.text
    assert "người khuyết tật (hoặc người đại diện hợp pháp của họ) đồng ý" in text
    assert "thông tin sức khỏe" in text and "chỉ cán bộ Ủy ban nhân dân cấp xã" in text
    for refusal in ("không", "ko dong y", "bà chưa đồng ý ạ", "khong dong y dau"):  # never read as a consent
        await chat.say(refusal)
        said = chat.text()
        assert "tự khai" in said and "Ủy ban nhân dân cấp xã" in said and "được giữ lại" in said, refusal
        assert chat.error is None  # a kind answer, not a mistake
        await chat.expect("consent.subject")
        assert "consent.subject" not in await chat.answers()
    await chat.say("menu")  # as the message says: pause ...
    await chat.expect("procedure")
    clock.when = clock.when.replace(hour=15)
    await chat.say("tiếp tục")  # ... and come back once the person has agreed
    await chat.expect("consent.subject")
    await chat.press("phone")
    await chat.expect("person.full_name")
    a = await chat.answers()
    assert a["filer.full_name"] == "Phạm Văn Tình" and a["request.reason"] == "bị mất"
    assert a["consent.subject"]["how"] == "phone" and a["consent.subject"]["at"] == "2026-11-23T15:00:00+07:00"


async def test_no_consent_step_before_2026_nor_for_ones_own_dossier(chat: Chat, clock):
    from datetime import datetime

    from tests.conftest import VN
    clock.when = datetime(2025, 12, 31, 9, 0, tzinfo=VN)
    await fill_request(chat, "cap_lai", reason="bị mất", has="1")
    await chat.say("3")
    await chat.say("Phạm Văn Tình")
    await chat.say("0987 654 321")
    await chat.expect("person.full_name")  # the law is not yet in force
    await chat.say("hủy")
    await chat.say("có")
    clock.when = datetime(2026, 1, 1, 9, 0, tzinfo=VN)
    await fill_request(chat, "cap_lai", reason="bị mất", has="1")
    await chat.say("1")  # the disabled person files for themselves
    await chat.expect("person.full_name")


async def test_never_had_a_certificate_is_ineligible(chat: Chat, runtime: Runtime):
    await open_procedure(chat)
    await chat.say("chưa")
    await chat.expect("_eligibility")
    text = chat.text()
    assert "không thuộc diện" in text
    assert "Lý do:" in text and "chỉ dành cho người đã được cấp Giấy xác nhận khuyết tật" in text
    assert "Căn cứ:" in text and "Thông tư 01/2019/TT-BLĐTBXH" in text and "Nghị định 28/2012/NĐ-CP" in text
    assert "Bạn có thể:" in text and "Xác định, xác định lại mức độ khuyết tật" in text  # what to do instead
    assert {c.value for c in chat.ask.choices} == {"fix", "menu", "cancel"}
    # nonsense keeps the same question; the answer is kept
    await chat.say("xyz")
    assert chat.error
    await chat.expect("_eligibility")
    assert (await chat.answers())["request.has_certificate"] is False
    # an honest mistake can be fixed
    await chat.press("fix")
    await chat.expect("request.has_certificate")
    assert "Câu trả lời trước" in chat.ask.text
    await chat.say("có")
    await chat.expect("request.type")
    # answering "no" again, then leaving for the menu, keeps the draft and submits nothing
    await chat.say("quay lại")
    await chat.expect("request.has_certificate")
    await chat.say("không")
    await chat.expect("_eligibility")
    await chat.press("menu")
    await chat.expect("procedure")
    assert any("đang khai dở" in c.label for c in chat.ask.choices)
    async with runtime.sm() as db:
        assert await DossierRepo(db).list() == []


async def test_current_address_only_when_not_living_at_residence(chat: Chat):
    await fill_request(chat)
    await chat.say("1")
    await fill_person(chat, same_place=False)
    await chat.expect("person.current_address")
    await chat.say("Hà Nội")
    await chat.expect("person.current_address")
    await chat.say("Ba Đình")
    await chat.expect("person.current_address")
    await chat.say("bỏ qua")  # no house number
    await chat.expect("contact.phone")
    answers = await chat.answers()
    assert answers["person.same_place"] is False
    assert "Hà Nội" in answers["person.current_address"]["province"]
    assert answers["person.current_address"]["detail"] is None
    # change of mind: lives at the residence after all, the current address is dropped
    await chat.say("quay lại")
    await chat.expect("person.current_address")
    await chat.say("quay lại")
    await chat.expect("person.same_place")
    await chat.say("có")
    await chat.expect("contact.phone")
    answers = await chat.answers()
    assert "person.current_address" not in answers and answers["person.same_place"] is True


async def test_id_number_checked_against_birth_date_and_sex(chat: Chat):
    await fill_request(chat)
    await chat.say("1")
    await chat.expect("person.full_name")
    await chat.say("Lê Thị Hoa")
    await chat.say("01/02/1990")
    await chat.say("nữ")
    await chat.expect("person.id_number")
    await chat.say("068090001234")  # century digit 0 = a man born in the 1900s
    assert chat.error and "giới tính" in chat.error.text
    await chat.expect("person.id_number")
    await chat.say("068191001234")  # a woman, but born in 1991
    assert chat.error and "năm sinh" in chat.error.text
    await chat.expect("person.id_number")
    await chat.say("068390001234")  # a woman born in 2090
    assert chat.error and "năm sinh" in chat.error.text
    await chat.expect("person.id_number")
    assert "person.id_number" not in await chat.answers()
    await chat.say("tôi không có CCCD")  # where the number is found, at once, not "chỉ gồm 12 chữ số"
    await chat.expect("person.id_number")
    assert "giấy khai sinh" in chat.error.text and "12 chữ số" not in chat.text()
    await chat.say("068190001234")  # female, 1900s, 90: right
    await chat.expect("person.residence")
    assert (await chat.answers())["person.id_number"] == "068190001234"
    # correcting the sex later: the stored number no longer matches, so it is dropped and asked again
    await chat.say("quay lại")
    await chat.expect("person.id_number")
    await chat.say("quay lại")
    await chat.expect("person.sex")
    await chat.say("nam")
    await chat.expect("person.id_number")
    assert "không còn khớp" in chat.text() and "giới tính" in chat.text()
    assert "person.id_number" not in await chat.answers()
    await chat.say("068190001234")
    assert chat.error and "giới tính" in chat.error.text
    await chat.say("068090001234")
    await chat.expect("person.residence")
    # and a corrected birth date from the review re-checks the number the same way
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("bỏ qua")
    await chat.say("có")
    await chat.say("0912345678")
    await chat.say("bỏ qua")
    await chat.send_file(jpeg(4))
    await chat.press("done")
    await chat.expect("_review")
    await chat.press("edit")
    await chat.press("person")
    await chat.press("person.birth_date")
    await chat.say("01/02/1991")
    await chat.expect("person.id_number")
    assert "năm sinh 1991" in chat.text()
    await chat.say("068091001234")
    await chat.expect("_review")
    assert (await chat.answers())["person.id_number"] == "068091001234"


async def test_edit_type_from_review_drops_the_photo(chat: Chat, runtime: Runtime):
    await fill_request(chat, "cap_doi")
    await chat.say("1")
    await fill_person(chat)
    await chat.say("0912345678")
    await chat.say("bỏ qua")
    await chat.expect("cert.photo")
    await chat.send_file(jpeg(1), "mat-truoc.jpg")
    await chat.send_file(jpeg(2), "mat-sau.jpg")  # the second file reaches the maximum of two
    await chat.expect("_review")
    assert len((await chat.answers())["cert.photo"]) == 2
    await chat.press("edit")
    await chat.expect("_edit_section")
    await chat.press("request")
    await chat.expect("_edit_field")
    await chat.press("request.type")
    await chat.expect("request.type")
    assert "Câu trả lời trước" in chat.ask.text
    await chat.press("cap_lai")
    await chat.expect("request.reissue_reason")  # why a re-issue: only a lost certificate stays here
    await chat.press("mat")
    await fill_section_iii(chat)  # a re-issue declares section III; then straight back to the review
    await chat.expect("_review")
    answers = await chat.answers()
    assert answers["request.type"] == "cap_lai"
    assert "cert.photo" not in answers
    s = await runtime.session(chat.user)
    assert "cert.photo" not in s.draft.history
    # and back to cấp đổi: the photo is asked again (from the edit, not the start)
    await chat.press("edit")
    await chat.press("request")
    await chat.press("request.type")
    await chat.press("cap_doi")
    await chat.expect("cert.photo")
    await chat.send_file(jpeg(3), "moi.jpg")
    await chat.press("done")
    await chat.expect("_review")
    assert [f["name"] for f in (await chat.answers())["cert.photo"]] == ["moi.jpg"]
    # final choice cấp lại: the stored dossier has no photo and no attachment
    await chat.press("edit")
    await chat.press("request")
    await chat.press("request.type")
    await chat.say("cấp lại")
    await chat.expect("request.reissue_reason")
    await chat.press("mat")
    await fill_section_iii(chat)
    await chat.expect("_review")
    await chat.press("confirm")
    await chat.press("yes")
    assert chat.dossier
    data = await stored_dossier(runtime)
    assert data["answers"]["request.type"] == "cap_lai"
    assert "cert.photo" not in data["answers"] and data["attachments"] == []


async def test_a_lost_certificate_said_once_answers_why(chat: Chat):
    """“bi mat” at “Bạn đề nghị gì?” is “Cấp lại (bị mất)”, and “Vì sao cần cấp lại?” was asked next as if
    nothing had been said: the loss answers it too (``also_answers_next``)."""
    await open_procedure(chat)
    await chat.say("có")
    await chat.say("bi mat roi")
    await chat.expect("request.reason")
    answers = await chat.answers()
    assert (answers["request.type"], answers["request.reissue_reason"]) == ("cap_lai", "mat")
    await chat.say("quay lại")  # the reason's own question, as it was answered
    await chat.expect("request.reissue_reason")


@pytest.mark.parametrize("why", ["thay_doi", "du_6_tuoi"])
async def test_reissue_for_a_change_or_a_child_turning_six_needs_the_full_assessment(chat: Chat, why: str):
    """TT 01/2019 Điều 8–9: these are a re-assessment (up to 25 working days), not a 5-day re-issue."""
    await open_procedure(chat)
    await chat.say("có")
    await chat.press("cap_lai")
    await chat.expect("request.reissue_reason")
    await chat.press(why)
    text = chat.text()
    assert chat.field == "_eligibility" and "Thông tư 01/2019/TT-BLĐTBXH, Điều 8, 9" in text
    assert "Xác định, xác định lại mức độ khuyết tật" in text and "25 ngày làm việc" in text


def read_answer(proc: str, fid: str, text: str):
    """What a field of a procedure files for a typed answer (raises Invalid), as the engine parses it."""
    from datetime import date

    from dialogs.catalog import Catalog
    from dialogs.kinds import parse_value
    return parse_value(Catalog.load().form(proc).field(fid), text, today=date(2026, 12, 6), lookup=lambda ref: None)


@pytest.mark.parametrize("proc", [PROC, "xac-dinh-muc-do-khuyet-tat"])
def test_an_activity_answered_by_its_own_verb(proc: str):
    """“khong hieu” at “Nghe và hiểu người khác nói gì” was “Chưa rõ lựa chọn”: each activity lists its verb with
    “không” (“không hiểu”, “không nói được”, “không tự mặc”), for that activity only."""
    def read(fid: str, text: str) -> str:
        return read_answer(proc, fid, text)

    assert read("activity.understanding", "khong hieu") == "khong_thuc_hien_duoc"
    assert read("activity.understanding", "hiểu") == "thuc_hien_duoc"
    assert read("activity.expressing", "không nói được") == "khong_thuc_hien_duoc"
    assert read("activity.dressing", "khong tu mac") == "khong_thuc_hien_duoc"
    assert read("activity.expressing", "nói được nhưng cần người giúp") == "can_tro_giup"
    assert read("activity.learning", "vẫn đi học được nhưng cần cô giáo kèm") == "can_tro_giup"
    assert read("activity.learning", "học được nhưng phải có người kèm") == "can_tro_giup"
    assert read("activity.toileting", "phai giup") == "can_tro_giup"  # (was “Chưa rõ lựa chọn”)
    assert read("activity.hygiene", "nguoi khac giup") == "can_tro_giup"
    # the thing done and its help: “Thực hiện được nhưng cần trợ giúp” qualifies “Thực hiện được” (both were fitted)
    assert read("activity.walking", "di duoc, phai co nguoi dat") == "can_tro_giup"
    assert read("activity.eating", "an duoc nhung phai co nguoi bon") == "can_tro_giup"
    assert read("activity.walking", "chong gay, co nguoi diu") == "can_tro_giup"  # (“dìu” was not read)
    assert read("activity.learning", "ba khong biet chu") == "khong_thuc_hien_duoc"
    # the signs as a stroke's family says them (“tay chan yeu” and “noi kho” were not read)
    assert read("disability.motor", "liet nua nguoi ben phai, tay chan yeu") == ["1.4"]
    assert read("disability.hearing_speech", "noi kho, noi ngong") == ["2.2"]
    assert read("disability.neuro_mental", "hay quen, co luc khong nhan ra nguoi nha") == ["4.4"]
    with pytest.raises(Invalid):
        read("activity.dressing", "không hiểu")  # another activity's verb


def test_a_yes_no_question_takes_its_own_everyday_words():
    """“vẫn ở đó” at “Nơi ở hiện nay có giống nơi thường trú không?” was “Vui lòng trả lời Có hoặc Không”: a yes/no
    field's ``yes_also`` / ``no_also``."""
    from dialogs.schema import FieldDef

    def read(text: str) -> bool:
        return read_answer("xac-dinh-muc-do-khuyet-tat", "person.same_place", text)

    assert [read(t) for t in ("vẫn ở đó ạ", "van o day", "ở chỗ khác", "không, ở trọ", "có", "giống")] == \
        [True, True, False, False, True, True]
    with pytest.raises(ValueError, match="only for kind yes_no"):
        FieldDef.model_validate({"id": "x", "kind": "text", "prompt": "X?", "yes_also": ["ừ"]})
    with pytest.raises(ValueError, match="both yes_also and no_also"):
        FieldDef.model_validate({"id": "x", "kind": "yes_no", "prompt": "X?", "yes_also": ["ở đó"],
                                 "no_also": ["o do"]})


async def test_a_torn_certificate_said_is_the_reason_too(chat: Chat):
    """“giay bi rach do con nit” at “Bạn đề nghị gì?” is “Cấp đổi”, and “Lý do đề nghị?” was asked next as if
    nothing had been said: the whole answer is the reason (a free text), said so; “quay lại” reaches it."""
    await open_procedure(chat)
    await chat.say("có")
    await chat.say("giay bi rach do con nit")
    assert "Đã ghi “giay bi rach do con nit” cho câu “Lý do”" in chat.text()
    await chat.expect("filer.role")
    answers = await chat.answers()
    assert (answers["request.type"], answers["request.reason"]) == ("cap_doi", "giay bi rach do con nit")
    await chat.say("quay lại")
    await chat.expect("request.reason")


async def test_go_tay_after_the_cards_offer_is_no_name(chat: Chat):
    """“khong” at the card's offer, then “go tay” at “Họ và tên người khuyết tật?” was offered as the name “Go Tay”,
    to be retyped with diacritics: words saying one will type are no answer; the question is asked again, kindly."""
    for said in ("toi bi liet nua nguoi sau tai bien, muon xin giay xac nhan khuyet tat", "chua co giay", "chinh toi",
                 "khong"):
        await chat.say(said)
    await chat.expect("person.full_name")
    await chat.say("go tay")
    assert chat.error is None and "Vâng, bạn gõ trực tiếp câu trả lời vào đây." in chat.text()
    await chat.expect("person.full_name")
    await chat.say("pham van loc")
    assert "Phạm Văn Lộc" in chat.ask.text
