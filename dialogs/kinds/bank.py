"""A bank, stored as its BIN (the logic and the bank list are in dialogs/banks.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .. import banks
from ..pending import Pending, register
from .base import Kind


@register
@dataclass
class BankPick(Pending):
    """An ambiguous bank name: the candidates offered as choices (a typed number picks one)."""

    kinds: ClassVar[tuple[str, ...]] = ("bank",)
    path: str = ""
    options: list[str] = field(default_factory=list)


class Bank(Kind):
    name = "bank"
    hint = banks.HINT_BANK

    def parse(self, f, raw, *, today, lookup):
        return banks.parse_value(self.name, raw, f.bank_field, lookup)

    def display(self, f, value, t):
        return banks.display(self.name, value, t)


KIND = Bank()
