"""A number, whole or not, within bounds."""
from __future__ import annotations

from .. import parsing
from .base import Kind, read_not_copied


class Number(Kind):
    name = "number"
    unknown_first = False  # "không có" to a count is none (parsing.parse_number)

    def parse(self, f, raw, *, today, lookup):
        return parsing.parse_number(raw, integer=f.integer, min=f.min, max=f.max)

    def said_back(self, f, raw, value):
        return read_not_copied(raw)

    def display(self, f, value, t):
        return t.number(value)


KIND = Number()
