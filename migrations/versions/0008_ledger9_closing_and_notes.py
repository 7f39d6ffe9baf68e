"""closing without a survey, notes per language, transcript problems in words

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00

不满意不销账: a case closed without the resident's satisfied answer says how (closed_as: by a
supervisor without an answer, or opened by mistake as junk, a duplicate of another case, or
no message) and why (close_reason). The resolution note keeps its language, and staff may
write it again in other languages for residents who speak them. A transcript problem is kept
as a code that staff pages word in the reader's language.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOSED_AS = sa.Enum('without_answer', 'junk', 'duplicate', 'no_message', name='closedas', native_enum=False, length=20)
PROBLEM = sa.Enum('no_audio', 'no_speech', 'cut_short', 'download_failed', 'unreadable', 'no_model', 'failed', name='transcriptproblem', native_enum=False, length=20)


def upgrade() -> None:
    # Not batch mode, plain server defaults, no foreign key: anything more makes SQLite
    # rebuild the cases table, which drops its search triggers and cascade-deletes timelines.
    op.add_column('cases', sa.Column('problem', PROBLEM, nullable=True))
    op.add_column('cases', sa.Column('resolution_locale', sa.String(length=10), nullable=False, server_default=''))
    op.add_column('cases', sa.Column('resolution_translations', sa.JSON(), nullable=False, server_default='{}'))
    op.add_column('cases', sa.Column('closed_as', CLOSED_AS, nullable=True))
    op.add_column('cases', sa.Column('close_reason', sa.Text(), nullable=False, server_default=''))
    op.add_column('cases', sa.Column('duplicate_of_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) and PostgreSQL both drop an unindexed column in place.
    for column in ('duplicate_of_id', 'close_reason', 'closed_as', 'resolution_translations', 'resolution_locale', 'problem'):
        op.drop_column('cases', column)
