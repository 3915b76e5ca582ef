"""Lists whose usual spelling a typed answer is written in before it goes on a form ("e de" -> "Ê Đê").

A text field names a list with ``spelling:`` (dialogs/schema.py); the lists are data in dialogs/data/
(``ethnic_groups.yaml``: the 54 ethnic groups). A typed answer that matches a name or an alias once
diacritics, case, spaces, hyphens and apostrophes are set aside is replaced by the name as the list spells
it; anything else is kept as typed.

``spelling: places`` is different: a place typed without diacritics ("xa hai hau, nam dinh") is spelled from
today's provinces and communes and the pre-2025 provinces, districts and communes (dialogs/address.py,
dialogs/legacy_address.py) by :func:`restore_place`, and the engine asks before using it (a guess, never a
silent change). Only a text every word of which is a known place, a unit word ("xã", "thôn", "nghĩa trang"),
a word joining places ("và các xã lân cận") or a number is restored; anything else is kept as typed.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from .i18n import N_
from .textnorm import fold, modern_tones, nfc

DATA = Path(__file__).parent / "data"
LISTS = ("ethnic_groups",)  # spelled outright; "places" is restored with a question (restore_place)
RELATIONS = "relations"  # words of kinship and of who helps (data/relations.yaml)
QUIET = (RELATIONS,)  # spelled outright when listed, kept as typed when not: never asked about
LIST_UNKNOWN = {  # an answer the list does not have: what the citizen is asked (dialogs/engine/names.py)
    "ethnic_groups": N_("“{value}” không có trong danh sách 54 dân tộc. Vui lòng gõ tên dân tộc (ví dụ: Kinh, Tày, "
                        "Mường, Khmer). Nếu đúng là như vậy, chọn “Giữ như tôi gõ”."),
}
LIST_NO_DIGITS = {  # an answer with a digit: no entry has one, so it is not kept as typed either
    "ethnic_groups": N_("Tên dân tộc không có chữ số. Vui lòng gõ tên dân tộc (ví dụ: Kinh, Tày, Mường, Khmer)."),
}
LIST_A_PLACE = {  # an answer that is a place's name: an address typed early, never kept as typed
    "ethnic_groups": N_("“{value}” là tên một địa danh, không phải tên dân tộc. Vui lòng gõ tên dân tộc (ví dụ: Kinh, "
                        "Tày, Mường, Khmer)."),
}
LIST_HELP = {
    "ethnic_groups": N_("Trợ lý so câu trả lời với danh sách 54 dân tộc Việt Nam (gõ không dấu cũng được, ví dụ "
                        "“e de” là Ê Đê). Gõ lại tên dân tộc, hoặc chọn “Giữ như tôi gõ” nếu đúng là như vậy."),
}
PLACES = "places"
MAX_PLACE_LEN = 200


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


@cache
def _table(name: str) -> dict[str, str]:
    if name not in LISTS and name not in QUIET:
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
    return sorted(_names(name))


# words before a name (“dân tộc Kinh”, “người Tày”, “tôi là hàng xóm”): the name is what follows
_LEADS = {"ethnic_groups": ("dan toc", "dt", "nguoi"), "relations": ("toi la", "minh la", "em la", "la")}
_TAILS = {"relations": re.compile(r"\s+cua\s+\S.*$")}  # “con trai của ông”: the relation is what comes before


_POLITE_TAIL = re.compile(r"(?:\s+(?:a|ah|ak|nhe|nha|nhen|thoi|day|do))+\s*[.!]?$")
"""Polite words after a name, folded (“người Kinh ạ”, “con trai nhé”); no entry of a list ends with one."""


def spell(name: str, text: str) -> str:
    """``text`` as list ``name`` spells it when it names an entry; otherwise ``text`` unchanged."""
    table = _table(name)
    if (hit := table.get(_key(text))) is not None:
        return hit
    folded = fold(text).strip()
    for said in dict.fromkeys((folded, _POLITE_TAIL.sub("", folded) or folded)):
        if (hit := table.get(_key(said))) is not None:
            return hit
        if (tail := _TAILS.get(name)) is not None and (hit := table.get(_key(tail.sub("", said)))) is not None:
            return hit
        for lead in _LEADS.get(name, ()):
            if said.startswith(lead + " ") and (hit := table.get(_key(said[len(lead):]))) is not None:
                return hit
    return text


def listed(name: str, value: str) -> bool:
    """Whether ``value`` (as :func:`spell` returned it) is an entry of list ``name``."""
    return value in _names(name)


@cache
def _names(name: str) -> frozenset[str]:
    return frozenset(_table(name).values())


# Words of a place that are not names: unit types, and what is named after a place ("Nghĩa trang", "UBND").
_UNIT_WORDS = ("Tỉnh", "Thành phố", "Huyện", "Quận", "Thị xã", "Xã", "Phường", "Thị trấn", "Đặc khu", "Thôn",
               "Xóm", "Ấp", "Bản", "Buôn", "Làng", "Khóm", "Khu phố", "Tổ dân phố", "Tổ", "Khu", "Nghĩa trang",
               "Nghĩa địa", "Nhân dân", "Ủy ban nhân dân", "UBND", "Việt Nam",
               # who issues a death notice or cares for a birth (“tram y te xa dien chau”)
               "Trạm y tế", "Bệnh viện", "Bệnh viện đa khoa", "Trung tâm y tế", "Nhà hộ sinh", "Phòng khám",
               "Phòng khám đa khoa", "Công an", "Đa khoa")
_UNIT_ALIASES = {"tp": "Thành phố", "tx": "Thị xã", "tt": "Thị trấn", "ubnd": "UBND", "vn": "Việt Nam",
                 "bv": "Bệnh viện", "tyt": "Trạm y tế", "ttyt": "Trung tâm y tế"}
# words that join places in an area (“xã Nhân Cơ và các xã lân cận”), written as they are, never capitalised
_JOINING = ("và", "các", "lân cận", "xung quanh", "trên địa bàn", "địa bàn", "toàn", "trong", "tại", "ở", "thuộc")
_MAX_NAME_WORDS = 4
_MAX_PROPOSALS = 3


_LEVELS = {"Tỉnh": 0, "Thành phố": 0, "Huyện": 1, "Quận": 1, "Thị xã": 1, "Xã": 2, "Phường": 2, "Thị trấn": 2,
           "Đặc khu": 2}  # a unit word says which level the name after it is (0 province, 1 district, 2 commune)


@cache
def _place_tables() -> tuple[dict[str, str], dict[str, tuple[tuple[int, str], ...]]]:
    """(unit words by folded key, place names by folded key -> (level, spelling), provinces first)."""
    from . import address, legacy_address

    units = {fold(w): w for w in (*_UNIT_WORDS, *_JOINING)} | _UNIT_ALIASES
    levels: dict[str, set[tuple[int, str]]] = {}

    def add(name: str, level: int) -> None:
        name = modern_tones(nfc(name).strip())  # (the old lists' “Hoà An” is today's “Hòa An”: one place)
        if name and not name.isdigit():
            levels.setdefault(fold(name), set()).add((level, name))  # (Hòa An: a district once, a commune now)

    for p in address.provinces():
        add(p.name, 0)
        for c in address.communes(p.code):
            add(c.name, 2)
    for old in address.LEGACY_PROVINCES:
        add(old, 0)
    for kind, name in legacy_address.old_names():
        add(name, _LEVELS.get(kind, 2))
    names = {k: tuple(sorted(v)) for k, v in levels.items()}
    return units, names


def _spell_part(words: list[str]) -> list[str] | None:
    """Spellings of one comma-separated part ("xa hai hau"), or None when a word is not known. After a unit
    word ("xã") only names of that level are taken; a name alone that is a province's is the province; any other
    name alone is offered in each of its spellings."""
    units, names = _place_tables()
    out: list[list[str]] = [[]]
    level: int | None = None
    named = False  # the word before is a name (“hai hau” before “nam dinh”: a comma between them)
    i = 0
    while i < len(words):
        for n in range(min(_MAX_NAME_WORDS, len(words) - i), 0, -1):
            key = " ".join(words[i:i + n])
            if key in units:
                word = units[key]
                level = _LEVELS.get(word)
                word = word if (i == 0 and word not in _JOINING) or word.isupper() or word == "Việt Nam" else \
                    word.lower()
                out = [[*o, word] for o in out]
                named = False
                break
            if key in names:
                found = names[key]
                wanted = level if level is not None and any(lv == level for lv, _n in found) else \
                    0 if found[0][0] == 0 else None
                spellings = list(dict.fromkeys(n for lv, n in found if wanted is None or lv == wanted))
                if named and wanted == 0:  # a province after a name: “Hải Hậu, Nam Định”
                    out = [[*o[:-1], o[-1] + ","] for o in out]
                out = [[*o, sp] for o in out for sp in spellings][:_MAX_PROPOSALS + 1]
                level, named = None, True
                break
        else:
            if not words[i].isdigit():
                return None
            n, named = 1, False
            out = [[*o, words[i]] for o in out]
        i += n
    return [" ".join(o) for o in out]


_PLACE_LEADS = ("tinh", "thanh pho", "tp", "huyen", "thi xa", "xa", "phuong", "thi tran", "dac khu", "thon", "xom",
                "khu pho", "to dan pho")
"""Unit words that begin an address and no person's name (not “Quận” nor “Tổ”: “Quan”, “Tô” are surnames)."""


def is_place(text: str) -> bool:
    """Whether the whole text is a province's name (of today or before 2025: “Hà Tĩnh”, “Hà Nam”), or a unit word
    and the name of a place of that kind or below (“xa thach ha”, “Phường Ba Đình”, “thôn Đông”): a name typed at a
    question for a person's name is then the address."""
    words = fold(nfc(text or "")).replace(".", " ").split()
    _units, names = _place_tables()
    if any(level == 0 for level, _name in names.get(" ".join(words), ())):
        return True
    for lead in _PLACE_LEADS:
        n = len(lead.split())
        if words[:n] == lead.split() and len(words) > n:
            rest = " ".join(words[n:])
            return rest in names or (lead in ("thon", "xom", "khu pho", "to dan pho") and len(words) - n <= 3)
    return False


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
    joined = " ".join(fold(result[0]).split())
    for word in _JOINING:
        joined = re.sub(rf"\b{fold(word)}\b", " ", joined)
    return [] if result == [text] or not joined.strip(" ,") else result  # (“va”: joining words alone are no place)
