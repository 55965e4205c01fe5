"""funds: ledgers, the hash-chained entries, 慰问, budgets, statements, checkpoints, the key

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fund_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('fund_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('head_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('balance_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('branch_id')
    )
    op.create_table('fund_budget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['ledger_id'], ['fund_ledger.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ledger_id', 'year', 'category_code', name='uq_fund_budget')
    )
    op.create_table('fund_counter',
    sa.Column('ledger_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ledger_id'], ['fund_ledger.id'], ),
    sa.PrimaryKeyConstraint('ledger_id', 'year')
    )
    op.create_table('fund_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('transfer_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['ledger_id'], ['fund_ledger.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['member.id'], ),
    sa.ForeignKeyConstraint(['reverses_id'], ['fund_entry.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ledger_id', 'number', name='uq_fund_entry_number'),
    sa.UniqueConstraint('ledger_id', 'seq', name='uq_fund_entry_seq'),
    sa.UniqueConstraint('reverses_id', name='uq_fund_entry_reverses')
    )
    with op.batch_alter_table('fund_entry', schema=None) as batch_op:
        batch_op.create_index('ix_fund_entry_ledger_day', ['ledger_id', 'occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_entry_transfer_key'), ['transfer_key'], unique=False)

    op.create_table('fund_day_total',
    sa.Column('ledger_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ledger_id'], ['fund_ledger.id'], ),
    sa.PrimaryKeyConstraint('ledger_id', 'day', 'kind', 'category_code')
    )
    op.create_table('fund_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger_id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('period_key', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('drafted_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('drafted_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('published_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['drafted_by'], ['member.id'], ),
    sa.ForeignKeyConstraint(['ledger_id'], ['fund_ledger.id'], ),
    sa.ForeignKeyConstraint(['published_by'], ['member.id'], ),
    sa.ForeignKeyConstraint(['reviewed_by'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ledger_id', 'period_key', name='uq_fund_statement_period')
    )
    op.create_table('fund_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger_id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=True),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('head_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signed_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('public_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.ForeignKeyConstraint(['ledger_id'], ['fund_ledger.id'], ),
    sa.ForeignKeyConstraint(['statement_id'], ['fund_statement.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fund_checkpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_checkpoint_ledger_id'), ['ledger_id'], unique=False)

    op.create_table('fund_relief',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['fund_entry.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id')
    )
    with op.batch_alter_table('fund_relief', schema=None) as batch_op:
        batch_op.create_index('ix_fund_relief_member_kind_year', ['member_id', 'kind', 'year'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('fund_relief', schema=None) as batch_op:
        batch_op.drop_index('ix_fund_relief_member_kind_year')

    op.drop_table('fund_relief')
    with op.batch_alter_table('fund_checkpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_checkpoint_ledger_id'))

    op.drop_table('fund_checkpoint')
    op.drop_table('fund_statement')
    op.drop_table('fund_day_total')
    with op.batch_alter_table('fund_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_entry_transfer_key'))
        batch_op.drop_index('ix_fund_entry_ledger_day')

    op.drop_table('fund_entry')
    op.drop_table('fund_counter')
    op.drop_table('fund_budget')
    op.drop_table('fund_ledger')
    op.drop_table('fund_key')
