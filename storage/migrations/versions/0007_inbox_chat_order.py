"""inbox indexes for applying a chat's updates in order (Telegram: update_id; Zalo: arrival)

The channels check, inside each step's transaction, whether an older update of the same chat is still pending
or a newer one was already applied (bot/telegram/inbox.py ``InboxRepo.order``); these indexes keep that a
lookup, not a scan of two days of processed updates.

Revision ID: 0007_inbox_chat_order
Revises: 0006_keyed_person_key
Create Date: 2026-12-04
"""
from alembic import op

revision = "0007_inbox_chat_order"
down_revision = "0006_keyed_person_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_telegram_updates_chat", "telegram_updates", ["bot_id", "chat_key", "update_id"])
    op.create_index("ix_zalo_updates_chat", "zalo_updates", ["bot_id", "chat_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_zalo_updates_chat", table_name="zalo_updates")
    op.drop_index("ix_telegram_updates_chat", table_name="telegram_updates")
