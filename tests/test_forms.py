"""The filled official forms: golden text per procedure, PDF content, conditional parts, the CLI.

Golden files live in tests/golden/<procedure-id>.txt. After a deliberate change to a template,
regenerate them with ``DVCBOT_UPDATE_GOLDEN=1 pytest tests/test_forms.py`` and read the diff line
by line against the seed form (seeds/004_d2cbf64c81f78882.txt).
"""
from __future__ import annotations

import asyncio
import copy
import hashlib
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dialogs import address as addr
from dialogs.forms import has_form, render_pdf, render_text, template_for
from dialogs.forms.render import FONTS_DIR, check_templates, load_templates
from tests.conftest import shared_catalog

VN = ZoneInfo("Asia/Ho_Chi_Minh")
GOLDEN = Path(__file__).parent / "golden"
SUBMITTED = datetime(2026, 11, 23, 9, 0, tzinfo=VN)
UPDATE = os.environ.get("DVCBOT_UPDATE_GOLDEN") == "1"
CATALOG = shared_catalog()


# -- realistic answers, as the engine stores them ---------------------------------------------
def place(province: str, commune: str, detail: str | None) -> dict:
    """An address answer built from the real 2025 units, like the engine's address step."""
    p = addr.match_province(province)[0]
    c = addr.match_commune(commune, p.code)[0]
    return {"province_code": p.code, "province": p.full_name, "commune_code": c.code, "commune": c.full_name,
            "detail": detail}


def files(*names: str) -> list[dict]:
    return [{"sha256": hashlib.sha256(n.encode()).hexdigest(), "mime": "image/jpeg", "size": 48213, "name": n}
            for n in names]


def funeral() -> dict:
    home = place("Lâm Đồng", "Đức Trọng", "Thôn 3")
    return {
        "filer.role": "self",
        "consent.sensitive": True,
        "deceased.cause": "thien_tai",
        "deceased.full_name": "NGUYỄN VĂN AN",
        "deceased.birth_date": "1950-03-05",
        "deceased.sex": "nam",
        "deceased.ethnicity": "Kinh",
        "deceased.residence": home,
        "deceased.status": "chet",
        "deceased.death_date": "2026-11-10",
        "deceased.burial_date": "2026-11-12",
        "deceased.burial_place": "Nghĩa trang thôn 3, xã Đức Trọng, tỉnh Lâm Đồng",
        "organizer.kind": "household",
        "applicant.full_name": "NGUYỄN THỊ BÌNH",
        "applicant.birth_date": "1976-06-20",
        "applicant.id_number": "068176001234",
        "applicant.id_issue_date": None,  # skipped: optional
        "applicant.residence": home,
        "applicant.same_place": False,
        "applicant.current_address": place("Hồ Chí Minh", "Sài Gòn", "45 Nguyễn Huệ"),
        "applicant.relation": "Con gái",
        "contact.phone": "0912345678",
        "docs.death_notice": files("giay-bao-tu.jpg"),
    }


def funeral_by_organisation() -> dict:
    a = funeral()
    for k in [k for k in a if k.startswith("applicant.")]:
        del a[k]
    a.update({
        "organizer.kind": "organisation",
        "org.name": "Ủy ban Mặt trận Tổ quốc Việt Nam xã Đức Trọng",
        "org.address": place("Lâm Đồng", "Đức Trọng", "Trụ sở UBND xã"),
        "org.rep_name": "Phan Văn Hải",
        "org.rep_title": "Chủ tịch",
    })
    return a


def disability_exchange() -> dict:
    home = place("Hải Phòng", "Thanh Hà", "Thôn An Lão")
    return {
        "request.has_certificate": True,
        "request.type": "cap_doi",
        "request.reason": "Giấy cũ bị rách, mờ chữ",
        "filer.role": "representative",
        "person.full_name": "Đỗ Thị Lan",
        "person.birth_date": "2008-09-14",
        "person.sex": "nu",
        "person.id_number": "031308004521",
        "person.residence": home,
        "person.same_place": True,
        "rep.full_name": "Đỗ Văn Minh",
        "rep.relation": "Bố",
        "rep.id_number": "031078002233",
        "rep.residence": home,
        "rep.same_place": True,
        "rep.phone": "0904123456",  # (the contact: no contact phone asked of a representative)
        "cert.number": None,  # skipped: optional
        "cert.photo": files("gxn-mat-truoc.jpg", "gxn-mat-sau.jpg"),
    }


