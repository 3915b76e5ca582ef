"""Field kinds: turning what a person typed into a stored answer, and back into text.

Each kind is one module of this package holding a ``Kind`` subclass (dialogs/kinds/base.py) and a
``KIND`` instance: how to parse and validate typed text (``parse``, with the Vietnamese-aware parsers
of dialogs/parsing.py), how to show a stored answer (``display``), its part of the question
(``question``: hint, choices) and, where it has one, its own multi-turn handling (``intercept``,
``collect``) with its sub-dialog registered in dialogs/pending.py. Stored answers are JSON values:
dates as ISO strings, money as whole đồng, yes/no as booleans, choices as their values, addresses as
dicts, attachments as lists of file records.

To add a kind:
1. write ``dialogs/kinds/<kind>.py`` with a ``Kind`` subclass (``name = "<kind>"``, a ``hint`` msgid,
   ``parse`` and ``display``; override ``shortcut``/``question``/``intercept``/``collect``/``carry``/
   ``said_back`` only if needed) and ``KIND = <Subclass>()``;
2. add the module to ``MODULES`` below and the name to ``FieldKind`` in dialogs/schema.py;
3. give every new msgid its English in locales/en/LC_MESSAGES/dvcbot.po.
The engine finds the kind through ``get``; nothing else changes.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..i18n import N_, Translator
from ..parsing import Invalid
from ..schema import FieldDef
from . import (
    address,
    attachment,
    bank,
    bank_account,
    choice,
    confirm,
    consent,
    email,
    id_card,
    id_number,
    money,
    multi_choice,
    name,
    number,
    phone,
    text,
    yes_no,
)
from . import date as date_kind
from . import time as time_kind
from .address import format_address
from .attachment import ACCEPT_MIME, accepted_mimes
from .base import NO_VALUE, AskParts, Kind, Turn

MODULES = (text, name, date_kind, time_kind, id_number, phone, email, number, money, choice, multi_choice, yes_no,
           address, attachment, confirm, consent, bank, bank_account, id_card)
REGISTRY: dict[str, Kind] = {m.KIND.name: m.KIND for m in MODULES}
_TEXT = REGISTRY["text"]

# How to answer, shown under a question of each kind (and in its help).
KIND_HINTS: dict[str, str] = {k.name: k.hint for k in REGISTRY.values() if k.hint}

__all__ = [
    "ACCEPT_MIME",
    "KIND_HINTS",
    "NO_VALUE",
    "REGISTRY",
    "AskParts",
    "Kind",
    "Turn",
    "accepted_mimes",
    "display",
    "format_address",
    "get",
    "mask",
    "parse_value",
]


def get(kind: str) -> Kind:
    """The kind of this name (an unknown name reads as plain text, so nothing crashes)."""
    return REGISTRY.get(kind) or _Unknown(kind)


class _Unknown(Kind):
    def __init__(self, kind: str) -> None:
        self.kind_name = kind

    def question(self, f, path, pending, t, answers=None):
        return AskParts(kind=self.kind_name)


def parse_value(f: FieldDef, raw: str, *, today: dt.date, lookup: Callable[[str], Any]) -> Any:
    """Parse typed text for field ``f``; raise Invalid with a specific message."""
    raw = raw.strip()
    if not raw:
        raise Invalid(N_("Bạn chưa nhập gì. Vui lòng trả lời câu hỏi."))
    return get(f.kind).parse(f, raw, today=today, lookup=lookup)


def display(f: FieldDef, value: Any, t: Translator) -> str:
    """A stored answer as a person reads it."""
    if value is None:
        return t(f.unknown.label) if f.unknown is not None else t(N_("(bỏ qua)"))
    kind = REGISTRY.get(f.kind)
    return kind.display(f, value, t) if kind is not None else str(value)


def mask(f: FieldDef, value: Any) -> str:
    """A form of the answer safe to write to logs."""
    if value is None:
        return "-"
    if f.pii or f.kind in ("id_number", "phone", "email", "address", "name", "bank_account"):
        return "***"
    return str(value)[:40]
