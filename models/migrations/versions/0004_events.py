"""events: event, event_signup, download_link

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


import models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('starts_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deadline', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('max_guests', sa.Integer(), nullable=False),
    sa.Column('audience_branch_id', sa.Integer(), nullable=True),
    sa.Column('audience_gender', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('places_taken', sa.Integer(), nullable=False),
    sa.Column('confirmed_count', sa.Integer(), nullable=False),
    sa.Column('waiting_count', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_place', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['audience_branch_id'], ['branch.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_starts_at'), ['starts_at'], unique=False)

    op.create_table('event_signup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('place_seq', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('guests', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('answers', sa.Text(), nullable=False),
    sa.Column('signed_up_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'member_id', name='uq_event_signup_member'),
    sa.UniqueConstraint('event_id', 'place_seq', name='uq_event_signup_place'),
    sa.UniqueConstraint('event_id', 'seq', name='uq_event_signup_seq')
    )
    with op.batch_alter_table('event_signup', schema=None) as batch_op:
        batch_op.create_index('ix_event_signup_event_status', ['event_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_signup_member_id'), ['member_id'], unique=False)

    op.create_table('download_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('fmt', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('download_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_download_link_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('download_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_download_link_expires_at'))

    op.drop_table('download_link')
    with op.batch_alter_table('event_signup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_signup_member_id'))
        batch_op.drop_index('ix_event_signup_event_status')

    op.drop_table('event_signup')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_starts_at'))

    op.drop_table('event')
