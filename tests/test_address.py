"""Tests for dialogs.address (post-2025 administrative units)."""
from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs import address
from dialogs.address import (
    LEGACY_PROVINCES,
    Unit,
    commune,
    communes,
    extract_address,
    legacy_note,
    match_commune,
    match_province,
    province,
    province_of,
    provinces,
)
from dialogs.parsing import LEGACY_ID_PROVINCE_CODES
from dialogs.textnorm import fold, vi_sort_key

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VI_CHARS = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
ADDRESSY = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.sampled_from(
            ["xã", "phường", "p.", "đặc khu", "tỉnh", "tp", "Hà Nội", "ba dinh", "hcm", ",", "số 5", "-", "Đắk Nông"]
        )
        | st.text(alphabet=VI_CHARS + string.ascii_letters + " ,.-", min_size=1, max_size=8),
        max_size=8,
    ).map(" ".join),
)


def names(units: list[Unit]) -> list[str]:
    return [u.name for u in units]


# --------------------------------------------------------------------------
# Data set
# --------------------------------------------------------------------------


class TestData:
    def test_34_provinces(self) -> None:
        units = provinces()
        assert len(units) == 34
        assert len({u.code for u in units}) == 34
        assert all(len(u.code) == 2 and u.code.isdigit() for u in units)
        assert all(u.full_name.startswith(("Tỉnh ", "Thành phố ")) for u in units)
        assert all(u.full_name.endswith(u.name) for u in units)
        cities = {u.name for u in units if u.full_name.startswith("Thành phố ")}
        assert cities == {"Hà Nội", "Hải Phòng", "Huế", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ"}

    def test_merged_provinces_are_gone(self) -> None:
        current = {u.name for u in provinces()}
        for gone in ("Đắk Nông", "Bắc Kạn", "Hà Giang", "Hải Dương", "Bình Dương", "Yên Bái", "Kon Tum"):
            assert gone not in current

    def test_lookups(self) -> None:
        lam_dong = province("68")
        assert lam_dong == Unit(code="68", name="Lâm Đồng", full_name="Tỉnh Lâm Đồng")
        assert province("1") == province("01")
        assert province("99") is None
        assert province("abc") is None
        ba_dinh = commune("00004")
        assert ba_dinh == Unit(code="00004", name="Ba Đình", full_name="Phường Ba Đình")
        assert commune("4") == ba_dinh
        assert commune("99999") is None
        assert province_of("00004") == province("01")
        assert province_of("99999") is None

    def test_communes(self) -> None:
        total = 0
        for p in provinces():
            units = communes(p.code)
            assert units, p
            assert all(len(u.code) == 5 for u in units)
            assert all(u.full_name.startswith(("Xã ", "Phường ", "Đặc khu ")) for u in units)
            assert all(province_of(u.code) == p for u in units)
            total += len(units)
        assert total > 3000  # 3 321 in the 2025 data set
        assert communes("99") == []
        assert communes("1") == communes("01")
        hanoi = communes("01")
        # Vietnamese alphabetical order: Đ after D (“Đông Anh” after “Dương Hòa”), not folded nor code point
        assert [u.name for u in hanoi] == sorted((u.name for u in hanoi), key=vi_sort_key)
        names = [u.name for u in hanoi]
        firsts = [n[0] for n in names]
        assert firsts.index("Đ") > max(i for i, c in enumerate(firsts) if c == "D")

    def test_legacy_table(self) -> None:
        assert len(LEGACY_PROVINCES) == 63
        codes = {u.code for u in provinces()}
        assert set(LEGACY_PROVINCES.values()) == codes  # every new province absorbs something
        # Every province named in the CCCD code list is a known legacy name.
        assert set(LEGACY_ID_PROVINCE_CODES.values()) == set(LEGACY_PROVINCES)


# --------------------------------------------------------------------------
# Province matching
# --------------------------------------------------------------------------


class TestMatchProvince:
    @pytest.mark.parametrize("unit", provinces(), ids=lambda u: u.code)
    def test_every_province_exact(self, unit: Unit) -> None:
        for text in (unit.name, unit.full_name, fold(unit.name), fold(unit.full_name).upper()):
            assert match_province(text) == [unit], text

    @pytest.mark.parametrize(("old", "code"), sorted(LEGACY_PROVINCES.items()))
    def test_every_legacy_name(self, old: str, code: str) -> None:
        assert match_province(old) == [province(code)]
        assert match_province("tỉnh " + fold(old)) == [province(code)]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Lâm Đồng", "Lâm Đồng"),
            ("lam dong", "Lâm Đồng"),
            ("tinh lam dong", "Lâm Đồng"),
            ("T. Lâm Đồng", "Lâm Đồng"),
            ("lamdong", "Lâm Đồng"),
            ("lam dongg", "Lâm Đồng"),
            ("lâm đòng", "Lâm Đồng"),
            ("hcm", "Hồ Chí Minh"),
            ("tphcm", "Hồ Chí Minh"),
            ("TP.HCM", "Hồ Chí Minh"),
            ("tp hcm", "Hồ Chí Minh"),
            ("t.p hcm", "Hồ Chí Minh"),
            ("Thành phố Hồ Chí Minh", "Hồ Chí Minh"),
            ("sai gon", "Hồ Chí Minh"),
            ("Sài Gòn", "Hồ Chí Minh"),
            ("hn", "Hà Nội"),
            ("ha noi", "Hà Nội"),
            ("Hanoi", "Hà Nội"),
            ("tp ha noi", "Hà Nội"),
            ("thanh pho da nang", "Đà Nẵng"),
            ("quảg nin", "Quảng Ninh"),
            ("o lam dong a", "Lâm Đồng"),
            ("Lâm Đồng, Việt Nam", "Lâm Đồng"),
            # pre-2025 names
            ("Đắk Nông", "Lâm Đồng"),
            ("dak nong", "Lâm Đồng"),
            ("Bắc Kạn", "Thái Nguyên"),
            ("bac can", "Thái Nguyên"),
            ("Hà Giang", "Tuyên Quang"),
            ("Hải Dương", "Hải Phòng"),
            ("Bình Dương", "Hồ Chí Minh"),
            ("Bà Rịa - Vũng Tàu", "Hồ Chí Minh"),
            ("vung tau", "Hồ Chí Minh"),
            ("brvt", "Hồ Chí Minh"),
            ("Thừa Thiên Huế", "Huế"),
            ("kon tum", "Quảng Ngãi"),
            ("Yên Bái", "Lào Cai"),
            ("Bạc Liêu", "Cà Mau"),
            ("Sóc Trăng", "Cần Thơ"),
        ],
    )
    def test_examples(self, text: str, expected: str) -> None:
        assert names(match_province(text)) == [expected]

    def test_unknown(self) -> None:
        assert match_province("") == []
        assert match_province("xyz") == []
        assert match_province("tôi không biết") == []

    def test_everyday_words_are_not_offered_as_a_province(self) -> None:
        """A relative or a place in the house typed at the province question is no typo of a province (“bà nội”
        is 0.83 like “Hà Nội”); typos keep their first letters, teen code's “f” and “z” too."""
        for text in ("bà nội", "ong noi", "ông ngoại", "tại nhà", "nhà tôi", "hai", "nam", "ba dinh"):
            assert match_province(text) == [], text
        for text, name in (("hai fong", "Hải Phòng"), ("zia lai", "Gia Lai"), ("ha tihn", "Hà Tĩnh"),
                           ("vinh fuc", "Phú Thọ")):  # (Vĩnh Phúc merged into Phú Thọ)
            assert names(match_province(text))[:1] == [name], text
        # the same for a commune (Hà Tĩnh has Xã Sông Trí, Lâm Đồng Xã Krông Nô); a word left out is no typo
        assert match_commune("con trai", "42") == [] and match_commune("ong noi", "68") == []
        assert [u.name for u in match_commune("trong", "68")] == ["Đức Trọng"]
        assert [u.name for u in match_commune("cam xuyenn", "42")] == ["Cẩm Xuyên"]

    def test_ambiguous_typo_gives_several_candidates(self) -> None:
        found = match_province("quang")
        assert found == [] or len(found) >= 1
        found = match_province("ba dinh")  # not a province: only loose candidates
        assert len(found) != 1

    @FAST
    @given(ADDRESSY)
    def test_never_raises(self, text: str) -> None:
        units = match_province(text)
        assert len(units) <= 5
        assert len(set(units)) == len(units)
        legacy_note(text)


