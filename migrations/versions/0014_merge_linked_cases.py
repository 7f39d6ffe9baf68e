"""one problem, many reporters: a case linked to the problem's main case

Revision ID: 0014_merge
Revises: 0013_leaders
Create Date: 2026-12-12 09:00:00

The same blocked drain reported by five neighbours is one problem: four of the cases are
linked to the fifth, the main case (cases.main_case_id). Each keeps its number, its reporter
is texted and surveyed, and its status follows the main case's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014_merge'
down_revision: str | None = '0013_leaders'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not batch mode and no foreign key: either would make SQLite rebuild the cases table,
    # which drops its search triggers (see 0008).
    op.add_column('cases', sa.Column('main_case_id', sa.Integer(), nullable=True))
    op.create_index('ix_cases_main_case_id', 'cases', ['main_case_id'])


def downgrade() -> None:
    op.drop_index('ix_cases_main_case_id', table_name='cases')
    op.drop_column('cases', 'main_case_id')