def disability_assessment() -> dict:
    return {
        "request.type": "xac_dinh",
        "filer.role": "helper",
        "filer.full_name": "Lê Thu Hà",
        "filer.phone": "0977111222",
        "filer.has_rep": True,
        "consent.subject": {"how": "phone", "at": "2026-11-20T10:00:00+07:00", "text_version": "0"},
        "person.full_name": "Trần Minh Khôi",
        "person.birth_date": "2014-04-15",
        "person.sex": "nam",
        "person.id_number": "068214004567",
        "person.residence": place("Lâm Đồng", "Đức Trọng", "Thôn 5"),
        "person.same_place": True,
        "rep.full_name": "Trần Thị Hoa",
        "rep.relation": "Mẹ",
        "rep.id_number": "068185001122",
        "rep.residence": place("Lâm Đồng", "Đức Trọng", "Thôn 5"),
        "rep.same_place": False,
        "rep.current_address": place("Hồ Chí Minh", "Sài Gòn", "12 Lê Lợi"),
        "rep.phone": "0987654321",
        "consent.health": True,
        "disability.motor": ["1.2", "1.4"],
        "disability.hearing_speech": [],
        "disability.vision": [],
        "disability.neuro_mental": [],
        "disability.intellectual": ["5.3"],
        "disability.other": [],
        "activity.walking": "can_tro_giup",
        "activity.eating": "thuc_hien_duoc",
        "activity.toileting": "thuc_hien_duoc",
        "activity.hygiene": "can_tro_giup",
        "activity.dressing": "can_tro_giup",
        "activity.understanding": "thuc_hien_duoc",
        "activity.expressing": "thuc_hien_duoc",
        "activity.housework": "khong_thuc_hien_duoc",
        "activity.social": "thuc_hien_duoc",
        "activity.learning": "khong_xac_dinh_duoc",
        "docs.medical": files("benh-an.jpg"),
    }


def housing() -> dict:
    return {
        "household.status": "ho_can_ngheo",
        "house.damage": "do_sap",
        "house.cause": "thien_tai",
        "house.event_date": "2026-11-15",
        "filer.role": "self",
        "rep.full_name": "LÊ VĂN CƯỜNG",
        "rep.birth_date": "1970-01-02",
        "rep.sex": "nam",
        "rep.ethnicity": "Kinh",
        "rep.id_number": "040070001234",
        "rep.id_issue_date": "2021-05-10",
        "household.residence": place("Nghệ An", "Diễn Châu", "Xóm 7"),
        "household.size": 5,
        "household.working_age": 3,
        "house.before": "Nhà cấp 4 tường gạch, mái ngói, ở 5 người, dùng được khoảng 20 năm",
        "house.now": "Nhà sập hoàn toàn sau bão số 3; cả nhà ở nhờ nhà anh trai",
        "contact.phone": "0912345678",
        "docs.photos": None,  # skipped: optional
    }


def average_household() -> dict:
    home = place("Thái Nguyên", "Phổ Yên", "Xóm Đông")
    a = {
        "household.occupation": "nong_nghiep",
        "household.income_per_person": 2_000_000,
        "filer.role": "self",
        "applicant.full_name": "Phạm Thị Dung",
        "applicant.sex": "nu",
        "applicant.birth_date": "1980-08-08",
        "applicant.ethnicity": "Tày",
        "applicant.id_number": "019180004321",
        "applicant.phone": "0911222333",
        "applicant.residence": home,
        "applicant.same_place": True,
        "band.poor_note": True,  # Phường Phổ Yên: the urban poverty line (2.000.000 đ), flagged for the commune
    }
    people = [("Phạm Thị Dung", "1980-08-08", "nu", "chu_ho", "019180004321"),
              ("Hoàng Văn Em", "1978-02-02", "nam", "vo_chong", "019078003456"),
              ("Hoàng Gia Phúc", "2010-03-03", "nam", "con", None)]  # a child's id skipped: optional
    for i, (name, born, sex, rel, idn) in enumerate(people):
        a.update({f"members[{i}].full_name": name, f"members[{i}].birth_date": born, f"members[{i}].sex": sex,
                  f"members[{i}].relation": rel, f"members[{i}].id_number": idn,
                  f"members[{i}]._more": i + 1 < len(people)})  # "another member?"
    return a


def facility() -> dict:
    return {
        "conditions.civil_capacity": True,
        "conditions.no_criminal_record": True,
        "conditions.has_worker": True,
        "conditions.basic_facilities": True,
        "filer.role": "self",
        "facility.name": "Mái ấm Tình Thương Đức Trọng",
        "facility.address": place("Lâm Đồng", "Đức Trọng", "Số 8 đường Thống Nhất"),
        "facility.phone": "0933444555",
        "facility.type": "nguoi_cao_tuoi",
        "facility.functions": ["nuoi_duong", "phuc_hoi"],
        "registration.served": ["nguoi_cao_tuoi", "nguoi_khuyet_tat"],
        "registration.scale": 8,
        "registration.area": "Xã Đức Trọng và các xã lân cận",
        "registration.tasks": "Nuôi dưỡng, chăm sóc hằng ngày; phục hồi chức năng; tư vấn tâm lý",
        "head.full_name": "Võ Thị Giang",
        "head.id_number": "068175009876",
        "docs.criminal_records": files("lltp-giang.pdf", "lltp-nhan-vien.pdf"),
        "docs.id_copies": files("cccd-giang.jpg", "cccd-nhan-vien.jpg"),
    }


CASES = {
    "ho-tro-chi-phi-mai-tang": funeral,
    "doi-cap-lai-giay-xac-nhan-khuyet-tat": disability_exchange,
    "xac-dinh-muc-do-khuyet-tat": disability_assessment,
    "ho-tro-nha-o": housing,
    "xac-nhan-ho-muc-song-trung-binh": average_household,
    "dang-ky-co-so-tro-giup-xa-hoi": facility,
}
CODES = {
    "ho-tro-chi-phi-mai-tang": "MT-2611-7KQ4XP9Z",
    "doi-cap-lai-giay-xac-nhan-khuyet-tat": "KT-2611-3MZ8RT2A",
    "xac-dinh-muc-do-khuyet-tat": "XD-2611-9PL4WQ7C",
    "ho-tro-nha-o": "HNO-2611-5VB2KD8E",
    "xac-nhan-ho-muc-song-trung-binh": "MS-2611-6TR3NX4F",
    "dang-ky-co-so-tro-giup-xa-hoi": "CS-2611-8HJ5YU2G",
}
available = [pytest.param(pid, marks=pytest.mark.skipif(pid not in CATALOG.procedures,
                                                          reason=f"{pid} is not defined yet")) for pid in CASES]


