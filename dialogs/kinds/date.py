"""A calendar date, stored as an ISO string."""
from __future__ import annotations

from datetime import date

from .. import parsing
from ..i18n import N_
from .base import Kind


class Date(Kind):
    name = "date"
    hint = N_("Nhập ngày/tháng/năm, ví dụ 05/03/1960.")
    more_help = N_("Ghi đủ ngày, tháng, năm như trên giấy tờ (căn cước, giấy khai sinh, sổ hộ khẩu cũ).")

    def hint_for(self, f):
        """The format; its example is the field's own where the procedure gives one (a newborn's birth, a death,
        a storm: not a date of 1960)."""
        return N_("Nhập ngày/tháng/năm.") if f.example else self.hint

    def parse(self, f, raw, *, today, lookup):
        not_after = today if f.past_only else None
        not_before = today if f.future_only else f.not_before
        return parsing.parse_date(raw, today=today, not_before=not_before, not_after=not_after,
                                  prefer_past=f.past_only, example=f.example or parsing.DATE_EXAMPLE).isoformat()

    def display(self, f, value, t):
        try:
            return t.date(date.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)


KIND = Date()
