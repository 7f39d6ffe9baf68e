"""The SQLAlchemy extension and declarative base shared by every domain package."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import CursorResult, DateTime, Enum, MetaData, Update, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from werkzeug.routing import IntegerConverter, Map

# Stable constraint names, so Alembic migrations name the same things on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger number is no row


class IdConverter(IntegerConverter):
    """Every route's <int:...> (all of them ids): a number beyond MAX_ID is no page (404);
    given to the database, it would fail the query (a 500 on PostgreSQL)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None) -> None:
        super().__init__(map, fixed_digits, min, MAX_ID)


def utcnow() -> datetime:
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL and a busy timeout let the web process and the worker share one SQLite file."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every database (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use hotline.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def enum_column(enum_class: type[enum.Enum]) -> Enum:
    """Store enums as their plain values in a VARCHAR, the same on SQLite and PostgreSQL."""
    return Enum(
        enum_class,
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


def moved_one_row(statement: Update) -> bool:
    """Run a conditional UPDATE (a claim): True for the one caller whose UPDATE changed the row.

    Two workers, or a replayed webhook, may race for the same row; the database decides who
    won. The caller commits or rolls back.
    """
    result = db.session.execute(statement)
    assert isinstance(result, CursorResult)  # an UPDATE without RETURNING
    return result.rowcount == 1


def unreachable(error: BaseException) -> bool:
    """Whether a database error means the database cannot be used just now (down, cut off,
    locked, out of connections), so the same work may succeed later, rather than that the
    statement itself was wrong."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | PoolTimeout)


def describe(error: BaseException) -> str:
    """What the database said, for a log line: its first line, without the statement and its
    parameters, which may hold phone numbers."""
    said = getattr(error, "orig", None) or error
    lines = str(said).strip().splitlines()
    return f"{type(said).__name__}: {lines[0] if lines else ''}"


def upsert(model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT for this session's database with its ON CONFLICT clauses (both have them)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