def squash(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).split())


def pdf_text(data: bytes, tmp_path: Path) -> str:
    try:
        import pypdf
    except ImportError:
        pypdf = None
    if pypdf is not None:
        import io
        return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    if shutil.which("pdftotext"):
        f = tmp_path / "form.pdf"
        f.write_bytes(data)
        return subprocess.run(["pdftotext", "-enc", "UTF-8", str(f), "-"], capture_output=True, check=True,
                              text=True).stdout
    pytest.skip("no PDF text extractor (pip install pypdf, or apt-get install poppler-utils)")


# -- the answers are what the engine would store ------------------------------------------------
@pytest.mark.parametrize("pid", available)
def test_answers_are_a_complete_dossier(pid):
    """Every question that applies is answered (None for a skipped optional one), nothing stale."""
    form = CATALOG.form(pid)
    answers = CASES[pid]()
    today = SUBMITTED.date()
    live = [s.path for s in form.slots(answers, today)]
    assert sorted(live) == sorted(answers), (set(live) ^ set(answers))
    assert form.next_slot(answers, today) is None
    pruned = copy.deepcopy(answers)
    assert form.prune(pruned, today) == []
    for rule in CATALOG.get(pid).eligibility:
        assert not form.holds(rule.ineligible_if, answers, today=today), rule.id


@pytest.mark.parametrize("pid", available)
def test_the_cursor_kept_between_calls_follows_every_change(pid):
    """The cursor keeps its last walk while the answers are equal (form.py): taking answers away one by one
    from a complete dossier, and putting them back with other values, it gives what a fresh walk gives."""
    from dialogs.form import Form

    form = CATALOG.form(pid)
    today = SUBMITTED.date()
    answers = CASES[pid]()

    def fresh(a):
        return [s.path for s in Form(CATALOG.get(pid)).slots(a, today)]

    for path in sorted(answers, reverse=True):
        old = answers.pop(path)
        assert [s.path for s in form.slots(answers, today)] == fresh(answers), path
        assert form.undecided(answers, today) == Form(CATALOG.get(pid)).undecided(answers, today)
        answers[path] = not old if isinstance(old, bool) else old
        assert [s.path for s in form.slots(answers, today)] == fresh(answers), path
        answers[path] = old  # as many answers as a moment ago: only their values tell the walks apart
        assert [s.path for s in form.slots(answers, today)] == fresh(answers), path
        assert form.undecided(answers, today) == Form(CATALOG.get(pid)).undecided(answers, today)


@pytest.mark.parametrize("pid", available)
def test_a_complete_dossier_has_no_question_still_to_come(pid):
    """Progress counts the questions of branches not decided yet (``Form.undecided``). Once every question is
    answered none may remain, even where a condition reads answers that were never asked (a route not taken):
    the last question is “n of n”."""
    form = CATALOG.form(pid)
    answers = CASES[pid]()
    assert form.next_slot(answers, SUBMITTED.date()) is None
    assert form.undecided(answers, SUBMITTED.date()) == 0


# -- templates -----------------------------------------------------------------------------
def test_templates_are_consistent_with_the_definitions():
    assert check_templates(CATALOG) == []


@pytest.mark.parametrize("pid", available)
def test_every_procedure_has_its_form(pid):
    assert has_form(pid)
    assert pid in template_for(pid).procedures


def test_one_form_serves_both_disability_procedures():
    assert template_for("xac-dinh-muc-do-khuyet-tat") is template_for("doi-cap-lai-giay-xac-nhan-khuyet-tat")
    assert not has_form("no-such-procedure")


def test_fonts_are_shipped_with_their_licence():
    for name in ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        assert (FONTS_DIR / name).stat().st_size > 100_000
    assert "Bitstream" in (FONTS_DIR / "LICENSE").read_text(encoding="utf-8")


# -- golden text ---------------------------------------------------------------------------
@pytest.mark.parametrize("pid", available)
def test_golden_text(pid):
    text = render_text(pid, CASES[pid](), submitted_at=SUBMITTED, code=CODES[pid])
    assert unicodedata.is_normalized("NFC", text)
    golden = GOLDEN / f"{pid}.txt"
    if UPDATE or not golden.exists():
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote {golden}; read it against the seed form, then run the tests again")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("pid", available)
def test_blank_form_has_dotted_leaders_and_no_values(pid):
    text = render_text(pid, {})
    assert "CỘNG H" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "……" in text
    assert "(bỏ qua)" not in text and "None" not in text
    assert "☒" not in text and "Mã hồ sơ" not in text


def test_funeral_text_fields():
    text = render_text("ho-tro-chi-phi-mai-tang", funeral(), submitted_at=SUBMITTED, code="MT-1")
    assert "1. Họ và tên (Viết chữ in hoa). NGUYỄN VĂN AN" in text
    assert "3. Ngày 10 tháng 11 năm 2026 chết" in text
    assert "4. Nguyên nhân chết Thiên tai" in text
    assert "Nơi ở: 45 Nguyễn Huệ, Phường Sài Gòn, Thành phố Hồ Chí Minh" in text
    assert "cấp ngày ……" in text  # the optional issue date was skipped


