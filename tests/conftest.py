"""Fixtures: an app per test on a clean database, SQLite or PostgreSQL as the run chooses.

One database per RUN, not per test: `pytest` runs everything on SQLite; `pytest --database
postgresql` (or HOTLINE_TEST_DATABASE=postgresql) runs only the tests that use a database
(`database_url`, hence `env`, `app`...) again on PostgreSQL. Everything else (tests/e2e and
tests/browser with their own processes and databases, the migration tests, pure functions)
runs once, in the SQLite run. `make test` runs both. The ids still say which: `test_x[sqlite]`.

The schema is made once per run, the same way as ever (`db.create_all()`, which also makes the
search DDL: the FTS5 table and its triggers on SQLite, the GIN index on PostgreSQL), and each
test gets a clean database cheaply:
- SQLite: a copy of a template database file, made once, into the test's tmp_path;
- PostgreSQL: one database per run; after each test every table is emptied (DELETE, children
  first) and every id sequence restarted, so ids (case numbers are 10000 + id) restart.
Not a transaction rolled back per test: several tests run requests or workers concurrently in
threads (the same SMS four times at once, two escalation beats) and need real commits that
other connections see; with a copied file or an emptied database every code path commits as
it does in production.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from hotline.app import create_app
from hotline.config import Settings
from hotline.db import db
from tests.speech.fakes import FakeRecognizer, fake_recognizer, vosk_recognizer  # noqa: F401
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator
from twilio_double.transport import WsgiTransport

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://hotline.example.org"
HOTLINE_NUMBER = "+8610123456"
ON_DUTY = "+8613900000009"
POSTGRES_ADMIN_URL = os.environ.get(
    "HOTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
AMQP_URL = os.environ.get("HOTLINE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")
SHARED_SPEECH = Path(
    os.environ.get("HOTLINE_SHARED_SPEECH")
    or Path(__file__).resolve().parents[2] / "shared" / "speech"
)


def require_shared_speech() -> Path:
    """The real recordings: CI always has them; elsewhere tests skip and say why."""
    if (SHARED_SPEECH / "manifest.tsv").is_file():
        return SHARED_SPEECH
    if os.environ.get("CI"):
        pytest.fail(f"CI must have the speech recordings at {SHARED_SPEECH}")
    pytest.skip(f"needs the real recordings in {SHARED_SPEECH} (present in CI)")


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """A database of our own, dropped at the end."""
    name = f"hotline_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=BACKENDS,
        default=os.environ.get("HOTLINE_TEST_DATABASE", "sqlite"),
        help="the database of this run (default sqlite, or HOTLINE_TEST_DATABASE); with "
        "postgresql only the tests that use a database run",
    )


def run_backend(config: pytest.Config) -> str:
    return str(config.getoption("database"))


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {run_backend(config)}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test on the database gets this run's backend as its one parameter (and id)."""
    if "database_url" not in metafunc.fixturenames:
        return
    backend = run_backend(metafunc.config)
    marks = [pytest.mark.postgres] if backend == "postgresql" else []
    metafunc.parametrize(
        "database_url", [pytest.param(backend, marks=marks, id=backend)], indirect=True
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run repeats only the database tests; the rest ran in the SQLite run."""
    if run_backend(config) == "sqlite":
        return
    on_database: list[pytest.Item] = []
    others: list[pytest.Item] = []
    for item in items:
        uses_database = "database_url" in getattr(item, "fixturenames", ())
        (on_database if uses_database else others).append(item)
    if others:
        config.hook.pytest_deselected(items=others)
        items[:] = on_database


def create_schema(database_url: str, data_dir: Path) -> None:
    """The tables as every test has always had them: create_all, search DDL included."""
    app = create_app(Settings.from_env(make_env(data_dir, database_url)))
    with app.app_context():
        db.create_all()
        if db.engine.dialect.name == "sqlite":
            # Everything into the main file, so copying that one file copies the schema.
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with the schema, made once; each SQLite test works on a copy."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.db"
    create_schema(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database for the unit tests of a run, with the schema; emptied after each test."""
    with new_postgres_database() as url:
        create_schema(url, tmp_path_factory.mktemp("postgres-schema"))
        yield url


class PostgresCleaner:
    """Empties the run's PostgreSQL database after a test: no rows, ids restarted.

    DELETE, not TRUNCATE: TRUNCATE gives every table new files, ~0.4 s per test on this
    machine; deleting the few rows a test wrote takes a few milliseconds.
    """

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        with self.engine.connect() as connection:
            sequences = connection.scalars(
                text(
                    "SELECT quote_ident(sequence_name) FROM information_schema.sequences"
                    " WHERE sequence_schema = 'public'"
                )
            ).all()
        # Children before parents, so no foreign key objects.
        deletes = [f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)]
        restarts = [f"ALTER SEQUENCE {name} RESTART" for name in sequences]
        self.statements = "; ".join(deletes + restarts)

    def empty(self) -> None:
        try:
            with self.engine.begin() as connection:
                # A connection a test left open would make us wait: fail instead of hanging.
                connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
                connection.exec_driver_sql(self.statements)
        except ProgrammingError as error:  # a table is gone: the test dropped it
            db.metadata.create_all(self.engine)  # so that the tests after it are not hit too
            raise RuntimeError(
                "this test dropped tables of the run's PostgreSQL database (database_url is "
                "shared by the run's tests and already has the schema: no drop_all)"
            ) from error


