"""Parsers for what citizens type into the chat.

Why one module of this size: one pure parser per kind of Vietnamese input (dates, numbers and money in
words, ID numbers, phones, yes/no, choices) sharing the same folding and token tables; the field kinds
(dialogs/kinds/) call them one each.

Every parser is a pure function (no I/O, no clock: callers pass ``today``)
that accepts real-world Vietnamese input — typed without diacritics, with
typos, teen-code and phone-keyboard punctuation — and returns a normalised
value.  On failure it raises :class:`Invalid` carrying a polite Vietnamese
message id (marked with ``N_`` for extraction) plus named ``params``; the
engine translates the message id and then calls ``.format(**params)``.

Nothing in this module logs, and :class:`Invalid` never repeats the raw user
input in its ``repr``, so no personal data leaks through error reporting.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache
from typing import Any

import lunar_vn

from dialogs import filecheck
from dialogs.i18n import N_, shown
from dialogs.safe_re import compile_safe
from dialogs.textnorm import fold, fold_words, nfc, similarity_folded, title_vi

__all__ = [
    "LEGACY_ID_PROVINCE_CODES",
    "SAME_AS_ABOVE",
    "Invalid",
    "check_attachment",
    "denies",
    "drop_label",
    "format_date",
    "format_int",
    "is_no",
    "is_yes",
    "match_choice",
    "match_multi_choice",
    "number_label",
    "parse_date",
    "parse_email",
    "parse_id_number",
    "parse_money",
    "parse_name",
    "parse_number",
    "parse_phone",
    "parse_text",
    "parse_yes_no",
    "says_only",
    "sniff_mime",
    "without_kinship",
    "without_polite",
]


# --------------------------------------------------------------------------
# Error type and formatting helpers
# --------------------------------------------------------------------------


class Invalid(Exception):
    """A user answer could not be accepted.

    ``message`` is the untranslated Vietnamese message id; ``params`` are the
    values for its ``{placeholders}``.  Use :meth:`render` to produce the
    final text.
    """

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message: str = message
        self.params: dict[str, Any] = params

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        """Translate (optionally) and fill in the placeholders; a :class:`Label` placeholder is translated too (a
        tuple of them: each, joined as “a”, “b” within the message's own quotes)."""
        template = translate(self.message) if translate else self.message
        if not self.params:
            return template
        return template.format(**{k: shown(v, translate) for k, v in self.params.items()})

    def __repr__(self) -> str:  # never include params: they may echo user data
        return f"Invalid({self.message!r})"


def format_date(d: date) -> str:
    """Format a date as ``dd/mm/yyyy`` (the Vietnamese convention)."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def format_int(n: int) -> str:
    """Format an integer with Vietnamese thousands separators: ``1.500.000``."""
    sign = "-" if n < 0 else ""
    return sign + f"{abs(n):,}".replace(",", ".")


def _format_decimal(x: float | int | Fraction) -> str:
    """Format a number Vietnamese-style (``.`` thousands, ``,`` decimals)."""
    if isinstance(x, Fraction):
        x = int(x) if x.denominator == 1 else float(x)
    if isinstance(x, int) or float(x).is_integer():
        return format_int(int(x))
    whole, _, frac = f"{x:.6f}".rstrip("0").partition(".")
    return format_int(int(whole)) + "," + frac


# --------------------------------------------------------------------------
# Free text and names
# --------------------------------------------------------------------------


_NUMBER_WORD = re.compile(r"(?i)(?:số|so)(?:\s+giấy|\s+giay)?\s*[:.]?\s*(?=\d)")
"""“số”, “so:” opening a document's number (the digit after it kept)."""


def document_number(text: str) -> str:
    """A document's number as its “Số:” line takes it: “số 45/2019”, “so: 12” without their “số”."""
    text = " ".join((text or "").split())
    number = _NUMBER_WORD.match(text)
    return text[number.end():] if number is not None else text


def parse_text(
    raw: str,
    *,
    min_len: int = 1,
    max_len: int = 500,
    pattern: str | None = None,
    pattern_message: str | None = None,
) -> str:
    """Accept free text: stripped, NFC, length-checked, optionally pattern-checked.

    ``pattern`` must match the whole (stripped) text.  ``pattern_message``
    should itself be wrapped in ``N_`` by the caller.
    """
    text = nfc(raw or "").strip()
    if not text:
        raise Invalid(N_("Vui lòng nhập nội dung trả lời."))
    if len(text) < min_len:
        raise Invalid(N_("Nội dung quá ngắn. Vui lòng nhập ít nhất {min} ký tự."), min=min_len)
    if len(text) > max_len:
        raise Invalid(
            N_("Nội dung quá dài ({length} ký tự). Vui lòng nhập tối đa {max} ký tự."),
            length=len(text),
            max=max_len,
        )
    if pattern is not None and compile_safe(pattern).fullmatch(text) is None:
        raise Invalid(pattern_message or N_("Nội dung chưa đúng định dạng. Vui lòng kiểm tra lại."))
    return text


_ACKNOWLEDGEMENTS = frozenset({"ok", "oke", "okay", "okie", "vâng", "dạ", "ừ", "ừm", "uh", "xong", "rồi", "xong rồi",
                               "được", "đc", "có", "không", "ko", "k", "yes", "no", "vâng ạ", "dạ vâng", "ok ạ",
                               "rồi ạ", "xong ạ", "đúng", "đúng rồi"})
_ACKNOWLEDGEMENTS_FOLDED = frozenset(fold(a) for a in _ACKNOWLEDGEMENTS)


def is_acknowledgement(raw: str) -> bool:
    """Only a word that agrees or says done (“ok”, “vâng”, “xong”, “không”): no description, whatever the
    question. Typed without diacritics too, but “Đá” is not “dạ”."""
    said = _as_typed(raw)
    return said in _ACKNOWLEDGEMENTS or (said.isascii() and fold(said) in _ACKNOWLEDGEMENTS_FOLDED)


_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "‐": "-", "–": "-"})


_I_WORDS = ("toi", "em", "minh", "tui")  # “I”, folded, as people say it of themselves
_KIN_WORDS = ("ong", "ba", "bo", "me", "cha", "chong", "vo", "con", "chau", "anh", "chi", "em", "co", "chu", "di")
_NAME_INTROS = (
    ("ho", "va", "ten"), ("ho", "ten"), ("ten", "toi", "la"), ("ten", "la"), ("ten",),
    *((kin, mine, *rest) for kin in _KIN_WORDS for mine in _I_WORDS
      for rest in (("ten", "la"), ("ten",))),  # “ông tôi tên là …”
    *(("ten", kin, mine, *rest) for kin in _KIN_WORDS for mine in _I_WORDS
      for rest in (("la",), ())),  # “tên bố tôi là …”
    *((kin, *rest) for kin in _KIN_WORDS for rest in (("ten", "la"), ("ten",))),  # “mẹ tên là …”
    *((who, *rest) for who in (*_I_WORDS, "con", "chau")
      for rest in (("ten", "la"), ("ten",), ("la",))),
    ("my", "name", "is"), ("name", "is"), ("name",), ("i", "am"), ("i'm",), ("im",),  # (the bot in English)
)
"""How a name is introduced (“tôi tên là …”, “ông tôi tên là …”, “tên bố tôi là …”, “họ tên: …”), folded: dropped
before the name (the longest that opens it)."""
_ROLES = frozenset({"tinh nguyen vien", "nguoi quen", "hang xom", "nguoi nha", "nguoi than", "can bo", "can bo thon",
                    "truong thon", "nguoi khai giup", "nguoi khai ho", "con trai", "con gai", "volunteer",
                    "a volunteer", "neighbour", "a neighbour", "neighbor", "a neighbor", "relative", "a relative",
                    "friend", "a friend"})
"""Who someone is, typed where their name is asked (“tôi là tình nguyện viên”). (Not a word such as “Anh” or
“Bà”: a name of one word may be kept, engine/names.py.)"""


_KIN = frozenset({*_KIN_WORDS, "ma", "u", "bam", "cu", "bac", "cau", "mo", "thim", "duong", "tia"})
_KIN_MINE = frozenset({*_I_WORDS, "cua", "noi", "ngoai", "ruot", "de"})  # whose: “bố tôi”, “ông nội”
_KIN_OF = _KIN_MINE | {"trai", "gai", "ca", "ut"}
_KIN_EN = frozenset({"mother", "father", "mom", "mum", "dad", "grandmother", "grandfather", "grandma", "grandpa",
                     "husband", "wife", "son", "daughter", "brother", "sister", "uncle", "aunt"})


def _kinship_words(words: list[str]) -> bool:
    """Whether folded words say whose relative, not a name: “bố tôi”, “ông nội”, “mẹ của em” (a kin word, then
    words such as “tôi”, “nội” only; one of these at least, so that “Chu Anh”, a name, is one); “my mother” in
    the bot in English."""
    if len(words) == 2 and words[0] == "my" and words[1] in _KIN_EN:
        return True
    return len(words) >= 2 and words[0] in _KIN and all(w in _KIN or w in _KIN_OF for w in words[1:]) \
        and any(w in _KIN_MINE for w in words[1:])


def without_kinship(text: str) -> str | None:
    """A name with whose relative it is said after it (“Nguyễn Văn An bố tôi”: “Nguyễn Văn An”); None when the
    whole text only says whose relative (“bố tôi”, “tài khoản của mẹ tôi”); the text as it is otherwise."""
    words = text.split()
    folded = [fold(w).strip(",.") for w in words]
    if _kinship_words(folded):
        return None
    if any(folded[i - 1] in ("cua", "ten") and _kinship_words(folded[i:]) for i in range(1, len(words))):
        return None  # “tài khoản của mẹ tôi”, “đứng tên bố tôi”: whose, with no name
    for i in range(2, len(words) - 1):
        if _kinship_words(folded[i:]):
            said = words[i - 1].lower()  # “Trần Thị Hoa là mẹ tôi”: the word joining them is no part of the name
            joined = said in ("là", "của") or (folded[i - 1] in ("la", "cua") and i >= 4)
            return " ".join(words[:i - 1 if joined else i]).rstrip(",")
    return text


def strip_name_intro(text: str) -> str:
    """A name without the words that introduce it: “Tôi tên là Nguyễn Văn An” → “Nguyễn Văn An”,
    “họ tên: Lê Thị Hoa” → “Lê Thị Hoa”; as it is when it has none, or nothing follows them."""
    words = text.replace(":", " : ").split()
    changed = False
    while True:  # (again: a name that parses must parse to itself)
        folded = [fold(w) for w in words]
        intro = max((i for i in _NAME_INTROS if tuple(folded[:len(i)]) == i), key=len, default=None)
        if intro is None:
            break
        rest = words[len(intro):]
        while rest and rest[0] in (":", "-"):
            rest = rest[1:]
        if not rest:
            break
        words, changed = rest, True
    return " ".join(words) if changed else text


def parse_name(raw: str, *, upper: bool = False) -> str:
    """Accept a person's full name.

    Letters (any script, including Vietnamese), spaces, hyphens and
    apostrophes are allowed (ethnic-minority names such as "H'Hen Niê" or
    "Y-Moan").  Returns title case ("Nguyễn Văn An") or, with
    ``upper=True``, capitals as paper forms require ("NGUYỄN VĂN AN").
    """
    text = " ".join(nfc(raw or "").translate(_APOSTROPHES).split()).strip(" .,;")
    text = strip_name_intro(text)
    text = re.sub(r"\s*([-'])\s*", r"\1", text)
    if not text:
        raise Invalid(N_("Vui lòng nhập họ và tên."))
    said = text.lower()
    if (is_no(text) or is_yes(text)) and (fold(said) == said or said.startswith(("không", "chưa", "có", "vâng", "dạ"))):
        # a bare “không”, “co” by habit: no name (not “Khổng”, a surname)
        raise Invalid(N_("Câu này hỏi họ và tên. Vui lòng gõ họ và tên, ví dụ Nguyễn Văn An; nếu chưa rõ, gõ “menu” "
                         "để tạm dừng, những gì đã khai được giữ lại."))
    if fold(text) in _ROLES:
        raise Invalid(N_("Câu này hỏi họ và tên, không hỏi vai trò (“{role}”). Vui lòng gõ họ và tên, ví dụ Nguyễn Văn "
                         "An."), role=text[:40])
    words = fold(text).split()
    if not words:  # only marks that fold to nothing (a soft hyphen)
        raise Invalid(N_("Vui lòng nhập họ và tên."))
    lead, *rest = words
    as_typed = said.split()[0]  # (“Nhữ”, “Cung”, surnames, fold to “nhu”, “cung”: those two only with their accents)
    if (lead == "giong" or as_typed in ("như", "cùng")) and 1 <= len(rest) <= 3 and (
            rest[0] in _KIN or rest in (["tren"], ["o", "tren"], ["ben", "tren"])):  # “giống cháu”: whose, not a name
        raise Invalid(N_("“{answer}” không phải họ tên. Câu này hỏi họ và tên của người này (như trên giấy tờ), ví dụ "
                         "Nguyễn Văn An."), answer=text[:40])
    named = without_kinship(text)
    if named is None:
        raise Invalid(N_("Câu này hỏi họ và tên (như trên giấy tờ), không hỏi quan hệ (“{role}”). Vui lòng gõ họ và "
                         "tên, ví dụ Nguyễn Văn An."), role=text[:40])
    text = named
    typed = re.sub(r"[\s.\-]", "", text)
    if looks_like_cccd(typed):  # another question's answer, typed early or late: named, not “chứa chữ số”
        raise Invalid(N_("Số 12 chữ số này giống số căn cước (CCCD). Câu này hỏi họ và tên: vui lòng gõ họ và tên, ví "
                         "dụ Nguyễn Văn An."))
    if _MOBILE.fullmatch(typed):
        raise Invalid(N_("Số này giống số điện thoại. Câu này hỏi họ và tên: vui lòng gõ họ và tên, ví dụ Nguyễn Văn "
                         "An."))
    if re.fullmatch(r"\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}", text):
        raise Invalid(N_("Đây là một ngày. Câu này hỏi họ và tên: vui lòng gõ họ và tên, ví dụ Nguyễn Văn An."))
    if any(ch.isdigit() for ch in text):
        raise Invalid(N_("Họ và tên không được chứa chữ số. Vui lòng nhập lại, ví dụ Nguyễn Văn An."))
    for ch in text:
        if not (ch.isalpha() or ch in " -'" or _is_mark(ch)):
            raise Invalid(
                N_(
                    "Họ và tên chỉ gồm chữ cái, dấu cách, dấu gạch ngang (-) hoặc dấu nháy ('). "
                    "Vui lòng nhập lại, ví dụ Nguyễn Văn An."
                )
            )
    if not any(ch.isalpha() for ch in text) or len(text) < 2:
        raise Invalid(N_("Họ và tên quá ngắn. Vui lòng nhập đầy đủ họ và tên, ví dụ Nguyễn Văn An."))
    if len(text) > 100:
        raise Invalid(N_("Họ và tên quá dài. Vui lòng nhập tối đa {max} ký tự."), max=100)
    if upper:
        return nfc(text.upper())
    # title case until it is stable: some letters change length when cased ("ß" -> "SS" -> "Ss"),
    # and a stored name must parse to itself
    for _i in range(3):
        titled = title_vi(text)
        if titled == text:
            break
        text = titled
    return text


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

