"""outbox.lease_token, inbound_record.answered

Revision ID: 0006
Revises: 0005

``outbox.lease_token`` names one lease of a row, so that only the worker holding it
renews it or records its result. ``inbound_record.answered`` says how the reply of a
message reaches the chat: ``passive`` (in the platform's HTTP response) or ``pushed``
(through the outbox). Records written before this revision were answered passively.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('lease_token', sa.String(length=32), nullable=True))
    op.add_column('inbound_record', sa.Column('answered', sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column('inbound_record', 'answered')
    op.drop_column('outbox', 'lease_token')
