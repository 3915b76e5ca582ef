"""Pre-2025 addresses (commune, district, province) mapped to today's commune and province.

Since 01/07/2025 there is no district level, and most communes were merged. Papers issued before then
(the citizen ID card above all) still read "Thôn 3, Xã An Phượng, Huyện Thanh Hà, Hải Dương". This module
maps such an address to today's units of :mod:`dialogs.address` (the ``vietnam-provinces`` data).

The old-to-new commune table is the ``vietnamadminunits`` package's (MIT; built from the national
statistics office's conversion table): 10,040 old communes; 471 of them were split between several new
ones, and then every candidate is returned so that the citizen is asked, never guessed for. Only its
data file is read (its parser pulls in geographic libraries we do not need). Without the package
installed, only the province is mapped (:data:`dialogs.address.LEGACY_PROVINCES`).
"""
from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from . import address as addr
from .textnorm import fold, nfc, vi_sort_key

_PROVINCE_TYPES = ("thanhpho", "tinh", "tp")
_DISTRICT_TYPES = ("thanhpho", "huyen", "quan", "thixa", "tp", "tx", "h", "q")
_COMMUNE_TYPES = ("thitran", "phuong", "xa", "tt", "p", "x")
MAX_ADDRESS_LEN = 300


@dataclass(frozen=True)
class LegacyMatch:
    """An old address read against today's units.

    ``communes`` holds today's candidates for the old commune: one when the mapping is certain, several
    when the old commune was split (ask the citizen), none when the old commune is not known (ask too).
    ``old`` is the old commune, district and province as written; ``detail`` what came before them."""

    old: str
    detail: str | None
    province: addr.Unit
    communes: tuple[addr.Unit, ...]


def _key(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(s))


def _bare(key: str, types: tuple[str, ...]) -> str:
    for t in types:
        if key.startswith(t) and len(key) > len(t):
            rest = key[len(t):]
            return rest.lstrip("0") or rest if rest.isdigit() else rest
    return key.lstrip("0") or key if key.isdigit() else key


def _data_file() -> Path | None:
    spec = importlib.util.find_spec("vietnamadminunits")  # located, not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "converter_2025.json"
    return path if path.is_file() else None


@dataclass(frozen=True)
class _Index:
    # (province, district, commune) bare keys -> [(new province code, [new commune codes])]
    full: dict[tuple[str, str, str], list[tuple[str, tuple[str, ...]]]]
    # (province, commune) bare keys, for an address that leaves out the district
    short: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]]
    # (today's province code, bare district key) -> {district type key: today's commune codes}, in order
    districts: dict[tuple[str, str], dict[str, list[str]]]
    # (district, commune) bare keys, for a commune named with its district and today's province only
    # (“phường 2, tp vũng tàu” in Hồ Chí Minh city, whose old province was Bà Rịa - Vũng Tàu)
    by_district: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]]
    # commune bare key -> [(new province code, [new commune codes])], for a commune named with its province only
    by_commune: dict[str, list[tuple[str, tuple[str, ...]]]]


