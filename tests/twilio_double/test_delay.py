"""delay_next: Twilio acted, but its answer comes late (or after the client gave up)."""

from __future__ import annotations

import time

import pytest
import requests
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from tests.twilio_double.conftest import ACCOUNT_SID, AUTH_TOKEN
from twilio_double.rest import TwilioRestDouble


def test_a_delayed_create_takes_effect_before_the_late_answer(
    client: Client, rest: TwilioRestDouble
) -> None:
    rest.delay_next(r"/Calls\.json$", 0.6, method="POST")
    started = time.monotonic()
    call = client.calls.create(to="+8613800000001", from_="+8610123456", url="https://x.example/")
    assert time.monotonic() - started >= 0.6
    assert [c["sid"] for c in rest.calls] == [call.sid]
    started = time.monotonic()
    client.calls.create(to="+8613800000001", from_="+8610123456", url="https://x.example/")
    assert time.monotonic() - started < 0.5  # only the next one was delayed


def test_a_client_that_gives_up_still_leaves_the_call_created(rest: TwilioRestDouble) -> None:
    rest.delay_next(r"/Calls\.json$", 2.0, method="POST")
    impatient = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=TwilioHttpClient(timeout=0.3))
    impatient.api.base_url = rest.base_url
    with pytest.raises(requests.exceptions.Timeout):
        impatient.calls.create(to="+8613800000001", from_="+8610123456", url="https://x.example/")
    [call] = rest.calls
    assert call["to"] == "+8613800000001"
    # Reads are not delayed: the caller can find what was created.
    listed = impatient.calls.list(to="+8613800000001")
    assert [c.sid for c in listed] == [call["sid"]]
