"""Tests for dialogs.parsing and dialogs.textnorm."""
from __future__ import annotations

import ast
import contextlib
import string
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs import parsing
from dialogs.parsing import (
    Invalid,
    check_attachment,
    format_date,
    format_int,
    match_choice,
    match_multi_choice,
    parse_date,
    parse_email,
    parse_id_number,
    parse_money,
    parse_name,
    parse_number,
    parse_phone,
    parse_text,
    parse_yes_no,
    says_unknown,
    sniff_mime,
)
from dialogs.textnorm import fold, nfc, similarity, title_vi

TODAY = date(2025, 10, 20)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VI_CHARS = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
MESSY = st.text(
    alphabet=st.sampled_from(list(VI_CHARS + VI_CHARS.upper() + string.digits + " .,/-:;+@'đĐ%kđ"))
    | st.characters(),
    max_size=40,
)


def invalid(fn, *args, **kwargs) -> Invalid:
    """Call ``fn`` expecting Invalid; check the message renders; return it."""
    with pytest.raises(Invalid) as info:
        fn(*args, **kwargs)
    exc = info.value
    rendered = exc.render()
    assert "{" not in rendered, rendered  # every placeholder was supplied
    assert exc.render(lambda m: m) == rendered
    return exc


# --------------------------------------------------------------------------
# textnorm
# --------------------------------------------------------------------------


class TestTextnorm:
    def test_fold_strips_all_diacritics(self) -> None:
        assert fold("  Nguyễn   Văn ĐỨC ") == "nguyen van duc"
        assert fold("Đắk Lắk, Hòa Bình, Thừa Thiên Huế") == "dak lak, hoa binh, thua thien hue"
        assert fold(VI_CHARS).isascii()
        assert fold("ỨỪỬỮỰ ưứừửữự") == "uuuuu uuuuuu"

    def test_fold_nfd_equals_nfc(self) -> None:
        text = "Trần Thị Bích Ngọc – Quảng Ngãi"
        assert fold(unicodedata.normalize("NFD", text)) == fold(text)

    @FAST
    @given(MESSY)
    def test_fold_idempotent(self, s: str) -> None:
        assert fold(fold(s)) == fold(s)

    @FAST
    @given(st.text(alphabet=VI_CHARS + VI_CHARS.upper() + string.printable, max_size=40))
    def test_fold_vietnamese_is_ascii_whatever_the_normal_form(self, s: str) -> None:
        folded = fold(unicodedata.normalize("NFC", s))
        assert folded == fold(unicodedata.normalize("NFD", s))
        assert folded.isascii()

    def test_nfc(self) -> None:
        assert nfc(unicodedata.normalize("NFD", "Nguyễn")) == "Nguyễn"

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("nguyễn văn an", "Nguyễn Văn An"),
            (unicodedata.normalize("NFD", "nguyễn văn an"), "Nguyễn Văn An"),
            ("LÊ THỊ  BÍCH-NGỌC", "Lê Thị Bích-Ngọc"),
            ("h'hen niê", "H'Hen Niê"),
            ("đặng đức", "Đặng Đức"),
        ],
    )
    def test_title_vi(self, raw: str, expected: str) -> None:
        assert title_vi(raw) == expected

    def test_similarity(self) -> None:
        assert similarity("Lâm Đồng", "lam dong") == 1.0
        assert similarity("Lâm Đồng", "lam dongg") > 0.9
        assert similarity("Lâm Đồng", "Cà Mau") < 0.5
        assert similarity("", "x") == 0.0


# --------------------------------------------------------------------------
# Invalid / messages
# --------------------------------------------------------------------------


def _n_messages() -> list[str]:
    source = Path(parsing.__file__).read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
            arg = node.args[0]
            assert isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            found.append(arg.value)
    return found


def test_all_messages_are_vietnamese_with_diacritics() -> None:
    messages = _n_messages()
    assert len(messages) > 30
    for message in messages:
        assert not message.isascii(), message
        assert message == nfc(message), message
        assert message.rstrip()[-1] in ".?!", message


def test_invalid_keeps_msgid_and_params() -> None:
    exc = Invalid("Tệp quá lớn ({size} MB).", size="3")
    assert exc.message == "Tệp quá lớn ({size} MB)."
    assert exc.params == {"size": "3"}
    assert exc.render() == "Tệp quá lớn (3 MB)."
    assert exc.render(lambda m: m.replace("Tệp quá lớn", "File too large")) == "File too large (3 MB)."
    assert "3" not in repr(exc)


def test_formatters() -> None:
    assert format_date(date(1960, 3, 5)) == "05/03/1960"
    assert format_int(1500000) == "1.500.000"
    assert format_int(-1000) == "-1.000"


# --------------------------------------------------------------------------
# parse_text / parse_name
# --------------------------------------------------------------------------


class TestText:
    def test_accepts_and_normalises(self) -> None:
        assert parse_text("  " + unicodedata.normalize("NFD", "Xin chào") + " ") == "Xin chào"

    def test_errors(self) -> None:
        assert invalid(parse_text, "   ").message == "Vui lòng nhập nội dung trả lời."
        exc = invalid(parse_text, "ab", min_len=3)
        assert exc.params == {"min": 3}
        exc = invalid(parse_text, "abcdef", max_len=5)
        assert exc.params == {"length": 6, "max": 5}
        exc = invalid(parse_text, "abc", pattern=r"\d+")
        assert exc.message == "Nội dung chưa đúng định dạng. Vui lòng kiểm tra lại."
        exc = invalid(parse_text, "abc", pattern=r"\d+", pattern_message="Chỉ nhập chữ số.")
        assert exc.message == "Chỉ nhập chữ số."
        assert parse_text("123", pattern=r"\d+") == "123"


def test_only_a_year() -> None:
    """A birth date whose papers show only the year (a date field's ``year_only``)."""
    from dialogs.parsing import only_a_year

    for raw in ("1941", "năm 1941", "không nhớ ngày, chỉ biết năm 1941", "bà sinh năm 1941 ạ", "Giấy chỉ ghi 1941"):
        assert only_a_year(raw) == 1941, raw
    for raw in ("5/3/1941", "tháng 3 năm 1941", "41", "19411", "hôm qua", "", "1941 hoặc 1942", "85 tuổi"):
        assert only_a_year(raw) is None, raw


def test_a_year_alone_is_kept_when_said_to_be_all_the_papers_show() -> None:
    """“1941” at the deceased's birth date had no way through when the papers show only the year: the field's
    ``year_only`` keeps it once the answer says so (“chỉ có năm 1941”); a bare year is asked in full, saying how."""
    from dialogs import kinds
    from dialogs.schema import FieldDef

    born = FieldDef.model_validate({"id": "b", "kind": "date", "prompt": "Ngày sinh?", "past_only": True,
                                    "year_only": True})
    date_kind = kinds.get("date")
    with pytest.raises(Invalid) as exc:
        date_kind.parse(born, "1941", today=date(2026, 12, 6), lookup=None)
    assert "chỉ có năm {year}" in exc.value.message and exc.value.params["year"] == "1941"
    for raw in ("chỉ có năm 1941", "khong nho ngay thang, chi biet nam 1941", "only the year 1941"):
        assert date_kind.parse(born, raw, today=date(2026, 12, 6), lookup=None) == "1941"
        assert date_kind.display(born, "1941", lambda s, **kw: s) == "1941"
    with pytest.raises(Invalid):
        date_kind.parse(born, "chỉ có năm 2030", today=date(2026, 12, 6), lookup=None)
    assert date_kind.parse(born, "5/3/1941", today=date(2026, 12, 6), lookup=None) == "1941-03-05"
    with pytest.raises(ValueError):  # only for a date in the past
        FieldDef.model_validate({"id": "b", "kind": "date", "prompt": "Ngày?", "year_only": True})
    whole = born.model_copy(update={"year_only": False})  # the whole date needed: where it is found, not “chưa đúng”
    with pytest.raises(Invalid) as exc:
        date_kind.parse(whole, "bà không nhớ ngày sinh, chỉ biết năm 1940", today=date(2026, 12, 6), lookup=None)
    assert "thẻ căn cước, giấy khai sinh" in exc.value.message and exc.value.params["year"] == "1940"


class TestName:
    @pytest.mark.parametrize("raw", ["khong", "Không ạ", "ko", "chưa", "co", "Có", "vâng ạ"])
    def test_a_bare_no_is_no_name(self, raw: str) -> None:
        """“khong” at a child's name was offered to keep as the one-word name “KHONG”."""
        with pytest.raises(Invalid, match="Câu này hỏi họ và tên"):
            parse_name(raw, upper=True)
        assert parse_name("Khổng", upper=True) == "KHỔNG"  # a surname, as written

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("nguyễn văn an", "Nguyễn Văn An"),
            ("  NGUYỄN   VĂN   AN ", "Nguyễn Văn An"),
            ("nguyen van an", "Nguyen Van An"),
            (unicodedata.normalize("NFD", "trần thị bích ngọc"), "Trần Thị Bích Ngọc"),
            ("h’hen niê", "H'Hen Niê"),
            ("Y - Moan", "Y-Moan"),
            ("Lý", "Lý"),
        ],
    )
    def test_accepts(self, raw: str, expected: str) -> None:
        assert parse_name(raw) == expected

    @pytest.mark.parametrize(("raw", "expected"), [
        ("Tôi tên là Nguyễn Văn An", "Nguyễn Văn An"), ("toi la tran thi lan", "Tran Thi Lan"),
        ("Họ tên: Lê Thị Hoa", "Lê Thị Hoa"), ("ho va ten: le van tam", "Le Van Tam"), ("em tên Lan", "Lan"),
        ("Tôi là", "Tôi Là"), ("Tạ Thị Em", "Tạ Thị Em"),  # nothing follows the intro; “Em” as a name
        ("My name is Tran Thi Lan", "Tran Thi Lan"),  # the bot in English
    ])
    def test_the_words_that_introduce_a_name_are_dropped(self, raw: str, expected: str) -> None:
        assert parse_name(raw) == expected == parse_name(expected)

    def test_a_role_typed_for_a_name_is_refused(self) -> None:
        """“tôi là tình nguyện viên” where the volunteer's name is asked: a role, not a name."""
        for raw in ("toi la tinh nguyen vien", "Người quen", "hàng xóm", "I am a volunteer"):
            assert "không hỏi vai trò" in invalid(parse_name, raw).message, raw

    def test_whose_relative_said_with_or_without_the_name(self) -> None:
        """“tài khoản của mẹ tôi” at the account holder's name was filed “TAI KHOAN CUA”, and “Trần Thị Hoa là mẹ
        tôi” kept its “là”: whose, without a name, is asked again; the joining word is no part of a name."""
        for raw in ("tai khoan cua me toi", "cua me toi", "dung ten bo toi"):
            assert "không hỏi quan hệ" in invalid(parse_name, raw).message, raw
        assert [parse_name(r) for r in ("Trần Thị Hoa là mẹ tôi", "Tran Thi Hoa la me toi", "Nguyen Thi La me toi")] \
            == ["Trần Thị Hoa", "Tran Thi Hoa", "Nguyen Thi La"]

    def test_the_same_as_someone_is_no_name(self) -> None:
        """“giong chau” (the same as the child's, typed a question ahead) was a name, “Giong Chau”; “Nhữ”, “Cung”
        are surnames, and “Như” a given name."""
        for raw in ("giong chau", "Giống mẹ nó", "như mẹ", "giong tren"):
            assert "không phải họ tên" in invalid(parse_name, raw).render(), raw
        names = ["Nhữ Văn An", "Cung Anh", "Như Quỳnh"]
        assert [parse_name(r) for r in names] == names

    def test_another_answer_typed_for_a_name_is_named(self) -> None:
        """An ID number, a mobile number or a date typed where a name is asked (early, or a question late) is said
        to be one, not only refused for its digits."""
        assert "giống số căn cước" in invalid(parse_name, "034144002345").message
        assert "giống số điện thoại" in invalid(parse_name, "0912 333 444").message
        assert invalid(parse_name, "12/5/1944").message.startswith("Đây là một ngày.")
        assert "không được chứa chữ số" in invalid(parse_name, "Nguyễn Văn 2").message

    def test_upper(self) -> None:
        assert parse_name("nguyễn văn an", upper=True) == "NGUYỄN VĂN AN"
        assert parse_name("đặng thị ơn", upper=True) == "ĐẶNG THỊ ƠN"

    def test_errors(self) -> None:
        assert invalid(parse_name, "  ").message == "Vui lòng nhập họ và tên."
        assert "chữ số" in invalid(parse_name, "Nguyễn Văn 2").message
        assert "chỉ gồm chữ cái" in invalid(parse_name, "Nguyễn @ An").message
        assert "quá ngắn" in invalid(parse_name, "a").message
        assert "quá ngắn" in invalid(parse_name, "--").message
        assert invalid(parse_name, "a" * 101).params == {"max": 100}

    def test_marks_that_fold_to_nothing_are_no_name(self) -> None:
        for s in ("\xad", "\xad \xad", "\u200b\xad"):  # a soft hyphen (found by the property below)
            with pytest.raises(Invalid):
                parse_name(s)

    @FAST
    @given(MESSY)
    def test_idempotent(self, s: str) -> None:
        try:
            once = parse_name(s)
        except Invalid:
            return
        assert parse_name(once) == once
        assert parse_name(once, upper=True) == once.upper()


# --------------------------------------------------------------------------
# parse_date
# --------------------------------------------------------------------------


class TestNumberLabels:
    def test_so_before_an_id_an_account_or_a_phone_number(self) -> None:
        """“số 0790…”: the word “số” (number) before the digits, as people say it."""
        from dialogs.banks import parse_account

        assert parse_id_number("số 079085001234") == "079085001234"
        assert parse_id_number("số là 079 085 001 234") == "079085001234"
        assert "thiếu số 0 ở đầu" in invalid(parse_id_number, "79085001234").message  # a spreadsheet's copy
        assert "thiếu số 0" not in invalid(parse_id_number, "99085001234").message  # no province 099: the count
        assert parse_phone("số 0912 345 678") == "0912345678"
        assert parse_account("số 0071 0001 23456") == "0071000123456"


