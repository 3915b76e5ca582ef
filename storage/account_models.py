"""Tables of the Zalo channel and of linked accounts. Created by migration 0004.

* ``zalo_updates`` — the durable inbox of the Zalo channel. Zalo updates have no
  ``update_id``: an update is keyed by ``(event_name, message_id)`` (as OpenClaw
  does), stored before the webhook answers 200 or before the next long poll, and
  processed from the table. Once processed the raw update is blanked (it holds what
  the citizen typed); rows are purged after two days.
* ``accounts`` / ``account_identities`` — one person using several chats (a
  Telegram chat and a Zalo chat, a console name). Every chat key of the person maps
  to one account; the account has one *primary* conversation key (whose session and
  drafts every linked chat shares) and the chat notifications go to.
* ``account_link_codes`` — one-time codes (``/lienket``), valid 15 minutes. Only
  a hash of the code is stored.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow


class ZaloUpdate(Base):
    __tablename__ = "zalo_updates"
    __table_args__ = (UniqueConstraint("bot_id", "event_key", name="uq_zalo_update"),
                      Index("ix_zalo_updates_pending", "bot_id", "status", "id"),
                      Index("ix_zalo_updates_chat", "bot_id", "chat_key", "id"))  # a chat's events in order
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    bot_id: Mapped[str] = mapped_column(String(64))
    event_key: Mapped[str] = mapped_column(String(200))  # "<event_name>:<message_id>"
    chat_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # blanked once processed
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | replying | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)  # error class only


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    primary_key: Mapped[str] = mapped_column(String(200))   # the conversation every linked chat uses
    notify_key: Mapped[str] = mapped_column(String(200))    # where notifications go
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountIdentity(Base):
    __tablename__ = "account_identities"
    user_key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "telegram:1", "zalo:ab12", "console:an"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountLinkCode(Base):
    __tablename__ = "account_link_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(200), index=True)  # the chat that asked for the code
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
