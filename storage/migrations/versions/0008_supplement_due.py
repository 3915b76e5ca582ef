"""a supplement request's deadline, and when its reminder and expiry pushes went out

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('supplement_requests') as batch:
        batch.add_column(sa.Column('due_date', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('supplement_requests') as batch:
        batch.drop_column('due_date')
