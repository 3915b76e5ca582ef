"""Render a dossier as the filled official form: plain text (the golden-test surface) and A4 PDF.

Why one module of this size: the text and the PDF renderer walk the same template element by element and
must agree line for line (the golden tests compare the text); keeping both walks side by side is what
keeps them in step.

A form is described by one YAML template in ``templates/<form-id>.yaml``: ``id`` (the
file name), ``form``, ``title``, ``procedures`` (the procedure ids it serves — the
procedure definitions need no change; none for a linked procedure's leg form, which the
procedure names in ``legs[].forms`` and which is rendered with ``template=ID``), optional
``maps`` (the form's own wording for choice values), ``notes`` (where the rendering departs from the source)
and ``blocks``, in the order of the paper form.

A form version is a dated fact: every template carries ``legal_ref`` (the text that issues this version),
``effective_from`` / ``effective_to``, ``verified`` (the wording was checked against that text) and, when
it was not, a ``review_note`` saying why. A new version of a form is a new file that names the version it
follows in ``replaces``; it serves the same procedures (or the same ``legs[].forms`` name) and switches on
by its date, without a release: :func:`template_for` and the renderers pick the version in force on the
date that matters (the desk's receipt when known, else the submission, else today). Versions of one form
must not overlap in time (:func:`check_templates`). The blocks:

``para`` / ``heading``   lines flowing from the left margin (``indent`` levels)
``center`` / ``right`` / ``title``   aligned lines (national motto, form number, title)
``checkboxes``   ☒/☐ options bound to a choice ``field`` + ``value`` or a ``checked`` expression
``table``        fixed rows of cells with placeholders (grids of ``x`` marks)
``repeat_table`` one row per repeat-group instance (``group``) or numbered section
                 (``numbered: member{n}``), ``item.x`` and ``_n`` in the cells
``columns``      side-by-side centred lines (signature, officer confirmation, two-part header)
``section``      a group of blocks;  ``gap``: vertical space

Every block may carry ``when:``, an expression over the answers (:mod:`dialogs.expr`);
the block is shown only when it is true. A line is a string or ``{text, style: B|I,
size, align}``.

Rendering first *fills* the template into a small document model (paragraphs,
tables, columns, gaps) and then lays that out either as text lines or on A4
pages with fpdf2, using the DejaVu fonts shipped in ``fonts/`` so that
Vietnamese diacritics never depend on the fonts of the machine.

Placeholders: ``{path}`` or ``{path|filter|filter:arg}``. ``path`` is a field
path (``who.full_name``), a key inside a structured answer
(``person.residence.commune``), ``item.x`` inside a repeat table, or a context
variable (``_day``, ``_month``, ``_year``, ``_date``, ``_code``, ``_n``). Values
are shown as :func:`dialogs.kinds.display` shows them in Vietnamese; a missing
value is a dotted leader (``…………``). Filters:

``or:PATH``      use PATH when the value is missing (chainable)
``day`` ``month`` ``year``   parts of a date (two-digit day and month)
``upper``        upper case;  ``lowerfirst``: lower-case the first letter
``bare``         drop the unit type of an administrative name (``Xã Nhân Cơ`` → ``Nhân Cơ``)
``map:NAME``     the template's own wording for a choice value (``maps`` key)
``times:g``      a per-person amount × the number of items of repeat group ``g``
``thousands``    a money amount in thousands of đồng
``words``        a date or a whole number in Vietnamese words (:mod:`.words`), the "ghi bằng chữ"
                 line of civil-status forms: ``Ngày mười lăm, tháng mười một, năm hai nghìn …``
``check:V``      ☒ when V is the value or among the selected values, else ☐
``x:V``          ``x`` when V is chosen, else nothing (grid cells)
``nox:V``        ``x`` when the field is answered and V is not chosen, else nothing
``dots:N``       a leader of N dots for a missing value;  ``blank``: nothing instead
"""
from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from itertools import pairwise, zip_longest
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..catalog import Catalog
from ..expr import ExprError, compile_expr, is_year, truthy
from ..form import Form
from ..i18n import translator
from ..kinds import display, format_address
from ..schema import FieldDef
from . import fontcache
from .words import date_in_words, number_in_words

__all__ = [
    "FONTS_DIR",
    "TEMPLATES_DIR",
    "FormError",
    "Layout",
    "Template",
    "check_templates",
    "form_versions",
    "has_form",
    "load_templates",
    "pick_version",
    "placeholders",
    "render_pdf",
    "render_template_pdf",
    "render_template_text",
    "render_text",
    "template_for",
]

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
FONTS_DIR = HERE / "fonts"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

TEXT_WIDTH = 80          # characters per line of the text rendering
DOT = "…"
DEFAULT_DOTS = 10        # length of the leader for a missing value
CHECKED, UNCHECKED = "☒", "☐"
FOOTER_NOTE = "Nộp qua Trợ lý Dịch vụ công ngày {date}"


class FormError(ValueError):
    """A template that cannot be loaded, or a procedure without a form."""


# ---------------------------------------------------------------------------------------------
# Template model
# ---------------------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Style = Literal["", "B", "I", "BI"]
Align = Literal["L", "C", "R", "J"]


class LineSpec(_Strict):
    """One line of text; in YAML a plain string or ``{text, style, size, align}``."""

    text: str
    style: Style = ""
    size: float | None = None
    align: Align | None = None


