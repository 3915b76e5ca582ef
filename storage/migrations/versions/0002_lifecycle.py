"""officers, dossier legs, supplement requests, outbox, ratings, chat links

Also adds leg_id, action and data to dossier_events. Generated with alembic autogenerate from 0001.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('user_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_key', 'user_key', name='uq_chat_link')
    )
    with op.batch_alter_table('chat_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_links_person_key'), ['person_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_links_user_key'), ['user_key'], unique=False)

    op.create_table('officers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_key', sa.String(length=200), nullable=True),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('agency', sa.String(length=40), nullable=False),
    sa.Column('commune_code', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('focal_point', sa.Boolean(), nullable=False),
    sa.Column('invite_hash', sa.String(length=64), nullable=True),
    sa.Column('invite_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('chat_state', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invite_hash'),
    sa.UniqueConstraint('user_key')
    )
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.create_index('ix_officers_scope', ['agency', 'commune_code'], unique=False)

    op.create_table('dossier_legs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dossier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=40), nullable=False),
    sa.Column('commune_code', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('processing_days', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_workdays', sa.Integer(), nullable=False),
    sa.Column('pauses', sa.JSON(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result_number', sa.String(length=80), nullable=True),
    sa.Column('timeliness', sa.String(length=12), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claimed_by'], ['officers.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_id', 'seq', name='uq_leg_dossier_seq')
    )
    with op.batch_alter_table('dossier_legs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_legs_claimed_by'), ['claimed_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_legs_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index('ix_legs_scope_status', ['agency', 'commune_code', 'status'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('chat_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('dossier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=60), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('provider_ref', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_chat_key'), ['chat_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('ratings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dossier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_key', sa.String(length=200), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_id')
    )
    op.create_table('supplement_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dossier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('leg_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('requested_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.String(length=200), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['leg_id'], ['dossier_legs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['officers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('supplement_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplement_requests_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplement_requests_leg_id'), ['leg_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplement_requests_status'), ['status'], unique=False)

    with op.batch_alter_table('dossier_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leg_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('action', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_dossier_events_leg_id'), ['leg_id'], unique=False)
        batch_op.create_foreign_key("fk_dossier_events_leg_id", 'dossier_legs', ['leg_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('dossier_events', schema=None) as batch_op:
        batch_op.drop_constraint("fk_dossier_events_leg_id", type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_dossier_events_leg_id'))
        batch_op.drop_column('data')
        batch_op.drop_column('action')
        batch_op.drop_column('leg_id')

    with op.batch_alter_table('supplement_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplement_requests_status'))
        batch_op.drop_index(batch_op.f('ix_supplement_requests_leg_id'))
        batch_op.drop_index(batch_op.f('ix_supplement_requests_dossier_id'))

    op.drop_table('supplement_requests')
    op.drop_table('ratings')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_index(batch_op.f('ix_outbox_dossier_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_chat_key'))

    op.drop_table('outbox')
    with op.batch_alter_table('dossier_legs', schema=None) as batch_op:
        batch_op.drop_index('ix_legs_scope_status')
        batch_op.drop_index(batch_op.f('ix_dossier_legs_dossier_id'))
        batch_op.drop_index(batch_op.f('ix_dossier_legs_claimed_by'))

    op.drop_table('dossier_legs')
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_index('ix_officers_scope')

    op.drop_table('officers')
    with op.batch_alter_table('chat_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_links_user_key'))
        batch_op.drop_index(batch_op.f('ix_chat_links_person_key'))

    op.drop_table('chat_links')