class TestLegacyNote:
    @pytest.mark.parametrize(
        ("text", "note"),
        [
            ("Đắk Nông", "Tỉnh Đắk Nông nay thuộc tỉnh Lâm Đồng (từ 01/07/2025)."),
            ("dak nong", "Tỉnh Đắk Nông nay thuộc tỉnh Lâm Đồng (từ 01/07/2025)."),
            ("tinh bac kan", "Tỉnh Bắc Kạn nay thuộc tỉnh Thái Nguyên (từ 01/07/2025)."),
            ("Hà Giang", "Tỉnh Hà Giang nay thuộc tỉnh Tuyên Quang (từ 01/07/2025)."),
            ("hai duong", "Tỉnh Hải Dương nay thuộc thành phố Hải Phòng (từ 01/07/2025)."),
            ("Bình Dương", "Tỉnh Bình Dương nay thuộc thành phố Hồ Chí Minh (từ 01/07/2025)."),
            ("vung tau", "Tỉnh Bà Rịa - Vũng Tàu nay thuộc thành phố Hồ Chí Minh (từ 01/07/2025)."),
            ("Thừa Thiên Huế", "Tỉnh Thừa Thiên Huế nay là thành phố Huế."),
        ],
    )
    def test_notes(self, text: str, note: str) -> None:
        assert legacy_note(text) == note

    @pytest.mark.parametrize("text", ["Lâm Đồng", "hcm", "Hà Nội", "Cao Bằng", "xyz", ""])
    def test_no_note(self, text: str) -> None:
        assert legacy_note(text) is None

    def test_translate_hook(self) -> None:
        english = {
            "Tỉnh {old} nay thuộc tỉnh {new} (từ 01/07/2025).": "{old} province is now part of {new} province.",
        }
        note = legacy_note("dak nong", translate=lambda m: english.get(m, m))
        assert note == "Đắk Nông province is now part of Lâm Đồng province."


