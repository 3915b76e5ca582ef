"""Field kinds: turning what a person typed into a stored answer, and back into text.

Parsing itself lives in dialogs/parsing.py (pure functions, Vietnamese-aware).
This module binds a field definition's options to those parsers, and renders a
stored answer for the summary and the forms. Stored answers are JSON values:
dates as ISO strings, money as whole đồng, yes/no as booleans, choices as
their values, addresses as dicts, attachments as lists of file records.
"""
from __future__ import annotations

import re

from datetime import date
from typing import Any, Callable

from . import banks, parsing
from .i18n import N_, Translator
from .parsing import Invalid
from .schema import FieldDef

ACCEPT_MIME = {
    "image": ("image/jpeg", "image/png", "image/webp", "image/heic", "image/gif"),
    "pdf": ("application/pdf",),
}

# How to answer, shown under a question of each kind.
KIND_HINTS: dict[str, str] = {
    "date": N_("Nhập ngày/tháng/năm, ví dụ 05/03/1960."),
    "id_number": N_("Nhập 12 số trên thẻ căn cước (CCCD)."),
    "phone": N_("Nhập số di động, ví dụ 0912345678."),
    "money": N_("Nhập số tiền, ví dụ 1.500.000 hoặc 1,5 triệu."),
    "yes_no": N_("Trả lời Có hoặc Không."),
    "multi_choice": N_("Có thể chọn nhiều: gõ các số, cách nhau bởi dấu phẩy (ví dụ 1, 3). Không có mục nào: gõ “không”."),
    "attachment": N_("Gửi ảnh chụp rõ nét hoặc tệp PDF."),
    "address": N_("Nhập tỉnh/thành phố (theo danh sách 34 tỉnh, thành mới), ví dụ: Lâm Đồng."),
    "id_card": N_("Gửi ảnh chụp mặt trước thẻ (có mã QR), hoặc gõ từng mục."),
    "bank": banks.HINT_BANK,  # issue #6: dialogs/banks.py
    "bank_account": banks.HINT_ACCOUNT,
}


def parse_value(f: FieldDef, raw: str, *, today: date, lookup: Callable[[str], Any]) -> Any:
    """Parse typed text for field ``f``; raise Invalid with a specific message."""
    raw = raw.strip()
    if not raw:
        raise Invalid(N_("Bạn chưa nhập gì. Vui lòng trả lời câu hỏi."))
    k = f.kind
    if k == "text":
        return parsing.parse_text(raw, min_len=f.min_len or 1, max_len=f.max_len or 500,
                                  pattern=f.pattern, pattern_message=f.pattern_message)
    if k == "name":
        return parsing.parse_name(raw, upper=f.upper)
    if k == "date":
        not_after = today if f.past_only else None
        not_before = today if f.future_only else f.not_before
        return parsing.parse_date(raw, today=today, not_before=not_before, not_after=not_after,
                                  prefer_past=f.past_only).isoformat()
    if k == "id_number":
        bd = lookup(f.birth_date_field) if f.birth_date_field else None
        sex = lookup(f.sex_field) if f.sex_field else None
        return parsing.parse_id_number(raw, birth_date=bd if isinstance(bd, date) else None,
                                       sex=sex if isinstance(sex, str) else None)
    if k == "phone":
        return parsing.parse_phone(raw)
    if k == "email":
        return parsing.parse_email(raw)
    if k == "number":
        return parsing.parse_number(raw, integer=f.integer, min=f.min, max=f.max)
    if k == "money":
        return parsing.parse_money(raw, min=f.min, max=f.max)
    if k == "yes_no":
        return parsing.parse_yes_no(raw)
    if k == "confirm":
        said_no = False
        try:
            if parsing.parse_yes_no(raw):
                return True
            said_no = True
        except Invalid:
            pass
        if f.confirm_label and parsing.match_choice(raw, [("yes", f.confirm_label)]) == "yes":
            return True
        if said_no:  # no dead end: say what declining means and how to stop or go back
            raise Invalid(N_("Để đi tiếp, bạn cần chọn “{label}”. Nếu không muốn tiếp tục, gõ “hủy” (hồ sơ sẽ không "
                             "được nộp), hoặc gõ “quay lại” để sửa câu trả lời trước."),
                          label=f.confirm_label or N_("Có"))
        raise Invalid(N_("Vui lòng chọn “{label}” để xác nhận."), label=f.confirm_label or N_("Có"))
    if k == "choice":
        v = parsing.match_choice(raw, [(c.value, c.label) for c in f.choices])
        if v is None:
            _number_not_listed(raw, len(f.choices))
            raise Invalid(N_("Chưa rõ lựa chọn của bạn. Vui lòng gõ số thứ tự của một lựa chọn bên dưới."))
        return v
    if k == "multi_choice":
        vs = parsing.match_multi_choice(raw, [(c.value, c.label) for c in f.choices])
        if vs is None:
            _number_not_listed(raw, len(f.choices))
            raise Invalid(N_("Chưa rõ lựa chọn của bạn. Gõ các số thứ tự, cách nhau bởi dấu phẩy, ví dụ: 1, 3."))
        if f.min_selected is not None and len(vs) < f.min_selected:
            raise Invalid(N_("Vui lòng chọn ít nhất {n} mục."), n=f.min_selected)
        if f.max_selected is not None and len(vs) > f.max_selected:
            raise Invalid(N_("Vui lòng chọn nhiều nhất {n} mục."), n=f.max_selected)
        return vs
    if k in banks.KINDS:  # issue #6
        return banks.parse_value(k, raw, f.bank_field, lookup)
    if k == "attachment":
        raise Invalid(N_("Câu hỏi này cần một ảnh chụp hoặc tệp PDF. Vui lòng gửi tệp, không gõ chữ."))
    raise Invalid(N_("Chưa hiểu câu trả lời. Vui lòng thử lại."))


