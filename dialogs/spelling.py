"""Lists whose usual spelling a typed answer is written in before it goes on a form ("e de" -> "Ê Đê").

A text field names a list with ``spelling:`` (dialogs/schema.py); the lists are data in dialogs/data/
(``ethnic_groups.yaml``: the 54 ethnic groups). A typed answer that matches a name or an alias once
diacritics, case, spaces, hyphens and apostrophes are set aside is replaced by the name as the list spells
it; anything else is kept as typed.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from .textnorm import fold

DATA = Path(__file__).parent / "data"
LISTS = ("ethnic_groups",)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


@cache
def _table(name: str) -> dict[str, str]:
    if name not in LISTS:
        raise KeyError(name)
    data = yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for entry in data["names"]:
        spelled, aliases = (next(iter(entry.items())) if isinstance(entry, dict) else (entry, []))
        for key in (_key(spelled), *(_key(a) for a in aliases or [])):
            if table.setdefault(key, spelled) != spelled:
                raise ValueError(f"{name}: {key!r} names both {table[key]!r} and {spelled!r}")
    return table


def names(name: str) -> list[str]:
    """The names of a list, as it spells them."""
    return sorted(set(_table(name).values()))


def spell(name: str, text: str) -> str:
    """``text`` as list ``name`` spells it when it names an entry; otherwise ``text`` unchanged."""
    return _table(name).get(_key(text), text)
