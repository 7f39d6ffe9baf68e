"""home visits that count: what the worker recorded, and who asked for a visit

Revision ID: 0015_visits
Revises: 0014_merge
Create Date: 2026-12-10 09:00:00

A visit task stays open until the grid worker records what happened (visit_records: met or
not, the resident's answer asked in person, a note). follow_ups.scheduled_by_id is the staff
member who asked for a visit by hand (NULL: the hotline, after calls and texts went
unanswered); no foreign key, so SQLite adds the column in place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.db

revision: str = '0015_visits'
down_revision: str | None = '0014_merge'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = hotline.db.UTCDateTime(timezone=True)
SATISFACTION = sa.Enum(
    'satisfied', 'basically_satisfied', 'not_satisfied',
    name='satisfaction', native_enum=False, length=20,
)


def upgrade() -> None:
    op.create_table('visit_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('met', sa.Boolean(), nullable=False),
    sa.Column('answer', SATISFACTION, nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_visit_records_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_visit_records_follow_up_id_follow_ups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_visit_records_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_records'))
    )
    with op.batch_alter_table('visit_records') as batch:
        batch.create_index(batch.f('ix_visit_records_case_id'), ['case_id'], unique=False)
        batch.create_index(batch.f('ix_visit_records_follow_up_id'), ['follow_up_id'], unique=False)
    with op.batch_alter_table('follow_ups') as batch:
        batch.add_column(sa.Column('scheduled_by_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('follow_ups') as batch:
        batch.drop_column('scheduled_by_id')
    op.drop_table('visit_records')
