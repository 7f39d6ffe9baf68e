"""closing the loop: follow-ups, text outbox, inbound texts, survey answers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = hotline.db.UTCDateTime(timezone=True)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', _enum('followupkind', 'survey_call', 'survey_sms', 'progress', 'visit'), nullable=False),
    sa.Column('status', _enum('followupstatus', 'scheduled', 'claimed', 'placing', 'awaiting', 'done', 'cancelled'), nullable=False),
    sa.Column('due_at', UTC, nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_at', UTC, nullable=True),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_follow_ups_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
    sa.UniqueConstraint('call_sid', name=op.f('uq_follow_ups_call_sid'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_follow_ups_status_due', ['status', 'due_at'], unique=False)

    op.create_table('outbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('to_phone', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('status', _enum('outboundstatus', 'queued', 'sending', 'sent', 'failed', 'suppressed'), nullable=False),
    sa.Column('due_at', UTC, nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('sent_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_outbound_messages_case_id_cases'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_messages'))
    )
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_messages_status_due', ['status', 'due_at'], unique=False)

    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=False),
    sa.Column('from_phone', sa.String(length=32), nullable=False),
    sa.Column('to_phone', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('received_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_inbound_messages_case_id_cases'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('message_sid', name=op.f('uq_inbound_messages_message_sid'))
    )
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_messages_from_received', ['from_phone', 'received_at'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=True),
    sa.Column('answer', _enum('satisfaction', 'satisfied', 'basically_satisfied', 'not_satisfied'), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('comment_recording_sid', sa.String(length=64), nullable=True),
    sa.Column('comment_file_path', sa.String(length=300), nullable=False),
    sa.Column('comment_transcript', sa.Text(), nullable=False),
    sa.Column('answered_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_survey_responses_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_survey_responses_follow_up_id_follow_ups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('comment_recording_sid', name=op.f('uq_survey_responses_comment_recording_sid'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_responses_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    for table in ('survey_responses', 'inbound_messages', 'outbound_messages', 'follow_ups'):
        op.drop_table(table)
