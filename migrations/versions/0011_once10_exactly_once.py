"""exactly once under concurrency: one emergency case per call, opt-outs and text counts by number

Revision ID: 0011_once10
Revises: 0010_recording_problem
Create Date: 2026-12-10 09:00:00

* One emergency case per call: a partial unique index on cases(call_id) for the emergency key's
  cases, so deliveries of the same "9" racing each other cannot open two. Duplicates opened
  before it are kept as cases (staff may have worked on them) but let go of the call.
* sms_opt_outs: STOP kept by phone number, for numbers with and without a resident. Carried
  over: the nameless residents STOP used to make, and residents still marked whose last
  STOP/START text was a STOP. Other marks stay on their residents, where staff set them.
* sms_rate_windows: each number's texts in the rate limit's window, counted atomically.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.db

revision: str = '0011_once10'
down_revision: str | None = '0010_recording_problem'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = hotline.db.UTCDateTime(timezone=True)
EMERGENCY_CALL = "source = 'emergency_call'"

LET_GO_OF_DUPLICATES = f"""
UPDATE cases SET call_id = NULL
WHERE {EMERGENCY_CALL} AND call_id IS NOT NULL
  AND id > (SELECT min(first.id) FROM cases first
            WHERE first.call_id = cases.call_id AND first.{EMERGENCY_CALL})
"""

LATEST_STOP = """(SELECT max(stop.received_at) FROM inbound_messages stop
  WHERE stop.from_phone = residents.phone AND stop.outcome = 'stop')"""
CARRY_OVER_OPT_OUTS = f"""
INSERT INTO sms_opt_outs (phone, opted_out_at)
SELECT phone, coalesce({LATEST_STOP}, created_at) FROM residents
WHERE sms_opt_out AND (
  name = ''
  OR ({LATEST_STOP} IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM inbound_messages start
    WHERE start.from_phone = residents.phone AND start.outcome = 'start'
      AND start.received_at > {LATEST_STOP})))
"""
# Back to residents' marks, with a nameless resident for a number nobody knew (as before).
MARK_OPTED_OUT_RESIDENTS = """
UPDATE residents SET sms_opt_out = TRUE WHERE phone IN (SELECT phone FROM sms_opt_outs)
"""
NAMELESS_RESIDENTS_FOR_OPT_OUTS = """
INSERT INTO residents
  (phone, name, address, building, grid, language, do_not_call, sms_opt_out, created_at)
SELECT phone, '', '', '', '', 'zh-CN', FALSE, TRUE, opted_out_at FROM sms_opt_outs
WHERE length(phone) <= 20 AND phone NOT IN (SELECT phone FROM residents)
"""


def upgrade() -> None:
    op.execute(LET_GO_OF_DUPLICATES)
    op.create_index(
        'uq_cases_emergency_call', 'cases', ['call_id'], unique=True,
        sqlite_where=sa.text(EMERGENCY_CALL), postgresql_where=sa.text(EMERGENCY_CALL),
    )
    op.create_table('sms_opt_outs',
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('opted_out_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_sms_opt_outs'))
    )
    op.create_table('sms_rate_windows',
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('window_start', UTC, nullable=False),
    sa.Column('texts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_sms_rate_windows'))
    )
    op.execute(CARRY_OVER_OPT_OUTS)


def downgrade() -> None:
    op.execute(MARK_OPTED_OUT_RESIDENTS)
    op.execute(NAMELESS_RESIDENTS_FOR_OPT_OUTS)
    op.drop_table('sms_rate_windows')
    op.drop_table('sms_opt_outs')
    op.drop_index('uq_cases_emergency_call', table_name='cases')