@pytest.fixture(scope="session")
def postgres_cleaner(postgres_url: str) -> Iterator[PostgresCleaner]:
    cleaner = PostgresCleaner(postgres_url)
    yield cleaner
    cleaner.engine.dispose()


def make_env(tmp_path: Path, database_url: str, **overrides: str) -> dict[str, str]:
    env = {
        "HOTLINE_DATA_DIR": str(tmp_path / "data"),
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_BROKER_URL": "memory://",
        "HOTLINE_PUBLIC_URL": PUBLIC_URL,
        "HOTLINE_NUMBER": HOTLINE_NUMBER,
        "HOTLINE_ON_DUTY_NUMBERS": ON_DUTY,
        "HOTLINE_SERVICE_HOURS": "00:00-23:59",
        "HOTLINE_RETRY_BASE_SECONDS": "0",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    }
    env.update(overrides)
    return env


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own with the schema and no rows (this run's backend)."""
    backend = getattr(request, "param", run_backend(request.config))
    if backend == "sqlite":
        path = tmp_path / "hotline.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_url")
    cleaner: PostgresCleaner = request.getfixturevalue("postgres_cleaner")
    yield url
    cleaner.empty()  # after the app's teardown, which closed its connections


@pytest.fixture
def rest() -> Iterator[TwilioRestDouble]:
    """Twilio's REST API, played locally; the app's real twilio client talks to it."""
    with TwilioRestDouble(ACCOUNT_SID, AUTH_TOKEN) as double:
        yield double


@pytest.fixture
def env(tmp_path: Path, database_url: str, rest: TwilioRestDouble) -> dict[str, str]:
    return make_env(tmp_path, database_url, TWILIO_API_BASE_URL=rest.base_url)


@contextmanager
def hotline_app(env: dict[str, str]) -> Iterator[Flask]:
    """The hotline with these settings, on a database that already has the schema."""
    app = create_app(Settings.from_env(env), recognizer=FakeRecognizer())  # no Vosk in units
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def local_line_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """A first user's settings: no TWILIO_* at all, so the local line."""
    env = make_env(tmp_path, database_url)
    del env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"]
    return env


@pytest.fixture
def app(env: dict[str, str]) -> Iterator[Flask]:
    """The hotline on this test's database."""
    with hotline_app(env) as app:
        yield app


def closed_port() -> int:
    """A local TCP port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def unreachable_database_url(database_url: str, tmp_path: Path) -> str:
    """A URL of the same backend where no database answers: a real refused connection, not a
    mock. SQLite: a file in a folder that does not exist; PostgreSQL: a closed port."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'hotline.db'}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/hotline"


@pytest.fixture
def down_app(app: Flask, env: dict[str, str], database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The hotline of `app` (same data directory, same Twilio) while its database is down;
    tasks still run in `app`, the worker of the hotline whose database is back."""
    url = unreachable_database_url(database_url, tmp_path)
    with hotline_app({**env, "HOTLINE_DATABASE_URL": url}) as down:
        app.extensions["celery"].set_current()  # else the newest app's Celery runs the tasks
        yield down


class DatabaseGoesDown:
    """WSGI: the webhooks whose path `is_down(path)` reach `down` (no database), others `up`."""

    def __init__(self, up: Flask, down: Flask, is_down: Callable[[str], bool]) -> None:
        self.up, self.down, self.is_down = up, down, is_down

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        app = self.down if self.is_down(environ["PATH_INFO"]) else self.up
        return app.wsgi_app(environ, start_response)


@pytest.fixture
def local_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """The hotline of a first user, without a Twilio account: on the local line."""
    with hotline_app(local_line_env(tmp_path, database_url)) as app:
        yield app


# Twilio's side of calls and texts, played against the app in-process (tests/ivr, tests/sms,
# tests/outreach): every request signed as Twilio signs it.
SimulatorFactory = Callable[..., CallSimulator]


@pytest.fixture
def make_phone(app: Flask, rest: TwilioRestDouble) -> SimulatorFactory:
    """Twilio, calling our app in-process; options as CallSimulator's (signing, repeats...)."""

    def make(**options: Any) -> CallSimulator:
        return CallSimulator(
            WsgiTransport(app),
            public_base_url=PUBLIC_URL,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            rest=rest,
            **options,
        )

    return make


@pytest.fixture
def phone(make_phone: SimulatorFactory) -> CallSimulator:
    return make_phone()


def sign(url: str, params: dict[str, str]) -> str:
    return str(RequestValidator(AUTH_TOKEN).compute_signature(url, params))


@pytest.fixture
def signed_post(app: Flask) -> Callable[..., TestResponse]:
    """A single hand-made webhook, for inputs Twilio itself would not produce."""

    def post(path: str, params: dict[str, str], signature: str | None = None) -> TestResponse:
        signature = signature if signature is not None else sign(PUBLIC_URL + path, params)
        return app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})

    return post
