"""What every part of the dossier lifecycle shares: the refusal, the catalogue, labels of a dossier's parts.

Refusals raise :class:`ActionRefused` with a Vietnamese message (a gettext msgid).
"""
from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

from dialogs import lifecycle as lc
from dialogs.address import commune
from dialogs.catalog import Catalog
from dialogs.form import Form
from dialogs.i18n import Translator, translator
from dialogs.kinds import display
from storage.models import Dossier, DossierLeg, Officer


class ActionRefused(Exception):
    """An action that is not allowed; ``message`` is a Vietnamese gettext msgid formatted with ``params``."""

    def __init__(self, message: str, code: str = "refused", /, **params: Any):
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.code = code
        self.params = params

    def text(self, lang: str = "vi") -> str:
        _ = translator(lang)
        return _(self.message, **{k: _(v) if isinstance(v, str) else v for k, v in self.params.items()})


def refused(exc: lc.Refused) -> ActionRefused:
    """The lifecycle machine's refusal as an :class:`ActionRefused`."""
    return ActionRefused(exc.message, exc.code, **exc.params)


def default_catalog() -> Catalog:
    """The process's catalogue (Catalog.default()), for callers that pass none."""
    return Catalog.default()


def catalog_or_default(catalog: Catalog | None) -> Catalog:
    """``catalog``, or the default catalogue."""
    return catalog or default_catalog()


def form_of(dossier: Dossier, catalog: Catalog | None) -> Form | None:
    """The form of the dossier's procedure; None if the procedure left the catalogue."""
    cat = catalog_or_default(catalog)
    return cat.form(dossier.procedure_id) if dossier.procedure_id in cat.forms else None


def applicant_id_number(dossier: Dossier, catalog: Catalog | None = None) -> str | None:
    """The applicant's ID number in the answers: the first answered ``id_number`` question of the block that
    names the applicant (the procedure's ``applicant_name_fields``); None if there is none."""
    form = form_of(dossier, catalog)
    if form is None:
        return None
    answers = dossier.answers or {}
    for name_path in form.proc.applicant_name_fields:
        prefix = name_path.rsplit(".", 1)[0] + "."
        for key in sorted(form.field_keys):
            f = form.field(key)
            if key.startswith(prefix) and f is not None and f.kind == "id_number":
                value = answers.get(key)
                if isinstance(value, str) and value.strip():
                    return value
    return None


def planned_leg(dossier: Dossier, leg: DossierLeg, catalog: Catalog | None = None):
    """The definition-side leg (title, agency name) of a linked procedure's dossier leg; None otherwise."""
    form = form_of(dossier, catalog)
    if form is None or not form.proc.legs:
        return None
    planned = form.planned_legs(dossier.answers or {})
    same = [p for p in planned if p.agency == leg.agency]
    if 0 < (leg.seq or 0) <= len(planned) and planned[leg.seq - 1].agency == leg.agency:
        return planned[leg.seq - 1]
    return same[0] if len(same) == 1 else None


def proc_title(dossier: Dossier, _: Translator, catalog: Catalog | None = None) -> str:
    """The procedure's title, to be quoted in parentheses: its own last parenthesis becomes a dash
    (“Hỗ trợ chi phí mai táng – trợ giúp đột xuất”, not “(… (trợ giúp đột xuất))”)."""
    cat = catalog_or_default(catalog)
    if dossier.procedure_id not in cat.procedures:
        return dossier.procedure_id
    return re.sub(r"\s*\(([^()]*)\)\s*$", r" – \1", _(cat.get(dossier.procedure_id).title))


def subject_of(dossier: Dossier, catalog: Catalog | None = None) -> tuple[str, str] | None:
    """(label msgid, name): whom the dossier is about, when its procedure names someone other than the applicant
    (``subject`` in the definition) and the answers hold the name; else None."""
    cat = catalog_or_default(catalog)
    proc = cat.get(dossier.procedure_id) if dossier.procedure_id in cat.procedures else None
    if proc is None or proc.subject is None:
        return None
    name = next((v for f in proc.subject.fields if isinstance(v := (dossier.answers or {}).get(f), str) and v), None)
    return (proc.subject.label, name) if name else None


def subject_text(dossier: Dossier, _: Translator, catalog: Catalog | None = None) -> str | None:
    """“Người mất: NGUYỄN VĂN AN” (see :func:`subject_of`), or None."""
    hit = subject_of(dossier, catalog)
    return f"{_(hit[0])}: {hit[1]}" if hit else None


def field_label(form: Form | None, path: str, _: Translator) -> str:
    """A field's short label as people read it (with the repeat item's number), or its path."""
    f = form.field(path) if form else None
    if form is None or f is None:
        return path
    label = _(f.summary_label)
    m = re.match(r"^[a-z_]+\[(\d+)\]\.", path)
    found = form.lookup(path) if m else None
    if m and found and found[0].repeat:
        label += f" ({_(found[0].repeat.item_label)} {int(m.group(1)) + 1})"
    return label


def value_text(form: Form | None, path: str, value: Any, _: Translator) -> str:
    """An answer as people read it (file names for attachments)."""
    f = form.field(path) if form else None
    if f is None:
        return str(value)
    if f.kind == "attachment" and isinstance(value, list):
        names = [v.get("name") or v.get("sha256", "")[:10] for v in value if isinstance(v, dict)]
        return ", ".join(names) if names else _("(không có tệp)")
    return display(f, value, _)


def unit_text(agency: str, commune_code: str | None, _: Translator) -> str:
    """An officer's unit as people read it: “UBND cấp xã, Xã Đức Trọng (24958)”."""
    label = _(lc.AGENCY_LABELS[agency]) if agency in lc.AGENCY_LABELS else agency
    unit = commune(commune_code) if commune_code else None
    place = f"{unit.full_name} ({unit.code})" if unit is not None else (commune_code or "-")
    return f"{label}, {place}"


# Who is really acting when it is not the officer's own chat or web session: the shell (``dvcbot officer …
# --as N`` sets it to "cli:<os user>"), so the audit trail tells an operator from the officer.
acting_via: ContextVar[str | None] = ContextVar("acting_via", default=None)


def officer_actor(o: Officer) -> lc.Actor:
    """An officer as the actor of a lifecycle act (recorded as "cli:<user> as officer N" from the shell)."""
    via = acting_via.get()
    key = f"{via} as officer {o.id}" if via else (o.user_key or f"officer:{o.id}")
    return lc.Actor(key=key, role=o.role, officer_id=o.id, unit=f"{o.agency}/{o.commune_code}")


def citizen_actor(user_key: str) -> lc.Actor:
    """A citizen's chat as the actor of a lifecycle act."""
    return lc.Actor(key=user_key, role=lc.CITIZEN)
