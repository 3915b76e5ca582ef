"""zalo channel inbox; linked accounts (identities, one-time link codes)

Written by hand to match storage/account_models.py.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('zalo_updates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('chat_key', sa.String(length=200), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bot_id', 'event_key', name='uq_zalo_update')
    )
    with op.batch_alter_table('zalo_updates', schema=None) as batch_op:
        batch_op.create_index('ix_zalo_updates_pending', ['bot_id', 'status', 'id'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('primary_key', sa.String(length=200), nullable=False),
    sa.Column('notify_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('account_identities',
    sa.Column('user_key', sa.String(length=200), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_key')
    )
    with op.batch_alter_table('account_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_identities_account_id'), ['account_id'], unique=False)

    op.create_table('account_link_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('user_key', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code_hash')
    )
    with op.batch_alter_table('account_link_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_link_codes_user_key'), ['user_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('account_link_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_link_codes_user_key'))
    op.drop_table('account_link_codes')
    with op.batch_alter_table('account_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_identities_account_id'))
    op.drop_table('account_identities')
    op.drop_table('accounts')
    with op.batch_alter_table('zalo_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_zalo_updates_pending')
    op.drop_table('zalo_updates')