DATE_EXAMPLE = "05/03/1960"  # the example of a date's format, unless a field gives its own (an adult's birth)
_MOBILE = re.compile(r"0[35789]\d{8}")  # a Vietnamese mobile number, as stored (parse_phone)
# a time named without its day (folded): “tháng trước”, “đầu tháng 11”, “cuối năm ngoái”, “tuần trước”
_VAGUE_DATE_RE = re.compile(r"(?:(?:dau|giua|cuoi|khoang|tam|chung|hoi|vao)\s+)*"
                            r"(?:(?:\d{1,2}|mot|hai|ba|vai)\s+tuan\s+(?:truoc|roi|nay)"  # “2 tuần trước”: about
                            r"|(?:thang|tuan|nam)\s+(?:truoc|nay|roi|ngoai|vua roi|vua qua|\d{1,2})"
                            r"(?:\s+(?:roi|vua roi|vua qua|nay))?)")
_APPROX_DATE_RE = re.compile(r"(?:khoang|tam|chung|hinh nhu|chac la)\s+(?:ngay\s+)?(\d{1,2}\s*[/.-]\s*\d{1,2}"
                             r"(?:\s*[/.-]\s*\d{2,4})?)")  # “khoảng 20/11”: the date said, but as a guess
_DATE_FORMAT_MSG = N_("Ngày chưa đúng. Vui lòng nhập theo dạng ngày/tháng/năm, ví dụ {example}.")
_YEAR_DIGITS_MSG = N_("Năm chưa đúng. Vui lòng nhập năm đủ 4 chữ số, ví dụ {example}.")

_RELATIVE_DAYS: dict[str, int] = {
    "hom nay": 0,
    "hnay": 0,
    "bua nay": 0,
    "ngay hom nay": 0,
    "hom qua": 1,
    "hqua": 1,
    "bua qua": 1,
    "ngay hom qua": 1,
    "hom kia": 2,
    "hkia": 2,
    "bua kia": 2,
    "ngay hom kia": 2,
    "today": 0, "yesterday": 1, "the day before yesterday": 2,  # (the bot in English)
    # ahead (a burial planned, say): a question that takes only past dates refuses them as it does any such date
    "ngay mai": -1, "mai": -1, "hom sau": -1, "ngay kia": -2, "ngay mot": -2,
    "tomorrow": -1, "the day after tomorrow": -2,
}
# “sáng nay”, “tối qua”, “chiều hôm kia”: a part of the day before the day. Not “đêm qua”: last night may have
# been after midnight, today; such a date is asked as a date
_DAY_PART_RE = re.compile(r"(?:vao\s+)?(?:sang|trua|chieu|toi)\s+(nay|qua|mai|hom nay|hom qua|hom kia|ngay mai)")
_DAY_PART_DAYS = {"nay": 0, "hom nay": 0, "qua": 1, "hom qua": 1, "hom kia": 2, "mai": -1, "ngay mai": -1}
# “thứ bảy tuần trước”, “chủ nhật vừa rồi”: a day of the week, before this one (a birth, a death of days ago)
# (“t7 tuần trước”: thứ 7 as typed on a phone; bare, “thứ 7”, the latest before today, where the day is past)
_WEEKDAY_RE = re.compile(r"(?:(?:vao|hom|ngay)\s+)?(?:(?:thu\s*|t)(?P<n>[2-7]|hai|ba|tu|nam|sau|bay)"
                         r"|(?P<sun>chu nhat|cn))(?:\s+(?P<when>tuan truoc|tuan roi|vua roi|vua qua))?")
# “ngày 3 tháng này”: a day of this month
_THIS_MONTH_RE = re.compile(r"(?:ngay\s+)?(\d{1,2})\s+thang\s+nay")
# “đêm qua”: before or after midnight, one day or the next (never guessed)
_NIGHT_RE = re.compile(r"(?:vao\s+)?(?:dem|khuya|nua dem|ban dem)\s+(?:qua|hom qua|hom kia)")
_WEEKDAY_NUMBERS = {"hai": 2, "ba": 3, "tu": 4, "nam": 5, "sau": 6, "bay": 7}


def _weekday_back(m: re.Match[str], today: date) -> int:
    """Days back to the weekday ``m`` names: of the week before this one (“tuần trước”, weeks from Monday), or
    the latest before today (“vừa rồi”)."""
    n = 8 if m["sun"] else int(m["n"]) if m["n"].isdigit() else _WEEKDAY_NUMBERS[m["n"]]
    weekday = n - 2  # thứ 2 (Monday) is 0, chủ nhật 6
    if m["when"] and m["when"].startswith("tuan"):
        return today.weekday() + 7 - weekday
    return (today.weekday() - weekday - 1) % 7 + 1


# a date of the lunar calendar: the forms take the solar one (as the death notice and the calendar show it)
_LUNAR_RE = re.compile(r"\b(?:am lich|al|ngay am|lich am)\b")
_LUNAR_WORDS_RE = re.compile(r"\b(?:(?:mung|mong|ngay)\s+)?(?P<day>\d{1,2})\s+tet\b"
                             r"|\bram\s+thang\s+(?P<month>\d{1,2})\b")
_LEAP_RE = re.compile(r"\b(?:thang\s+)?nhuan\b")

# the words that say which date it is, before it (“sinh ngày …”, “mất hôm qua”, “cấp ngày …”), and polite words
# after it (“… ạ”, “… nhé”): the date alone is read
_DATE_INTRO_RE = re.compile(r"^(?:(?:chau|be|em be|con|ong|ba|bo|me|cha|cu|chong|vo)(?:\s+(?:toi|em|minh|noi|ngoai))?"
                            r"\s+(?=(?:ngay\s+)?(?:sinh|mat|chet|qua doi|tu vong)\b))?"  # “bà mất hôm qua”
                            r"(?:(?:(?:da|vua|moi)\s+)?(?:ngay\s+)?(?:sinh|de|mat tich|mat|chet|qua doi|tu vong"
                            r"|duoc cap|cap|mai tang|an tang|hoa tang|chon cat|chon)(?:\s+(?:tu|vao))?(?:\s+ngay)?"
                            r"\s+(?=\S))")
# the same words after it (“hôm qua chôn rồi”, “5/12 mất”)
_DATE_OUTRO_RE = re.compile(r"(?<=\S)\s+(?:(?:da|vua|moi|thi|la)\s+)?(?:sinh|de|mat|chet|qua doi|tu vong|cap|mai tang"
                            r"|an tang|hoa tang|chon cat|chon)(?:\s+(?:roi|xong|a))?$")
# the words that say when around a day's numbers (“đêm hôm 28/10”, “28/10 vừa rồi”), folded; never “khoảng”: a
# paper's date is exact
_DATE_WHEN_RE = re.compile(r"^(?:(?:vao|hoi|hom|bua|dem|toi|sang|chieu|trua|luc)\s+)+(?=\d)")
# (after a day written with its month: “thứ 7 vừa qua” is a weekday's)
_DATE_PAST_TAIL_RE = re.compile(r"(?:(?<=[/.\-]\d)|(?<=[/.\-]\d\d)|(?<=[/.\-]\d{4}))"
                                r"\s+(?:vua roi|vua qua|nam nay|roi)$")
_AGE_RE = re.compile(r"(?:(?:nam nay|nay|da|duoc|khoang|tam|tho|huong tho)\s+)*\d{1,3}\s*(?:tuoi|t)(?:\s+roi)?")
_DAYS_AGO_RE = re.compile(r"(?:cach day\s+)?(\d{1,3})\s*(?:ngay|hom|bua|days?)(?:\s+(?:truoc|roi|qua|ago))?")
_DAYS_AHEAD_RE = re.compile(r"(?:khoang\s+)?(\d{1,2})\s*(?:ngay|hom|bua)\s+(?:nua|toi|sau)")

# Words that may surround the numbers of a date ("ngày 12 tháng 3 năm 2024",
# "mùng 5 thg 3", "12 th3"); they are simply dropped.
_DATE_FILLER = frozenset({"ngay", "mung", "mong", "thang", "thg", "th", "t", "nam", "n", "vao", "la"})
# Months written as words after "tháng" ("ngày 12 tháng ba năm 2024"); the lunar
# names "giêng" and "chạp" are deliberately not accepted.
_MONTH_WORDS: dict[str, int] = {
    "muoi mot": 11, "muoi hai": 12, "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5,
    "sau": 6, "bay": 7, "tam": 8, "chin": 9, "muoi": 10,
}  # fmt: skip
_MONTH_WORD_RE = re.compile(r"\b(thang|thg)\s+(" + "|".join(_MONTH_WORDS) + r")\b")


def _date_parts(text: str) -> list[str]:
    """The numbers (and any other words) of a folded, cleaned date, without the words around them: “ngay 12 thang 3
    nam 2024”, “12th3” → ["12", "3", "2024"], ["12", "3"]."""
    spaced = re.sub(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)", " ", text)
    return [p for p in re.split(r"[\s/.\-]+", spaced) if p and p not in _DATE_FILLER]


def _solar_of_lunar(text: str, today: date) -> tuple[str, date] | None:
    """(the lunar date as read, its solar date) of “mùng 5 tháng 3 [năm 2026]” (the words of the lunar calendar
    removed), in Vietnam's lunar calendar (UTC+7, ``lunar_vn``); without a year, the latest one not after today.
    A leap month is said with “nhuận” (“5/6 nhuận 2025”): only a year that has that leap month has the date.
    None when it is not a lunar date it can read."""
    leap = bool(_LEAP_RE.search(text))
    parts = _date_parts(_LEAP_RE.sub(" ", text))
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    day, month = int(parts[0]), int(parts[1])
    if not (1 <= day <= 30 and 1 <= month <= 12):
        return None
    years = [int(parts[2])] if len(parts) == 3 else [today.year, today.year - 1]
    for year in years:  # without one: this lunar year's, or last year's if that is still ahead
        if not 1900 <= year <= today.year:
            return None
        try:
            solar = lunar_vn.convert_lunar_to_solar(day, month, year, int(leap))
            back = lunar_vn.solar_to_lunar(solar)
        except ValueError:  # a year out of the library's range, or with no such leap month
            if leap and len(parts) == 2:  # (the last year that had it, when no year was said)
                continue
            return None
        if (back.day, back.month, back.leap) != (day, month, leap):  # day 30 of a month of 29 days: no such date
            if leap and len(parts) == 2 and back.leap != leap:
                continue
            return None
        if len(parts) == 3 or solar <= today:
            return (f"{day}/{month} nhuận/{year}" if leap else f"{day}/{month}/{year}"), solar
    return None


_ONLY_YEAR_WORDS = frozenset({"nam", "sinh", "chi", "biet", "co", "ghi", "khong", "ko", "k", "nho", "ngay", "thang",
                              "giay", "to", "tren", "thoi", "la", "vao", "ba", "ong", "cu", "me", "bo", "toi",
                              "minh", "em", "chau", "con", "cua", "chua", "ro",
                              "only", "the", "year", "born", "in", "just"})  # (in the bot in English)


def only_a_year(raw: str) -> int | None:
    """The year, if an answer at a date gives only that (“1941”, “năm 1941”, “không nhớ ngày, chỉ biết năm 1941”,
    “bà sinh năm 1941 ạ”); None if it gives a day or month too, or no year."""
    text = re.sub(r"[^\w\s]", " ", without_polite(fold(raw or "")))
    words = text.split()
    years = [w for w in words if w.isdigit()]
    if len(years) != 1 or len(years[0]) != 4 or any(w not in _ONLY_YEAR_WORDS for w in words if w != years[0]):
        return None
    return int(years[0])


def parse_date(
    raw: str,
    *,
    today: date,
    not_before: date | None = None,
    not_after: date | None = None,
    prefer_past: bool = True,
    example: str = DATE_EXAMPLE,
    year_needed: bool = False,
) -> date:
    """:func:`_parse_date`; an answer it cannot read whose clauses say days (“hôm qua mới tìm thấy xác, chôn hôm
    nay”) is asked again naming them: the two days said, or the one, to be typed alone if it is the one asked."""
    def read(text: str) -> date:
        return _parse_date(text, today=today, not_before=not_before, not_after=not_after, prefer_past=prefer_past,
                           example=example, year_needed=year_needed)

    try:
        return read(raw)
    except Invalid:
        clauses = [c.strip() for c in re.split(r"[,;]", raw or "") if c.strip()]
        if len(clauses) < 2:
            raise
        said: dict[date, str] = {}
        for clause in clauses:
            try:
                said.setdefault(read(clause), clause)
            except Invalid:
                continue
        days = [d.strftime("%d/%m/%Y") for d in said]
        if len(days) > 1:
            raise Invalid(N_("Bạn gõ hai ngày ({first} và {second}), nhưng câu này chỉ hỏi một ngày. Vui lòng gõ lại "
                             "đúng ngày được hỏi."), first=days[0], second=days[1]) from None
        if len(days) == 1:
            raise Invalid(N_("Câu này hỏi một ngày. Nếu là ngày {date} (“{said}”), vui lòng gõ “{date}”."),
                          date=days[0], said=next(iter(said.values()))[:40]) from None
        raise


