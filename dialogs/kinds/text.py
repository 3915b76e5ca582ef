"""Free text, with optional length bounds and a pattern, and the usual spelling of a listed name. An answer without a
letter is refused (a bare “1”: an option's number typed at the wrong question) unless the field says ``letters: false``
(a document's number) or has a pattern. ``same_as`` names earlier name questions whose answers are offered under
this one (an account's holder: the applicant), a press, their number or “như trên” (the first) taking one."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import parsing, spelling
from ..i18n import N_
from ..messages import ChoiceOut
from ..textnorm import fold, without_polite_end
from .base import AskParts, Kind

_ROMAN = re.compile(r"[IVXLC]{1,8}")  # a register's book may be numbered so
# words before a place typed as a sentence (“(theo) quê bố nó ở nghệ an”, “ở hà tĩnh”): not part of the place
_PLACE_LEAD = re.compile(r"^(?:(?:(?:lay\s+)?theo\s+|giong\s+)?que(?:\s+quan)?\s+(?:(?:cua\s+)?"
                         r"(?:bo|me|cha|ong|ba|toi|minh|em|chau|be|ong noi|ba noi|ong ngoai|ba ngoai)"
                         r"(?:\s+(?:no|chau|be|toi|em|minh))?\s+)?(?:o|tai|la)|o|tai|thuoc)\s+")
# “(ở) với chú tôi ở …”, “về sống cùng con gái tại …”: whom one lives with, before the place (folded)
_WITH_SOMEONE_AT = re.compile(r"^(?:(?:o|song|chuyen|ve|vao|ra|den|len|xuong)\s+)*(?:voi|cung)\s+(?:\S+\s+){1,4}?"
                              r"(?:o|tai)\s+")
# a place said only as someone's (“giống mẹ”, “theo quê bố”, “quê của ông nội”), folded: no place is named
_SOMEONES_PLACE = re.compile(r"(?:(?:lay\s+)?(?:theo|giong|nhu|cung|y\s+nhu)\s+)?(?:que(?:\s+quan)?\s+)?(?:cua\s+)?"
                             r"(?:bo|me|cha|ma|ba|ong|bo me|cha me|ong noi|ba noi|ong ngoai|ba ngoai|vo|chong)"
                             r"(?:\s+(?:no|chau|be|toi|em|minh))?")
_WHOLE_DATE = re.compile(r"\s*\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*(?:19|20)\d{2}\s*")  # no document's number
_SAME = (*parsing.SAME_AS_ABOVE, "ten tren", "ten nhu tren", "ten toi", "ten cua toi", "chinh toi", "cua toi",
         "toi", "dung ten toi", "tai khoan cua toi", "tk cua toi", "my name", "mine")


def _earlier(f, answer) -> list[str]:
    """The answers of the field's ``same_as`` questions, each name once, in their order."""
    out: list[str] = []
    for ref in f.same_as:
        v = answer(ref)
        if isinstance(v, str) and v.strip() and fold(v) not in {fold(o) for o in out}:
            out.append(v)
    return out


def _same_as(raw: str, earlier: list[str]) -> str | None:
    """An earlier answer chosen: its option pressed (``same:2``) or its number typed, or “như trên” (the first)."""
    text = raw.strip()
    if text.startswith("same:") and text[5:].isdigit():
        n = int(text[5:])
    elif text.isdigit():
        n = int(text)
    else:
        n = 1 if parsing.says_only(text, _SAME) else 0
    return earlier[n - 1] if 1 <= n <= len(earlier) else None


