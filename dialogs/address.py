"""Vietnamese administrative units after the 1 July 2025 reorganisation.

Why one module of this size: the province and commune tables, their name matching (diacritics, old
names, abbreviations) and the formatting of an address are one vocabulary; split, each part would import
the others' private tables.

Since 01/07/2025 Vietnam has 34 provinces / centrally-run cities, and
communes (xã), wards (phường) and special zones (đặc khu) sit directly under
them — there is no district level any more.  Data comes from the
``vietnam-provinces`` package (2025 data set, codes from the national
statistics office: 2-digit provinces, 5-digit communes).

Citizens still write addresses the old way, without diacritics, with
abbreviations ("tphcm", "p. Ba Dinh") and typos, and often name one of the
63 pre-2025 provinces.  The matchers here are tolerant of all of that and map
old province names to the province they merged into (:data:`LEGACY_PROVINCES`).

All indexes are built lazily once and cached; lookups are dictionary hits,
with a difflib fuzzy fallback limited to one province's communes.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from vietnam_provinces import Province, VietNamDivisionType, Ward

from dialogs.i18n import N_
from dialogs.textnorm import close_matches, fold, nfc, vi_sort_key, without_polite_end

__all__ = [
    "LEGACY_PROVINCES",
    "Unit",
    "commune",
    "communes",
    "extract_address",
    "legacy_note",
    "match_commune",
    "match_province",
    "province",
    "province_of",
    "provinces",
    "tidy_detail",
]


@dataclass(frozen=True)
class Unit:
    """An administrative unit.

    ``code`` is the statistics-office code ("68" for a province, "24781" for
    a commune); ``name`` is the bare name ("Lâm Đồng", "Xuân Hương - Đà Lạt");
    ``full_name`` includes the unit type ("Tỉnh Lâm Đồng", "Phường Xuân Hương -
    Đà Lạt").
    """

    code: str
    name: str
    full_name: str


# Pre-2025 province name → code of the province it belongs to since
# 01/07/2025, per Nghị quyết 202/2025/QH15 on the arrangement of
# provincial-level administrative units (resolution number UNVERIFIED).
# The 11 provinces that were not merged map to themselves.  Thừa Thiên Huế
# became Thành phố Huế (a centrally-run city) on 01/01/2025, before the merger.
LEGACY_PROVINCES: dict[str, str] = {
    "Hà Nội": "01",
    "Hà Giang": "08",
    "Cao Bằng": "04",
    "Bắc Kạn": "19",
    "Tuyên Quang": "08",
    "Lào Cai": "15",
    "Điện Biên": "11",
    "Lai Châu": "12",
    "Sơn La": "14",
    "Yên Bái": "15",
    "Hòa Bình": "25",
    "Thái Nguyên": "19",
    "Lạng Sơn": "20",
    "Quảng Ninh": "22",
    "Bắc Giang": "24",
    "Phú Thọ": "25",
    "Vĩnh Phúc": "25",
    "Bắc Ninh": "24",
    "Hải Dương": "31",
    "Hải Phòng": "31",
    "Hưng Yên": "33",
    "Thái Bình": "33",
    "Hà Nam": "37",
    "Nam Định": "37",
    "Ninh Bình": "37",
    "Thanh Hóa": "38",
    "Nghệ An": "40",
    "Hà Tĩnh": "42",
    "Quảng Bình": "44",
    "Quảng Trị": "44",
    "Thừa Thiên Huế": "46",
    "Đà Nẵng": "48",
    "Quảng Nam": "48",
    "Quảng Ngãi": "51",
    "Kon Tum": "51",
    "Bình Định": "52",
    "Gia Lai": "52",
    "Phú Yên": "66",
    "Đắk Lắk": "66",
    "Khánh Hòa": "56",
    "Ninh Thuận": "56",
    "Bình Thuận": "68",
    "Đắk Nông": "68",
    "Lâm Đồng": "68",
    "Bình Phước": "75",
    "Đồng Nai": "75",
    "Tây Ninh": "80",
    "Long An": "80",
    "Bình Dương": "79",
    "Bà Rịa - Vũng Tàu": "79",
    "Hồ Chí Minh": "79",
    "Tiền Giang": "82",
    "Đồng Tháp": "82",
    "Bến Tre": "86",
    "Trà Vinh": "86",
    "Vĩnh Long": "86",
    "An Giang": "91",
    "Kiên Giang": "91",
    "Cần Thơ": "92",
    "Hậu Giang": "92",
    "Sóc Trăng": "92",
    "Bạc Liêu": "96",
    "Cà Mau": "96",
}

# Abbreviations and everyday names (folded) → province code.  Old names
# are listed against the new province (see LEGACY_PROVINCES).
_PROVINCE_ALIASES: dict[str, str] = {
    "hn": "01",
    "thu do": "01",
    "hcm": "79",
    "tphcm": "79",
    "hcmc": "79",
    "sai gon": "79",
    "sg": "79",
    "tp sg": "79",
    "hp": "31",
    "dac lac": "66",
}
# Abbreviations / variants (folded) of pre-2025 names → the legacy name.
_LEGACY_ALIASES: dict[str, str] = {
    "brvt": "Bà Rịa - Vũng Tàu",
    "ba ria": "Bà Rịa - Vũng Tàu",
    "vung tau": "Bà Rịa - Vũng Tàu",
    "ba ria vt": "Bà Rịa - Vũng Tàu",
    "tth": "Thừa Thiên Huế",
    "thua thien": "Thừa Thiên Huế",
    "bac can": "Bắc Kạn",
    "dac nong": "Đắk Nông",
    "kontum": "Kon Tum",
}
# Old provinces that were renamed rather than merged (different note).
_LEGACY_RENAMED = frozenset({"Thừa Thiên Huế"})

_PROVINCE_PREFIXES = ("thanh pho", "tinh", "t p", "tp", "t")
_TRAILING_NOISE = ("viet nam", "vietnam", "vn", "cu", "moi")
_COMMUNE_PREFIXES: tuple[tuple[str, str | None], ...] = (
    ("dac khu", "dac khu"),
    ("thi tran", None),
    ("phuong", "phuong"),
    ("xa", "xa"),
    ("dk", "dac khu"),
    ("tt", None),
    ("p", "phuong"),
    ("f", "phuong"),
    ("x", "xa"),
)
_TYPE_KEY = {
    VietNamDivisionType.XA: "xa",
    VietNamDivisionType.PHUONG: "phuong",
    VietNamDivisionType.DAC_KHU: "dac khu",
}


def _key(s: str) -> str:
    """Folded text with punctuation turned into spaces."""
    return " ".join(re.sub(r"[^\w\s]|_", " ", fold(s)).split())


def _akey(s: str) -> str:
    """Like :func:`_key` but keeping diacritics (lower-cased NFC)."""
    return " ".join(re.sub(r"[^\w\s]|_", " ", nfc(s).lower()).split())


def _nospace(s: str) -> str:
    return s.replace(" ", "")


def _normalize_code(code: str | int, width: int) -> str:
    text = str(code).strip()
    return text.zfill(width) if text.isdigit() else text


# --------------------------------------------------------------------------
# Data loading
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _CommuneEntry:
    unit: Unit
    province_code: str
    kind: str  # "xa" | "phuong" | "dac khu"
    keys: tuple[str, ...]  # folded names without the type prefix
    accented: str  # lower-cased name with diacritics, to split folded ties


def _strip_type(name: str) -> tuple[str, str]:
    """Split "Phường Ba Đình" → ("Phường", "Ba Đình")."""
    for prefix in ("Đặc khu ", "Phường ", "Xã ", "Thị trấn "):
        if name.startswith(prefix):
            return prefix.strip(), name[len(prefix) :]
    return "", name


@lru_cache(maxsize=1)
def _province_table() -> dict[str, Unit]:
    table: dict[str, Unit] = {}
    for p in Province.iter_all():
        code = f"{int(p.code):02d}"
        if p.division_type == VietNamDivisionType.THANH_PHO_TRUNG_UONG:
            name = p.name.removeprefix("Thành phố ").strip()
            full = f"Thành phố {name}"
        else:
            name = p.name.removeprefix("Tỉnh ").strip()
            full = f"Tỉnh {name}"
        table[code] = Unit(code=code, name=name, full_name=full)
    return table


@lru_cache(maxsize=1)
def _commune_table() -> dict[str, _CommuneEntry]:
    table: dict[str, _CommuneEntry] = {}
    for w in Ward.iter_all():
        code = f"{int(w.code):05d}"
        full_name = " ".join(w.name.split())  # (the package writes “Phường  Rạch Dừa”)
        _, bare = _strip_type(full_name)
        keys = [_key(bare)]
        if " - " in bare:  # "Xuân Hương - Đà Lạt": people type "Xuân Hương"
            keys.append(_key(bare.split(" - ", 1)[0]))
        table[code] = _CommuneEntry(
            unit=Unit(code=code, name=bare, full_name=full_name),
            province_code=f"{int(w.province_code):02d}",
            kind=_TYPE_KEY.get(w.division_type, "xa"),
            keys=tuple(dict.fromkeys(keys)),
            accented=_akey(bare),
        )
    return table


@lru_cache(maxsize=1)
def _province_index() -> dict[str, tuple[str, str | None]]:
    """Folded key → (new province code, legacy name or None)."""
    index: dict[str, tuple[str, str | None]] = {}
    for legacy, code in LEGACY_PROVINCES.items():
        for key in (_key(legacy), _nospace(_key(legacy))):
            index[key] = (code, legacy)
    for alias, legacy in _LEGACY_ALIASES.items():
        index[alias] = (LEGACY_PROVINCES[legacy], legacy)
        index[_nospace(alias)] = (LEGACY_PROVINCES[legacy], legacy)
    for alias, code in _PROVINCE_ALIASES.items():
        index.setdefault(alias, (code, None))
        index.setdefault(_nospace(alias), (code, None))
    for code, unit in _province_table().items():
        for key in (_key(unit.name), _nospace(_key(unit.name)), _key(unit.full_name)):
            index[key] = (code, None)  # a current name is never "legacy"
    return index


@dataclass(frozen=True)
class _CommuneIndex:
    entries: tuple[_CommuneEntry, ...]
    exact: dict[str, list[_CommuneEntry]]  # folded key and no-space key → entries
    spaced: dict[str, list[_CommuneEntry]]  # folded key → entries (for fuzzy)
    nospace: dict[str, list[_CommuneEntry]]  # no-space key → entries (for fuzzy)


@lru_cache(maxsize=64)
def _commune_index(province_code: str) -> _CommuneIndex:
    entries = tuple(e for e in _commune_table().values() if e.province_code == province_code)
    exact: dict[str, list[_CommuneEntry]] = {}
    spaced: dict[str, list[_CommuneEntry]] = {}
    nospace: dict[str, list[_CommuneEntry]] = {}
    for e in entries:
        for key in e.keys:
            for table, k in ((exact, key), (exact, _nospace(key)), (spaced, key), (nospace, _nospace(key))):
                bucket = table.setdefault(k, [])
                if e not in bucket:
                    bucket.append(e)
    return _CommuneIndex(entries, exact, spaced, nospace)


@lru_cache(maxsize=1)
def _global_commune_index() -> dict[str, list[_CommuneEntry]]:
    index: dict[str, list[_CommuneEntry]] = {}
    for e in _commune_table().values():
        for key in e.keys:
            index.setdefault(key, []).append(e)
    return index


# --------------------------------------------------------------------------
# Lookups
# --------------------------------------------------------------------------


def provinces() -> list[Unit]:
    """The 34 provinces and centrally-run cities, in official code order."""
    return sorted(_province_table().values(), key=lambda u: u.code)


def communes(province_code: str) -> list[Unit]:
    """Communes, wards and special zones of a province, sorted by name
    (accent-insensitive).  Empty for an unknown province code."""
    entries = _commune_index(_normalize_code(province_code, 2)).entries
    return sorted((e.unit for e in entries), key=lambda u: (vi_sort_key(u.name), u.code))


def province(code: str) -> Unit | None:
    """Look up a province by its 2-digit code ("68"; "1" is read as "01")."""
    return _province_table().get(_normalize_code(code, 2))


def commune(code: str) -> Unit | None:
    """Look up a commune / ward / special zone by its 5-digit code."""
    entry = _commune_table().get(_normalize_code(code, 5))
    return entry.unit if entry else None


def province_of(commune_code: str) -> Unit | None:
    """The province a commune belongs to."""
    entry = _commune_table().get(_normalize_code(commune_code, 5))
    return province(entry.province_code) if entry else None


# --------------------------------------------------------------------------
# Province matching
# --------------------------------------------------------------------------


def _strip_province_prefix(key: str) -> str:
    changed = True
    while changed and key:
        changed = False
        for prefix in _PROVINCE_PREFIXES:
            if key.startswith(prefix + " ") and len(key) > len(prefix) + 1:
                key = key[len(prefix) + 1 :]
                changed = True
    for noise in _TRAILING_NOISE:
        if key.endswith(" " + noise):
            key = key[: -len(noise) - 1]
    return key


@dataclass(frozen=True)
class _ProvinceHit:
    code: str
    score: float
    legacy: str | None


def province_hits(text: str, *, fuzzy: bool = True) -> list[_ProvinceHit]:
    """Ranked province candidates for ``text`` (best first)."""
    raw_key = _key(text)
    if not raw_key:
        return []
    index = _province_index()
    for key in (raw_key, _strip_province_prefix(raw_key)):
        for k in (key, _nospace(key)):
            if k in index:
                code, legacy = index[k]
                return [_ProvinceHit(code, 1.0, legacy)]
    key = _strip_province_prefix(raw_key)
    # "tphcm", "tp.hcm" typed together.
    if key.startswith("tp") and key[2:].strip() in index:
        code, legacy = index[key[2:].strip()]
        return [_ProvinceHit(code, 1.0, legacy)]
    # A known name inside a longer answer ("o lam dong a"): longest wins.
    words = key.split()
    for n in range(min(6, len(words)), 0, -1):
        inside: dict[str, _ProvinceHit] = {}
        for start in range(len(words) - n + 1):
            k = " ".join(words[start : start + n])
            if k in index and len(k) >= 4 and " " in k:
                code, legacy = index[k]
                inside.setdefault(code, _ProvinceHit(code, 0.95, legacy))
        if inside:
            return list(inside.values())
    if not fuzzy or len(key) < 3:
        return []
    spaced, nospace = _province_fuzzy_keys()
    best: dict[str, _ProvinceHit] = {}
    for table, query in ((spaced, key), (nospace, _nospace(key))):
        for k, score in close_matches(query, table, _PROVINCE_LIKE).items():
            if not _same_initials(key, _spaced_name(k)):  # a typo keeps the first letters: “ba noi” is no “Hà Nội”
                continue
            code, legacy = table[k]
            if code not in best or score > best[code].score:
                best[code] = _ProvinceHit(code, score, legacy)
    ranked = sorted(best.values(), key=lambda h: -h.score)
    return _dominant(ranked, lambda h: h.score)


@lru_cache(maxsize=1)
def _spaced_names() -> dict[str, str]:
    spaced, _nospaced = _province_fuzzy_keys()
    out: dict[str, str] = {}
    for k in spaced:
        out.setdefault(_nospace(k), k)
    return out


def _spaced_name(key: str) -> str:
    """A province's key with its spaces (“hanoi” → “ha noi”): the words whose first letters a typo keeps."""
    return _spaced_names().get(key, key)


def _same_initials(typed: str, name: str) -> bool:
    """Whether the words typed begin as the name's words do (“f” for “ph”, “z” for “d”, “gi” or “v”, as people
    type them), some of the name's words left out (“trong” for Đức Trọng, “hochiminh” typed as one)."""
    def initials(words: list[str]) -> str:
        return "".join({"f": "p", "z": "d", "g": "d", "v": "d"}.get(w[0], w[0]) for w in words if w)

    a, b = initials(typed.split()), initials(name.split())
    return a in b if len(a) <= len(b) else b in a


_PROVINCE_LIKE = 0.8
"""How like a province's name an answer must be to be offered as it: a typo (“hai fong”, 0.82) is, words of
everyday speech (“tại nhà”, 0.77 like “Tây Ninh”) are not."""


@lru_cache(maxsize=1)
def _province_fuzzy_keys() -> tuple[dict[str, tuple[str, str | None]], dict[str, tuple[str, str | None]]]:
    """Multi-word province keys (spaced and without spaces) for fuzzy matching."""
    spaced = {k: v for k, v in _province_index().items() if len(k) >= 4 and " " in k}
    nospace: dict[str, tuple[str, str | None]] = {}
    for k, v in spaced.items():
        nospace.setdefault(_nospace(k), v)
    return spaced, nospace


def _dominant(ranked: list[Any], score: Callable[[Any], float], limit: int = 5) -> list[Any]:
    """Keep only the best candidate when it clearly beats the others."""
    if len(ranked) > 1 and score(ranked[0]) >= 0.85 and score(ranked[1]) <= score(ranked[0]) - 0.08:
        return ranked[:1]
    return ranked[:limit]


def match_province(text: str) -> list[Unit]:
    """Province candidates for free text, best first.

    Tolerates missing diacritics, prefixes ("tỉnh", "tp", "thành phố", "t."),
    abbreviations ("hcm", "tphcm", "sai gon", "hn"), typos, and pre-2025
    province names, which map to the province they merged into ("Đắk Nông"
    → Lâm Đồng).  An exact match returns a single candidate.
    """
    table = _province_table()
    return [table[h.code] for h in province_hits(text)]


def legacy_note(text: str, translate: Callable[[str], str] | None = None) -> str | None:
    """A note when ``text`` names a pre-2025 province that has been merged.

    >>> legacy_note("dak nong")
    'Tỉnh Đắk Nông nay thuộc tỉnh Lâm Đồng (từ 01/07/2025).'

    ``translate`` (e.g. a gettext function) is applied to the message id
    before the names are filled in.
    """
    hits = province_hits(text)
    if len(hits) != 1 or hits[0].legacy is None:
        return None
    hit = hits[0]
    legacy = hit.legacy
    assert legacy is not None
    new = _province_table()[hit.code]
    if _key(legacy) == _key(new.name):
        return None
    if legacy in _LEGACY_RENAMED:
        message = N_("Tỉnh {old} nay là thành phố {new}.")
    elif new.full_name.startswith("Thành phố"):
        message = N_("Tỉnh {old} nay thuộc thành phố {new} (từ 01/07/2025).")
    else:
        message = N_("Tỉnh {old} nay thuộc tỉnh {new} (từ 01/07/2025).")
    template = translate(message) if translate else message
    return template.format(old=legacy, new=new.name)


# --------------------------------------------------------------------------
# Commune matching
# --------------------------------------------------------------------------


def _split_commune_prefix(key: str) -> tuple[str, str | None, bool]:
    """Remove a leading unit type: returns (rest, kind or None, had_prefix)."""
    for prefix, kind in _COMMUNE_PREFIXES:
        if key.startswith(prefix + " ") and len(key) > len(prefix) + 1:
            return key[len(prefix) + 1 :], kind, True
    # "p1 bao loc", "p12" → "1 bao loc"
    m = re.match(r"^(p|f|x)(\d+\b.*)$", key)
    if m:
        return m.group(2), "xa" if m.group(1) == "x" else "phuong", True
    return key, None, False


def _order(entries: list[_CommuneEntry], kind: str | None) -> list[_CommuneEntry]:
    if kind is None:
        return entries
    same = [e for e in entries if e.kind == kind]
    return same or entries


def _by_accent(hits: list[_CommuneEntry], accented: str | None) -> list[_CommuneEntry]:
    """Among names that fold alike ("Văn Lang" / "Văn Lăng"), keep the one
    typed with exactly these diacritics, if any."""
    if accented and len(hits) > 1:
        same = [e for e in hits if e.accented == accented]
        if same:
            return same
    return hits


def _commune_hits(text: str, province_code: str, *, fuzzy: bool = True, cutoff: float = 0.75) -> list[_CommuneEntry]:
    index = _commune_index(_normalize_code(province_code, 2))
    full = _key(text)
    if not index.entries or not full:
        return []
    akey = _akey(text)
    # Diacritics decide only if the user typed some and offsets line up.
    aligned = len(akey) == len(full) and not akey.isascii()
    key, kind, had_prefix = _split_commune_prefix(full)
    # Read "phuong duc" both as "phường Đức" and as the name "Phượng Dực".
    readings = [(key, kind, akey[len(full) - len(key) :] if aligned else None)]
    if had_prefix:
        readings.append((full, None, akey if aligned else None))
    for r_key, r_kind, r_accented in readings:
        for k in (r_key, _nospace(r_key)):
            if k in index.exact:
                return _order(_by_accent(list(index.exact[k]), r_accented), r_kind)
    if len(key) >= 3:
        prefixed = [e for e in index.entries if any(k.startswith(key + " ") for k in e.keys)]
        if prefixed and len(prefixed) <= 5:
            return _order(prefixed, kind)
    # A known name inside a longer answer ("ba dinh quan ba dinh"): longest wins.
    words = key.split()
    for n in range(min(6, len(words)), 0, -1):
        inside: list[_CommuneEntry] = []
        for start in range(len(words) - n + 1):
            k = " ".join(words[start : start + n])
            if len(k) >= 4:
                inside.extend(e for e in index.spaced.get(k, ()) if e not in inside)
        if inside:
            return _order(inside, kind)
    if not fuzzy or len(key) < 3:
        return []
    scores: dict[str, float] = {}
    owners: dict[str, _CommuneEntry] = {}
    for table, query in ((index.spaced, key), (index.nospace, _nospace(key))):
        for k, score in close_matches(query, table, cutoff).items():
            for e in table[k]:
                if not any(_same_initials(key, name) for name in e.keys):  # “con trai” is no “Sông Trí”
                    continue
                # "phường X" slightly prefers wards over communes.
                adjusted = score - 0.02 if kind is not None and e.kind != kind else score
                if adjusted > scores.get(e.unit.code, 0.0):
                    scores[e.unit.code], owners[e.unit.code] = adjusted, e
    ranked = sorted(((sc, owners[c]) for c, sc in scores.items()), key=lambda t: -t[0])
    return [e for _, e in _dominant(ranked, lambda t: t[0])]


def match_commune(text: str, province_code: str) -> list[Unit]:
    """Commune / ward / special-zone candidates in one province, best first.

    Tolerates type prefixes ("xã", "phường", "p.", "đặc khu"), missing
    diacritics and typos.  An exact match returns a single candidate (or a
    ward and a commune of the same name when no type was given).
    """
    return [e.unit for e in _commune_hits(text, province_code)]


_HAMLETS = {  # folded unit word of a house's address → as written
    "thon": "Thôn", "xom": "Xóm", "ap": "Ấp", "to": "Tổ", "to dan pho": "Tổ dân phố", "tdp": "Tổ dân phố",
    "khu pho": "Khu phố", "kp": "Khu phố", "ban": "Bản", "doi": "Đội", "khom": "Khóm", "buon": "Buôn",
    "lang": "Làng", "khu": "Khu", "cum": "Cụm", "khoi": "Khối", "khu dan cu": "Khu dân cư", "kdc": "Khu dân cư",
    "so": "Số", "so nha": "Số nhà", "phum": "Phum", "soc": "Sóc",
}
_HAMLET = re.compile(r"^(" + "|".join(sorted((re.escape(k) for k in _HAMLETS), key=len, reverse=True))
                     + r")\.?\s*(\d+[a-z]?|[ivx]+)$")


_STREETS = {"ngo": "Ngõ", "hem": "Hẻm", "kiet": "Kiệt", "ngach": "Ngách"}  # folded, before a number → as written
_HOUSE_LEAD = re.compile(r"^(" + "|".join(sorted((re.escape(k) for k in (*_HAMLETS, *_STREETS)), key=len, reverse=True))
                         + r")\.?\s*(\d+[a-z]?(?:/\d+[a-z]?)*)(?=\s+\S|\s*$)")
"""A unit word and its number opening a longer part (“so 12 tran phu”, “ngo 5 …”): the unit word is written out."""


_NAMED_HAMLET = re.compile(r"(thon|xom|ban|ap|lang|buon|khom|phum|soc) ([a-z]+(?: [a-z]+){0,3})")
"""A hamlet's unit word and its name, typed plainly (“ban hua la”, “Thon Na Loc”): no list has them."""


_DETAIL_LEAD = re.compile(r"^(?:" + "|".join(sorted((re.escape(k) for k in _HAMLETS), key=len, reverse=True))
                          + r"|duong|ngo|hem|kiet|ngach)\b\.?")


_SAID_LEAD = re.compile(r"^[^,\d]{0,40}?\b(?:o|tai)\s+(?=(?:" + "|".join(
    sorted((re.escape(k) for k in _HAMLETS if k != "so"), key=len, reverse=True)) + r")\.?\s*\d)")
"""Words of a sentence before a hamlet and its number (“ông ở một mình ở thôn 2”), folded: “ở”/“tại” ends them."""


def _is_detail(part: str) -> bool:
    """Whether a part of an address is the house's or the hamlet's (“thôn 1”, “số 5 ngõ 3”, “12 Lê Lợi”): a unit
    word below the commune first, or a number in it."""
    key = _key(part)
    return bool(_DETAIL_LEAD.match(key)) or any(ch.isdigit() for ch in key)


def house_part(text: str) -> str | None:
    """The text as written on a form, if it is only the house's or hamlet's part of an address (“xom 3”, “thôn 5,
    số 12”: a unit word below the commune first); None otherwise (a place, a bare number)."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not parts or not _DETAIL_LEAD.match(_key(parts[0])) or not all(_is_detail(p) for p in parts) \
            or re.fullmatch(r"so \d+", _key(text)):  # “số 5”: an option's number, more likely than a house
        return None
    return tidy_detail(text)


_PLACES_OF_CARE = {  # folded words that open the name of a place of birth or care → as written
    "benh vien da khoa": "Bệnh viện đa khoa", "benh vien san nhi": "Bệnh viện Sản Nhi", "benh vien": "Bệnh viện",
    "tram y te": "Trạm y tế", "trung tam y te": "Trung tâm y tế", "nha ho sinh": "Nhà hộ sinh",
    "phong kham da khoa": "Phòng khám đa khoa", "phong kham": "Phòng khám", "bv": "Bệnh viện", "tyt": "Trạm y tế",
    "ttyt": "Trung tâm y tế", "bv da khoa": "Bệnh viện đa khoa", "bvdk": "Bệnh viện đa khoa",
}
_LEVELS = {"xa": "xã", "phuong": "phường", "huyen": "huyện", "tinh": "tỉnh", "quan": "quận", "thi xa": "thị xã",
           "thanh pho": "thành phố", "tp": "thành phố"}  # the unit it serves, after those words
_PLACE_OF_CARE = re.compile(r"^(" + "|".join(sorted((re.escape(k) for k in _PLACES_OF_CARE), key=len, reverse=True))
                            + r")(?: (" + "|".join(sorted(_LEVELS, key=len, reverse=True)) + r"))?(?=\s|$)")


def names_place_of_care(text: str | None) -> bool:
    """Whether the text opens with the words of a hospital's or health station's name (“benh vien da khoa …”), the
    rest of which (a district's, a province's name) belongs to that name."""
    return bool(text) and _PLACE_OF_CARE.match(fold(text or "").lower()) is not None


def spell_place_of_care(text: str) -> str:
    """“benh vien da khoa …” typed plainly: its opening words as written (“Bệnh viện đa khoa …”), the rest as
    typed; anything else unchanged."""
    lowered = text.lower()
    if fold(lowered) != lowered:  # typed with diacritics: as typed
        return text
    m = _PLACE_OF_CARE.match(lowered)
    if m is None:
        return text
    level = f" {_LEVELS[m.group(2)]}" if m.group(2) else ""
    return _PLACES_OF_CARE[m.group(1)] + level + text[m.end():]


def tidy_detail(detail: str | None) -> str | None:
    """The house-and-hamlet part of an address as written on a form: each part that is a unit word and its number,
    typed plainly or in lower case (“thon 3”, “tổ 5”, “so 12”), gets its diacritics and capital (“Thôn 3”); the rest
    stays as typed, but for a polite word after it (“thôn 3 ạ”)."""
    if not detail:
        return detail
    detail = without_polite_end(detail)  # (“thôn 3 ạ”)
    folded = fold(detail).lower()
    if len(folded) == len(detail) and not _DETAIL_LEAD.match(folded) and (lead := _SAID_LEAD.match(folded)):
        detail = detail[lead.end():]  # “ông ở một mình ở thôn 2”: the words of a sentence before the hamlet
    parts = []
    for part in detail.split(","):
        text = part.strip()
        m = _HAMLET.match(fold(text).lower())
        parts.append(f"{_HAMLETS[m.group(1)]} {m.group(2).upper() if m.group(2).isalpha() else m.group(2)}"
                     if m else _house_lead(text))
    return ", ".join(p for p in parts if p) or None


def _house_lead(text: str) -> str:
    """A part typed plainly opened by units and their numbers (“so 12 ngo 5 tran phu”): those written out (“Số 12
    Ngõ 5 tran phu”), the rest as typed; a place of care's name spelled (:func:`spell_place_of_care`). Typed with
    diacritics, it is as typed."""
    out = []
    while text and text.isascii() and (m := _HOUSE_LEAD.match(text.lower())):  # (typed plainly)
        out.append(f"{_HAMLETS.get(m.group(1)) or _STREETS[m.group(1)]} {m.group(2).upper()}")
        text = text[m.end():].strip()
    if not out and text.isascii() and (m := _NAMED_HAMLET.fullmatch(" ".join(text.lower().split()))):
        name = " ".join(text.split())[m.start(2):]  # “ban hua la”: the unit written out, the name as names are
        return f"{_HAMLETS[m.group(1)]} {name.title() if name == name.lower() else name}"
    return " ".join([*out, text]).strip() if out else spell_place_of_care(text)


# --------------------------------------------------------------------------
# Free-text addresses
# --------------------------------------------------------------------------

_ABBREV_DOT = re.compile(r"(?i)\b(p|x|q|h|tp|tt|t|f|dk|đk)\.(?=\S)")
_COMMUNE_KEYWORDS = frozenset({"phuong", "xa", "p", "f", "x", "dac", "dk"})


def _split_parts(text: str) -> list[str]:
    parts = [p.strip(" .") for p in re.split(r"[,;\n]+", text)]
    parts = [p for p in parts if p]
    if len(parts) == 1 and " - " in parts[0]:
        parts = [p.strip(" .") for p in parts[0].split(" - ") if p.strip(" .")]
    while parts and _key(parts[-1]) in ("viet nam", "vietnam", "vn"):
        parts.pop()
    return parts


def _find_province(parts: list[str]) -> tuple[int, _ProvinceHit | None, str]:
    """Return (part index, province hit, leftover text of that part)."""
    for i in range(len(parts) - 1, -1, -1):
        hits = province_hits(parts[i], fuzzy=False)
        if len(hits) == 1 and hits[0].score == 1.0:
            return i, hits[0], ""
    if not parts:
        return -1, None, ""
    # No separators before the province: try the last words of the last part.
    last = parts[-1]
    words = last.split()
    index = _province_index()
    for n in range(min(6, len(words) - 1), 0, -1):
        tail = _strip_province_prefix(_key(" ".join(words[-n:])))
        if tail in index:
            rest = words[:-n]
            code, legacy = index[tail]
            care = " ".join(rest).lower()
            if rest and (m := _PLACE_OF_CARE.match(fold(care))) is not None and m.end() == len(fold(care)):
                # “benh vien da khoa tinh lam dong”: the province is part of the hospital's name, kept, spelled
                if fold(care) != care:  # typed with diacritics: as typed
                    return len(parts) - 1, _ProvinceHit(code, 1.0, legacy), " ".join(words)
                unit = province(code)
                name = legacy or (unit.name if unit is not None else " ".join(words[-n:]))
                typed = fold(" ".join(words[-n:])).lower()
                kind = "tỉnh " if typed.startswith("tinh ") else \
                    "thành phố " if typed.startswith(("tp ", "thanh pho ")) else ""
                return len(parts) - 1, _ProvinceHit(code, 1.0, legacy), f"{spell_place_of_care(care)} {kind}{name}"
            # Drop a dangling "tỉnh" / "tp" / "thành phố" before the province name ("thành" alone is a name's:
            # "xã Yên Thành Nghệ An")
            while rest:
                if len(rest) >= 2 and _key(" ".join(rest[-2:])) == _key("thanh pho"):
                    rest = rest[:-2]
                elif _key(rest[-1]) in _PROVINCE_PREFIXES:
                    rest = rest[:-1]
                else:
                    break
            return len(parts) - 1, _ProvinceHit(code, 1.0, legacy), " ".join(rest)
    # Last resort, a typo in the last part ("ha noii"): be strict, a wrong
    # province is worse than none.
    if not re.search(r"\d", last) and not _split_commune_prefix(_key(last))[2]:
        hits = province_hits(last)
        if len(hits) == 1 and hits[0].score >= 0.9:
            return len(parts) - 1, hits[0], ""
    return -1, None, ""


_TYPO = 0.85
"""The similarity a commune typed in a whole address must have to be taken without asking: a typo's, not a
different name's (the commune question offers a looser match as a choice instead)."""


def _match_part(part: str, province_code: str | None) -> _CommuneEntry | None:
    """Match a whole address part as a commune, strictly.

    Without a type prefix only exact names count (so a street called "Lê
    Lợi" does not become Phường Lê Lợi by accident); with a prefix ("p. Ba
    Dinh") typos are tolerated.  Without a province, only an exact,
    prefixed, nation-wide unique name counts.
    """
    key = _key(part)
    if not key:
        return None
    rest, kind, has_prefix = _split_commune_prefix(key)
    if province_code is not None:  # (a typo, “cam xuyenn”, scores 0.9 or more; “nam ha tinh” → Nam Hồng Lĩnh 0.75)
        hits = _commune_hits(part, province_code, fuzzy=has_prefix, cutoff=_TYPO)
        if len(hits) == 1 and (has_prefix or _exact_commune(part, province_code)):
            return hits[0]
        return None
    candidates = _order(list(_global_commune_index().get(rest, [])), kind)
    return candidates[0] if has_prefix and len(candidates) == 1 else None


def _find_commune_in(part: str, province_code: str | None) -> tuple[_CommuneEntry | None, str]:
    """Find a commune in one address part; return it and the text before it."""
    entry = _match_part(part, province_code)
    if entry is not None:
        return entry, ""
    # A type keyword inside the part: "so 5 ngo 3 phuong ba dinh".
    words = _ABBREV_DOT.sub(lambda m: m.group(1) + ". ", part).split()
    folded = [_key(w) for w in words]
    for i in range(len(words) - 1, 0, -1):
        if folded[i] not in _COMMUNE_KEYWORDS:
            continue
        for j in range(len(words), i + 1, -1):
            entry = _match_part(" ".join(words[i:j]), province_code)
            if entry is not None and j < len(words) and province_code is not None and \
                    not _exact_commune(" ".join(words[i:j]), province_code):
                continue  # words left after it, and only like a commune: “xã Kiên” of “xã Kiên Thành” is no Kiên Lao
            if entry is not None:
                return entry, " ".join(words[:i])
    return None, ""


def _exact_commune(part: str, province_code: str) -> bool:
    exact = _commune_index(province_code).exact
    key, _, _ = _split_commune_prefix(_key(part))
    return key in exact or _nospace(key) in exact


_NAMES_COMMUNE = re.compile(r"(?:^|\s)(?:xa|phuong|thi tran|dac khu)\s+\S")  # a part naming a commune, folded


def extract_address(text: str) -> dict[str, str | None] | None:
    """Best-effort split of a one-line address.

    ``"so 5 ngo 3, phuong Ba Dinh, Ha Noi"`` →
    ``{"province_code": "01", "province": "Thành phố Hà Nội",
    "commune_code": "00004", "commune": "Phường Ba Đình",
    "detail": "so 5 ngo 3"}``.

    The province is searched from the last part backwards, then the commune
    in the parts before it (or, for an address written province first, a part
    after it that is exactly a commune's name); parts between the commune and the province (an
    old district, say) are dropped, and what precedes the commune is the
    detail (house number, street, hamlet).  ``legacy_province`` is the
    pre-2025 province name when the text used one (e.g. "Đắk Nông"), for
    :func:`legacy_note`-style hints.  Values not found are ``None``;
    returns ``None`` when neither a province nor a commune is recognised.
    """
    clean = nfc(text or "").strip()
    parts = _split_parts(clean)
    if not parts:
        return None
    p_index, p_hit, leftover = _find_province(parts)
    p_code = p_hit.code if p_hit else None
    before = parts[:p_index] if p_index >= 0 else list(parts)
    if p_index >= 0 and leftover:
        before.append(leftover)

    c_entry: _CommuneEntry | None = None
    detail_parts: list[str] = before
    named = [i for i, part in enumerate(before) if _NAMES_COMMUNE.search(fold(part).lower())]
    for i in range(len(before) - 1, -1, -1):
        if named and i > named[-1] and not _NAMES_COMMUNE.search(fold(before[i]).lower()):
            continue  # a bare name after “xã Kiên Thành” is its old district's (“Lục Ngạn”), not today's commune
        entry, prefix_text = _find_commune_in(before[i], p_code)
        if entry is not None:
            c_entry = entry
            detail_parts = before[:i] + ([prefix_text] if prefix_text else [])
            break
    if c_entry is None and p_code is not None and 0 <= p_index < len(parts) - 1:
        # the province first (“Hà Tĩnh, Thạch Hà, thôn 1”): a part after it that is exactly a commune's name
        after = parts[p_index + 1:]
        for i, part in enumerate(after):
            entry = _match_part(part, p_code)
            if entry is not None:
                c_entry, detail_parts = entry, [*before, *after[:i], *after[i + 1:]]
                break
        else:  # no commune after it (“Hà Tĩnh, thôn 1”): the house's parts are kept, the commune asked
            detail_parts = [*before, *(p for p in after if _is_detail(p))]
    if p_code is None and c_entry is not None:
        p_code = c_entry.province_code
    if p_code is None and c_entry is None:
        return None
    p_unit = province(p_code) if p_code else None
    detail = ", ".join(p.strip(" ,.") for p in detail_parts if p.strip(" ,.")) or None
    legacy = p_hit.legacy if p_hit else None
    if legacy is not None and p_unit is not None and _key(legacy) == _key(p_unit.name):
        legacy = None
    return {
        "province_code": p_unit.code if p_unit else None,
        "province": p_unit.full_name if p_unit else None,
        "commune_code": c_entry.unit.code if c_entry else None,
        "commune": c_entry.unit.full_name if c_entry else None,
        "detail": detail,
        "legacy_province": legacy,
    }
