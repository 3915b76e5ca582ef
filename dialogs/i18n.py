"""Message catalogue access and locale formatting for the conversation core.

Source strings are Vietnamese, the first language: code and procedure
definitions are written in Vietnamese with full diacritics, and that text is
the gettext msgid. English lives in ``locales/en/LC_MESSAGES/dvcbot.po``.
Catalogues are read with Babel straight from the .po files, so no compile
step is needed. ``N_`` only marks a string for extraction.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "dvcbot"
DEFAULT_LANG = "vi"
SUPPORTED = ("vi", "en")


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message


class Label(str):
    """A placeholder's value that is a message id itself (a choice's label, from the procedure's YAML): it is
    shown in the person's language with the message it fills."""


def shown(value: object, translate: Callable[[str], str] | None = None) -> object:
    """A placeholder's value as a message shows it: a :class:`Label` translated (by ``translate``); a tuple of them
    each, joined as “a”, “b” within the message's own quotes (never a tuple's repr); anything else as it is."""
    if isinstance(value, tuple) and value and all(isinstance(x, Label) for x in value):
        return "”, “".join(str(shown(x, translate)) for x in value)
    return translate(value) if translate is not None and isinstance(value, Label) else value


def po_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def load_catalog(lang: str) -> dict[str, str]:
    """msgid -> msgstr for ``lang``; untranslated and fuzzy entries are left out."""
    path = po_path(lang)
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang, domain=DOMAIN)
    out: dict[str, str] = {}
    for msg in cat:
        if msg.id and isinstance(msg.id, str) and isinstance(msg.string, str) and msg.string and not msg.fuzzy:
            out[msg.id] = msg.string
    return out


class Translator:
    """Translate and format for one language. Falls back to the Vietnamese source."""

    def __init__(self, lang: str = DEFAULT_LANG):
        self.lang = lang if lang in SUPPORTED else DEFAULT_LANG
        self._catalog = load_catalog(self.lang) if self.lang != DEFAULT_LANG else {}
        self.locale = Locale.parse(self.lang)

    def __call__(self, message: str, **params: object) -> str:
        text = self._catalog.get(message, message)
        if params:
            params = {k: shown(v, self._label) for k, v in params.items()}
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError):
                return message.format(**params)
        return text

    gettext = __call__

    def _label(self, label: str) -> str:
        return self._catalog.get(label, label)

    def date(self, d: date) -> str:
        return format_date(d, format="dd/MM/yyyy", locale=self.locale)

    def money(self, amount: int | float) -> str:
        return f"{format_decimal(amount, locale=self.locale)} đ" if self.lang == "vi" else \
            f"{format_decimal(amount, locale=self.locale)} VND"

    def number(self, n: int | float) -> str:
        return format_decimal(n, locale=self.locale)


@cache
def translator(lang: str) -> Translator:
    return Translator(lang)