# --------------------------------------------------------------------------
# Commune matching
# --------------------------------------------------------------------------


class TestMatchCommune:
    def test_every_commune_by_its_own_name(self) -> None:
        for p in provinces():
            for unit in communes(p.code):
                assert match_commune(unit.full_name, p.code) == [unit], unit
                if unit.name.isascii():  # "Thanh An" also folds like "Thạnh An"
                    assert unit in match_commune(unit.name, p.code), unit
                else:
                    assert match_commune(unit.name, p.code) == [unit], unit
                assert unit in match_commune(fold(unit.full_name), p.code), unit

    @pytest.mark.parametrize(
        ("text", "code", "expected"),
        [
            ("phuong ba dinh", "01", ["Phường Ba Đình"]),
            ("Ba Đình", "01", ["Phường Ba Đình"]),
            ("p. ba dinh", "01", ["Phường Ba Đình"]),
            ("P.Ba Dinh", "01", ["Phường Ba Đình"]),
            ("P Ba Đình", "01", ["Phường Ba Đình"]),
            ("ba dinhh", "01", ["Phường Ba Đình"]),
            ("phường hoàn kím", "01", ["Phường Hoàn Kiếm"]),
            ("hoan kiem", "01", ["Phường Hoàn Kiếm"]),
            ("van mieu", "01", ["Phường Văn Miếu - Quốc Tử Giám"]),
            ("xuan huong", "68", ["Phường Xuân Hương - Đà Lạt"]),
            ("p1 bao loc", "68", ["Phường 1 Bảo Lộc"]),
            ("đặc khu phú quốc", "91", ["Đặc khu Phú Quốc"]),
            ("dac khu phu quoc", "91", ["Đặc khu Phú Quốc"]),
            ("phu quoc", "91", ["Đặc khu Phú Quốc"]),
            ("xa tan lap", "68", ["Xã Tân Lập"]),
            ("sai gon", "79", ["Phường Sài Gòn"]),
            ("ha giang", "08", ["Phường Hà Giang 1", "Phường Hà Giang 2"]),
            # names folding alike are told apart by the diacritics typed
            ("Văn Lăng", "19", ["Xã Văn Lăng"]),
            ("Văn Lang", "19", ["Xã Văn Lang"]),
            # a name beginning like a prefix ("Phượng Dực" vs "phường Dực")
            ("phuong duc", "01", ["Xã Phượng Dực"]),
        ],
    )
    def test_examples(self, text: str, code: str, expected: list[str]) -> None:
        assert [u.full_name for u in match_commune(text, code)] == expected

    def test_same_folded_name_without_diacritics_is_ambiguous(self) -> None:
        assert {u.full_name for u in match_commune("van lang", "19")} == {"Xã Văn Lang", "Xã Văn Lăng"}

    def test_no_match(self) -> None:
        assert match_commune("", "01") == []
        assert match_commune("xa abc", "01") == []
        assert match_commune("ba dinh", "99") == []

    @FAST
    @given(ADDRESSY, st.sampled_from(["01", "79", "68", "91"]))
    def test_never_raises(self, text: str, code: str) -> None:
        units = match_commune(text, code)
        assert all(province_of(u.code) == province(code) for u in units)


