"""A Vietnamese mobile number."""
from __future__ import annotations

from .. import parsing
from ..i18n import N_
from .base import Kind


class Phone(Kind):
    name = "phone"
    hint = N_("Nhập số di động, ví dụ 0912345678.")
    more_help = N_("Cán bộ gọi số này khi cần hỏi thêm hoặc báo kết quả; số được giữ kín. Nếu khai giúp người "
                   "khác, ghi số của người đó hoặc của người thân ở gần họ.")

    def parse(self, f, raw, *, today, lookup):
        return parsing.parse_phone(raw)


KIND = Phone()
