"""A Vietnamese mobile number."""
from __future__ import annotations

from .. import parsing
from ..i18n import N_
from .base import Kind


class Phone(Kind):
    name = "phone"
    hint = N_("Nhập số di động, ví dụ 0912345678.")

    def parse(self, f, raw, *, today, lookup):
        return parsing.parse_phone(raw)


KIND = Phone()
