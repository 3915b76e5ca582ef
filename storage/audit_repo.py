"""Reading the audit log (storage/audit_models.py): how often an action happened, for limits and alerts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .audit_models import AuditEntry


class AuditRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def count(self, action: str, *, since: datetime, subject: str | None = None,
                    actor: str | None = None) -> int:
        """Entries of ``action`` at or after ``since`` (about ``subject``, by ``actor`` when given)."""
        stmt = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action, AuditEntry.at >= since)
        if subject is not None:
            stmt = stmt.where(AuditEntry.subject == subject)
        if actor is not None:
            stmt = stmt.where(AuditEntry.actor_key == actor)
        return int((await self.db.execute(stmt)).scalar_one())