class TestDate:
    def test_a_part_of_the_day_before_the_day(self) -> None:
        today = date(2026, 12, 6)
        got = [parse_date(t, today=today) for t in ("sáng nay", "chieu qua", "vào tối qua", "chiều hôm kia")]
        assert got == [today, date(2026, 12, 5), date(2026, 12, 5), date(2026, 12, 4)]
        # maybe after midnight: both days said, never guessed
        assert invalid(parse_date, "đêm qua", today=today).render() == ("“đêm qua” có thể là ngày 05/12/2026 hoặc "
                                                                         "ngày 06/12/2026 (sau 12 giờ đêm). Vui lòng "
                                                                         "gõ đúng ngày, ví dụ 05/12/2026.")

    def test_a_day_of_the_week_or_of_this_month(self) -> None:
        """“thu 7”, “t7 tuan truoc”, “cn” (a Sunday), “ngay 3 thang nay” were “Ngày chưa đúng”: a weekday alone is
        the latest before today where the day is past, and asked where it may lie ahead; “2 tuần trước” names no
        day."""
        today = date(2026, 12, 8)  # a Tuesday
        got = [parse_date(t, today=today) for t in ("thu 7", "t7 tuan truoc", "cn", "hom thu 3", "ngay 3 thang nay")]
        assert got == [date(2026, 12, 5), date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 1), date(2026, 12, 3)]
        assert "tuần này hay tuần trước" in invalid(parse_date, "thu 7", today=today, prefer_past=False).render()
        assert parse_date("5 t2", today=today) == date(2026, 2, 5)  # (“t2” after a day: February)
        assert "chưa nói rõ ngày nào" in invalid(parse_date, "2 tuan truoc", today=today).render()

    def test_a_day_of_the_week_before_this_one(self) -> None:
        """“chủ nhật tuần trước” (weeks from Monday), “thứ 5 vừa qua” (the latest before today)."""
        sunday, wednesday = date(2026, 12, 6), date(2026, 12, 9)
        assert [parse_date(t, today=sunday) for t in ("chu nhat tuan truoc", "thứ hai tuần trước", "thu 7 tuan truoc",
                                                      "chủ nhật vừa rồi", "thu 5 vua qua")] == \
            [date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 28), date(2026, 11, 29), date(2026, 12, 3)]
        assert [parse_date(t, today=wednesday) for t in ("chu nhat tuan truoc", "hôm thứ tư vừa rồi")] == \
            [date(2026, 12, 6), date(2026, 12, 2)]

    def test_the_words_around_a_date(self) -> None:
        """Which date it is, said before it, and polite words after it: the date alone is read."""
        today = date(2026, 12, 6)
        for raw, expected in (("sinh ngày 5/3/1945", date(1945, 3, 5)), ("ngày sinh 5/3/1945 ạ", date(1945, 3, 5)),
                              ("mất hôm qua", date(2026, 12, 5)), ("chết ngày 1/12", date(2026, 12, 1)),
                              ("mất tích từ ngày 1/12/2026", date(2026, 12, 1)),
                              ("được cấp ngày 15/8/2021 nhé", date(2021, 8, 15)),
                              ("bà mất hôm qua", date(2026, 12, 5)), ("bé sinh ngày 1/12/2026", date(2026, 12, 1)),
                              # and after it: “hôm qua chôn rồi” at the burial's date
                              ("hom qua chon roi", date(2026, 12, 5)), ("chôn hôm qua rồi", date(2026, 12, 5)),
                              ("đã hỏa táng hôm kia", date(2026, 12, 4)), ("5/12 mất", date(2026, 12, 5))):
            assert parse_date(raw, today=today) == expected, raw
        assert "Ngày chưa đúng" in invalid(parse_date, "sinh", today=today).message

    def test_a_birth_date_without_its_year_is_asked_again(self) -> None:
        """“ngay 1 thang 12” at the deceased's birth date was filed 01/12/2026: where the year is needed, a day and
        month are asked again with the year; elsewhere they are this year's, as before."""
        today = date(2026, 12, 6)
        for raw in ("ngay 1 thang 12", "1/12", "sinh ngày 1 tháng 12"):
            msg = invalid(parse_date, raw, today=today, year_needed=True).render()
            assert msg == "Bạn chưa nhập năm. Vui lòng nhập đủ ngày/tháng/năm như trên giấy tờ, ví dụ 01/12/1960.", raw
            assert parse_date(raw, today=today) == date(2026, 12, 1)
        assert parse_date("1/12/45", today=today, year_needed=True) == date(1945, 12, 1)

    def test_days_said_in_clauses_are_named(self) -> None:
        """“hom qua moi tim thay xac, chon hom nay” at the burial date said only “Ngày chưa đúng”: the day a clause
        says is named, to be typed alone; two days said are both named; a date written with commas is a date."""
        today = date(2026, 12, 8)
        msg = invalid(parse_date, "hom qua moi tim thay xac, chon hom nay", today=today).render()
        assert msg == "Câu này hỏi một ngày. Nếu là ngày 08/12/2026 (“chon hom nay”), vui lòng gõ “08/12/2026”."
        msg = invalid(parse_date, "chet hom 30/11, chon ngay 2/12", today=today).render()
        assert msg.startswith("Bạn gõ hai ngày (30/11/2026 và 02/12/2026)"), msg
        assert parse_date("12, 3, 2024", today=today) == date(2024, 3, 12)
        assert "Ngày chưa đúng" in invalid(parse_date, "khong nho, khoang nam 1950", today=today).message

    def test_an_age_is_asked_as_the_date(self) -> None:
        for raw in ("85 tuổi", "năm nay 85 tuổi", "thọ 90 tuổi"):
            assert "Bạn vừa nhập tuổi" in invalid(parse_date, raw, today=date(2026, 12, 6)).message, raw

    def test_a_day_ahead_in_words(self) -> None:
        """A burial planned: “ngày mai”, “ngày mốt”, “3 ngày nữa”; a question for a past date refuses them as it
        does any date ahead."""
        today = date(2026, 12, 6)
        got = [parse_date(t, today=today, prefer_past=False)
               for t in ("ngày mai", "mai", "chiều mai", "ngày kia", "ngày mốt", "3 ngày nữa", "2 hôm tới")]
        assert got == [date(2026, 12, 7)] * 3 + [date(2026, 12, 8)] * 2 + [date(2026, 12, 9), date(2026, 12, 8)]
        for raw in ("ngày mai", "3 ngày nữa"):
            assert "tương lai" in invalid(parse_date, raw, today=today, not_after=today).message

    def test_an_id_number_at_a_date_question_is_named(self) -> None:
        assert "giống số căn cước" in invalid(parse_date, "079 085 001 234", today=date(2026, 12, 6)).message
        assert "giống số điện thoại" in invalid(parse_date, "037 912 3456", today=date(2026, 12, 6)).message
        assert parse_date("12032024", today=date(2026, 12, 6)) == date(2024, 3, 12)  # eight digits: a date

    def test_a_lunar_date_is_asked_in_the_solar_calendar(self) -> None:
        """The papers carry the solar date: a lunar one is not stored, but its solar date is said, to be typed
        back (Vietnam's lunar calendar: Tết 2026 is 17/02/2026)."""
        today = date(2026, 12, 6)  # lunar 28/10/2026
        said = {raw: invalid(parse_date, raw, today=today).render()
                for raw in ("mùng 1 tháng 1 năm 2026 âm lịch", "mùng 5 tháng 3 AL", "ngày âm 15/8", "10/11 âm lịch",
                            "30/2 âm lịch", "âm lịch")}
        assert "Ngày 1/1/2026 âm lịch là ngày 17/02/2026 dương lịch: nếu đúng, vui lòng gõ 17/02/2026" in \
            said["mùng 1 tháng 1 năm 2026 âm lịch"]
        assert "ngày 21/04/2026 dương lịch" in said["mùng 5 tháng 3 AL"]
        assert "ngày 25/09/2026 dương lịch" in said["ngày âm 15/8"]
        assert "10/11/2025 âm lịch là ngày 29/12/2025" in said["10/11 âm lịch"]  # this year's is still ahead
        for raw in ("30/2 âm lịch", "âm lịch"):  # no such day (a month of 29 days), or no date: just asked
            assert "Vui lòng nhập ngày dương lịch" in said[raw], raw

    def test_the_lunar_calendars_own_words(self) -> None:
        """“mùng 1 Tết”, “rằm tháng 7” are lunar dates, said back in the solar calendar (Tết 2026: 17/02/2026)."""
        today = date(2026, 12, 6)
        assert "Ngày 1/1/2026 âm lịch là ngày 17/02/2026" in invalid(parse_date, "mùng 1 Tết năm 2026",
                                                                   today=today).render()
        assert "Ngày 15/7/2026 âm lịch" in invalid(parse_date, "rằm tháng 7", today=today).render()

    def test_a_lunar_leap_month_is_its_own_month(self) -> None:
        """“Tháng 6 nhuận” of 2025 (the leap month after the sixth) is a month later than the sixth; a year with
        no such leap month has no such date; without a year, the last one that had it."""
        today = date(2026, 12, 6)
        said = {raw: invalid(parse_date, raw, today=today).render()
                for raw in ("mùng 5 tháng 6 nhuận năm 2025 âm lịch", "5/6 nhuan al", "5/6/2025 âm lịch",
                            "mùng 5 tháng 5 nhuận âm lịch 2025", "30/6 nhuận âm lịch 2025")}
        assert "Ngày 5/6 nhuận/2025 âm lịch là ngày 29/07/2025 dương lịch" in \
            said["mùng 5 tháng 6 nhuận năm 2025 âm lịch"]
        assert "ngày 29/07/2025 dương lịch" in said["5/6 nhuan al"]
        assert "ngày 29/06/2025 dương lịch" in said["5/6/2025 âm lịch"]  # the regular sixth month
        for raw in ("mùng 5 tháng 5 nhuận âm lịch 2025", "30/6 nhuận âm lịch 2025"):  # no such month, or day
            assert "Vui lòng nhập ngày dương lịch" in said[raw], raw

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("12/3/2024", date(2024, 3, 12)),
            ("12-03-2024", date(2024, 3, 12)),
            ("12.03.2024", date(2024, 3, 12)),
            ("12/03/24", date(2024, 3, 12)),
            ("05/03/60", date(1960, 3, 5)),
            ("20/10/25", date(2025, 10, 20)),
            ("21/10/25", date(1925, 10, 21)),  # 2025-10-21 would be after today
            ("12 3 2024", date(2024, 3, 12)),
            ("12032024", date(2024, 3, 12)),
            ("ngày 12 tháng 3 năm 2024", date(2024, 3, 12)),
            ("ngay 12 thang 3 nam 2024", date(2024, 3, 12)),
            ("Ngày 12 Tháng 03 Năm 2024.", date(2024, 3, 12)),
            ("12 thg 3 2024", date(2024, 3, 12)),
            ("12 thg 3", date(2025, 3, 12)),
            ("mùng 5 tháng 3", date(2025, 3, 5)),
            ("12th3", date(2025, 3, 12)),
            ("25/12", date(2024, 12, 25)),  # this year's would be in the future
            ("hôm nay", TODAY),
            ("Hom nay", TODAY),
            ("hôm qua", date(2025, 10, 19)),
            ("hom qua", date(2025, 10, 19)),
            ("hôm kia", date(2025, 10, 18)),
            ("yesterday", date(2025, 10, 19)),  # the bot in English
            ("3 days ago", date(2025, 10, 17)),
            ("2024-03-12", date(2024, 3, 12)),
            ("29/02/2024", date(2024, 2, 29)),
        ],
    )
    def test_accepts(self, raw: str, expected: date) -> None:
        assert parse_date(raw, today=TODAY) == expected

    @pytest.mark.parametrize("raw", ["abc", "", "12", "12/3/2024/5", "123/3/2024", "mai kia", "1/2/3/4"])
    def test_unreadable(self, raw: str) -> None:
        exc = invalid(parse_date, raw, today=TODAY)
        assert exc.render() == "Ngày chưa đúng. Vui lòng nhập theo dạng ngày/tháng/năm, ví dụ 05/03/1960."

    def test_impossible_dates(self) -> None:
        exc = invalid(parse_date, "31/02/2024", today=TODAY)
        assert exc.message.startswith("Ngày {date} không có thật")
        assert exc.params["date"] == "31/02/2024"
        assert "31/02/2024" in exc.render()
        assert invalid(parse_date, "29/2/2023", today=TODAY).params["date"] == "29/02/2023"
        exc = invalid(parse_date, "12/13/2024", today=TODAY)
        assert exc.message.startswith("Tháng {month} không có thật") and exc.params == {"month": 13}
        exc = invalid(parse_date, "32/1/2024", today=TODAY)
        assert exc.message.startswith("Ngày {day} không có thật") and exc.params == {"day": 32}
        assert invalid(parse_date, "1/1/0012", today=TODAY).params == {"year": 12}
        assert "đủ 4 chữ số" in invalid(parse_date, "1/1/202", today=TODAY).message

    def test_days_ago_and_dates_that_may_lie_ahead(self) -> None:
        assert parse_date("3 ngày trước", today=TODAY) == date(2025, 10, 17)
        assert parse_date("cach day 2 hom", today=TODAY) == date(2025, 10, 18)
        assert parse_date("10 ngay truoc", today=TODAY, not_after=TODAY) == date(2025, 10, 10)
        assert invalid(parse_date, "400 ngày trước", today=TODAY)
        # without a year, a date that may lie ahead (a funeral planned next week) is the one nearest to today
        assert parse_date("25/12", today=TODAY, prefer_past=False) == date(2025, 12, 25)
        assert parse_date("1/10", today=TODAY, prefer_past=False) == date(2025, 10, 1)
        assert parse_date("25/12", today=TODAY) == date(2024, 12, 25)  # a past date by default

    def test_bounds(self) -> None:
        exc = invalid(parse_date, "1/1/2030", today=TODAY, not_after=TODAY)
        assert exc.message == "Ngày này không thể ở tương lai. Vui lòng kiểm tra lại."
        exc = invalid(parse_date, "1/1/2026", today=TODAY, not_after=date(2025, 12, 31))
        assert exc.message.startswith("Ngày này không thể sau ngày {max}")
        assert exc.params == {"max": "31/12/2025"}
        exc = invalid(parse_date, "1/1/1900", today=TODAY, not_before=date(1920, 1, 1))
        assert exc.message.startswith("Ngày này không thể trước ngày {min}")
        assert exc.render() == "Ngày này không thể trước ngày 01/01/1920. Vui lòng kiểm tra lại."
        assert parse_date("hôm nay", today=TODAY, not_after=TODAY) == TODAY
        assert invalid(parse_date, "hom kia", today=TODAY, not_before=TODAY)

    @FAST
    @given(st.dates(min_value=date(1800, 1, 1), max_value=date(2300, 12, 31)))
    def test_round_trip(self, d: date) -> None:
        assert parse_date(format_date(d), today=TODAY) == d
        assert parse_date(d.isoformat(), today=TODAY) == d
        assert parse_date(f"ngay {d.day} thang {d.month} nam {d.year}", today=TODAY) == d

    @FAST
    @given(MESSY)
    def test_only_invalid(self, s: str) -> None:
        with contextlib.suppress(Invalid):
            assert isinstance(parse_date(s, today=TODAY), date)


