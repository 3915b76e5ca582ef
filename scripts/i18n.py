#!/usr/bin/env python3
"""Keep the gettext catalogues in locales/ in step with the source strings.

    python scripts/i18n.py extract   # regenerate locales/dvcbot.pot, update vi and en .po
    python scripts/i18n.py check     # exit 1 if English is incomplete or a .po is stale

``extract`` runs Babel with babel.cfg (Python sources and procedure YAML), then
merges the template into ``locales/{vi,en}/LC_MESSAGES/dvcbot.po``:

* Vietnamese is the source language: every msgstr is set to its msgid.
* English keeps existing translations; new strings get an empty msgstr, and a
  changed string that resembles an old one gets the old translation marked
  ``fuzzy`` (review it, then delete the ``#, fuzzy`` line).
* Entries whose msgid is no longer extracted are dropped (no ``#~`` obsolete
  entries are kept).

Files are rewritten only when something other than the date headers changed,
so running ``extract`` twice leaves the tree as it was.

``check`` extracts into a temporary file (tracked files are not touched) and
reports: msgids missing from a .po or from the .pot, empty or fuzzy English
entries, English placeholders that differ from the msgid's, and msgids in a
.po/.pot that are no longer extracted (stale or obsolete).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import io
import logging
import os
import re
import string
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the extractor (dialogs.babel_extract) must be importable
    sys.path.insert(0, str(ROOT))

from babel.messages.catalog import Catalog  # noqa: E402
from babel.messages.frontend import CommandLineInterface  # noqa: E402
from babel.messages.pofile import read_po, write_po  # noqa: E402

DOMAIN = "dvcbot"
LOCALES = ROOT / "locales"
POT = LOCALES / f"{DOMAIN}.pot"
MAPPING = ROOT / "babel.cfg"
SOURCE_LANG = "vi"
LANGS = ("vi", "en")
WIDTH = 76
HEADER = (
    "# Translations template for dvcbot (Trợ lý Dịch vụ công).\n"
    "# The msgids are the Vietnamese source strings. Refresh the template\n"
    "# and the catalogues with: python scripts/i18n.py extract\n"
    "# This file is distributed under the same license as the dvcbot project.\n"
    "#"
)
# Header lines that change on every run and are ignored when deciding to rewrite a file.
_VOLATILE = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"\n', re.M)


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


# -- extraction ---------------------------------------------------------------------------
def _version() -> str:
    try:
        from importlib.metadata import version
        return version("dvcbot")
    except Exception:  # not installed: the header is cosmetic
        return "0"


def extract_to(path: Path) -> Catalog:
    """Run ``pybabel extract`` (in-process) into ``path`` and return the template."""
    args = [
        "pybabel", "-q", "extract",
        "-F", str(MAPPING),
        "-o", str(path),
        "-w", str(WIDTH),
        "--project", "dvcbot",
        "--version", _version(),
        "--copyright-holder", "dvcbot contributors",
        "--header-comment", HEADER,
        ".",
    ]
    babel_log = logging.getLogger("babel")
    level = babel_log.level  # the CLI sets the "babel" logger's level; put it back afterwards
    try:
        with contextlib.chdir(ROOT):  # locations relative to the repo root
            CommandLineInterface().run(args)
    finally:
        babel_log.setLevel(level)
    return _read(path)


def _read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def extract_template() -> Catalog:
    """A freshly extracted template, via a temporary file."""
    fd, name = tempfile.mkstemp(prefix="dvcbot-", suffix=".pot")
    os.close(fd)
    try:
        return extract_to(Path(name))
    finally:
        os.unlink(name)


# -- merging ------------------------------------------------------------------------------
def _render(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, cat, width=WIDTH, ignore_obsolete=True)
    return buf.getvalue()


def _write_if_changed(path: Path, data: bytes) -> bool:
    old = path.read_bytes() if path.exists() else None
    if old is not None and _VOLATILE.sub(b"", old) == _VOLATILE.sub(b"", data):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def merge(template: Catalog, lang: str) -> Catalog:
    """The catalogue for ``lang`` brought up to date with ``template`` (not written)."""
    path = po_path(lang)
    # Catalog.update() adds the template's own Message objects for new msgids, so merge a
    # private copy: otherwise filling in one language would leak into the next one.
    template = copy.deepcopy(template)
    if path.exists():
        cat = _read(path, lang)
        cat.update(template, update_header_comment=False, update_creation_date=True)
        cat.obsolete.clear()
    else:  # what `pybabel init` does
        buf = io.BytesIO(_render(template))
        cat = read_po(buf, locale=lang, domain=DOMAIN)
        cat.locale = lang
        cat.fuzzy = False
        cat.revision_date = template.creation_date
        cat.language_team = f"{cat.locale.english_name} <dvcbot>"
    if lang == SOURCE_LANG:
        for msg in cat:
            if msg.id:
                msg.string = msg.id
                msg.flags.discard("fuzzy")
                msg.previous_id = []
    return cat


def extract(template: Catalog | None = None) -> list[Path]:
    """Regenerate the template and update every .po; returns the files rewritten."""
    template = extract_template() if template is None else template
    changed: list[Path] = []
    if _write_if_changed(POT, _render(template)):
        changed.append(POT)
    for lang in LANGS:
        if _write_if_changed(po_path(lang), _render(merge(template, lang))):
            changed.append(po_path(lang))
    return changed


# -- checking -----------------------------------------------------------------------------
def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a str.format template (``{{`` escapes ignored)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<malformed>"}


# Letters only Vietnamese uses: an English msgstr containing the msgid verbatim is untranslated.
_VIETNAMESE = re.compile("[ăâđêôơưĂÂĐÊÔƠƯàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]", re.I)


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _ids(cat: Catalog) -> set[str]:
    return {m.id for m in cat if m.id}


def check(template: Catalog | None = None) -> list[str]:
    """Everything wrong with the catalogues, as human-readable lines (empty when all is well)."""
    template = extract_template() if template is None else template
    wanted = _ids(template)
    problems: list[str] = []

    def short(s: str) -> str:
        s = s.replace("\n", "\\n")
        return repr(s if len(s) <= 70 else s[:67] + "...")

    if not POT.exists():
        problems.append(f"{_rel(POT)}: missing")
    else:
        have = _ids(_read(POT))
        for mid in sorted(wanted - have):
            problems.append(f"{_rel(POT)}: missing msgid {short(mid)}")
        for mid in sorted(have - wanted):
            problems.append(f"{_rel(POT)}: stale msgid {short(mid)}")

    for lang in LANGS:
        path = po_path(lang)
        rel = _rel(path)
        if not path.exists():
            problems.append(f"{rel}: missing")
            continue
        cat = _read(path, lang)
        msgs = {m.id: m for m in cat if m.id}
        for mid in sorted(wanted - msgs.keys()):
            problems.append(f"{rel}: missing msgid {short(mid)}")
        for mid in sorted(msgs.keys() - wanted):
            problems.append(f"{rel}: stale msgid (no longer extracted) {short(mid)}")
        for mid in sorted(cat.obsolete):
            problems.append(f"{rel}: obsolete entry (#~) {short(mid if isinstance(mid, str) else mid[0])}")
        for mid in sorted(wanted & msgs.keys()):
            m = msgs[mid]
            if not isinstance(mid, str):
                continue  # plural forms are not used
            if not m.string:
                problems.append(f"{rel}: untranslated {short(mid)}")
            elif m.fuzzy:
                problems.append(f"{rel}: fuzzy (review, then remove the flag) {short(mid)}")
            elif placeholders(m.string) != placeholders(mid):
                problems.append(f"{rel}: placeholders {sorted(placeholders(m.string))} differ from "
                                f"the msgid's {sorted(placeholders(mid))} in {short(mid)}")
            elif lang != SOURCE_LANG and m.string == mid and _VIETNAMESE.search(mid):
                problems.append(f"{rel}: msgstr is still the Vietnamese text {short(mid)}")
            elif lang == SOURCE_LANG and m.string != mid:
                problems.append(f"{rel}: Vietnamese msgstr differs from its msgid {short(mid)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/i18n.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("extract", help="regenerate locales/dvcbot.pot and update the vi and en catalogues")
    sub.add_parser("check", help="fail if a string lacks English or a catalogue is stale")
    args = p.parse_args(argv)
    try:
        template = extract_template()
    except ValueError as exc:  # e.g. a procedure definition that does not validate
        print(f"extraction failed, nothing was changed: {exc}", file=sys.stderr)
        return 2

    if args.cmd == "extract":
        changed = extract(template)
        for path in changed:
            print(f"updated {_rel(path)}")
        if not changed:
            print("catalogues already up to date")
        todo = [line for line in check(template) if "/en/" in line]
        print(f"{len(_ids(template))} messages; {len(todo)} English entries need work"
              + (" (run `python scripts/i18n.py check` for the list)" if todo else ""))
        return 0

    problems = check(template)
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s). Run `python scripts/i18n.py extract`, then translate the "
              f"empty or fuzzy entries in {_rel(po_path('en'))}.", file=sys.stderr)
        return 1
    print("catalogues complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