@lru_cache(maxsize=1)
def _index() -> _Index:
    full: dict[tuple[str, str, str], list[tuple[str, tuple[str, ...]]]] = {}
    short: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = {}
    districts: dict[tuple[str, str], dict[str, list[str]]] = {}
    by_district: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = {}
    by_commune: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    path = _data_file()
    if path is None:
        return _Index(full, short, districts, by_district, by_commune)
    data = json.loads(path.read_text(encoding="utf-8"))
    provinces = {_bare(_key(p.full_name), _PROVINCE_TYPES): p.code for p in addr.provinces()}
    communes: dict[str, dict[str, str]] = {}

    def new_commune(pcode: str, ward_key: str) -> str | None:
        if pcode not in communes:
            communes[pcode] = {_key(c.full_name): c.code for c in addr.communes(pcode)}
        return communes[pcode].get(_key(ward_key))

    def add(old: str, pcode: str, codes: tuple[str, ...]) -> None:
        parts = [_key(x) for x in old.split("_")]
        if len(parts) != 3 or not codes:
            return
        p, d, w = (_bare(parts[0], _PROVINCE_TYPES), _bare(parts[1], _DISTRICT_TYPES),
                   _bare(parts[2], _COMMUNE_TYPES))
        for table, key in ((full, (p, d, w)), (short, (p, w)), (by_district, (d, w)), (by_commune, w)):
            hits = table.setdefault(key, [])  # type: ignore[arg-type]
            if (pcode, codes) not in hits:
                hits.append((pcode, codes))
        kind = parts[1][: len(parts[1]) - len(d)] if parts[1].endswith(d) else ""
        into = districts.setdefault((pcode, d), {}).setdefault(kind, [])
        into.extend(c for c in codes if c not in into)

    for new_p, wards in data.get("DICT_PROVINCE_WARD_NO_DIVIDED", {}).items():
        pcode = provinces.get(_bare(_key(new_p), _PROVINCE_TYPES))
        if pcode is None:
            continue
        for ward_key, olds in wards.items():
            code = new_commune(pcode, ward_key)
            if code is not None:
                for old in olds:
                    add(old, pcode, (code,))
    for new_p, olds in data.get("DICT_PROVINCE_WARD_DIVIDED", {}).items():
        pcode = provinces.get(_bare(_key(new_p), _PROVINCE_TYPES))
        if pcode is None:
            continue
        for old, targets in olds.items():
            ordered = sorted(targets, key=lambda t: not t.get("isDefaultNewWard"))
            codes = tuple(c for t in ordered if (c := new_commune(pcode, t.get("newWardKey", ""))))
            add(old, pcode, codes)
    return _Index(full, short, districts, by_district, by_commune)


def available() -> bool:
    """Whether old communes can be mapped (the conversion table is installed)."""
    return bool(_index().full)


def convert(text: str) -> LegacyMatch | None:
    """Map "…, Xã An Phượng, Huyện Thanh Hà, Hải Dương" to today's province and commune candidates.

    Returns ``None`` when no province (old or new) is recognised at the end of the address."""
    clean = nfc(text or "").strip()[:MAX_ADDRESS_LEN]
    parts = [q for p in clean.split(",") if p.strip(" .") for q in _hamlet_then_commune(p.strip(" ."))]
    if not parts:
        return None
    hits = addr.match_province(parts[-1])
    if len(hits) != 1:
        return None
    province = hits[0]
    old_p = _bare(_key(parts[-1]), _PROVINCE_TYPES)
    index = _index()
    found: list[tuple[str, tuple[str, ...]]] = []
    used = 1
    if len(parts) >= 3:
        key = (old_p, _bare(_key(parts[-2]), _DISTRICT_TYPES), _bare(_key(parts[-3]), _COMMUNE_TYPES))
        found, used = index.full.get(key, []), 3
    if not found and len(parts) >= 2:
        found, used = index.short.get((old_p, _bare(_key(parts[-2]), _COMMUNE_TYPES)), []), 2
        if len(found) > 1:  # the same commune name in two old districts: not enough to choose
            found = []
    if not found and len(parts) >= 3 and _COMMUNE_WORD.match(fold(parts[-3]).lower()):
        # “xã Kiên Thành, huyện Lục Ngạn”: the district as people still name it, the commune moved to another
        # before 2025 (to thị xã Chũ): the commune in its old province, when only one is so named
        found, used = index.short.get((old_p, _bare(_key(parts[-3]), _COMMUNE_TYPES)), []), 3
        if len(found) > 1:
            found = []
    codes: list[str] = []
    for pcode, cands in found:
        if pcode == province.code:
            codes.extend(c for c in cands if c not in codes)
    if not codes:  # the commune may already carry today's name (an address written after 2025)
        used = 1
        named = [i for i in range(len(parts) - 1) if _COMMUNE_WORD.match(fold(parts[i]).lower())]
        for i in range(len(parts) - 2, -1, -1):
            if named and i > named[-1] and not _COMMUNE_WORD.match(fold(parts[i]).lower()):
                continue  # a bare name after “xã Kiên Thành” is its old district's (“Lục Ngạn”), not a commune
            today = addr.match_commune(parts[i], province.code)
            if len(today) == 1 and _key(today[0].name) == _bare(_key(parts[i]), _COMMUNE_TYPES):
                codes, used = [today[0].code], len(parts) - i
                break
    detail = ", ".join(parts[:-used]) if used < len(parts) and (codes or len(parts) > 3) else None
    if not codes and len(parts) > 3:
        detail = ", ".join(parts[:-3])
    communes = tuple(c for code in codes if (c := addr.commune(code)) is not None)
    old = ", ".join(parts[-used:] if codes else parts[-3:])
    return LegacyMatch(old=old, detail=detail or None, province=province, communes=communes)


