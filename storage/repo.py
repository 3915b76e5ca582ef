"""Repositories: the only place that reads and writes rows. Used by bot/ inside one transaction."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from .filing import SessionRows, insert_dossier
from .models import Conversation, Dossier, DraftRow


class ConversationRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def load(self, user_key: str, *, lock: bool = True) -> tuple[Conversation | None, list[DraftRow]]:
        stmt = select(Conversation).where(Conversation.user_key == user_key)
        if lock:
            stmt = stmt.with_for_update()  # PostgreSQL: other processes wait; SQLite ignores it
        conv = (await self.db.execute(stmt)).scalar_one_or_none()
        drafts = list((await self.db.execute(
            select(DraftRow).where(DraftRow.user_key == user_key).order_by(DraftRow.created_at))).scalars())
        return conv, drafts

    async def save(self, user_key: str, conv: Conversation | None, data: dict[str, Any], lang: str,
                   drafts: Iterable[dict[str, Any]], deleted: Iterable[str]) -> Conversation:
        if conv is None:
            conv = Conversation(user_key=user_key, data=data, lang=lang, revision=1)
            self.db.add(conv)
        else:
            conv.data = data
            flag_modified(conv, "data")
            conv.lang = lang
            conv.revision = (conv.revision or 0) + 1
        deleted = list(deleted)
        if deleted:
            await self.db.execute(delete(DraftRow).where(DraftRow.user_key == user_key,
                                                         DraftRow.procedure_id.in_(deleted)))
        for d in drafts:
            row = await self.db.get(DraftRow, d["id"])
            if row is None:
                self.db.add(DraftRow(id=d["id"], user_key=user_key, procedure_id=d["procedure"],
                                     procedure_version=d["version"], answers=d["answers"],
                                     history=d["history"], revision=d["revision"]))
            else:
                row.answers, row.history = d["answers"], d["history"]
                flag_modified(row, "answers")
                flag_modified(row, "history")
                row.revision, row.procedure_version = d["revision"], d["version"]
        await self.db.flush()
        return conv


class DossierRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def by_idempotency_key(self, key: str) -> Dossier | None:
        return (await self.db.execute(select(Dossier).where(Dossier.idempotency_key == key))).scalar_one_or_none()

    async def by_code(self, code: str) -> Dossier | None:
        return (await self.db.execute(
            select(Dossier).where(Dossier.code == code)
            .options(selectinload(Dossier.events), selectinload(Dossier.attachments)))).scalar_one_or_none()

    async def create(self, *, code: str | Callable[[], str], idempotency_key: str, procedure_id: str,
                     procedure_version: int, agency: str, commune_code: str | None, submitter_key: str,
                     applicant_key: str | None, applicant_name: str | None, answers: dict[str, Any], lang: str,
                     submitted_at: datetime, due_date: date, attachments: list[dict[str, Any]]) -> tuple[Dossier, bool]:
        """Create a dossier once per idempotency key; returns (dossier, created): the filing's statements on
        the driver (storage/filing.py), then the dossier as the session loads it."""
        values = dict(idempotency_key=idempotency_key, procedure_id=procedure_id, procedure_version=procedure_version,
                      agency=agency, commune_code=commune_code, submitter_key=submitter_key,
                      applicant_key=applicant_key, applicant_name=applicant_name, answers=answers, lang=lang,
                      status="submitted", submitted_at=submitted_at, due_date=due_date)
        new = await insert_dossier(SessionRows(self.db), values, code if callable(code) else (lambda: code),
                                   attachments)
        dossier = await self.db.get(Dossier, new.id)
        assert dossier is not None
        return dossier, new.created

    async def list(self, *, submitter_key: str | None = None, procedure_id: str | None = None) -> list[Dossier]:
        stmt = select(Dossier).options(selectinload(Dossier.events), selectinload(Dossier.attachments)) \
            .order_by(Dossier.id)
        if submitter_key:
            stmt = stmt.where(Dossier.submitter_key == submitter_key)
        if procedure_id:
            stmt = stmt.where(Dossier.procedure_id == procedure_id)
        return list((await self.db.execute(stmt)).scalars())


def dossier_to_dict(d: Dossier) -> dict[str, Any]:
    return {
        "code": d.code, "procedure": d.procedure_id, "procedure_version": d.procedure_version,
        "agency": d.agency, "commune_code": d.commune_code, "status": d.status,
        "submitter": d.submitter_key, "applicant": d.applicant_key, "applicant_name": d.applicant_name,
        "submitted_at": d.submitted_at.isoformat(), "due_date": d.due_date.isoformat(), "lang": d.lang,
        "answers": d.answers,
        "attachments": [{"field": a.field_path, "sha256": a.sha256, "mime": a.mime, "size": a.size,
                         "name": a.name} for a in d.attachments],
        "history": [{"at": e.at.isoformat(), "from": e.from_status, "to": e.to_status, "actor": e.actor,
                     "role": e.role, "unit": e.unit, "reason": e.reason} for e in d.events],
    }
