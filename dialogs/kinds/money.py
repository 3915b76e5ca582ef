"""An amount of money in whole đồng (“1,5 triệu” included)."""
from __future__ import annotations

from .. import parsing
from ..i18n import N_
from .base import Kind


class Money(Kind):
    name = "money"
    hint = N_("Nhập số tiền, ví dụ 1.500.000 hoặc 1,5 triệu.")

    def parse(self, f, raw, *, today, lookup):
        return parsing.parse_money(raw, min=f.min, max=f.max)

    def display(self, f, value, t):
        return t.money(value)


KIND = Money()
