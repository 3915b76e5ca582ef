"""SQLAlchemy 2 models. Every table is created by an Alembic migration (storage/migrations).

Types are chosen to behave the same on SQLite and PostgreSQL: JSON columns,
timezone-aware timestamps stored as UTC, string primary keys where ids come
from outside (user keys, draft ids).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware on the way out, on both backends (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Conversation(Base):
    """One chat's place in the dialog (the engine's Session minus the drafts)."""

    __tablename__ = "conversations"
    user_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lang: Mapped[str] = mapped_column(String(8), default="vi")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DraftRow(Base):
    """A citizen's unfinished dossier: one per procedure."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("user_key", "procedure_id", name="uq_draft_user_procedure"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(200), index=True)
    procedure_id: Mapped[str] = mapped_column(String(80))
    procedure_version: Mapped[int] = mapped_column(Integer, default=1)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Dossier(Base):
    __tablename__ = "dossiers"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    procedure_id: Mapped[str] = mapped_column(String(80), index=True)
    procedure_version: Mapped[int] = mapped_column(Integer, default=1)
    agency: Mapped[str] = mapped_column(String(40))
    commune_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    applicant_key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    submitter_key: Mapped[str] = mapped_column(String(200), index=True)
    applicant_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lang: Mapped[str] = mapped_column(String(8), default="vi")
    status: Mapped[str] = mapped_column(String(30), default="submitted", index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_date: Mapped[date] = mapped_column(Date)
    events: Mapped[list["DossierEvent"]] = relationship(back_populates="dossier", order_by="DossierEvent.id",
                                                        cascade="all, delete-orphan")
    attachments: Mapped[list["Attachment"]] = relationship(back_populates="dossier", order_by="Attachment.id",
                                                           cascade="all, delete-orphan")


class DossierEvent(Base):
    """Append-only status history: who, in which role and unit, when and why."""

    __tablename__ = "dossier_events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_status: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str | None] = mapped_column(String(80), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    dossier: Mapped[Dossier] = relationship(back_populates="events")


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_sha", "sha256"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    field_path: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    mime: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    dossier: Mapped[Dossier] = relationship(back_populates="attachments")
