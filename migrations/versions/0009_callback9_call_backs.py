"""call backs: a voicemail opens its case only once it is known to hold speech

Revision ID: 0009_call_backs
Revises: 0008
Create Date: 2026-12-01 10:34:30

A voicemail's recording is noted before any case exists (recordings.case_id may be NULL until
its transcript holds speech). One without speech (silence, noise) opens no case and goes on
the call-back list that staff work (call_backs).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.db

revision: str = '0009_call_backs'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = hotline.db.UTCDateTime(timezone=True)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table('call_backs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('reason', _enum('callbackreason', 'silence', 'noise'), nullable=False),
    sa.Column('status', _enum('callbackstatus', 'open', 'done'), nullable=False),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('done_at', UTC, nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_backs_call_id_calls')),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_call_backs_done_by_id_users')),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_call_backs_recording_id_recordings')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_call_backs_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_backs')),
    sa.UniqueConstraint('recording_id', name=op.f('uq_call_backs_recording_id'))
    )
    with op.batch_alter_table('call_backs') as batch:
        batch.create_index(batch.f('ix_call_backs_resident_id'), ['resident_id'], unique=False)
        batch.create_index('ix_call_backs_status_urgent_created', ['status', 'urgent', 'created_at'], unique=False)
    with op.batch_alter_table('recordings') as batch:
        batch.alter_column('case_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Recordings that never opened a case (call-backs, nothing recorded) have no place before.
    op.drop_table('call_backs')
    op.execute("DELETE FROM recordings WHERE case_id IS NULL")
    with op.batch_alter_table('recordings') as batch:
        batch.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
