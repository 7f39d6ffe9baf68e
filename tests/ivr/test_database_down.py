"""The phone line while its database does not answer: every caller is answered, nothing is lost.

`down_app` is the same hotline (data directory, Twilio) pointed at a database that refuses
the connection: a missing SQLite folder, or a closed PostgreSQL port. `app` is the hotline
once the database is back; it stores what the spool kept.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from cases.models import Call, Case, CaseSource, Recording, Urgency
from hotline import spool
from hotline.db import db
from outreach.models import OutboundMessage
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    HOTLINE_NUMBER,
    ON_DUTY,
    PUBLIC_URL,
    DatabaseGoesDown,
    sign,
)
from tests.ivr.test_phone_line import CALLER, count, speech_wav, transcribe
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Press, Silence, Speak
from twilio_double.simulator import CallResult, CallSimulator
from twilio_double.transport import WsgiTransport

CALL = {"CallSid": "CA" + "5" * 32, "From": CALLER, "To": HOTLINE_NUMBER, "AccountSid": ACCOUNT_SID}
MESSAGE_RECEIVED = "谢谢您，留言已经收到。我们会用短信把事项编号发给您。再见。"


def post(app: Flask, path: str, fields: dict[str, str] | None = None) -> TestResponse:
    params = {**CALL, **(fields or {})}
    signature = sign(PUBLIC_URL + path, params)
    return app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})


def simulator(wsgi: object, rest: TwilioRestDouble) -> CallSimulator:
    return CallSimulator(
        WsgiTransport(wsgi),
        public_base_url=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )


def data_dir(app: Flask) -> Path:
    path: Path = app.extensions["hotline.settings"].data_dir
    return path


def in_default_language(result: CallResult) -> bool:
    return bool(result.says) and all(say.language == "zh-CN" for say in result.says)


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/ivr/incoming", {}),
        ("/ivr/menu", {}),
        ("/ivr/menu/silence", {}),
        ("/ivr/menu/choice", {"Digits": "1"}),
        ("/ivr/menu/choice", {"Digits": "2"}),
        ("/ivr/status/lookup", {"Digits": "10001"}),
        ("/ivr/person/done", {"DialCallStatus": "no-answer"}),
        ("/ivr/emergency/done", {"DialCallStatus": "no-answer"}),
        ("/ivr/fallback", {"ErrorCode": "11200", "ErrorUrl": f"{PUBLIC_URL}/ivr/incoming"}),
    ],
)
def test_every_voice_webhook_answers_a_message_in_the_default_language(
    down_app: Flask, path: str, fields: dict[str, str]
) -> None:
    response = post(down_app, path, fields)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    twiml = ET.fromstring(response.get_data())
    says = twiml.findall(".//Say")
    assert says and all(say.get("language") == "zh-CN" for say in says)
    [record] = twiml.findall("Record")
    assert record.get("action") == "/ivr/recorded"
    assert record.get("recordingStatusCallback") == f"{PUBLIC_URL}/ivr/recording-status"


def test_webhooks_are_still_signature_checked_without_the_database(down_app: Flask) -> None:
    for path in ("/ivr/incoming", "/ivr/fallback", "/ivr/recording-status"):
        response = down_app.test_client().post(path, data=CALL)  # no signature
        assert response.status_code == 403
    assert spool.waiting(data_dir(down_app)) == []


def test_a_message_left_while_the_database_is_down_becomes_one_case_once_it_is_back(
    app: Flask, down_app: Flask, rest: TwilioRestDouble
) -> None:
    result = simulator(down_app, rest).call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Silence(), Speak(speech_wav())],
        url="/ivr/incoming",
    )
    assert result.application_error is None and in_default_language(result)
    assert len(result.recordings) == 1 and result.said[-1] == MESSAGE_RECEIVED
    assert [r.status for r in result.requests_of("recording-status")] == [204]
    kept = spool.waiting(data_dir(app))
    assert len(kept) == 2  # the <Record> action and the recording's status callback
    copies = [shutil.copy(path, path.with_suffix(".copy")) for path in kept]

    assert spool.replay(app) == spool.Replay(stored=2)
    assert spool.waiting(data_dir(app)) == []
    transcribe(app)
    with app.app_context():
        [case] = db.session.scalars(select(Case)).all()
        assert case.source == CaseSource.VOICEMAIL and case.phone == CALLER
        [text] = db.session.scalars(select(OutboundMessage)).all()
        assert text.to_phone == CALLER and case.number in text.body

    for copy in copies:  # the same two webhooks again: a replay after a crash, say
        Path(copy).rename(Path(copy).with_suffix(".json"))
    assert spool.replay(app) == spool.Replay(stored=2)
    transcribe(app)
    assert count(app, Recording) == 1 and count(app, Case) == 1
    assert count(app, OutboundMessage) == 1


def test_nine_dials_the_on_duty_numbers_and_the_emergency_case_opens_once_the_database_is_back(
    app: Flask, down_app: Flask, rest: TwilioRestDouble
) -> None:
    phone = simulator(down_app, rest)
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("9"), Speak(speech_wav())],
        url="/ivr/incoming",
        dial_outcomes={ON_DUTY: "no-answer"},
    )
    assert result.application_error is None and in_default_language(result)
    assert result.dialed == [ON_DUTY] and result.dials[0].caller_id == HOTLINE_NUMBER
    assert any("拨打120急救" in text for text in result.said)  # nobody answered: told what to do
    assert len(result.recordings) == 1

    assert spool.replay(app).stored == 3  # the key 9, the message and its status
    with app.app_context():
        [case] = db.session.scalars(select(Case)).all()
        assert (case.source, case.urgency) == (CaseSource.EMERGENCY_CALL, Urgency.EMERGENCY)
        assert case.phone == CALLER
        assert db.session.scalar(select(Recording.case_id)) == case.id  # the message joined it
        alerts = select(OutboundMessage).where(OutboundMessage.to_phone == ON_DUTY)
        assert len(db.session.scalars(alerts).all()) == 1


def test_the_database_going_down_during_a_call_loses_nothing(
    app: Flask, down_app: Flask, rest: TwilioRestDouble
) -> None:
    """Up for the menu, down when the message is in: the caller hears the same thanks."""
    goes_down = DatabaseGoesDown(app, down_app, lambda path: path.startswith("/ivr/record"))
    result = simulator(goes_down, rest).call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("1"), Speak(speech_wav())],
        url="/ivr/incoming",
    )
    assert result.application_error is None and result.said[-1] == MESSAGE_RECEIVED
    assert count(app, Call) == 1 and count(app, Recording) == 0
    assert spool.replay(app).stored == 2
    transcribe(app)
    assert count(app, Case) == 1


def test_nothing_is_stored_while_the_database_is_still_down(
    down_app: Flask, rest: TwilioRestDouble
) -> None:
    simulator(down_app, rest).call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("1"), Speak(speech_wav())],
        url="/ivr/incoming",
    )
    assert spool.replay(down_app) == spool.Replay(waiting=2)
    assert len(spool.waiting(data_dir(down_app))) == 2


def test_healthz_says_the_database_is_down_and_what_waits(
    app: Flask, down_app: Flask, rest: TwilioRestDouble
) -> None:
    assert app.test_client().get("/healthz").json == {
        "status": "ok",
        "database": "ok",
        "spooled": 0,
    }
    post(down_app, "/ivr/recording-status", {"RecordingSid": "RE" + "5" * 32})
    answer = down_app.test_client().get("/healthz")
    # Still 200: this process answers calls, and a load balancer must keep sending them.
    assert answer.status_code == 200
    assert answer.json == {"status": "degraded", "database": "unreachable", "spooled": 1}
