"""A number, whole or not, within bounds."""
from __future__ import annotations

from .. import parsing
from .base import Kind


class Number(Kind):
    name = "number"
    wordless = True
    unknown_first = False  # "không có" to a count is none (parsing.parse_number)

    def parse(self, f, raw, *, today, lookup):
        return parsing.parse_number(raw, integer=f.integer, min=f.min, max=f.max)

    def said_back(self, f, raw, value):
        return not any(ch.isdigit() for ch in raw or "")  # “hai”, “không cần”: not “2 bản”

    def display(self, f, value, t):
        return t.number(value)


KIND = Number()
