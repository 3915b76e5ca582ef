"""A person's name, written with its Vietnamese diacritics (the engine offers the usual spelling of a
name typed without them: dialogs/engine/names.py)."""
from __future__ import annotations

from .. import nlu, parsing
from ..i18n import N_
from .base import Kind


class Name(Kind):
    name = "name"
    any_words = True
    more_help = N_("Ghi họ tên đầy đủ, có dấu, đúng như trên giấy tờ tùy thân (căn cước, giấy khai sinh).")

    def parse(self, f, raw, *, today, lookup):
        return parsing.parse_name(nlu.name_of(raw), upper=f.upper)  # (“cụ Nguyễn Văn An”: the name alone)


KIND = Name()
