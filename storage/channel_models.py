"""Tables owned by the chat channels (Telegram). Created by migration 0003.

* ``telegram_updates`` — the durable inbox. Every update is stored (keyed by
  ``(bot_id, update_id)``, so a redelivered update is recognised) before the
  webhook answers 200 or before polling confirms it; it is then processed
  from the table. Once processed, the raw update is blanked (it holds what the
  citizen typed) and only the ids remain, for deduplication. Rows are deleted
  after two days: Telegram keeps undelivered updates for 24 hours, and after a
  quiet week it may restart ``update_id`` at a random number.
* ``telegram_chats`` — what the channel needs to know about a chat between
  two messages: the question its last keyboard belongs to (a short token and
  the choice values behind the buttons, so a stale button is recognised and
  callback data stays under 64 bytes), the multi-choice selection being
  built, whether a contact-sharing keyboard is showing, and the chat's language.
* ``telegram_buttons`` — buttons of notifications pushed by the outbox (an
  officer's "Nhận xử lý"), which stay valid whatever the chat is asked later.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow


class TelegramUpdate(Base):
    __tablename__ = "telegram_updates"
    __table_args__ = (UniqueConstraint("bot_id", "update_id", name="uq_telegram_update"),
                      Index("ix_telegram_updates_pending", "bot_id", "status", "id"),
                      # a chat's updates by status, in order (the order check of every step, pending_before)
                      Index("ix_telegram_updates_chat_status", "bot_id", "chat_key", "status", "update_id"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    bot_id: Mapped[int] = mapped_column(BigInteger)
    update_id: Mapped[int] = mapped_column(BigInteger)
    chat_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # blanked once processed
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | replying | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)  # error class only, no personal data


class TelegramChat(Base):
    __tablename__ = "telegram_chats"
    chat_key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "telegram:<chat id>"
    lang: Mapped[str] = mapped_column(String(8), default="vi")
    ask_token: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ask_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    ask_choices: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[value, label], ...]
    ask_nav: Mapped[list[Any]] = mapped_column(JSON, default=list)
    selection: Mapped[list[Any]] = mapped_column(JSON, default=list)  # multi-choice: picked indexes
    reply_keyboard: Mapped[bool] = mapped_column(Boolean, default=False)  # a contact keyboard is showing
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TelegramButton(Base):
    __tablename__ = "telegram_buttons"
    token: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(200), index=True)
    choices: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[value, label], ...]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
