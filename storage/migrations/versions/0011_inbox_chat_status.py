"""a Telegram chat's updates by status: the order check of every step finds an older pending or replying
update, or a newer applied one, without scanning the chat's whole history. It replaces the index on
(bot_id, chat_key, update_id): every query of a chat's updates also names their status

Revision ID: 0011_inbox_chat_status
Revises: 0010_audit_action_index
Create Date: 2026-12-05
"""
from alembic import op

revision = '0011_inbox_chat_status'
down_revision = '0010_audit_action_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_telegram_updates_chat_status', 'telegram_updates',
                    ['bot_id', 'chat_key', 'status', 'update_id'])
    op.drop_index('ix_telegram_updates_chat', table_name='telegram_updates')


def downgrade() -> None:
    op.create_index('ix_telegram_updates_chat', 'telegram_updates', ['bot_id', 'chat_key', 'update_id'])
    op.drop_index('ix_telegram_updates_chat_status', table_name='telegram_updates')