_IN_HAMLET = re.compile(r"^((?:thon|xom|ap|to|to dan pho|khu pho|kp|ban|buon|khom|khoi|lang|doi|so nha|so|ngo|hem)"
                        r"\b.*?\S)\s+((?:xa|phuong|thi tran)\s+\S.*)$")


def _hamlet_then_commune(part: str) -> list[str]:
    """A part that names the hamlet and then the commune without a comma (“thôn 2 xã Kiên Thành”): the two."""
    folded = fold(part).lower()
    m = _IN_HAMLET.match(folded) if len(folded) == len(part) else None
    return [part[:m.end(1)], part[m.start(2):]] if m else [part]


_DISTRICT_WORDS = r"huyen|quan|thi xa|thanh pho|tp|tx|h|q"  # a district's type words, folded
_DISTRICT_WORD = re.compile(rf"^({_DISTRICT_WORDS})(?:\.\s*|\s+|(?=\d))(\S.*)$")
_DISTRICT_KIND = {"huyen": "huyen", "h": "huyen", "quan": "quan", "q": "quan", "thi xa": "thixa", "tx": "thixa",
                  "thanh pho": "thanhpho", "tp": "thanhpho"}


@dataclass(frozen=True)
class OldDistrict:
    """A district (huyện, quận, thị xã, city) from before 2025 and today's communes of its land."""

    named: bool  # typed with its type word ("huyện Can Lộc", "q.1"), not as a bare name
    name: str | None  # its name with diacritics ("Huyện Can Lộc"), when one district is meant
    communes: tuple[addr.Unit, ...]
    typed: str = ""  # the words that named it, folded ("huyen can loc")

    @property
    def bare(self) -> str:
        """Its name without its type word, folded (“can loc” of “Huyện Can Lộc”): the name a commune of today may
        carry, and its key in the conversion table."""
        folded = " ".join(fold(self.name or self.typed).replace(".", " ").split())
        m = _DISTRICT_WORD.match(folded)
        return m.group(2) if m else folded

    def _span(self, detail: str | None) -> tuple[int, int] | None:
        """Where in ``detail`` the words that named the district are, with a type word typed before them (“huyen”
        before “hai hau”); None if they are not in it."""
        if not detail or not self.typed:
            return None
        spans = [(m.start(), m.end(), fold(m.group())) for m in re.finditer(r"[^\s,.]+", detail)]
        want = self.typed.split()
        for i in range(len(spans) - len(want) + 1):
            if [w for _, _, w in spans[i:i + len(want)]] == want:
                start = spans[i][0]
                typed = detail[:start].rstrip()
                before = fold(typed).lower()
                if len(before) == len(typed) and (kind := _TYPE_AT_END.search(before)) is not None:
                    start = kind.start() + (1 if before[kind.start()].isspace() else 0)
                return start, spans[i + len(want) - 1][1]
        return None

    def left_out_of(self, detail: str | None) -> str | None:
        """``detail`` (the rest of a whole address) without the words that named the district."""
        span = self._span(detail)
        if detail is None or span is None:
            return detail
        rest = re.sub(r"\s*,\s*(,\s*)+", ", ", detail[:span[0]] + " " + detail[span[1]:])
        return " ".join(rest.split()).strip(" ,.") or None

    def named_in(self, detail: str | None) -> str | None:
        """``detail`` with the words that named the district written as its name, its type in lower case, for a place
        named after it (“benh vien da khoa huyen hai hau”: “Bệnh viện đa khoa huyện Hải Hậu”, the words before it
        spelled as a place of care's; its type only where it was typed: “benh vien da khoa tan ky”)."""
        span = self._span(detail)
        if detail is None or span is None or not self.name or self.name.lower() in detail.lower():
            return detail  # (written so already)
        before, after = detail[:span[0]].strip(), detail[span[1]:].strip()
        typed = " ".join(fold(detail[span[0]:span[1]]).split())
        name = f"{self.name[0].lower()}{self.name[1:]}"
        if not _DISTRICT_WORD.match(typed) and (m := _DISTRICT_WORD.match(" ".join(fold(self.name).split()))):
            name = self.name[len(self.name) - len(m.group(2)):]  # (“benh vien da khoa tan ky”: no “huyện” added)
        return " ".join(f"{addr.spell_place_of_care(before)} {name} {after}".split())


