from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator
from twilio_double.transport import WsgiTransport


@pytest.fixture
def phone(app: Flask, rest: TwilioRestDouble) -> Iterator[CallSimulator]:
    """Twilio, calling our app in-process with signed webhooks."""
    simulator = CallSimulator(
        WsgiTransport(app),
        public_base_url=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )
    yield simulator