# --------------------------------------------------------------------------
# parse_id_number
# --------------------------------------------------------------------------


class TestIdNumber:
    def test_accepts_with_separators(self) -> None:
        assert parse_id_number("001090012345") == "001090012345"
        assert parse_id_number(" 001 090 012 345 ") == "001090012345"
        assert parse_id_number("001.090.012.345") == "001090012345"
        assert parse_id_number("079-303-000-123") == "079303000123"

    @pytest.mark.parametrize("raw", ["CCCD: 001 090 012 345", "cccd 001090012345", "so cccd la 001090012345",
                                     "số định danh cá nhân: 001090012345", "căn cước 001090012345"])
    def test_accepts_a_label_before_the_number(self, raw: str) -> None:
        assert parse_id_number(raw) == "001090012345"

    def test_birth_and_sex_cross_checks(self) -> None:
        # 1990, male (G=0)
        assert parse_id_number("001090012345", birth_date=date(1990, 5, 1), sex="nam")
        assert parse_id_number("001090012345", birth_date=date(1990, 5, 1), sex="male")
        # 2005, female (G=3)
        assert parse_id_number("079305000123", birth_date=date(2005, 1, 1), sex="nu")
        assert parse_id_number("079305000123", birth_date=date(2005, 1, 1), sex="nữ")
        assert parse_id_number("079305000123", sex="female")
        # unknown sex text is not checked
        assert parse_id_number("079305000123", sex="khác")

    def test_errors(self) -> None:
        exc = invalid(parse_id_number, "123456789")
        assert exc.message.startswith("Số CMND 9 số không còn dùng được") and "VNeID" in exc.message
        # typed in a sentence: the old card's number read, and refused the same way (or taken where allowed)
        assert invalid(parse_id_number, "chưa có căn cước, chỉ có CMND 241 234 567").message == exc.message
        assert parse_id_number("chỉ có cmnd 241234567", allow_cmnd=True) == "241234567"
        assert "chỉ gồm 12 chữ số" in invalid(parse_id_number, "sđt 037 912 3456").message
        exc = invalid(parse_id_number, "00109001234")
        assert "phải có đúng 12 chữ số" in exc.message and exc.params == {"count": 11}
        assert "chỉ gồm 12 chữ số" in invalid(parse_id_number, "00109001234A").message
        # another question's answer: a date, or ten digits that may be a phone number or the ID cut short
        assert invalid(parse_id_number, "12/12/1988").message.startswith("Đây là một ngày.")
        assert "10 chữ số (giống số điện thoại)" in invalid(parse_id_number, "0987 111 222").message
        assert "Vui lòng nhập số định danh" in invalid(parse_id_number, " ").message
        exc = invalid(parse_id_number, "003090012345")
        assert "không phải mã tỉnh" in exc.message and exc.params == {"code": "003"}
        exc = invalid(parse_id_number, "001090012345", birth_date=date(1991, 1, 1))
        assert "năm sinh" in exc.message and exc.params == {"year": 1991}
        exc = invalid(parse_id_number, "001090012345", birth_date=date(2090, 1, 1))
        assert "năm sinh" in exc.message
        exc = invalid(parse_id_number, "001090012345", sex="nu")
        assert "giới tính" in exc.message
        assert "giới tính" in invalid(parse_id_number, "079305000123", sex="male").message

    def test_province_list(self) -> None:
        codes = parsing.LEGACY_ID_PROVINCE_CODES
        assert len(codes) == 63
        assert all(len(c) == 3 and c.isdigit() for c in codes)

    @FAST
    @given(
        st.sampled_from(sorted(parsing.LEGACY_ID_PROVINCE_CODES)),
        st.dates(min_value=date(1900, 1, 1), max_value=date(2399, 12, 31)),
        st.booleans(),
        st.integers(0, 999_999),
    )
    def test_round_trip(self, code: str, born: date, female: bool, rest: int) -> None:
        g = (born.year // 100 - 19) * 2 + int(female)
        number = f"{code}{g}{born.year % 100:02d}{rest:06d}"
        spaced = " ".join(number[i : i + 3] for i in range(0, 12, 3))
        sex = "nu" if female else "nam"
        assert parse_id_number(spaced, birth_date=born, sex=sex) == number

    @FAST
    @given(MESSY)
    def test_only_invalid(self, s: str) -> None:
        with contextlib.suppress(Invalid):
            parse_id_number(s, birth_date=date(1990, 1, 1), sex="nam")


# --------------------------------------------------------------------------
# parse_phone / parse_email
# --------------------------------------------------------------------------


def test_whose_relative_is_no_name() -> None:
    for raw in ("bố tôi", "ông nội", "anh trai tôi", "my mother"):
        assert "không hỏi quan hệ" in invalid(parse_name, raw).message, raw
    assert parse_name("Trần Thị Hoa, mẹ tôi") == "Trần Thị Hoa" and parse_name("Tran Thi Hoa, my mother") == \
        "Tran Thi Hoa"
    assert parse_name("Chu Anh") == "Chu Anh"  # (a kin word, but no “tôi”, “nội”: a name)


def test_two_names_are_not_filed_as_one() -> None:
    """“Nguyễn Văn An và Nguyễn Văn Bình” (twins) at the child's name was filed as one name of seven words."""
    from tests.test_conversation_disability import read_answer

    for said in ("Nguyễn Văn An và Nguyễn Văn Bình", "nguyen van an, nguyen thi binh", "Lê An với Lê Bình"):
        with pytest.raises(Invalid) as two:
            read_answer("lien-thong-khai-sinh", "child.full_name", said)
        assert "có hai họ tên" in two.value.render()
    assert read_answer("lien-thong-khai-sinh", "child.full_name", "Lò Văn Va") == "LÒ VĂN VA"  # (“va” of a name)
    assert read_answer("lien-thong-khai-sinh", "requester.full_name", "Trần Thị Hoa, mẹ tôi") == "TRẦN THỊ HOA"


class TestPoliteWords:
    def test_polite_words_are_not_part_of_the_answer(self) -> None:
        """“dạ”, “vâng” before an answer and “ạ”, “nhé” after it are politeness: a name is filed without them
        (never “NGUYỄN VĂN AN Ạ”), a count or an amount read without them."""
        from dialogs import kinds
        from dialogs.catalog import Catalog

        name = Catalog.load().form("ho-tro-chi-phi-mai-tang").field("deceased.full_name")
        assert name is not None
        for raw in ("Nguyễn Văn An ạ", "dạ Nguyễn Văn An", "dạ vâng, Nguyễn Văn An nhé", "Vâng, Nguyễn Văn An ạ."):
            assert kinds.get("name").parse(name, raw, today=date(2026, 12, 6), lookup=None) == "NGUYỄN VĂN AN", raw
        assert kinds.get("name").parse(name, "Nguyễn Văn A", today=date(2026, 12, 6), lookup=None) == \
            "NGUYỄN VĂN A"  # “A” is a name's: only “ạ” as typed is dropped
        assert [parse_money(r) for r in ("2 triệu ạ", "dạ 2 triệu", "dạ, khoảng 2 triệu rưỡi nhé")] == \
            [2_000_000, 2_000_000, 2_500_000]
        assert [parse_number(r) for r in ("dạ 5", "5 người ạ", "không có ạ")] == [5, 5, 0]
        relation = Catalog.load().form("ho-tro-chi-phi-mai-tang").field("applicant.relation")
        assert relation is not None and kinds.get("text").parse(relation, "con trai ạ", today=date(2026, 12, 6),
                                                                lookup=None) == "Con trai"


def test_same_as_above_says_nothing_more() -> None:
    """“như trên” takes an answer given above; “như trên, thôn 5” says more, and is read as an answer itself."""
    from dialogs.parsing import says_only

    phrases = ("nhu tren", "giong tren")
    assert all(says_only(r, phrases) for r in ("như trên", "dạ như trên ạ", "Giống trên nhé"))
    assert not any(says_only(r, phrases) for r in ("như trên, thôn 5", "như trên nhưng khác thôn", "số tôi 0912"))


def test_a_phone_given_above_is_taken_again() -> None:
    """``same_as`` on a phone question: “như trên” takes the first of those numbers given; none given, it is asked."""
    from dialogs import kinds
    from dialogs.catalog import Catalog

    f = Catalog.load().form("ho-tro-nha-o").field("contact.phone")
    assert f is not None and f.same_as == ["filer.phone"]
    phone, day = kinds.get("phone"), date(2026, 12, 6)
    given = {"filer.phone": "0987654321"}
    assert phone.parse(f, "như trên", today=day, lookup=given.get) == "0987654321"
    assert phone.parse(f, "số của tôi", today=day, lookup=given.get) == "0987654321"
    assert phone.parse(f, "số tôi 0912 345 678", today=day, lookup=given.get) == "0912345678"  # a number given
    assert "Chưa có số điện thoại nào" in invalid(lambda r: phone.parse(f, r, today=day, lookup={}.get),
                                                    "như trên").message


class TestIdNumberInASentence:
    def test_the_one_number_is_taken_and_checked(self) -> None:
        for raw in ("cccd của bà: 042 145 001 234", "042145001234 (của bà)", "bà 042145001234 sinh 1945"):
            assert parse_id_number(raw, birth_date=date(1945, 3, 12), sex="nu") == "042145001234", raw
        assert "năm sinh" in invalid(parse_id_number, "cccd của bà: 042145001234", birth_date=date(1950, 1, 1)).message
        assert "nhiều hơn một số" in invalid(parse_id_number, "042145001234, 042070001234").message


class TestPhone:
    @pytest.mark.parametrize(
        "raw",
        [
            "0912345678",
            "+84 912 345 678",
            "+84912345678",
            "84912345678",
            "0084 912 345 678",
            "+84 0912 345 678",
            "0912.345.678",
            "0912-345-678",
            "(0912) 345 678",
            "912345678",
            # with the label people type before it
            "sđt: 0912 345 678",
            "SDT 0912345678",
            "số điện thoại là 0912345678",
            "zalo 0912345678",
            # inside a sentence: whose number it is, before or after it
            "số của con trai: 0912 345 678",
            "0912345678 (con trai)",
            "gọi +84 912 345 678 nha",
        ],
    )
    def test_accepts(self, raw: str) -> None:
        assert parse_phone(raw) == "0912345678"

    @pytest.mark.parametrize("prefix", ["03", "05", "07", "08", "09"])
    def test_all_mobile_prefixes(self, prefix: str) -> None:
        assert parse_phone(prefix + "12345678") == prefix + "12345678"

    def test_errors(self) -> None:
        assert "một số điện thoại thôi" in invalid(parse_phone, "0912345678, 0987654321").message
        assert "máy bàn" in invalid(parse_phone, "024 3825 1234").message
        assert "đầu 01" in invalid(parse_phone, "0166 234 5678").message
        exc = invalid(parse_phone, "0912 345")
        assert "10 chữ số" in exc.message and exc.params["count"] == 7
        assert "đầu số" in invalid(parse_phone, "0612345678").message
        assert "chỉ gồm chữ số" in invalid(parse_phone, "số của tôi").message
        assert "Việt Nam" in invalid(parse_phone, "+1 202 555 0100").message
        assert "Vui lòng nhập số điện thoại" in invalid(parse_phone, "").message
        assert "giống số căn cước" in invalid(parse_phone, "079 085 001 234").message  # the CCCD, typed here
        assert "10 chữ số" in invalid(parse_phone, "099123456789").message  # 12 digits, no province code

    @FAST
    @given(st.sampled_from("35789"), st.integers(0, 99_999_999))
    def test_round_trip(self, lead: str, rest: int) -> None:
        number = f"0{lead}{rest:08d}"
        assert parse_phone(number) == number
        assert parse_phone(f"+84 {number[1:4]} {number[4:7]} {number[7:]}") == number
        assert parse_phone(f"{number[:4]}.{number[4:7]}.{number[7:]}") == number

    @FAST
    @given(MESSY)
    def test_only_invalid(self, s: str) -> None:
        with contextlib.suppress(Invalid):
            parse_phone(s)


class TestEmail:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("Abc@Gmail.com", "abc@gmail.com"), (" an.nguyen+dvc@yahoo.com.vn ", "an.nguyen+dvc@yahoo.com.vn")],
    )
    def test_accepts(self, raw: str, expected: str) -> None:
        assert parse_email(raw) == expected

    @pytest.mark.parametrize("raw", ["abc@", "abc@gmail", "a..b@x.com", "nguyễn@x.com", "abc.gmail.com", "@x.vn"])
    def test_rejects(self, raw: str) -> None:
        assert invalid(parse_email, raw).message == "Địa chỉ email chưa đúng. Vui lòng nhập theo dạng ten@gmail.com."

    def test_empty(self) -> None:
        assert "Vui lòng nhập địa chỉ email" in invalid(parse_email, " ").message


# --------------------------------------------------------------------------
# parse_number / parse_money
# --------------------------------------------------------------------------