_TYPE_AT_END = re.compile(rf"(?:^|\s)(?:{_DISTRICT_WORDS})\.?$")  # a district's type word ending a text


def old_district(text: str, province_code: str) -> OldDistrict | None:
    """Today's communes, in today's ``province_code``, of the pre-2025 district ``text`` names ("huyện Can Lộc",
    "tp Hà Tĩnh", "q1"); ``None`` when it names none. Since 01/07/2025 there are no districts: a citizen who
    types one is shown the communes it became, never one of them chosen for them."""
    folded = " ".join(fold(nfc(text or "")[:80]).replace(",", " ").split())
    m = _DISTRICT_WORD.match(folded)
    kind = _DISTRICT_KIND[m.group(1)] if m else None
    bare = _bare(_key(m.group(2) if m else folded), ())
    found = _index().districts.get((province_code, bare)) if bare else None
    if not found:
        return None
    kinds = [kind] if kind in found else list(found)
    codes = [c for k in kinds for c in found[k]]
    communes = sorted({c for code in codes if (c := addr.commune(code)) is not None},
                      key=lambda u: vi_sort_key(u.name))
    name = _parsed_names()[1].get(kinds[0] + bare) if len(kinds) == 1 else None
    return OldDistrict(named=m is not None, name=name, communes=tuple(communes), typed=folded) if communes else None


def district_in(text: str, province_code: str) -> OldDistrict | None:
    """A pre-2025 district named with its type word somewhere in a whole address ("xóm 3, huyện Can Lộc, Hà
    Tĩnh"), or ``None``. In a province that is a city today, a district named like it is left out: "thành phố
    Huế" typed for the province is today's city, not the old one ("tp Hà Tĩnh" is the old city: the province is
    a tỉnh)."""
    words = fold(nfc(text or "")[:MAX_ADDRESS_LEN]).replace(",", " ").replace(".", " ").split()
    unit = addr.province(province_code)
    own = _key(unit.name) if unit is not None and unit.full_name.startswith("Thành phố") else ""
    for i in range(len(words)):
        for n in range(min(6, len(words) - i), 0, -1):
            found = old_district(" ".join(words[i:i + n]), province_code)
            if found is not None and found.named and _key(" ".join(words[i + 1:i + n])) != own:
                return found
    return None


def value(match: LegacyMatch, commune: addr.Unit) -> dict[str, str | None]:
    """An ``address`` answer (as the address kind stores it) for ``commune`` of ``match``."""
    return {"province_code": match.province.code, "province": match.province.full_name,
            "commune_code": commune.code, "commune": commune.full_name, "detail": match.detail}


@lru_cache(maxsize=1)
def _district_provinces() -> dict[str, frozenset[str]]:
    """Each pre-2025 district's bare key -> today's provinces that hold a district of that name."""
    out: dict[str, set[str]] = {}
    for pcode, bare in _index().districts:
        out.setdefault(bare, set()).add(pcode)
    return {k: frozenset(v) for k, v in out.items()}