# --------------------------------------------------------------------------
# Free-text addresses
# --------------------------------------------------------------------------


class TestExtractAddress:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "so 5 ngo 3, phuong Ba Dinh, Ha Noi",
                ("01", "Thành phố Hà Nội", "00004", "Phường Ba Đình", "so 5 ngo 3"),
            ),
            (
                "Số 5 ngõ 3 phường Ba Đình Hà Nội",
                ("01", "Thành phố Hà Nội", "00004", "Phường Ba Đình", "Số 5 ngõ 3"),
            ),
            (
                "tổ 5 p.hoàn kiếm hn",
                ("01", "Thành phố Hà Nội", "00070", "Phường Hoàn Kiếm", "tổ 5"),
            ),
            (
                "12 Lê Lợi, P. Sài Gòn, TP.HCM",
                ("79", "Thành phố Hồ Chí Minh", "26740", "Phường Sài Gòn", "12 Lê Lợi"),
            ),
            (
                "số 10, phường Xuân Hương - Đà Lạt, Lâm Đồng, Việt Nam",
                ("68", "Tỉnh Lâm Đồng", "24781", "Phường Xuân Hương - Đà Lạt", "số 10"),
            ),
            (
                "so 1 - phuong cua nam - ha noi",
                ("01", "Thành phố Hà Nội", "00073", "Phường Cửa Nam", "so 1"),
            ),
            (
                "ấp 3, đặc khu Phú Quốc",
                ("91", "Tỉnh An Giang", "31078", "Đặc khu Phú Quốc", "ấp 3"),
            ),
            # a hospital named by its province: the province stays in its name (the commune is then asked)
            (
                "benh vien da khoa tinh lam dong",
                ("68", "Tỉnh Lâm Đồng", None, None, "Bệnh viện đa khoa tỉnh Lâm Đồng"),
            ),
            (
                "Bệnh viện đa khoa tỉnh Lâm Đồng",
                ("68", "Tỉnh Lâm Đồng", None, None, "Bệnh viện đa khoa tỉnh Lâm Đồng"),
            ),
            (
                "bvdk tp ho chi minh",
                ("79", "Thành phố Hồ Chí Minh", None, None, "Bệnh viện đa khoa thành phố Hồ Chí Minh"),
            ),
            (
                "123 Nguyễn Huệ, Quận 1, TP HCM",
                ("79", "Thành phố Hồ Chí Minh", None, None, "123 Nguyễn Huệ, Quận 1"),
            ),
            ("Hà Nội", ("01", "Thành phố Hà Nội", None, None, None)),
        ],
    )
    def test_examples(self, text: str, expected: tuple[str | None, ...]) -> None:
        result = extract_address(text)
        assert result is not None
        got = tuple(result[k] for k in ("province_code", "province", "commune_code", "commune", "detail"))
        assert got == expected

    def test_legacy_province_and_old_district_dropped(self) -> None:
        result = extract_address("thôn 2, xã Tân Lập, huyện Đắk Song, tỉnh Đắk Nông")
        assert result is not None
        assert result["province"] == "Tỉnh Lâm Đồng"
        assert result["commune"] == "Xã Tân Lập"
        assert result["detail"] == "thôn 2"
        assert result["legacy_province"] == "Đắk Nông"
        assert extract_address("Hà Nội")["legacy_province"] is None  # type: ignore[index]

    def test_an_old_commune_before_its_old_district_bare(self) -> None:
        """“thôn 2 xã Kiên Thành, Lục Ngạn, Bắc Giang” was filed in today's Xã Lục Ngạn (the old district's bare name
        is a commune's today), and “xã Kiên” of it matched Kiên Lao only by likeness: the commune is left to the old
        communes' table (in thị xã Chũ since before 2025, in Xã Kiên Lao today)."""
        from dialogs import legacy_address

        result = extract_address("thon 2 xa kien thanh, luc ngan, bac giang")
        assert result is not None and result["province"] == "Tỉnh Bắc Ninh" and result["commune_code"] is None
        for text in ("thon 2 xa kien thanh, luc ngan, bac giang", "thon 2, xa kien thanh, huyen luc ngan, bac giang"):
            match = legacy_address.convert(text)
            assert match is not None and [c.full_name for c in match.communes] == ["Xã Kiên Lao"], text
            assert match.detail == "thon 2", text
        unit = province("24")
        assert unit is not None
        match = legacy_address.commune_named("thon 2 xa kien thanh, luc ngan", unit)
        assert match is not None and match.communes[0].full_name == "Xã Kiên Lao" and match.detail == "thon 2"

    def test_the_communes_of_an_old_name(self) -> None:
        from dialogs import legacy_address

        once = legacy_address.once_named("Quảng Phú", "38")
        assert [(u.full_name, d) for u, d in once] == [("Phường Quảng Phú", "Thành phố Thanh Hóa"),
                                                       ("Xã Xuân Tín", "Huyện Thọ Xuân")]

    def test_a_commune_ending_in_thanh_before_the_province(self) -> None:
        """“xom 5 xa yen thanh nghe an” lost “thanh”, read as half of a “thành phố” before the province, and kept
        “xom 5 xa yen” as the house; “thành phố”, “tp”, “tỉnh” before it are still dropped."""
        result = extract_address("xom 5 xa yen thanh nghe an")
        assert result is not None and (result["commune"], result["detail"]) == ("Xã Yên Thành", "xom 5")
        result = extract_address("to 2 phuong ba dinh thanh pho ha noi")
        assert result is not None and (result["commune"], result["detail"]) == ("Phường Ba Đình", "to 2")

    def test_commune_implies_province_when_unique(self) -> None:
        result = extract_address("so 5, phuong hoan kiem")
        assert result is not None
        assert (result["province_code"], result["commune_code"]) == ("01", "00070")

    def test_a_commune_is_taken_with_a_typo_but_not_as_another_name(self) -> None:
        """“phuong nam ha tinh” (no such ward) was filed as Phường Nam Hồng Lĩnh (similarity 0.75) without a
        question; a typo (“cam xuyenn”, 0.95) is still read. Not taken, the commune is asked, where a near name is
        offered as a choice."""
        result = extract_address("so 12 duong le loi, phuong nam ha tinh, ha tinh")
        assert result is not None and result["province"] == "Tỉnh Hà Tĩnh" and result["commune_code"] is None
        result = extract_address("thon 3, xa cam xuyenn, ha tinh")
        assert result is not None and result["commune"] == "Xã Cẩm Xuyên" and result["detail"] == "thon 3"

    def test_an_address_written_province_first(self) -> None:
        """“Hà Tĩnh, Thạch Hà” lost its commune: only parts before the province were searched."""
        result = extract_address("Hà Tĩnh, Thạch Hà, thôn 1")
        assert result is not None and (result["commune"], result["detail"]) == ("Xã Thạch Hà", "thôn 1")
        result = extract_address("ha tinh, thach haa")  # after the province only an exact name is taken
        assert result is not None and result["province"] == "Tỉnh Hà Tĩnh" and result["commune_code"] is None
        assert result["detail"] is None  # (a name not known is no house's part: the commune is asked)
        # no commune after it: the house's parts are kept (the commune is asked), what else is typed is not
        for text, detail in (("Hà Tĩnh, thôn 1", "thôn 1"), ("ha tinh, so 5 ngo 3", "so 5 ngo 3"),
                             ("Ha Tinh, xom 3, Thach Haa", "xom 3"), ("ha tinh, cho dong loc", None)):
            result = extract_address(text)
            assert result is not None and (result["commune_code"], result["detail"]) == (None, detail), text

    def test_nothing_found(self) -> None:
        assert extract_address("") is None
        assert extract_address("xyz") is None
        assert extract_address("so 5, ba dinh") is None  # no province, ambiguous commune

    def test_round_trip_every_commune(self) -> None:
        for p in provinces():
            for unit in communes(p.code):
                result = extract_address(f"số 1, {unit.full_name}, {p.full_name}")
                assert result is not None
                assert (result["province_code"], result["commune_code"], result["detail"]) == (
                    p.code,
                    unit.code,
                    "số 1",
                ), unit

    @FAST
    @given(ADDRESSY)
    def test_never_raises(self, text: str) -> None:
        result = extract_address(text)
        if result is not None:
            assert result["province_code"] is not None or result["commune_code"] is not None
            if result["commune_code"] is not None and result["province_code"] is not None:
                assert province_of(result["commune_code"]) == province(result["province_code"])


def test_a_hamlet_typed_plainly_is_written_as_on_a_form() -> None:
    from dialogs.address import tidy_detail

    assert tidy_detail("thon 3") == "Thôn 3"
    assert tidy_detail("to dan pho 5, duong le loi") == "Tổ dân phố 5, duong le loi"  # the rest as typed
    assert tidy_detail("khu pho iii") == "Khu phố III"
    assert tidy_detail("thôn 3") == "Thôn 3" and tidy_detail("tổ 5") == "Tổ 5"  # with diacritics, in lower case
    assert tidy_detail("thôn 3 ạ") == "Thôn 3" and tidy_detail("Thôn Đông nhé") == "Thôn Đông"  # a polite word
    assert tidy_detail("Nghia trang thon 3") == "Nghia trang thon 3"  # not a unit and its number alone
    assert tidy_detail(None) is None
    # the words of a sentence before the hamlet and its number are not the house's address
    assert tidy_detail("ong o mot minh o thon 2") == "Thôn 2"
    assert tidy_detail("nhà ở xóm 3, gần chợ") == "Xóm 3, gần chợ"
    assert tidy_detail("khu tập thể ở tổ 5") == "khu tập thể ở tổ 5"  # a unit word first: as typed
    # units and their numbers opening a longer part are written out, the street's name as typed
    assert tidy_detail("so 12 tran phu") == "Số 12 tran phu"
    assert tidy_detail("so 12/3 ngo 5 duong le loi") == "Số 12/3 Ngõ 5 duong le loi"
    assert tidy_detail("to 5 khu pho 3") == "Tổ 5 Khu phố 3" and tidy_detail("hem 7") == "Hẻm 7"
    assert tidy_detail("so 12 to hien thanh") == "Số 12 to hien thanh"  # (“Tô Hiến Thành”: no number after it)
    assert tidy_detail("12 tran phu") == "12 tran phu"
    # a hamlet's name typed plainly: the unit word written out, the name as names are written (no list has it)
    assert tidy_detail("ban hua la") == "Bản Hua La" and tidy_detail("Thon Na Loc") == "Thôn Na Loc"
    assert tidy_detail("Thôn Đông") == "Thôn Đông" and tidy_detail("nha ong tu") == "nha ong tu"


