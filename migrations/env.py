"""Alembic environment: migrates the database named by the hotline's settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from accounts.models import User
from cases.models import Case
from cases.search import is_search_index
from hotline.config import Settings
from hotline.db import Base
from hotline.jobs import JobLock
from hotline.telephony.models import LocalLineEntry
from outreach.models import FollowUp

# One model of each package that owns tables: importing it puts that package's tables on
# Base.metadata, which autogenerate and `alembic check` compare with the database.
TABLE_OWNERS = (User, Case, FollowUp, JobLock, LocalLineEntry)
config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    return url or Settings.from_env().database_url


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Skip the full-text index cases.search builds with raw DDL: no model describes it."""
    return not (type_ in ("table", "index") and is_search_index(name))


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = database_url()
    connect_args = {}
    if url.startswith("postgresql"):
        # Never let a migration queue behind a long lock in production.
        connect_args = {"options": "-c lock_timeout=10s -c statement_timeout=60s"}
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
