"""a supplement request's deadline, and when its reminder and expiry pushes went out

Revision ID: 0009_supplement_due
Revises: 0008_encrypt_sensitive
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_supplement_due'
down_revision = '0008_encrypt_sensitive'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('supplement_requests') as batch:
        batch.add_column(sa.Column('due_date', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('supplement_requests') as batch:
        batch.drop_column('due_date')
