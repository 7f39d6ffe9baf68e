"""Reconciling with Twilio: a recording whose callbacks never reached the hotline is not lost.

Twilio (the simulator and the REST double) plays calls whose recording callbacks are lost on
the way (`LosingTransport`: the hotline was down, or answered with errors until Twilio gave
up). Beat's `reconcile_recordings` then finds the recordings in Twilio's list.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from cases.models import Call, CallBack, Case, Recording, RecordingPurpose, RecordingStatus
from hotline.db import db
from outreach.models import SurveyResponse
from tasks.recordings import reconcile_recordings, transcribe_recording
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, PUBLIC_URL, sign
from tests.outreach.conftest import Beat, Clock, events
from tests.outreach.test_survey_call import resolved_case, survey_call
from tests.speech.fakes import FakeRecognizer
from tests.tasks.test_voicemail import voice, wav_bytes
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Press, Silence, Speak
from twilio_double.simulator import CallSimulator
from twilio_double.transport import LosingTransport, WsgiTransport

CALLER = "+8613800000042"
SPEECH = wav_bytes(voice(3.0))  # as loud and as varied as a voice on the phone
RECORDING_CALLBACKS = r"/ivr/(recorded|recording-status)$|/comment(-status)?$"


@pytest.fixture
def lossy_phone(app: Flask, rest: TwilioRestDouble) -> CallSimulator:
    """Twilio calling the hotline; the recording callbacks get lost."""
    return CallSimulator(
        LosingTransport(WsgiTransport(app), RECORDING_CALLBACKS),
        public_base_url=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )


@pytest.fixture
def transcriptions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Transcriptions published to the broker, run by `transcribe_all`."""
    sent: list[int] = []
    monkeypatch.setattr(transcribe_recording, "delay", sent.append)
    return sent


def transcribe_all(published: list[int]) -> None:
    while published:
        transcribe_recording.apply(args=[published.pop(0)])
    db.session.expire_all()


def reconcile() -> int:
    return int(reconcile_recordings.apply().get() or 0)


def count(model: type[object]) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model)) or 0


def test_a_voicemail_whose_callbacks_were_lost_becomes_a_case_after_one_run(
    app: Flask,
    lossy_phone: CallSimulator,
    fake_recognizer: FakeRecognizer,
    transcriptions: list[int],
) -> None:
    fake_recognizer.reply = "楼道 的 灯 坏 了"
    lossy_phone.call(CALLER, HOTLINE_NUMBER, [Press("1"), Speak(SPEECH)], url="/ivr/incoming")
    with app.app_context():
        assert count(Recording) == 0  # nothing reached the hotline
        assert reconcile() == 1
        assert len(transcriptions) == 1
        transcribe_all(transcriptions)
        case = db.session.scalar(db.select(Case))
        assert case is not None and case.phone == CALLER
        assert case.transcript == "楼道 的 灯 坏 了"
        assert case.recording is not None and case.recording.available
        assert case.recording.purpose == RecordingPurpose.VOICEMAIL
        # Running again adds nothing.
        assert reconcile() == 0
        assert transcriptions == [] and count(Recording) == 1 and count(Case) == 1


def test_silence_whose_callbacks_were_lost_goes_on_the_call_back_list(
    app: Flask,
    lossy_phone: CallSimulator,
    fake_recognizer: FakeRecognizer,
    transcriptions: list[int],
) -> None:
    fake_recognizer.reply = ""
    lossy_phone.call(CALLER, HOTLINE_NUMBER, [Press("1"), Silence()], url="/ivr/incoming")
    with app.app_context():
        assert reconcile() == 1
        transcribe_all(transcriptions)
        [call_back] = db.session.scalars(db.select(CallBack)).all()
        assert call_back.phone == CALLER and count(Case) == 0


