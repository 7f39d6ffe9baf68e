import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline import migrate
from hotline.cli import main
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
