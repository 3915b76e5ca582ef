"""The bank list and the `bank` / `bank_account` field kinds (dialogs/banks.py, dialogs/data/banks.yaml)."""
from __future__ import annotations

import pytest

from dialogs import banks
from dialogs.i18n import translator
from dialogs.kinds import display, mask, parse_value
from dialogs.parsing import Invalid
from dialogs.schema import FieldDef


def test_the_list_is_data_with_source_date_and_unique_bins():
    bl = banks.bank_list()
    assert bl.source and bl.as_of is not None
    bins = [b.bin for b in bl.banks]
    assert len(bins) == len(set(bins)) and all(len(b) == 6 and b.isdigit() for b in bins)
    assert len(bl.banks) >= 50
    assert bl.by_bin("970436").short == "Vietcombank" and bl.by_bin("970405").short == "Agribank"


@pytest.mark.parametrize("typed,bin_", [
    ("vcb", "970436"), ("Vietcombank", "970436"), ("VIETCOMBANK", "970436"), ("vietcombak", "970436"),
    ("agri", "970405"), ("Agribank", "970405"), ("ngân hàng nông nghiệp", "970405"), ("nong nghiep", "970405"),
    ("NH Nông nghiệp và PTNT", "970405"), ("970405", "970405"), ("bidv", "970418"), ("vietin", "970415"),
    ("mb bank", "970422"), ("techcom", "970407"), ("lien viet post bank", "970449"), ("buu dien lien viet", "970449"),
    ("ngân hàng chính sách xã hội", "999888"), ("sacombank", "970403"), ("tp bank", "970423"),
])
def test_typed_names_without_diacritics(typed, bin_):
    assert banks.parse_bank(typed) == bin_


def test_a_branch_after_the_bank_is_not_part_of_its_name():
    assert banks.parse_bank("Agribank chi nhánh Đức Trọng") == "970405"
    assert banks.parse_bank("BIDV CN Lâm Đồng") == "970418"
    assert banks.parse_bank("vietcombank phong giao dich bao loc") == "970436"
    assert banks.parse_bank("Kookmin chi nhánh Hà Nội") == "970462"  # a foreign bank's branch is in the list


def test_unknown_and_ambiguous_names():
    with pytest.raises(banks.UnknownBank):
        banks.parse_bank("ngân hàng xyz")
    with pytest.raises(banks.AmbiguousBank) as exc:
        banks.parse_bank("viet")
    shorts = {b.short for b in exc.value.candidates}
    assert {"Vietcombank", "VietinBank"} <= shorts and len(exc.value.candidates) <= banks.MAX_CHOICES
    assert {v for v, _l in banks.ambiguity_choices("sai gon")} == {"970429", "970400"}
    assert banks.ambiguity_choices("vcb") == []


def test_account_numbers():
    assert banks.parse_account(" 1234-5678.9012 3 ", "970405") == "1234567890123"
    assert banks.parse_account("00710012345678", "970436") == "00710012345678"  # leading zeros kept
    # a label typed before the number
    assert banks.parse_account("STK: 0071 0012 3456 78", "970436") == "00710012345678"
    assert banks.parse_account("số tài khoản là 00710012345678", "970436") == "00710012345678"
    for raw in ("0071 0012 3456 78 (Vietcombank)", "tk vcb 00710012345678", "STK: 00710012345678 - VCB"):
        assert banks.parse_account(raw, "970436") == "00710012345678", raw  # the one number in a sentence
    for bad in ("12ab5678", "123", "1" * 20, "0000000000000"):
        with pytest.raises(Invalid):
            banks.parse_account(bad, None)
    with pytest.raises(Invalid) as exc:
        banks.parse_account("123456789", "970405")
    assert exc.value.params == {"bank": "Agribank", "n": 13, "got": 9}


def test_kinds_parse_display_and_mask():
    _ = translator("vi")
    bank = FieldDef(id="a.bank", kind="bank", prompt="Ngân hàng?")
    acc = FieldDef(id="a.number", kind="bank_account", prompt="Số tài khoản?", bank_field="a.bank")
    v = parse_value(bank, "agri", today=None, lookup=lambda p: None)
    assert v == "970405"
    assert display(bank, v, _) == "Agribank — Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam (mã BIN 970405)"
    with pytest.raises(Invalid):
        parse_value(acc, "12345678", today=None, lookup=lambda p: "970405")
    n = parse_value(acc, "1234 5678 9012 3", today=None, lookup=lambda p: "970405")
    assert display(acc, n, _) == "1234 5678 9012 3"
    assert mask(acc, n) == "***"
    assert banks.masked_account(n) == "•••• 0123"
    en = translator("en")
    assert "970405" in display(bank, v, en)