def _lines(v: Any) -> Any:
    if isinstance(v, str):
        return [{"text": v}]
    if isinstance(v, list):
        return [{"text": x} if isinstance(x, str) else x for x in v]
    return v


class _Block(_Strict):
    when: str | None = None  # shown only when this expression over the answers is true


class TextBlock(_Block):
    """Lines of text. ``center``/``right``/``title`` lines are aligned; ``para``/``heading`` flow left."""

    type: Literal["para", "heading", "center", "right", "title"]
    text: list[LineSpec] = Field(default_factory=list)
    style: Style | None = None
    size: float | None = None
    indent: int = 0  # levels: 2 characters in text, 6 mm on paper

    @field_validator("text", mode="before")
    @classmethod
    def _coerce(cls, v: Any) -> Any:
        return _lines(v)


class GapBlock(_Block):
    type: Literal["gap"]
    lines: int = 1


class CheckOption(_Strict):
    label: str
    value: str | None = None      # checked when the block's field has this value (or selected it)
    checked: str | None = None    # or: checked when this expression holds


class CheckboxBlock(_Block):
    type: Literal["checkboxes"]
    field: str | None = None
    options: list[CheckOption]
    inline: bool = False          # all options on one line
    prefix: str = ""              # text before the boxes on an inline line
    indent: int = 0

    @model_validator(mode="after")
    def _bound(self) -> CheckboxBlock:
        for o in self.options:
            if o.checked is None and (o.value is None or self.field is None):
                raise ValueError(f"option {o.label!r}: give `field` + `value`, or `checked`")
        return self


class Column(_Strict):
    title: str = ""
    width: float = 1.0
    align: Literal["L", "C", "R"] = "L"
    cell: str | None = None       # repeat tables: the cell template for each item


class Row(_Strict):
    cells: list[str]
    style: Style = ""


def _rows(v: Any) -> Any:
    if isinstance(v, list):
        return [{"cells": r} if isinstance(r, list) else r for r in v]
    return v


class TableBlock(_Block):
    type: Literal["table"]
    columns: list[Column]
    header: bool = True
    rows: list[Row]
    size: float | None = None

    @field_validator("rows", mode="before")
    @classmethod
    def _coerce(cls, v: Any) -> Any:
        return _rows(v)

    @model_validator(mode="after")
    def _shape(self) -> TableBlock:
        for r in self.rows:
            if len(r.cells) != len(self.columns):
                raise ValueError(f"table row {r.cells[:2]} has {len(r.cells)} cells, "
                                 f"the table {len(self.columns)} columns")
        return self


class RepeatTableBlock(_Block):
    """One row per item; ``item.x`` and ``_n`` (01, 02, …) in the cells.

    Items are the instances of a repeat group (``group: members`` → ``members[0].x``) or
    numbered sections (``numbered: "member{n}"`` → ``member1.x``, ``member2.x`` … up to ``max``);
    an item is there when any of its fields is answered.
    """

    type: Literal["repeat_table"]
    group: str | None = None
    numbered: str | None = None
    max: int = 50
    columns: list[Column]
    min_rows: int = 0
    size: float | None = None

    @model_validator(mode="after")
    def _cells(self) -> RepeatTableBlock:
        if any(c.cell is None for c in self.columns):
            raise ValueError("every column of a repeat table needs a `cell`")
        if (self.group is None) == (self.numbered is None):
            raise ValueError("a repeat table takes either `group` or `numbered`")
        if self.numbered is not None and "{n}" not in self.numbered:
            raise ValueError("`numbered` needs {n}, e.g. member{n}")
        return self

    def prefix(self, i: int) -> str:
        """The path prefix of item ``i`` (0-based)."""
        if self.group is not None:
            return f"{self.group}[{i}]"
        assert self.numbered is not None  # the validator requires one of the two
        return self.numbered.replace("{n}", str(i + 1))


