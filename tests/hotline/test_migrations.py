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


@pytest.mark.postgres
def test_migrations_on_postgresql() -> None:
    with new_postgres_database() as url:
        _round_trip(url)