def district_anywhere(text: str) -> tuple[str, OldDistrict] | None:
    """A pre-2025 district or city named in an address typed without its province (“tổ 5 phường 2 đà lạt”):
    today's province and the district, when the name (two words or more, as typed) is one district's in the whole
    country and no province's of today; ``None`` otherwise (“Phú Mỹ” was a district of two provinces)."""
    words = fold(nfc(text or "")[:MAX_ADDRESS_LEN]).replace(",", " ").replace(".", " ").split()
    provinces = _district_provinces()
    for n in range(min(4, len(words)), 1, -1):
        for i in range(len(words) - n + 1):
            typed = " ".join(words[i:i + n])
            where = provinces.get(_bare(_key(typed), ()))
            if where is None or len(where) != 1 or addr.match_province(typed):
                continue
            pcode = next(iter(where))
            found = old_district(typed, pcode)
            if found is not None and (found.name is None or found.bare.split() == words[i:i + n]):
                return pcode, found  # (its words as the name's: “sinh o” is no “Sìn Hồ”, though both key “sinho”)
    return None


def commune_before(rest: str | None, district: OldDistrict, province: addr.Unit) -> LegacyMatch | None:
    """The old commune named at the end of ``rest``, the words typed before a district's (“tổ 5 phường 2” before
    “đà lạt”), as one commune of today, with the words before it as the house's part; None when the last words
    name no old commune of that district (or one that became several), nor, with its type word, of the province."""
    words = (rest or "").split()
    bare_district = _bare(_key(district.bare), ())
    for k in range(min(4, len(words)), 0, -1):
        house, commune = " ".join(words[:-k]), " ".join(words[-k:])
        match = convert(", ".join(p for p in (house, commune, district.typed, province.full_name) if p))
        if match is not None and len(match.communes) == 1 and _key(commune) in _key(match.old):
            return match
        # the old province another than today's (Vũng Tàu's, now Hồ Chí Minh city's): by the district alone
        found = [codes for pcode, codes in _index().by_district.get(
            (bare_district, _bare(_key(commune), _COMMUNE_TYPES)), []) if pcode == province.code]
        if len(found) == 1 and len(found[0]) == 1 and (unit := addr.commune(found[0][0])) is not None:
            return LegacyMatch(old=f"{commune}, {district.name or district.typed}, {province.full_name}",
                               detail=house.strip(" ,") or None, province=province, communes=(unit,))
    # a commune moved to another district before 2025, still said of the old one (“xã Kiên Thành, Lục Ngạn”: in
    # thị xã Chũ since 2025): named with its type word, one of its province
    return commune_named(rest, province)


_COMMUNE_WORD = re.compile(r"(?:^|\s)(" + "|".join(t.replace("thitran", "thi tran") for t in _COMMUNE_TYPES)
                           + r")\.?\s+(?=\S)")  # folded: “xã”, “p.”, “thị trấn”


def commune_named(rest: str | None, province: addr.Unit) -> LegacyMatch | None:
    """The old commune named with its type word at the end of ``rest``, the words typed before today's province
    (“thôn 2 xã Ea Tiêu” before “Đắk Lắk”), as one commune of today's ``province``, with the words before it as the
    house's part (the name of its old district after it left out, “xã Kiên Thành, Lục Ngạn”); None when the last
    words name no old commune of the province, one that became several, or a name several old communes of the
    province shared (“phường 2”)."""
    text = " ".join((rest or "").split())
    folded = fold(text)
    starts = list(_COMMUNE_WORD.finditer(folded))
    if not text or len(folded) != len(text) or not starts:
        return None  # (folding kept the length: the spans of the folded text are the typed one's)
    m = starts[-1]
    commune = text[m.start(1):]
    if "," in commune and old_district(commune.split(",", 1)[1], province.code) is not None:
        commune = commune.split(",", 1)[0].strip()  # “xã Kiên Thành, Lục Ngạn”: its old district after it, dropped
    found = {codes for pcode, codes in _index().by_commune.get(_bare(_key(commune), _COMMUNE_TYPES), [])
             if pcode == province.code}
    if len(found) != 1 or len(codes := next(iter(found))) != 1 or (unit := addr.commune(codes[0])) is None:
        return None
    return LegacyMatch(old=f"{commune}, {province.full_name}", detail=text[:m.start(1)].strip(" ,") or None,
                       province=province, communes=(unit,))


