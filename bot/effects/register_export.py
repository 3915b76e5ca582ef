"""``register.export``: a register's active rows of one commune as a table (CSV or XLSX), for the
officers of an agency: from their chat (one of ``commands``) or ``dvcbot allowance export``.

    - effect: register.export
      args:
        register: NAME
        where: {COLUMN: VALUE}         # which rows (besides their dossier not rejected or withdrawn)
        order_by: [COLUMN]
        agency: AGENCY                 # whose officers may ask for it in their chat
        commands: [WORD]               # folded words that ask for it in the officer chat
        file_name: NAME                # the file: NAME-COMMUNE-YYYYMMDD.xlsx
        message: TEXT                  # with the file: {commune} {n}
        title: TEXT                    # the sheet's first row: {commune} {day}
        columns:
          - {key: KEY, label: TEXT, column: COLUMN, format: date|bank_name|bank_short|identity,
             labels: {VALUE: TEXT}, only_if: {COLUMN: VALUE}, width: N}
          - {key: KEY, label: TEXT, source: row_number|dossier_code}
          - {key: KEY, label: TEXT, source: pending_changes, labels: {CHANGE_KIND: TEXT}}   # reported, unconfirmed
"""
from __future__ import annotations

import asyncio
import csv
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import address, banks
from dialogs.catalog import Catalog
from dialogs.form import Form
from dialogs.i18n import translator
from dialogs.messages import FileRef, Message
from dialogs.textnorm import fold
from storage.models import Dossier

from .. import verification
from .base import Args
from .registers import DEAD_DOSSIER, REGISTERS, register_arg

NAME = "register.export"
STAGE = "export"
FORMATS = ("date", "bank_name", "bank_short", "identity")
SOURCES = ("row_number", "dossier_code", "pending_changes")
AWAITING = "awaiting_confirmation"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_VN = ZoneInfo("Asia/Ho_Chi_Minh")


def validate(args: Mapping[str, Any], form: Form, catalog: Any = None) -> list[str]:
    a = Args(args, form, NAME, catalog)
    a.allowed("register", "where", "order_by", "agency", "commands", "file_name", "message", "title", "columns")
    reg = register_arg(a)
    cols = reg.columns if reg is not None else {}
    for column in list(a.optional("where", dict) or {}) + list(a.optional("order_by", list) or []):
        if reg is not None and column not in cols:
            a.problem(f"register {reg.name!r} has no column {column!r}")
    a.required("agency")
    for word in a.required("commands", list) or []:
        if not isinstance(word, str) or fold(word).strip(" .!") != word:
            a.problem(f"commands: {word!r} must be written as it is compared: folded, without diacritics")
    a.required("file_name")
    a.text("message", ("commune", "n"))
    a.text("title", ("commune", "day"))
    keys: set[str] = set()
    for i, c in enumerate(a.required("columns", list) or []):
        where = f"columns[{i}]"
        if not isinstance(c, dict) or not isinstance(c.get("key"), str) or not isinstance(c.get("label"), str):
            a.problem(f"{where}: needs a key and a label")
            continue
        if c["key"] in keys:
            a.problem(f"{where}: duplicate key {c['key']!r}")
        keys.add(c["key"])
        for k in c:
            if k not in ("key", "label", "column", "source", "format", "labels", "only_if", "width"):
                a.problem(f"{where}: unknown option {k!r}")
        if ("column" in c) == ("source" in c):
            a.problem(f"{where}: needs either a column or a source")
        if "source" in c and c["source"] not in SOURCES:
            a.problem(f"{where}: unknown source {c['source']!r}")
        if "format" in c and c["format"] not in FORMATS:
            a.problem(f"{where}: unknown format {c['format']!r}")
        for column in [c.get("column"), *list(c.get("only_if") or {})]:
            if column is not None and reg is not None and column not in cols:
                a.problem(f"{where}: register {reg.name!r} has no column {column!r}")
        for value in _unlabelled(c, form, reg.name if reg is not None else None):
            a.problem(f"{where}: labels has no text for {value!r}, an option of the question this column is "
                      "filled from")
    return a.problems


def _unlabelled(c: Mapping[str, Any], form: Form, register: str | None) -> list[str]:
    """The options of the question a labelled column is filled from (by this procedure's register.add or
    register.update) that its ``labels`` lack: the officer's list would show the bare value (“huu_tri_xa_hoi”)."""
    labels, column = c.get("labels"), c.get("column")
    if not isinstance(labels, dict) or column is None or register is None:
        return []
    missing: list[str] = []
    for call in form.proc.effects.submit:
        if call.effect not in ("register.add", "register.update") or call.args.get("register") != register:
            continue
        spec = (call.args.get("columns") or {}).get(column)
        path = spec.get("path") if isinstance(spec, dict) else spec
        field = form.field(path) if isinstance(path, str) else None
        if field is not None:
            missing += [ch.value for ch in field.choices if ch.value not in labels and ch.value not in missing]
    return missing


def exports(catalog: Catalog) -> list[Mapping[str, Any]]:
    """The arguments of every export the catalogue declares."""
    return [c.args for p in catalog.procedures.values() for c in p.effects.exports if c.effect == NAME]