def _parse_date(
    raw: str,
    *,
    today: date,
    not_before: date | None = None,
    not_after: date | None = None,
    prefer_past: bool = True,
    example: str = DATE_EXAMPLE,
    year_needed: bool = False,
) -> date:
    """Accept a day/month/year date in the many ways people write it.

    Accepted: ``12/3/2024``, ``12-03-2024``, ``12.03.2024``, ``12/03/24``
    (two-digit year → the most recent century not after ``today``),
    ``12 3 2024``, ``12032024``, ``ngày 12 tháng 3 năm 2024`` (with or without
    diacritics), ``12 thg 3 2024``, ``12 thg 3`` / ``12/3`` (this year, or last
    year if that would be in the future), ``hôm nay``/``hôm qua``/``hôm kia``,
    months as words (``12 tháng ba 2024``, ``tháng mười hai``) and ISO
    ``2024-03-12``, ``3 ngày trước`` / ``cách đây 2 hôm``. Without a year, the date is this year's, or last
    year's if that would be in the future; with ``prefer_past=False`` (a date that may lie ahead), the one
    nearest to today within the bounds. With ``year_needed`` (a birth date: “ngày 1 tháng 12” is no adult's
    birth this year), a day and month without a year are asked again with the year.
    """
    text = fold(raw or "")
    text = re.sub(r"[^\w/.\-\s]", " ", text).strip(" .")
    text = _DATE_INTRO_RE.sub("", without_polite(text)).strip(" .") or text  # “sinh ngày 5/3/1945 ạ”
    text = _DATE_OUTRO_RE.sub("", text) or text  # “hôm qua chôn rồi”
    text = _DATE_WHEN_RE.sub("", _DATE_PAST_TAIL_RE.sub("", text)) or text  # “đêm hôm 28/10 vừa rồi”
    if not text:
        raise Invalid(_DATE_FORMAT_MSG, example=example)
    text = _MONTH_WORD_RE.sub(lambda m: f"{m.group(1)} {_MONTH_WORDS[m.group(2)]}", text)
    part = _DAY_PART_RE.fullmatch(text)
    days = _DAY_PART_DAYS[part.group(1)] if part else _RELATIVE_DAYS.get(text.removesuffix(" roi"))  # (“hôm qua rồi”)
    if days is None and (weekday := _WEEKDAY_RE.fullmatch(text)):
        if not weekday["when"] and not prefer_past:  # (“thứ 7” of a burial: this week's, or the last?)
            raise Invalid(N_("“{answer}” là thứ 7 tuần này hay tuần trước? Vui lòng gõ ngày/tháng/năm, ví dụ "
                             "{example}.") if weekday["n"] in ("7", "bay") else
                          N_("“{answer}” là ngày nào? Vui lòng gõ ngày/tháng/năm, ví dụ {example}."),
                          answer=(raw or "").strip()[:30], example=example)
        days = _weekday_back(weekday, today)
    if days is None and (night := _NIGHT_RE.fullmatch(text)):
        back = 2 if night.group().endswith("kia") else 1
        raise Invalid(N_("“{answer}” có thể là ngày {before} hoặc ngày {after} (sau 12 giờ đêm). Vui lòng gõ đúng "
                         "ngày, ví dụ {before}."), answer=(raw or "").strip()[:30],
                      before=(today - timedelta(days=back)).strftime("%d/%m/%Y"),
                      after=(today - timedelta(days=back - 1)).strftime("%d/%m/%Y"))
    if days is None and (this_month := _THIS_MONTH_RE.fullmatch(text)):
        return _check_date_bounds(_make_date(int(this_month.group(1)), today.month, today.year), today=today,
                                  not_before=not_before, not_after=not_after)
    if days is not None:
        return _check_date_bounds(today - timedelta(days=days), today=today, not_before=not_before,
                                  not_after=not_after)
    lunar_words = _LUNAR_WORDS_RE.sub(lambda m: f"{m['day']} thang 1" if m["day"] else f"15 thang {m['month']}",
                                      text)  # “mùng 1 Tết”, “rằm tháng 7”: said only of the lunar calendar
    if lunar_words != text or _LUNAR_RE.search(text):
        solar = _solar_of_lunar(_LUNAR_RE.sub(" ", lunar_words), today)
        if solar is not None:  # said in the solar calendar, to be typed back: nothing is stored on a conversion
            raise Invalid(N_("Giấy tờ ghi ngày dương lịch. Ngày {lunar} âm lịch là ngày {solar} dương lịch: nếu đúng, "
                             "vui lòng gõ {solar}."), lunar=solar[0], solar=solar[1].strftime("%d/%m/%Y"))
        raise Invalid(N_("Giấy tờ ghi ngày dương lịch. Vui lòng nhập ngày dương lịch (như trên giấy báo tử, giấy "
                         "khai sinh hoặc lịch treo tường), ví dụ {example}."), example=example)
    if _AGE_RE.fullmatch(text):  # “85 tuổi”: an age, where the papers' date is asked
        raise Invalid(N_("Bạn vừa nhập tuổi. Vui lòng nhập ngày/tháng/năm như trên giấy tờ (căn cước, giấy khai "
                         "sinh), ví dụ {example}."), example=example)
    ago = _DAYS_AGO_RE.fullmatch(text)
    if ago:  # "3 ngày trước", "cách đây 2 hôm", "5 ngay truoc"
        n = int(ago.group(1))
        if n > 366:
            raise Invalid(_DATE_FORMAT_MSG, example=example)
        return _check_date_bounds(today - timedelta(days=n), today=today, not_before=not_before, not_after=not_after)
    ahead = _DAYS_AHEAD_RE.fullmatch(text)
    if ahead:  # "3 ngày nữa", "2 hôm tới"
        return _check_date_bounds(today + timedelta(days=int(ahead.group(1))), today=today, not_before=not_before,
                                  not_after=not_after)

    if _VAGUE_DATE_RE.fullmatch(text):  # “tháng trước”, “đầu tháng 11”, “tuần trước”: no day said
        raise Invalid(N_("“{answer}” chưa nói rõ ngày nào. Vui lòng gõ đủ ngày/tháng/năm, ví dụ {example}."),
                      answer=(raw or "").strip()[:30], example=example)
    if guess := _APPROX_DATE_RE.fullmatch(text):  # never filed as if known: typed again when it is the day
        raise Invalid(N_("Câu này cần ngày chính xác. Nếu đúng là ngày {date}, vui lòng gõ lại “{date}”; nếu chưa "
                         "chắc, xem lại giấy tờ hoặc hỏi người thân."), date=" ".join(guess.group(1).split()))
    if not text.isascii():
        raise Invalid(_DATE_FORMAT_MSG, example=example)
    iso = re.fullmatch(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})", text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
        result = _make_date(day, month, year)
        return _check_date_bounds(result, today=today, not_before=not_before, not_after=not_after)

    parts = _date_parts(text)
    if len(parts) == 1 and len(parts[0]) == 8:  # 12032024
        parts = [parts[0][:2], parts[0][2:4], parts[0][4:]]
    if len(parts) == 1 and len(parts[0]) == 4 and parts[0].isdigit():  # "năm 1948": only the year
        raise Invalid(N_("Bạn mới nhập năm {year}. Vui lòng nhập đủ ngày/tháng/năm như trên giấy tờ, "
                         "ví dụ 05/03/{year}."), year=parts[0])
    if looks_like_cccd("".join(parts)):  # the ID number, typed a question early or late
        raise Invalid(N_("Số 12 chữ số này giống số căn cước (CCCD). Câu này hỏi ngày: vui lòng nhập ngày/tháng/năm, "
                         "ví dụ {example}."), example=example)
    if _MOBILE.fullmatch("".join(parts)):  # a mobile number, typed a question early or late
        raise Invalid(N_("Số này giống số điện thoại. Câu này hỏi ngày: vui lòng nhập ngày/tháng/năm, ví dụ "
                         "{example}."), example=example)
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise Invalid(_DATE_FORMAT_MSG, example=example)
    if len(parts) == 2 and len(parts[0]) <= 2 and 1 <= int(parts[0]) <= 12 and len(parts[1]) == 4:
        raise Invalid(N_("Bạn mới nhập tháng {month}/{year}. Vui lòng nhập đủ ngày/tháng/năm như trên giấy tờ, "
                         "ví dụ 05/{month}/{year}."), month=f"{int(parts[0]):02d}", year=parts[1])
    if len(parts[0]) > 2 or len(parts[1]) > 2:
        raise Invalid(_DATE_FORMAT_MSG, example=example)
    day, month = int(parts[0]), int(parts[1])
    _check_day_month(day, month)

    if len(parts) == 2 and year_needed:
        raise Invalid(N_("Bạn chưa nhập năm. Vui lòng nhập đủ ngày/tháng/năm như trên giấy tờ, ví dụ {date}/1960."),
                      date=f"{day:02d}/{month:02d}")
    if len(parts) == 2:
        year = today.year
        if (month, day) > (today.month, today.day):
            year -= 1
        if prefer_past:
            return _check_date_bounds(_make_date(day, month, year), today=today, not_before=not_before,
                                      not_after=not_after)
        # a date that may lie ahead (a funeral planned next week): the one nearest to today, "15/12" typed on
        # 3/12 is this December, not last year's
        options = []
        for y in (today.year - 1, today.year, today.year + 1):
            try:
                d = date(y, month, day)
            except ValueError:
                continue
            if (not_before is None or d >= not_before) and (not_after is None or d <= not_after):
                options.append(d)
        if options:
            return min(options, key=lambda d: (abs((d - today).days), d > today))
    else:
        ytext = parts[2]
        if len(ytext) == 2:
            yy = int(ytext)
            century = (today.year // 100) * 100
            year = century + yy
            if (year, month, day) > (today.year, today.month, today.day):
                year -= 100
        elif len(ytext) == 4:
            year = int(ytext)
        else:
            raise Invalid(_YEAR_DIGITS_MSG, example=example)
    result = _make_date(day, month, year)
    return _check_date_bounds(result, today=today, not_before=not_before, not_after=not_after)


def _check_day_month(day: int, month: int) -> None:
    if not 1 <= month <= 12:
        raise Invalid(N_("Tháng {month} không có thật. Tháng phải từ 1 đến 12."), month=month)
    if not 1 <= day <= 31:
        raise Invalid(N_("Ngày {day} không có thật. Ngày phải từ 1 đến 31."), day=day)


def _make_date(day: int, month: int, year: int) -> date:
    if not 1800 <= year <= 2300:
        raise Invalid(N_("Năm {year} chưa đúng. Vui lòng kiểm tra lại năm."), year=year)
    _check_day_month(day, month)
    try:
        return date(year, month, day)
    except ValueError:
        raise Invalid(
            N_("Ngày {date} không có thật (tháng {month} không có ngày {day}). Vui lòng kiểm tra lại."),
            date=f"{day:02d}/{month:02d}/{year:04d}",
            month=month,
            day=day,
        ) from None


def _check_date_bounds(
    result: date, *, today: date, not_before: date | None, not_after: date | None
) -> date:
    if not_before is not None and result < not_before:
        raise Invalid(
            N_("Ngày này không thể trước ngày {min}. Vui lòng kiểm tra lại."), min=format_date(not_before)
        )
    if not_after is not None and result > not_after:
        if not_after == today:
            raise Invalid(N_("Ngày này không thể ở tương lai. Vui lòng kiểm tra lại."))
        raise Invalid(
            N_("Ngày này không thể sau ngày {max}. Vui lòng kiểm tra lại."), max=format_date(not_after)
        )
    return result


# --------------------------------------------------------------------------
# Personal identification number (CCCD / số định danh cá nhân)
# --------------------------------------------------------------------------

# Province codes used as the first three digits of the 12-digit personal
# identification number, per Thông tư 59/2021/TT-BCA (Phụ lục I), i.e. the
# *pre-2025* 63-province codes: the code records where the birth was
# registered and does not change with the 2025 reorganisation.
# UNVERIFIED list, spot-check against the circular before relying on it.
LEGACY_ID_PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}

_MALE = frozenset({"nam", "male", "m", "trai", "con trai"})
_FEMALE = frozenset({"nu", "female", "f", "gai", "con gai"})


def number_label(words: str) -> re.Pattern[str]:
    """A label typed before a number (“sđt: 0912…”, “CCCD là 068…”, “STK 0071…”): ``words`` are its forms,
    folded (:func:`drop_label` matches the folded answer)."""
    return re.compile(rf"^(?:{words})\s*(?:la\s*)?[:\-]?\s*(?=[+(\d])", re.IGNORECASE)


def drop_label(raw: str, label: re.Pattern[str]) -> str:
    """``raw`` without a ``label`` before its number; as it is when it has none."""
    folded = fold(raw)
    m = label.match(folded)
    return folded[m.end():] if m else raw


_ID_LABEL = number_label(r"(?:so\s*)?(?:cccd|cmnd|can\s*cuoc(?:\s*cong\s*dan)?|dinh\s*danh(?:\s*ca\s*nhan)?)|so")


_ID_IN_TEXT = re.compile(r"(?<![\d+])\d(?:[\s.\-]?\d){11}(?!\d)")  # twelve digits inside a sentence
_CMND_IN_TEXT = re.compile(r"(?<![\d+])\d(?:[\s.\-]?\d){8}(?![\d])")  # nine: an old identity card's


def looks_like_cccd(digits: str) -> bool:
    """Twelve digits that open with a province's code: an ID number (typed where something else is asked)."""
    return len(digits) == 12 and digits.isdigit() and digits[:3] in LEGACY_ID_PROVINCE_CODES


