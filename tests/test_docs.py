"""docs/architecture.md names every module and every `dvcbot` command.

IF THIS TEST FAILS, UPDATE docs/architecture.md (not this test): say in a few words what the new module or
command is for, where it belongs in the layout.

A module ``bot/telegram/channel.py`` counts as named when the doc has its full path, its path inside its
package (``telegram/channel.py``), its file name alone when no other module has that name
(``notifier.py``), its file name or bare module name in the same paragraph or list item as its folder
(``telegram/`` … ``channel.py``; ``engine/`` … session, commands), or a glob that matches one of those
(``cli*.py``). Everything under
``storage/migrations/`` counts as named when the doc names ``migrations/``. A command counts as named
when its name is a word on a line of the doc that says ``dvcbot``.
"""
from __future__ import annotations

import argparse
import fnmatch
import re
from collections import Counter
from pathlib import Path

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("bot", "dialogs", "storage")
MIGRATIONS = Path("storage") / "migrations"


def modules() -> list[Path]:
    """Every Python module of the three packages, relative to the repository (``__init__`` files aside)."""
    return sorted(p.relative_to(ROOT) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                  if p.name != "__init__.py" and "__pycache__" not in p.parts)


def _named(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text) is not None


def _word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w/.-]){re.escape(word)}(?![\w/-]|\.\w)", text) is not None


def _blocks(text: str) -> list[str]:
    """Paragraphs and list items."""
    return [b for b in re.split(r"\n(?=\s*\n|[-*] |#)", text) if b.strip()]


def missing_modules(text: str) -> list[str]:
    mods = modules()
    basenames = Counter(p.name for p in mods)
    globs = set(re.findall(r"[\w/-]*\*[\w/*-]*\.py\b", text))  # `cli*.py`; not markdown's *emphasis*
    missing = []
    for path in mods:
        if MIGRATIONS in path.parents:
            if not _named(text, "migrations/"):
                missing.append(str(path))
            continue
        full, inner = path.as_posix(), path.relative_to(path.parts[0]).as_posix()
        names = [full, inner] + ([path.name] if basenames[path.name] == 1 else [])
        if any(_named(text, n) for n in names):
            continue
        folder = path.parent.relative_to(path.parts[0]).as_posix()
        if folder != "." and any(_named(b, folder + "/") and (_named(b, path.name) or _word(b, path.stem))
                                 for b in _blocks(text)):
            continue
        if any(fnmatch.fnmatchcase(n, g) for g in globs for n in (full, inner)):
            continue
        missing.append(full)
    return missing


def commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def missing_commands(text: str) -> list[str]:
    words = {w for line in text.splitlines() if "dvcbot" in line for w in re.findall(r"[\w-]+", line)}
    return [c for c in commands() if c not in words]


def test_every_module_is_in_the_architecture_doc():
    missing = missing_modules(DOC.read_text(encoding="utf-8"))
    assert not missing, f"add these modules to {DOC.relative_to(ROOT)}: {', '.join(missing)}"


def test_every_dvcbot_command_is_in_the_architecture_doc():
    missing = missing_commands(DOC.read_text(encoding="utf-8"))
    assert not missing, f"add these `dvcbot` commands to {DOC.relative_to(ROOT)}: {', '.join(missing)}"


def test_the_check_sees_a_new_module_and_a_new_command():
    """The rules themselves, on a made-up doc: what counts as naming a module or a command."""
    doc = "bot/cli.py\n`cli*.py` — `dvcbot chat | dossiers`\nnotifier.py, telegram/channel.py, migrations/\n" \
          "- `zalo/` — Zalo: `inbox.py`, client\n- `render.py`, in another item\n"
    missing = missing_modules(doc)
    assert "bot/zalo/inbox.py" not in missing and "bot/zalo/client.py" not in missing
    assert "bot/zalo/render.py" in missing
    assert "bot/notifier.py" not in missing and "bot/telegram/channel.py" not in missing
    assert "bot/cli_officer.py" not in missing and "storage/migrations/env.py" not in missing
    assert "bot/zalo/channel.py" in missing  # `channel.py` alone would not say which one
    assert "dialogs/engine.py" in missing or not (ROOT / "dialogs" / "engine.py").exists()
    assert missing_commands(doc) == [c for c in commands() if c not in ("chat", "dossiers")]
