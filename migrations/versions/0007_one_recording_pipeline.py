"""one recording pipeline: survey comments become recordings like voicemails

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 06:40:00

A case may now have several recordings (its voicemail, and the survey comments a dissatisfied
resident left), each with its purpose, language and transcript. Comments kept on
survey_responses move into recordings.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSE = sa.Enum('voicemail', 'survey_comment', name='recordingpurpose', native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table('recordings') as batch:
        batch.add_column(sa.Column('purpose', PURPOSE, nullable=False, server_default='voicemail'))
        batch.add_column(sa.Column('locale', sa.String(length=10), nullable=False, server_default=''))
        batch.add_column(sa.Column('transcript', sa.Text(), nullable=False, server_default=''))
        batch.drop_constraint('uq_recordings_case_id', type_='unique')
        batch.create_index('ix_recordings_case_id', ['case_id'], unique=False)
    # Each survey comment becomes a recording of its case; the marker "queued" was no file.
    op.execute(
        """
        INSERT INTO recordings (recording_sid, call_sid, case_id, purpose, locale, transcript,
                                status, available, file_path, content_type, attempts, last_error,
                                created_at)
        SELECT comment_recording_sid, '', case_id, 'survey_comment', '', comment_transcript,
               CASE WHEN comment_transcript <> '' THEN 'transcribed' ELSE 'pending' END,
               TRUE, CASE WHEN comment_file_path = 'queued' THEN '' ELSE comment_file_path END,
               '', 0, '', answered_at
        FROM survey_responses
        WHERE comment_recording_sid IS NOT NULL
        """
    )
    with op.batch_alter_table('survey_responses') as batch:
        batch.drop_column('comment_file_path')
        batch.drop_column('comment_transcript')
    with op.batch_alter_table('recordings') as batch:
        batch.alter_column('purpose', server_default=None)
        batch.alter_column('locale', server_default=None)
        batch.alter_column('transcript', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('survey_responses') as batch:
        batch.add_column(sa.Column('comment_file_path', sa.String(length=300), nullable=False, server_default=''))
        batch.add_column(sa.Column('comment_transcript', sa.Text(), nullable=False, server_default=''))
    op.execute(
        """
        UPDATE survey_responses SET
          comment_file_path = COALESCE((SELECT file_path FROM recordings
              WHERE recordings.recording_sid = survey_responses.comment_recording_sid), ''),
          comment_transcript = COALESCE((SELECT transcript FROM recordings
              WHERE recordings.recording_sid = survey_responses.comment_recording_sid), '')
        """
    )
    op.execute("DELETE FROM recordings WHERE purpose = 'survey_comment'")
    with op.batch_alter_table('recordings') as batch:
        batch.drop_index('ix_recordings_case_id')
        batch.create_unique_constraint('uq_recordings_case_id', ['case_id'])
        batch.drop_column('transcript')
        batch.drop_column('locale')
        batch.drop_column('purpose')