def test_a_call_the_hotline_never_saw_is_noted_with_its_message(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    transcriptions: list[int],
) -> None:
    """Twilio's fallback took the whole call (the hotline was down): only Twilio knows it."""
    fake_recognizer.reply = "水管 漏水"
    call = rest.add_call(HOTLINE_NUMBER, CALLER)
    rest.add_recording(call["sid"], SPEECH)
    other = rest.add_call("+8610999999", CALLER)  # another number of the same account
    rest.add_recording(other["sid"], SPEECH)
    with app.app_context():
        assert reconcile() == 1
        [noted] = db.session.scalars(db.select(Call)).all()
        assert (noted.call_sid, noted.from_phone, noted.to_phone) == (
            call["sid"],
            CALLER,
            HOTLINE_NUMBER,
        )
        transcribe_all(transcriptions)
        case = db.session.scalar(db.select(Case))
        assert case is not None and case.phone == CALLER and case.call_id == noted.id
        assert reconcile() == 0


def test_a_sip_caller_the_hotline_never_saw_is_kept_as_the_phone_line_keeps_it(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    transcriptions: list[int],
) -> None:
    sip_caller = f"sip:{CALLER}@hotline-zh.sip.twilio.com"  # longer than the column
    call = rest.add_call(HOTLINE_NUMBER, sip_caller)
    rest.add_recording(call["sid"], SPEECH)
    with app.app_context():
        assert reconcile() == 1
        [noted] = db.session.scalars(db.select(Call)).all()
        assert noted.from_phone == sip_caller[:32]
        transcribe_all(transcriptions)
        case = db.session.scalar(db.select(Case))
        assert case is not None and case.phone == ""  # no number to text back


def test_a_recording_still_in_progress_is_left_for_a_later_run(
    app: Flask, rest: TwilioRestDouble, transcriptions: list[int]
) -> None:
    call = rest.add_call(HOTLINE_NUMBER, CALLER)
    sid = rest.add_recording(call["sid"], SPEECH, status="in-progress")
    with app.app_context():
        assert reconcile() == 0
        assert count(Recording) == 0 and transcriptions == []
        rest.set_recording_status(sid, "completed", duration=2)
        assert reconcile() == 1 and len(transcriptions) == 1


def test_a_late_callback_after_the_run_lands_on_the_same_recording(
    app: Flask,
    rest: TwilioRestDouble,
    lossy_phone: CallSimulator,
    transcriptions: list[int],
) -> None:
    lossy_phone.call(CALLER, HOTLINE_NUMBER, [Press("1"), Speak(SPEECH)], url="/ivr/incoming")
    [recording] = rest.recordings
    with app.app_context():
        assert reconcile() == 1
    params = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": recording["call_sid"],
        "RecordingSid": recording["sid"],
        "RecordingStatus": "completed",
        "RecordingDuration": "2",
    }
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL + "/ivr/recording-status", params)}
    late = app.test_client().post("/ivr/recording-status", data=params, headers=headers)
    assert late.status_code == 204
    with app.app_context():
        assert count(Recording) == 1 and len(transcriptions) == 1


def test_a_survey_comment_whose_callbacks_were_lost_reaches_the_case(
    app: Flask,
    rest: TwilioRestDouble,
    beat: Beat,
    clock: Clock,
    lossy_phone: CallSimulator,
    fake_recognizer: FakeRecognizer,
) -> None:
    fake_recognizer.reply = "灯 还是 不亮"
    with app.app_context():
        case = resolved_case(clock)
        call = survey_call(rest, beat, clock)
        lossy_phone.answer(call, [Press("3"), Speak(SPEECH)])
        [response] = db.session.scalars(db.select(SurveyResponse)).all()
        assert response.comment_recording_sid is None  # the comment never reached us
        clock.moment = datetime.now(UTC)  # Twilio's list is on the real clock
        assert reconcile_recordings.apply().get() == 1
        beat.work()
        db.session.expire_all()
        [comment] = events(case.id, "survey_comment")
        assert comment.detail["transcript"] == "灯 还是 不亮"
        recording = db.session.scalar(db.select(Recording))
        assert recording is not None and recording.purpose == RecordingPurpose.SURVEY_COMMENT
        assert recording.status == RecordingStatus.TRANSCRIBED
        assert reconcile_recordings.apply().get() == 0
