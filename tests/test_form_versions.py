"""Form versions as dated facts: each template carries its legal reference, dates and verification, and the
renderer picks the version in force on the day that matters (the desk's receipt, else the submission)."""
from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from dialogs.forms.render import (
    TEMPLATES_DIR,
    FormError,
    form_versions,
    load_templates,
    pick_version,
    render_pdf,
    render_text,
    template_for,
)
from tests.test_forms import funeral

BY_ID, BY_PROC = load_templates()


def _leg_procedure(template_id: str) -> str:
    from dialogs.catalog import Catalog
    for p in Catalog.default():
        if any(template_id in leg.forms for leg in p.legs):
            return p.id
    raise AssertionError(f"no procedure names the leg form {template_id}")


def _render(tid: str, on: date, templates_dir: Path | None = None) -> str:
    tpl = BY_ID.get(tid) or load_templates(templates_dir)[0][tid]
    if tpl.procedures:
        return render_text(tpl.procedures[0], {}, on=on, templates_dir=templates_dir)
    return render_text(_leg_procedure(tid), {}, template=tid, on=on, templates_dir=templates_dir)


def test_every_template_is_a_dated_fact_with_its_reason_when_unverified():
    for t in BY_ID.values():
        assert t.legal_ref.strip(), t.id
        assert t.verified or (t.review_note or "").strip(), f"{t.id}: unverified without a written reason"
    # the forms the law changed and whose new text was not found stay unverified, saying so
    for tid, cites in {"ct01-tt66": "53/2025", "tk1-ts": "188/2025", "to-khai-dang-ky-khai-sinh": "03/2026/QH16",
                       "to-khai-dang-ky-khai-tu": "03/2026/QH16"}.items():
        assert not BY_ID[tid].verified and cites in BY_ID[tid].review_note
    assert BY_ID["to-khai-dang-ky-khai-tu"].review_by == date(2027, 3, 1)


@pytest.mark.parametrize("tid", sorted(BY_ID))
def test_each_form_renders_on_both_sides_of_its_versions_dates(tid):
    for version in form_versions(tid):
        for day in (version.effective_from, version.effective_to):
            if day is None:
                continue
            for on in (day - timedelta(days=1), day, day + timedelta(days=1)):
                expected = pick_version(form_versions(tid), on)
                assert expected.in_force(on) or not any(v.in_force(on) for v in form_versions(tid))
                text = _render(tid, on)
                assert expected.title.upper().split()[0] in text.upper()
    # a day long before and long after: an old or future dossier still gets a form
    for on in (date(2000, 1, 1), date(2030, 1, 1)):
        assert _render(tid, on)


def _two_versions(tmp_path: Path, *, first_to: str = "2027-02-28", second_from: str = "2027-03-01") -> Path:
    """A copy of the shipped templates with a second version of Mẫu 04 and of the CT01 leg form, in force from
    01/03/2027 (the day the new Civil Status Law applies): the mechanism a real new text will use."""
    d = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, d)
    for old, new, marker in (("mau-04-nd20", "mau-04-2027", "PHIÊN BẢN 2027"), ("ct01-tt66", "ct01-2027", "CT01 2027")):
        data = yaml.safe_load((d / f"{old}.yaml").read_text(encoding="utf-8"))
        data["effective_to"] = first_to
        (d / f"{old}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        data.update(id=new, replaces=old, effective_from=second_from, effective_to=None, verified=False,
                    review_note="test version")
        data["blocks"] = [{"type": "title", "text": marker}] + data["blocks"]
        (d / f"{new}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return d


def test_a_new_version_switches_on_by_its_date_without_a_release(tmp_path):
    d = _two_versions(tmp_path)
    proc = "ho-tro-chi-phi-mai-tang"
    assert template_for(proc, date(2027, 2, 28), templates_dir=d).id == "mau-04-nd20"
    assert template_for(proc, date(2027, 3, 1), templates_dir=d).id == "mau-04-2027"
    # the day that matters: the desk's receipt (on=) over the submission day
    submitted = datetime(2027, 2, 26, 16, 0)
    before = render_text(proc, funeral(), submitted_at=submitted, templates_dir=d)
    after = render_text(proc, funeral(), submitted_at=submitted, on=date(2027, 3, 1), templates_dir=d)
    assert "PHIÊN BẢN 2027" not in before and "PHIÊN BẢN 2027" in after
    assert "NGUYỄN VĂN AN" in before and "NGUYỄN VĂN AN" in after
    assert render_pdf(proc, funeral(), on=date(2027, 3, 2), templates_dir=d).startswith(b"%PDF-")
    # a leg form is named by its first id in legs[].forms: the version in force is used
    leg = _leg_procedure("ct01-tt66")
    assert "CT01 2027" not in render_text(leg, {}, template="ct01-tt66", on=date(2027, 2, 28), templates_dir=d)
    assert "CT01 2027" in render_text(leg, {}, template="ct01-tt66", on=date(2027, 3, 1), templates_dir=d)
    # the shipped set is untouched: today's forms are the old ones
    assert template_for(proc, date(2027, 3, 1)).id == "mau-04-nd20"


def test_overlapping_versions_are_refused(tmp_path):
    d = _two_versions(tmp_path, first_to="2027-03-01", second_from="2027-03-01")
    with pytest.raises(FormError, match="overlap"):
        load_templates(d)


def test_unverified_version_needs_its_reason_and_replaces_must_exist(tmp_path):
    d = _two_versions(tmp_path)
    path = d / "mau-04-2027.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**data, "review_note": None}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FormError, match="review_note"):
        load_templates(d)
    path.write_text(yaml.safe_dump({**data, "replaces": "mau-04-nowhere"}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FormError, match="replaces unknown"):
        load_templates(d)
    path.write_text(yaml.safe_dump({**data, "valid_from": "2027-03-01"}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FormError, match="valid_from"):  # the schema stays strict: no unknown keys
        load_templates(d)
