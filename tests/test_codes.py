"""Dossier codes (dialogs/codes.py)."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.codes import ALPHABET, find_code, is_valid_code, new_dossier_code, normalise_code

WHEN = date(2026, 11, 23)


def test_shape():
    code = new_dossier_code("MT", WHEN)
    assert re.fullmatch(r"MT-2611-[0-9A-HJKMNP-TV-Z]{8}", code)
    assert is_valid_code(code)
    assert new_dossier_code("khai", date(2027, 1, 5)).startswith("KHAI-2701-")


def test_alphabet_is_crockford():
    assert len(ALPHABET) == 32 and not set("ILOU") & set(ALPHABET)


def test_random_part_is_random():
    codes = {new_dossier_code("KS", WHEN) for _ in range(2000)}
    assert len(codes) == 2000
    symbols = set("".join(c[-8:] for c in codes))
    assert symbols == set(ALPHABET)


@pytest.mark.parametrize("prefix", ["", "M", "ABCDE", "M1", "MĐ", "M-T", None])
def test_bad_prefix(prefix):
    with pytest.raises(ValueError):
        new_dossier_code(prefix, WHEN)  # type: ignore[arg-type]


@pytest.mark.parametrize("s, ok", [
    ("MT-2611-7KQ4XP9Z", True),
    ("ABCD-2612-00000000", True),
    ("mt-2611-7kq4xp9z", False),        # not canonical
    ("MT26117KQ4XP9Z", False),
    ("MT-2613-7KQ4XP9Z", False),        # month 13
    ("MT-2600-7KQ4XP9Z", False),
    ("MT-2611-7KQ4XP9", False),
    ("MT-2611-7KQ4XP9ZZ", False),
    ("MT-2611-7KQ4XPIZ", False),        # I is not Crockford
    ("MT-2611-7KQ4XPUZ", False),
    ("M-2611-7KQ4XP9Z", False),
    ("MT-2611-7KQ4XP9Z\n", False),
    ("MT-٢٦11-7KQ4XP9Z", False),        # non-ASCII digits
    (None, False),
])
def test_is_valid_code(s, ok):
    assert is_valid_code(s) is ok  # type: ignore[arg-type]


@pytest.mark.parametrize("typed", [
    "MT-2611-7KQ4XP9Z",
    "mt-2611-7kq4xp9z",
    "MT26117KQ4XP9Z",
    " mt 2611 7kq4 xp9z ",
    "MT–2611–7KQ4XP9Z",                 # en dashes from a phone keyboard
    "MT.2611.7KQ4XP9Z",
    "MT-26II-7KQ4XP9Z",                 # I for 1
    "MT-26ll-7KQ4XP9Z",                 # l for 1
    "MT-2611-7KQ4XP9Z".replace("0", "O"),
])
def test_normalise_accepts_what_citizens_type(typed):
    assert normalise_code(typed) == "MT-2611-7KQ4XP9Z"


def test_normalise_confusables_in_random_part():
    assert normalise_code("ks-2601-o0il1abc") == "KS-2601-00111ABC"


@pytest.mark.parametrize("typed", [
    "", "MT", "MT-2611", "MT-2611-7KQ4XP9", "MT-2611-7KQ4XP9ZZZ", "MT-2613-7KQ4XP9Z",
    "M1-2611-7KQ4XP9Z", "MT-2611-7KQ4XPUZ", "ABCDE-2611-7KQ4XP9Z", "x" * 100, None, 12345,
])
def test_normalise_rejects(typed):
    assert normalise_code(typed) is None  # type: ignore[arg-type]


@given(st.sampled_from(["MT", "KS", "ABCD", "HOT"]), st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_roundtrip(prefix, when):
    code = new_dossier_code(prefix, when)
    assert is_valid_code(code)
    assert normalise_code(code) == code
    assert normalise_code(code.lower().replace("-", "")) == code
    assert find_code(f"tra cứu {code.lower()} giúp tôi") == code


@given(st.text(max_size=40))
def test_normalise_never_raises(s):
    out = normalise_code(s)
    assert out is None or is_valid_code(out)
    out = find_code(s)
    assert out is None or is_valid_code(out)


def test_find_code():
    assert find_code("cho tôi tra cứu hồ sơ mt-2611-7kq4xp9z với") == "MT-2611-7KQ4XP9Z"
    assert find_code("Mã hồ sơ: MT 2611 7KQ4XP9Z.") == "MT-2611-7KQ4XP9Z"
    assert find_code("xin chào") is None
    assert find_code("số điện thoại 0901234567") is None


async def test_a_drawn_code_that_is_taken_is_drawn_again_in_the_same_transaction(db_url):
    """Codes are random, so two dossiers may draw the same one: the insert that clashes is undone on its own
    (a savepoint) and another code is drawn; the transaction around it goes on. The same filing twice (one
    idempotency key) gives the first dossier back."""
    from storage.db import make_engine, sessionmaker
    from storage.repo import DossierRepo

    engine = make_engine(db_url)
    drawn = iter(["MT-2611-AAAAAAAA", "MT-2611-AAAAAAAA", "MT-2611-AAAAAAAA", "MT-2611-BBBBBBBB"])
    kw = dict(procedure_id="ho-tro-chi-phi-mai-tang", procedure_version=1, agency="commune", commune_code=None,
              submitter_key="console:a", applicant_key=None, applicant_name=None, answers={"x": 1}, lang="vi",
              submitted_at=datetime(2026, 11, 23, 2, 0), due_date=date(2026, 11, 26),
              attachments=[{"path": "doc", "sha256": "0" * 64, "mime": "image/jpeg", "size": 1}])
    try:
        async with sessionmaker(engine)() as db, db.begin():
            repo = DossierRepo(db)
            first, created1 = await repo.create(code=lambda: next(drawn), idempotency_key="a:1", **kw)
            second, created2 = await repo.create(code=lambda: next(drawn), idempotency_key="a:2", **kw)
            again, created3 = await repo.create(code="MT-2611-CCCCCCCC", idempotency_key="a:1", **kw)
        assert (first.code, second.code, again.code) == ("MT-2611-AAAAAAAA", "MT-2611-BBBBBBBB", first.code)
        assert (created1, created2, created3) == (True, True, False)
        async with sessionmaker(engine)() as db:
            stored = await DossierRepo(db).list()
        assert [(d.code, len(d.attachments), len(d.events)) for d in stored] == [
            ("MT-2611-AAAAAAAA", 1, 1), ("MT-2611-BBBBBBBB", 1, 1)]
    finally:
        await engine.dispose()
