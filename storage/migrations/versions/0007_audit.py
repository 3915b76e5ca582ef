"""audit log of actions outside a dossier's own events (data requests and the like)

Written to match storage/audit_models.py.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_log',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_key', sa.String(length=200), nullable=False),
        sa.Column('action', sa.String(length=60), nullable=False),
        sa.Column('subject', sa.String(length=120), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_actor', 'audit_log', ['actor_key', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_actor', table_name='audit_log')
    op.drop_table('audit_log')