def district_called_commune(rest: str | None, province: addr.Unit) -> OldDistrict | None:
    """An old district's name typed with a commune's type word at the end of ``rest`` (“thôn 4 xã Quảng Xương”
    before “Thanh Hóa”: the citizen's “xã” is the old huyện's land), when no commune of the province, old or of
    today, had that name: the district, its words with that type word (to be left out of the house's part); None
    otherwise."""
    folded = fold(" ".join((rest or "").replace(",", " ").split()))
    starts = list(_COMMUNE_WORD.finditer(folded))
    name = folded[starts[-1].end():].strip(" .") if starts else ""
    if not name or len(name.split()) > 4:
        return None
    found = old_district(name, province.code)
    if found is None or found.named:
        return None
    old_communes = _index().by_commune.get(_bare(_key(name), _COMMUNE_TYPES), [])
    if any(pcode == province.code for pcode, _ in old_communes) or any(
            fold(c.name) == name for c in addr.match_commune(name, province.code)):
        return None  # (a commune, old or of today, of that name: it is the commune meant)
    return replace(found, typed=folded[starts[-1].start(1):].strip(" ."))


def once_named(name: str, province_code: str) -> list[tuple[addr.Unit, str | None]]:
    """Today's communes of ``province_code`` that old communes named ``name`` (“Quảng Phú”, any type) went into,
    each with the name of the old district it was in (“Huyện Thọ Xuân”; None when not known): more than one when
    several old communes of the province shared the name (Thanh Hóa's xã Quảng Phú of the city, today Phường
    Quảng Phú, and of Thọ Xuân, today Xã Xuân Tín)."""
    bare = _bare(_key(name), _COMMUNE_TYPES)
    out: list[tuple[addr.Unit, str | None]] = []
    for (_, district, commune), found in _index().full.items():
        if commune != bare:
            continue
        for pcode, codes in found:
            old = old_district(district, province_code) if pcode == province_code else None
            for code in codes if pcode == province_code else ():
                if (unit := addr.commune(code)) is not None and all(u.code != code for u, _ in out):
                    out.append((unit, old.name if old is not None else None))
    return out


def old_names() -> tuple[tuple[str, str], ...]:
    """(type, name) of every pre-2025 province, district and commune, spelled with diacritics ("Huyện",
    "Hải Hậu"), from the package's parser data; empty without it. Used to restore the diacritics of a place
    typed without them (dialogs/spelling.py)."""
    return _parsed_names()[0]


@lru_cache(maxsize=1)
def _parsed_names() -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
    """The package's parser data read once: :func:`old_names`, and each pre-2025 district's key ("huyencanloc")
    with its name as written ("Huyện Can Lộc", for :func:`old_district`)."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        return (), {}
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "parser_legacy.json"
    if not path.is_file():
        return (), {}
    data = json.loads(path.read_text(encoding="utf-8"))
    out: set[tuple[str, str]] = set()
    district_names: dict[str, str] = {}
    for p in data.get("DICT_PROVINCE", {}).values():
        full, short = p.get("province", ""), p.get("provinceShort", "")
        out.add((full[: len(full) - len(short)].strip(), short))
    for districts in data.get("DICT_PROVINCE_DISTRICT", {}).values():
        for key, d in districts.items():
            out.add((d.get("districtType", ""), d.get("districtShort", "")))
            if isinstance(d.get("district"), str):
                district_names.setdefault(key, nfc(d["district"]))
    for districts in data.get("DICT_PROVINCE_DISTRICT_WARD_NO_ACCENTED", {}).values():
        for wards in districts.values():
            for w in wards.values():
                out.add((w.get("wardType", ""), w.get("wardShort", "")))
    names = tuple(sorted((nfc(t), nfc(n)) for t, n in out if isinstance(t, str) and isinstance(n, str) and n))
    return names, district_names
