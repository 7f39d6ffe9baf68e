"""Fixtures for the text line: Twilio posting texts to our app in-process, signed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator
from twilio_double.transport import WsgiTransport

Poster = Callable[..., TestResponse]


@pytest.fixture
def phone(app: Flask, rest: TwilioRestDouble) -> CallSimulator:
    """Twilio, delivering residents' texts to /sms/incoming exactly as it would."""
    return CallSimulator(
        WsgiTransport(app),
        public_base_url=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )


def sign(url: str, params: dict[str, str]) -> str:
    return str(RequestValidator(AUTH_TOKEN).compute_signature(url, params))


@pytest.fixture
def signed_post(app: Flask) -> Poster:
    """One hand-made webhook, for forms Twilio itself would never send."""

    def post(params: dict[str, str], signature: str | None = None) -> TestResponse:
        path = "/sms/incoming"
        signature = signature if signature is not None else sign(PUBLIC_URL + path, params)
        return app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})

    return post
