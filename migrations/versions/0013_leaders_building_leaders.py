"""building leaders (楼栋长), and who reported a case for someone else

Revision ID: 0013_leaders
Revises: 0012_resend10
Create Date: 2026-12-01 13:56:49

building_leaders: a resident or a staff member (exactly one) who leads a building, by the
building's name in residents' records. case_reporters: who reported a case for the resident
affected (a building leader for a neighbour), with the phone their updates go to. Two new
tables: the cases table is not touched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.db

revision: str = '0013_leaders'
down_revision: str | None = '0012_resend10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('building_leaders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building', sa.String(length=50), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hotline.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(resident_id IS NULL) <> (user_id IS NULL)', name=op.f('ck_building_leaders_one_resident_or_user')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_building_leaders_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_building_leaders_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_building_leaders')),
    sa.UniqueConstraint('building', 'resident_id', name='uq_building_leaders_resident'),
    sa.UniqueConstraint('building', 'user_id', name='uq_building_leaders_user')
    )
    with op.batch_alter_table('building_leaders') as batch_op:
        batch_op.create_index(batch_op.f('ix_building_leaders_building'), ['building'], unique=False)
        batch_op.create_index(batch_op.f('ix_building_leaders_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_building_leaders_user_id'), ['user_id'], unique=False)

    op.create_table('case_reporters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('building', sa.String(length=50), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('created_at', hotline.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_reporters_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_case_reporters_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_reporters_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_reporters')),
    sa.UniqueConstraint('case_id', 'phone', name=op.f('uq_case_reporters_case_id'))
    )
    with op.batch_alter_table('case_reporters') as batch_op:
        batch_op.create_index(batch_op.f('ix_case_reporters_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_reporters_resident_id'), ['resident_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_reporters') as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_reporters_resident_id'))
        batch_op.drop_index(batch_op.f('ix_case_reporters_case_id'))

    op.drop_table('case_reporters')
    with op.batch_alter_table('building_leaders') as batch_op:
        batch_op.drop_index(batch_op.f('ix_building_leaders_user_id'))
        batch_op.drop_index(batch_op.f('ix_building_leaders_resident_id'))
        batch_op.drop_index(batch_op.f('ix_building_leaders_building'))

    op.drop_table('building_leaders')