def test_funeral_part_two_follows_the_organiser():
    household = render_text("ho-tro-chi-phi-mai-tang", funeral())
    assert "2. Trường hợp hộ gia đình, cá nhân đứng ra mai táng" in household
    assert "1. Trường hợp cơ quan, tổ chức đứng ra mai táng" not in household
    org = render_text("ho-tro-chi-phi-mai-tang", funeral_by_organisation(), submitted_at=SUBMITTED)
    assert "1. Trường hợp cơ quan, tổ chức đứng ra mai táng" in org
    assert "a) Tên cơ quan, tổ chức: Ủy ban Mặt trận Tổ quốc Việt Nam xã Đức Trọng" in org
    assert "- Chức vụ: Chủ tịch" in org
    assert "2. Trường hợp hộ gia đình" not in org
    officer = org.split("XÁC NHẬN CỦA ỦY BAN NHÂN DÂN CẤP XÃ")[1].split("Mã hồ sơ")[0]
    assert "của ông (bà) .................... là đúng." in officer  # left blank for the officer
    assert "Ngày .... tháng .... năm ..." in officer and "Phan Văn Hải" not in officer
    assert "Phan Văn Hải" in org.split("Người khai")[1]  # the representative signs


def test_disability_request_boxes():
    text = render_text("doi-cap-lai-giay-xac-nhan-khuyet-tat", disability_exchange())
    assert "☒ Cấp đổi Giấy xác nhận khuyết tật" in text
    assert text.count("☒") == 1 and text.count("☐") == 3
    assert "Chủ tịch Ủy ban nhân dân xã Thanh Hà" in text
    a = disability_exchange() | {"request.type": "cap_lai"}
    assert "☒ Cấp lại Giấy xác nhận khuyết tật" in render_text("doi-cap-lai-giay-xac-nhan-khuyet-tat", a)


@pytest.mark.skipif("xac-dinh-muc-do-khuyet-tat" not in CATALOG.procedures, reason="not defined yet")
def test_disability_grids():
    text = render_text("xac-dinh-muc-do-khuyet-tat", disability_assessment())
    assert "| 1.2 | Thiếu tay hoặc không cử động được tay | x |  |" in text
    assert "| 1.1 | Mềm nhẽo hoặc co cứng toàn thân |  | x |" in text
    assert "| 1 | Khuyết tật vận động |  |  |" in text  # group rows carry no mark
    assert "| 1. Đi lại |  | x |  |  |" in text
    assert "| 10. Đọc, viết, tính toán và kỹ năng học tập khác |  |  |  | x |" in text
    # a child under 6 is not asked the activities: the grid stays empty
    child = {k: v for k, v in disability_assessment().items() if not k.startswith("activity.")}
    child["person.birth_date"] = "2022-01-01"
    rows = [ln for ln in render_text("xac-dinh-muc-do-khuyet-tat", child).splitlines()
            if re.match(r"\| \d+\. ", ln)]
    assert len(rows) == 10 and all(" x " not in r for r in rows)


def test_representative_phone_only_with_a_representative():
    a = disability_exchange()
    assert "- Số điện thoại: 0904123456" in render_text("doi-cap-lai-giay-xac-nhan-khuyet-tat", a)
    for k in [k for k in a if k.startswith("rep.")]:
        del a[k]
    a["filer.role"] = "self"
    text = render_text("doi-cap-lai-giay-xac-nhan-khuyet-tat", a)
    assert "0904123456" not in text  # the applicant's own phone is not the representative's
    assert "Đỗ Thị Lan" in text.split("Người viết đơn")[1]


@pytest.mark.skipif("xac-nhan-ho-muc-song-trung-binh" not in CATALOG.procedures, reason="not defined yet")
def test_members_table_rows():
    text = render_text("xac-nhan-ho-muc-song-trung-binh", average_household())
    assert "| 03 | Hoàng Gia Phúc | Con |" in text
    # the box is the household's income: 2,000,000 đ a person × 3 members, in thousands
    assert "thu nhập bình quân của gia đình/tháng (ngàn đồng/tháng): 6.000" in text
    assert "Nam: ☐   Nữ: ☒" in text
    one = {k: v for k, v in average_household().items() if not re.match(r"members\[[12]\]\.", k)}
    one["members[0]._more"] = False
    text = render_text("xac-nhan-ho-muc-song-trung-binh", one)
    assert "| 01 | Phạm Thị Dung | Chủ hộ |" in text
    assert "| 02 |  |  |" in text  # the form's two printed rows are always there


def test_date_line_uses_vietnam_time_and_place():
    late = datetime(2026, 11, 22, 18, 30, tzinfo=UTC)  # 01:30 on 23 November in Vietnam
    text = render_text("doi-cap-lai-giay-xac-nhan-khuyet-tat", disability_exchange(), submitted_at=late,
                       code="KT-1")
    assert "Thanh Hà, ngày 23 tháng 11 năm 2026" in text
    assert "Nộp qua Trợ lý Dịch vụ công ngày 23/11/2026" in text
    assert "Mã hồ sơ: KT-1" in text


