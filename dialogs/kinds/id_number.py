"""A 12-digit citizen identity number, checked against the birth date and sex given, when known."""
from __future__ import annotations

from datetime import date

from .. import parsing
from ..i18n import N_
from .base import Kind


class IdNumber(Kind):
    name = "id_number"
    hint = N_("Nhập 12 số trên thẻ căn cước (CCCD).")

    def parse(self, f, raw, *, today, lookup):
        bd = lookup(f.birth_date_field) if f.birth_date_field else None
        sex = lookup(f.sex_field) if f.sex_field else None
        return parsing.parse_id_number(raw, birth_date=bd if isinstance(bd, date) else None,
                                       sex=sex if isinstance(sex, str) else None)


KIND = IdNumber()
