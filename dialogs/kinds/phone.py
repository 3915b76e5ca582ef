"""A Vietnamese mobile number; “như trên” takes the number given for one of the field's ``same_as`` phone questions
(the helper's own number, given again as the household's contact)."""
from __future__ import annotations

import re

from .. import parsing
from ..i18n import N_
from ..parsing import Invalid
from ..textnorm import fold_words
from .base import AskParts, Kind

_SAME = (*parsing.SAME_AS_ABOVE, "so tren", "so o tren", "so nhu tren", "cung so", "cung so tren", "giong so tren",
         "so cua toi", "so toi", "so dien thoai cua toi", "nhu so tren", "same number", "my number")


_MINE = re.compile(r"\b(?:lay|dung|ghi|goi|lien he|lien lac)(?: qua| vao| theo| cho)?\s+"
                   r"(?:so|sdt|so dien thoai|so dt)\s+(?:cua\s+)?(?:toi|minh|em|chau)"
                   r"(?:\s+(?:nhe|nha|a|di|luon|cung duoc|la duoc|duoc))*\s*(?:[,.;!]|$)")
"""A sentence that asks for the filer's own number (“ông không có điện thoại, lấy số của tôi”)."""


def said_same(raw: str) -> bool:
    """Whether the answer says “the number given above” (“như trên”, “số của tôi”), and nothing more (“số tôi
    0987 654 321” is that number), or asks for it in a sentence with no digit (“ông không có điện thoại, lấy số
    của tôi nhé”)."""
    return parsing.says_only(raw, _SAME) or (not any(ch.isdigit() for ch in raw) and
                                              _MINE.search(fold_words(raw)) is not None)


class Phone(Kind):
    name = "phone"
    distinctive = True
    unknown_first = False  # (read first: “ông không có điện thoại, lấy số của tôi” is the number above)
    where_found = N_("Nếu người này không có điện thoại, ghi số của người thân hoặc hàng xóm ở gần để cán bộ liên lạc "
                     "khi cần.")
    hint = N_("Nhập số di động, ví dụ 0912345678.")
    more_help = N_("Cán bộ gọi số này khi cần hỏi thêm hoặc báo kết quả; số được giữ kín. Nếu khai giúp người "
                   "khác, ghi số của người đó hoặc của người thân ở gần họ.")

    def parse(self, f, raw, *, today, lookup):
        if f.same_as and said_same(raw):
            given = next((v for v in (lookup(ref) if lookup else None for ref in f.same_as) if isinstance(v, str)),
                         None)
            if given is None:
                raise Invalid(N_("Chưa có số điện thoại nào đã khai ở trên. Vui lòng nhập số di động, ví dụ "
                                 "0912345678."))
            return given
        return parsing.parse_phone(raw)

    def said_back(self, f, raw, value):
        return bool(f.same_as) and said_same(raw)  # the number above, taken: which one, said

    def question(self, f, path, pending, t, answers=None):
        asked = super().question(f, path, pending, t, answers)
        if any(isinstance((answers or {}).get(ref), str) for ref in f.same_as):  # (the number itself not repeated)
            return AskParts(kind=self.name, lines=(*asked.lines, t(N_("Nếu là số đã khai ở trên, gõ “như trên”."))))
        return asked


KIND = Phone()