def parse_id_number(raw: str, *, birth_date: date | None = None, sex: str | None = None,
                    allow_cmnd: bool = False) -> str:
    """Accept a 12-digit personal identification number (số định danh cá nhân).

    Structure (Thông tư 59/2021/TT-BCA): ``PPP G YY RRRRRR`` — birth-registration
    province code, sex/century digit (1900s: male 0 / female 1, 2000s: 2/3,
    2100s: 4/5, 2200s: 6/7, 2300s: 8/9), last two digits of the birth year,
    random part.  Spaces, dots and dashes between digits are ignored.  When
    ``birth_date`` / ``sex`` ("nam"/"nu" or "male"/"female") are known they
    are cross-checked. With ``allow_cmnd`` an old 9-digit identity card number (CMND) is returned as is. A
    label typed before the number (“CCCD: 068…”, “số định danh là 068…”) is dropped.
    """
    text = re.sub(r"[\s.\-_]", "", drop_label(nfc(raw or ""), _ID_LABEL))
    if not text:
        raise Invalid(N_("Vui lòng nhập số định danh cá nhân 12 số in trên thẻ Căn cước (CCCD)."))
    if not text.isdigit() or not text.isascii():
        found = list(dict.fromkeys(re.sub(r"\D", "", m.group(0)) for m in _ID_IN_TEXT.finditer(nfc(raw or ""))))
        if len(found) == 1:  # “cccd của bà: 042 145 001 234”, “042145001234 (của bà)”: checked as typed alone
            return parse_id_number(found[0], birth_date=birth_date, sex=sex, allow_cmnd=allow_cmnd)
        if len(found) > 1:
            raise Invalid(N_("Bạn vừa nhập nhiều hơn một số. Vui lòng chỉ nhập số định danh cá nhân (12 số in trên "
                             "thẻ Căn cước) của người được hỏi."))
        old = list(dict.fromkeys(re.sub(r"\D", "", m.group(0)) for m in _CMND_IN_TEXT.finditer(nfc(raw or ""))))
        if len(old) == 1:  # “chỉ có CMND 241234567”: an old card's number, read as typed alone
            return parse_id_number(old[0], birth_date=birth_date, sex=sex, allow_cmnd=allow_cmnd)
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}", text):  # the birth date, typed a question early or late
            raise Invalid(N_("Đây là một ngày. Câu này hỏi số định danh cá nhân: vui lòng nhập 12 số in trên thẻ căn "
                             "cước (CCCD), ví dụ 001090012345."))
        raise Invalid(N_("Số định danh cá nhân chỉ gồm 12 chữ số. Vui lòng nhập lại, ví dụ 001090012345."))
    if _MOBILE.fullmatch(text):  # the phone number, typed a question early or late
        raise Invalid(N_("Bạn vừa nhập 10 chữ số (giống số điện thoại). Số định danh cá nhân có 12 chữ số in trên thẻ "
                         "căn cước (CCCD): vui lòng kiểm tra lại, ví dụ 001090012345."))
    if len(text) == 9 and allow_cmnd:
        return text
    if len(text) == 9:
        raise Invalid(
            N_("Số CMND 9 số không còn dùng được, vui lòng nhập số định danh cá nhân 12 số trên CCCD. Chưa có thẻ "
               "căn cước thì số định danh cá nhân có trên ứng dụng VNeID, hoặc hỏi Công an cấp xã.")
        )
    if len(text) == 11 and "0" + text[:2] in LEGACY_ID_PROVINCE_CODES:  # the leading 0 lost (a spreadsheet's copy)
        raise Invalid(N_("Bạn vừa nhập 11 chữ số; số định danh cá nhân có 12 chữ số và bắt đầu bằng số 0. Có thể "
                         "bạn thiếu số 0 ở đầu: vui lòng gõ lại đủ 12 số."))
    if len(text) != 12:
        raise Invalid(
            N_("Số định danh cá nhân phải có đúng 12 chữ số (bạn vừa nhập {count} chữ số). Vui lòng kiểm tra lại."),
            count=len(text),
        )
    province_code, g, yy = text[:3], int(text[3]), int(text[4:6])
    if province_code not in LEGACY_ID_PROVINCE_CODES:
        raise Invalid(
            N_("Ba số đầu {code} không phải mã tỉnh, thành phố. Vui lòng kiểm tra lại số định danh cá nhân."),
            code=province_code,
        )
    if birth_date is not None:
        century_index = birth_date.year // 100 - 19
        if g // 2 != century_index or yy != birth_date.year % 100:
            raise Invalid(
                N_("Số định danh cá nhân không khớp với năm sinh {year}. Vui lòng kiểm tra lại."),
                year=birth_date.year,
            )
    if sex is not None:
        key = fold(sex)
        expected: int | None = 0 if key in _MALE else 1 if key in _FEMALE else None
        if expected is not None and g % 2 != expected:
            raise Invalid(N_("Số định danh cá nhân không khớp với giới tính đã khai. Vui lòng kiểm tra lại."))
    return text


# --------------------------------------------------------------------------
# Phone and e-mail
# --------------------------------------------------------------------------

_PHONE_EXAMPLE = "0912 345 678"


_PHONE_LABEL = number_label(r"so\s*dien\s*thoai|so\s*dt|sdt|dt|dien\s*thoai|phone|tel|zalo|so")


_PHONE_IN_TEXT = re.compile(r"(?<![\d+])(?:\+?84|0)[\s.\-]?\d(?:[\s.\-]?\d){7,9}(?!\d)")


def _phones_in(raw: str) -> list[str]:
    """The distinct mobile numbers written inside a sentence."""
    found: list[str] = []
    for m in _PHONE_IN_TEXT.finditer(nfc(raw or "")):
        try:
            number = parse_phone(m.group(0))
        except Invalid:
            continue
        if number not in found:
            found.append(number)
    return found


def parse_phone(raw: str) -> str:
    """Accept a Vietnamese mobile number and normalise it to ``0xxxxxxxxx``.

    Accepts ``+84 912 345 678``, ``84912345678``, ``0084...``,
    ``0912.345.678``, ``0912-345-678``, ``(0912) 345 678``.
    """
    text = re.sub(r"[\s.\-()/]", "", drop_label(nfc(raw or ""), _PHONE_LABEL))
    if not text:
        raise Invalid(N_("Vui lòng nhập số điện thoại di động, ví dụ {example}."), example=_PHONE_EXAMPLE)
    if text.startswith("+"):
        text = text[1:]
        if not text.startswith("84"):
            raise Invalid(
                N_("Vui lòng nhập số điện thoại di động Việt Nam, ví dụ {example}."), example=_PHONE_EXAMPLE
            )
    if not text.isdigit() or not text.isascii():
        found = _phones_in(raw)
        if len(found) == 1:  # “số của con: 0912 345 678”, “0912345678 (con trai)”
            return found[0]
        if len(found) > 1:
            raise Invalid(N_("Vui lòng nhập một số điện thoại thôi, ví dụ {example}."), example=_PHONE_EXAMPLE)
        raise Invalid(N_("Số điện thoại chỉ gồm chữ số, ví dụ {example}."), example=_PHONE_EXAMPLE)
    if text.startswith("0084"):
        text = text[4:]
        text = text if text.startswith("0") else "0" + text
    elif text.startswith("84") and len(text) in (11, 12):
        text = text[2:]
        text = text if text.startswith("0") else "0" + text  # "+84 0912..."
    elif len(text) == 9 and text[0] in "35789":
        text = "0" + text
    if _MOBILE.fullmatch(text):
        return text
    if text.startswith("02") and len(text) == 11:
        raise Invalid(
            N_("Đây là số máy bàn. Vui lòng nhập số điện thoại di động, ví dụ {example}."), example=_PHONE_EXAMPLE
        )
    if text.startswith("01") and len(text) == 11:
        raise Invalid(
            N_(
                "Số di động 11 số đầu 01 đã được chuyển sang 10 số từ năm 2018. "
                "Vui lòng nhập số mới, ví dụ {example}."
            ),
            example=_PHONE_EXAMPLE,
        )
    if looks_like_cccd(text):
        raise Invalid(  # a CCCD (0 + province code + …) typed where the phone is asked
            N_("Số 12 chữ số này giống số căn cước (CCCD). Vui lòng nhập số điện thoại di động 10 số, ví dụ "
               "{example}."), example=_PHONE_EXAMPLE)
    if len(text) != 10:
        raise Invalid(
            N_("Số điện thoại di động phải có 10 chữ số (bạn vừa nhập {count} chữ số), ví dụ {example}."),
            count=len(text),
            example=_PHONE_EXAMPLE,
        )
    raise Invalid(
        N_("Số điện thoại chưa đúng đầu số di động Việt Nam. Vui lòng kiểm tra lại, ví dụ {example}."),
        example=_PHONE_EXAMPLE,
    )


_EMAIL_RE = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"
)


def parse_email(raw: str) -> str:
    """Accept an e-mail address (lower-cased, spaces removed)."""
    text = re.sub(r"\s+", "", nfc(raw or "")).lower()
    if not text:
        raise Invalid(N_("Vui lòng nhập địa chỉ email, ví dụ ten@gmail.com."))
    if len(text) > 254 or not _EMAIL_RE.fullmatch(text):
        raise Invalid(N_("Địa chỉ email chưa đúng. Vui lòng nhập theo dạng ten@gmail.com."))
    return text


# --------------------------------------------------------------------------
# Numbers and money
# --------------------------------------------------------------------------

_DIGIT_WORDS: dict[str, int] = {
    "khong": 0,
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "lam": 5,
    "nham": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
}
_BIG_MULTIPLIERS: dict[str, int] = {
    "nghin": 1_000,
    "ngan": 1_000,
    "k": 1_000,
    "trieu": 1_000_000,
    "tr": 1_000_000,
    "cu": 1_000_000,  # slang: "2 củ" = 2 triệu
    "ty": 1_000_000_000,
    "ti": 1_000_000_000,
    # the bot in English: “2 million”, “500 thousand”
    "thousand": 1_000, "thousands": 1_000, "million": 1_000_000, "millions": 1_000_000,
    "billion": 1_000_000_000, "billions": 1_000_000_000,
}
_HUNDRED_WORDS = frozenset({"tram"})
_TEN_WORDS = frozenset({"muoi"})  # mười / mươi (both fold to "muoi")
_CHUC_WORDS = frozenset({"chuc"})
_FILLER_WORDS = frozenset({"linh", "le"})
_HALF_WORDS = frozenset({"ruoi"})
_CURRENCY_WORDS = frozenset({"d", "dong", "vnd", "vn", "dd"})

_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[a-z]+|-", re.ASCII)


class _NotANumber(Exception):
    """Internal: the text is not a number expression."""


def _numeric_token(tok: str) -> tuple[Fraction, int]:
    """Interpret a digit token with Vietnamese or English separators.

    "1.500.000" and "1,500,000" are thousands groupings; "1,5" and "1.5"
    are decimals; with both separators the last one is the decimal mark.
    Returns the value and, for whole numbers, their digit count (used by
    the colloquial "1tr5" = 1,5 triệu rule); 0 for decimals.
    """
    seps = re.findall(r"[.,]", tok)
    if not seps:
        return Fraction(int(tok)), len(tok)
    groups = re.split(r"[.,]", tok)
    if len(set(seps)) == 1:
        sep = seps[0]
        grouped = all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3 and groups[0] != "0"
        if grouped:
            value = int("".join(groups))
            return Fraction(value), len(str(value))
        if len(seps) == 1:
            return Fraction(tok.replace(sep, ".")), 0
        raise _NotANumber
    dec = seps[-1]
    thou = "," if dec == "." else "."
    whole, _, frac = tok.rpartition(dec)
    parts = whole.split(thou)
    if dec in whole.replace(thou, "") or not all(len(g) == 3 for g in parts[1:]):
        raise _NotANumber
    return Fraction("".join(parts) + "." + frac), 0


def _tokens_to_number(tokens: Sequence[str], *, allow_currency: bool) -> Fraction:
    """Evaluate a Vietnamese number expression made of digits and/or words.

    Handles "hai mươi mốt", "một trăm linh năm", "1 triệu 500 nghìn",
    "1tr5", "1 triệu rưỡi", "trăm rưỡi", "1,5 triệu", "ba chục nghìn".
    """
    total = Fraction(0)  # closed groups (× nghìn / triệu / tỷ)
    largest = 0  # largest big multiplier applied so far
    group = Fraction(0)  # current group, below the next big multiplier
    pending: Fraction | None = None  # a number waiting for its multiplier
    pending_digits = 0  # digit count of ``pending``; 0 = not eligible for "1tr5"
    prev_mult: int | None = None  # multiplier of the immediately preceding token
    trailing_mult: int | None = None  # multiplier right before ``pending``
    last_big = 0  # most recent big multiplier
    hundreds_since_big = False  # a "trăm" was read after ``last_big``
    seen_any = False
    currency_seen = False

    for tok in tokens:
        if currency_seen:
            raise _NotANumber  # a currency word may only come last
        mult_before, prev_mult = prev_mult, None
        if tok[0].isdigit() or tok in _DIGIT_WORDS:
            if pending is not None:
                raise _NotANumber  # "1 2", "hai ba": not one number
            if tok[0].isdigit():
                pending, pending_digits = _numeric_token(tok)
            else:
                pending, pending_digits = Fraction(_DIGIT_WORDS[tok]), 1
            trailing_mult = mult_before
            seen_any = True
            continue
        trailing_mult = None
        if tok in _TEN_WORDS or tok in _CHUC_WORDS:
            if pending is None:
                group += 10  # "mười", "chục"
            else:
                if tok in _TEN_WORDS and not (pending.denominator == 1 and 1 <= pending <= 9):
                    raise _NotANumber
                group += pending * 10  # "hai mươi", "ba chục"
                pending = None
            seen_any = True
        elif tok in _HUNDRED_WORDS:
            group += (pending if pending is not None else 1) * 100
            pending = None
            prev_mult = 100
            hundreds_since_big = True
            seen_any = True
        elif tok in _BIG_MULTIPLIERS:
            m = _BIG_MULTIPLIERS[tok]
            value = group + (pending if pending is not None else 0)
            if value == 0 and total == 0:
                value = Fraction(1)  # "triệu rưỡi", "nghìn"
            elif value == 0 and m <= largest:
                raise _NotANumber  # "tỷ tỷ", "triệu nghìn": no number for the second multiplier
            if m > largest:
                total = (total + value) * m  # also "một nghìn tỷ"
                largest = m
            else:
                total += value * m
            group, pending = Fraction(0), None
            prev_mult = m
            last_big = m
            hundreds_since_big = False
            seen_any = True
        elif tok in _FILLER_WORDS:  # "linh", "lẻ": explicit zero tens
            if not seen_any or pending is not None:
                raise _NotANumber
        elif tok in _HALF_WORDS:  # "rưỡi" = half of the preceding unit
            if mult_before is None:
                raise _NotANumber
            if mult_before == 100:
                group += 50
            else:
                total += Fraction(mult_before, 2)
        elif allow_currency and tok in _CURRENCY_WORDS:
            if not seen_any:
                raise _NotANumber
            currency_seen = True
        else:
            raise _NotANumber

    if not seen_any:
        raise _NotANumber
    if pending is not None:
        if trailing_mult and pending_digits and pending.denominator == 1:
            # Colloquial shortening: "1tr5" = 1.500.000, "hai trăm hai" = 220,
            # "1 triệu 500" = 1.500.000.
            pending = pending * trailing_mult / (10**pending_digits)
        group += pending
    if hundreds_since_big and last_big >= 1_000_000 and group < 1000:
        # "1 triệu 2 trăm" means 1.200.000: the unit below is implied.
        group *= last_big // 1000
    return total + group