class ColumnsBlock(_Block):
    """Side-by-side blocks of centred lines: signatures, confirmations, two-part headers."""

    type: Literal["columns"]
    columns: list[list[LineSpec]]
    widths: list[float] | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _coerce(cls, v: Any) -> Any:
        return [_lines(c) for c in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _widths(self) -> ColumnsBlock:
        if self.widths is not None and len(self.widths) != len(self.columns):
            raise ValueError("`widths` needs one number per column")
        return self


class SectionBlock(_Block):
    type: Literal["section"]
    blocks: list[Block]


Block = Annotated[TextBlock | GapBlock | CheckboxBlock | TableBlock | RepeatTableBlock | ColumnsBlock | SectionBlock,
                  Field(discriminator="type")]
SectionBlock.model_rebuild()


class Layout(_Strict):
    """What any printed template has: its names, its wording's source and notes, and its blocks. The
    procedures' forms (:class:`Template`) and the desk's slips (:mod:`.slips`) add their own dated facts."""

    id: str
    form: str                      # e.g. "Mẫu số 04 (Nghị định 20/2021/NĐ-CP)"
    title: str                     # the form's title, for file names and listings
    procedures: list[str] = Field(default_factory=list)  # empty: a leg form, named in a procedure's legs[].forms
    source: str | None = None      # where the wording was taken from (a seed document, the legal text)
    notes: list[str] = Field(default_factory=list)
    maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    blocks: list[Block]

    @field_validator("procedures", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class Template(Layout):
    """A procedure's form, one version of it: a dated fact."""

    legal_ref: str                 # the legal text that issues this version of the form
    effective_from: date | None = None   # None: in force since before the assistant existed
    effective_to: date | None = None     # None: no end known
    verified: bool                 # the wording was checked against legal_ref
    review_note: str | None = None  # why it is unverified, what a reviewer must check (docs/law.md only)
    review_by: date | None = None  # a known change of the law by which this version must be reviewed
    replaces: str | None = None    # the id of the version this one follows (same form, earlier text)

    @model_validator(mode="after")
    def _dated(self) -> Template:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        if not self.verified and not (self.review_note or "").strip():
            raise ValueError("an unverified form version needs a review_note saying why")
        return self

    def in_force(self, on: date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and \
            (self.effective_to is None or on <= self.effective_to)


@lru_cache(maxsize=4)
def _registry(directory: Path | None = None) -> tuple[dict[str, Template], dict[str, list[Template]]]:
    return load_templates(directory)


def _by_start(t: Template) -> date:
    return t.effective_from or date.min


L = TypeVar("L", bound=Layout)


def load_layouts(directory: Path, model: type[L]) -> dict[str, L]:
    """Every ``*.yaml`` of ``directory`` validated as ``model``, by id (the file's name). Raises FormError naming
    the file on a YAML or validation error, or an id that is not the file's name."""
    out: dict[str, L] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            tpl = model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except Exception as exc:  # yaml or validation error: name the file
            raise FormError(f"{path.name}: {exc}") from exc
        if tpl.id != path.stem:
            raise FormError(f"{path.name}: id must be the file name ({tpl.id!r})")
        out[tpl.id] = tpl
    return out


def load_templates(directory: Path | None = None) -> tuple[dict[str, Template], dict[str, list[Template]]]:
    """(templates by id, the versions serving each procedure id, oldest first). Raises FormError on a bad
    template, a `replaces` naming no template, or two versions for one procedure in force on the same day."""
    by_id = load_layouts(directory or TEMPLATES_DIR, Template)
    by_proc: dict[str, list[Template]] = {}
    for tpl in by_id.values():
        for pid in tpl.procedures:
            by_proc.setdefault(pid, []).append(tpl)
    for tpl in by_id.values():
        if tpl.replaces is not None and tpl.replaces not in by_id:
            raise FormError(f"{tpl.id}.yaml: replaces unknown template {tpl.replaces!r}")
    groups = list(by_proc.items()) + [(f"form {root}", vs) for root, vs in _families(by_id).items()]
    for what, versions in groups:
        versions.sort(key=_by_start)
        for a, b in pairwise(versions):
            if b.effective_from is None or a.effective_to is None or a.effective_to >= b.effective_from:
                raise FormError(f"{what}: versions {a.id} and {b.id} overlap in time "
                                "(give the older one effective_to before the newer one's effective_from)")
    return by_id, by_proc


def _root(by_id: dict[str, Template], template_id: str) -> str:
    seen = {template_id}
    while (prev := by_id[template_id].replaces) is not None:
        if prev in seen:
            raise FormError(f"{template_id}.yaml: `replaces` goes round in a circle")
        seen.add(prev)
        template_id = prev
    return template_id


def _families(by_id: dict[str, Template]) -> dict[str, list[Template]]:
    """The versions of each form, keyed by the id of its first version."""
    out: dict[str, list[Template]] = {}
    for tid in by_id:
        out.setdefault(_root(by_id, tid), []).append(by_id[tid])
    return out


def pick_version(versions: Sequence[Template], on: date) -> Template:
    """The version in force on ``on``. Before the first version, the first; in a gap or after the last, the
    latest that had begun: an old dossier is never left without its form."""
    ordered = sorted(versions, key=_by_start)
    for t in ordered:
        if t.in_force(on):
            return t
    begun = [t for t in ordered if _by_start(t) <= on]
    return begun[-1] if begun else ordered[0]


def _today() -> date:
    return datetime.now(VN_TZ).date()


def template_for(procedure_id: str, on: date | None = None, *, templates_dir: Path | None = None) -> Template:
    """The form version for a procedure in force on ``on`` (default: today in Vietnam); ``templates_dir``:
    another directory of templates than the shipped one."""
    versions = _registry(templates_dir)[1].get(procedure_id)
    if not versions:
        raise FormError(f"no form template for procedure {procedure_id!r}")
    return pick_version(versions, on or _today())


def has_form(procedure_id: str) -> bool:
    return procedure_id in _registry()[1]


def form_versions(template_id: str, templates: dict[str, Template] | None = None) -> list[Template]:
    """Every version of the form that ``template_id`` is one version of, oldest first."""
    by_id = templates if templates is not None else _registry()[0]
    if template_id not in by_id:
        raise FormError(f"no form template {template_id!r}")
    return sorted(_families(by_id)[_root(by_id, template_id)], key=_by_start)


def _template_by_id(template_id: str, on: date | None = None, templates_dir: Path | None = None) -> Template:
    """A leg form named in ``legs[].forms`` (any version's id): the version of that form in force on ``on``."""
    return pick_version(form_versions(template_id, _registry(templates_dir)[0]), on or _today())


def _catalog() -> Catalog:
    return Catalog.default()


def _form_of(procedure_id: str) -> Form | None:
    return _catalog().forms.get(procedure_id)


# ---------------------------------------------------------------------------------------------
# Filling: template + answers -> document model
# ---------------------------------------------------------------------------------------------
@dataclass
class Para:
    text: str
    kind: str = "para"          # para | heading | center | right | title
    style: str = ""
    size: float | None = None
    indent: int = 0


@dataclass
class Gap:
    lines: int = 1


@dataclass
class Table:
    columns: list[Column]
    header: list[str] | None
    rows: Sequence[tuple[list[str], str]]
    size: float | None = None


@dataclass
class Columns:
    columns: list[list[Para]]
    widths: list[float]


Item = Para | Gap | Table | Columns

_PH_RE = re.compile(r"\{([^{}]+)\}")
_UNIT_PREFIXES = ("Thành phố ", "Tỉnh ", "Phường ", "Xã ", "Đặc khu ", "Thị trấn ")


def _missing(v: Any) -> bool:
    return v is None or v == ""


def _as_date(v: Any) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            return None
    return None


def _chosen(raw: Any, value: str) -> bool:
    if isinstance(raw, (list, tuple, set)):
        return value in raw
    if isinstance(raw, bool):
        return value == ("true" if raw else "false")
    return raw is not None and str(raw) == value


@dataclass
class Filler:
    """Fills placeholders and evaluates conditions for one dossier."""

    template: Layout
    form: Form | None
    answers: dict[str, Any]
    variables: dict[str, Any]
    today: date
    item: str | None = None  # path prefix of the repeat-table row being filled
    t: Any = field(default_factory=lambda: translator("vi"))

    # -- values -------------------------------------------------------------------
    def chosen(self, path: str | None, value: str | None) -> bool:
        """Whether the answer at ``path`` is (or, for a list, holds) ``value``; the block's validator makes
        sure an option without a ``checked`` expression has both."""
        return path is not None and value is not None and _chosen(self.resolve(path)[0], value)

    def resolve(self, path: str) -> tuple[Any, FieldDef | None]:
        if path.startswith("_"):
            return self.variables.get(path), None
        if path.startswith("item.") and self.item is not None:
            path = f"{self.item}.{path[5:]}"
        fdef = self.form.field(path) if self.form is not None else None
        if path in self.answers:
            return self.answers[path], fdef
        head, _, tail = path.rpartition(".")  # a key inside a structured answer
        while head:
            if isinstance(self.answers.get(head), dict):
                return self.answers[head].get(tail), None
            head, _, more = head.rpartition(".")
            tail = f"{more}.{tail}"
        return None, fdef

    def show(self, raw: Any, fdef: FieldDef | None) -> str:
        if fdef is not None and fdef.kind == "multi_choice" and isinstance(raw, list) and raw:
            # labels often hold commas themselves: separate the chosen ones with semicolons
            return "; ".join(self.t(c.label) for c in fdef.choices if c.value in raw) or display(fdef, raw, self.t)
        if fdef is not None:
            return display(fdef, raw, self.t)
        if isinstance(raw, dict):
            return format_address(raw)
        if isinstance(raw, bool):
            return "Có" if raw else "Không"
        if isinstance(raw, (date, datetime)):
            return self.t.date(_as_date(raw))
        if isinstance(raw, (list, tuple)):
            return ", ".join(str(x) for x in raw)
        return str(raw)

    def placeholder(self, spec: str, *, cell: bool = False) -> str:
        path, *filters = [p.strip() for p in spec.split("|")]
        raw, fdef = self.resolve(path)
        text: str | None = None
        dots = 0 if cell else DEFAULT_DOTS
        post: list[Callable[[str], str]] = []
        for flt in filters:
            name, _, arg = flt.partition(":")
            if name == "or":
                if _missing(raw):
                    raw, fdef = self.resolve(arg)
            elif name in ("check", "x", "nox"):
                if name == "check":
                    return CHECKED if _chosen(raw, arg) else UNCHECKED
                if name == "x":
                    return "x" if _chosen(raw, arg) else ""
                return "x" if not _missing(raw) and not _chosen(raw, arg) else ""
            elif name == "year" and is_year(raw):
                raw, fdef = raw, None  # a year alone (a date field's ``year_only``); its day and month stay blank
            elif name in ("day", "month", "year"):
                d = _as_date(raw)
                raw, fdef = (None, None) if d is None else \
                    ({"day": f"{d.day:02d}", "month": f"{d.month:02d}", "year": str(d.year)}[name], None)
            elif name == "map":
                table = self.template.maps.get(arg)
                if table is None:
                    raise FormError(f"{self.template.id}: no map {arg!r}")
                if not _missing(raw):
                    text = table.get(str(raw), text)
            elif name == "words":
                d = _as_date(raw)
                if d is not None:
                    text = date_in_words(d)
                elif isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
                    text = number_in_words(raw)
            elif name == "times":  # a per-person amount for the whole household: × the group's members
                if isinstance(raw, (int, float)) and not isinstance(raw, bool) and self.form is not None:
                    raw = raw * self.form.instances(self.answers, arg)
            elif name == "thousands":
                if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                    text = self.t.number(round(raw / 1000))
            elif name == "upper":
                post.append(str.upper)
            elif name == "lowerfirst":
                post.append(lambda s: s[:1].lower() + s[1:])
            elif name == "bare":
                post.append(_bare)
            elif name == "dots":
                dots = int(arg)
            elif name == "blank":
                dots = 0
            else:
                raise FormError(f"{self.template.id}: unknown filter {name!r} in {{{spec}}}")
        if _missing(raw) and text is None:
            return DOT * dots
        if text is None:
            text = self.show(raw, fdef)
        for fn in post:
            text = fn(text)
        return text

    def fill(self, s: str, *, cell: bool = False) -> str:
        out = _PH_RE.sub(lambda m: self.placeholder(m.group(1), cell=cell), s)
        return unicodedata.normalize("NFC", out)

    def holds(self, source: str | None) -> bool:
        if not source:
            return True
        if self.form is not None:
            resolve = self.form.resolver(self.answers)
        else:
            def resolve(p: str) -> Any:
                return self.answers.get(p)
        return truthy(compile_expr(source).evaluate(resolve, today=self.today))

    # -- blocks ---------------------------------------------------------------------
    def build(self, blocks: list[Any]) -> list[Item]:
        out: list[Item] = []
        for b in blocks:
            if not self.holds(b.when):
                continue
            if isinstance(b, SectionBlock):
                out += self.build(b.blocks)
            elif isinstance(b, TextBlock):
                for ln in b.text:
                    kind = b.type
                    style = ln.style or (b.style if b.style is not None else
                                         ("B" if kind in ("title", "heading") else ""))
                    if ln.align == "C":
                        kind = "center"
                    elif ln.align == "R":
                        kind = "right"
                    out.append(Para(self.fill(ln.text), kind, style, ln.size or b.size, b.indent))
            elif isinstance(b, GapBlock):
                out.append(Gap(b.lines))
            elif isinstance(b, CheckboxBlock):
                marks = []
                for o in b.options:
                    on = self.holds(o.checked) if o.checked else self.chosen(b.field, o.value)
                    marks.append(f"{CHECKED if on else UNCHECKED} {self.fill(o.label)}")
                if b.inline:
                    out.append(Para(self.fill(b.prefix) + "   ".join(marks), indent=b.indent))
                else:
                    out += [Para(m, indent=b.indent) for m in marks]
            elif isinstance(b, TableBlock):
                header = [self.fill(c.title) for c in b.columns] if b.header else None
                rows = [([self.fill(c, cell=True) for c in r.cells], r.style) for r in b.rows]
                out.append(Table(b.columns, header, rows, b.size))
            elif isinstance(b, RepeatTableBlock):
                present = [i for i in range(b.max)
                           if any(k.startswith(b.prefix(i) + ".") for k in self.answers)]
                n = max(present) + 1 if present else 0
                rows = []
                saved = self.item, self.variables.get("_n")
                for i in range(max(n, b.min_rows)):
                    self.item = b.prefix(i)
                    self.variables["_n"] = f"{i + 1:02d}"
                    rows.append(([self.fill(c.cell or "", cell=True) for c in b.columns], ""))
                self.item, self.variables["_n"] = saved
                out.append(Table(b.columns, [self.fill(c.title) for c in b.columns], rows, b.size))
            elif isinstance(b, ColumnsBlock):
                cols = [[Para(self.fill(ln.text), "center", ln.style, ln.size) for ln in col]
                        for col in b.columns]
                out.append(Columns(cols, list(b.widths or [1.0] * len(cols))))
        return out


def _bare(name: str) -> str:
    for p in _UNIT_PREFIXES:
        if name.startswith(p):
            return name[len(p):]
    return name


def _vn_time(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=VN_TZ)
    return when.astimezone(VN_TZ)


def _prepare(procedure_id: str, answers: dict[str, Any], submitted_at: datetime | None,
             code: str | None, template: str | None = None,
             on: date | None = None,
             templates_dir: Path | None = None) -> tuple[Template, list[Item], datetime | None]:
    # ``template``: a form by id, e.g. a linked procedure's leg form (``legs[].forms``); the version is the
    # one in force on ``on`` (the desk's receipt), else on the submission day, else today
    when = _vn_time(submitted_at)
    day = on or (when.date() if when is not None else None)
    tpl = template_for(procedure_id, day, templates_dir=templates_dir) if template is None \
        else _template_by_id(template, day, templates_dir)
    variables: dict[str, Any] = {"_code": code}
    if when is not None:
        variables.update(_day=f"{when.day:02d}", _month=f"{when.month:02d}", _year=str(when.year),
                         _date=when.strftime("%d/%m/%Y"))
    today = when.date() if when is not None else datetime.now(VN_TZ).date()
    filler = Filler(tpl, _form_of(procedure_id), dict(answers or {}), variables, today)
    return tpl, filler.build(tpl.blocks), when


# ---------------------------------------------------------------------------------------------
# Text layout
# ---------------------------------------------------------------------------------------------
def _wrap(s: str, width: int) -> list[str]:
    return textwrap.wrap(s, width, break_long_words=True, break_on_hyphens=False) or [""]


def _text_lines(items: list[Item], width: int = TEXT_WIDTH) -> list[str]:
    out: list[str] = []
    for it in items:
        if isinstance(it, Gap):
            out += [""] * it.lines
        elif isinstance(it, Para):
            if it.kind in ("center", "title"):
                out += [ln.center(width).rstrip() for ln in _wrap(it.text, width)]
            elif it.kind == "right":
                out += [ln.rjust(width) for ln in _wrap(it.text, width)]
            else:
                out.append("  " * it.indent + it.text)
        elif isinstance(it, Table):
            def row(cells: list[str]) -> str:
                return "| " + " | ".join(c.replace("\n", " / ") for c in cells) + " |"
            if it.header is not None:
                out.append(row(it.header))
                out.append("|" + "|".join("---" for _ in it.columns) + "|")
            out += [row(cells) for cells, _style in it.rows]
        elif isinstance(it, Columns):
            total = sum(it.widths)
            widths = [max(8, int(width * w / total)) for w in it.widths]
            cols = []
            for col, w in zip(it.columns, widths, strict=False):
                lines: list[str] = []
                for p in col:
                    lines += [ln.center(w - 2) for ln in _wrap(p.text, w - 2)] if p.text else [""]
                cols.append(lines)
            for parts in zip_longest(*cols, fillvalue=""):
                line = "".join(" " + (p or "").ljust(w - 2) + " " for p, w in zip(parts, widths, strict=False))
                out.append(line.rstrip())
    return out


def _footer_text(code: str | None, when: datetime | None, note: str = FOOTER_NOTE) -> str | None:
    parts = []
    if code:
        parts.append(f"Mã hồ sơ: {code}")
    if when is not None:
        parts.append(note.format(date=when.strftime("%d/%m/%Y")))
    return " · ".join(parts) if parts else None


def render_text(procedure_id: str, answers: dict[str, Any], *, submitted_at: datetime | None = None,
                code: str | None = None, template: str | None = None, on: date | None = None,
                templates_dir: Path | None = None) -> str:
    """The filled form as plain text, lines in the order of the paper form; ``on``: the day whose form
    version applies (the desk's receipt), by default the submission day."""
    _tpl, items, when = _prepare(procedure_id, answers, submitted_at, code, template, on, templates_dir)
    lines = _text_lines(items)
    foot = _footer_text(code, when)
    if foot:
        lines += ["", "-" * TEXT_WIDTH, foot]
    return unicodedata.normalize("NFC", "\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# PDF layout (fpdf2)
# ---------------------------------------------------------------------------------------------
BODY_PT = 11.0
LINE_MM = 5.6
INDENT_MM = 6.0


def _pdf_class():
    from fpdf import FPDF

    class FormPDF(FPDF):
        footer_left = ""
        footer_right = ""
        total_pages: int | None = None

        def footer(self) -> None:
            self.set_y(-12)
            self.set_x(self.l_margin)  # a page break inside a table leaves x elsewhere
            self.set_font("sans", "", 7.5)
            self.set_text_color(90, 90, 90)
            self.cell(self.epw / 2, 4, self.footer_left, align="L")
            page = f"Trang {self.page_no()}" + (f"/{self.total_pages}" if self.total_pages else "")
            right = f"{self.footer_right} · {page}" if self.footer_right else page
            self.cell(self.epw / 2, 4, right, align="R")
            self.set_text_color(0, 0, 0)

    return FormPDF


def _style(style: str) -> str:
    # DejaVu Serif Bold-Italic is not shipped: bold wins.
    return "B" if "B" in style else ("I" if "I" in style else "")


def _layout_pdf(tpl: Layout, items: list[Item], code: str | None, when: datetime | None,
                total_pages: int | None, note: str = FOOTER_NOTE) -> Any:
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    pdf = _pdf_class()(orientation="P", unit="mm", format="A4")
    pdf.str_alias_nb_pages = None  # never substitute "{nb}" inside a citizen's answers
    # the fonts parsed once per process, cut to the characters a form holds; the full files otherwise
    if fontcache.covers(_chars(items, tpl.title, code, note)):
        fontcache.add_cached_fonts(pdf)
    else:
        fontcache.add_full_fonts(pdf)
    pdf.set_fallback_fonts(["sans"], exact_match=False)  # ☐ ☒ are not in DejaVu Serif
    pdf.set_margins(left=25, top=15, right=15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_title(tpl.title)
    pdf.set_subject(f"{tpl.form}" + (f" - {code}" if code else ""))
    pdf.set_creator("dvcbot - Trợ lý Dịch vụ công")
    pdf.set_lang("vi")
    pdf.footer_left = f"Mã hồ sơ: {code}" if code else ""
    pdf.footer_right = note.format(date=when.strftime("%d/%m/%Y")) if when else ""
    pdf.total_pages = total_pages
    pdf.add_page()

    def font(style: str = "", size: float | None = None) -> None:
        pdf.set_font("serif", _style(style), size or BODY_PT)

    for it in items:
        if isinstance(it, Gap):
            pdf.ln(LINE_MM * it.lines * 0.6)
        elif isinstance(it, Para):
            if it.kind == "title":
                font(it.style or "B", it.size or BODY_PT + 2)
                pdf.ln(2)
                pdf.multi_cell(0, LINE_MM + 0.8, it.text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(1.5)
                continue
            font(it.style, it.size)
            if it.kind == "heading":
                pdf.ln(1.2)
            align = {"center": "C", "right": "R"}.get(it.kind, "L")
            pdf.set_x(pdf.l_margin + INDENT_MM * it.indent)
            pdf.multi_cell(pdf.epw - INDENT_MM * it.indent, LINE_MM, it.text or " ", align=align,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        elif isinstance(it, Table):
            size = it.size or BODY_PT - 1.5
            font("", size)
            total = sum(c.width for c in it.columns)
            col_widths = tuple(pdf.epw * c.width / total for c in it.columns)
            pdf.ln(1)
            # align="LEFT": fpdf2 centres a table on the *page*, 5 mm left of the text with these margins
            with pdf.table(col_widths=col_widths, width=pdf.epw, align="LEFT", line_height=size * 0.47,
                           first_row_as_headings=it.header is not None,
                           headings_style=FontFace(emphasis="BOLD"), v_align="M",
                           padding=(0.8, 1.2, 0.8, 1.2)) as table:
                if it.header is not None:
                    r = table.row()
                    for h in it.header:
                        r.cell(h, align="C")
                for cells, style in it.rows:
                    r = table.row()
                    face = FontFace(emphasis="BOLD") if "B" in style else None
                    for c, col in zip(cells, it.columns, strict=False):
                        r.cell(c, align=col.align, style=face)
            pdf.ln(1.5)
        elif isinstance(it, Columns):
            total = sum(it.widths)
            widths = [pdf.epw * w / total for w in it.widths]

            def col_height(col: list[Para], w: float) -> float:
                h = 0.0
                for p in col:
                    font(p.style, p.size)
                    n = len(pdf.multi_cell(w, LINE_MM, p.text or " ", align="C", dry_run=True,
                                           output="LINES"))
                    h += LINE_MM * max(1, n)
                return h

            height = max(col_height(c, w) for c, w in zip(it.columns, widths, strict=False))
            if pdf.get_y() + height > pdf.page_break_trigger:
                pdf.add_page()
            y0, x = pdf.get_y(), pdf.l_margin
            for paras, w in zip(it.columns, widths, strict=False):
                pdf.set_xy(x, y0)
                for p in paras:
                    font(p.style, p.size)
                    pdf.set_x(x)
                    pdf.multi_cell(w, LINE_MM, p.text or " ", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
                x += w
            pdf.set_xy(pdf.l_margin, y0 + height)
    return pdf


def _chars(items: list[Item], *extra: str | None) -> set[str]:
    """Every character the layout of ``items`` may draw (besides the fixed footer text)."""
    texts: list[str] = [FOOTER_NOTE, "Mã hồ sơ: Trang 0123456789/·", *(e for e in extra if e)]
    for it in items:
        if isinstance(it, Para):
            texts.append(it.text)
        elif isinstance(it, Table):
            texts += list(it.header or ())
            texts += [c for cells, _style in it.rows for c in cells]
        elif isinstance(it, Columns):
            texts += [p.text for col in it.columns for p in col]
    return set("".join(t for t in texts if t))


def render_pdf(procedure_id: str, answers: dict[str, Any], *, submitted_at: datetime | None = None,
               code: str | None = None, template: str | None = None, on: date | None = None,
               templates_dir: Path | None = None) -> bytes:
    """The filled form on A4 pages, with the dossier code and submission date in the footer."""
    tpl, items, when = _prepare(procedure_id, answers, submitted_at, code, template, on, templates_dir)
    pdf = _layout_pdf(tpl, items, code, when, None)
    if pdf.page_no() > 1:  # lay out again, now knowing the page count ("Trang 1/2")
        pdf = _layout_pdf(tpl, items, code, when, pdf.page_no())
    return bytes(pdf.output())


def _prepare_values(tpl: Layout, values: dict[str, Any], when: datetime | None,
                    code: str | None) -> tuple[list[Item], datetime | None]:
    """Fill ``tpl`` from plain ``values`` (no procedure: the desk's slips, dialogs/forms/slips.py)."""
    when = _vn_time(when)
    variables: dict[str, Any] = {"_code": code}
    if when is not None:
        variables.update(_day=f"{when.day:02d}", _month=f"{when.month:02d}", _year=str(when.year),
                         _date=when.strftime("%d/%m/%Y"))
    today = when.date() if when is not None else datetime.now(VN_TZ).date()
    return Filler(tpl, None, dict(values), variables, today).build(tpl.blocks), when


def render_template_text(tpl: Layout, values: dict[str, Any], *, when: datetime | None = None,
                         code: str | None = None, note: str = FOOTER_NOTE) -> str:
    """A template filled from plain values (keys are the placeholders' paths), as text; ``note``: the footer's
    dated line."""
    items, when = _prepare_values(tpl, values, when, code)
    lines = _text_lines(items)
    foot = _footer_text(code, when, note)
    if foot:
        lines += ["", "-" * TEXT_WIDTH, foot]
    return unicodedata.normalize("NFC", "\n".join(lines) + "\n")


def render_template_pdf(tpl: Layout, values: dict[str, Any], *, when: datetime | None = None,
                        code: str | None = None, note: str = FOOTER_NOTE) -> bytes:
    """A template filled from plain values, on A4 pages (the same layout as the forms)."""
    items, when = _prepare_values(tpl, values, when, code)
    pdf = _layout_pdf(tpl, items, code, when, None, note)
    if pdf.page_no() > 1:
        pdf = _layout_pdf(tpl, items, code, when, pdf.page_no(), note)
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------------------
# Checks (used by the tests)
# ---------------------------------------------------------------------------------------------
def placeholders(tpl: Layout) -> list[tuple[str, str | None]]:
    """Every (placeholder spec, path prefix of a repeat-table item or None), and every
    `when`/`checked` expression as ("?expr", None)."""
    found: list[tuple[str, str | None]] = []

    def texts(s: str, group: str | None = None) -> None:
        found.extend((m.group(1), group) for m in _PH_RE.finditer(s))

    def walk(blocks: list[Any]) -> None:
        for b in blocks:
            if b.when:
                found.append(("?" + b.when, None))
            if isinstance(b, SectionBlock):
                walk(b.blocks)
            elif isinstance(b, TextBlock):
                for ln in b.text:
                    texts(ln.text)
            elif isinstance(b, CheckboxBlock):
                texts(b.prefix)
                if b.field:
                    found.append((b.field, None))
                for o in b.options:
                    texts(o.label)
                    if o.checked:
                        found.append(("?" + o.checked, None))
            elif isinstance(b, TableBlock):
                for c in b.columns:
                    texts(c.title)
                for r in b.rows:
                    for cell in r.cells:
                        texts(cell)
            elif isinstance(b, RepeatTableBlock):
                for c in b.columns:
                    texts(c.title)
                    texts(c.cell or "", b.prefix(0))
            elif isinstance(b, ColumnsBlock):
                for col in b.columns:
                    for ln in col:
                        texts(ln.text)

    walk(tpl.blocks)
    return found


_FILTERS = {"or", "day", "month", "year", "upper", "lowerfirst", "bare", "map", "times", "thousands", "words",
            "check", "x", "nox", "dots", "blank"}
_VARS = {"_day", "_month", "_year", "_date", "_code", "_n"}


def check_templates(catalog: Catalog | None = None) -> list[str]:
    """Problems in the templates: unknown procedures, fields, filters, maps and bad expressions, and a
    procedure leg's form (``legs[].forms``) with no template; a template that does not load (overlapping
    versions, an unverified version without its reason, a bad ``replaces``) is the one problem reported.

    A field path must exist in at least one of the procedures a template serves
    (one form may serve two procedures that ask slightly different questions).
    """
    catalog = catalog or _catalog()
    problems: list[str] = []
    try:
        by_id, _by_proc = load_templates()
    except FormError as exc:  # a bad template, overlapping versions, an unverified one without its reason
        return [str(exc)]
    for proc in catalog:
        problems += [f"{proc.id}: leg {leg.id}: no form template {t!r} in dialogs/forms/templates"
                     for leg in proc.legs for t in leg.forms if t not in by_id]
    for tpl in by_id.values():
        names = {v.id for v in form_versions(tpl.id, by_id)}  # a leg names any version of its form
        forms = [catalog.forms[p] for p in tpl.procedures if p in catalog.forms]
        forms += [catalog.forms[p.id] for p in catalog if any(names & set(leg.forms) for leg in p.legs)]
        problems += [f"{tpl.id}: unknown procedure {p}" for p in tpl.procedures if p not in catalog.forms]

        def known(path: str, group: str | None, forms=forms) -> bool:
            if path in _VARS:
                return True
            if path.startswith("item."):
                if group is None:
                    return False
                path = f"{group}.{path[5:]}"
            for f in forms:
                if f.field(path) is not None:
                    return True
                head = path.rpartition(".")[0]  # a key of a structured answer (address)
                hf = f.field(head) if head else None
                if hf is not None and hf.kind == "address":
                    return True
            return False

        for spec, group in placeholders(tpl):
            if spec.startswith("?"):
                try:
                    expr = compile_expr(spec[1:])
                except ExprError as exc:
                    problems.append(f"{tpl.id}: bad expression {spec[1:]!r}: {exc}")
                    continue
                for ref in expr.refs:
                    if ref != "value" and not any(ref in f.field_keys or ref in f.groups for f in forms):
                        problems.append(f"{tpl.id}: expression {spec[1:]!r} reads unknown field {ref}")
                continue
            path, *filters = [p.strip() for p in spec.split("|")]
            if not known(path, group):
                problems.append(f"{tpl.id}: unknown field {{{spec}}}")
            for flt in filters:
                name, _, arg = flt.partition(":")
                if name not in _FILTERS:
                    problems.append(f"{tpl.id}: unknown filter {name!r} in {{{spec}}}")
                elif name == "or" and not known(arg, group):
                    problems.append(f"{tpl.id}: unknown field {arg} in {{{spec}}}")
                elif name == "map" and arg not in tpl.maps:
                    problems.append(f"{tpl.id}: no map {arg!r} in {{{spec}}}")
                elif name in ("check", "x", "nox"):
                    choice_vals = set()
                    for f in forms:
                        fd = f.field(path.replace("item.", f"{group}.", 1) if group else path)
                        if fd is not None:
                            choice_vals |= {c.value for c in fd.choices}
                    if choice_vals and arg not in choice_vals:
                        problems.append(f"{tpl.id}: {{{spec}}}: {arg!r} is not a choice of {path}")
    return problems
