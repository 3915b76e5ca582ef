"""The law as dated data: versions in force by date, the legal register (docs/law.md) and its checks."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from dialogs.catalog import Catalog
from dialogs.law import register_markdown
from dialogs.schema import Procedure, Rule, law_day

ROOT = Path(__file__).resolve().parent.parent


def test_docs_law_md_is_up_to_date():
    """docs/law.md is generated: `dvcbot catalog law > docs/law.md` after changing any procedure."""
    expected = register_markdown(Catalog.load())
    assert (ROOT / "docs" / "law.md").read_text(encoding="utf-8") == expected, \
        "docs/law.md is stale: run `dvcbot catalog law > docs/law.md`"


def test_register_lists_sources_dates_and_verification():
    text = register_markdown(Catalog.load())
    assert "chưa kiểm chứng" in text and "Lịch làm việc chính thức" in text
    assert "02/01/2026" in text and "11-24" in text


def _minimal(**extra) -> dict:
    base = yaml.safe_load((ROOT / "dialogs" / "procedures" / "ho-tro-nha-o.yaml").read_text(encoding="utf-8"))
    base.update(extra)
    return base


def test_overlapping_versions_are_refused():
    rule = {"id": "x", "ineligible_if": "True", "reason": "r", "legal_ref": "Luật A", "instead": "i"}
    Procedure.model_validate(_minimal(eligibility=[dict(rule, effective_to="2026-06-30"),
                                                   dict(rule, effective_from="2026-07-01")]))
    with pytest.raises(ValidationError, match="overlap"):
        Procedure.model_validate(_minimal(eligibility=[dict(rule, effective_to="2026-07-01"),
                                                       dict(rule, effective_from="2026-07-01")]))
    fact = {"text": "t", "source": "Luật A", "key": "k"}
    with pytest.raises(ValidationError, match="overlap"):
        Procedure.model_validate(_minimal(facts=[fact, dict(fact, effective_from="2027-01-01")]))


def test_check_fails_on_a_fact_without_a_legal_source(tmp_path):
    data = _minimal(facts=[{"text": "Một điều gì đó.", "as_of": "2026-01-01"},
                           {"text": "Khác.", "source": "seeds/004 thủ tục 3"}])
    (tmp_path / "ho-tro-nha-o.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = Catalog.load(tmp_path).check(langs=())
    assert any("no legal source" in p for p in problems)
    assert any("must be the legal basis" in p for p in problems)


def test_check_fails_on_a_rule_citing_an_internal_file(tmp_path):
    """A rule's reference is shown to citizens (“Căn cứ: …”) when it stops them: a seed file's name is not one."""
    data = _minimal()
    data["eligibility"] = [dict(data["eligibility"][0], legal_ref="seeds/003 — mục V.5")]
    (tmp_path / "ho-tro-nha-o.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert any("reference shown to citizens must be the legal basis" in p
               for p in Catalog.load(tmp_path).check(langs=()))


def test_check_fails_on_a_date_field_that_is_not_a_date(tmp_path):
    data = _minimal()
    data["eligibility"] = [dict(data["eligibility"][0], date_field="household.status")]
    (tmp_path / "ho-tro-nha-o.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert any("is not a date question" in p for p in Catalog.load(tmp_path).check(langs=()))


def test_the_version_in_force_is_chosen_by_its_own_date():
    rule = Rule(id="x", ineligible_if="True", reason="r", legal_ref="L", instead="i",
                effective_from=date(2025, 7, 1), date_field="deceased.death_date")
    answers = {"deceased.death_date": "2025-06-30"}
    assert law_day(rule, answers, date(2026, 12, 4)) == date(2025, 6, 30)
    assert not rule.in_force(law_day(rule, answers, date(2026, 12, 4)))
    assert rule.in_force(law_day(rule, {}, date(2026, 12, 4)))  # not answered yet: the day of the check
