"""A calendar date, stored as an ISO string; or a year alone where the field allows it (``year_only``)."""
from __future__ import annotations

import re
from datetime import date

from .. import parsing
from ..expr import is_year
from ..i18n import N_
from ..parsing import Invalid
from ..textnorm import fold
from .base import Kind

_ONLY = re.compile(r"\b(?:chi|khong nho|ko nho|k nho|khong ro|chua ro|khong biet|ko biet|only|just)\b")
"""Words that say the papers give only the year (“chỉ có năm 1941”, “không nhớ ngày”), folded."""


_WHOLE_DATE = re.compile(r"\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{4}|\d{4}-\d{2}-\d{2}")
"""A date typed whole, as it is filed: not said back."""


class Date(Kind):
    name = "date"
    wordless = True
    hint = N_("Nhập ngày/tháng/năm, ví dụ 05/03/1960.")
    more_help = N_("Ghi đủ ngày, tháng, năm như trên giấy tờ (căn cước, giấy khai sinh, sổ hộ khẩu cũ).")

    def hint_for(self, f):
        """The format; its example is the field's own where the procedure gives one (a newborn's birth, a death,
        a storm: not a date of 1960)."""
        return N_("Nhập ngày/tháng/năm.") if f.example else self.hint

    def parse(self, f, raw, *, today, lookup):
        not_after = today if f.past_only else None
        not_before = today if f.future_only else f.not_before
        if f.year_only and (year := parsing.only_a_year(raw)) is not None:
            if not (not_before or date(1880, 1, 1)).year <= year <= today.year:
                raise Invalid(N_("Năm {year} chưa đúng. Vui lòng kiểm tra lại."), year=str(year))
            if not _ONLY.search(fold(raw)):  # “1941” alone may be a date begun: said how to keep the year alone
                raise Invalid(N_("Bạn mới nhập năm {year}. Vui lòng nhập đủ ngày/tháng/năm như trên giấy tờ, ví dụ "
                                 "05/03/{year}. Nếu giấy tờ chỉ ghi năm sinh, gõ “chỉ có năm {year}”."), year=str(year))
            return str(year)  # the papers show only the year: kept so, never made a date
        if not f.year_only and _ONLY.search(fold(raw)) and (year := parsing.only_a_year(raw)) is not None:
            # “bà không nhớ ngày sinh, chỉ biết năm 1940”: where the whole date is found, not “Ngày chưa đúng”
            raise Invalid(N_("Câu này cần đủ ngày/tháng/năm như trên giấy tờ. Ngày đầy đủ có trên thẻ căn cước, giấy "
                             "khai sinh hoặc sổ hộ khẩu cũ; giấy tờ ghi thế nào thì gõ như thế, ví dụ 01/01/{year}."),
                          year=str(year))
        # a question without its own example asks a date of long ago, a birth date (its hint's example is of 1960):
        # a day and month are not taken as this year's
        return parsing.parse_date(raw, today=today, not_before=not_before, not_after=not_after,
                                  prefer_past=f.past_only, example=f.example or parsing.DATE_EXAMPLE,
                                  year_needed=not f.example).isoformat()

    def said_back(self, f, raw, value):
        return _WHOLE_DATE.fullmatch((raw or "").strip()) is None  # “hôm kia”, “5/3” (this year), “5/3/41”

    def display(self, f, value, t):
        if is_year(value):
            return value  # (as the papers and the forms show it)
        try:
            return t.date(date.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)


KIND = Date()
