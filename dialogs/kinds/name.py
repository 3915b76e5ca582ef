"""A person's name, written with its Vietnamese diacritics (the engine offers the usual spelling of a
name typed without them: dialogs/engine/names.py)."""
from __future__ import annotations

import re

from .. import nlu, parsing
from ..i18n import N_
from ..textnorm import nfc
from .base import Kind

_JOINED = re.compile(r"\s*(?:[,;&+/]|\b(?:và|va|với|voi)\b)\s*", re.IGNORECASE)


class Name(Kind):
    name = "name"
    any_words = True
    more_help = N_("Ghi họ tên đầy đủ, có dấu, đúng như trên giấy tờ tùy thân (căn cước, giấy khai sinh).")

    def parse(self, f, raw, *, today, lookup):
        parts = [p for p in _JOINED.split(nfc(raw or "").strip()) if p]
        if sum(1 for p in parts if len(p.split()) >= 2 and nlu.starts_with_surname(p)) >= 2:
            # “Nguyễn Văn An và Nguyễn Văn Bình” (twins) was filed as one name of seven words
            raise parsing.Invalid(N_("“{answer}” có hai họ tên. Câu này hỏi họ tên của một người, mỗi hồ sơ khai cho "
                                     "một người. Vui lòng gõ một họ tên."), answer=(raw or "").strip()[:60])
        return parsing.parse_name(nlu.name_of(raw), upper=f.upper)  # (“cụ Nguyễn Văn An”: the name alone)


KIND = Name()
