"""workspace pages: survey satisfaction on cases; the inbox's priority and full-text search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cases import search

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_BATCH = 1000
OPEN_CASES = "status IN ('new', 'accepted', 'in_progress', 'reopened')"
cases = sa.table(
    'cases',
    sa.column('id', sa.Integer),
    sa.column('transcript', sa.Text),
    sa.column('machine_transcript', sa.Text),
    sa.column('resolution_note', sa.Text),
    sa.column('search_text', sa.Text),
)
case_events = sa.table(
    'case_events',
    sa.column('case_id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('detail', sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('satisfaction', sa.Enum('satisfied', 'basically_satisfied', 'not_satisfied', name='satisfaction', native_enum=False, length=20), nullable=True))
        # Server defaults only so existing rows get a value; the application always sets both.
        # (Plain strings: an SQL expression would make SQLite rebuild the table, and dropping
        # the old cases table would cascade-delete every case's timeline.)
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='2'))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index('ix_cases_priority_created_id', ['priority', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_grid_priority_created_id', ['grid', 'priority', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_open_priority_created_id', ['priority', 'created_at', 'id'], unique=False, sqlite_where=sa.text(OPEN_CASES), postgresql_where=sa.text(OPEN_CASES))
        batch_op.create_index('ix_cases_open_grid_priority_created_id', ['grid', 'priority', 'created_at', 'id'], unique=False, sqlite_where=sa.text(OPEN_CASES), postgresql_where=sa.text(OPEN_CASES))
    op.execute(
        "UPDATE cases SET priority = CASE urgency WHEN 'emergency' THEN 0 "
        "WHEN 'urgent' THEN 1 ELSE 2 END"
    )
    _backfill_search_text()
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in search.sqlite_ddl():
            op.execute(statement)
        op.execute(search.sqlite_rebuild_ddl())
    elif dialect == 'postgresql':
        for statement in search.postgresql_ddl():
            op.execute(statement)


def _backfill_search_text() -> None:
    """The same tokens the application computes, for every case that exists already."""
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(cases.c.id, cases.c.transcript, cases.c.machine_transcript, cases.c.resolution_note)
            .where(cases.c.id > last_id)
            .order_by(cases.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        notes: dict[int, list[str]] = {}
        for case_id, kind, detail in connection.execute(
            sa.select(case_events.c.case_id, case_events.c.kind, case_events.c.detail).where(
                case_events.c.case_id.in_([row.id for row in rows]),
                case_events.c.kind.in_(list(search.SEARCHED_EVENTS)),
            )
        ):
            notes.setdefault(case_id, []).append(search.event_text(kind, detail))
        connection.execute(
            cases.update().where(cases.c.id == sa.bindparam('case_id')).values(search_text=sa.bindparam('text')),
            [
                {
                    'case_id': row.id,
                    'text': search.search_text_of(
                        [row.transcript, row.machine_transcript, row.resolution_note, *notes.get(row.id, [])]
                    ),
                }
                for row in rows
            ],
        )
        last_id = rows[-1].id


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in search.sqlite_drop_ddl():
            op.execute(statement)
    elif dialect == 'postgresql':
        for statement in search.postgresql_drop_ddl():
            op.execute(statement)
    # Not batch mode: rebuilding cases on SQLite would cascade-delete the timelines. SQLite
    # (3.35+) and PostgreSQL both drop an unindexed column in place.
    op.drop_index('ix_cases_open_grid_priority_created_id', table_name='cases')
    op.drop_index('ix_cases_open_priority_created_id', table_name='cases')
    op.drop_index('ix_cases_grid_priority_created_id', table_name='cases')
    op.drop_index('ix_cases_priority_created_id', table_name='cases')
    op.drop_column('cases', 'search_text')
    op.drop_column('cases', 'priority')
    op.drop_column('cases', 'satisfaction')
