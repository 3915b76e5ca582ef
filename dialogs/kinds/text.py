"""Free text, with optional length bounds and a pattern, and the usual spelling of a listed name. An answer without a
letter is refused (a bare “1”: an option's number typed at the wrong question) unless the field says ``letters: false``
(a document's number) or has a pattern."""
from __future__ import annotations

import re

from .. import parsing, spelling
from ..i18n import N_
from ..textnorm import without_polite_end
from .base import Kind

_ROMAN = re.compile(r"[IVXLC]{1,8}")  # a register's book may be numbered so


class Text(Kind):
    name = "text"
    any_words = True

    def parse(self, f, raw, *, today, lookup):
        text = parsing.parse_text(without_polite_end(raw), min_len=f.min_len or 1, max_len=f.max_len or 500,
                                  pattern=f.pattern, pattern_message=f.pattern_message)  # (“con trai ạ”)
        if not f.letters and f.pattern is None and not any(ch.isdigit() for ch in text) and \
                not _ROMAN.fullmatch(text):  # a document's number: “co giay” is none
            if not f.required:
                raise parsing.Invalid(N_("“{answer}” không phải số của giấy tờ. Vui lòng gõ số ghi trên giấy, ví dụ "
                                         "{example}; nếu không có, gõ “bỏ qua”."), answer=text[:20],
                                      example=f.example or "125")
            raise parsing.Invalid(N_("“{answer}” không phải số của giấy tờ. Vui lòng gõ số ghi trên giấy, ví dụ "
                                     "{example}."), answer=text[:20], example=f.example or "125")
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
        if f.spelling not in spelling.LISTS:
            return text
        if any(ch.isdigit() for ch in text):  # “thôn 3”: an address typed early; no listed name has a digit
            raise parsing.Invalid(spelling.LIST_NO_DIGITS[f.spelling])
        if not spelling.listed(f.spelling, spelling.spell(f.spelling, text)) and spelling.is_place(text):
            raise parsing.Invalid(spelling.LIST_A_PLACE[f.spelling], value=text[:40])  # “ha tinh”: not kept as typed
        return spelling.spell(f.spelling, text)


KIND = Text()
