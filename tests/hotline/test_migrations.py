import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import column, create_engine, insert, inspect, select, table
from sqlalchemy.orm import Session

from cases.models import Call, Case, CaseSource, CaseStatus, Resident, Urgency
from hotline import migrate
from hotline.cli import main
from outreach.models import InboundMessage, SmsOptOut
from tests.conftest import new_postgres_database


def _round_trip(url: str) -> None:
    migrate.upgrade(url)
    migrate.check(url)  # the models and the migrations agree
    command.downgrade(migrate.alembic_config(url), "base")
    migrate.upgrade(url)


def test_migrations_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'fresh.db'}")


def test_no_migration_rebuilds_the_cases_table_on_sqlite(tmp_path: Path) -> None:
    """A rebuilt cases table loses the triggers that keep the full-text index up to date, so
    cases opened after the upgrade could never be found: columns are added in place."""
    path = tmp_path / "upgraded.db"
    migrate.upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        triggers = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases'"
        ).fetchall()
    assert sorted(name for (name,) in triggers) == [
        "cases_fts_delete",
        "cases_fts_insert",
        "cases_fts_update",
    ]


def test_db_upgrade_before_the_data_folder_exists_makes_it(tmp_path: Path) -> None:
    """The embedded default's first step: its SQLite file lives in a folder not yet made."""
    data = tmp_path / "new" / "data"
    env = {"HOTLINE_DATA_DIR": str(data), "HOTLINE_DATABASE_URL": None}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert "database is up to date" in result.output
    with sqlite3.connect(data / "hotline.db") as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert {"cases", "recordings", "alembic_version"} <= tables


@pytest.mark.postgres
def test_migrations_on_postgresql() -> None:
    with new_postgres_database() as url:
        _round_trip(url)


EXACTLY_ONCE = "0011_once10"


def _insert_case_as_then(session: Session, **values: Any) -> None:
    """A cases row with only the columns the table had at that revision: the model has more
    columns by now, and the ORM would name them all in its INSERT."""
    moment = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    row: dict[str, Any] = {
        "status": CaseStatus.NEW,
        "locale": "zh-CN",
        "category": "other",
        "urgency": Urgency.NORMAL,
        "priority": 2,
        "transcript": "",
        "machine_transcript": "",
        "transcript_words": [],
        "no_speech": False,
        "error": "",
        "created_at": moment,
        "updated_at": moment,
        **values,
    }
    existing = {column["name"] for column in inspect(session.connection()).get_columns("cases")}
    row = {name: value for name, value in row.items() if name in existing}
    then = table("cases", *(column(name, Case.__table__.c[name].type) for name in row))
    session.execute(insert(then).values(row))


def _rows_before_exactly_once(session: Session) -> None:
    """Before: one call with two emergency cases, and opt-outs on residents."""
    call = Call(call_sid="CA" + "1" * 32, from_phone="+8613800000001", locale="zh-CN")
    session.add(call)
    session.flush()
    for _ in range(2):
        _insert_case_as_then(
            session, source=CaseSource.EMERGENCY_CALL, phone=call.from_phone, call_id=call.id
        )
    session.add_all(
        [
            Resident(phone="+8613800000002", name="", sms_opt_out=True),  # a stranger's STOP
            Resident(phone="+8613800000003", name="王秀英", sms_opt_out=True),  # texted STOP
            Resident(phone="+8613800000004", name="李明", sms_opt_out=True),  # marked by staff
            Resident(phone="+8613800000005", name="张伟", sms_opt_out=True),  # STOP, then START
        ]
    )
    moment = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    for index, (phone, outcome) in enumerate(
        [("+8613800000003", "stop"), ("+8613800000005", "stop"), ("+8613800000005", "start")]
    ):
        session.add(
            InboundMessage(
                message_sid=f"SM{index:032d}",
                from_phone=phone,
                outcome=outcome,
                received_at=moment + timedelta(minutes=index),
            )
        )
    session.commit()


def _exactly_once_carries_over(url: str) -> None:
    config = migrate.alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision(EXACTLY_ONCE).down_revision
    assert isinstance(before, str)
    command.upgrade(config, before)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            _rows_before_exactly_once(session)
        command.upgrade(config, "head")
        with Session(engine) as session:
            emergency = session.scalars(select(Case.call_id).order_by(Case.id)).all()
            assert emergency[0] is not None and emergency[1] is None  # kept, let go of the call
            opted_out = session.scalars(select(SmsOptOut.phone).order_by(SmsOptOut.phone)).all()
            assert opted_out == ["+8613800000002", "+8613800000003"]
        command.downgrade(config, before)  # and back, without losing an opt-out
        with Session(engine) as session:
            marked = session.scalars(select(Resident.phone).where(Resident.sms_opt_out)).all()
            assert len(marked) == 4
    finally:
        engine.dispose()


def test_exactly_once_migration_carries_over_on_sqlite(tmp_path: Path) -> None:
    _exactly_once_carries_over(f"sqlite:///{tmp_path / 'before.db'}")


@pytest.mark.postgres
def test_exactly_once_migration_carries_over_on_postgresql() -> None:
    with new_postgres_database() as url:
        _exactly_once_carries_over(url)
