"""Registers that effects keep: a table of rows keyed by a person's ID number (only its keyed hash is
looked up), each linked to the dossier that created it and to the chat that registered it, with a
status (``active`` while it applies) and a table of reported changes.

A register is storage, not procedure: which answers fill which columns is said in the procedure's
YAML (``register.add`` and the other effects). ``kinds`` tells how a column is shown in a message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import banks
from dialogs import lifecycle as lc
from storage.allowance_models import AllowanceBeneficiary, AllowanceChange
from storage.models import Dossier
from storage.officers_repo import person_key

from .base import Args, as_date

ACTIVE = "active"
DEAD_DOSSIER = (lc.REJECTED, lc.WITHDRAWN)
# columns the effects themselves keep; YAML cannot map answers onto them
SYSTEM_COLUMNS = frozenset({"id", "person_key", "commune_code", "dossier_id", "registered_chat", "status",
                            "identity_status", "identity_note", "closed_at", "created_at", "updated_at"})


@dataclass(frozen=True)
class Register:
    name: str
    model: Any
    changes: Any
    change_fk: str  # the change table's column naming the register row
    kinds: dict[str, str] = field(default_factory=dict)  # column → how it is shown (bank, bank_account)

    @property
    def columns(self) -> dict[str, Any]:
        return {c.name: c for c in self.model.__table__.columns}

    @property
    def change_columns(self) -> dict[str, Any]:
        return {c.name: c for c in self.changes.__table__.columns}

    def coerce(self, column: str, value: Any) -> Any:
        col = self.columns[column]
        if isinstance(col.type, Date):
            return as_date(value)
        if value is None:
            return None if col.nullable else ""
        return value if isinstance(value, (int, float, bool)) else str(value)

    def brief(self, column: str, value: Any) -> str:
        kind = self.kinds.get(column)
        if kind in banks.KINDS:
            return banks.brief(kind, value)
        return "" if value is None else str(value)

    async def active_row(self, db: AsyncSession, key_value: Any) -> Any:
        """The person's current row: still active, and its dossier not rejected or withdrawn."""
        if not isinstance(key_value, str) or not key_value:
            return None
        m = self.model
        rows = (await db.execute(
            select(m, Dossier.status).outerjoin(Dossier, Dossier.id == m.dossier_id)
            .where(m.person_key == person_key(key_value), m.status == ACTIVE).order_by(m.id.desc()))).all()
        return next((row for row, status in rows if status not in DEAD_DOSSIER), None)

    def change(self, row: Any, **values: Any) -> Any:
        """A new change row for a register row."""
        return self.changes(**{self.change_fk: row.id}, **values)

    async def row_of_dossier(self, db: AsyncSession, dossier_id: int) -> Any:
        return (await db.execute(select(self.model).where(self.model.dossier_id == dossier_id))).scalars().first()


REGISTERS: dict[str, Register] = {
    "beneficiaries": Register("beneficiaries", AllowanceBeneficiary, AllowanceChange, "beneficiary_id",
                              {"bank_bin": "bank", "account_number": "bank_account"}),
}


def register_arg(a: Args) -> Register | None:
    name = a.required("register")
    if name is None:
        return None
    reg = REGISTERS.get(name)
    if reg is None:
        a.problem(f"unknown register {name!r} (known: {', '.join(sorted(REGISTERS))})")
    return reg


def key_arg(a: Args) -> None:
    key = a.required("key")
    if key is not None:
        a.path(key, "key")


def columns_arg(a: Args, reg: Register | None) -> dict[str, Any]:
    """``columns: {column: path | {path, default, upper, max_len}}``."""
    cols = a.required("columns", dict) or {}
    for column, spec in cols.items():
        if reg is not None and (column not in reg.columns or column in SYSTEM_COLUMNS):
            a.problem(f"columns: register {reg.name!r} has no column {column!r} for answers")
        if isinstance(spec, dict):
            for k in spec:
                if k not in ("path", "default", "upper", "max_len"):
                    a.problem(f"columns.{column}: unknown option {k!r}")
            if "path" in spec:
                a.path(spec["path"], f"columns.{column}")
            elif "default" not in spec:
                a.problem(f"columns.{column}: needs a path or a default")
        else:
            a.path(spec, f"columns.{column}")
    return cols
