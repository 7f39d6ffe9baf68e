"""The emergency key, pressed or delivered several times at once: one case, one alert each."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from cases.models import Case, CaseSource
from hotline.db import db
from outreach.models import OutboundMessage
from tests.conftest import HOTLINE_NUMBER, ON_DUTY, PUBLIC_URL, hotline_app, sign

CALLER = "+8613800000001"
SECOND_ON_DUTY = "+8613900000008"
CALL_SID = "CA" + "9" * 32
DELIVERIES = 6


@pytest.fixture
def app(env: dict[str, str]) -> Iterator[Flask]:
    """Two people on duty, so that "one alert each" is more than one text."""
    with hotline_app({**env, "HOTLINE_ON_DUTY_NUMBERS": f"{ON_DUTY},{SECOND_ON_DUTY}"}) as app:
        yield app


def post(app: Flask, path: str, **fields: str) -> tuple[int, str]:
    form = {"CallSid": CALL_SID, "From": CALLER, "To": HOTLINE_NUMBER, **fields}
    response = app.test_client().post(
        path, data=form, headers={"X-Twilio-Signature": sign(PUBLIC_URL + path, form)}
    )
    return response.status_code, response.get_data(as_text=True)


def test_nine_delivered_several_times_at_once_opens_one_case_and_alerts_once(app: Flask) -> None:
    assert post(app, "/ivr/incoming")[0] == 200
    answers: list[tuple[int, str]] = []
    start = threading.Barrier(DELIVERIES)

    def press_nine() -> None:
        start.wait()
        answers.append(post(app, "/ivr/menu/choice", Digits="9"))

    threads = [threading.Thread(target=press_nine) for _ in range(DELIVERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [status for status, _ in answers] == [200] * DELIVERIES
    assert all(f"<Number>{ON_DUTY}</Number>" in twiml for _, twiml in answers)  # every one dials
    with app.app_context():
        emergencies = db.session.scalars(
            select(Case).where(Case.source == CaseSource.EMERGENCY_CALL)
        ).all()
        assert len(emergencies) == 1
        alerted = db.session.execute(
            select(OutboundMessage.to_phone, func.count())
            .where(OutboundMessage.purpose == "emergency_alert")
            .group_by(OutboundMessage.to_phone)
        ).all()
        assert sorted(alerted) == [(SECOND_ON_DUTY, 1), (ON_DUTY, 1)]
