"""event.moved_at: when an event's time or place last changed

Revision ID: 0005
Revises: 0004

Events moved before this revision get the time of their last change (``updated_at``):
the best the table knows, and never earlier than the move itself.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


import models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moved_at', models.base.UTCDateTime(timezone=True), nullable=True))

    event = sa.table('event', sa.column('revision', sa.Integer()),
                     sa.column('updated_at', models.base.UTCDateTime(timezone=True)),
                     sa.column('moved_at', models.base.UTCDateTime(timezone=True)))
    op.execute(event.update().where(event.c.revision > 0).values(moved_at=event.c.updated_at))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: on SQLite, with foreign keys
    # on, dropping the old event table would delete every sign-up (ON DELETE CASCADE).
    op.drop_column('event', 'moved_at')
