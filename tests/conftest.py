"""Fixtures: an app per test on a fresh database (SQLite, and PostgreSQL where asked)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One database for the unit tests of a session; each test creates and drops the tables."""
    with new_postgres_database() as url:
        yield url


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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hotline.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def rest() -> Iterator[TwilioRestDouble]:
    """Twilio's REST API, played locally; the app's real twilio client talks to it."""
    with TwilioRestDouble(ACCOUNT_SID, AUTH_TOKEN) as double:
        yield double


@pytest.fixture
def env(tmp_path: Path, database_url: str, rest: TwilioRestDouble) -> dict[str, str]:
    return make_env(tmp_path, database_url, TWILIO_API_BASE_URL=rest.base_url)


@pytest.fixture
def app(env: dict[str, str]) -> Iterator[Flask]:
    app = create_app(Settings.from_env(env), recognizer=FakeRecognizer())  # no Vosk in units
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


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
