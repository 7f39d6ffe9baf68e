"""Fixtures: a started REST double, a real twilio client on it, the toy app and simulators."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from twilio.rest import Client

from tests.twilio_double.toy_app import make_app
from twilio_double.rest import TwilioRestDouble, close_client, make_client
from twilio_double.server import ServerThread
from twilio_double.simulator import CallSimulator, HttpTransport, WsgiTransport
from twilio_double.transport import Transport

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token"
PUBLIC = "https://hotline.example.org"


@pytest.fixture
def rest() -> Iterator[TwilioRestDouble]:
    with TwilioRestDouble(ACCOUNT_SID, AUTH_TOKEN) as double:
        yield double


@pytest.fixture
def client(rest: TwilioRestDouble) -> Iterator[Client]:
    twilio_client = make_client(rest.base_url, ACCOUNT_SID, AUTH_TOKEN)
    yield twilio_client
    close_client(twilio_client)


@pytest.fixture
def app(rest: TwilioRestDouble) -> Flask:
    toy = make_app(PUBLIC, AUTH_TOKEN, ACCOUNT_SID)
    toy.config["TWILIO_API_BASE"] = rest.base_url
    return toy


@pytest.fixture(params=["wsgi", "http"])
def transport(request: pytest.FixtureRequest, app: Flask) -> Iterator[Transport]:
    if request.param == "wsgi":
        yield WsgiTransport(app)
        return
    with ServerThread(app) as server:
        http = HttpTransport(server.base_url)
        yield http
        http.close()


@pytest.fixture
def sim(transport: Transport, rest: TwilioRestDouble) -> CallSimulator:
    return CallSimulator(
        transport,
        public_base_url=PUBLIC,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )
