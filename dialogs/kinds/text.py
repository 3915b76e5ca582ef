"""Free text, with optional length bounds and a pattern, and the usual spelling of a listed name."""
from __future__ import annotations

from .. import parsing, spelling
from .base import Kind


class Text(Kind):
    name = "text"

    def parse(self, f, raw, *, today, lookup):
        text = parsing.parse_text(raw, min_len=f.min_len or 1, max_len=f.max_len or 500,
                                  pattern=f.pattern, pattern_message=f.pattern_message)
        # a place is restored with a question (engine/names.py), never here
        return spelling.spell(f.spelling, text) if f.spelling in spelling.LISTS else text


KIND = Text()
