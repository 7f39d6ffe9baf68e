import sqlite3
from pathlib import Path

import pytest

from hotline import migrate
from tests.conftest import new_postgres_database


def _round_trip(url: str) -> None:
    migrate.upgrade(url)
    migrate.check(url)  # the models and the migrations agree
    from alembic import command

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


@pytest.mark.postgres
def test_migrations_on_postgresql() -> None:
    with new_postgres_database() as url:
        _round_trip(url)
