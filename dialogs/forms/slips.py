"""The one-stop desk's slips: the receipt and appointment slip, the supplement request, the refusal, the
process-tracking sheet and the apology with a new appointment date, as text and A4 PDF.

Each slip is one YAML template in ``slip_templates/`` with the shape of the forms' templates
(:mod:`dialogs.forms.render`: blocks, placeholders, filters), plus what makes it a dated legal form:
``kind`` (which slip), ``legal_basis``, ``effective_from``/``effective_to`` and ``verified``. A new version of a
slip (a new decree's appendix) is a new file with its own dates; :func:`slip_template` picks the one in force on
the slip's day. The values are plain strings prepared by the caller (bot/cases/slips.py), never procedure
answers: the placeholders may only name :data:`SLIP_VALUES` (checked by :func:`check_slips`). Lists are
flattened as ``docs[0].label``, ``items[1].label``… and shown by ``repeat_table`` blocks.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from ..i18n import N_
from .render import FormError, Layout, load_layouts, placeholders, render_template_pdf, render_template_text

__all__ = ["SLIP_KINDS", "SLIP_TITLES", "SLIP_VALUES", "SlipTemplate", "check_slips", "flatten", "load_slips",
           "render_slip_pdf", "render_slip_text", "slip_file_name", "slip_template"]

SLIPS_DIR = Path(__file__).resolve().parent / "slip_templates"

Kind = Literal["receipt", "supplement", "refusal", "tracking", "apology"]
SLIP_KINDS: tuple[str, ...] = ("receipt", "supplement", "refusal", "apology", "tracking")
#: how officers and citizens read each slip's name (msgids)
SLIP_TITLES = {
    "receipt": N_("Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
    "supplement": N_("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
    "refusal": N_("Phiếu từ chối tiếp nhận giải quyết hồ sơ"),
    "apology": N_("Phiếu xin lỗi và hẹn lại ngày trả kết quả"),
    "tracking": N_("Phiếu kiểm soát quá trình giải quyết hồ sơ"),
}
#: file names carry the dossier code and the slip, never a name or a number of a person
FILE_SLUGS = {"receipt": "giay-tiep-nhan", "supplement": "phieu-bo-sung", "refusal": "phieu-tu-choi",
              "apology": "phieu-xin-loi", "tracking": "phieu-kiem-soat"}

#: the values a slip may show (besides the forms' ``_day`` … ``_code``, ``_n`` and ``item.x`` in lists)
SLIP_VALUES = frozenset({
    "unit", "place", "number", "code", "applicant", "address", "phone", "email", "procedure", "part", "days",
    "received_at", "due", "officer", "requested_at", "reason", "supplement_due", "rejected_at", "new_date",
    "agencies", "partners",
})
SLIP_LISTS = {"docs": {"label", "form"}, "items": {"label"}, "steps": {"at", "part", "what", "by", "to", "due", "note"},
              "legs": {"title", "agency", "due", "done", "timely"}}
_VARS = {"_day", "_month", "_year", "_date", "_code", "_n"}
NOTE = "Lập qua Trợ lý Dịch vụ công ngày {date}"


class SlipTemplate(Layout):
    """A slip's template: a form template with its legal dates and whether its text was read."""

    kind: Kind
    legal_basis: str
    effective_from: date | None = None
    effective_to: date | None = None
    verified: bool = False

    def in_force(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and \
            (self.effective_to is None or day <= self.effective_to)


def load_slips(directory: Path | None = None) -> dict[str, SlipTemplate]:
    """Every slip template by id. Raises FormError on a bad one."""
    return load_layouts(directory or SLIPS_DIR, SlipTemplate)


@lru_cache(maxsize=1)
def _registry() -> dict[str, SlipTemplate]:
    return load_slips()


def slip_template(kind: str, day: date) -> SlipTemplate:
    """The version of slip ``kind`` in force on ``day`` (the latest start wins when two overlap)."""
    hits = [t for t in _registry().values() if t.kind == kind and t.in_force(day)]
    if not hits:
        raise FormError(f"no slip template {kind!r} in force on {day.isoformat()}")
    return max(hits, key=lambda t: t.effective_from or date.min)


def flatten(values: dict[str, Any]) -> dict[str, Any]:
    """``{"items": [{"label": …}]}`` → ``{"items[0].label": …}``, as the repeat tables read them."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, list):
            for i, row in enumerate(v):
                for kk, vv in dict(row).items():
                    out[f"{k}[{i}].{kk}"] = vv
        else:
            out[k] = v
    return out


def render_slip_pdf(kind: str, values: dict[str, Any], *, day: date, when: datetime | None = None,
                    code: str | None = None) -> bytes:
    """Slip ``kind`` (its version in force on ``day``) filled with ``values``, as A4 PDF; ``when`` is the slip's
    date and time (its “ngày … tháng … năm …”)."""
    return render_template_pdf(slip_template(kind, day), flatten(values), when=when, code=code, note=NOTE)


def render_slip_text(kind: str, values: dict[str, Any], *, day: date, when: datetime | None = None,
                     code: str | None = None) -> str:
    """The same slip as plain text (what the tests read)."""
    return render_template_text(slip_template(kind, day), flatten(values), when=when, code=code, note=NOTE)


def slip_file_name(code: str, kind: str) -> str:
    """``MT-2611-7KQ4XP9Z-giay-tiep-nhan.pdf``: the dossier code and the slip, no personal data."""
    return f"{code}-{FILE_SLUGS[kind]}.pdf"


_ITEM_RE = re.compile(r"^([a-z_]+)\[0\]$")


def check_slips(directory: Path | None = None) -> list[str]:
    """Problems in the slip templates: unknown values or lists, a kind without a version, overlapping versions."""
    problems: list[str] = []
    slips = load_slips(directory)
    for tpl in slips.values():
        for spec, group in placeholders(tpl):
            if spec.startswith("?"):
                refs = re.findall(r"[A-Za-z_][A-Za-z_0-9.]*", spec[1:])
                problems += [f"{tpl.id}: expression reads unknown value {r}" for r in refs
                             if r not in SLIP_VALUES and r not in ("and", "or", "not", "is", "None")]
                continue
            path, *filters = [p.strip() for p in spec.split("|")]
            paths = [path] + [f.partition(":")[2] for f in filters if f.startswith("or:")]
            for p in paths:
                if p in _VARS or p in SLIP_VALUES:
                    continue
                m = _ITEM_RE.match(group or "")
                if p.startswith("item.") and m and p[5:] in SLIP_LISTS.get(m.group(1), set()):
                    continue
                problems.append(f"{tpl.id}: unknown value {{{spec}}}")
        for other in slips.values():
            if other.id < tpl.id and other.kind == tpl.kind and _overlap(other, tpl):
                problems.append(f"{tpl.id}: in force together with {other.id} (same kind {tpl.kind})")
    problems += [f"no slip template of kind {k!r}" for k in SLIP_KINDS
                 if not any(t.kind == k for t in slips.values())]
    return problems


def _overlap(a: SlipTemplate, b: SlipTemplate) -> bool:
    lo = max(a.effective_from or date.min, b.effective_from or date.min)
    hi = min(a.effective_to or date.max, b.effective_to or date.max)
    return lo <= hi
