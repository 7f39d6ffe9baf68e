"""staff-entered cases: where in words, an unregistered person's name, attachments

Revision ID: 0016_intake
Revises: 0015_visits
Create Date: 2026-12-20 09:00:00

Staff record requests that came by the desk, a round, a building leader, a meeting or a group
chat (cases.staff_intake). The new ways in are new values of cases.source, a VARCHAR(20) as
every enum here: no change to the column. A case keeps where it is in words (address) and,
for a person without a resident record, their name (person_name); photos and documents go in
attachments, their files under $HOTLINE_DATA_DIR/attachments/.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.db

revision: str = '0016_intake'
down_revision: str | None = '0015_visits'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = hotline.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Not batch mode, plain server defaults: anything more makes SQLite rebuild the cases
    # table, which drops its search triggers (see 0008).
    op.add_column('cases', sa.Column('address', sa.String(length=200), nullable=False, server_default=''))
    op.add_column('cases', sa.Column('person_name', sa.String(length=100), nullable=False, server_default=''))
    op.create_table(
        'attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('stored_name', sa.String(length=100), nullable=False),
        sa.Column('file_name', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=50), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_attachments_stored_name')),
    )
    op.create_index(op.f('ix_attachments_case_id'), 'attachments', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_attachments_case_id'), table_name='attachments')
    op.drop_table('attachments')
    for column in ('person_name', 'address'):
        op.drop_column('cases', column)
