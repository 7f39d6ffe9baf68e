"""An emergency nobody on duty answers is told the number of the centre's country, in the
caller's language: 120 in a Chinese centre even in English, 911 in an American one even in
Chinese, and HOTLINE_EMERGENCY_NUMBERS wherever the centre sets it."""

from __future__ import annotations

import pytest
from flask import Flask

from cases.models import Resident
from hotline.config import Settings
from hotline.db import db
from hotline.settings import EXTENSION_KEY
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, ON_DUTY, PUBLIC_URL
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Hangup, Press
from twilio_double.simulator import CallSimulator
from twilio_double.transport import WsgiTransport

CALLER = "+12015550188"
US_CENTRE = {"HOTLINE_NUMBER": "+12015550123", "HOTLINE_DEFAULT_LOCALE": "en-US"}


def set_centre(app: Flask, env: dict[str, str], overrides: dict[str, str]) -> None:
    settings: Settings = app.extensions[EXTENSION_KEY]
    keep = {"HOTLINE_DATABASE_URL": settings.database_url}  # down_app's stays unreachable
    app.extensions[EXTENSION_KEY] = Settings.from_env({**env, **keep, **overrides})


def add_caller(app: Flask, language: str) -> None:
    with app.app_context():
        db.session.add(Resident(phone=CALLER, name="Resident", language=language))
        db.session.commit()


@pytest.mark.parametrize(
    ("centre", "language", "told"),
    [
        ({}, "en-US", "hang up now and call 120 for an ambulance or 119 for a fire."),
        (US_CENTRE, "zh-CN", "如有生命危险，请马上挂机，拨打911。"),
        (US_CENTRE, "ko-KR", "생명이 위험하면 바로 끊고 911에 전화하세요."),
        ({"HOTLINE_EMERGENCY_NUMBERS": "999"}, "zh-CN", "请马上挂机，拨打999。"),
        ({"HOTLINE_EMERGENCY_NUMBERS": "999"}, "en-US", "hang up now and call 999."),
    ],
)
def test_an_unanswered_emergency_is_told_the_number_of_the_centres_country(
    app: Flask,
    env: dict[str, str],
    phone: CallSimulator,
    centre: dict[str, str],
    language: str,
    told: str,
) -> None:
    set_centre(app, env, centre)
    add_caller(app, language)
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("9"), Hangup()],
        url="/ivr/incoming",
        dial_outcomes={ON_DUTY: "no-answer"},
    )
    assert result.dialed == [ON_DUTY]
    assert any(told in said for said in result.said), result.said


def test_a_centre_without_on_duty_numbers_tells_its_own_number_too(
    app: Flask, env: dict[str, str], phone: CallSimulator
) -> None:
    set_centre(app, env, {**US_CENTRE, "HOTLINE_ON_DUTY_NUMBERS": ""})
    add_caller(app, "zh-CN")
    result = phone.call(CALLER, HOTLINE_NUMBER, [Press("9"), Hangup()], url="/ivr/incoming")
    assert result.dialed == []
    assert any("拨打911。" in said for said in result.said), result.said
    assert not any("120" in said or "119" in said for said in result.said)


def test_the_line_without_its_database_tells_the_centres_number_too(
    down_app: Flask, env: dict[str, str], rest: TwilioRestDouble
) -> None:
    set_centre(down_app, env, US_CENTRE | {"HOTLINE_DEFAULT_LOCALE": "zh-CN"})
    phone = CallSimulator(
        WsgiTransport(down_app),
        public_base_url=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )
    result = phone.call(
        CALLER,
        HOTLINE_NUMBER,
        [Press("9"), Hangup()],
        url="/ivr/incoming",
        dial_outcomes={ON_DUTY: "no-answer"},
    )
    assert result.dialed == [ON_DUTY]
    assert any("请马上挂机，拨打911。" in said for said in result.said), result.said