def _cell(c: Mapping[str, Any], row: Any, d: Dossier | None, n: int, _: Any, pending: list[str]) -> Any:
    if c.get("source") == "row_number":
        return n
    if c.get("source") == "pending_changes":
        return "; ".join(_((c.get("labels") or {}).get(kind, kind)) for kind in pending)
    if c.get("source") == "dossier_code":
        return d.code if d else ""
    if any(getattr(row, k) != v for k, v in (c.get("only_if") or {}).items()):
        return ""
    value = getattr(row, c["column"])
    fmt = c.get("format")
    if value is None:
        return ""
    if fmt == "date":
        if isinstance(value, datetime):
            value = value.astimezone(_VN)
        return value.strftime("%d/%m/%Y")
    if fmt in ("bank_name", "bank_short"):
        bank = banks.bank_list().by_bin(value)
        return (bank.name if fmt == "bank_name" else bank.short) if bank else ""
    if fmt == "identity":
        return _(verification.RESULT_LABELS[value])
    if c.get("labels"):
        return _(c["labels"].get(value, value))
    return value


async def rows(db: AsyncSession, args: Mapping[str, Any], commune_code: str, lang: str = "vi") -> list[dict[str, Any]]:
    """One row per register row of the commune that ``where`` selects, its dossier still alive."""
    _ = translator(lang)
    reg = REGISTERS[args["register"]]
    m = reg.model
    stmt = select(m, Dossier).outerjoin(Dossier, Dossier.id == m.dossier_id).where(m.commune_code == commune_code)
    for column, value in (args.get("where") or {}).items():
        stmt = stmt.where(getattr(m, column) == value)
    stmt = stmt.order_by(*[getattr(m, column) for column in args.get("order_by") or ["id"]])
    found = [(row, d) for row, d in (await db.execute(stmt)).all() if d is None or d.status not in DEAD_DOSSIER]
    pending: dict[int, list[str]] = {}
    if found and any(c.get("source") == "pending_changes" for c in args["columns"]):
        fk = getattr(reg.changes, reg.change_fk)
        for ch in (await db.execute(select(reg.changes).where(fk.in_([r.id for r, _d in found]),
                                                              reg.changes.status == AWAITING)
                                    .order_by(reg.changes.id))).scalars():
            pending.setdefault(getattr(ch, reg.change_fk), []).append(ch.kind)
    return [{c["key"]: _cell(c, row, d, n, _, pending.get(row.id, [])) for c in args["columns"]}
            for n, (row, d) in enumerate(found, start=1)]


def write_csv(args: Mapping[str, Any], table: list[dict[str, Any]], path: Path, lang: str = "vi") -> None:
    _ = translator(lang)
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:  # the BOM lets Excel read Vietnamese
        w = csv.writer(fh)
        w.writerow([_(c["label"]) for c in args["columns"]])
        for r in table:
            w.writerow([r[c["key"]] for c in args["columns"]])


def commune_label(code: str) -> str:
    """“Xã Đức Trọng, Tỉnh Lâm Đồng” for a commune code (the code itself if it is not a current commune)."""
    unit, prov = address.commune(code), address.province_of(code)
    if unit is None:
        return code
    return f"{unit.full_name}, {prov.full_name}" if prov is not None else unit.full_name


def write_xlsx(args: Mapping[str, Any], table: list[dict[str, Any]], path: Path, *, commune_code: str,
               now: datetime, lang: str = "vi") -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    _ = translator(lang)
    cols = args["columns"]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Danh sach"
    ws.append([_(args["title"], commune=commune_label(commune_code), day=now.strftime("%d/%m/%Y"))])
    ws["A1"].font = Font(bold=True)
    ws.append([_(c["label"]) for c in cols])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in table:
        ws.append([r[c["key"]] for c in cols])
    for line in ws.iter_rows(min_row=3):  # numbers that must stay text (leading zeros)
        for cell in line:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    for i, c in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.get("width", 14)
    wb.save(path)


def file_name(args: Mapping[str, Any], commune_code: str, now: datetime, ext: str = "xlsx") -> str:
    return f"{args['file_name']}-{commune_code}-{now.strftime('%Y%m%d')}.{ext}"


def asked(catalog: Catalog, agency: str, text: str) -> Mapping[str, Any] | None:
    """The export an officer of ``agency`` asks for with these words, if any."""
    key = fold(text).strip(" .!") if text else ""
    return next((a for a in exports(catalog) if a["agency"] == agency and key in a["commands"]), None)


async def officer_export(ctx: Any, args: Mapping[str, Any]) -> None:
    """The table for the officer's commune, as a file in their chat."""
    _ = ctx._
    commune = ctx.officer.commune_code
    table = await rows(ctx.db, args, commune)
    text = _(args["message"], commune=commune_label(commune), n=len(table))
    if table and ctx.store is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "export.xlsx"
            await asyncio.to_thread(write_xlsx, args, table, path, commune_code=commune, now=ctx.now)
            sha = await asyncio.to_thread(ctx.store.put, path.read_bytes())
        ctx.replies.append(Message(text, file=FileRef(sha256=sha,
                                                      name=file_name(args, commune, ctx.now), mime=XLSX_MIME)))
    else:
        ctx.say(text)


async def execute(ctx: Any, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The table for the commune ``ctx.extra["commune_code"]``."""
    return await rows(ctx.db, args, ctx.extra["commune_code"], ctx.lang)
