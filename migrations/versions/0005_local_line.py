"""local line: the calls and texts of a hotline without Twilio

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = hotline.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('local_line_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('call', 'text', name='entrykind', native_enum=False, length=20), nullable=False),
    sa.Column('sid', sa.String(length=34), nullable=False),
    sa.Column('to_phone', sa.String(length=32), nullable=False),
    sa.Column('from_phone', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('status_callback', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_line_entries')),
    sa.UniqueConstraint('sid', name=op.f('uq_local_line_entries_sid'))
    )
    with op.batch_alter_table('local_line_entries', schema=None) as batch_op:
        batch_op.create_index('ix_local_line_entries_to_created', ['to_phone', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('local_line_entries')
