"""encrypt answers and the allowance register's ID and account numbers at rest (storage/crypto.py)

``dossiers.answers`` and ``drafts.answers`` keep their JSON type: each now holds one encrypted JSON string.
The allowance register's ID and account number columns are widened to 400 characters for the ciphertext. Every
existing value is encrypted with the current data key.

Revision ID: 0008_encrypt_sensitive
Revises: 0007_inbox_chat_order, 0007
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from storage.crypto import reencrypt_rows

revision = "0008_encrypt_sensitive"
down_revision = ("0007_inbox_chat_order", "0007")  # also merges the audit head
branch_labels = None
depends_on = None

WIDENED = (("allowance_beneficiaries", "id_number", 20, False), ("allowance_beneficiaries", "rep_id_number", 20, True),
           ("allowance_beneficiaries", "account_number", 30, False),
           ("allowance_changes", "new_account_number", 30, True))


def upgrade() -> None:
    for table, col, old, nullable in WIDENED:
        with op.batch_alter_table(table) as b:
            b.alter_column(col, existing_type=sa.String(old), type_=sa.String(400), existing_nullable=nullable)
    reencrypt_rows(op.get_bind())


def downgrade() -> None:
    raise NotImplementedError("values stay encrypted; decrypt them with storage.crypto before going back")
