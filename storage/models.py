"""SQLAlchemy 2 models. Every table is created by an Alembic migration (storage/migrations).

Types are chosen to behave the same on SQLite and PostgreSQL: JSON columns,
timezone-aware timestamps stored as UTC, string primary keys where ids come
from outside (user keys, draft ids).
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .crypto import EncryptedJSON


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware on the way out, on both backends (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        elif value is not None:
            # SQLite keeps the wall time and drops the offset: store every instant as UTC
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


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
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)  # encrypted at rest
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
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)  # encrypted at rest
    lang: Mapped[str] = mapped_column(String(8), default="vi")
    status: Mapped[str] = mapped_column(String(30), default="submitted", index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_date: Mapped[date] = mapped_column(Date)
    events: Mapped[list[DossierEvent]] = relationship(back_populates="dossier", order_by="DossierEvent.id",
                                                        cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="dossier", order_by="Attachment.id",
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
    # migration 0002: the agency leg the event belongs to, the action that caused it (claim,
    # receive, approve ...) and its data (result number, requested fields, before/after of a supplement)
    leg_id: Mapped[int | None] = mapped_column(ForeignKey("dossier_legs.id", ondelete="CASCADE"), nullable=True,
                                               index=True)
    action: Mapped[str | None] = mapped_column(String(40), nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
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


# ---------------------------------------------------------------------------------------------
# Dossier lifecycle, officers, notifications. See docs/lifecycle.md.
# ---------------------------------------------------------------------------------------------


class Officer(Base):
    """An agency officer. ``user_key`` stays empty until the invite code is redeemed in a chat."""

    __tablename__ = "officers"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    user_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(40))
    commune_code: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))  # receiving_desk | specialist | leader
    focal_point: Mapped[bool] = mapped_column(Boolean, default=False)
    invite_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    chat_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the officer chat's pending step
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_officers_scope", "agency", "commune_code"),)


class DossierLeg(Base):
    """One agency's part of a dossier: its own status, clock, queue and assignee.

    Today a dossier has one leg; a linked (liên thông) dossier has one per agency, and the
    dossier's status is aggregated from them (dialogs/lifecycle.parent_status).
    """

    __tablename__ = "dossier_legs"
    __table_args__ = (UniqueConstraint("dossier_id", "seq", name="uq_leg_dossier_seq"),
                      Index("ix_legs_scope_status", "agency", "commune_code", "status"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=1)
    agency: Mapped[str] = mapped_column(String(40))
    commune_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status: Mapped[str] = mapped_column(String(30), default="submitted")
    processing_days: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the clock started (submission)
    due_date: Mapped[date] = mapped_column(Date)  # with the closed pauses taken into account
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), nullable=True,
                                                   index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused_workdays: Mapped[int] = mapped_column(Integer, default=0)
    pauses: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[start_iso, end_iso], ...] closed pauses
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result_number: Mapped[str | None] = mapped_column(String(80), nullable=True)
    timeliness: Mapped[str | None] = mapped_column(String(12), nullable=True)  # early | on_time | late
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SupplementRequest(Base):
    """An officer's request for specific fields or documents, and the citizen's answer to it."""

    __tablename__ = "supplement_requests"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    leg_id: Mapped[int] = mapped_column(ForeignKey("dossier_legs.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)  # answer paths
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)  # open | answered | closed
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # the citizen supplements by this day
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # path -> {before, after}


class OutboxMessage(Base):
    """A notification to deliver, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_key: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), nullable=True,
                                                   index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"text", "choices", "image_png"}
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(60), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)  # never personal data
    provider_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Rating(Base):
    """A citizen's 1-5 rating of a closed dossier (one per dossier)."""

    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), unique=True)
    user_key: Mapped[str] = mapped_column(String(200))
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatLink(Base):
    """A chat that belongs to a person (``person_key``: an HMAC of their ID number, storage/keys.py), so a dossier
    someone else filed for them also notifies their own chat."""

    __tablename__ = "chat_links"
    __table_args__ = (UniqueConstraint("person_key", "user_key", name="uq_chat_link"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    user_key: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