class TestNumber:
    @pytest.mark.parametrize(("raw", "expected"), [
        ("nhà có 4 người", 4), ("có 4 nguoi", 4), ("gồm năm người", 5), ("10 đối tượng", 10), ("2 bản", 2),
        ("5 khẩu", 5), ("hai cụ", 2), ("gia đình 4 người", 4), ("hộ tôi 6 khẩu", 6), ("chưa có ai", 0),
        # “Bạn cần bao nhiêu bản sao? (gõ 0 nếu không cần)”: “không cần” was not understood
        ("không cần", 0), ("ko can a", 0), ("ko", 0), ("không lấy", 0), ("cho tôi 2 bản", 2), ("xin 3 bản", 3),
        # people counted as couples, children, grown-ups (“bao nhiêu người trong độ tuổi lao động?”)
        ("2 vợ chồng", 2), ("hai vợ chồng tôi", 2), ("co 2 vo chong toi thoi", 2), ("3 đứa", 3), ("2 dua con", 2),
        ("2 người lớn", 2),
    ])
    def test_a_count_said_in_a_sentence(self, raw: str, expected: int) -> None:
        assert parse_number(raw) == expected

    def test_words_around_no_count_are_not_a_number(self) -> None:
        for raw in ("có", "co 4", "nhà có người"):
            assert "Chưa hiểu số" in invalid(parse_number, raw).message, raw

    def test_a_sentence_with_several_counts_says_so(self) -> None:
        """Which of them answers is not guessed (“2 vợ chồng, 2 đứa đi học” at the working-age count), and the
        refusal names them rather than “Chưa hiểu số”."""
        refused = invalid(parse_number, "2 vo chong toi con 2 dua nho di hoc")
        assert refused.message.startswith("Câu trả lời có nhiều số") and refused.params["numbers"] == "2, 2"

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("3", 3),
            (" 42 ", 42),
            ("1.000", 1000),
            ("1.000.000", 1_000_000),
            ("hai", 2),
            ("năm", 5),
            ("nam", 5),
            ("mười", 10),
            ("mười lăm", 15),
            ("muoi lam", 15),
            ("hai mươi mốt", 21),
            ("hai mươi tư", 24),
            ("một trăm", 100),
            ("một trăm linh năm", 105),
            ("một nghìn không trăm linh năm", 1005),
            ("-3", -3),
        ],
    )
    def test_accepts(self, raw: str, expected: int) -> None:
        assert parse_number(raw) == expected

    def test_float(self) -> None:
        assert parse_number("2,5", integer=False) == 2.5
        assert parse_number("2.5", integer=False) == 2.5
        assert parse_number("1.000", integer=False) == 1000.0

    def test_errors(self) -> None:
        assert "số nguyên" in invalid(parse_number, "2,5").message
        assert "Chưa hiểu số" in invalid(parse_number, "abc").message
        assert "nhiều số (1, 2)" in invalid(parse_number, "1 2").render()
        assert "Vui lòng nhập một số" in invalid(parse_number, " ").message
        exc = invalid(parse_number, "1", min=2)
        assert exc.message == "Vui lòng nhập số từ {min} trở lên." and exc.params == {"min": "2"}
        exc = invalid(parse_number, "2000", max=1000)
        assert exc.message == "Vui lòng nhập số không lớn hơn {max}." and exc.params == {"max": "1.000"}
        assert invalid(parse_number, "0,5", integer=False, min=1.5).params == {"min": "1,5"}

    @FAST
    @given(st.integers(-10**12, 10**12))
    def test_round_trip(self, n: int) -> None:
        assert parse_number(str(n)) == n
        assert parse_number(format_int(n)) == n

    @FAST
    @given(MESSY)
    def test_only_invalid(self, s: str) -> None:
        for integer in (True, False):
            with contextlib.suppress(Invalid):
                parse_number(s, integer=integer, min=0, max=10**9)


class TestMoney:
    def test_a_households_total_at_an_income_per_person(self) -> None:
        """``per_person``: “cả nhà 8 triệu” is asked again with the division to do; “mỗi người 2 triệu” is taken."""
        def per_head(raw: str) -> int:
            return parse_money(raw, min=0, per="month", per_person=True)

        for raw in ("cả nhà 8 triệu một tháng", "8 triệu cả nhà"):
            assert "chia tổng thu nhập cho số người" in invalid(per_head, raw).message, raw
        assert [per_head(r) for r in ("nhà tôi mỗi người 2 triệu", "bình quân 1,5 triệu", "2 triệu")] == \
            [2_000_000, 1_500_000, 2_000_000]
        # the total with the head count: divided for the citizen (and said back by the kind)
        assert [per_head(r) for r in ("ca nha 5 nguoi thu khoang 8 trieu 1 thang", "cả nhà 4 người, tổng thu nhập 10 "
                                      "triệu", "nhà tôi 3 khẩu kiếm được tầm 9 triệu", "cả nhà 5 người thu tám triệu",
                                      "ca nha 3 nguoi 10 trieu")] == [1_600_000, 2_500_000, 3_000_000, 1_600_000,
                                                                      3_333_333]
        # the bot in English: “million”, “a month”, “family of 4”
        assert [per_head(r) for r in ("2 million", "500 thousand a month", "the whole family of 4 earns 8 million",
                                      "our family of 5 makes 10 million a month")] == \
            [2_000_000, 500_000, 2_000_000, 2_000_000]
        assert "chia cho 12" in invalid(per_head, "24 million a year").message
        assert "chia tổng thu nhập cho số người" in invalid(per_head, "cả nhà 5 người 2 người đi làm 8 triệu").message
        for raw in ("cả nhà 5 người", "nam nguoi", "nha toi co 4 khau"):  # the count alone: asked with the total
            exc = invalid(per_head, raw)
            assert "kèm số người" in exc.message and exc.params["n"] in (4, 5), raw

    def test_an_id_or_phone_number_is_not_an_amount(self) -> None:
        """The 12 digits of an ID card (or a mobile number) typed at the income are asked again, not filed as a
        billion đồng a month."""
        assert "giống số căn cước" in invalid(parse_money, "001075012345").message
        assert "giống số căn cước" in invalid(parse_money, "001 075 012 345").message
        assert "giống số điện thoại" in invalid(parse_money, "0912.345.678").message
        assert parse_money("150.000.000") == 150_000_000

    def test_no_income_in_words_is_nothing(self) -> None:
        for raw in ("không có thu nhập", "dạ chưa có thu nhập ạ", "không có đồng nào"):
            assert parse_money(raw, min=0, per="month") == 0, raw

    def test_per_person_and_a_range(self) -> None:
        """The income question asks per person: “2 triệu/người/tháng” says so; a range is asked as one amount."""
        for raw in ("2 trieu/nguoi/thang", "2 triệu một người một tháng", "2tr mỗi người", "2 triệu/tháng/người"):
            assert parse_money(raw, per="month") == 2_000_000, raw
        for raw in ("1,5 - 2 triệu", "từ 1,5 đến 2 triệu", "1.500.000-2.000.000"):
            assert "một số tiền thôi" in invalid(parse_money, raw).message, raw

    def test_the_period_of_an_amount(self) -> None:
        """“2 triệu một tháng” answers “… bao nhiêu một tháng?”; a year's amount there is asked again with the sum
        to do. “năm” is a period only with its qualifier: “2 triệu năm trăm” is a number."""
        for raw in ("2 trieu mot thang", "2 triệu/tháng", "2tr mỗi tháng", "khoảng 2 triệu 1 tháng"):
            assert parse_money(raw, per="month") == 2_000_000, raw
        assert parse_money("2 triệu năm trăm", per="month") == 2_500_000
        for raw in ("96 trieu mot nam", "24 triệu/năm", "24 triệu mỗi năm"):
            assert "chia cho 12" in invalid(lambda r: parse_money(r, per="month"), raw).message, raw
        assert "nhân với 12" in invalid(lambda r: parse_money(r, per="year"), "2 triệu một tháng").message
        assert parse_money("24 triệu một năm") == 24_000_000  # a question naming no period takes either
        assert "chưa đúng" in invalid(parse_money, "tháng").message

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("1.500.000", 1_500_000),
            ("1,500,000", 1_500_000),
            ("1500000", 1_500_000),
            ("1500000đ", 1_500_000),
            ("1500000 d", 1_500_000),
            ("1.500.000 đồng", 1_500_000),
            ("1.500.000 VNĐ", 1_500_000),
            ("1,5 triệu", 1_500_000),
            ("1.5tr", 1_500_000),
            ("1tr5", 1_500_000),
            ("1tr25", 1_250_000),
            ("1 triệu rưỡi", 1_500_000),
            ("1 trieu ruoi", 1_500_000),
            ("1 triệu 500 nghìn", 1_500_000),
            ("1 triệu 500", 1_500_000),
            ("1 triệu 2 trăm", 1_200_000),
            ("500k", 500_000),
            ("500 K", 500_000),
            ("500 nghìn", 500_000),
            ("500 ngàn", 500_000),
            ("2 củ", 2_000_000),
            ("2 cu", 2_000_000),
            ("ba triệu", 3_000_000),
            ("hai trăm nghìn", 200_000),
            ("hai trăm năm mươi nghìn đồng", 250_000),
            ("trăm rưỡi nghìn", 150_000),
            ("ba chục nghìn", 30_000),
            # an estimate, as the income questions ask for one
            ("khoang 2 trieu ruoi", 2_500_000),
            ("khoảng 2 triệu", 2_000_000),
            ("tầm 3 triệu", 3_000_000),
            ("chừng 1 triệu rưỡi", 1_500_000),
            ("ước tính 1,5 triệu", 1_500_000),
            ("tam 800k", 800_000),
            ("tám trăm nghìn", 800_000),  # “tam” before a number word is eight, not “tầm”
            ("khoảng tám trăm nghìn", 800_000),
            ("tam trieu", 8_000_000),
            ("1 tỷ 2", 1_200_000_000),
            ("2 tỷ 300 triệu", 2_300_000_000),
            ("500 nghìn tỷ", 500_000_000_000_000),  # a multiplier of a multiplier: not 500 nghìn + 1 tỷ
            ("một nghìn tỷ", 1_000_000_000_000),
            ("0", 0),
        ],
    )
    def test_accepts(self, raw: str, expected: int) -> None:
        assert parse_money(raw) == expected

    def test_errors(self) -> None:
        # (“hơn 2 triệu”, “dưới 2 triệu”: a side of a threshold, not an amount; “khoảng 2 triệu” is one)
        for raw in ("abc", "1 2", "hơn 2 triệu", "dưới 2 triệu", "đồng 5", "triệu triệu x", "khoảng",
                    "1 tỷ tỷ", "2 triệu nghìn"):
            exc = invalid(parse_money, raw)
            assert exc.message == "Số tiền chưa đúng. Vui lòng nhập số tiền, ví dụ 1.500.000 hoặc 1,5 triệu."
        assert "số âm" in invalid(parse_money, "-500k").message
        assert "số âm" in invalid(parse_money, "âm 500 nghìn").message
        assert "chưa rõ" in invalid(parse_money, "1,5").message
        assert "chưa rõ" in invalid(parse_money, "1.5").message
        assert "Vui lòng nhập số tiền" in invalid(parse_money, "").message
        for raw in ("99999999999999999999999 đồng", "10 triệu tỷ", "1.000.000.000.000.000"):  # from 10^15: a slip
            assert invalid(parse_money, raw).message.startswith("Số tiền quá lớn.")
        for raw in ("99999999999999999999999", "1000000000000000", "-1000000000000000"):
            assert invalid(parse_number, raw).message == "Số bạn nhập quá lớn. Vui lòng kiểm tra lại."
        exc = invalid(parse_money, "500k", min=1_000_000)
        assert exc.render() == "Số tiền phải từ 1.000.000 đồng trở lên."
        exc = invalid(parse_money, "5 tỷ", max=1_000_000_000)
        assert exc.render() == "Số tiền không được vượt quá 1.000.000.000 đồng."

    def test_an_amount_without_its_unit_is_asked_again(self) -> None:
        # “1” out of habit after a numbered question, “2” meaning 2 triệu: never filed as 1 or 2 đồng
        for raw, n in (("1", "1"), ("2", "2"), ("500", "500"), ("999đ", "999"), ("hai", "2")):
            assert invalid(parse_money, raw).render() == (
                f"Số tiền {n} đồng quá nhỏ. Bạn muốn nói “{n} nghìn” hay “{n} triệu”? Vui lòng gõ lại kèm đơn vị.")
        assert parse_money("0") == 0 and parse_money("1000") == 1000 and parse_money("1 nghìn") == 1000

    @FAST
    @given(st.integers(0, 10**13).filter(lambda n: n == 0 or n >= 1000))
    def test_round_trip(self, n: int) -> None:
        assert parse_money(format_int(n)) == n
        assert parse_money(f"{n}đ") == n
        assert parse_money(f"{n:,}") == n
        assert parse_money(f"{format_int(n)} đồng") == n

    @FAST
    @given(st.integers(1, 999))
    def test_thousands_and_millions(self, n: int) -> None:
        assert parse_money(f"{n}k") == n * 1000
        assert parse_money(f"{n} triệu") == n * 1_000_000

    @FAST
    @given(MESSY)
    def test_only_invalid(self, s: str) -> None:
        with contextlib.suppress(Invalid):
            assert parse_money(s, min=0, max=10**12) >= 0


# --------------------------------------------------------------------------
# parse_yes_no
# --------------------------------------------------------------------------

YES = [
    "có", "co", "Có", "c", "ừ", "u", "uh", "ừm", "vâng", "vang", "dạ", "da", "đúng", "dung", "ok", "OK",
    "oke", "yes", "y", "được", "dc", "đc", "đồng ý", "dong y", "rồi", "roi", "có ạ", "Dạ vâng ạ!",
    "dạ có", "ok luôn", "đúng rồi", "không sai", "👍", "xác nhận", "xac nhan", "tôi xác nhận",
    "chắc là có", "hinh nhu co", "chắc chắn",  # a guess is an answer: the officer checks it
    "co e", "ok e", "vang e",  # “e”: “em”, as typed on a phone
]  # fmt: skip
NO = [
    "không", "khong", "Không.", "ko", "k", "kh", "hông", "hong", "không ạ", "chưa", "chua", "sai", "no",
    "n", "ko co", "không có", "dạ không", "ko dc", "chưa đồng ý", "không đúng", "thôi", "👎", "không xác nhận",
    "chắc là không", "có lẽ không", "chắc chắn không", "ko e", "k e",
]  # fmt: skip


class TestYesNo:
    @pytest.mark.parametrize("raw", YES)
    def test_yes(self, raw: str) -> None:
        assert parse_yes_no(raw) is True

    @pytest.mark.parametrize("raw", NO)
    def test_no(self, raw: str) -> None:
        assert parse_yes_no(raw) is False

    @pytest.mark.parametrize("raw", ["", "tôi không biết", "có không", "ừ ko", "maybe", "2", "cobra"])
    def test_unclear(self, raw: str) -> None:
        assert invalid(parse_yes_no, raw).message == "Vui lòng trả lời “Có” hoặc “Không”."

    def test_a_guess_is_no_consent(self) -> None:
        """A consent or a sworn statement is given plainly: “chắc là có” is asked again there."""
        for raw in ("chắc là có", "hình như có", "chắc", "có lẽ không"):
            assert invalid(parse_yes_no, raw, sure=True).message == "Vui lòng trả lời “Có” hoặc “Không”."
        assert parse_yes_no("chắc chắn", sure=True) is True and parse_yes_no("có", sure=True) is True

    @FAST
    @given(MESSY)
    def test_only_invalid(self, s: str) -> None:
        with contextlib.suppress(Invalid):
            assert parse_yes_no(s) in (True, False)