def _number_not_listed(raw: str, n: int) -> None:
    """“9” (or “1, 9”) where the list has fewer items: say which number is not on it."""
    numbers = [int(x) for x in re.findall(r"\d+", raw or "")]
    if numbers and re.fullmatch(r"[\d\s,;.và&+-]*", (raw or "").strip()):
        bad = next((x for x in numbers if not 1 <= x <= n), None)
        if bad is not None:
            raise Invalid(N_("Số {number} không có trong danh sách. Vui lòng gõ số từ 1 đến {n}."), number=bad, n=n)


def accepted_mimes(f: FieldDef) -> list[str]:
    return [m for a in f.accept for m in ACCEPT_MIME[a]]


def display(f: FieldDef, value: Any, t: Translator) -> str:
    """A stored answer as a person reads it."""
    if value is None:
        return t(N_("(bỏ qua)"))
    k = f.kind
    if k == "date":
        try:
            return t.date(date.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    if k in ("yes_no", "confirm"):
        return t(N_("Có")) if value else t(N_("Không"))
    if k == "money":
        return t.money(value)
    if k == "number":
        return t.number(value)
    if k == "choice":
        return next((t(c.label) for c in f.choices if c.value == value), str(value))
    if k == "multi_choice":
        labels = [t(c.label) for c in f.choices if c.value in value]
        return ", ".join(labels) if labels else t(N_("Không có"))
    if k == "address":
        if isinstance(value, dict):
            return format_address(value)
        return str(value)
    if k == "attachment":
        return t(N_("{n} tệp đính kèm"), n=len(value or []))
    if k in banks.KINDS:  # issue #6
        return banks.display(k, value, t)
    if k == "id_card":
        return t(N_("Điền theo thẻ căn cước")) if value == "card" else t(N_("Gõ từng mục"))
    return str(value)


def format_address(value: dict) -> str:
    parts = [value.get("detail"), value.get("commune"), value.get("province")]
    return ", ".join(p for p in parts if p)


def mask(f: FieldDef, value: Any) -> str:
    """A form of the answer safe to write to logs."""
    if value is None:
        return "-"
    if f.pii or f.kind in ("id_number", "phone", "email", "address", "name", "bank_account"):
        return "***"
    return str(value)[:40]
