"""recording problem: what staff are told about each recording's transcript

Revision ID: 0010_recording_problem
Revises: 0009_call_backs
Create Date: 2026-12-10 09:00:00

A transcript that holds no clear speech (noise, silence, words the recogniser was unsure of)
is flagged for staff to listen to, on the case and on each survey comment (recordings.problem).
The values are TranscriptProblem's, in a VARCHAR as every enum here; the new 'unclear' needs
no change to cases.problem.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_recording_problem'
down_revision: str | None = '0009_call_backs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROBLEMS = (
    'no_audio', 'no_speech', 'unclear', 'cut_short', 'download_failed', 'credentials_rejected',
    'late', 'unreadable', 'no_model', 'failed',
)


def upgrade() -> None:
    problem = sa.Enum(*PROBLEMS, name='transcriptproblem', native_enum=False, length=20)
    op.add_column('recordings', sa.Column('problem', problem, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('recordings') as batch:
        batch.drop_column('problem')
