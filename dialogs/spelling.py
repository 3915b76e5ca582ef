"""Lists whose usual spelling a typed answer is written in before it goes on a form ("e de" -> "Ê Đê").

A text field names a list with ``spelling:`` (dialogs/schema.py); the lists are data in dialogs/data/
(``ethnic_groups.yaml``: the 54 ethnic groups). A typed answer that matches a name or an alias once
diacritics, case, spaces, hyphens and apostrophes are set aside is replaced by the name as the list spells
it; anything else is kept as typed.

``spelling: places`` is different: a place typed without diacritics ("xa hai hau, nam dinh") is spelled from
today's provinces and communes and the pre-2025 provinces, districts and communes (dialogs/address.py,
dialogs/legacy_address.py) by :func:`restore_place`, and the engine asks before using it (a guess, never a
silent change). Only a text every word of which is a known place, a unit word ("xã", "thôn", "nghĩa trang")
or a number is restored; anything else is kept as typed.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from .textnorm import fold, nfc

DATA = Path(__file__).parent / "data"
LISTS = ("ethnic_groups",)  # spelled outright; "places" is restored with a question (restore_place)
PLACES = "places"
MAX_PLACE_LEN = 200


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


@cache
def _table(name: str) -> dict[str, str]:
    if name not in LISTS:
        raise KeyError(name)
    data = yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for entry in data["names"]:
        spelled, aliases = (next(iter(entry.items())) if isinstance(entry, dict) else (entry, []))
        for key in (_key(spelled), *(_key(a) for a in aliases or [])):
            if table.setdefault(key, spelled) != spelled:
                raise ValueError(f"{name}: {key!r} names both {table[key]!r} and {spelled!r}")
    return table


def names(name: str) -> list[str]:
    """The names of a list, as it spells them."""
    return sorted(set(_table(name).values()))


def spell(name: str, text: str) -> str:
    """``text`` as list ``name`` spells it when it names an entry; otherwise ``text`` unchanged."""
    return _table(name).get(_key(text), text)


# Words of a place that are not names: unit types, and what is named after a place ("Nghĩa trang", "UBND").
_UNIT_WORDS = ("Tỉnh", "Thành phố", "Huyện", "Quận", "Thị xã", "Xã", "Phường", "Thị trấn", "Đặc khu", "Thôn",
               "Xóm", "Ấp", "Bản", "Buôn", "Làng", "Khóm", "Khu phố", "Tổ dân phố", "Tổ", "Khu", "Nghĩa trang",
               "Nghĩa địa", "Nhân dân", "Ủy ban nhân dân", "UBND", "Việt Nam")
_UNIT_ALIASES = {"tp": "Thành phố", "tx": "Thị xã", "tt": "Thị trấn", "ubnd": "UBND", "vn": "Việt Nam"}
_MAX_NAME_WORDS = 4
_MAX_PROPOSALS = 3


@cache
def _place_tables() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """(unit words by folded key, place names by folded key -> their spellings)."""
    from . import address, legacy_address

    units = {fold(w): w for w in _UNIT_WORDS} | _UNIT_ALIASES
    names: dict[str, set[str]] = {}
    spelled = [u.name for u in address.provinces()] + list(address.LEGACY_PROVINCES)
    for p in address.provinces():
        spelled += [c.name for c in address.communes(p.code)]
    spelled += [n for _t, n in legacy_address.old_names()]
    for name in spelled:
        name = nfc(name).strip()
        if name and not name.isdigit():
            names.setdefault(fold(name), set()).add(name)
    return units, {k: tuple(sorted(v)) for k, v in names.items()}


def _spell_part(words: list[str]) -> list[str] | None:
    """Spellings of one comma-separated part ("xa hai hau"), or None when a word is not known."""
    units, names = _place_tables()
    out: list[list[str]] = [[]]
    i = 0
    while i < len(words):
        for n in range(min(_MAX_NAME_WORDS, len(words) - i), 0, -1):
            key = " ".join(words[i:i + n])
            if key in units:
                word = units[key]
                word = word if i == 0 or word.isupper() or word == "Việt Nam" else word.lower()
                out = [[*o, word] for o in out]
                break
            if key in names:
                out = [[*o, s] for o in out for s in names[key]][:_MAX_PROPOSALS + 1]
                break
        else:
            if not words[i].isdigit():
                return None
            n = 1
            out = [[*o, words[i]] for o in out]
        i += n
    return [" ".join(o) for o in out]


def restore_place(text: str) -> list[str]:
    """The likely spellings with diacritics of a place typed without them, best first (at most three):
    "xa hai hau, nam dinh" -> ["Xã Hải Hậu, Nam Định"]. Empty when the text has diacritics already, or holds a
    word that is neither a known place, a unit word nor a number, or when too many spellings are possible."""
    text = nfc(text or "").strip()
    if not text or len(text) > MAX_PLACE_LEN or not text.isascii() or not any(c.isalpha() for c in text):
        return []
    parts = [p for p in (" ".join(re.sub(r"[^\w\s]", " ", p).split()) for p in re.split(r"[,;]", text)) if p]
    spelled: list[list[str]] = [[]]
    for part in parts:
        options = _spell_part(fold(part).split())
        if not options:
            return []
        spelled = [[*s, o] for s in spelled for o in options]
        if len(spelled) > _MAX_PROPOSALS:
            return []  # too many guesses to offer: kept as typed
    result = [", ".join(s) for s in spelled]
    return [] if result == [text] else result