def test_decomposed_input_comes_out_composed():
    a = funeral()
    a["deceased.full_name"] = unicodedata.normalize("NFD", "NGUYỄN VĂN AN")
    text = render_text("ho-tro-chi-phi-mai-tang", a)
    assert "NGUYỄN VĂN AN" in text and unicodedata.is_normalized("NFC", text)


# -- PDF -----------------------------------------------------------------------------------
KEY_STRINGS = {
    "ho-tro-chi-phi-mai-tang": ["TỜ KHAI ĐỀ NGHỊ HỖ TRỢ CHI PHÍ MAI TÁNG", "NGUYỄN VĂN AN", "NGUYỄN THỊ BÌNH",
                                "Thôn 3, Xã Đức Trọng, Tỉnh Lâm Đồng", "XÁC NHẬN CỦA ỦY BAN NHÂN DÂN CẤP XÃ"],
    "doi-cap-lai-giay-xac-nhan-khuyet-tat": ["GIẤY XÁC NHẬN KHUYẾT TẬT", "Đỗ Thị Lan", "☒ Cấp đổi",
                                             "Chủ tịch Ủy ban nhân dân xã Thanh Hà"],
    "xac-dinh-muc-do-khuyet-tat": ["Khuyết tật vận động", "Trần Minh Khôi", "Thực hiện được nhưng cần trợ giúp"],
    "ho-tro-nha-o": ["TỜ KHAI ĐỀ NGHỊ HỖ TRỢ VỀ NHÀ Ở", "LÊ VĂN CƯỜNG", "Thuộc hộ cận nghèo"],
    "xac-nhan-ho-muc-song-trung-binh": ["Phạm Thị Dung", "Hoàng Gia Phúc", "Người viết đơn"],
    "dang-ky-co-so-tro-giup-xa-hoi": ["TỜ KHAI ĐĂNG KÝ HOẠT ĐỘNG TRỢ GIÚP XÃ HỘI", "Mái ấm Tình Thương Đức Trọng",
                                      "Võ Thị Giang"],
}


@pytest.mark.parametrize("pid", available)
def test_pdf_has_the_form_with_diacritics(pid, tmp_path):
    data = render_pdf(pid, CASES[pid](), submitted_at=SUBMITTED, code=CODES[pid])
    assert data.startswith(b"%PDF-")
    text = squash(pdf_text(data, tmp_path))
    for s in KEY_STRINGS[pid] + ["CỘNG H", "Độc lập - Tự do - Hạnh phúc", CODES[pid],
                                 "Nộp qua Trợ lý Dịch vụ công ngày 23/11/2026"]:
        assert squash(s) in text, s


def test_pdf_page_numbers_and_no_alias_substitution(tmp_path):
    a = disability_assessment() | {"rep.relation": "Mẹ {nb}"}
    data = render_pdf("xac-dinh-muc-do-khuyet-tat", a, submitted_at=SUBMITTED, code="XD-1")
    text = pdf_text(data, tmp_path)
    assert "Mẹ {nb}" in text
    assert "Trang 1/3" in text and "Trang 3/3" in text


def test_blank_pdf_renders():
    for pid in {p for t in load_templates()[0].values() for p in t.procedures} & set(CATALOG.procedures):
        assert render_pdf(pid, {}).startswith(b"%PDF-")