def test_the_house_part_alone_is_told_apart() -> None:
    from dialogs.address import house_part

    assert house_part("xom 3") == "Xóm 3" and house_part("thôn 5, số 12") == "Thôn 5, Số 12"
    for text in ("Nghệ An", "12", "xã Diễn Châu", "", "xom 3, dien chau", "số 5"):
        assert house_part(text) is None, text


def test_a_place_of_birth_typed_plainly_opens_as_written() -> None:
    """“benh vien da khoa” at “Trẻ sinh ở đâu?” was filed so on the birth form: the words that open a hospital's
    or a health station's name get their diacritics; the rest stays as typed."""
    from dialogs.address import tidy_detail

    assert tidy_detail("benh vien da khoa") == "Bệnh viện đa khoa"
    assert tidy_detail("tram y te xa") == "Trạm y tế xã"
    assert tidy_detail("bv huyen, thon 3") == "Bệnh viện huyện, Thôn 3"
    assert tidy_detail("Bệnh viện Bạch Mai") == "Bệnh viện Bạch Mai"  # with diacritics: as typed
    assert tidy_detail("benh") == "benh"


def test_module_exports() -> None:
    for name in address.__all__:
        assert hasattr(address, name)


def test_an_old_district_is_named_by_its_words_not_its_letters() -> None:
    """“sinh o benh vien” (born in hospital) at the commune of the birth registration was read as “Sìn Hồ”, an old
    district of Lai Châu: both are “sinho” without their spaces. The words must be the name's."""
    from dialogs.legacy_address import district_anywhere

    assert district_anywhere("sinh o benh vien") is None
    found = district_anywhere("to 5 phuong 2 da lat")
    assert found is not None and found[1].name == "Thành phố Đà Lạt"
