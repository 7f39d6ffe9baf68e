"""re-send and reconcile: a running transcription holds its recording; jobs note their success

Revision ID: 0012_resend10
Revises: 0011_once10
Create Date: 2026-12-02 09:00:00

A worker that dies mid-transcription stops renewing recordings.lease_until; beat's sweep
re-sends its recording within seconds instead of waiting for the broker's visibility timeout.
job_locks.succeeded_at is when a periodic job last ran to its end: reconciliation with Twilio
lists what was recorded since then.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.db

revision: str = '0012_resend10'
down_revision: str | None = '0011_once10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = hotline.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('recordings') as batch:
        batch.add_column(sa.Column('lease_until', UTC, nullable=True))
        batch.add_column(
            sa.Column('lease_holder', sa.String(length=64), nullable=False, server_default='')
        )
    with op.batch_alter_table('recordings') as batch:
        batch.alter_column('lease_holder', server_default=None)
    with op.batch_alter_table('job_locks') as batch:
        batch.add_column(sa.Column('succeeded_at', UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_locks') as batch:
        batch.drop_column('succeeded_at')
    with op.batch_alter_table('recordings') as batch:
        batch.drop_column('lease_holder')
        batch.drop_column('lease_until')
