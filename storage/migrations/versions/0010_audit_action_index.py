"""the audit log counted by action and subject over a period (wrong /theodoi guesses per dossier and in all)

Revision ID: 0010_audit_action_index
Revises: 0009_supplement_due
Create Date: 2026-12-04
"""
from alembic import op

revision = '0010_audit_action_index'
down_revision = '0009_supplement_due'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_action', 'audit_log', ['action', 'subject', 'at'])


def downgrade() -> None:
    op.drop_index('ix_audit_action', table_name='audit_log')