# --------------------------------------------------------------------------
# Choices
# --------------------------------------------------------------------------

CHOICES = [
    ("khai_sinh", "Đăng ký khai sinh"),
    ("ket_hon", "Đăng ký kết hôn"),
    ("khai_tu", "Đăng ký khai tử"),
]


class TestChoice:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("ket_hon", "ket_hon"),
            ("2", "ket_hon"),
            ("số 2", "ket_hon"),
            ("so 2", "ket_hon"),
            ("2.", "ket_hon"),
            ("2)", "ket_hon"),
            ("chọn số 2", "ket_hon"),
            ("số hai", "ket_hon"),
            ("thứ hai", "ket_hon"),
            ("2️⃣", "ket_hon"),  # a keycap, as some phone keyboards type a digit
            ("2 ạ", "ket_hon"), ("số 2 nhé", "ket_hon"), ("(2)", "ket_hon"), ("cái thứ 2", "ket_hon"),
            ("dạ 2 ạ", "ket_hon"),
            ("mình chọn 3", "khai_tu"), ("em chọn số hai ạ", "ket_hon"),  # who chooses, and polite words after
            ("chọn ba", "khai_tu"),
            ("Đăng ký kết hôn", "ket_hon"),
            ("dang ky ket hon", "ket_hon"),
            ("DANG KY KET HON.", "ket_hon"),
            ("kết hôn", "ket_hon"),
            ("ket hon", "ket_hon"),
            ("tôi muốn đăng ký khai tử", "khai_tu"),
            ("dang ky khai sinh a", "khai_sinh"),
            ("ket hn", "ket_hon"),
            ("khai sin", "khai_sinh"),
            ("dang ky khai tu", "khai_tu"),
        ],
    )
    def test_matches(self, raw: str, expected: str) -> None:
        assert match_choice(raw, CHOICES) == expected

    @pytest.mark.parametrize("raw", ["", "4", "0", "dang ky", "khai", "xyz", "chó mèo", "hai", "ba"])
    def test_no_match(self, raw: str) -> None:
        assert match_choice(raw, CHOICES) is None

    def test_prefix(self) -> None:
        choices = [("a", "Bản chính"), ("b", "Bản sao có chứng thực")]
        assert match_choice("ban sao", choices) == "b"
        assert match_choice("ban", choices) is None  # ambiguous prefix
        assert match_choice("chinh", choices) == "a"

    def test_words_apart_in_one_label_only(self) -> None:
        """Three words or more that one label holds, not in a row, are that label (every option opening “Trợ
        cấp”); held by two labels, or two words only, they are no match."""
        kinds = [("uu_dai", "Trợ cấp ưu đãi người có công"), ("xa_hoi", "Trợ cấp xã hội hằng tháng (bảo trợ xã hội)"),
                 ("htxh", "Trợ cấp hưu trí xã hội (người cao tuổi không có lương hưu)"),
                 ("ca_hai", "Cả trợ cấp ưu đãi người có công và trợ cấp xã hội hằng tháng")]
        assert match_choice("tro cap nguoi cao tuoi", kinds) == "htxh"
        assert match_choice("trợ cấp bảo trợ xã hội", kinds) == "xa_hoi"
        assert match_choice("xa hoi hang thang", kinds) is None  # (two labels)
        assert match_choice("tro cap nguoi cao tuoi", kinds, fuzzy=False) is None  # (no label named)

    def test_what_follows_toi_la_says_which(self) -> None:
        """“tôi là tình nguyện viên” at “Ai đang khai hồ sơ này?” matched nothing, and “tôi là người quen” the
        wrong option: both labels open with “Tôi”, which tells nothing apart. What follows “tôi là” is matched."""
        who = [("self", "Tôi là người đứng đầu cơ sở hoặc người của cơ sở"),
               ("helper", "Tôi khai giúp cơ sở (tình nguyện viên, người quen)")]
        for raw in ("toi la tinh nguyen vien", "Tôi là người quen", "em là tình nguyện viên", "toi khai giup"):
            assert match_choice(raw, who) == "helper", raw
        for raw in ("tôi là người đứng đầu", "minh la nguoi cua co so"):
            assert match_choice(raw, who) == "self", raw
        assert match_choice("tôi là ai", who) is None
        english = [("self", "I am the head of the facility or one of its staff"),
                   ("helper", "I am filling it in for the facility (volunteer, acquaintance)")]
        assert [match_choice(t, english) for t in ("I am a volunteer", "I'm staff")] == ["helper", "self"]

    def test_an_answer_that_fits_several_says_which(self) -> None:
        """“với cha mẹ” at “Trẻ về ở cùng ai?” begins two options: “Chưa rõ lựa chọn” did not say that it was
        understood, only not told apart. The kind names their numbers (none when it fits all or none)."""
        from dialogs import kinds
        from dialogs.schema import FieldDef

        who = FieldDef.model_validate({"id": "w", "kind": "choice", "prompt": "Trẻ về ở cùng ai?", "choices": [
            {"value": "own", "label": "Với cha, mẹ; cha mẹ là chủ sở hữu chỗ ở"},
            {"value": "rent", "label": "Với cha, mẹ; cha mẹ không là chủ sở hữu chỗ ở"},
            {"value": "kin", "label": "Với người thân khác"}]})
        with pytest.raises(Invalid) as exc:
            kinds.get("choice").parse(who, "với cha mẹ ạ", today=date(2026, 12, 6), lookup=None)
        assert exc.value.message.startswith("“{answer}” hợp với nhiều lựa chọn")
        assert exc.value.params["numbers"] == "1, 2"
        for raw in ("voi", "xyz"):
            with pytest.raises(Invalid, match="Chưa rõ lựa chọn"):
                kinds.get("choice").parse(who, raw, today=date(2026, 12, 6), lookup=None)

    def test_the_option_for_several_takes_an_answer_naming_several(self) -> None:
        """“trẻ mồ côi và người già” at “Loại hình cơ sở?” named options 1 and 2 and asked which: the option for
        several groups (``for_several``) is that answer, said back."""
        from dialogs import kinds
        from dialogs.catalog import Catalog

        f = Catalog.load().form("dang-ky-co-so-tro-giup-xa-hoi").field("facility.type")
        assert f is not None
        choice = kinds.get("choice")
        assert choice.parse(f, "tre mo coi va nguoi gia", today=date(2026, 12, 6), lookup=None) == "tong_hop"
        assert choice.said_back(f, "tre mo coi va nguoi gia", "tong_hop")
        assert choice.parse(f, "người già", today=date(2026, 12, 6), lookup=None) == "nguoi_cao_tuoi"
        with pytest.raises(ValueError, match="for_several"):
            from dialogs.schema import FieldDef
            FieldDef.model_validate({"id": "t", "kind": "choice", "prompt": "?", "choices": [
                {"value": "a", "label": "A", "for_several": True}, {"value": "b", "label": "B", "for_several": True}]})

    def test_a_bare_yes_or_no_picks_only_a_choice_that_opens_with_it(self) -> None:
        """“co” typed by habit at “Ai đứng ra mai táng?” picked “Cơ quan hoặc tổ chức” (Cơ folds to co): a bare
        có or không now picks only a label that opens with that very word, and otherwise asks again."""
        who = [("household", "Hộ gia đình hoặc cá nhân"), ("org", "Cơ quan hoặc tổ chức")]
        for raw in ("co", "có", "Có.", "khong", "không"):
            assert match_choice(raw, who) is None, raw
        assert match_choice("co quan", who) == "org"
        assert match_choice("cơ quan", who) == "org"
        capacity = [("full", "Có năng lực hành vi dân sự đầy đủ"), ("lost", "Mất hoặc bị hạn chế năng lực")]
        assert match_choice("co", capacity) == "full"
        assert match_choice("có", capacity) == "full"
        assert match_choice("cơ", capacity) is None
        hearing = [("2.1", "Không phát ra âm thanh, lời nói"), ("2.3", "Không nghe được")]
        assert match_choice("khong", hearing) is None  # two open with it
        assert match_choice("Có", [("y", "Có"), ("n", "Không")]) == "y"
        assert match_choice("khong", [("y", "Có"), ("n", "Không")]) == "n"

    def test_a_free_text_answer_needs_a_letter_unless_the_field_takes_numbers(self) -> None:
        """“1” typed at “Địa điểm mai táng?” (an option's number from the screen before) was kept as the burial
        place. A text answer without a letter is refused, unless the field says ``letters: false`` (a document's
        number) or has a pattern, which then decides."""
        from dialogs import kinds
        from dialogs.schema import FieldDef

        text = kinds.get("text")
        place = FieldDef.model_validate({"id": "place", "kind": "text", "prompt": "Địa điểm mai táng?"})
        for raw in ("1", "2.", "12/3", "..."):
            with pytest.raises(Invalid) as exc:
                text.parse(place, raw, today=date(2026, 12, 5), lookup=None)
            assert "bằng chữ" in exc.value.message
        assert text.parse(place, "Nghĩa trang thôn 3", today=date(2026, 12, 5), lookup=None) == "Nghĩa trang thôn 3"
        number = FieldDef.model_validate({"id": "cert.number", "kind": "text", "prompt": "Số giấy?", "letters": False})
        assert text.parse(number, "123", today=date(2026, 12, 5), lookup=None) == "123"
        timed = FieldDef.model_validate({"id": "t", "kind": "text", "prompt": "Mấy giờ?", "pattern": r"\d{1,2}:\d{2}"})
        assert text.parse(timed, "14:30", today=date(2026, 12, 5), lookup=None) == "14:30"
        with pytest.raises(ValueError):
            FieldDef.model_validate({"id": "d", "kind": "date", "prompt": "Ngày?", "letters": False})

    def test_a_free_text_answer_that_only_agrees_is_asked_again(self) -> None:
        """“ok”, “xong”, “vâng” at “what kind of house was it?” were stored as the description. A word that only
        agrees or says done answers no free-text question; an optional one says how to skip it."""
        from dialogs import kinds
        from dialogs.schema import FieldDef

        text = kinds.get("text")
        house = FieldDef.model_validate({"id": "house", "kind": "text", "prompt": "Nhà ở loại gì?"})
        note = FieldDef.model_validate({"id": "note", "kind": "text", "prompt": "Ghi chú?", "required": False})
        for raw in ("ok", "Xong", "vâng ạ", "khong", "đúng rồi"):
            with pytest.raises(Invalid) as exc:
                text.parse(house, raw, today=date(2026, 12, 5), lookup=None)
            assert "chưa trả lời câu hỏi này" in exc.value.message, raw
        with pytest.raises(Invalid) as exc:
            text.parse(note, "ok", today=date(2026, 12, 5), lookup=None)
        assert "bỏ qua" in exc.value.message
        for raw in ("Đá", "nhà cấp 4, mái tôn", "Không có nhà"):  # “Đá” is not “dạ”
            assert text.parse(house, raw, today=date(2026, 12, 5), lookup=None) == raw
        number = FieldDef.model_validate({"id": "n", "kind": "text", "prompt": "Số giấy?", "letters": False,
                                          "example": "125"})
        with pytest.raises(Invalid, match="không phải số của giấy tờ"):  # was filed as the marriage's number
            text.parse(number, "co giay", today=date(2026, 12, 5), lookup=None)
        for raw in ("125", "01/2020", "12/TP-HT", "IV", "125/2018"):
            assert text.parse(number, raw, today=date(2026, 12, 5), lookup=None) == raw
        # the form's line reads “Số: …”: the word typed before the number is not filed twice
        assert text.parse(number, "Số 12/TP-HT", today=date(2026, 12, 5), lookup=None) == "12/TP-HT"
        place = FieldDef.model_validate({"id": "p", "kind": "text", "prompt": "Quê quán?", "spelling": "places"})
        for raw, kept in (("que bo no o nghe an", "nghe an"), ("quê tôi ở Hà Tĩnh", "Hà Tĩnh"),
                          ("theo que bo no o tan ky", "tan ky"), ("quê quán của mẹ cháu là Nghệ An", "Nghệ An"),
                          ("o voi chu toi o phuong cau giay ha noi", "phuong cau giay ha noi"),  # (whom, then where)
                          ("về sống cùng con gái tại xã Tân Kỳ", "xã Tân Kỳ"),
                          ("ở xã nhân cơ", "xã nhân cơ"), ("Ông Ích Khiêm", "Ông Ích Khiêm"), ("tai", "tai")):
            assert text.parse(place, raw, today=date(2026, 12, 5), lookup=None) == kept, raw  # (then spelled)
        for raw in ("12/6/2018", "12-6-2018"):  # the date of issue, asked next: was filed as the book's number
            with pytest.raises(Invalid, match="là một ngày, không phải số của giấy tờ"):
                text.parse(number, raw, today=date(2026, 12, 5), lookup=None)
        optional = number.model_copy(update={"required": False})
        with pytest.raises(Invalid, match="nếu không có, gõ “bỏ qua”"):  # “xong” at an optional number
            text.parse(optional, "xong", today=date(2026, 12, 5), lookup=None)
        for raw in ("nhu tren", "Giống ở trên ạ"):  # “Quê quán của trẻ?”: was filed as “nhu tren”
            with pytest.raises(Invalid, match="không ghi “như trên”"):
                text.parse(house, raw, today=date(2026, 12, 5), lookup=None)

    def test_a_number_not_on_the_list_is_repeated_as_typed(self) -> None:
        from dialogs import kinds
        from dialogs.schema import FieldDef

        f = FieldDef.model_validate({"id": "who", "kind": "choice", "prompt": "Ai?",
                                     "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]})
        with pytest.raises(Invalid) as exc:
            kinds.get("choice").parse(f, "07", today=date(2026, 12, 5), lookup=None)
        assert exc.value.params["number"] == "07"  # as typed: not “7”
        with pytest.raises(Invalid) as exc:
            kinds.get("choice").parse(f, "068070001234", today=date(2026, 12, 5), lookup=None)
        assert "number" not in exc.value.params and exc.value.params["n"] == 2  # an ID number: never repeated back

    def test_other_words_for_a_choice(self) -> None:
        """``also:`` in a definition: “làm ruộng” is farming, typed with or without diacritics or inside a
        sentence; the words of two choices at once, or of none, match nothing."""
        also = [("nong", ["làm ruộng", "chăn nuôi"]), ("ngu", ["đánh cá", "đi biển"]), ("khac", [])]
        for raw in ("làm ruộng", "lam ruong", "Nhà tôi LÀM RUỘNG ạ", "chan nuoi"):
            assert parsing.match_also(raw, also) == "nong", raw
        assert parsing.match_also("di bien", also) == "ngu"
        for raw in ("làm ruộng và đánh cá", "ruộng", "", "1"):
            assert parsing.match_also(raw, also) is None, raw
        # words after a “không” they do not carry: not theirs (“không nghèo” is not “nghèo”)
        poor = [("ngheo", ["nghèo"]), ("khong", ["không thuộc diện nào"])]
        assert [parsing.match_also(raw, poor) for raw in ("nhà tôi nghèo", "không nghèo", "chưa nghèo lắm")] == \
            ["ngheo", None, None]
        assert parsing.match_choice("không có sổ hộ nghèo", [("ngheo", "Hộ nghèo"), ("can", "Hộ cận nghèo")]) is None
        # the words of two choices, one holding the other: the longer (“không làm được” is not “làm được”)
        levels = [("yes", ["làm được", "được"]), ("no", ["không làm được"])]
        assert [parsing.match_also(raw, levels) for raw in ("cháu không làm được", "làm được", "được ạ")] == \
            ["no", "yes", "yes"]
        # a word typed with other diacritics is another word: “của bà” holds no “ba” (a father, in the South)
        guardian = [("father", ["bố", "ba"]), ("requester", ["bà nội", "tôi"])]
        assert [parsing.match_also(raw, guardian) for raw in ("của ba", "cua ba", "của bà", "Bà nội", "ba noi")] == \
            ["father", "father", None, "requester", "requester"]

    def test_kin_words_that_name_another_are_not_the_answerers_own(self) -> None:
        """“mẹ tôi” at “Bạn là gì của người mất?” was “Cha hoặc mẹ” (the word “mẹ”): my mother names the dead, and
        the one answering is her child. A kin word followed by “tôi”, “mình”, “của tôi”, or after “cho” (for my
        mother), is not the answerer's own; the definition may list the phrase itself for the right option."""
        who = [("child", ["mẹ tôi", "con"]), ("parent", ["mẹ", "bố", "con tôi"]), ("helper", ["cho mẹ", "cho bố"])]
        said = ("me toi", "mẹ của tôi", "bố mình", "làm cho bố", "con tôi", "mẹ", "tôi là mẹ cháu", "lam cho me toi")
        assert [parsing.match_also(raw, who) for raw in said] == \
            ["child", None, None, "helper", "parent", "parent", "parent", "helper"]
        assert parsing.also_said("làm cho mẹ tôi", ["mẹ", "cho mẹ"]) == "cho mẹ"
        damage = [("collapsed", ["sập nhà"]), ("burnt", ["cháy nhà"])]  # not kin: “nhà tôi” is the answer's own
        assert parsing.match_also("bão làm sập nhà tôi", damage) == "collapsed"

    def test_a_word_of_one_choice_that_is_another_without_its_accents_is_asked_again(self) -> None:
        """“ba” is a father in the South, and “Bà” typed without its accent: the child's relation is asked again,
        naming both; “bà” as written, “tía” or a number are clear."""
        from dialogs import kinds
        from dialogs.catalog import Catalog
        from dialogs.i18n import translator

        f = Catalog.load().form("lien-thong-khai-sinh").field("requester.relation")
        assert f is not None
        choice, day = kinds.get("choice"), date(2026, 12, 5)
        for raw in ("ba", "Ba", "ba."):
            with pytest.raises(Invalid) as exc:
                choice.parse(f, raw, today=day, lookup=None)
            assert exc.value.render() == f"“{raw}” có thể là “Cha” hoặc “Bà”. Vui lòng bấm chọn, hoặc gõ số thứ tự " \
                                         "của lựa chọn đúng."
        assert exc.value.render(translator("en")) == "“ba.” could be “Father” or “Grandmother”. Please press " \
                                                     "one, or type the number of the right option."
        assert translator("en")(exc.value.message, **exc.value.params) == exc.value.render(translator("en"))
        assert [choice.parse(f, raw, today=day, lookup=None) for raw in ("bà", "Bà", "tía", "bố", "2", "má")] == \
            ["ba", "ba", "cha", "cha", "cha", "me"]

    @pytest.mark.parametrize(("proc", "field", "typed", "value"), [
        ("lien-thong-khai-sinh", "link.parts", ["cả 3", "ca ba", "tất cả", "khai sinh va bhyt", "khai sinh và hộ khẩu"],
         ["all", "all", "all", "birth_insurance", "birth_residence"]),
        ("lien-thong-khai-sinh", "child.sex", ["trai", "bé gái", "con trai"], ["nam", "nu", "nam"]),
        ("lien-thong-khai-sinh", "requester.relation", ["bà nội", "ba ngoai", "ông nội"], ["ba", "ba", "ong"]),
        ("lien-thong-khai-tu", "requester.relation", ["ba", "tía", "con gái"], ["cha_me", "cha_me", "con"]),
        ("ho-tro-nha-o", "house.cause", ["lu", "bão số 3", "cháy nhà", "nhà dột nát"],
         ["thien_tai", "thien_tai", "hoa_hoan", "xuong_cap"]),
        ("bao-thay-doi-nhan-tro-cap", "change.kind", ["đổi tk", "ông mất rồi"], ["new_account", "deceased"]),
        ("xac-dinh-muc-do-khuyet-tat", "activity.walking",
         ["tự làm được", "được", "cần người giúp", "cháu không đi được", "không tự làm được",
          "làm được nhưng cần người giúp"],
         ["thuc_hien_duoc", "thuc_hien_duoc", "can_tro_giup", "khong_thuc_hien_duoc", "khong_thuc_hien_duoc",
          "can_tro_giup"]),
        ("doi-cap-lai-giay-xac-nhan-khuyet-tat", "activity.eating", ["tự ăn được", "không ăn được"],
         ["thuc_hien_duoc", "khong_thuc_hien_duoc"]),
        ("xac-dinh-muc-do-khuyet-tat", "activity.walking",  # (an elderly woman led by the hand, or carried)
         ["phai co nguoi dat di", "không đi được, phải có người bế", "không cần người giúp", "cần người đỡ"],
         ["can_tro_giup", "khong_thuc_hien_duoc", "thuc_hien_duoc", "can_tro_giup"]),
        ("doi-cap-lai-giay-xac-nhan-khuyet-tat", "request.reissue_reason", ["làm mất", "nặng hơn", "cháu đủ 6 tuổi"],
         ["mat", "thay_doi", "du_6_tuoi"]),
        ("ho-tro-nha-o", "household.status", ["nghèo", "cận nghèo", "khó khăn", "bình thường"],
         ["ho_ngheo", "ho_can_ngheo", "kho_khan", "khong_thuoc"]),
        ("lien-thong-khai-sinh", "case.situation", ["bình thường", "có cả bố và mẹ", "chưa có bố"],
         ["both_known", "both_known", "parent_unknown"]),
        ("ho-tro-mai-tang-huu-tri-xa-hoi", "deceased.sex", ["cụ bà", "ông"], ["nu", "nam"]),
        ("ho-tro-mai-tang-huu-tri-xa-hoi", "payment.method", ["qua ngân hàng", "thẻ ATM", "lên xã nhận"],
         ["bank", "bank", "cash"]),
        ("lien-thong-khai-tu", "payment.method", ["ngân hàng", "tiền mặt"], ["bank", "cash"]),
        # “… qua đời tại nơi cư trú cuối cùng (tại nhà) không?”: “tại nhà” was “Vui lòng trả lời Có hoặc Không”
        ("lien-thong-khai-tu", "deceased.death_place_same",
         ["tai nha", "mất ở nhà", "ở bệnh viện huyện", "mat o nha con trai", "không phải ở nhà"],
         [True, True, False, False, False]),
        ("lien-thong-khai-sinh", "father.same_residence",
         ["như trên", "ở cùng vợ con", "không, ở riêng", "chồng em đi làm xa"], [True, True, False, False]),
        # an elderly person with dementia, a child who keeps apart (both disability forms list the same signs)
        ("xac-dinh-muc-do-khuyet-tat", "disability.neuro_mental",
         # (not “tự kỷ”: with a provincial conclusion it is 6.3, “Khuyết tật khác”; which one is not guessed)
         ["lu lan, hay quen, di lac", "hay cáu giận, lú lẫn", "cháu chơi một mình"],
         [["4.4"], ["4.2", "4.4"], ["4.1"]]),
        ("lien-thong-khai-sinh", "head.consent",
         ["ong toi khong dung dien thoai thong minh", "ông ký giấy", "qua vneid", "bà không có VNeID"],
         ["paper", "paper", "vneid", "paper"]),
        # a “không” closed by a later “có”: the confirmation is had
        ("lien-thong-khai-tu", "notice.kind",
         ["co xac nhan cua cong an", "không có giấy báo tử, có xác nhận của công an", "giấy báo tử của bệnh viện"],
         ["thay_the", "thay_the", "giay_bao_tu"]),
        ("lien-thong-khai-tu", "benefit.si_status",
         ["ong khong co luong huu", "bà nghỉ hưu rồi", "ông hưởng trợ cấp hưu trí xã hội", "làm ruộng", "mất sức"],
         ["none", "pension", "none", "none", "pension"]),
        ("xac-dinh-muc-do-khuyet-tat", "filer.role", ["con tôi", "má"], ["representative", "representative"]),
        ("nhan-tro-cap-qua-tai-khoan", "allowance.type", ["người có công", "thương binh", "khuyết tật", "cả hai"],
         ["uu_dai", "uu_dai", "xa_hoi", "ca_hai"]),
        ("nhan-tro-cap-qua-tai-khoan", "filer.kind", ["chính tôi", "tôi là người giám hộ"], ["self", "guardian"]),
        ("lien-thong-khai-tu", "deceased.cause", ["covid", "đuối nước"], ["benh", "tai_nan"]),
        ("lien-thong-khai-tu", "requester.relation", ["cha", "cháu nội"], ["cha_me", "chau"]),
        ("ho-tro-nha-o", "house.damage", ["bị lũ cuốn", "sạt lở phải dời nhà", "bị hư hỏng nặng", "không ở được",
                                          "hư nhẹ thôi", "vẫn ở được"],
         ["troi", "di_doi_khan_cap", "hu_hong_nang", "hu_hong_nang", "hu_hong_nhe", "hu_hong_nhe"]),
        *[(proc, "filer.role", ["tôi khai giúp bà", "khai giup cho ong", "tinh nguyen vien"], ["helper"] * 3)
          for proc in ("ho-tro-chi-phi-mai-tang", "ho-tro-nha-o", "xac-dinh-muc-do-khuyet-tat",
                       "doi-cap-lai-giay-xac-nhan-khuyet-tat", "xac-nhan-ho-muc-song-trung-binh",
                       "dang-ky-co-so-tro-giup-xa-hoi")],
        ("nhan-tro-cap-qua-tai-khoan", "filer.kind", ["tôi khai giúp bà", "đăng ký giúp ông"], ["helper"] * 2),
        # “mất” is died; “mất tích” (its words hold “mất”) is missing
        ("ho-tro-chi-phi-mai-tang", "deceased.status",
         ["mất", "mất rồi", "da qua doi", "chết", "mat tich", "Mất tích", "bị lũ cuốn trôi, chưa tìm thấy"],
         ["chet", "chet", "chet", "chet", "mat_tich", "mat_tich", "mat_tich"]),
        # a “không” before an option's words: not that option
        ("ho-tro-nha-o", "household.status", ["không nghèo", "không phải hộ nghèo", "hộ nghèo"],
         ["khong_thuoc", "khong_thuoc", "ho_ngheo"]),
    ])
    def test_the_words_people_type_for_a_choice(self, proc: str, field: str, typed: list[str],
                                                 value: list[str]) -> None:
        """Each used to get “Chưa rõ lựa chọn” (or “Cha or Bà?”) in the console walks; ``also:`` in the YAML."""
        from dialogs import kinds
        from dialogs.catalog import Catalog

        f = Catalog.load().form(proc).field(field)
        assert f is not None
        assert [kinds.get(f.kind).parse(f, raw, today=date(2026, 12, 6), lookup=None) for raw in typed] == value

    def test_a_lost_certificate_is_never_read_as_a_damaged_one(self) -> None:
        """“mat giay” (the certificate lost) picked “Cấp đổi … (giấy cũ hư hỏng)” on a loose likeness. The options'
        own words say which: a label only like the answer gives way to them (a label named outright, “ba” for Bà
        and Cha's words, is asked about)."""
        from dialogs import kinds
        from dialogs.catalog import Catalog

        f = Catalog.load().form("doi-cap-lai-giay-xac-nhan-khuyet-tat").field("request.type")
        assert f is not None
        choice, day = kinds.get("choice"), date(2026, 12, 5)
        assert [choice.parse(f, raw, today=day, lookup=None)
                for raw in ("bị mất", "làm mất rồi", "thất lạc", "bị rách", "giấy bị hỏng", "sai tên")] == \
            ["cap_lai"] * 3 + ["cap_doi"] * 3
        # “mất giấy” are the words of Cấp lại; the label of Cấp đổi only looks like them (a loose likeness gives way)
        assert choice.parse(f, "mat giay", today=day, lookup=None) == "cap_lai"

    def test_in_english_the_labels_as_shown_answer(self) -> None:
        """The bot in English matched options on their Vietnamese labels only, so “Poor household” was not
        understood; a list of several takes its English labels too. In Vietnamese nothing changes."""
        from dialogs import kinds
        from dialogs.catalog import Catalog
        from dialogs.i18n import translator
        from dialogs.messages import Incoming

        forms = Catalog.load()
        status = forms.form("ho-tro-nha-o").field("household.status")
        motor = forms.form("xac-dinh-muc-do-khuyet-tat").field("disability.motor")
        assert status is not None and motor is not None
        en, vi = translator("en"), translator("vi")
        assert kinds.get("choice").shortcut(status, Incoming(text="poor household"), "poor household", en) == "ho_ngheo"
        typed = "missing arms, missing legs"  # “Missing arm(s) or hand(s), …”, “Missing leg(s) or foot/feet, …”
        assert kinds.get("multi_choice").shortcut(motor, Incoming(text=typed), typed, en) == ["1.2", "1.3"]
        assert kinds.get("multi_choice").shortcut(motor, Incoming(text=typed), typed, vi) is kinds.NO_VALUE

    def test_a_label_named_in_a_message_is_in_the_persons_language(self) -> None:
        """“Please choose “I agree”…”, not the Vietnamese button in an English message."""
        from dialogs import kinds
        from dialogs.catalog import Catalog
        from dialogs.i18n import translator

        f = Catalog.load().form("bao-thay-doi-nhan-tro-cap").field("consent.data")
        assert f is not None
        with pytest.raises(Invalid) as exc:
            kinds.get("confirm").parse(f, "để sau", today=date(2026, 12, 5), lookup=None)
        assert translator("en")(exc.value.message, **exc.value.params) == "Please choose “I agree” to confirm."
        assert translator("vi")(exc.value.message, **exc.value.params) == "Vui lòng chọn “Tôi đồng ý” để xác nhận."

    def test_other_words_must_not_repeat_across_choices(self) -> None:
        from dialogs.schema import FieldDef

        base = {"id": "job", "kind": "choice", "prompt": "Nghề?"}
        FieldDef.model_validate({**base, "choices": [{"value": "a", "label": "A", "also": ["làm ruộng"]},
                                                     {"value": "b", "label": "B", "also": ["đánh cá"]}]})
        for choices in ([{"value": "a", "label": "A", "also": ["làm ruộng"]},
                         {"value": "b", "label": "B", "also": ["lam ruong"]}],  # the same words, folded
                        [{"value": "a", "label": "A", "also": ["covid-19"]},
                         {"value": "b", "label": "B", "also": ["Covid 19"]}],  # the same words, as matched
                        [{"value": "a", "label": "A", "also": ["  "]}, {"value": "b", "label": "B"}]):
            with pytest.raises(ValueError, match="also"):
                FieldDef.model_validate({**base, "choices": choices})
        # a consent's options take other words too (“bà ngồi cạnh tôi”: in person)
        FieldDef.model_validate({**base, "kind": "consent", "choices": [{"value": "a", "label": "A", "also": ["x"]},
                                                                        {"value": "b", "label": "B", "stop": "…"}]})
        with pytest.raises(ValueError, match="only for kind choice"):
            FieldDef.model_validate({**base, "kind": "multi_choice", "choices": [
                {"value": "a", "label": "A", "also": ["x"], "also_answers_next": True}]})
        with pytest.raises(ValueError, match="also_answers names words of the option's also"):
            FieldDef.model_validate({**base, "choices": [
                {"value": "a", "label": "A", "also": ["con gai"], "also_answers": {"field": "b", "words": ["mẹ"]}}]})
        FieldDef.model_validate({**base, "choices": [  # (folded alike: the same words)
            {"value": "a", "label": "A", "also": ["con gai"], "also_answers": {"field": "b", "words": ["con gái"]}}]})

    def test_a_part_of_several_choices_may_be_an_options_other_words(self) -> None:
        choices = [("old", "Người cao tuổi"), ("child", "Trẻ em có hoàn cảnh đặc biệt"), ("other", "Khác")]
        also = [("old", ["người già", "cụ già"]), ("child", ["trẻ mồ côi", "trẻ em"])]
        assert match_multi_choice("tre mo coi, nguoi gia", choices, also) == ["old", "child"]
        assert match_multi_choice("nuôi trẻ mồ côi", choices, also) == ["child"]
        assert match_multi_choice("1 và trẻ mồ côi", choices, also) == ["old", "child"]
        assert match_multi_choice("tre mo coi, abc", choices, also) is None  # a part that is no choice
        assert match_multi_choice("nguoi gia", choices) is None  # (no other words given)
        senses = [("mute", "Không phát ra âm thanh, lời nói"), ("deaf", "Không nghe được"), ("blind", "Mù một mắt"),
                  ("colour", "Không phân biệt được màu sắc")]
        words = [("mute", ["câm"]), ("deaf", ["điếc"]), ("blind", ["mù"]), ("colour", ["mù màu"])]
        assert match_multi_choice("câm điếc", senses, words) == ["mute", "deaf"]  # one part, two options
        assert match_multi_choice("bi mu mau", senses, words) == ["colour"]  # not also “mù”
        assert match_multi_choice("không điếc, chỉ câm", senses, words) is None  # (“không điếc” is no option)

    def test_numeric_labels(self) -> None:
        years = [("y1", "2024"), ("y2", "2025")]
        assert match_choice("2025", years) == "y2"
        assert match_choice("1", years) == "y1"

    def test_multi(self) -> None:
        for raw in ("1, 3", "1 3", "1;3", "1 và 3", "3,1", "khai sinh, khai tử", "1 va khai tu", "1, 3, 3",
                    "dạ 1 và 3 ạ", "1, 3 nhé"):
            assert match_multi_choice(raw, CHOICES) == ["khai_sinh", "khai_tu"], raw
        assert match_multi_choice("2", CHOICES) == ["ket_hon"]
        assert match_multi_choice("kết hôn", CHOICES) == ["ket_hon"]
        for raw in ("không có", "khong", "ko", "không"):
            assert match_multi_choice(raw, CHOICES) == [], raw
        assert match_multi_choice("tất cả", CHOICES) == ["khai_sinh", "ket_hon", "khai_tu"]
        assert match_multi_choice("cả ba", CHOICES) == ["khai_sinh", "ket_hon", "khai_tu"]
        assert match_multi_choice("cả hai", CHOICES) is None  # there are three
        assert match_multi_choice("1, 9", CHOICES) is None
        assert match_multi_choice("abc", CHOICES) is None
        assert match_multi_choice("", CHOICES) is None

    def test_multi_label_with_separator(self) -> None:
        choices = [("x", "Sổ hộ khẩu, sổ tạm trú"), ("y", "Giấy khai sinh")]
        assert match_multi_choice("Sổ hộ khẩu, sổ tạm trú", choices) == ["x"]

    @FAST
    @given(MESSY)
    def test_never_raises(self, s: str) -> None:
        value = match_choice(s, CHOICES)
        assert value is None or value in {v for v, _ in CHOICES}
        values = match_multi_choice(s, CHOICES)
        assert values is None or set(values) <= {v for v, _ in CHOICES}


# --------------------------------------------------------------------------
# Attachments
# --------------------------------------------------------------------------

SAMPLES = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "image/gif": b"GIF89a\x01\x00\x01\x00",
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
}


class TestAttachments:
    @pytest.mark.parametrize(("mime", "data"), list(SAMPLES.items()))
    def test_sniff(self, mime: str, data: bytes) -> None:
        assert sniff_mime(data) == mime

    @pytest.mark.parametrize("brand", [b"heic", b"heix", b"mif1"])
    def test_sniff_heic(self, brand: bytes) -> None:
        assert sniff_mime(b"\x00\x00\x00\x18ftyp" + brand + b"\x00" * 8) == "image/heic"

    def test_sniff_unknown(self) -> None:
        assert sniff_mime(b"") is None
        assert sniff_mime(b"hello world") is None
        assert sniff_mime(b"PK\x03\x04") is None

    def test_check_ok(self) -> None:
        import io

        from PIL import Image

        def image(fmt: str) -> bytes:
            buf = io.BytesIO()
            Image.new("RGB", (8, 8), (0, 90, 200)).save(buf, fmt)
            return buf.getvalue()

        accept = ["image/jpeg", "image/png", "application/pdf"]
        assert check_attachment(image("PNG"), accept=accept, max_bytes=10_000) == "image/png"
        assert check_attachment(image("WEBP"), accept=["image/*"], max_bytes=10_000) == "image/webp"
        # the first bytes alone are not enough: the structure must be real (tests/test_hostile_input.py)
        assert "bị hỏng" in invalid(check_attachment, SAMPLES["image/png"], accept=accept, max_bytes=1000).message

    def test_check_errors(self) -> None:
        assert "bị trống" in invalid(check_attachment, b"", accept=["image/*"], max_bytes=10).message
        exc = invalid(check_attachment, b"hello", accept=["image/jpeg", "application/pdf"], max_bytes=10**6)
        assert exc.message.startswith("Tệp này không phải ảnh hoặc PDF")
        exc = invalid(check_attachment, SAMPLES["application/pdf"], accept=["image/*"], max_bytes=10**6)
        assert exc.message.startswith("Tệp này không phải ảnh.")
        exc = invalid(check_attachment, SAMPLES["image/png"], accept=["application/pdf"], max_bytes=10**6)
        assert exc.message.startswith("Tệp này không phải PDF")
        big = SAMPLES["image/jpeg"] + b"\x00" * (3 * 1024 * 1024)
        exc = invalid(check_attachment, big, accept=["image/jpeg"], max_bytes=2 * 1024 * 1024)
        assert exc.message == "Tệp quá lớn ({size} MB). Vui lòng gửi tệp nhỏ hơn {max} MB."
        assert exc.render() == "Tệp quá lớn (3 MB). Vui lòng gửi tệp nhỏ hơn 2 MB."

    @FAST
    @given(st.binary(max_size=64))
    def test_never_raises_unexpectedly(self, data: bytes) -> None:
        with contextlib.suppress(Invalid):
            check_attachment(data, accept=["image/*", "application/pdf"], max_bytes=32)


# --- replies that are not data, and answers with a little more than asked (citizen walk-through D10, D23) ---

@pytest.mark.parametrize("text", ["ko nho", "khong nho so", "không nhớ", "chưa có", "quên rồi", "không biết ạ",
                                  "k biet", "tôi không nhớ số", "Ko biết ngày", "quen mat roi", "I don't know",
                                  # the paper or the number not had: a child without a card, no bank account
                                  "tôi không có CCCD", "chau chua co the can cuoc", "không có số định danh",
                                  "chưa có tài khoản", "ko co so dien thoai", "không có nha", "không có số nhà",
                                  # a newborn not yet named
                                  "chua dat ten", "chưa đặt tên cho bé ạ",
                                  # a paper not signed or asked for yet, whoever has to (“ông chưa ký”), “gì cả”
                                  "ong chua ky", "chưa ký", "bà chưa viết", "chua xin duoc", "chua co giay gi ca",
                                  # as typed on a phone: “e” for em, “bít”, “bik”, “hk”, “kb”
                                  "e ko biet", "e k nho", "ko bik", "hk bit", "kb", "kb a"])
def test_says_unknown(text):
    assert says_unknown(text)


@pytest.mark.parametrize("text", ["Nguyễn Văn Nhớ", "12345", "không", "ko", "có", "chưa", "Hồ Biết", "ông", "bà chưa",
                                  "bà không biết chữ",
                                  "01/2019/GCNKH", "x" * 100, "không có bố",
                                  # “nhà”, a house, is not the particle “nha” (“không có nha”: I haven't, OK?)
                                  "không có nhà", "không có nhà ở"])
def test_not_unknown(text):
    assert not says_unknown(text)


@pytest.mark.parametrize("text", ["chua co giay bao tu", "chưa có giấy báo tử", "toi chua co anh",
                                  "không có thẻ bảo hiểm"])
def test_says_unknown_at_the_start_of_a_longer_reply(text):
    """For a paper asked for as a photo, a reply that begins so is enough (“chưa có giấy báo tử”); a word of
    the list is a whole word, not the start of a longer one."""
    assert says_unknown(text, lead=True)


@pytest.mark.parametrize("text", ["khong biet chu", "bà không biết đọc", "chau khong biet di"])
def test_what_someone_cannot_do_is_not_unknown_at_a_choice(text):
    """“không biết chữ” at “Đọc, viết, tính toán…” was “Câu này cần có câu trả lời”, as if the filer did not know:
    “biết” before a skill is being able to."""
    assert not says_unknown(text, lead=True)


def test_a_part_of_a_label_needs_more_than_a_whole_label():
    """A few words close to a part of a long label are weaker evidence than a whole label: “dung lai”
    (dừng lại) is as close to “dung ra” (đứng ra) as a typo, and is not that option; a typo of two words of one
    label still picks it."""
    opts = [("self", "Tôi là người đứng ra mai táng (hoặc đại diện cơ quan)"), ("helper", "Tôi khai giúp người khác")]
    assert match_choice("dung lai", opts) is None
    assert match_choice("khai giub", opts) == "helper" and match_choice("mai tag", opts) == "self"


@pytest.mark.parametrize("text,value", [("5 nguoi", 5), ("3 người", 3), ("2 cháu", 2), ("năm người", 5),
                                        ("4 thành viên", 4)])
def test_number_with_a_unit(text, value):
    assert parse_number(text) == value


def test_yes_no_with_a_reason():
    assert parse_yes_no("co, thuong binh") is True
    assert parse_yes_no("không, nhưng có bảo hiểm") is False
    with pytest.raises(Invalid):
        parse_yes_no("thuong binh, co")
    # without the comma: the answer, then a “but” (“có nhưng đang đi làm ở Hàn Quốc”)
    assert parse_yes_no("co nhung dang di lam o han quoc") is True and parse_yes_no("không nhưng sắp về") is False
    for raw in ("có nhưng", "nhưng mà có", "bố nó có nhưng đi xa"):
        with pytest.raises(Invalid):
            parse_yes_no(raw)


def test_a_yes_or_no_said_by_echoing_the_verb():
    from dialogs.parsing import echoed_yes_no
    same = "Nơi ở hiện nay có giống nơi thường trú không?"
    married = "Cha mẹ của trẻ có đăng ký kết hôn không?"
    late = "Người mất đã từ 80 tuổi trở lên. Người mất có đang hưởng trợ cấp tuất BHXH hằng tháng không?"
    paid = "Người mất đã đóng BHXH bắt buộc từ đủ 12 tháng trở lên chưa?"
    for raw, question, said in (("giong", same, True), ("giống nhau ạ", same, True), ("khong giong", same, False),
                                ("dang ky roi", married, True), ("chưa đăng ký", married, False),
                                ("có đăng ký kết hôn", married, True), ("dang huong", late, True),
                                ("khong huong", late, False), ("dong roi", paid, True), ("chua dong", paid, False),
                                ("du", "Cơ sở có đủ điều kiện về nhà ở không?", True)):  # (“Cơ sở”: no “có”)
        assert echoed_yes_no(raw, question) is said, raw
    for raw in ("giong 1 phan", "khác", "giống không", "noi thuong tru", "khong", ""):  # no echo of the verb
        assert echoed_yes_no(raw, same) is None, raw
    assert echoed_yes_no("giong", "Giống nơi thường trú?") is None  # no “có … không?” asked
    home = "Người mất có qua đời tại nơi cư trú cuối cùng (tại nhà) không?"
    assert echoed_yes_no("qua đời", home) is None  # short of the point asked (where): no echo
    assert echoed_yes_no("qua đời tại nơi cư trú", home) is True


def test_yes_with_a_count_is_yes():
    for raw in ("co 2 nguoi", "Có 2 người", "dạ có một chị", "có hai nhân viên", "co vai nguoi"):
        assert parse_yes_no(raw) is True, raw
    for raw in ("co 2", "có ba tôi", "có năm 2020", "có thể", "có lẽ"):  # a number alone, no count, a guess alone
        with pytest.raises(Invalid):
            parse_yes_no(raw)
    assert parse_yes_no("có thẻ") is True and parse_yes_no("có thể có") is True  # a card; a guess that is yes


def test_year_only_date_says_what_is_missing():
    with pytest.raises(Invalid) as exc:
        parse_date("nam 1948", today=date(2026, 12, 4))
    assert "năm 1948" in exc.value.render() and "05/03/1948" in exc.value.render()


@pytest.mark.parametrize("raw", ["3/1950", "thang 3 nam 1950", "t3/1950"])
def test_month_and_year_only_date_says_what_is_missing(raw):
    with pytest.raises(Invalid) as exc:
        parse_date(raw, today=date(2026, 12, 4))
    assert "tháng 03/1950" in exc.value.render() and "05/03/1950" in exc.value.render()


@pytest.mark.parametrize(("raw", "expected"), [
    ("14:30", "14:30"), ("14h30", "14:30"), ("14 giờ 30 phút", "14:30"), ("14.30", "14:30"), ("7h", "07:00"),
    ("3 giờ sáng", "03:00"), ("khoảng 3 giờ sáng ạ", "03:00"), ("10 giờ rưỡi tối", "22:30"), ("2h chiều", "14:00"),
    ("12 giờ trưa", "12:00"), ("1 giờ trưa", "13:00"), ("nửa đêm", "00:00"), ("1 giờ đêm", "01:00"),
    ("11 giờ đêm", "23:00"), ("3 giờ kém 15 chiều", "14:45"), ("lúc 9 giờ tối hôm qua", "21:00"), ("3 pm", "15:00"),
    ("at about 3am", "03:00"),
])
def test_a_time_as_people_say_it(raw: str, expected: str) -> None:
    """“khoang 3 gio sang” at “Vào lúc mấy giờ?” (the time of a death) was refused: the pattern took only 14:30."""
    from dialogs.kinds.time import parse_time

    assert parse_time(raw) == expected


@pytest.mark.parametrize("raw", ["5", "hôm qua", "sáng", "9 giờ trưa", "25:00", "14:75", "19 giờ sáng", "3 giờ kém 99"])
def test_not_a_time(raw: str) -> None:
    from dialogs.kinds.time import parse_time

    with pytest.raises(Invalid):
        parse_time(raw)


def test_a_no_that_opens_a_reply_is_followed_by_the_correction():
    from dialogs.parsing import after_no, strip_name_intro
    assert after_no("khong, ten toi la Nong Van Hai") == "ten toi la Nong Van Hai"
    assert after_no("ko phai ten bo toi, ten toi la nong van hai") == "ten toi la nong van hai"
    assert after_no("không phải tên tôi là Nông Văn Hải") == "tên tôi là Nông Văn Hải"
    assert after_no("sai rồi, xã Hòa An") == "xã Hòa An"
    assert after_no("khong nho ten") == after_no("khong") == after_no("có, xã Hòa An") == ""
    assert strip_name_intro("tên bố tôi là Nông Văn Hải") == "Nông Văn Hải"


def test_a_place_is_spelled_as_todays_lists_write_it():
    """The lists before 2025 write “Hoà An”, today's “Hòa An”: one place, offered once and spelled as today,
    though Hòa An was a district and is now a commune."""
    from dialogs.spelling import restore_place
    from dialogs.textnorm import modern_tones
    assert modern_tones("Hoà Bình, Khoẻ, Thuỷ, Hoàng, Quý, Khuế, Huỳnh") == \
        "Hòa Bình, Khỏe, Thủy, Hoàng, Quý, Khuế, Huỳnh"
    assert restore_place("UBND xa hoa an")[0] == "UBND xã Hòa An"
    assert restore_place("thuy nguyen, hai phong") == ["Thủy Nguyên, Hải Phòng"]


def test_a_document_number_is_filed_without_the_word_number_and_a_yes_picks_the_one_yes_option():
    """“so 45/2019” at the marriage certificate's number was filed with its “so”; “có ạ”, “co, benh vien cap” at
    “Bạn có giấy chứng sinh của trẻ không?” (options “Có giấy chứng sinh”, “Không có, …”) were “Chưa rõ”."""
    from tests.test_conversation_disability import read_answer
    birth = "lien-thong-khai-sinh"
    assert read_answer(birth, "marriage.number", "so 45/2019") == "45/2019"
    assert read_answer(birth, "marriage.number", "Số: 12") == "12"
    assert read_answer(birth, "docs.proof", "co, benh vien cap") == read_answer(birth, "docs.proof", "có ạ") \
        == "certificate"
    assert read_answer(birth, "docs.proof", "khong co, co van ban lam chung") == "witness"
    assert read_answer("lien-thong-khai-tu", "notice.kind", "co a") == "giay_bao_tu"
    assert read_answer(birth, "head.child_relation", "khong ho hang, o tro thoi") == "khac"


def test_a_date_said_with_the_words_of_when_is_read():
    """“hôm 28/10”, “đêm hôm 28/10 vừa rồi” at the day the flood took the house were “Ngày chưa đúng”."""
    from dialogs.parsing import parse_date
    today = date(2026, 12, 7)
    for said in ("hôm 28/10", "dem hom 28/10", "28/10 vua roi", "toi 28/10", "ngày 28/10 rồi"):
        assert parse_date(said, today=today) == date(2026, 10, 28), said
    assert parse_date("hom qua", today=today) == date(2026, 12, 6)
    with pytest.raises(Invalid) as guess:
        parse_date("khoang 28/10", today=today)  # an approximate day is no paper's date
    assert "Nếu đúng là ngày 28/10, vui lòng gõ lại “28/10”" in guess.value.render()


@pytest.mark.parametrize("said", ["thang truoc", "đầu tháng 11", "tuần trước", "cuoi nam ngoai", "giua thang roi"])
def test_a_time_without_its_day_is_told_so(said):
    """“tháng trước” at the day the storm took the house was “Ngày chưa đúng. Vui lòng nhập theo dạng …”, as if
    mistyped: it names no day, and is told so with the same example; “tháng 5 năm 2019” keeps its own message."""
    from dialogs.parsing import parse_date
    with pytest.raises(Invalid, match="chưa nói rõ ngày nào"):
        parse_date(said, today=date(2026, 12, 7))
    with pytest.raises(Invalid) as month:
        parse_date("tháng 5 năm 2019", today=date(2026, 12, 7))
    assert month.value.render().startswith("Bạn mới nhập tháng 05/2019")


def test_an_address_typed_at_an_ethnic_group_is_not_offered_as_one():
    """“ban na hang, xa muong lat, thanh hoa” at the ethnic group was offered as “Giữ như tôi gõ”: a part of it is a
    place, so it is said to be one, and the group asked again."""
    from tests.test_conversation_disability import read_answer
    with pytest.raises(Invalid, match="tên một địa danh"):
        read_answer("ho-tro-nha-o", "rep.ethnicity", "ban na hang, xa muong lat, thanh hoa")
    assert read_answer("ho-tro-nha-o", "rep.ethnicity", "thai") == "Thái"


def test_a_count_then_what_it_is_made_of_is_the_count():
    """“5 nguoi, 2 vo chong 3 dua con” at “Hộ có bao nhiêu người?” was “Câu trả lời có nhiều số”: the parts after the
    count add up to it, so the count is the answer; parts that do not (“5 người, 2 người đi làm”) still ask."""
    from dialogs.parsing import parse_number
    assert parse_number("5 nguoi, 2 vo chong 3 dua con") == 5
    assert parse_number("4 người, 2 vợ chồng, 2 con") == 4
    with pytest.raises(Invalid, match="nhiều số"):
        parse_number("5 người, 2 người đi làm, 1 người già")


def test_a_yes_with_a_count_answers_only_where_having_is_asked():
    """“có 2 nhân viên” at “Lý lịch tư pháp … đều trong sạch, đúng không?” was a yes, filed: a yes with how many is
    an answer where “có …” or “đã … chưa” is asked, and is asked again elsewhere."""
    from tests.test_conversation_disability import read_answer
    facility = "dang-ky-co-so-tro-giup-xa-hoi"
    with pytest.raises(Invalid, match="Có” hoặc “Không"):
        read_answer(facility, "conditions.no_criminal_record", "co 2 nhan vien")
    assert read_answer(facility, "conditions.no_criminal_record", "có") is True
    assert read_answer(facility, "conditions.has_worker", "co 2 nhan vien") is True
    assert read_answer("lien-thong-khai-tu", "benefit.compulsory_12m", "co 15 thang") is True


def test_a_name_said_with_bé_before_it_and_the_age_after_it_is_the_name():
    """“be Hoang Minh Khoi, 7 tuoi” at the disabled child's name was “Họ và tên không được chứa chữ số”."""
    from dialogs.nlu import name_of
    assert name_of("be Hoang Minh Khoi, 7 tuoi") == "Hoang Minh Khoi"
    assert name_of("Lê Thị Hoa 8 tháng tuổi") == "Lê Thị Hoa"
    assert name_of("Bé Na") == "Bé Na"  # (no surname after it: kept)


def test_several_choices_partly_read_say_what_was_and_what_was_not():
    """“nuoi duong va day chu cho cac chau” at “Cơ sở làm những việc gì?” was “Chưa rõ lựa chọn của bạn”, as if
    nothing had been read: the message names the option read and the words not read, as typed."""
    from tests.test_conversation_disability import read_answer
    facility = "dang-ky-co-so-tro-giup-xa-hoi"
    with pytest.raises(Invalid) as e:
        read_answer(facility, "facility.functions", "Nuôi dưỡng và hát cho các cháu nghe ạ")
    assert e.value.render() == ("Trợ lý đã hiểu “Chăm sóc, nuôi dưỡng đối tượng” nhưng chưa hiểu “hát cho các cháu "
                                "nghe”. Vui lòng chọn lại đủ các mục bạn muốn.")
    with pytest.raises(Invalid) as e:
        read_answer(facility, "facility.functions", "1, 3 va xyz")
    assert "đã hiểu “Chăm sóc, nuôi dưỡng đối tượng”, “Tư vấn, trị liệu tâm lý” nhưng chưa hiểu “xyz”" \
        in e.value.render()
    # as the chat says it, through the translator, in both languages (the chat showed the tuple's repr)
    from dialogs.i18n import translator
    for lang, read in (("vi", "“Chăm sóc, nuôi dưỡng đối tượng”, “Tư vấn, trị liệu tâm lý”"), ("en", "”, “")):
        said = translator(lang)(e.value.message, **e.value.params)
        assert read in said and "('" not in said and "Label(" not in said, said
    with pytest.raises(Invalid, match="Chưa rõ lựa chọn"):  # nothing read: as before
        read_answer(facility, "facility.functions", "abc, xyz")
    assert read_answer(facility, "facility.functions", "nuoi duong va day chu cho cac chau") == [
        "nuoi_duong", "giao_duc"]


def test_a_place_said_with_in_or_at_before_it_is_spelled():
    """“trong phuong long chau” at the facility's area of work was kept without diacritics: “trong”, “tại”, “ở”,
    “thuộc”, “địa bàn” before a place join it as “và”, “các” do."""
    from dialogs.spelling import restore_place
    assert restore_place("trong phuong long chau") == ["trong phường Long Châu"]
    assert restore_place("o xa nhan co va cac xa lan can") == ["ở xã Nhân Cơ và các xã lân cận"]
    assert restore_place("tai phuong long chau, vinh long") == ["tại phường Long Châu, Vĩnh Long"]
    assert restore_place("xa o loan") == ["Xã Ô Loan"]  # (a place's own word first)
    assert restore_place("trong") == []  # joining words alone are no place


def test_a_count_said_with_who_they_are_is_the_count():
    """“2 ba chau” (two, a grandmother and her grandchild) at “Hộ có bao nhiêu người?” was “Chưa hiểu số bạn nhập”:
    its “ba” was read as a second number (three); “chỉ có 2 người” was refused for its “chỉ”."""
    from dialogs.parsing import parse_number
    assert parse_number("2 ba chau") == 2 and parse_number("hai bà cháu") == 2
    assert parse_number("3 me con toi a") == 3 and parse_number("4 bo con") == 4 and parse_number("2 ong ba") == 2
    assert parse_number("chi co 2 ba chau") == 2 and parse_number("chỉ 2 người") == 2
    with pytest.raises(Invalid):
        parse_number("2 ba")  # two numbers: asked again


def test_none_then_why_is_none():
    """“khong ai, ba gia roi con toi di hoc” at how many of the household are of working age was “Chưa hiểu số”."""
    from dialogs.parsing import parse_number
    assert parse_number("khong ai, ba gia roi con toi di hoc") == 0
    assert parse_number("không có ai, cả hai đều già") == 0
    with pytest.raises(Invalid):
        parse_number("khong, ba nguoi")  # (a number after it: not a reason)


def test_a_bank_account_holder_is_in_capitals():
    """“nguyen thi sau” at the account holder was filed and shown in lower case; banks print it in capitals."""
    from tests.test_conversation_disability import read_answer
    assert read_answer("nhan-tro-cap-qua-tai-khoan", "account.holder", "nguyen thi sau") == "NGUYEN THI SAU"


def test_a_word_of_two_options_in_a_longer_answer_is_asked():
    """“ba no” at “Bạn là gì của trẻ?” was filed as “Bà” (grandmother) without a word: “ba” is a father in the South
    and “Bà” typed plainly. A bare “ba” was asked already; now so is an answer that holds it."""
    from tests.test_conversation_disability import read_answer
    for typed in ("ba no", "toi la ba", "ba cua chau"):
        with pytest.raises(Invalid) as e:
            read_answer("lien-thong-khai-sinh", "requester.relation", typed)
        assert "có thể là “Cha” hoặc “Bà”" in e.value.render()
    assert read_answer("lien-thong-khai-sinh", "requester.relation", "bà nó") == "ba"  # as written
    assert read_answer("lien-thong-khai-sinh", "requester.relation", "ba noi") == "ba"  # a word of its own
    assert read_answer("lien-thong-khai-sinh", "requester.relation", "bo no") == "cha"
