"""A text that reads as an emergency is told the emergency number of the centre's country, in
the language of the text: 120 or 119 in a Chinese centre even in English, 911 in an American
one even in Chinese; HELP names the same number. Also while the database does not answer."""

from __future__ import annotations

import pytest
from flask import Flask

from hotline.config import Settings
from hotline.settings import EXTENSION_KEY
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from tests.sms.helpers import add_resident, text
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator
from twilio_double.transport import WsgiTransport

US_CENTRE = {"HOTLINE_NUMBER": "+12015550123"}
FELL_ZH = "我妈摔倒了，起不来，快来人"
FELL_EN = "My mother fell and cannot get up, please help"


def set_centre(app: Flask, env: dict[str, str], overrides: dict[str, str]) -> None:
    settings: Settings = app.extensions[EXTENSION_KEY]
    keep = {"HOTLINE_DATABASE_URL": settings.database_url}  # down_app's stays unreachable
    app.extensions[EXTENSION_KEY] = Settings.from_env({**env, **keep, **overrides})


@pytest.mark.parametrize(
    ("centre", "language", "body", "told"),
    [
        ({}, "en-US", FELL_EN, "If a life is in danger, call 120 or 119 now."),
        (US_CENTRE, "zh-CN", FELL_ZH, "如有生命危险，请立即拨打911。"),
        (US_CENTRE, "ko-KR", FELL_ZH, "생명이 위험하면 바로 911에 전화하세요."),
        ({**US_CENTRE, "HOTLINE_ON_DUTY_NUMBERS": ""}, "zh-CN", FELL_ZH, "请立即拨打911。工作人员"),
        ({"HOTLINE_EMERGENCY_NUMBERS": "999"}, "en-US", FELL_EN, "call 999 now."),
    ],
)
def test_an_emergency_text_is_told_the_number_of_the_centres_country(
    app: Flask,
    env: dict[str, str],
    phone: CallSimulator,
    centre: dict[str, str],
    language: str,
    body: str,
    told: str,
) -> None:
    set_centre(app, env, centre)
    add_resident(app, language=language)
    reply = text(phone, body)
    assert told in reply
    if centre:
        assert "120" not in reply and "119" not in reply


@pytest.mark.parametrize(
    ("centre", "told"),
    [({}, "Emergency: call 120 or 119."), (US_CENTRE, "Emergency: call 911.")],
)
def test_help_names_the_centres_emergency_number(
    app: Flask, env: dict[str, str], phone: CallSimulator, centre: dict[str, str], told: str
) -> None:
    set_centre(app, env, centre)
    assert text(phone, "HELP").endswith(told)


def test_an_emergency_text_during_an_outage_is_told_the_centres_number(
    down_app: Flask, env: dict[str, str], rest: TwilioRestDouble
) -> None:
    set_centre(down_app, env, US_CENTRE)
    down_phone = CallSimulator(
        WsgiTransport(down_app),
        public_base_url=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )
    reply = text(down_phone, "어머니가 넘어졌어요. 일어나지 못해요")
    assert reply.startswith("주민센터 민원 상담: 생명이 위험하면 바로 911에 전화하세요.")
