"""Free text, with optional length bounds and a pattern."""
from __future__ import annotations

from .. import parsing
from .base import Kind


class Text(Kind):
    name = "text"

    def parse(self, f, raw, *, today, lookup):
        return parsing.parse_text(raw, min_len=f.min_len or 1, max_len=f.max_len or 500,
                                  pattern=f.pattern, pattern_message=f.pattern_message)


KIND = Text()
