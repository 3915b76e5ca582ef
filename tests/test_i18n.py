"""The gettext catalogues in locales/ are complete and in step with the sources.

When this fails after adding or changing user-facing strings, run
``python scripts/i18n.py extract`` and translate the empty or fuzzy entries
in ``locales/en/LC_MESSAGES/dvcbot.po`` (``python scripts/i18n.py check``
lists them).
"""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from dialogs.babel_extract import extract_procedure
from dialogs.catalog import PROCEDURES_DIR, translatable_strings
from dialogs.i18n import Translator, po_path
from dialogs.schema import Procedure
from tests.conftest import shared_catalog

ROOT = Path(__file__).resolve().parent.parent
MENU_QUESTION = "Bạn cần làm thủ tục nào? Chọn một thủ tục hoặc gõ điều bạn cần."


def _load_script():
    name = "dvcbot_scripts_i18n"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "i18n.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def i18n_script():
    return _load_script()


@pytest.fixture(scope="module")
def template(i18n_script):
    """A freshly extracted template (written to a temporary file, not to locales/)."""
    return i18n_script.extract_template()


def _entries(lang: str):
    with po_path(lang).open("rb") as fh:
        return [m for m in read_po(fh, locale=lang) if m.id]


def test_catalogues_complete_and_not_stale(i18n_script, template):
    problems = i18n_script.check(template)
    assert not problems, "run `python scripts/i18n.py extract` and translate:\n" + "\n".join(problems)


def test_procedure_catalogue_check_is_clean():
    assert shared_catalog().check() == []


def test_template_holds_every_procedure_string(template):
    ids = {m.id for m in template if m.id}
    for proc in shared_catalog():
        for where, text in translatable_strings(proc):
            assert text in ids, f"{proc.id}: {where} not extracted"


def test_template_holds_code_strings(template):
    ids = {m.id for m in template if m.id}
    assert MENU_QUESTION in ids  # _() in dialogs/engine/menu.py
    assert "Vui lòng nhập họ và tên." in ids  # N_() in dialogs/parsing.py


@pytest.mark.parametrize("path", sorted(PROCEDURES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_extractor_matches_translatable_strings(path):
    proc = Procedure.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    with path.open("rb") as fh:
        got = list(extract_procedure(fh, ["_", "N_"], [], {}))
    expected = [text for _, text in translatable_strings(proc) if text]
    assert [msg for _, _, msg, _ in got] == expected
    lines = path.read_text(encoding="utf-8").count("\n") + 1
    for lineno, funcname, _, comments in got:
        assert 1 <= lineno <= lines
        assert funcname is None
        assert comments and comments[0].startswith(f"{proc.id}: ")


def test_english_translates_engine_and_procedure_strings():
    en = Translator("en")
    menu = en(MENU_QUESTION)
    assert menu != MENU_QUESTION and "procedure" in menu.lower()
    assert en("Có") == "Yes" and en("Không") == "No"
    cat = shared_catalog()
    for proc in cat:
        title = en(proc.title)
        assert title != proc.title, proc.id
        assert not _VIETNAMESE_ONLY.intersection(title.lower()), title


_VIETNAMESE_ONLY = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


def test_english_keeps_placeholders_working():
    en = Translator("en")
    assert en("Bước {no}/{total}", no=2, total=9) == "Step 2/9"
    text = en("Chào bạn quay lại! Chúng ta tiếp tục hồ sơ “{title}”.", title="X")
    assert "“X”" in text and "{" not in text
    submitted = en("Đã nộp hồ sơ thành công.\nMã hồ sơ: {code}\nNgày hẹn trả kết quả: {due} "
                   "({days} ngày làm việc).\nBạn sẽ nhận được thông báo khi hồ sơ có thay đổi.",
                   code="MT-1", due="01/01/2026", days=3)
    assert "MT-1" in submitted and "01/01/2026" in submitted and "3 working days" in submitted
    assert submitted.count("\n") == 3


def test_vietnamese_is_the_source():
    vi = Translator("vi")
    assert vi(MENU_QUESTION) == MENU_QUESTION
    assert vi("Bước {no}/{total}", no=1, total=2) == "Bước 1/2"
    for m in _entries("vi"):
        assert m.string == m.id and not m.fuzzy


def test_english_placeholders_match_msgids(i18n_script):
    bad = []
    for m in _entries("en"):
        if m.string and i18n_script.placeholders(m.string) != i18n_script.placeholders(m.id):
            bad.append(f"{m.id!r}: {m.string!r}")
    assert not bad, "\n".join(bad)


def test_extract_is_idempotent(i18n_script, template, tmp_path, monkeypatch):
    """On a copy of locales/: a second `extract` rewrites nothing, and English survives it."""
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales)
    monkeypatch.setattr(i18n_script, "LOCALES", locales)
    monkeypatch.setattr(i18n_script, "POT", locales / "dvcbot.pot")
    i18n_script.extract(template)
    assert i18n_script.extract(template) == []
    wanted = {m.id for m in template if m.id}
    before = {m.id: m.string for m in _entries("en") if m.string and not m.fuzzy and m.id in wanted}
    with (locales / "en" / "LC_MESSAGES" / "dvcbot.po").open("rb") as fh:
        after = {m.id: m.string for m in read_po(fh, locale="en") if m.id}
    assert {k: after.get(k) for k in before} == before
