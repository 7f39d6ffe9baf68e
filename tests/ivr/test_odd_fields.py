"""Long or odd webhook fields: a clear 400 for what Twilio never sends, and for what a caller
cannot help (a SIP caller ID, a NUL byte) a call that goes on, stored within the columns.

These answered 500 on PostgreSQL, which refuses NUL bytes, over-long values and ids beyond its
integer; run them with --database postgresql too.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from cases.models import Call, CaseEvent, Recording
from hotline.db import db
from outreach.models import OutboundMessage
from tests.conftest import HOTLINE_NUMBER
from tests.ivr.test_phone_line import (
    CALLER,
    Poster,
    add_resident,
    count,
    only_case,
    speech_wav,
    transcribe,
)
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Hangup, Press, Speak
from twilio_double.simulator import CallSimulator

SIP_CALLER = f"sip:{CALLER}@hotline-zh.sip.twilio.com"  # 48 characters; the column holds 32
CALL_SID = "CA" + "5" * 32
RECORDING_SID = "RE" + "5" * 32
WELCOME = "您好，这里是社区热线。"


def the_call(app: Flask) -> Call:
    with app.app_context():
        [call] = db.session.scalars(select(Call)).all()
        db.session.expunge(call)
        return call


def test_a_sip_caller_is_a_caller_whose_message_opens_a_case(
    app: Flask, phone: CallSimulator
) -> None:
    add_resident(app)  # the number inside the SIP address is a resident's: still nobody we know
    result = phone.call(
        from_=SIP_CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("1"), Speak(speech_wav())],
        url="/ivr/incoming",
    )
    assert result.application_error is None
    assert result.said[0] == WELCOME  # not greeted by the resident's name
    assert result.said[-1].startswith("谢谢您，留言已经收到。")
    call = the_call(app)
    assert call.from_phone == SIP_CALLER[:32] and call.resident_id is None
    transcribe(app)
    case = only_case(app)
    assert case.phone == "" and case.resident_id is None  # no number to text or call back
    assert count(app, OutboundMessage) == 0


def test_a_to_longer_than_its_column_still_gets_the_menu(app: Flask, signed_post: Poster) -> None:
    response = signed_post(
        "/ivr/incoming", {"CallSid": CALL_SID, "From": CALLER, "To": "+86" + "1" * 40}
    )
    assert response.status_code == 200 and b"<Gather" in response.data
    assert the_call(app).to_phone == ("+86" + "1" * 40)[:32]


def test_a_nul_byte_in_from_is_dropped_and_the_resident_greeted(
    app: Flask, signed_post: Poster
) -> None:
    add_resident(app, name="王秀英")
    response = signed_post(
        "/ivr/incoming", {"CallSid": CALL_SID, "From": CALLER + "\x00", "To": HOTLINE_NUMBER}
    )
    assert response.status_code == 200
    assert "王秀英" in response.get_data(as_text=True)
    assert the_call(app).from_phone == CALLER


def test_a_spaced_caller_number_is_stored_as_e164(app: Flask, signed_post: Poster) -> None:
    response = signed_post(
        "/ivr/incoming", {"CallSid": CALL_SID, "From": "+86 138 0000 0001", "To": HOTLINE_NUMBER}
    )
    assert response.status_code == 200
    assert the_call(app).from_phone == CALLER


def test_a_call_sid_twilio_never_sends_is_a_clear_400(app: Flask, signed_post: Poster) -> None:
    for call_sid in ("CA" + "1" * 70, "CA" + "z" * 32, "RE" + "1" * 32, "CA" + "1" * 31 + "\x00"):
        response = signed_post(
            "/ivr/incoming", {"CallSid": call_sid, "From": CALLER, "To": HOTLINE_NUMBER}
        )
        assert response.status_code == 400
        assert "CallSid" in response.get_json()["message"]
    assert count(app, Call) == 0


def test_a_follow_up_id_beyond_the_database_integer_is_not_found(signed_post: Poster) -> None:
    form = {"CallSid": CALL_SID, "Digits": "1", "RecordingSid": RECORDING_SID}
    for tail in ("", "/silence", "/answer", "/comment", "/comment-status", "/status"):
        assert signed_post(f"/ivr/survey/2147483648{tail}", form).status_code == 404
        assert signed_post(f"/ivr/survey/{'9' * 40}{tail}", form).status_code == 404
    largest = signed_post("/ivr/survey/2147483647", form)  # an id, of no follow-up
    assert largest.status_code == 200 and b"<Hangup" in largest.data


def recording_status(signed_post: Poster, duration: str) -> int:
    return signed_post(
        "/ivr/recording-status",
        {
            "CallSid": CALL_SID,
            "RecordingSid": RECORDING_SID,
            "RecordingStatus": "completed",
            "RecordingDuration": duration,
        },
    ).status_code


def test_an_infinite_recording_duration_is_kept_within_bounds(
    app: Flask, signed_post: Poster, rest: TwilioRestDouble
) -> None:
    rest.add_recording(CALL_SID, speech_wav(), sid=RECORDING_SID)
    assert recording_status(signed_post, "1e309") == 204
    with app.app_context():
        recording = db.session.scalar(select(Recording))
        assert recording is not None and recording.duration_s == 24 * 3600
    transcribe(app)
    with app.app_context():
        received = db.session.scalar(
            select(CaseEvent).where(CaseEvent.kind == "recording_received")
        )
        assert received is not None and received.detail["duration_s"] == 24 * 3600


def test_a_recording_duration_that_is_no_number_is_a_clear_400(
    app: Flask, signed_post: Poster
) -> None:
    for duration in ("nan", "forty", "1e309e"):
        assert recording_status(signed_post, duration) == 400
    assert recording_status(signed_post, "-5") == 204  # a number: kept within bounds, as 0
    with app.app_context():
        assert db.session.scalar(select(Recording.duration_s)) == 0


def test_keys_that_are_no_keys_are_asked_again(signed_post: Poster) -> None:
    for digits in ("1\x00", "１", "1" * 5000, "hangup"):
        response = signed_post("/ivr/menu/choice", {"CallSid": CALL_SID, "Digits": digits})
        assert response.status_code == 200
        assert "对不起，没有这个选项。" in response.get_data(as_text=True)


def test_a_hang_up_at_the_beep_is_still_told_apart(phone: CallSimulator, app: Flask) -> None:
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("1"), Speak(speech_wav()), Hangup()],
        url="/ivr/incoming",
    )
    [record] = result.requests_of("record")
    assert record.params["Digits"] == "hangup" and record.status == 200
    assert "留言已经收到" not in record.body  # nobody is left on the line to hear it
    assert count(app, Recording) == 1
