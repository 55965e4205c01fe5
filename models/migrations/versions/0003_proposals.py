"""proposals

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


import models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('proposal_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('proposal_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('opens_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('suggestion', sa.Text(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('proposer_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('cosigner_count', sa.Integer(), nullable=False),
    sa.Column('filed_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('lead_department', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('handling_round', sa.Integer(), nullable=False),
    sa.Column('replied_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rating', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('closed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['member.id'], ),
    sa.ForeignKeyConstraint(['proposer_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['proposal_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('year', 'seq', name='uq_proposal_year_seq')
    )
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_lead_department'), ['lead_department'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_proposer_id'), ['proposer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_round_id'), ['round_id'], unique=False)
        batch_op.create_index('ix_proposal_status_year', ['status', 'year'], unique=False)

    op.create_table('proposal_assignment',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('lead', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'department')
    )
    with op.batch_alter_table('proposal_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_assignment_department'), ['department'], unique=False)

    op.create_table('proposal_cosign',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'member_id')
    )
    with op.batch_alter_table('proposal_cosign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_cosign_member_id'), ['member_id'], unique=False)

    op.create_table('proposal_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('data', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_event_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('handling_round', sa.Integer(), nullable=False),
    sa.Column('rating', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('proposal_id', 'member_id', 'handling_round', name='uq_proposal_rating')
    )
    with op.batch_alter_table('proposal_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_rating_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('lead', sa.Boolean(), nullable=False),
    sa.Column('handling_round', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('replied_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revisions', sa.Integer(), nullable=False),
    sa.Column('revised_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('proposal_id', 'department', 'handling_round', name='uq_proposal_reply')
    )
    with op.batch_alter_table('proposal_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_reply_proposal_id'), ['proposal_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('proposal_reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_reply_proposal_id'))

    op.drop_table('proposal_reply')
    with op.batch_alter_table('proposal_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_rating_proposal_id'))

    op.drop_table('proposal_rating')
    with op.batch_alter_table('proposal_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_event_proposal_id'))

    op.drop_table('proposal_event')
    with op.batch_alter_table('proposal_cosign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_cosign_member_id'))

    op.drop_table('proposal_cosign')
    with op.batch_alter_table('proposal_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_assignment_department'))

    op.drop_table('proposal_assignment')
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_status_year')
        batch_op.drop_index(batch_op.f('ix_proposal_round_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_proposer_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_lead_department'))

    op.drop_table('proposal')
    op.drop_table('proposal_round')
    op.drop_table('proposal_counter')