_GAP_OK = re.compile(r"[\s.,;:!?~*]*")


def _number_tokens(folded: str) -> list[str]:
    """Split folded text into number tokens; reject anything in between."""
    pos = 0
    tokens: list[str] = []
    for m in _NUMBER_TOKEN.finditer(folded):
        if not _GAP_OK.fullmatch(folded, pos, m.start()):
            raise _NotANumber
        tokens.append(m.group())
        pos = m.end()
    if not _GAP_OK.fullmatch(folded, pos):
        raise _NotANumber
    return tokens


def _parse_number_expr(raw: str, *, allow_currency: bool) -> tuple[Fraction, bool]:
    """Return (absolute value, is_negative) of a number expression."""
    tokens = _number_tokens(fold(raw or ""))
    negative = False
    while tokens and tokens[0] in ("-", "am"):
        negative = True
        tokens = tokens[1:]
    if "-" in tokens:
        raise _NotANumber
    return _tokens_to_number(tokens, allow_currency=allow_currency), negative


# counted things people add after a number ("5 người", "2 cháu", "2 bà cháu"); never "năm" (five, or a year)
_UNIT_RE = re.compile(r"\s+(?:nguoi(?:\s+lon)?|con|chau|thanh vien|nhan khau|khau|lan|cai|chiec|ho|phong|thang|ngay"
                      r"|tuan|doi tuong|ban|em|cu|dua(?:\s+(?:nho|con))?"
                      r"|(?:vo chong|ba chau|ong chau|ong ba|me con|bo con|cha con|anh em|chi em)"  # “2 bà cháu”
                      r"(?:\s+(?:toi|minh|em|chau|con|chung toi))?)(?:\s+(?:a|thoi|nhe))?\s*[.!]?$")
# “nhà có 4 người”, “gồm 5 người”: the words before the count (only with a unit after it, read by _drop_unit)
_LEAD_RE = re.compile(r"^(?:(?:nha|ho|gia dinh|co so|nha toi|ho toi)\s+)?(?:chi\s+)?(?:co|gom)\s+"
                      r"|^chi\s+(?=\d|mot|hai|ba|bon|nam)"  # “chỉ 2 người”
                      r"|^(?:nha|ho|gia dinh|co so|nha toi|ho toi|gia dinh toi)\s+(?=\d)"
                      # “cho tôi 2 bản”, “xin 3 bản”
                      r"|^(?:(?:cho|xin|lay|can)\s+(?:toi|minh|em|chau|con)?\s*)(?=\d|mot|hai|ba|bon|nam)")


def _drop_unit(raw: str) -> str:
    folded = fold(raw or "").strip()
    m = _UNIT_RE.search(folded)
    if not m or m.start() == 0:
        return raw
    count = folded[:m.start()]
    lead = _LEAD_RE.match(count)
    return count[lead.end():] if lead and lead.end() < len(count) else count


_NONE_COUNT = frozenset({"khong co", "ko co", "k co", "khong co ai", "ko co ai", "khong ai", "ko ai",
                         "khong nguoi nao", "chua co", "chua co ai",
                         # “Bạn cần bao nhiêu bản sao? (gõ 0 nếu không cần)”
                         "khong can", "ko can", "k can", "khong can ban nao", "khong lay", "ko lay", "khong can a",
                         "thoi khong can", "khong can dau", "ko", "khong"})


def _none_then_why(raw: str) -> bool:
    """“không ai, bà già rồi con tôi đi học”: none, then why (no digit, and no number of its own, after it)."""
    head, sep, rest = (raw or "").partition(",")
    if not sep or _clean(head) not in _NONE_COUNT or _clean(head) in ("khong", "ko") or re.search(r"\d", rest):
        return False
    try:
        _parse_number_expr(_drop_unit(rest), allow_currency=False)
    except (_NotANumber, ValueError, ZeroDivisionError, OverflowError):
        return True
    return False  # (“không, ba người”: a correction, not a reason)


TOO_LARGE = 10 ** 15
"""No count or amount of money reaches this (a million billion đồng): a number from it up is a typing slip, and
is refused whatever the field's own ``max`` (a field may have none)."""

TOO_SMALL = 1000
"""No amount a procedure asks for (an income per month, a cost) is under a thousand đồng: such an answer is a
number typed without its unit (“2” for 2 triệu, “1” out of habit after a numbered question), and
is asked again with the unit, rather than filed as 2 đồng. Nothing (0) is an amount."""


# (not the “nhà” of “cả nhà”, “tại nhà”)
_POLITE_RE = re.compile(r"^(?:(?:da|vang|da vang|u|uh)\s*,?\s+)"
                        r"|(?:\s+(?:a|ah|ak|nhe|(?<!ca )(?<!tai )(?<!\bo )nha|nhen|thoi|luon|di|do))+\s*[.!]?$")


SAME_AS_ABOVE = ("nhu tren", "giong tren", "giong nhu tren", "nhu o tren", "giong o tren", "nhu cu",
                 "same as above")
"""“The answer given above”, folded: a kind that offers an earlier answer again adds its own words to these."""


def says_only(raw: str, phrases: Collection[str]) -> bool:
    """Whether the answer is one of these folded phrases, with nothing but polite words around it (“dạ như trên
    ạ”): “như trên, thôn 5” says more, and is not taken for “như trên”."""
    return fold_words(without_polite(raw or "")) in phrases


def without_polite(raw: str) -> str:
    """An answer, folded, without the polite words around it (“dạ 5 người ạ”, “2 triệu nhé”, “hủy đi”); as it is
    when it is only those."""
    return _POLITE_RE.sub("", fold(raw).strip(" .!")).strip() or raw


def parse_number(
    raw: str,
    *,
    integer: bool = True,
    min: int | float | None = None,
    max: int | float | None = None,
) -> int | float:
    """Accept a number: digits ("1.000", "2,5"), or Vietnamese words
    ("hai", "năm", "mười lăm", "hai mươi mốt", "một trăm").
    """
    if not (raw or "").strip():
        raise Invalid(N_("Vui lòng nhập một số, ví dụ 3."))
    raw = without_polite(raw)
    if _clean(raw) in _NONE_COUNT or _none_then_why(raw):  # "không có" to "how many people…": none
        raw = "0"
    try:
        value, negative = _parse_number_expr(_drop_unit(raw), allow_currency=False)
    except (_NotANumber, ValueError, ZeroDivisionError, OverflowError):
        numbers = re.findall(r"\d+(?:[.,]\d+)*", raw)
        total = _total_then_parts(raw, numbers)
        if total is not None:  # “5 người, 2 vợ chồng 3 đứa con”: the count, then what it is made of
            return parse_number(total, integer=integer, min=min, max=max)
        if len(numbers) > 1 and all(len(n) <= 6 for n in numbers):  # “2 vợ chồng, 2 con đi học”: which is meant
            # (counts only: an ID or phone number is never said back)
            raise Invalid(N_("Câu trả lời có nhiều số ({numbers}). Vui lòng chỉ gõ một số, là câu trả lời cho câu "
                             "hỏi, ví dụ 3."), numbers=", ".join(numbers[:4])) from None
        raise Invalid(N_("Chưa hiểu số bạn nhập. Vui lòng nhập bằng chữ số, ví dụ 3.")) from None
    if negative:
        value = -value
    if integer and value.denominator != 1:
        raise Invalid(N_("Vui lòng nhập số nguyên (không có phần lẻ), ví dụ 3."))
    try:
        result: int | float = int(value) if integer else float(value)
    except OverflowError:
        raise Invalid(N_("Số bạn nhập quá lớn. Vui lòng kiểm tra lại.")) from None
    if abs(value) >= TOO_LARGE:
        raise Invalid(N_("Số bạn nhập quá lớn. Vui lòng kiểm tra lại."))
    if min is not None and result < min:
        raise Invalid(N_("Vui lòng nhập số từ {min} trở lên."), min=_format_decimal(min))
    if max is not None and result > max:
        raise Invalid(N_("Vui lòng nhập số không lớn hơn {max}."), max=_format_decimal(max))
    return result


def _total_then_parts(raw: str, numbers: list[str]) -> str | None:
    """The first clause of an answer, when it is a count and the numbers after it add up to it (“5 người, 2 vợ chồng
    3 đứa con”); None otherwise (“5 người, 2 người đi làm”: which is meant is asked)."""
    head, sep, _rest = raw.partition(",")
    if not sep or len(numbers) < 3 or not all(n.isdigit() and len(n) <= 3 for n in numbers):
        return None
    try:
        value, negative = _parse_number_expr(_drop_unit(head), allow_currency=False)
    except (_NotANumber, ValueError, ZeroDivisionError, OverflowError):
        return None
    counted = re.findall(r"\d+", head)
    if negative or counted != numbers[:1] or value != int(numbers[0]) or sum(int(n) for n in numbers[1:]) != value:
        return None
    return head


# “khoảng”, “tầm”, “chừng”… before an amount: the questions ask for an estimate. Never “hơn”, “dưới”, “trên”:
# the amount is compared with thresholds, and which side of one it lies on is the question
# (“tam” is “tầm” only before digits: “tam tram nghin” is eight hundred thousand)
_APPROX_RE = re.compile(r"^(?:(?:khoang|chung|do|co|uoc|uoc tinh|uoc chung|khoang chung)\s+|tam\s+(?=(?:tam\s+)*\d))+"
                        r"(?=\d|mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi)")


# “… một tháng”, “…/tháng”, “… mỗi năm” after an amount (folded; “năm” only with its qualifier: “2 triệu năm trăm”
# is 2,500,000)
_PER_MONTH_RE = re.compile(r"(?:\s*/\s*|\s+(?:(?:mot|1|moi|hang|trong|tren)\s+)?)thang\s*$"
                           r"|\s+(?:(?:a|per|each|every)\s+month|monthly)\s*$")
_PER_YEAR_RE = re.compile(r"(?:\s*/\s*|\s+(?:mot|1|moi|hang|trong|tren|ca)\s+)nam\s*$"
                          r"|\s+(?:(?:a|per|each|every)\s+year|yearly|annually)\s*$")
_NO_INCOME = frozenset({"khong co thu nhap", "chua co thu nhap", "khong co thu nhap gi", "khong co dong nao",
                        "khong co dong thu nhap nao", "khong thu nhap"})
# “… một người”, “…/người”, “… mỗi khẩu” (the income question asks per person)
_PER_PERSON_RE = re.compile(r"(?:\s*/\s*|\s+(?:mot|1|moi|tren|cho moi)\s+)(?:nguoi|khau|dau nguoi)\s*$")
_HOUSEHOLD_RE = re.compile(r"\b(?:ca nha|ca ho|ca gia dinh|ca hai vo chong|hai vo chong|tong thu nhap|tong cong|"
                           r"tong cua ho|gia dinh toi|nha toi|whole family|family of|household of|whole household|"
                           r"in total|altogether|my family|our family)\b")
_EACH_LEAD_RE = re.compile(r"^(?:(?:ca nha|ca ho|ca gia dinh|gia dinh toi|nha toi|ho toi)\s+)?"
                           r"(?:moi nguoi|mot nguoi|1 nguoi|moi khau|binh quan|trung binh|binh quan moi nguoi)"
                           r"(?:\s+(?:la|duoc|co))?\s+(?=\d|mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi)")
# “1,5 - 2 triệu”, “từ 1,5 đến 2 triệu”: a range, where one amount is asked
_RANGE_RE = re.compile(r"\d\s*(?:-|–|den|toi|hoac)\s*\d")


_HEADCOUNT_RE = re.compile(r"\b(?:(\d{1,2}|hai|ba|bon|nam|sau|bay|tam|chin|muoi)\s+(?:nguoi|khau|nhan khau|thanh vien|"
                           r"people|persons|members)|(?:family|household) of (\d{1,2}))\b")
_TOTAL_WORDS_RE = re.compile(r"\b(?:ca nha|ca ho|ca gia dinh|gia dinh toi|nha toi|ho toi|tong thu nhap|tong cong|"
                             r"tong cua ho|thu nhap|kiem duoc|kiem|thu duoc|thu|co|duoc|la|khoang|chung|"
                             r"tong|gom|nha|the|whole|my|our|family|household|earns?|makes?|in total|total|"
                             r"altogether|income|is|about|around|with)\b")


