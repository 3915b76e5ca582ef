"""An amount of money in whole đồng (“1,5 triệu” included)."""
from __future__ import annotations

from .. import parsing
from ..i18n import N_
from .base import Kind, read_not_copied


class Money(Kind):
    name = "money"
    wordless = True
    hint = N_("Nhập số tiền, ví dụ 1.500.000 hoặc 1,5 triệu.")

    def parse(self, f, raw, *, today, lookup):
        return parsing.parse_money(raw, min=_whole(f.min), max=_whole(f.max), per=f.per, per_person=f.per_person)

    def said_back(self, f, raw, value):
        return read_not_copied(raw)

    def display(self, f, value, t):
        return t.money(value)


def _whole(bound: float | None) -> int | None:
    """A bound from the definition, in whole đồng (YAML gives a float: 0 would read "0.0 đồng")."""
    return None if bound is None else int(bound)


KIND = Money()
