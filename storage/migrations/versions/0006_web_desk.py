"""the officers' web desk: one-time login codes and browser sessions

Written to match storage/web_models.py.

Revision ID: web01
Revises: 0005
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = 'web01'
down_revision = '0005'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'web_logins',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('officer_id', _ID, nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('link_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('link_hash'),
    )
    op.create_index('ix_web_logins_officer_id', 'web_logins', ['officer_id'])
    op.create_index('ix_web_logins_code_hash', 'web_logins', ['code_hash'])
    op.create_index('ix_web_logins_expires_at', 'web_logins', ['expires_at'])
    op.create_table(
        'web_sessions',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('officer_id', _ID, nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_web_sessions_officer_id', 'web_sessions', ['officer_id'])


def downgrade() -> None:
    op.drop_table('web_sessions')
    op.drop_table('web_logins')
