"""An address in the current two-level administration: province, then commune, then house/street.

Answered over several messages (the ``AddressEntry`` sub-dialog): a whole address typed at once is
taken whole; otherwise the province, a choice among near matches, the commune, then the detail.
Stored as a dict: province_code, province, commune_code, commune, detail.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from .. import address as addr
from .. import legacy_address, parsing
from ..i18n import N_
from ..messages import ChoiceOut, Message
from ..parsing import Invalid
from ..pending import Pending, optional, register
from ..textnorm import fold, fold_words
from .base import AskParts, Kind
from .choice import number_not_listed


@register
@dataclass
class AddressEntry(Pending):
    """An address being entered: the stage asked now, the parts known, the near matches offered."""

    kinds: ClassVar[tuple[str, ...]] = ("address",)
    path: str = ""
    stage: str = "province"  # province | commune | detail
    value: dict[str, Any] = field(default_factory=dict)
    options: list[dict[str, str]] | None = optional()  # [{"code", "name"}]
    typed_province: str | None = optional()  # the province as typed, when it is a pre-2025 one (Hải Dương)


def format_address(value: dict) -> str:
    parts = [value.get("detail"), value.get("commune"), value.get("province")]
    return ", ".join(p for p in parts if p)


def _entry(pending, path: str) -> AddressEntry | None:
    return pending if isinstance(pending, AddressEntry) and pending.path == path else None


def _picked(raw: str, options: list[dict[str, str]] | None) -> str | None:
    """The code of the offered option that ``raw`` names: its code (a button), its number in the list
    (console, Zalo) or its name; “có”, “đúng” for the one guess offered."""
    if not options:
        return None
    if len(options) == 1 and parsing.is_yes(raw):
        return options[0]["code"]
    return parsing.match_choice(raw, [(o["code"], o["name"]) for o in options])


_NEW_PROVINCE_UNKNOWN = N_(
    "Không sao. Từ 01/07/2025 nhiều tỉnh đã sáp nhập: bạn có thể gõ tên tỉnh cũ (trước sáp nhập), "
    "trợ lý sẽ tìm tỉnh mới. Chưa rõ thì gõ “menu” để tạm dừng; hồ sơ được giữ lại.")
_NEW_COMMUNE_UNKNOWN = N_(
    "Không sao. Từ 01/07/2025 nhiều xã, phường đã sáp nhập và đổi tên: bạn có thể gõ tên xã, "
    "phường cũ (trước sáp nhập), trợ lý sẽ tìm tên mới. Chưa rõ thì gõ “menu” để tạm dừng; "
    "hồ sơ được giữ lại.")
_PROVINCE_GUESSED = N_("Ý bạn là tỉnh/thành dưới đây? Chọn nếu đúng, hoặc nhập lại tên tỉnh/thành.")
_COMMUNE_GUESSED = N_("Ý bạn là xã/phường dưới đây? Chọn nếu đúng, hoặc nhập lại tên xã/phường.")
_PROVINCES_NEAR = N_("Có vài tỉnh/thành gần giống. Bạn chọn giúp một tỉnh/thành:")
_COMMUNES_NEAR = N_("Có vài xã/phường gần giống. Bạn chọn giúp một nơi:")
_ONCE_NAMED = N_("Trước 01/07/2025 có hơn một xã/phường tên này trong tỉnh; nay chúng thuộc các xã, phường dưới đây. "
                 "Bạn chọn giúp nơi đúng:")


def _earlier(f, answers: Mapping[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    """The answers of the field's ``same_as`` address questions (each place once, in their order), with the
    code of their option: the same place is often asked twice (the applicant's, the mother's residence)."""
    out: list[tuple[str, dict[str, Any]]] = []
    seen = set()
    for ref in f.same_as:
        v = (answers or {}).get(ref)
        if not isinstance(v, dict) or not v.get("commune_code") or not v.get("province_code"):
            continue
        key = (v["commune_code"], fold(v.get("detail") or ""))
        if key not in seen:
            seen.add(key)
            out.append((f"earlier:{len(out) + 1}", v))
    return out


_SAME = (*parsing.SAME_AS_ABOVE, "nhu dia chi tren", "dia chi nhu tren", "cung dia chi", "giong dia chi",
         "nhu dia chi da khai", "same address")


def _same_as(raw: str, choice: str | None, earlier: list[tuple[str, dict[str, Any]]]
             ) -> tuple[dict[str, Any], bool] | None:
    """An earlier address chosen (of those :func:`_earlier` offers): its option pressed or its number typed, or
    “như trên” (the first), or a yes (“có”, “giống”) where only one is offered, or words naming a person's address
    (“giống ông Tâm”, “ở chung nhà với bà”) where one is offered, or one of them is a house and the others communes
    alone. Not its words: “Hà Tĩnh” typed is a new address in that province. With it, whether it was read from such
    words (then said back)."""
    code = parsing.match_choice(choice or raw, [(c, c) for c, _ in earlier])
    if code is not None or choice is not None:
        found = next((v for c, v in earlier if c == code), None)
        return (found, False) if found is not None else None
    if parsing.says_only(raw, _SAME) or (len(earlier) == 1 and (
            parsing.is_yes(raw) or parsing.echoed_yes_no(raw, "Có giống địa chỉ trên không?") is True)):
        return earlier[0][1], False  # (“có”, “giống”, “đúng rồi” where one earlier address is offered: that one)
    if _like_someone(raw):
        houses = [v for _c, v in earlier if v.get("detail")] if len(earlier) > 1 else [earlier[0][1]]
        if len(houses) == 1:
            return houses[0], True
    return None


_LIKE = re.compile(r"(?:giong|nhu|cung|chung|o cung|o chung|cung o|o chung nha|chung nha|cung nha|cung cho)"
                   r"(?: nhu| voi)?(?: (?:dia chi|nha|cho o|noi o|ho khau))?(?: (?:cua|voi))? (?P<who>\D{2,30})")
_WHO = ("ong", "ba", "cu", "bac", "chu", "co", "di", "cau", "me", "bo", "cha", "anh", "chi", "em", "vo", "chong", "con",
        "chau", "nguoi", "nha", "toi", "minh", "chung", "gia")
# (“giống ông Tâm”, “ở cùng người mất”, “như nhà bác”, “ở cùng nhà với tôi”, “chung với gia đình tôi”)


def _like_someone(raw: str) -> bool:
    """“giống ông Tâm”, “ở cùng bà”, “như địa chỉ của người mất”: the address of the one person it names, asked
    before; never a place's words (“như Hà Tĩnh”, “cùng xã”)."""
    m = _LIKE.fullmatch(fold_words(parsing.without_polite(raw)))
    return m is not None and m["who"].split()[0] in _WHO