class Text(Kind):
    name = "text"
    any_words = True

    def parse(self, f, raw, *, today, lookup):
        value = self._read(f, raw, today=today, lookup=lookup)
        return value.upper() if f.upper and isinstance(value, str) else value  # (a bank's account holder)

    def _read(self, f, raw, *, today, lookup):
        if f.same_as and (same := _same_as(raw, _earlier(f, lookup or (lambda ref: None)))) is not None:
            return same
        if f.spelling in spelling.LISTS and any(ch.isdigit() for ch in raw):  # before its length: said what it is
            raise parsing.Invalid(spelling.LIST_NO_DIGITS[f.spelling])  # (“ở thôn 2 xã …”: an address typed early)
        text = parsing.parse_text(without_polite_end(raw), min_len=f.min_len or 1, max_len=f.max_len or 500,
                                  pattern=f.pattern, pattern_message=f.pattern_message)  # (“con trai ạ”)
        if f.spelling == spelling.PLACES and _SOMEONES_PLACE.fullmatch(fold(text).strip(" .!")):
            raise parsing.Invalid(N_("“{answer}” chưa ghi nơi nào. Vui lòng gõ tên nơi đó (xã, tỉnh), ví dụ "
                                     "{example}."), answer=text[:30],
                                  example=f.example or "Xã Nhân Cơ, tỉnh Lâm Đồng")
        for lead_re in (_WITH_SOMEONE_AT, _PLACE_LEAD) if f.spelling == spelling.PLACES else ():
            if (lead := lead_re.match(fold(text))) is not None and len(text.split()) > len(lead.group().split()):
                text = " ".join(text.split()[len(lead.group().split()):])  # “quê bố nó ở nghệ an”: the place
        if not f.letters and f.pattern is None:
            text = parsing.document_number(text)  # “số 45/2019”, “so: 12”: as the form's “Số:” line takes it
        if not f.letters and f.pattern is None and not any(ch.isdigit() for ch in text) and \
                not _ROMAN.fullmatch(text):  # a document's number: “co giay” is none
            if not f.required:
                raise parsing.Invalid(N_("“{answer}” không phải số của giấy tờ. Vui lòng gõ số ghi trên giấy, ví dụ "
                                         "{example}; nếu không có, gõ “bỏ qua”."), answer=text[:20],
                                      example=f.example or "125")
            raise parsing.Invalid(N_("“{answer}” không phải số của giấy tờ. Vui lòng gõ số ghi trên giấy, ví dụ "
                                     "{example}."), answer=text[:20], example=f.example or "125")
        if not f.letters and f.pattern is None and _WHOLE_DATE.fullmatch(text):  # the date of issue, asked apart
            raise parsing.Invalid(N_("“{answer}” là một ngày, không phải số của giấy tờ. Vui lòng gõ số ghi trên "
                                     "giấy, ví dụ {example}; ngày cấp được hỏi riêng."), answer=text[:20],
                                  example=f.example or "125")
        if f.letters and f.pattern is None and not any(ch.isalpha() for ch in text):
            raise parsing.Invalid(N_("Vui lòng trả lời bằng chữ, không chỉ bằng số hay ký hiệu."))
        if f.letters and f.pattern is None and parsing.is_acknowledgement(text):  # “ok”, “xong”: not what was asked
            if not f.required:
                raise parsing.Invalid(N_("“{answer}” chưa trả lời câu hỏi này. Vui lòng ghi rõ nội dung; nếu không có, "
                                         "gõ “bỏ qua”."), answer=text[:20])
            raise parsing.Invalid(N_("“{answer}” chưa trả lời câu hỏi này. Vui lòng ghi rõ nội dung."),
                                  answer=text[:20])
        if f.letters and f.pattern is None and parsing.says_only(text, parsing.SAME_AS_ABOVE):  # never filed so
            raise parsing.Invalid(N_("Giấy tờ cần ghi đầy đủ, không ghi “như trên”. Vui lòng gõ rõ câu trả lời."))
        # a place is restored with a question (engine/names.py), never here
        if f.spelling in spelling.QUIET:
            return spelling.spell(f.spelling, text)  # (“hang xom”: Hàng xóm; anything else as typed)
        if f.spelling not in spelling.LISTS:
            return text
        if not spelling.listed(f.spelling, spelling.spell(f.spelling, text)) and any(
                spelling.is_place(part) for part in text.split(",")):  # (“ban na hang, xa muong lat, thanh hoa”)
            raise parsing.Invalid(spelling.LIST_A_PLACE[f.spelling], value=text[:40])  # “ha tinh”: not kept as typed
        return spelling.spell(f.spelling, text)

    def said_back(self, f, raw, value):
        """An earlier answer taken by “như trên” or its number is said back."""
        return bool(f.same_as) and isinstance(value, str) and fold(raw.strip()) != fold(value)

    def question(self, f, path, pending, t, answers: Mapping[str, Any] | None = None):
        asked = super().question(f, path, pending, t, answers)
        earlier = _earlier(f, (answers or {}).get) if f.same_as else []
        if not earlier:
            return asked
        return AskParts(kind=self.name, lines=(*asked.lines, t(N_("Nếu trùng một tên đã khai, chọn ở dưới."))),
                        choices=tuple(ChoiceOut(f"same:{i}", name) for i, name in enumerate(earlier, start=1)))


KIND = Text()
