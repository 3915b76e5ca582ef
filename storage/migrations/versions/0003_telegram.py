"""telegram channel: update inbox (dedupe + durable processing), chat keyboard state, pushed buttons

Written by hand to match storage/channel_models.py (checked with alembic autogenerate: no diff).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('telegram_updates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('bot_id', sa.BigInteger(), nullable=False),
    sa.Column('update_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_key', sa.String(length=200), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bot_id', 'update_id', name='uq_telegram_update')
    )
    with op.batch_alter_table('telegram_updates', schema=None) as batch_op:
        batch_op.create_index('ix_telegram_updates_pending', ['bot_id', 'status', 'id'], unique=False)

    op.create_table('telegram_chats',
    sa.Column('chat_key', sa.String(length=200), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('ask_token', sa.String(length=16), nullable=True),
    sa.Column('ask_kind', sa.String(length=20), nullable=True),
    sa.Column('ask_choices', sa.JSON(), nullable=False),
    sa.Column('ask_nav', sa.JSON(), nullable=False),
    sa.Column('selection', sa.JSON(), nullable=False),
    sa.Column('reply_keyboard', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chat_key')
    )
    op.create_table('telegram_buttons',
    sa.Column('token', sa.String(length=16), nullable=False),
    sa.Column('chat_key', sa.String(length=200), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token')
    )
    with op.batch_alter_table('telegram_buttons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_telegram_buttons_chat_key'), ['chat_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('telegram_buttons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telegram_buttons_chat_key'))

    op.drop_table('telegram_buttons')
    op.drop_table('telegram_chats')
    with op.batch_alter_table('telegram_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_telegram_updates_pending')

    op.drop_table('telegram_updates')
