"""notices: notice, notice_objection, notice_counter (公告, 公示, 异议)

Revision ID: 0009
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _string(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _moment() -> models.base.UTCDateTime:
    return models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', _string(16), nullable=False),
    sa.Column('kind', _string(16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('title', _string(100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category', _string(8), nullable=True),
    sa.Column('state', _string(16), nullable=False),
    sa.Column('publish_at', _moment(), nullable=False),
    sa.Column('published_at', _moment(), nullable=True),
    sa.Column('ends_at', _moment(), nullable=True),
    sa.Column('estimated', sa.Boolean(), nullable=False),
    sa.Column('refers_to_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', _moment(), nullable=True),
    sa.Column('withdrawn_by', sa.Integer(), nullable=True),
    sa.Column('expired_at', _moment(), nullable=True),
    sa.Column('created_at', _moment(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ),
    sa.ForeignKeyConstraint(['refers_to_id'], ['notice.id'], ),
    sa.ForeignKeyConstraint(['withdrawn_by'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index('ix_notice_kind_seq', ['kind', 'seq'], unique=False)
        batch_op.create_index('ix_notice_due', ['state', 'publish_at'], unique=False)
        batch_op.create_index('ix_notice_ends', ['state', 'expired_at', 'ends_at'], unique=False)

    op.create_table('notice_objection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', _string(16), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', _moment(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', _moment(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by'], ['member.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('notice_objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_objection_notice_id'), ['notice_id'], unique=False)

    op.create_table('notice_counter',
    sa.Column('prefix', _string(4), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix')
    )


def downgrade() -> None:
    op.drop_table('notice_counter')
    with op.batch_alter_table('notice_objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_objection_notice_id'))
    op.drop_table('notice_objection')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_ends')
        batch_op.drop_index('ix_notice_due')
        batch_op.drop_index('ix_notice_kind_seq')
        batch_op.drop_index(batch_op.f('ix_notice_branch_id'))
    op.drop_table('notice')
