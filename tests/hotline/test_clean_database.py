"""Each test starts on an empty database with the schema, and its ids start again at 1."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select, text

from cases.models import Case
from cases.search import FTS_TABLE, PG_INDEX
from hotline.db import db
from tests.workspace.conftest import make_case

# A rolled-back insert uses up an id of PostgreSQL's sequence; SQLite takes the highest id + 1.
NUMBER_AFTER_A_ROLLBACK = {"sqlite": "10001", "postgresql": "10002"}


# Twice: the second sees nothing of the first, not its rows nor the ids it used up.
@pytest.mark.parametrize("turn", ["first", "second"])
def test_a_test_starts_empty_and_numbers_its_cases_from_the_start(app: Flask, turn: str) -> None:
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
        make_case()
        db.session.flush()
        db.session.rollback()
        case = make_case()
        db.session.commit()
        assert case.number == NUMBER_AFTER_A_ROLLBACK[db.engine.dialect.name]


def test_the_schema_has_the_search_index(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            names = set(db.session.scalars(text("SELECT name FROM sqlite_master")).all())
            assert {FTS_TABLE, "cases_fts_insert", "cases_fts_delete", "cases_fts_update"} <= names
        else:
            assert PG_INDEX in {index["name"] for index in inspect(db.engine).get_indexes("cases")}
