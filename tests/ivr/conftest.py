from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator
from twilio_double.transport import WsgiTransport

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
