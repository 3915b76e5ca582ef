"""The QR code on the face of a citizen ID card (CCCD, and the 2024 căn cước card): read, checked, and
turned into answers for a person block of a procedure.

The QR holds seven fields separated by "|": the 12-digit personal identification number, the old 9-digit
number (often empty), the full name, the date of birth (ddmmyyyy), the sex, the permanent address as
written when the card was issued (before the 2025 mergers, for most cards) and the issue date (ddmmyyyy).

A QR in a photo may hold anything: a URL, a bank's VietQR (EMVCo) payload, a megabyte of text, control
characters. The payload is capped before it is parsed, and anything that is not exactly a card is refused
as a whole. A card whose fields disagree (an ID number whose century or sex digit does not match the date
of birth and sex) is not refused, but the field that fails its kind's check is explained and left to be
typed: nothing read from a card is accepted without the checks a typed answer gets.

Pure: no channel, no database, no logging (the decoded data is personal data).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from . import legacy_address, parsing
from .i18n import N_
from .kinds import parse_value
from .parsing import Invalid
from .schema import FieldDef
from .textnorm import fold, nfc

MAX_PAYLOAD = 600  # a real card's payload is under 300 characters
# the order answers are proposed in: an ID number is checked against the birth date and sex before it
FILL_ORDER = ("full_name", "birth_date", "sex", "id_number", "issue_date", "address", "old_id_number")

NOT_A_CARD = N_("Mã QR trong ảnh không phải mã trên thẻ căn cước.")


@dataclass(frozen=True)
class Card:
    id_number: str
    old_id_number: str | None
    full_name: str
    birth_date: date
    sex: str  # "nam" | "nu"
    address: str
    issue_date: date | None

    def raw(self, name: str) -> str | None:
        """A card field as a person would type it (what the field's kind parses)."""
        v = getattr(self, name)
        if v is None:
            return None
        if isinstance(v, date):
            return v.strftime("%d/%m/%Y")
        if name == "sex":
            return "Nam" if v == "nam" else "Nữ"
        return str(v)


def _ddmmyyyy(s: str) -> date:
    if not re.fullmatch(r"\d{8}", s):
        raise ValueError(s)
    return date(int(s[4:]), int(s[2:4]), int(s[:2]))


def parse_payload(text: str | None) -> Card:
    """A card's QR text as a :class:`Card`; raise :class:`Invalid` with the reason otherwise."""
    if not text:
        raise Invalid(NOT_A_CARD)
    if len(text) > MAX_PAYLOAD:  # before anything else looks at it
        raise Invalid(NOT_A_CARD)
    head = text.strip()[:16].lower()
    if re.match(r"^(https?:|www\.|[a-z][a-z0-9+.-]*://)", head):
        raise Invalid(N_("Mã QR trong ảnh là một đường link, không phải mã trên thẻ căn cước."))
    if head.startswith("000201"):  # EMVCo merchant-presented payload: VietQR, VNPay-QR
        raise Invalid(N_("Mã QR trong ảnh là mã chuyển khoản ngân hàng, không phải mã trên thẻ căn cước."))
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text.rstrip("\r\n")):
        raise Invalid(NOT_A_CARD)
    parts = [nfc(p).strip() for p in text.rstrip("\r\n").split("|")]
    if len(parts) != 7:
        raise Invalid(NOT_A_CARD)
    id_number, old, name, born, sex, address, issued = parts
    if not (id_number.isascii() and id_number.isdigit()):
        raise Invalid(NOT_A_CARD)
    if len(id_number) != 12:
        raise Invalid(N_("Mã QR có số định danh {count} chữ số, trong khi số trên thẻ căn cước có đúng 12 chữ "
                         "số. Ảnh có thể không phải thẻ thật."), count=len(id_number))
    if old and not (old.isascii() and old.isdigit() and len(old) in (9, 12)):
        raise Invalid(NOT_A_CARD)
    try:
        birth = _ddmmyyyy(born)
        issue = _ddmmyyyy(issued) if issued else None
    except ValueError:
        raise Invalid(NOT_A_CARD) from None
    key = fold(sex)
    if key not in ("nam", "nu"):
        raise Invalid(NOT_A_CARD)
    if not name or len(name) > 100 or not address or len(address) > legacy_address.MAX_ADDRESS_LEN:
        raise Invalid(NOT_A_CARD)
    return Card(id_number=id_number, old_id_number=old or None, full_name=" ".join(name.split()),
                birth_date=birth, sex=key, address=" ".join(address.split()), issue_date=issue)


def first_card(texts: list[str] | tuple[str, ...]) -> tuple[Card | None, Invalid | None]:
    """The first QR text that is a card; else the reason the first one is not."""
    first_error: Invalid | None = None
    for t in texts:
        try:
            return parse_payload(t), None
        except Invalid as exc:
            first_error = first_error or exc
    return None, first_error


@dataclass
class Proposal:
    """What a card would fill in a person block: checked answers, the problems explained, and the address.

    ``values`` maps field paths to stored answers; ``problems`` lists (path, reason) for card fields that
    failed their field's checks (those questions are asked as usual); ``address`` is the address field's
    path with the old address mapped to today's units (or ``None``)."""

    values: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, Invalid]] = field(default_factory=list)
    address: tuple[str, legacy_address.LegacyMatch | None, str] | None = None  # (path, match, card text)


def propose(card: Card, mapping: dict[str, str], field_of: Callable[[str], FieldDef | None], *, today: date,
            lookup: Callable[[str], Any]) -> Proposal:
    """Check each card field that ``mapping`` sends to a field path with that field's kind and options.

    ``lookup`` resolves other answers (for cross-checks); answers proposed from the card come first."""
    out = Proposal()
    typed: dict[str, Any] = {}

    def look(ref: str) -> Any:
        return typed[ref] if ref in typed else lookup(ref)

    for name in FILL_ORDER:
        path = mapping.get(name)
        f = field_of(path) if path else None
        raw = card.raw(name)
        if f is None or raw is None or path is None:
            continue
        if f.kind == "address":
            out.address = (path, legacy_address.convert(card.address), card.address)
            continue
        try:
            if name == "id_number":  # the card against itself: century, year and sex digit
                parsing.parse_id_number(raw, birth_date=card.birth_date, sex=card.sex)
            value = _choice(f, raw) if f.kind == "choice" else parse_value(f, raw, today=today, lookup=look)
        except Invalid as exc:
            out.problems.append((path, exc))
            continue
        out.values[path] = value
        typed[path] = date.fromisoformat(value) if f.kind == "date" and len(value) == 10 else value
    return out


def _choice(f: FieldDef, raw: str) -> str:
    key = fold(raw)
    for c in f.choices:
        if fold(c.value) == key or fold(c.label) == key:
            return c.value
    picked = parsing.match_choice(raw, [(c.value, c.label) for c in f.choices])
    if picked is None:
        raise Invalid(N_("Không có lựa chọn “{text}” cho câu hỏi này."), text=raw[:20])
    return picked
