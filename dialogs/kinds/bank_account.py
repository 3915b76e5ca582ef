"""A bank account number, checked against the bank chosen (dialogs/banks.py)."""
from __future__ import annotations

from .. import banks
from .base import Kind


class BankAccount(Kind):
    name = "bank_account"
    hint = banks.HINT_ACCOUNT

    def parse(self, f, raw, *, today, lookup):
        return banks.parse_value(self.name, raw, f.bank_field, lookup)

    def display(self, f, value, t):
        return banks.display(self.name, value, t)


KIND = BankAccount()
