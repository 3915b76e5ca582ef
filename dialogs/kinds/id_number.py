"""A 12-digit citizen identity number, checked against the birth date and sex given, when known (and, where the
field allows it, an old 9-digit CMND number)."""
from __future__ import annotations

from datetime import date

from .. import parsing
from ..i18n import N_
from .base import Kind


class IdNumber(Kind):
    name = "id_number"
    distinctive = True
    hint = N_("Nhập 12 số trên thẻ căn cước (CCCD).")
    more_help = N_("Số định danh cá nhân là 12 số in trên thẻ căn cước (CCCD), cũng có trên ứng dụng VNeID và "
                   "thẻ bảo hiểm y tế mẫu mới. Số này được giữ kín, chỉ cán bộ xử lý hồ sơ được xem.")

    where_found = N_("Mỗi công dân đều có số định danh cá nhân, kể cả khi chưa làm thẻ căn cước: số này có trên ứng "
                     "dụng VNeID, hoặc hỏi Công an cấp xã nơi cư trú.")

    def hint_for(self, f):
        if f.accept_cmnd:
            return N_("Nhập 12 số trên thẻ căn cước (CCCD), hoặc 9 số trên chứng minh nhân dân (CMND) cũ.")
        return self.hint

    def parse(self, f, raw, *, today, lookup):
        bd = lookup(f.birth_date_field) if f.birth_date_field else None
        sex = f.sex or (lookup(f.sex_field) if f.sex_field else None)
        if f.sex_values:
            sex = f.sex_values.get(sex) if isinstance(sex, str) else None
        return parsing.parse_id_number(raw, birth_date=bd if isinstance(bd, date) else None,
                                       sex=sex if isinstance(sex, str) else None, allow_cmnd=f.accept_cmnd)

    def display(self, f, value, t):
        if isinstance(value, str) and len(value) == 9:
            return t(N_("{number} (số CMND cũ)"), number=value)
        return str(value)


KIND = IdNumber()