def _headcount(raw: str) -> tuple[int, str] | None:
    """The one count of people in an answer about a household's income (“cả nhà 5 người …”), and the rest of the
    answer without it and the words around a total; None when no count, or more than one, is said."""
    counts = [vi or en for vi, en in _HEADCOUNT_RE.findall(raw)]
    if len(counts) != 1:
        return None
    n = int(counts[0]) if counts[0].isdigit() else _NUMBER_WORDS.get(counts[0], 10 if counts[0] == "muoi" else 0)
    rest = " ".join(_TOTAL_WORDS_RE.sub(" ", _HEADCOUNT_RE.sub(" ", raw)).split())
    rest = re.sub(r"\btam\s+(?=\d)", "", rest)  # (“tầm 8 triệu”; “tám triệu” is eight)
    return (n, rest) if 1 <= n <= 30 else None


def _each_of_household(raw: str) -> int | None:
    """A household's total and its head count in one answer (“cả nhà 5 người thu khoảng 8 triệu”): the amount
    per person, rounded to the đồng; None when no count of people is said, or the rest is no amount."""
    if (said := _headcount(raw)) is None or not said[1]:
        return None
    n, rest = said
    try:
        value, negative = _parse_number_expr(rest, allow_currency=True)
    except (_NotANumber, ValueError, ZeroDivisionError):
        return None
    if negative or value.denominator != 1 or value < TOO_SMALL:
        return None
    return round(int(value) / n)


def parse_money(
    raw: str,
    *,
    min: int | None = None,
    max: int | None = None,
    per: str | None = None,
    per_person: bool = False,
) -> int:
    """Accept an amount of money in đồng and return it as an integer.

    Accepts "1.500.000", "1,500,000", "1500000đ", "1.500.000 đồng",
    "1,5 triệu", "1.5tr", "1tr5", "1 triệu rưỡi", "1 triệu 500 nghìn",
    "500k", "500 nghìn", "2 củ", "ba triệu", "hai trăm nghìn".
    """
    if not (raw or "").strip():
        raise Invalid(N_("Vui lòng nhập số tiền, ví dụ 1.500.000 hoặc 1,5 triệu."))
    # “khoảng 2 triệu rưỡi”: an estimate is what is asked
    raw = _APPROX_RE.sub("", without_polite(fold(raw).strip())) or raw
    if _clean(raw) in _NO_INCOME:  # “không có thu nhập”: nothing, said in words
        raw = "0"
    raw = _PER_PERSON_RE.sub("", raw) or raw
    typed = re.sub(r"[\s.\-]", "", raw)
    if looks_like_cccd(typed):  # the ID number, typed a question early or late: not a billion đồng
        raise Invalid(N_("Số 12 chữ số này giống số căn cước (CCCD). Câu này hỏi số tiền: vui lòng nhập số tiền, ví "
                         "dụ 1.500.000 hoặc 1,5 triệu."))
    if _MOBILE.fullmatch(typed):
        raise Invalid(N_("Số này giống số điện thoại. Câu này hỏi số tiền: vui lòng nhập số tiền, ví dụ 1.500.000 "
                         "hoặc 1,5 triệu."))
    for period, pattern in (("month", _PER_MONTH_RE), ("year", _PER_YEAR_RE)):
        said = pattern.search(raw)
        if said is None or not raw[:said.start()].strip():
            continue
        if per == "month" and period == "year":
            raise Invalid(N_("Câu này hỏi số tiền một tháng, bạn vừa gõ số tiền một năm. Vui lòng chia cho 12: ví "
                             "dụ 24 triệu một năm là 2 triệu một tháng."))
        if per == "year" and period == "month":
            raise Invalid(N_("Câu này hỏi số tiền một năm, bạn vừa gõ số tiền một tháng. Vui lòng nhân với 12: ví "
                             "dụ 2 triệu một tháng là 24 triệu một năm."))
        raw = raw[:said.start()].strip()  # the period the question asks for (or the question names none)
        break
    raw = _PER_PERSON_RE.sub("", raw) or raw  # (“2 triệu một người một tháng”)
    raw = _EACH_LEAD_RE.sub("", raw) or raw  # “nhà tôi mỗi người 2 triệu”, “bình quân 2 triệu”
    if per_person and (heads := _headcount(raw)) is not None and not heads[1]:  # “nhà có 5 người”: no amount yet
        raise Invalid(N_("Hộ có {n} người. Vui lòng gõ tổng thu nhập một tháng của cả hộ kèm số người, ví dụ “cả nhà "
                         "{n} người 8 triệu” (trợ lý sẽ chia cho từng người), hoặc gõ thu nhập của mỗi người."),
                      n=heads[0])
    if per_person and _HOUSEHOLD_RE.search(raw) and (each := _each_of_household(raw)) is not None:
        raw = str(each)  # “cả nhà 5 người thu 8 triệu”: the total and the head count, divided
    elif per_person and _HOUSEHOLD_RE.search(raw):  # “cả nhà 8 triệu”: the household's total, not each person's
        raise Invalid(N_("Câu này hỏi thu nhập của mỗi người. Vui lòng chia tổng thu nhập cho số người trong hộ: "
                         "ví dụ cả hộ 4 người có 8 triệu một tháng thì mỗi người 2 triệu."))
    try:
        value, negative = _parse_number_expr(raw, allow_currency=True)
    except (_NotANumber, ValueError, ZeroDivisionError):
        if _RANGE_RE.search(raw):
            raise Invalid(N_("Vui lòng nhập một số tiền thôi (nếu không chắc, ghi số gần đúng nhất), ví dụ 1,8 "
                             "triệu.")) from None
        raise Invalid(N_("Số tiền chưa đúng. Vui lòng nhập số tiền, ví dụ 1.500.000 hoặc 1,5 triệu.")) from None
    if negative:
        raise Invalid(N_("Số tiền không được là số âm. Vui lòng nhập lại, ví dụ 1.500.000."))
    if value.denominator != 1:
        raise Invalid(
            N_("Số tiền chưa rõ. Vui lòng ghi rõ đơn vị, ví dụ 1,5 triệu hoặc 1.500.000 đồng.")
        )
    amount = int(value)
    if amount >= TOO_LARGE:
        raise Invalid(N_("Số tiền quá lớn. Vui lòng kiểm tra lại, ví dụ 1.500.000 hoặc 1,5 triệu."))
    if 0 < amount < TOO_SMALL:  # “1” after a numbered question, “2” for 2 triệu: not an amount anyone means
        raise Invalid(N_("Số tiền {n} đồng quá nhỏ. Bạn muốn nói “{n} nghìn” hay “{n} triệu”? Vui lòng gõ lại "
                         "kèm đơn vị."), n=amount)
    if min is not None and amount < min:
        raise Invalid(N_("Số tiền phải từ {min} đồng trở lên."), min=format_int(min))
    if max is not None and amount > max:
        raise Invalid(N_("Số tiền không được vượt quá {max} đồng."), max=format_int(max))
    return amount


# --------------------------------------------------------------------------
# Yes / no
# --------------------------------------------------------------------------

_YES_TOKENS = frozenset(
    {
        "co", "c", "u", "uh", "uhm", "um", "umm", "uk", "ukm", "uki", "ung", "o", "oh",
        "vang", "da", "dung", "chuan", "ok", "oke", "okay", "oki", "okie", "okela", "okla",
        "yes", "y", "yep", "yeah", "duoc", "dc", "dk", "roi", "r", "dongy", "chac", "chacchan",
        "phai", "dza", "za", "xacnhan",
    }
)  # fmt: skip
_NO_TOKENS = frozenset(
    {
        "khong", "ko", "k", "kh", "khg", "kg", "hong", "hok", "hem", "hum", "khum",
        "chua", "sai", "no", "n", "nope", "thoi",
    }
)  # fmt: skip
# Politeness particles and pronouns that may surround the answer.
_PARTICLES = frozenset(
    {
        "a", "ah", "ak", "nhe", "nha", "nhen", "vay", "the", "chu", "luon", "nhi", "ne",
        "em", "e", "anh", "chi", "con", "chau", "minh", "toi", "tui", "ban", "di", "oi", "hedge",
    }
)  # fmt: skip
# "dạ" / "vâng" soften a following answer ("dạ không" means no), so alone
# they mean yes but they never conflict with a negative word.
_SOFT_YES = frozenset({"da", "vang", "dza", "za", "chac", "chacchan"})  # (“chắc”, “hình như”: either way)
_PHRASES = (("dong y", "dongy"), ("chac chan", "chacchan"), ("xac nhan", "xacnhan"), ("khong sai", "dung"),
            ("ko sai", "dung"), ("chac la", "chac"), ("hinh nhu", "hedge"), ("co le", "hedge"))
_HEDGES = frozenset({"chac", "hedge"})  # a guess: an answer, but no consent (``sure``); “có lẽ” alone is none
# “có” then a count and whom (“có 2 người”, “dạ có một chị”): a yes that says how many. Only counts no other word
# reads as (“ba” is also a father, “năm” a year), and never “có” alone before the number (“có 2”: option 2?).
_YES_WITH_COUNT = re.compile(r"^(?:(?:da|vang|u) )?co (?:\d+|mot|hai|vai|nhieu) \w")


def _folded_reply(text: str) -> str:
    """A yes/no reply folded, its punctuation dropped (“có thể” read as the hedge “có lẽ”)."""
    return " ".join(re.sub(r"[^\w\s]", " ", fold(re.sub(r"(?i)\bcó thể\b", "có lẽ", text))).split())


def parse_yes_no(raw: str, *, sure: bool = False) -> bool:
    """Accept a yes/no answer ("có", "ko", "dạ vâng", "không ạ", "ok", "chưa", "phải",
    "không phải", Southern "dzạ"/"hổng"...). A guess (“chắc là có”, “hình như không”) is an answer too, unless
    ``sure``: a consent or a statement confirmed is given plainly, or asked again.

    The decision is made on whole folded tokens, so "không" never matches
    "có".  A negative word negates the yes-words right after it ("không có",
    "ko được", "chưa đồng ý"); "dạ"/"vâng" are just polite ("dạ không" is
    no).  Every token must be a known answer word or politeness particle, and
    a bare yes next to a bare no ("có không") is ambiguous: a sentence such
    as "tôi không biết" is rejected rather than guessed.
    """
    text = (raw or "").strip()
    if text in ("👍", "👌", "✅", "🆗"):
        return True
    if text in ("👎", "❌"):
        return False
    folded = _folded_reply(text)
    for phrase, joined in _PHRASES:
        folded = re.sub(rf"\b{phrase}\b", joined, folded)
    yes = soft = no = 0
    negating = False
    if sure and _HEDGES & set(folded.split()):
        raise Invalid(N_("Vui lòng trả lời “Có” hoặc “Không”."))
    for tok in folded.split():
        if tok in _NO_TOKENS:
            no += 1
            negating = True
        elif tok in _YES_TOKENS:
            if negating:
                continue  # "không có", "ko dc": part of the negative answer
            if tok in _SOFT_YES:
                soft += 1
            else:
                yes += 1
        elif tok in _PARTICLES:
            negating = False
        else:
            no = yes = soft = 0
            break
    if no and not yes:
        return False
    if (yes or soft) and not no:
        return True
    if _YES_WITH_COUNT.match(folded):  # “có 2 người”, “co mot chi”: yes, and how many
        return True
    head, sep, rest = text.partition(",")
    if sep and head.strip() and rest.strip():  # "có, thương binh": the answer, then why
        return parse_yes_no(head, sure=sure)
    words = text.split()
    but = next((i for i, w in enumerate(words) if fold(w) == "nhung"), 0)
    if 0 < but < len(words) - 1:  # “có nhưng đang đi làm ở Hàn Quốc”: the answer, then a “but”
        return parse_yes_no(" ".join(words[:but]), sure=sure)
    raise Invalid(N_("Vui lòng trả lời “Có” hoặc “Không”."))


_ASPECT = frozenset({"da", "dang", "tung", "duoc", "se", "con", "van", "that", "co"})  # (before the verb asked about)
_ECHO_SHORT_OF = frozenset({"tai", "o", "voi", "cho", "tu", "cua", "trong", "bang", "qua", "theo", "tren", "duoi"})
_ECHO_FILLER = frozenset({"roi", "nhau", "a", "nhe", "nha", "vay", "the", "chu", "ma", "dau"})


def echoed_yes_no(raw: str, question: str) -> bool | None:
    """A yes or no said by echoing the question's verb, as Vietnamese answers “có … không?”: “giống” at “Nơi ở hiện
    nay có giống nơi thường trú không?” is yes, “không giống” no; “đăng ký rồi”, “chưa đăng ký” at “Cha mẹ của trẻ có
    đăng ký kết hôn không?”. The answer's words must be the first words of what is asked (after “có”, and aspect
    words such as “đang”, “đã” on either side), so that nothing else is read as an echo. None: no echo."""
    asking = next((part for part in re.split(r"(?<=[.!?])\s+", nfc(question)) if "?" in part), question)
    asked = re.sub(r"[^\w\s]", " ", asking.lower()).split()
    frame = next((i for i, w in enumerate(asked) if w in ("có", "đã")), None)  # (not “Cơ sở”: as written)
    if frame is None:
        return None
    verb = [fold(w) for w in asked[frame + 1:]]
    while verb and verb[0] in _ASPECT:
        verb = verb[1:]
    words = re.sub(r"[^\w\s]", " ", fold(raw)).split()
    negative = bool(words) and words[0] in _NEGATIONS
    words = [w for w in words[1 if negative else 0:] if w not in _ECHO_FILLER and w not in _PARTICLES]
    while words and words[0] in _ASPECT:
        words = words[1:]
    if not words or not verb or words != verb[:len(words)] or words[0] in ("khong", "chua"):
        return None
    if len(verb) > len(words) and verb[len(words)] in _ECHO_SHORT_OF:
        return None  # “qua đời” at “… có qua đời tại nơi cư trú cuối cùng không?”: the point (where) not echoed
    return not negative


