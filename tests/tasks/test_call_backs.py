"""A message with no speech in it opens no case: it goes on the call-back list.

The audio is real, generated here (silence, steady noise, sound that rises and falls); the
recognizer is the unit tests' fake, told what it "hears". Its default answer is confident
words, so a test that leaves it alone shows that the loudness alone decided.
"""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
import soundfile as sf
from flask import Flask
from sqlalchemy import func, select

from cases import intake, services
from cases.models import (
    CallBack,
    CallBackReason,
    CallBackStatus,
    Case,
    Recording,
    RecordingStatus,
    Resident,
)
from cases.recordings import note_recording_status
from hotline.clock import CLOCK_KEY, now
from hotline.db import db
from outreach.models import OutboundMessage
from speech import Transcript
from tasks.recordings import requeue_stalled_recordings, transcribe_recording
from tests.conftest import HOTLINE_NUMBER
from tests.speech.fakes import FakeRecognizer, transcript_of
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Silence
from twilio_double.simulator import CallSimulator

RESIDENT = "+8613800000001"
STRANGER = "+8613900000077"
RATE = 8000


def wav(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples.astype(np.int16), RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def silence(seconds: float = 10.0) -> bytes:
    """What <Record> keeps of a caller who says nothing: the line's faint hiss (-70 dBFS)."""
    return wav(np.random.default_rng(3).normal(0, 8, int(seconds * RATE)))


def noise(seconds: float = 4.0) -> bytes:
    """A fan or a hum of the line: loud as a voice, steady, nothing said."""
    rng = np.random.default_rng(1)
    return wav(rng.normal(0, 3000, int(seconds * RATE)).clip(-32000, 32000))


def babble(seconds: float = 4.0) -> bytes:
    """Sound that rises and falls like a voice (a television in the next room): only the
    recognizer can tell whether anything was said."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(2)
    return wav(rng.normal(0, 3000, len(t)) * np.abs(np.sin(2 * np.pi * 2 * t)))


def add_resident(phone: str = RESIDENT) -> None:
    db.session.add(Resident(phone=phone, name="王秀英", grid="A1", language="zh-CN"))
    db.session.commit()


def left_message(rest: TwilioRestDouble, audio: bytes, phone: str = RESIDENT) -> int:
    """A call from `phone` whose recording Twilio has ready; the recording's id."""
    call = services.record_call("CA" + phone[-8:] * 4, phone, HOTLINE_NUMBER, "inbound", "zh-CN")
    sid = rest.add_recording(call.call_sid, audio)
    recording, _ = intake.note_voicemail(sid, call.call_sid, "zh-CN")
    note_recording_status(recording, "completed", 10)
    return recording.id


def transcribe(recording_id: int) -> None:
    transcribe_recording.apply(args=[recording_id])
    db.session.expire_all()


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_silence_from_a_resident_is_an_urgent_call_back_and_no_case(
    app: Flask, rest: TwilioRestDouble, fake_recognizer: FakeRecognizer
) -> None:
    with app.app_context():
        add_resident()
        recording_id = left_message(rest, silence())
        transcribe(recording_id)
        [call_back] = db.session.scalars(select(CallBack)).all()
        assert (call_back.reason, call_back.status) == (CallBackReason.SILENCE, CallBackStatus.OPEN)
        assert call_back.urgent and call_back.phone == RESIDENT
        assert call_back.resident is not None and call_back.resident.name == "王秀英"
        assert call_back.recording_id == recording_id and call_back.call is not None
        assert count(Case) == 0 and count(OutboundMessage) == 0  # no case, no case number
        recording = db.session.get(Recording, recording_id)
        assert recording is not None and recording.status == RecordingStatus.TRANSCRIBED
        assert recording.file_path  # kept, for staff to listen to
        assert fake_recognizer.heard == []  # its confident words were never asked for


def test_silence_from_an_unknown_number_is_a_call_back_but_not_urgent(
    app: Flask, rest: TwilioRestDouble
) -> None:
    with app.app_context():
        transcribe(left_message(rest, silence(), phone=STRANGER))
        [call_back] = db.session.scalars(select(CallBack)).all()
        assert not call_back.urgent and call_back.resident is None
        assert call_back.phone == STRANGER
        assert count(Case) == 0 and count(OutboundMessage) == 0


def test_steady_noise_is_a_call_back_whatever_a_recognizer_makes_of_it(
    app: Flask, rest: TwilioRestDouble, fake_recognizer: FakeRecognizer
) -> None:
    fake_recognizer.reply = transcript_of("A", conf=0.84)  # Vosk's Korean model, on white noise
    with app.app_context():
        add_resident()
        transcribe(left_message(rest, noise()))
        [call_back] = db.session.scalars(select(CallBack)).all()
        assert call_back.reason == CallBackReason.NOISE and call_back.urgent
        assert count(Case) == 0 and count(OutboundMessage) == 0
        assert fake_recognizer.heard == []


@pytest.mark.parametrize(
    "heard",
    [transcript_of(""), transcript_of("嗯 啊", conf=0.3)],
    ids=["no-words", "only-guesses"],
)
def test_sound_without_a_word_heard_for_sure_is_a_call_back(
    app: Flask, rest: TwilioRestDouble, fake_recognizer: FakeRecognizer, heard: Transcript
) -> None:
    fake_recognizer.reply = heard
    with app.app_context():
        recording_id = left_message(rest, babble(), phone=STRANGER)
        transcribe(recording_id)
        [call_back] = db.session.scalars(select(CallBack)).all()
        assert call_back.reason == CallBackReason.NOISE and not call_back.urgent
        assert count(Case) == 0 and count(OutboundMessage) == 0
        assert len(fake_recognizer.heard) == 1
        transcribe(recording_id)  # a redelivered task changes nothing
        assert count(CallBack) == 1 and len(fake_recognizer.heard) == 1


def test_the_same_sound_with_words_heard_for_sure_opens_a_case(
    app: Flask, rest: TwilioRestDouble, fake_recognizer: FakeRecognizer
) -> None:
    fake_recognizer.reply = transcript_of("楼道 的 灯 坏 了", conf=0.9)
    with app.app_context():
        transcribe(left_message(rest, babble()))
        [case] = db.session.scalars(select(Case)).all()
        assert case.transcript == "楼道 的 灯 坏 了" and count(CallBack) == 0
        assert db.session.scalar(select(OutboundMessage.purpose)) == "case_number"


def test_noise_whose_case_opened_while_it_was_late_fills_in_that_case(
    app: Flask, rest: TwilioRestDouble, fake_recognizer: FakeRecognizer
) -> None:
    fake_recognizer.reply = ""
    with app.app_context():
        recording_id = left_message(rest, noise())
        start = now()
        app.extensions[CLOCK_KEY] = lambda: start + timedelta(minutes=6)
        requeue_stalled_recordings.apply()  # the transcript is late: the case opens without it
        transcribe(recording_id)
        [case] = db.session.scalars(select(Case)).all()
        assert case.no_speech and "listen to the recording" in case.error
        assert count(CallBack) == 0 and count(OutboundMessage) == 1


def test_a_caller_who_stays_silent_reaches_the_beep_and_the_call_back_list(
    app: Flask, phone: CallSimulator
) -> None:
    with app.app_context():
        add_resident()
    result = phone.call(
        from_=RESIDENT, to=HOTLINE_NUMBER, script=[Silence()] * 4, url="/ivr/incoming"
    )
    assert len(result.recordings) == 1  # the ten seconds of silence that end <Record>
    with app.app_context():
        [recording] = db.session.scalars(select(Recording)).all()
        transcribe(recording.id)
        [call_back] = db.session.scalars(select(CallBack)).all()
        assert call_back.urgent and call_back.reason == CallBackReason.SILENCE
        assert count(Case) == 0 and count(OutboundMessage) == 0
