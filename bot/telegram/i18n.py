"""aiogram's gettext i18n on the project's catalogues (locales/, domain ``dvcbot``).

The .po files are the source of truth and are not compiled in the repository;
aiogram's :class:`~aiogram.utils.i18n.I18n` reads compiled .mo files, so they
are written at start-up with Babel's ``write_mo`` (into ``var/i18n`` by default).

The locale of a chat is the language of its conversation (the engine's
session, stored after every turn in ``telegram_chats.lang``), not the
language of the Telegram app: the buttons must speak the language of the
question above them.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from dialogs.i18n import DEFAULT_LANG, DOMAIN, SUPPORTED, po_path


def compile_catalogs(target: str | Path) -> Path:
    """Compile locales/<lang>/LC_MESSAGES/dvcbot.po to ``target``/<lang>/LC_MESSAGES/dvcbot.mo (atomically;
    skipped when the .mo is newer than its .po)."""
    target = Path(target)
    for lang in SUPPORTED:
        src = po_path(lang)
        if not src.exists():
            continue
        out = target / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if out.exists() and out.stat().st_mtime >= src.stat().st_mtime:
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        with src.open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain=DOMAIN)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target


_compiled: dict[tuple, Path] = {}


def make_i18n(var_dir: str | Path) -> I18n:
    """aiogram's I18n on freshly compiled catalogues (compiled once per process while the .po files are
    unchanged)."""
    stamp = tuple((lang, po_path(lang).stat().st_mtime_ns) for lang in SUPPORTED if po_path(lang).exists())
    path = _compiled.get(stamp)
    if path is None or not path.exists():
        path = _compiled[stamp] = compile_catalogs(Path(var_dir) / "i18n")
    return I18n(path=path, default_locale=DEFAULT_LANG, domain=DOMAIN)


class ChatLocaleMiddleware(I18nMiddleware):
    """The chat's conversation language (see the module docstring)."""

    def __init__(self, i18n: I18n, locale_of: Callable[[int], Awaitable[str | None]]):
        super().__init__(i18n)
        self.locale_of = locale_of

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chat = data.get("event_chat")
        lang = await self.locale_of(chat.id) if chat is not None else None
        return lang if lang in self.i18n.available_locales else self.i18n.default_locale
