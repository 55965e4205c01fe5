"""ideas: idea_round, idea_counter, idea, idea_support

Revision ID: 0008
Revises: 0006

金点子. An anonymous idea keeps no member id: ``author_tag`` is a keyed pseudonym (HMAC
with a key kept outside the database), ``dup_tag`` a keyed digest that refuses exact
repeats. ``idea_support`` holds one row per member and idea (its primary key).
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


import models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idea_counter',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('idea_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('opens_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('idea_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idea_round_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_idea_round_closes_at'), ['closes_at'], unique=False)

    op.create_table('idea',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('author_tag', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('dup_tag', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('support_count', sa.Integer(), nullable=False),
    sa.Column('submitted_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('judged_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('judged_by', sa.Integer(), nullable=True),
    sa.Column('judge_note', sa.Text(), nullable=True),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ),
    sa.ForeignKeyConstraint(['judged_by'], ['member.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['idea_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dup_tag'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('seq')
    )
    with op.batch_alter_table('idea', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idea_author_tag'), ['author_tag'], unique=False)
        batch_op.create_index(batch_op.f('ix_idea_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_idea_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_idea_round_rank', ['round_id', 'support_count', 'seq'], unique=False)
        batch_op.create_index('ix_idea_year_rank', ['year', 'support_count', 'seq'], unique=False)

    op.create_table('idea_support',
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('idea_id', 'member_id')
    )
    with op.batch_alter_table('idea_support', schema=None) as batch_op:
        batch_op.create_index('ix_idea_support_member_round', ['member_id', 'round_id', 'year'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idea_support', schema=None) as batch_op:
        batch_op.drop_index('ix_idea_support_member_round')
    op.drop_table('idea_support')
    with op.batch_alter_table('idea', schema=None) as batch_op:
        batch_op.drop_index('ix_idea_year_rank')
        batch_op.drop_index('ix_idea_round_rank')
        batch_op.drop_index(batch_op.f('ix_idea_member_id'))
        batch_op.drop_index(batch_op.f('ix_idea_branch_id'))
        batch_op.drop_index(batch_op.f('ix_idea_author_tag'))
    op.drop_table('idea')
    with op.batch_alter_table('idea_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idea_round_closes_at'))
        batch_op.drop_index(batch_op.f('ix_idea_round_branch_id'))
    op.drop_table('idea_round')
    op.drop_table('idea_counter')