def yes_with_count(raw: str) -> bool:
    """Whether a reply is a yes with how many (“có 2 người”, “co mot chi”): an answer only where “có” is asked."""
    return _YES_WITH_COUNT.match(_folded_reply(raw or "")) is not None


def is_yes(text: str) -> bool:
    """Whether a reply is a plain yes (“có”, “đúng”, “ok”): :func:`parse_yes_no` without its error."""
    try:
        return parse_yes_no(text) is True
    except Invalid:
        return False


def is_no(text: str) -> bool:
    try:
        return parse_yes_no(text) is False
    except Invalid:
        return False


_CORRECTION_LEAD = _NO_TOKENS - {"no", "n", "nope"} | {"nham"}  # (“nhầm”: mistaken)
_CORRECTION_NEXT = frozenset({"ten", "toi", "la", "phai", "ma", "y", "em", "chau", "minh"})


def after_no(text: str) -> str:
    """What follows a “no” that opens a reply, the answer corrected: “không, tên tôi là Nông Văn Hải” → “tên tôi là
    Nông Văn Hải”, “ko phai ten bo toi, ten toi la …”, “sai rồi, xã Hòa An”, “khong ten toi la …”; '' when the reply
    opens with no “no”, or nothing follows it. Without a comma, only words that introduce a name follow the “no” (not
    “không nhớ tên”)."""
    head, sep, rest = text.partition(",")
    lead = fold(head).split()[:1]
    if sep and rest.strip() and (is_no(head) or (lead[0:1] and lead[0] in _CORRECTION_LEAD)):
        return rest.strip(" ,.")
    words = text.split()
    folded = [fold(w).strip(",.:") for w in words]
    for k in (2, 1):  # “không phải tên tôi là …”, “sai tên tôi là …”
        if len(words) > k + 1 and folded[0] in _CORRECTION_LEAD and is_no(" ".join(words[:k])) \
                and folded[k] in _CORRECTION_NEXT:
            return " ".join(words[k:])
    return ""


_UNKNOWN_RE = re.compile(
    r"(?:(?:toi|em|e|chau|minh|con|tui|ong|ba|bo|me|ong ay|ba ay|chu ho)\s+)?"  # (“e”: “em”, as typed)
    r"(?:(?:khong|ko|k|kh|hk|khg|kg|hong|hok|hem|khum|chua|cung)\s+(?:con\s+)?(?:nho|biet|bit|bik|ro|thay|co"
    r"|tim thay)|kb"  # (“bít”, “bik”: “biết”; “kb”: “không biết”)
    r"|chua\s+(?:ky|xin|lay|chup|viet))\b"  # (“ông chưa ký”: a paper not had yet)
    r"(?:\s+(?:so nha|so|ma|ngay|ten|giay|gi|duoc|lam|nua|ro|to|cccd|cmnd|the|can|cuoc|dinh|danh|tai|khoan|dien"
    r"|thoai|sdt|stk|ca)\b)*"
    r"|(?:quen|mat)(?:\s+(?:mat|roi|so|giay|het))*"
    r"|chua\s+dat(?:\s+ten)?(?:\s+(?:cho\s+)?(?:be|chau|con|tre|no))?"  # a newborn's name: “chưa đặt tên”
    r"|(?:chiu|pass|khong co thong tin|ko co thong tin)"
    r"|(?:dont know|don t know|i don t know|not sure|unknown|forgot|do not know|don t remember)"
)
_KNOW_HOW = re.compile(r" (?:chu|doc|viet|tinh|noi|di|an|mac|nghe|boi)\b")
# particles around such a reply, matched as written (lower case): folded, “nhà” (a house) would be the particle
# “nha”, and “không có nhà” would say “I haven't, OK?”
_UNKNOWN_FILLER = re.compile(r"(?<!\w)(?:a|à|ạ|á|ah|ơi|oi|rồi|roi|nha|nhá|nhe|nhé|thật|that|luôn|luon)(?!\w)")


def says_unknown(raw: str, *, lead: bool = False) -> bool:
    """Whether a reply says "I don't know / don't remember / haven't got it" ("ko nho", "khong nho so",
    "chưa có", "quên rồi", "không biết ạ") instead of giving the answer: such a reply is never data. With
    ``lead`` it is enough that the reply begins so ("chưa có giấy ủy quyền"): for questions no typed text
    answers (a photo of a paper)."""
    text = _clean(raw or "")
    if not text or len(text) > 60:
        return False
    text = _clean(_UNKNOWN_FILLER.sub(" ", nfc(raw).lower()))
    if not text:
        return False
    if lead:
        m = _UNKNOWN_RE.match(text)
        if m is not None and _KNOW_HOW.match(text, m.end()) and m.group().endswith("biet"):
            return False  # “không biết chữ”, “không biết đi”: what someone cannot do, not what the filer does not know
        return m is not None and (m.end() == len(text) or text[m.end()] == " ")
    return _UNKNOWN_RE.fullmatch(text) is not None


# --------------------------------------------------------------------------
# Choices
# --------------------------------------------------------------------------

_CHOOSER = r"(?:(?:toi|minh|em|tui|con|chau)\s+)?"  # “mình chọn 3”, “em chọn số 2”
_CHOICE_NUMBER = re.compile(
    _CHOOSER + r"(?:(?:chon so|so|lua chon|chon|phuong an|muc|cau|option|cai thu|thu|#)\s*)?\(?(\d{1,3})\s*[.):]?"
)
# a number in words, only after a word that says it is one (“số hai”, “chọn ba”): bare, “ba” is a father and
# “năm” a year, and “nam” the choice Nam
_CHOICE_NUMBER_WORD = re.compile(_CHOOSER + r"(?:chon so|so|chon|lua chon|phuong an|cau|cai thu|thu)\s+(mot|nhat|hai|"
                                 r"ba|bon|tu|nam|sau|bay|tam|chin|muoi)")
_NUMBER_WORDS = {"mot": 1, "nhat": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8,
                 "chin": 9, "muoi": 10}
_KEYCAP = str.maketrans("", "", "\ufe0f\u20e3")  # “2️⃣”: a digit, then the keycap marks some keyboards add


@lru_cache(maxsize=8192)
def _clean(s: str) -> str:
    """Fold and reduce punctuation to spaces. Cached: a menu's or a question's labels are folded once, not on
    every message that is matched against them."""
    return fold_words(s)


def _words_at(haystack: str, needle: str) -> re.Match[str] | None:
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) if needle else None


def _contains_words(haystack: str, needle: str) -> bool:
    return _words_at(haystack, needle) is not None


_KHONG_SHORT = ("ko", "k", "khg", "kg", "hok", "hem")  # “không” as typed in short (not “hong”: hỏng, broken)
_NEGATIONS = frozenset({"khong", "chua", "chang", *_KHONG_SHORT})  # (not “cha”: a father)


def _negative(text: str) -> bool:
    """Whether the words before end under a “không”, “chưa”…: one that a later “nhưng”, or a “có” not right after
    it, has closed is not (“không có giấy báo tử, có xác nhận của công an”: the confirmation is had)."""
    negative, last = False, ""
    for w in text.split():
        if w in _NEGATIONS:
            negative = True
        elif w == "nhung" or (w == "co" and last not in _NEGATIONS):
            negative = False
        last = w
    return negative


def _negated(answer: str, words: str) -> bool:
    """Whether ``words`` stand in ``answer`` only after a “không”, “chưa”… that ``words`` do not carry themselves:
    “không nghèo” is not “nghèo”, “cháu không đi được” is not “được”."""
    if answer == words or words.split()[0] in _NEGATIONS:
        return False
    at = _words_at(answer, words)
    return at is not None and _negative(answer[:at.start()])


def denies(raw: str, words: Sequence[str]) -> bool:
    """Whether one of ``words`` stands in the answer after a “không”, “chưa”… (“bà chưa đồng ý”)."""
    cleaned = _clean(raw or "")
    return any(_negated(cleaned, _clean(w)) for w in words)


_POSSESSIVE = re.compile(r" (?:cua )?(?:toi|minh|tui)(?!\w)")


_KIN_OF_MINE = re.compile(r"(?<!\w)(?:" + "|".join(sorted(_KIN, key=len, reverse=True)) +
                          r")(?: (?:trai|gai|ca|ut|nuoi|ruot|de))?" + _POSSESSIVE.pattern)


def names_ones_kin(raw: str) -> bool:
    """Whether the answer names a relative of the one answering (“vợ tôi”, “con gái của mình”): someone is named."""
    return _KIN_OF_MINE.search(_clean(raw or "")) is not None


def _names_another(answer: str, at: re.Match[str]) -> bool:
    """Whether words found in an answer name someone else than the one answering: “mẹ tôi”, “bố của mình” (my
    mother: at “Bạn là gì của người mất?” the one answering is her child), “làm cho mẹ” (for my mother)."""
    words = at.group().split()
    if words[0] == "cho" or not _KIN.intersection(words):  # “cho mẹ” says so itself; “sập nhà tôi” is one's own
        return False
    return _POSSESSIVE.match(answer, at.end()) is not None or answer[:at.start()].endswith("cho ")


_NOT_SHORT = re.compile(r"(?<!\w)(?:" + "|".join(_KHONG_SHORT) + r")(?!\w)")
"""“ko”, “k”… typed for “không”, folded: read as “khong” where an option's words are sought."""


def _unshort(cleaned: str) -> str:
    return _NOT_SHORT.sub("khong", cleaned) if " " in cleaned or len(cleaned) > 3 else cleaned


def _holds_own(answer: str, words: str) -> bool:
    """``words`` are the answer, or stand in it as whole words, not after a “không” and not naming another."""
    if answer == words:
        return True
    at = _words_at(answer, words)
    return at is not None and not _negated(answer, words) and not _names_another(answer, at)


def _also_held(raw: str, choices: Sequence[tuple[str, Sequence[str]]]) -> list[tuple[str, str]]:
    """(value, words as matched) of each choice's other words the answer is, or holds as whole words and as its
    own (not after a “không”, not naming another)."""
    cleaned = _unshort(_clean(raw or ""))  # (“ko cần bhyt”: “không cần BHYT”)
    if not cleaned:
        return []
    return [(value, c) for value, words in choices for w in words
            if (c := _clean(w)) and _holds_own(cleaned, c) and not _typed_otherwise(raw, w)]


def _typed_otherwise(raw: str, words: str) -> bool:
    """Whether each place where the answer holds ``words``, folded, was typed with other diacritics (“của bà”
    does not hold “ba”, a father in the South, though “cua ba” may): a word typed plainly is any of its spellings."""
    typed = re.findall(r"\w+", nfc(raw or "").lower())
    want = re.findall(r"\w+", nfc(words).lower())
    folded, key = [fold(t) for t in typed], [fold(t) for t in want]
    places = [i for i in range(len(typed) - len(key) + 1) if key and folded[i:i + len(key)] == key]
    return bool(places) and all(any(t != w and not t.isascii() for t, w in zip(typed[i:i + len(key)], want,
                                                                              strict=True)) for i in places)


def match_also(raw: str, choices: Sequence[tuple[str, Sequence[str]]]) -> str | None:
    """Other words for a choice (``also:`` in a definition, “làm ruộng” for “Nông nghiệp”): the value of the
    one choice whose words the answer is, or holds as whole words (folded: typed without diacritics too); when
    the words of several choices are held, the longest, if it holds the other choices' words (“không tự làm được”
    over “tự làm được”); ``None`` if none does, or if the words of two choices stand apart."""
    found = _also_held(raw, choices)
    hits = {value for value, _ in found}
    if len(hits) > 1:  # “không tự làm được” holds “tự làm được” too: the choice whose words hold the others' wins
        # (“sập mái, không ở được”: “sập” of “Đổ, sập” is held in “sập mái”, though “không ở được” is the longest)
        holding = [value for value in sorted(hits) if all(
            any(_contains_words(own, c) for v2, own in found if v2 == value) for v, c in found if v != value)]
        return holding[0] if len(holding) == 1 else None
    return hits.pop() if len(hits) == 1 else None