def _in_earlier_commune(raw: str, earlier: list[tuple[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """“xóm 5, cẩm xuyên”, where an address in Xã Cẩm Xuyên was given before: that commune, with the words typed
    before its name as the house's part (not the old district of the same name, whose communes would be offered);
    None unless the message ends with the name of exactly one earlier address's commune."""
    words = fold(raw).replace(",", " , ").split()
    found: dict[str, Any] | None = None
    for _code, v in earlier:
        name = fold(v.get("commune") or "").split()
        short = name[1:] if name[:1] == ["xa"] or name[:1] == ["phuong"] else name[2:] if name[:2] == ["dac", "khu"] \
            else name
        if not short or words[-len(short):] != short:
            continue
        cut = len(short) + (1 if words[:-len(short)][-1:] in (["xa"], ["phuong"]) else 0)
        if found is not None and found["commune_code"] != v["commune_code"]:
            return None  # two earlier communes of that name (in two provinces): not guessed
        kept = raw.replace(",", " , ").split()[:-cut]
        found = {k: v.get(k) for k in ("province_code", "province", "commune_code", "commune")}
        found["detail"] = " ".join(kept).replace(" , ", ", ").strip(" ,.-") or None
    return found


_SAME_COMMUNE = re.compile(r"(?:^|\s)(?:o |thuoc |trong )?(?:cung|chung|cung trong|cung thuoc) (?:xa|phuong|dac khu)"
                           r"(?: (?:do|nay|ay|tren|luon|a))*(?=\s|$)")


def _in_the_same_commune(raw: str, earlier: list[tuple[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """“xóm 5 cùng xã”, where one commune was given before: that commune, with the other words as the house's part
    when they are one (otherwise the house is asked); None unless the words say so and the earlier addresses are
    all in one commune."""
    folded = fold(raw)
    m = _SAME_COMMUNE.search(folded)
    communes = {v.get("commune_code") for _code, v in earlier}
    if m is None or len(communes) != 1 or len(folded) != len(raw):
        return None
    v = earlier[0][1]
    found = {k: v.get(k) for k in ("province_code", "province", "commune_code", "commune")}
    rest = " ".join(f"{raw[:m.start()]} {raw[m.end():]}".split()).strip(" ,.-")
    found["detail"] = addr.house_part(rest) if rest else None  # (“ở cùng xã với cháu”: no house, asked)
    return found


def _long_number(raw: str) -> bool:
    """An ID or phone number typed here (nine digits or more): no place and no house, and never said back."""
    return sum(ch.isdigit() for ch in raw) >= 9


def _off_the_list(turn, entry: AddressEntry, raw: str, offered: int) -> bool:
    """A number typed that is not on the list offered (“2” where there is one): said so, the list kept. No place is
    a bare number, so it is never looked up as one."""
    if _long_number(raw):
        return False  # said by _not_a_place
    try:
        number_not_listed(raw, offered)
    except Invalid as exc:
        turn.pending = entry
        turn.reject(exc)
        return True
    return False


def _a_date(raw: str, today: date) -> Invalid | None:
    """What to say of a date typed where a place is asked (“hôm kia”, “10/9”: the day of an event, asked after)."""
    try:
        parsing.parse_date(raw, today=today)
    except Invalid:
        return None
    return Invalid(N_("“{text}” là một ngày; câu này hỏi nơi chốn. Vui lòng nhập tên tỉnh/thành phố hoặc xã/phường, "
                      "ví dụ: Lâm Đồng."), text=raw.strip()[:40])


def _not_a_place(raw: str, province: str | None = None) -> Invalid | None:
    """What to say of an answer that is no place at all, without repeating it: a bare “không” (the question
    needs an answer), or a long number (an ID or phone number typed here, never echoed back). None otherwise."""
    if parsing.is_no(raw):
        return Invalid(N_("Câu này cần có câu trả lời thì hồ sơ mới xử lý được. Vui lòng nhập tên tỉnh/thành hoặc "
                          "xã/phường; nếu chưa rõ, gõ “menu” để tạm dừng, những gì đã khai được giữ lại."))
    if province is None and parsing.says_only(raw, _SAME):  # “như trên” where no address was given before
        return Invalid(N_("Hồ sơ này chưa có địa chỉ nào ở trên để dùng lại. Vui lòng nhập tỉnh/thành phố, ví dụ: "
                          "Lâm Đồng; sau đó là xã, phường."))
    if _long_number(raw):
        if province:
            return Invalid(N_("Đây không phải tên xã/phường. Vui lòng nhập tên xã/phường hiện nay thuộc {province}."),
                           province=province)
        return Invalid(N_("Đây không phải tên tỉnh/thành. Vui lòng nhập tên tỉnh/thành phố hiện nay, ví dụ: Hà "
                          "Nội, Lâm Đồng, Thái Nguyên."))
    return None


def _again(turn, entry: AddressEntry, text: str, *, error: bool = False) -> bool:
    """The stage asked again, ``text`` said first (the entry kept as it stands)."""
    turn.pending = entry
    turn.say(text, error=error)
    turn.prompt()
    return True


_OLD_DISTRICT = N_("“{old}” là đơn vị cấp huyện cũ; từ 01/07/2025 không còn cấp huyện. Nơi đó nay gồm các xã, "
                   "phường dưới đây. Bạn chọn giúp một nơi:")


def _district(turn, entry: AddressEntry, raw: str, district: legacy_address.OldDistrict) -> bool:
    """A pre-2025 district typed for the commune: today's communes of its land offered, none chosen for them."""
    entry.options = _options(district)
    return _again(turn, entry, _district_text(turn.t, raw, district))


def _options(district: legacy_address.OldDistrict) -> list[dict[str, str]]:
    """Today's communes of an old district's land, the one that carries the district's name first (Xã Cẩm Xuyên
    for the old Huyện Cẩm Xuyên: often what was meant, but not chosen for the citizen)."""
    named = [c for c in district.communes if district.name and fold(c.name) == district.bare]
    return [{"code": c.code, "name": c.full_name} for c in (*named, *(c for c in district.communes if c not in named))]


def _without_district(detail: str | None, district: legacy_address.OldDistrict) -> str | None:
    """The house's part of a whole address without the old district's words, unless they are part of a place's name
    (“bệnh viện đa khoa huyện Hải Hậu”: kept, spelled)."""
    return district.named_in(detail) if addr.names_place_of_care(detail) else district.left_out_of(detail)


def _district_text(t, raw: str, district: legacy_address.OldDistrict) -> str:
    return t(_OLD_DISTRICT, old=district.name or raw[:40])


def _a_province(raw: str, value: dict[str, Any], t) -> str | None:
    """What to say when a province's whole name is typed for the commune (“Hà Tĩnh” again, or another one)."""
    hits = addr.province_hits(raw, fuzzy=False)
    if len(hits) != 1 or hits[0].score < 1.0 or (named := addr.province(hits[0].code)) is None:
        return None
    if named.code == value.get("province_code"):
        return t(N_("“{text}” là tên tỉnh, thành phố. Vui lòng gõ tên xã, phường thuộc {province}."),
                 text=raw[:40], province=value.get("province"))
    return t(N_("“{text}” là tên một tỉnh, thành khác ({other}). Bạn đang khai xã, phường thuộc {province}; nếu "
                "nhầm tỉnh, gõ “quay lại” để chọn lại tỉnh."), text=raw[:40], other=named.full_name,
             province=value.get("province"))


_TYPED_KIND = re.compile(r"(?:^|[\s,])(xa|phuong|thi tran|dac khu)\.?\s+(\S.*)$")
_KIND_OF = {"xa": "Xã", "phuong": "Phường", "thi tran": "Thị trấn", "dac khu": "Đặc khu"}


def _another_kind_once(raw: str, found: addr.Unit, province_code: str) -> list[tuple[addr.Unit, str | None]]:
    """Today's communes other than ``found`` that an old commune of its name went into, when the commune was typed
    with another type word than today's (“xã Quảng Phú” for Phường Quảng Phú, while Thọ Xuân's xã Quảng Phú is Xã
    Xuân Tín today): the citizen may mean either, so both are offered. Empty otherwise."""
    folded = fold(raw).lower()
    name = fold(found.name).lower()
    said = next((m for m in _TYPED_KIND.finditer(folded) if m.group(2).startswith(name)), None)
    if said is None or found.full_name.startswith(_KIND_OF[said.group(1)] + " "):
        return []
    once = legacy_address.once_named(found.name, province_code)
    if not any(u.code != found.code for u, _ in once):
        return []
    return sorted(once, key=lambda pair: pair[0].code != found.code)  # (today's of the name first)


def _once_options(t, once: list[tuple[addr.Unit, str | None]]) -> list[dict[str, str]]:
    """The communes of :func:`_another_kind_once` as options, each with the old district it was in."""
    return [{"code": c.code, "name": c.full_name if not district else t(
        N_("{commune} (trước đây thuộc {district})"), commune=c.full_name, district=district[0].lower() + district[1:])}
        for c, district in once]


def _old_commune(raw: str, entry: AddressEntry, province: str) -> tuple[addr.Unit, ...]:
    """Today's commune(s) for a commune name from before the 2025 mergers (Xã An Phượng, Hải Dương), read
    in the province as the citizen typed it (an old one too)."""
    match = legacy_address.convert(f"{raw}, {entry.typed_province or province}")
    return match.communes if match is not None else ()


SURE = 0.9
"""A province matched with less certainty than this (a short word close to one name: “nam”, Hà Nam) is asked
about, not taken."""


class Address(Kind):
    name = "address"
    hint = N_("Nhập tỉnh/thành phố (theo danh sách 34 tỉnh, thành mới), ví dụ: Lâm Đồng.")

    def parse(self, f, raw, *, today, lookup):
        raise Invalid(N_("Chưa hiểu câu trả lời. Vui lòng thử lại."))  # answered through ``collect``

    def display(self, f, value, t):
        return format_address(value) if isinstance(value, dict) else str(value)

    def question(self, f, path, pending, t, answers=None):
        entry = pending if isinstance(pending, AddressEntry) else None  # as the engine always showed it
        stage = entry.stage if entry else None
        value = (entry.value if entry else None) or {}
        options = tuple(ChoiceOut(c["code"], c["name"]) for c in (entry.options or [])) if entry else ()
        if stage == "commune":
            kept = addr.tidy_detail(value.get("detail"))  # (typed with the province: “Hà Tĩnh, thôn 1”)
            return AskParts(kind=self.name, choices=options, lines=(
                t(N_("Xã, phường hoặc đặc khu nào của {province}?"), province=value.get("province")),
                *((t(N_("(Đã ghi: {detail}.)"), detail=kept),) if kept else ())))
        if stage == "detail":
            return AskParts(kind=self.name, skippable=True, lines=(
                t(N_("Số nhà, đường/thôn/ấp/tổ dân phố? (gõ “bỏ qua” nếu không có)")),))
        earlier = _earlier(f, answers) if not options else []
        if earlier:  # the same address as one given for an earlier question: a press, not typed again
            return AskParts(kind=self.name, lines=(t(self.hint), t(N_("Nếu trùng một địa chỉ đã khai, chọn ở dưới."))),
                            choices=tuple(ChoiceOut(code, format_address(v)) for code, v in earlier))
        return AskParts(kind=self.name, lines=(t(self.hint),), choices=options if stage == "province" else ())

    def intercept(self, turn, slot, msg, text, command):
        entry = turn.pending if isinstance(turn.pending, AddressEntry) else None
        if entry is None:
            return False
        if command == "back" and entry.stage in ("commune", "detail"):  # detail -> commune -> province
            if entry.stage == "detail":
                value = {k: v for k, v in entry.value.items() if k not in ("commune_code", "commune", "detail")}
                turn.pending = AddressEntry(path=entry.path, stage="commune", value=value, options=[])
            else:
                turn.pending = AddressEntry(path=entry.path, stage="province", value={}, options=[])
            turn.ask(slot)
            return True
        if command == "skip" and entry.stage == "detail":
            turn.accept(slot, dict(entry.value or {}, detail=None))
            return True
        return False

    def collect(self, turn, slot, msg, text):
        t = turn.t
        entry = _entry(turn.pending, slot.path) or AddressEntry(path=slot.path)
        raw = msg.choice or text
        if not raw:
            turn.say(t(N_("Vui lòng nhập địa chỉ bằng chữ.")), error=True)
            turn.prompt()
            return True
        stage, value = entry.stage, dict(entry.value or {})
        at_once = False  # the province and the commune read from one message: what was read is said back
        if msg.choice is None and _long_number(raw) and not any(ch.isalpha() for ch in raw) \
                and turn.keep_ahead(slot, raw):  # the phone number asked next, typed at the address
            turn.pending = entry
            turn.ask(slot)
            return True
        earlier = _earlier(slot.field, turn.answers) if stage == "province" and not entry.options else []
        offered = len(entry.options or earlier)
        if offered and msg.choice is None and _off_the_list(turn, entry, raw, offered):
            return True
        if earlier and (taken := _same_as(raw, msg.choice, earlier)):
            same, at_once = taken  # (read from words naming a person: said back)
            # (a hamlet typed before, “xom 3”, is this one's when the earlier address has none)
            value = dict(same, detail=(same.get("detail") or value.get("detail")) if slot.field.ask_detail else None)
            stage = "detail"
        elif earlier and msg.choice is None and (near := _in_earlier_commune(raw, earlier)
                                                 or _in_the_same_commune(raw, earlier)) is not None:
            value = dict(near, detail=near["detail"] if slot.field.ask_detail else None)
            stage, at_once = "detail", bool(value["detail"])
        elif stage == "province":
            anywhere = None  # an old district that says the province (legacy_address.district_anywhere)
            once: list[tuple[addr.Unit, str | None]] = []  # today's communes of two old ones so named
            code = _picked(raw, entry.options)
            if code is None and msg.choice is None and parsing.says_unknown(raw):  # the new one not known yet
                return _again(turn, entry, t(_NEW_PROVINCE_UNKNOWN))
            if code is not None:
                p = addr.province(code)
                assert p is not None, code  # an option offered from the province table
                found: dict[str, str | None] = {"province_code": p.code, "province": p.full_name}
            else:
                full = addr.extract_address(raw) or {}
                if province_code := full.get("province_code"):
                    found = {k: full.get(k) for k in ("province_code", "province", "commune_code", "commune",
                                                      "detail")}
                    # extract_address gives codes from the address table
                    found_province = addr.province(province_code)
                    assert found_province is not None, province_code
                    found["province"] = found_province.full_name
                    if commune_code := full.get("commune_code"):
                        found_commune = addr.commune(commune_code)
                        assert found_commune is not None, commune_code
                        found["commune"] = found_commune.full_name
                        at_once = True
                        if once := _another_kind_once(raw, found_commune, province_code):
                            found["commune_code"] = found["commune"] = None  # (asked among them, below)
                            at_once = False
                else:
                    entry.typed_province = None  # (typed again: not the old province offered before)
                    hits = addr.province_hits(raw)
                    cands = [unit for h in hits if (unit := addr.province(h.code)) is not None]
                    if len(cands) == 1 and hits[0].score < SURE:  # a guess (“nam”: Hà Nam?): asked, not taken
                        legacy = hits[0].legacy
                        name = cands[0].full_name if legacy is None else t(
                            N_("{old} (nay thuộc {new})"), old=legacy, new=cands[0].full_name)
                        entry.options = [{"code": cands[0].code, "name": name}]
                        entry.typed_province = legacy
                        return _again(turn, entry, t(_PROVINCE_GUESSED))
                    if len(cands) == 1:
                        found = {"province_code": cands[0].code, "province": cands[0].full_name}
                    elif cands:
                        entry.options = [{"code": c.code, "name": c.full_name} for c in cands[:5]]
                        return _again(turn, entry, t(_PROVINCES_NEAR), error=True)
                    elif msg.choice is None and (far := legacy_address.district_anywhere(raw)) is not None:
                        # “tổ 5 phường 2 đà lạt”: an old district or city, one country-wide, says the province
                        unit = addr.province(far[0])
                        assert unit is not None, far[0]
                        found = {"province_code": unit.code, "province": unit.full_name,
                                 "detail": far[1].left_out_of(raw)}
                        anywhere = far[1]
                        if (old_ward := legacy_address.commune_before(found["detail"], anywhere, unit)) is not None:
                            ward = old_ward.communes[0]  # “phường 2, đà lạt”: today's ward, said
                            found |= {"commune_code": ward.code, "commune": ward.full_name, "detail": old_ward.detail}
                            turn.say(t(N_("“{old}” nay thuộc {new} (sáp nhập từ 01/07/2025)."),
                                       old=old_ward.old.rsplit(", ", 1)[0][:60],
                                       new=f"{ward.full_name}, {unit.full_name}"))
                        else:  # (a place named after the district, its hospital: the name kept whole)
                            found["detail"] = _without_district(raw, far[1])
                    else:
                        turn.pending = entry
                        if msg.choice is None and slot.field.ask_detail and (house := addr.house_part(raw) or (
                                addr.spell_place_of_care(raw) if addr.names_place_of_care(raw) else None)):
                            # “so 12 duong …”, “benh vien tu du”: the detail typed first, kept for its question
                            entry.value = dict(value, detail=house)  # kept for the detail's question
                            turn.reject(Invalid(N_("Đã ghi “{house}”. Vui lòng nhập tỉnh/thành phố trước, ví dụ: Nghệ "
                                                   "An; sau đó là xã, phường."), house=house))
                            return True
                        if msg.choice is None and turn.elsewhere(slot, raw):
                            return True  # another request, not an address (offered; the entry resumes after)
                        turn.reject(_not_a_place(raw) or _a_date(raw, turn.today) or Invalid(N_(
                            "Không tìm thấy tỉnh/thành “{text}” trong danh sách 34 tỉnh, thành phố hiện nay. "
                            "Vui lòng nhập lại, ví dụ: Hà Nội, Lâm Đồng, Thái Nguyên."), text=raw[:40]))
                        return True
                note = addr.legacy_note(raw, translate=t)
                if note:
                    turn.out.replies.append(Message(note))
                    entry.typed_province = raw[:60]
            value.update({k: v for k, v in found.items() if v})
            stage = "commune" if not value.get("commune_code") else "detail"
            entry.options = [] if stage == "commune" else None
            district = legacy_address.district_in(raw, value["province_code"]) if stage == "commune" else None
            unit = addr.province(value["province_code"])
            old_ward = None
            if stage == "commune" and unit is not None and msg.choice is None:
                old_ward = legacy_address.commune_before(district.left_out_of(value.get("detail") or raw), district,
                                                         unit) if district is not None else \
                    legacy_address.commune_named(value.get("detail"), unit) if anywhere is None else None
                if old_ward is None and district is None and anywhere is None:
                    # “thôn 4 xã Quảng Xương, Thanh Hóa”: an old huyện typed as a xã; its communes of today offered
                    district = legacy_address.district_called_commune(value.get("detail"), unit)
            if old_ward is not None:
                # “phường 2, tp vũng tàu”, “thôn 2 xã Ea Tiêu, Đắk Lắk”: the old ward is one of today's, said
                ward = old_ward.communes[0]
                value |= {"commune_code": ward.code, "commune": ward.full_name, "detail": old_ward.detail}
                turn.say(t(N_("“{old}” nay thuộc {new} (sáp nhập từ 01/07/2025)."),
                           old=old_ward.old.rsplit(", ", 1)[0][:60],
                           new=f"{ward.full_name}, {old_ward.province.full_name}"))
                stage, entry.options = "detail", None
            elif stage == "commune" and once:  # “xã Quảng Phú, Thanh Hóa”: two old communes so named
                entry.options = _once_options(t, once)
                turn.say(t(_ONCE_NAMED))
            elif stage == "commune" and (district := district or anywhere):
                entry.options = _options(district)  # “…, huyện Can Lộc, Hà Tĩnh”: its communes of today
                if detail := _without_district(value.get("detail"), district):
                    value["detail"] = detail
                else:
                    value.pop("detail", None)
                turn.say(_district_text(t, raw, district))
        elif stage == "commune":
            code = _picked(raw, entry.options)
            if code is None and msg.choice is None and parsing.says_unknown(raw):  # the new name not known yet
                return _again(turn, entry, t(_NEW_COMMUNE_UNKNOWN))
            if code is not None:
                c = addr.commune(code)
                assert c is not None, code  # an option offered from the commune table
            else:
                cands = addr.match_commune(raw, value["province_code"])
                exact = len(cands) == 1 and fold(cands[0].name) in fold(raw)
                if exact and (once := _another_kind_once(raw, cands[0], value["province_code"])):
                    entry.options = _once_options(t, once)
                    return _again(turn, entry, t(_ONCE_NAMED), error=True)
                district = legacy_address.old_district(raw, value["province_code"])
                if district is not None and district.named:  # “huyện Can Lộc”: not the xã of that name
                    return _district(turn, entry, raw, district)
                old = () if exact else _old_commune(raw, entry, value["province"])
                if not exact and not old and (said := _a_province(raw, value, t)) is not None:
                    return _again(turn, entry, said, error=True)
                if not exact and not old and district is not None:  # a district's name, no commune's
                    return _district(turn, entry, raw, district)
                if len(old) == 1:
                    cands = list(old)
                    turn.out.replies.append(Message(t(N_("“{old}” nay thuộc {new} (sáp nhập từ 01/07/2025)."),
                                                      old=raw[:40], new=old[0].full_name)))
                elif old:
                    cands = list(old)
                elif len(cands) == 1 and not exact:  # a guess (“lam”: Lâm Viên - Đà Lạt?): asked, not taken
                    entry.options = [{"code": cands[0].code, "name": cands[0].full_name}]
                    return _again(turn, entry, t(_COMMUNE_GUESSED))
                if len(cands) != 1:
                    if cands:
                        entry.options = [{"code": c.code, "name": c.full_name} for c in cands[:6]]
                        return _again(turn, entry, t(_COMMUNES_NEAR), error=True)
                    turn.pending = entry
                    if msg.choice is None and turn.elsewhere(slot, raw):
                        return True
                    turn.reject(_not_a_place(raw, value.get("province")) or _a_date(raw, turn.today) or Invalid(N_(
                        "Không tìm thấy xã/phường “{text}” thuộc {province}. Lưu ý: từ 01/07/2025 không còn cấp "
                        "huyện, nhiều xã đã sáp nhập và đổi tên. Vui lòng nhập lại tên xã/phường hiện nay."),
                        text=raw[:40], province=value.get("province")))
                    return True
                c = cands[0]
            value.update({"commune_code": c.code, "commune": c.full_name})
            entry.options = None
            stage = "detail"
        elif stage == "detail":
            if msg.choice is None and (parsing.says_unknown(raw) or parsing.is_no(raw)):
                value["detail"] = None  # “không có”, “không nhớ”: as “bỏ qua”, never filed as the house's address
            else:
                try:
                    if _long_number(raw) and not any(ch.isalpha() for ch in raw):
                        raise Invalid(N_("Đây là một dãy số (số điện thoại hoặc số giấy tờ?), không phải số nhà hay "
                                         "thôn. Vui lòng nhập số nhà, đường/thôn/ấp/tổ dân phố, hoặc gõ “bỏ qua” "
                                         "nếu không có."))
                    value["detail"] = parsing.parse_text(raw, min_len=1, max_len=200)
                except Invalid as exc:
                    turn.pending = entry
                    turn.reject(exc)
                    return True
            stage = "done"
        if stage == "detail" and (not slot.field.ask_detail or value.get("detail")):
            stage = "done"
        if stage == "done":
            value["detail"] = addr.tidy_detail(value.get("detail"))
            turn.pending = None
            if at_once:  # “thon 4 xa ky anh ha tinh”: the unit the dossier goes to, as read
                turn.say(t(N_("Đã ghi: {value}."), value=format_address(value)))
            turn.accept(slot, value)
            return True
        entry.stage, entry.value = stage, value
        turn.pending = entry
        turn.out.accepted = True  # partial progress is saved too
        turn.reset_errors()
        turn.ask(slot)
        return True


KIND = Address()