# -- CLI -----------------------------------------------------------------------------------
def test_cli_renders_a_stored_dossier(tmp_path, capsys, monkeypatch):
    from bot.cli import main
    from bot.service import Runtime
    from storage.repo import DossierRepo

    url = f"sqlite+aiosqlite:///{tmp_path}/dvcbot.db"

    async def store() -> None:
        async with Runtime(url, var_dir=tmp_path / "var", catalog=shared_catalog()) as rt, rt.sm() as db:
            await DossierRepo(db).create(
                code=CODES["ho-tro-chi-phi-mai-tang"], idempotency_key="u:mt:1",
                procedure_id="ho-tro-chi-phi-mai-tang", procedure_version=1, agency="commune",
                commune_code="24958", submitter_key="console:test", applicant_key=None,
                applicant_name="NGUYỄN THỊ BÌNH", answers=funeral(), lang="vi",
                submitted_at=SUBMITTED, due_date=date(2026, 11, 26), attachments=[])
            await db.commit()

    asyncio.run(store())
    base = ["--db", url, "--var", str(tmp_path / "var")]
    assert main([*base, "form", CODES["ho-tro-chi-phi-mai-tang"], "--text"]) == 0
    out = capsys.readouterr().out
    expected = render_text("ho-tro-chi-phi-mai-tang", funeral(), submitted_at=SUBMITTED,
                           code=CODES["ho-tro-chi-phi-mai-tang"])
    assert out == expected

    pdf = tmp_path / "to-khai.pdf"
    assert main([*base, "form", CODES["ho-tro-chi-phi-mai-tang"], "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF-")

    monkeypatch.chdir(tmp_path)
    assert main([*base, "form", CODES["ho-tro-chi-phi-mai-tang"]]) == 0
    assert (tmp_path / f"{CODES['ho-tro-chi-phi-mai-tang']}.pdf").exists()

    capsys.readouterr()
    assert main([*base, "form", "MT-0000-NOTHERE"]) == 1
    assert "Không tìm thấy hồ sơ" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# `dvcbot catalog check`: what it catches (a copy of a real definition, broken on purpose)
def _broken_catalog(tmp_path, edit) -> list[str]:
    import yaml as _yaml

    from dialogs.catalog import PROCEDURES_DIR, Catalog

    data = _yaml.safe_load((PROCEDURES_DIR / "xac-nhan-ho-muc-song-trung-binh.yaml").read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / "xac-nhan-ho-muc-song-trung-binh.yaml").write_text(_yaml.safe_dump(data, allow_unicode=True),
                                                                   encoding="utf-8")
    return Catalog.load(tmp_path).check()


def _field(data: dict, fid: str) -> dict:
    return next(f for s in data["sections"] for f in s["fields"] if f["id"] == fid)


def test_catalog_check_catches_a_follow_up_carrying_an_answer_of_another_kind(tmp_path):
    import shutil

    import yaml as _yaml

    from dialogs.catalog import PROCEDURES_DIR, Catalog

    shutil.copy(PROCEDURES_DIR / "ho-tro-mai-tang-huu-tri-xa-hoi.yaml", tmp_path)
    data = _yaml.safe_load((PROCEDURES_DIR / "lien-thong-khai-tu.yaml").read_text(encoding="utf-8"))
    data["follow_ups"][0]["carry"].update({
        "deceased.sex": "deceased.full_name",  # a name is no choice
        "deceased.nickname": "deceased.full_name",  # no such question there
        "deceased.full_name": ["deceased.nickname"],  # nor here
        "deceased.funeral_place": "deceased.residence",  # a text question takes any answer as it reads
    })
    data["follow_ups"][0]["values"].update({"filer.role": "neighbour", "deceased.had_social_pension": True})
    (tmp_path / "lien-thong-khai-tu.yaml").write_text(_yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = "\n".join(Catalog.load(tmp_path).check())
    assert "follow_ups[0].carry.deceased.sex: 'deceased.full_name' is not a choice question with its options" \
        in problems
    assert "follow_ups[0].carry: ho-tro-mai-tang-huu-tri-xa-hoi has no question 'deceased.nickname'" in problems
    assert "follow_ups[0].carry.deceased.full_name: no question 'deceased.nickname' outside a repeat" in problems
    assert "funeral_place" not in problems
    assert "follow_ups[0].values.filer.role: 'neighbour' is no answer of that question" in problems
    assert "had_social_pension" not in problems


def test_catalog_check_is_clean_for_an_unchanged_copy(tmp_path):
    problems = _broken_catalog(tmp_path, lambda d: None)
    assert not [p for p in problems if "translation" not in p], problems


def test_catalog_check_catches_unknown_refs_unreachable_bad_expressions_and_translations(tmp_path):
    def edit(d):
        _field(d, "applicant.full_name")["relevant"] = "applicant.nickname == 'x'"        # unknown field
        _field(d, "applicant.sex")["relevant"] = "applicant.phone == '0912345678'"         # asked later
        _field(d, "applicant.birth_date")["relevant"] = "household.occupation ==="        # bad expression
        _field(d, "applicant.ethnicity")["relevant"] = "household.occupation == 'ca_si'"  # no such choice
        _field(d, "applicant.phone")["prompt"] = "Một câu hỏi chưa có bản dịch?"          # no translation
        d["eligibility"][0]["ineligible_if"] = "household.income_per_person > std.ceiling"  # unknown standard
        occupation = next(f for s in d["sections"] for f in s["fields"] if f.get("kind") == "choice")
        occupation["choices"][0]["same_as"] = ["applicant.nickname"]                    # same_as: unknown field
        occupation["choices"][1]["same_as"] = ["applicant.full_name"]                   # same_as: asked later
        occupation["choices"][2]["also"] = ["tôi"]
        occupation["choices"][2]["also_answers"] = {"field": "applicant.birth_date", "words": ["tôi"]}  # a date
        _field(d, "applicant.ethnicity")["prompt"] = "Dân tộc? (không bắt buộc)"        # said by the bot itself
        _field(d, "applicant.residence")["same_as"] = ["applicant.current_address"]     # an address asked later
        d["nlu"]["answers"] = [{"field": "applicant.nickname"},                          # nlu.answers: unknown field
                               {"field": "household.occupation", "value": "ca_si", "words": ["hát"]}]  # no such option
        _field(d, "applicant.current_address")["same_as"] = ["applicant.phone"]         # not an address
        _field(d, "applicant.phone")["same_as"] = ["applicant.residence"]               # not a phone question
        _field(d, "applicant.ethnicity")["same_as"] = ["applicant.birth_date"]          # a text question: a name
        _field(d, "applicant.birth_date")["same_as"] = ["applicant.full_name"]          # a date question: none
        members = next(s for s in d["sections"] if s["id"] == "members")
        members["repeat"]["first_from"] = {"nickname": "applicant.full_name", "sex": "applicant.phone"}
        members["repeat"]["first_values"] = {"relation": "vua"}
        d["follow_ups"] = [{"procedure": "xac-nhan-ho-muc-song-trung-binh", "when": "applicant.nickname == 'x'",
                            "carry": {"applicant.full_name": "applicant.full_name"}}]  # itself; an unknown field

    problems = "\n".join(_broken_catalog(tmp_path, edit))
    assert "follow_ups[0]: 'xac-nhan-ho-muc-song-trung-binh' is no other procedure of the catalogue" in problems
    assert "follow_ups[0].when: unknown field 'applicant.nickname'" in problems
    assert "unknown field 'applicant.nickname'" in problems
    assert "refers to 'applicant.phone', which is asked later; the question can never be reached" in problems
    assert "bad expression 'household.occupation ==='" in problems
    assert "has no choice 'ca_si'" in problems
    assert "no en translation for 'Một câu hỏi chưa có bản dịch?'" in problems
    assert "unknown standard 'std.ceiling'" in problems
    assert ".same_as: unknown field 'applicant.nickname'" in problems
    assert ".same_as: 'applicant.full_name' is asked later" in problems
    assert ".also_answers: 'applicant.birth_date' is not a text question asked later" in problems
    assert "field applicant.ethnicity: the prompt says it may be skipped" in problems
    assert "applicant.residence.same_as: 'applicant.current_address' is asked later" in problems
    assert "applicant.current_address.same_as: 'applicant.phone' is not an address question" in problems
    assert "applicant.phone.same_as: 'applicant.residence' is not a phone question" in problems
    assert "applicant.ethnicity.same_as: 'applicant.birth_date' is not a name or text question" in problems
    assert "applicant.birth_date.same_as: only an address, a phone or a text question takes it" in problems
    assert "section members.repeat.first_from.nickname: no field 'nickname' in the group" in problems
    assert "section members.repeat.first_from.sex: 'applicant.phone' is not a choice question" in problems
    assert "section members.repeat.first_values.relation: no field 'relation' of the group with the option 'vua'" \
        in problems
    assert "nlu.answers[0]: 'applicant.nickname' is no yes/no or choice question outside a repeat" in problems
    assert "nlu.answers[1]: 'ca_si' is no answer of 'household.occupation'" in problems


def test_template_check_catches_a_leg_form_with_no_template(tmp_path):
    import yaml as _yaml

    from dialogs.catalog import PROCEDURES_DIR, Catalog

    name = "lien-thong-khai-tu.yaml"
    data = _yaml.safe_load((PROCEDURES_DIR / name).read_text(encoding="utf-8"))
    leg = next(leg for leg in data["legs"] if leg.get("forms"))
    leg["forms"] = ["to-khai-khong-co"]
    (tmp_path / name).write_text(_yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = check_templates(Catalog.load(tmp_path))
    assert f"lien-thong-khai-tu: leg {leg['id']}: no form template 'to-khai-khong-co' in dialogs/forms/templates" \
        in problems, problems


def test_dated_standard_in_force_is_picked_by_date():
    from datetime import date as _date

    proc = shared_catalog().get("xac-nhan-ho-muc-song-trung-binh")
    st, stale = proc.standard_at(_date(2024, 5, 1))
    assert st.values == {"poverty_line": 1500000, "upper": 2250000, "poverty_line_urban": 2000000,
                         "upper_urban": 3000000} and not stale
    assert "07/2021" in st.source
    st, stale = proc.standard_at(_date(2026, 11, 23))  # extended to the end of 2026
    assert st.valid_to == _date(2026, 12, 31) and not stale
    st, stale = proc.standard_at(_date(2027, 1, 4))  # after the last recorded period: latest one, flagged
    assert st.valid_to == _date(2026, 12, 31) and stale


# ------------------------------------------------------------------------------------------------
# Dates and numbers in Vietnamese words ("ghi bằng chữ" on the birth declaration)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dialogs.forms.words import date_in_words, number_in_words  # noqa: E402

WORDS = {
    0: "không", 1: "một", 4: "bốn", 5: "năm", 10: "mười", 11: "mười một", 14: "mười bốn", 15: "mười lăm",
    20: "hai mươi", 21: "hai mươi mốt", 24: "hai mươi bốn", 25: "hai mươi lăm", 30: "ba mươi",
    31: "ba mươi mốt", 100: "một trăm", 101: "một trăm linh một", 105: "một trăm linh năm", 110: "một trăm mười",
    115: "một trăm mười lăm", 1000: "một nghìn", 1905: "một nghìn chín trăm linh năm",
    1950: "một nghìn chín trăm năm mươi", 1990: "một nghìn chín trăm chín mươi", 2000: "hai nghìn",
    2001: "hai nghìn không trăm linh một", 2004: "hai nghìn không trăm linh bốn",
    2005: "hai nghìn không trăm linh năm", 2010: "hai nghìn không trăm mười",
    2015: "hai nghìn không trăm mười lăm", 2021: "hai nghìn không trăm hai mươi mốt",
    2024: "hai nghìn không trăm hai mươi bốn", 2026: "hai nghìn không trăm hai mươi sáu",
    2100: "hai nghìn một trăm", 25_000: "hai mươi lăm nghìn", 1_000_005: "một triệu không trăm linh năm",
    2_050_000: "hai triệu không trăm năm mươi nghìn", 1_000_000_000: "một tỷ",
}


@pytest.mark.parametrize("n", list(WORDS))
def test_number_in_words(n):
    assert number_in_words(n) == WORDS[n]


@pytest.mark.parametrize("d, words", [
    (date(2026, 11, 15), "Ngày mười lăm, tháng mười một, năm hai nghìn không trăm hai mươi sáu"),
    (date(2005, 1, 1), "Ngày một, tháng một, năm hai nghìn không trăm linh năm"),
    (date(1990, 4, 4), "Ngày bốn, tháng tư, năm một nghìn chín trăm chín mươi"),
    (date(2010, 12, 24), "Ngày hai mươi bốn, tháng mười hai, năm hai nghìn không trăm mười"),
    (date(2025, 5, 25), "Ngày hai mươi lăm, tháng năm, năm hai nghìn không trăm hai mươi lăm"),
    (date(2001, 2, 21), "Ngày hai mươi mốt, tháng hai, năm hai nghìn không trăm linh một"),
    (date(2014, 10, 14), "Ngày mười bốn, tháng mười, năm hai nghìn không trăm mười bốn"),
    (date(2000, 3, 31), "Ngày ba mươi mốt, tháng ba, năm hai nghìn"),
    (date(2026, 11, 5), "Ngày năm, tháng mười một, năm hai nghìn không trăm hai mươi sáu"),
])
def test_date_in_words(d, words):
    assert date_in_words(d) == words


@pytest.mark.parametrize("bad", [-1, 10 ** 12, True, 1.5, "12"])
def test_number_in_words_refuses_what_it_cannot_write(bad):
    with pytest.raises((ValueError, TypeError)):
        number_in_words(bad)


_DIGIT = {"không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "lăm": 5, "sáu": 6, "bảy": 7,
          "tám": 8, "chín": 9}
_SCALE = {"nghìn": 10 ** 3, "triệu": 10 ** 6, "tỷ": 10 ** 9}


def _read_number(words: str) -> int:
    """An independent reader of the words back into a number (for the round trip)."""
    total = group = pending = 0
    for w in words.split():
        if w in _DIGIT:
            pending = _DIGIT[w]
        elif w == "trăm":
            group, pending = group + pending * 100, 0
        elif w == "mươi":
            group, pending = group + pending * 10, 0
        elif w == "mười":
            group += 10
        elif w == "linh":
            pass
        elif w in _SCALE:
            total, group, pending = total + (group + pending) * _SCALE[w], 0, 0
        else:
            raise AssertionError(f"unexpected word {w!r} in {words!r}")
    return total + group + pending


def _well_formed(words: str) -> None:
    """The written conventions, wherever the word falls."""
    ws = words.split()
    for prev, w in zip(["", *ws], ws, strict=False):
        assert w != "lẻ" and w != "ngàn" and w != "tư" and w != "nhăm", words
        if w == "mốt":
            assert prev == "mươi", words           # 21 hai mươi mốt, but 11 mười một, 101 một trăm linh một
        if w == "lăm":
            assert prev in ("mười", "mươi"), words  # 15 mười lăm, 105 một trăm linh năm
        if prev in ("mười", "mươi"):
            assert w != "năm", words               # 25 hai mươi lăm, never hai mươi năm
        if prev == "mươi":
            assert w != "một", words
        if w == "linh":
            assert prev == "trăm", words
    assert "mười mốt" not in words and "một mươi" not in words, words


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=10 ** 12 - 1))
def test_number_words_round_trip(n):
    words = number_in_words(n)
    _well_formed(words)
    assert _read_number(words) == n


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_date_words_round_trip(d):
    words = date_in_words(d)
    m = re.fullmatch(r"Ngày ([^,]+), tháng ([^,]+), năm (.+)", words)
    assert m, words
    months = {"một": 1, "hai": 2, "ba": 3, "tư": 4, "năm": 5, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9, "mười": 10,
              "mười một": 11, "mười hai": 12}
    day, month, year = m.groups()
    _well_formed(day)
    _well_formed(year)
    assert date(_read_number(year), months[month], _read_number(day)) == d
    if d.year >= 2000 and d.year % 1000 < 100 and d.year % 1000:
        assert "không trăm" in year  # 2026: hai nghìn không trăm hai mươi sáu


def test_words_filter_on_the_birth_declaration():
    from dialogs.forms.render import Filler, _template_by_id

    tpl = _template_by_id("to-khai-dang-ky-khai-sinh")
    f = Filler(tpl, CATALOG.forms.get("lien-thong-khai-sinh"), {"child.birth_date": "2026-11-15", "child.copies": 2},
               {}, SUBMITTED.date())
    assert f.fill("{child.birth_date|words}") == "Ngày mười lăm, tháng mười một, năm hai nghìn không trăm hai mươi sáu"
    assert f.fill("{child.copies|words}") == "hai"
    assert f.fill("{child.full_name|words|dots:5}") == "…" * 5  # unanswered: a leader, never "None"
    blank = render_text("lien-thong-khai-sinh", {}, template="to-khai-dang-ky-khai-sinh")
    assert "ghi bằng chữ: " + "…" * 30 in blank and "None" not in blank


def test_a_birth_year_alone_is_printed_as_the_year():
    """A deceased whose papers show only the year (``year_only``): the forms print “1941”, its day and month blank,
    never “None” or an invented 1 January."""
    from dialogs.forms.render import Filler, _template_by_id

    tpl = _template_by_id("to-khai-dang-ky-khai-tu")
    f = Filler(tpl, CATALOG.forms.get("lien-thong-khai-tu"), {"deceased.birth_date": "1941"}, {}, SUBMITTED.date())
    assert f.fill("{deceased.birth_date}") == "1941"
    assert f.fill("{deceased.birth_date|year}") == "1941"
    assert f.fill("{deceased.birth_date|day|dots:3}") == "…" * 3
    text = render_text("lien-thong-khai-tu", {"deceased.birth_date": "1941"}, template="to-khai-dang-ky-khai-tu")
    assert "Ngày, tháng, năm sinh: 1941" in text and "01/01/1941" not in text
