"""The audit log of actions that are not a dossier's own events (those are ``dossier_events``): a citizen's data
requests (``/dulieu``, ``/xoadulieu``), and any change a feature wants on record with who did it from which chat.
Details never hold personal data: counts, codes and kinds only. Created by migration 0007."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_actor", "actor_key", "at"),
                      Index("ix_audit_action", "action", "subject", "at"))  # counted per action (migration 0010)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_key: Mapped[str] = mapped_column(String(200))  # the chat (or "shell", "web:<officer id>")
    action: Mapped[str] = mapped_column(String(60))  # e.g. "privacy.view", "privacy.erase"
    subject: Mapped[str | None] = mapped_column(String(120), nullable=True)  # a dossier code, a row id…
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # counts and kinds, never personal data