def also_all(raw: str, choices: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Every choice whose other words the answer holds (as :func:`match_also` finds them), for a question of
    several answers: “câm điếc” is “câm” and “điếc”. Words held within a longer one of another choice count for
    that one only (“mù màu”, not also “mù”). In the order of ``choices``."""
    found = _also_held(raw, choices)
    kept = {value for value, c in found
            if not any(other != value and len(o) > len(c) and _contains_words(o, c) for other, o in found)}
    return [value for value, _ in choices if value in kept]


def also_said(raw: str, words: Sequence[str]) -> str | None:
    """The longest of ``words`` the answer is, or holds as whole words and not after a “không” (as
    :func:`match_also` finds them), as the definition writes it; None if none."""
    cleaned = _unshort(_clean(raw or ""))
    held = [w for w in words if (c := _clean(w)) and _holds_own(cleaned, c)]
    return max(held, key=len) if held else None


def match_choice(raw: str, choices: Sequence[tuple[str, str]], *, fuzzy: bool = True) -> str | None:
    """Match an answer against ``(value, label)`` choices; return the value.

    Tried in order: exact value; 1-based number ("2", "số 2", "2."); label
    equal on folded text; label prefix / whole-word containment (unique);
    fuzzy similarity ≥ 0.8 with a unique best (unless ``fuzzy`` is false).
    Returns ``None`` if nothing matches or the answer is ambiguous.
    """
    text = nfc(raw or "").strip()
    if not text or not choices:
        return None
    for value, _ in choices:
        if text == value:
            return value
    folded = fold(text.translate(_KEYCAP))
    bare = without_polite(folded)  # “dạ 2 ạ”, “số 2 nhé”
    num = _CHOICE_NUMBER.fullmatch(bare)
    in_words = None if num else _CHOICE_NUMBER_WORD.fullmatch(bare)
    if num or in_words:
        index = int(num.group(1)) if num else _NUMBER_WORDS[in_words.group(1)] if in_words else 0
        if 1 <= index <= len(choices):
            return choices[index - 1][0]
    cleaned = _clean(text)
    if not cleaned:
        return None
    for value, label in choices:
        if cleaned == _clean(label) or folded == fold(value):
            return value

    word = _YES_NO_WORDS.get(cleaned)
    if word is not None:  # “co”: the word có, never cơ or cô folded the same (“Cơ quan hoặc tổ chức”)
        said = _as_typed(text)
        if said != cleaned and said != word:
            return None  # typed with other diacritics (“cơ”): not the yes or no word
        opening = [v for v, label in choices if _first_word(label) == word]
        return opening[0] if len(opening) == 1 else None
    labels = [(value, _clean(label)) for value, label in choices]
    intro = _SELF_INTRO.match(cleaned)
    if intro and len(cleaned) > intro.end():  # “tôi là tình nguyện viên”: what follows “tôi là” says which
        found = _in_labels(cleaned[intro.end():], [(v, _SELF_INTRO.sub("", lab, count=1)) for v, lab in labels])
        if found:
            return found
    found = _in_labels(cleaned, labels)
    if found is not None:
        return found or None
    if not fuzzy:
        return None
    scattered = _words_of_one_label(cleaned, labels)
    if scattered is not None:
        return scattered
    negative = _negative(cleaned)  # a likeness never bridges a “không”
    scored = sorted(((0.0 if negative and not _negative(lab) else _fuzzy_label_score(cleaned, lab), v)
                     for v, lab in labels), reverse=True)
    if scored and scored[0][0] >= 0.8 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    return None


_SELF_INTRO = re.compile(rf"(?:(?:{'|'.join(_I_WORDS)})(?: la)?|(?:i am|i m|im)(?: a| an| the)?) ")
"""How people open an answer about themselves (“tôi là …”, “em là …”), folded; several labels of one question open
the same way (“Tôi là người đứng đầu…”, “Tôi khai giúp…”), so it tells nothing apart."""


def _label_fits(cleaned: str, labels: list[tuple[str, str]]) -> list[str]:
    """The values of the labels an answer fits, at the first of these that any does: the answer as a label's start;
    a label inside the answer (“tôi chọn kết hôn”: the longest); the answer inside a label as whole words (“khai
    sinh”). One value: the answer; several: it fits them alike; none: no label."""
    if len(cleaned) >= 2:
        prefixed = [v for v, lab in labels if lab.startswith(cleaned)]
        if prefixed:
            return prefixed
    inside = [(len(lab), v) for v, lab in labels
              if len(lab) >= 2 and _contains_words(cleaned, lab) and not _negated(cleaned, lab)]
    if inside:
        longest = max(n for n, _v in inside)
        return [v for n, v in inside if n == longest]
    return [v for v, lab in labels if _contains_words(lab, cleaned)] if len(cleaned) >= 3 else []


def _words_of_one_label(cleaned: str, labels: list[tuple[str, str]]) -> str | None:
    """The one label that has every word of an answer of three or more, not in a row (“trợ cấp người cao tuổi”: “Trợ
    cấp hưu trí xã hội (người cao tuổi không có lương hưu)”, every option opening “Trợ cấp”); None if no label or
    several have them."""
    words = set(cleaned.split())
    if len(words) < 3:
        return None
    having = [v for v, lab in labels if words <= set(lab.split())]
    return having[0] if len(having) == 1 else None


def _in_labels(cleaned: str, labels: list[tuple[str, str]]) -> str | None:
    """The one value the answer fits (:func:`_label_fits`); ``""`` when several fit alike (ambiguous: no match);
    ``None`` when none does."""
    fits = _label_fits(cleaned, labels)
    return (fits[0] if len(fits) == 1 else "") if fits else None


def labels_fitting(raw: str, choices: Sequence[tuple[str, str]]) -> list[str]:
    """The values of the several labels an answer fits alike (“với cha mẹ” begins two), for saying which to choose
    from; empty when it fits one, none, or all of them."""
    labels = [(value, _clean(label)) for value, label in choices]
    fits = _label_fits(_clean(without_polite(fold(nfc(raw or "")))) if raw else "", labels)
    return fits if 1 < len(fits) < len(labels) else []


def _as_typed(text: str) -> str:
    """An answer as written, diacritics and all, case and closing punctuation aside."""
    return nfc(text or "").lower().strip(" .!,")


def typed_as(raw: str, label: str) -> bool:
    """Whether the answer is the label as written (“bà”, not “ba”)."""
    return _as_typed(raw) == _as_typed(label)


def holds_as_typed(raw: str, label: str) -> bool:
    """Whether the answer holds the label as written, as whole words (“bà nó”, not “ba nó”)."""
    words = re.sub(r"[^\w\s]", " ", _as_typed(raw)).split()
    want = _as_typed(label).split()
    return any(words[i:i + len(want)] == want for i in range(len(words) - len(want) + 1))


_YES_NO_WORDS = {"co": "có", "khong": "không"}
"""A bare “có” or “không” (folded): it picks only a choice whose label opens with that very word (“Có năng lực
…”), never one whose first word folds the same (“Cơ quan”, “Cô”), nor one that merely contains it."""


def _first_word(label: str) -> str:
    words = nfc(label).lower().replace(",", " ").split()
    return words[0] if words else ""


def _fuzzy_label_score(answer: str, label: str) -> float:
    """Similarity of the answer to the label or to a same-length run of its
    words ("ket hn" vs "Đăng ký kết hôn")."""
    score = similarity_folded(answer, label)  # both already folded by _clean
    n = len(answer.split())
    words = label.split()
    if len(answer) >= 4 and n < len(words):
        typed = answer.split()
        for i in range(len(words) - n + 1):  # a part of the label is weaker evidence than the whole of it:
            # “dung lai” (dừng lại) is 0.8 like “dung ra” (đứng ra), and is not that option
            run = words[i : i + n]
            if n > 1 and not _words_alike(typed, run):
                continue  # “nguoi gia” is not “người gặp”: a word of it is another word, not mistyped
            score = max(score, similarity_folded(answer, " ".join(run)) - _PART_PENALTY)
    return score


def _words_alike(typed: list[str], run: list[str]) -> bool:
    """Whether the words that differ between an answer and a run of a label's words are like each other (a
    letter missed, “ket hn” for “kết hôn”), rather than the same first word and then another one."""
    differ = [(a, b) for a, b in zip(typed, run, strict=True) if a != b]
    return similarity_folded(" ".join(a for a, _ in differ), " ".join(b for _, b in differ)) >= _WORD_ALIKE


_WORD_ALIKE = 0.75


_PART_PENALTY = 0.05


_NONE_ANSWERS = frozenset(
    {
        "khong", "khong co", "ko", "ko co", "k", "kh", "k co", "khong chon", "khong co gi",
        "khong can", "none", "no", "chua co", "khong co a", "ko co a", "khong a",
    }
)  # fmt: skip
_ALL_ANSWERS = frozenset({"tat ca", "het", "chon het", "tat ca cac muc", "all"})
_BOTH_ANSWERS: dict[str, int] = {"ca hai": 2, "ca 2": 2, "ca ba": 3, "ca 3": 3, "ca bon": 4, "ca 4": 4}
_MULTI_SPLIT = re.compile(r"\s*(?:[,;/+&\n]|\bva\b|\bvoi\b|\bcung\b)\s*")


def match_multi_choice(raw: str, choices: Sequence[tuple[str, str]],
                       also: Sequence[tuple[str, Sequence[str]]] = ()) -> list[str] | None:
    """Match several choices in one answer; values are returned in choice order.

    Accepts "1, 3", "1 3", "1;3", "1 và 3", labels separated by commas and
    "tất cả" (every choice); a part may be one of a choice's other words (``also``, as :func:`match_also`
    reads them: “trẻ mồ côi, người già”).  "không" / "không có" → ``[]``.  Returns
    ``None`` when some part cannot be matched.
    """
    def one(part: str) -> list[str] | None:
        found = match_choice(part, choices)
        if found is not None:
            return [found]
        return also_all(part, also) or None

    text = nfc(raw or "").strip()
    if not text:
        return None
    text = without_polite(text)  # “dạ 1 và 2 ạ”
    cleaned = _clean(text)
    if cleaned in _NONE_ANSWERS:
        return []
    if cleaned in _ALL_ANSWERS or _BOTH_ANSWERS.get(cleaned) == len(choices):
        return [v for v, _ in choices]
    parts = [p.strip(" .") for p in _MULTI_SPLIT.split(fold(text))]
    parts = [p for p in parts if p]
    if len(parts) > 1 or re.fullmatch(r"\d{1,3}(?:\s+\d{1,3})+", cleaned):
        picked: set[str] = set()
        for part in parts:
            if re.fullmatch(r"\d{1,3}(?:\s+\d{1,3})+", part):
                subs: list[str] = part.split()
            else:
                subs = [part]
            values = [one(sub) for sub in subs]
            if any(v is None for v in values):
                break
            picked.update(v for vs in values if vs is not None for v in vs)
        else:
            return [v for v, _ in choices if v in picked]
    # One answer, or a single label that itself contains a separator.
    if len(parts) <= 1:
        whole = one(text)
        return [v for v, _ in choices if v in whole] if whole else None
    label = match_choice(text, choices)
    return [label] if label is not None else None


def unread_parts(raw: str, choices: Sequence[tuple[str, str]],
                 also: Sequence[tuple[str, Sequence[str]]] = ()) -> tuple[list[str], list[str]]:
    """For an answer of several parts that :func:`match_multi_choice` cannot read whole (“nuôi dưỡng và dạy chữ
    cho các cháu”): the choices its parts name, in choice order, and the parts that name none, as typed."""
    typed = nfc(raw or "").strip()
    folded = fold(typed)
    picked: set[str] = set()
    unread: list[str] = []
    for part in (p.strip(" .") for p in _MULTI_SPLIT.split(fold(without_polite(typed)))):
        if not part:
            continue
        for sub in part.split() if re.fullmatch(r"\d{1,3}(?:\s+\d{1,3})+", part) else [part]:
            found = match_choice(sub, choices)
            values = [found] if found is not None else also_all(sub, also)
            if values:
                picked.update(values)
                continue
            at = folded.find(sub) if len(folded) == len(typed) else -1  # (folding kept the length: as typed)
            unread.append(typed[at:at + len(sub)] if at >= 0 else sub)
    return [v for v, _ in choices if v in picked], unread


# --------------------------------------------------------------------------
# Attachments
# --------------------------------------------------------------------------

def sniff_mime(data: bytes) -> str | None:
    """Identify an upload from its magic bytes at offset 0 (never trust the file name)."""
    return filecheck.sniff(data)


def _accepts(mime: str, accept: Sequence[str]) -> bool:
    for pattern in accept:
        if pattern == mime or pattern == "*/*":
            return True
        if pattern.endswith("/*") and mime.startswith(pattern[:-1]):
            return True
    return False


def _mb(n: int) -> str:
    value = n / (1024 * 1024)
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


_FILE_PROBLEMS = {
    "markup": N_("Tệp này có chứa nội dung trang web hoặc mã lệnh nên không được nhận, vì lý do an toàn. "
                 "Vui lòng gửi ảnh chụp (JPG, PNG) hoặc tệp PDF thông thường."),
    "polyglot": N_("Tệp này có chứa nội dung trang web hoặc mã lệnh nên không được nhận, vì lý do an toàn. "
                   "Vui lòng gửi ảnh chụp (JPG, PNG) hoặc tệp PDF thông thường."),
    "damaged": N_("Tệp này bị hỏng hoặc không mở được. Vui lòng chụp lại hoặc gửi tệp khác."),
    "too_many_pixels": N_("Ảnh có kích thước quá lớn. Vui lòng chụp lại hoặc gửi ảnh nhỏ hơn."),
    "pdf_active": N_("Tệp PDF này có chứa mã lệnh hoặc tệp đính kèm bên trong nên không được nhận, vì lý do an "
                     "toàn. Vui lòng gửi bản PDF thông thường hoặc ảnh chụp giấy tờ."),
    "pdf_encrypted": N_("Tệp PDF này có đặt mật khẩu nên cán bộ không mở được. Vui lòng gửi bản không đặt mật "
                        "khẩu hoặc ảnh chụp giấy tờ."),
}


def check_attachment(data: bytes, *, accept: Sequence[str], max_bytes: int) -> str:
    """Validate an uploaded file; return its MIME type, sniffed from its bytes.

    ``accept`` lists MIME types (``image/*`` wildcards allowed). The size is checked first; then the type
    (at offset 0), then the real structure (see :mod:`dialogs.filecheck`): SVG, HTML, polyglots, damaged
    files, pixel bombs and PDFs with scripts or embedded files are refused with a plain message.
    """
    if not data:
        raise Invalid(N_("Tệp bạn gửi bị trống. Vui lòng gửi lại."))
    if len(data) > max_bytes:
        raise Invalid(
            N_("Tệp quá lớn ({size} MB). Vui lòng gửi tệp nhỏ hơn {max} MB."),
            size=_mb(len(data)),
            max=_mb(max_bytes),
        )
    mime = sniff_mime(data)
    if mime is None and filecheck.looks_like_markup(data):
        raise Invalid(_FILE_PROBLEMS["markup"])
    if mime is None or not _accepts(mime, accept):
        wants_image = any(a.startswith("image/") for a in accept)
        wants_pdf = any(a == "application/pdf" for a in accept)
        if wants_image and not wants_pdf:
            raise Invalid(N_("Tệp này không phải ảnh. Vui lòng gửi ảnh chụp (JPG, PNG, HEIC)."))
        if wants_pdf and not wants_image:
            raise Invalid(N_("Tệp này không phải PDF. Vui lòng gửi tệp PDF."))
        raise Invalid(N_("Tệp này không phải ảnh hoặc PDF. Vui lòng gửi ảnh chụp (JPG, PNG) hoặc tệp PDF."))
    try:
        filecheck.inspect(data, mime)
    except filecheck.FileProblem as exc:
        raise Invalid(_FILE_PROBLEMS.get(exc.code, _FILE_PROBLEMS["damaged"])) from None
    return mime
