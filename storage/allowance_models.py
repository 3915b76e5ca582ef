"""Tables of allowances paid by bank account. Created by migration 0005.

* ``allowance_beneficiaries`` — the register: one row per registration (the
  beneficiary's current account, the chat that registered it, the identity
  check's outcome, and whether they still receive the allowance here). Only the
  fields the social-affairs export needs are kept; ``person_key`` is the hash
  of the ID number (storage.officers_repo.person_key) used for look-ups.
* ``allowance_changes`` — reported changes (new account, moved away, death,
  benefit level), each linked to its change dossier. A new account waits for
  confirmation from the registering chat (only the hash of the code is stored).
* ``identity_checks`` — verification of a person against the national
  population database (bot/verification.py): who checked, when, the outcome.

Account numbers are personal (financial) data: they are never logged.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .crypto import EncryptedString
from .models import Base, UTCDateTime, utcnow

_PK = BigInteger().with_variant(Integer, "sqlite")


class AllowanceBeneficiary(Base):
    __tablename__ = "allowance_beneficiaries"
    __table_args__ = (Index("ix_allowance_benef_person_status", "person_key", "status"),
                      Index("ix_allowance_benef_commune", "commune_code", "status"))
    id: Mapped[int] = mapped_column(_PK, primary_key=True, autoincrement=True)
    person_key: Mapped[str] = mapped_column(String(64))
    commune_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", ondelete="SET NULL"), nullable=True,
                                                   index=True)
    registered_chat: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    id_number: Mapped[str] = mapped_column(EncryptedString(400))  # encrypted at rest; look-ups use person_key
    residence: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    allowance_type: Mapped[str] = mapped_column(String(20))
    filer_kind: Mapped[str] = mapped_column(String(20))  # self | guardian | authorised | helper (typed by another)
    rep_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rep_id_number: Mapped[str | None] = mapped_column(EncryptedString(400), nullable=True)
    rep_relation: Mapped[str | None] = mapped_column(String(60), nullable=True)
    account_owner: Mapped[str] = mapped_column(String(20), default="beneficiary")  # beneficiary | rep
    bank_bin: Mapped[str] = mapped_column(String(10))
    account_number: Mapped[str] = mapped_column(EncryptedString(400))
    holder_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | moved | deceased
    identity_status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | matched | mismatch
    identity_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    benefit_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    account_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AllowanceChange(Base):
    __tablename__ = "allowance_changes"
    id: Mapped[int] = mapped_column(_PK, primary_key=True, autoincrement=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("allowance_beneficiaries.id", ondelete="CASCADE"),
                                                index=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", ondelete="SET NULL"), nullable=True,
                                                   index=True)
    kind: Mapped[str] = mapped_column(String(20))  # new_account | moved | deceased | benefit_level
    # awaiting_confirmation | confirmed | refused | expired | recorded
    status: Mapped[str] = mapped_column(String(24))
    reported_by: Mapped[str] = mapped_column(String(200))  # chat key
    confirm_chat: Mapped[str | None] = mapped_column(String(200), nullable=True)
    confirm_code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    new_bank_bin: Mapped[str | None] = mapped_column(String(10), nullable=True)
    new_account_number: Mapped[str | None] = mapped_column(EncryptedString(400), nullable=True)
    new_holder_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # dates, notes; never account numbers
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdentityCheck(Base):
    __tablename__ = "identity_checks"
    id: Mapped[int] = mapped_column(_PK, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    leg_id: Mapped[int | None] = mapped_column(ForeignKey("dossier_legs.id", ondelete="SET NULL"), nullable=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(40), default="beneficiary")  # which person of the dossier
    verifier: Mapped[str] = mapped_column(String(40))  # "manual" (an officer), or a connector's name
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | matched | mismatch
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), nullable=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
