"""Words staff cannot rely on (noise, silence, the recognizer's guesses) come with a note for
staff to listen to the recording, on the case page and in the API, in their language.

A voicemail without speech opens no case (tests/tasks/test_call_backs.py); these are the
transcripts that are kept anyway: the message after an emergency call, a survey comment, and a
message with speech in it whose words the recognizer mostly guessed at.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accounts.models import Role
from cases import intake, services
from cases.api_tokens import create_token
from cases.models import (
    CallBack,
    CallBackReason,
    Case,
    CaseSource,
    CaseStatus,
    Recording,
    RecordingPurpose,
    TranscriptProblem,
)
from cases.recordings import note_recording, note_recording_status
from hotline.db import db
from speech import Transcript, Word
from tasks.recordings import transcribe_recording
from tests.accounts.conftest import make_user
from tests.conftest import HOTLINE_NUMBER
from tests.speech.fakes import FakeRecognizer, transcript_of
from tests.tasks.test_call_backs import noise, wav
from twilio_double.rest import TwilioRestDouble

CALLER = "+8613800000001"
WHITE_NOISE_A = transcript_of("A", conf=0.84)  # what Vosk's Korean model hears in white noise
NOTE = {
    "zh-CN": "录音里没有清楚的说话声",
    "en-US": "No clear speech in the recording",
    "ko-KR": "녹음에서 말소리가 분명하지 않습니다",
}
COMMENT_NOTE = {
    "zh-CN": "没有清楚的说话声，请收听录音",
    "en-US": "No clear speech: listen to it",
    "ko-KR": "말소리가 분명하지 않습니다. 녹음을 직접 들어 주세요",
}


def speech_like(seconds: float = 3.0) -> bytes:
    """Loud sound that rises and falls as a voice does: only the words can say more."""
    t = np.arange(int(seconds * 8000)) / 8000
    return wav(3000 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2)


def mostly_guessed() -> Transcript:
    """One word the recognizer is sure of (so it is speech), the rest guesses: mean 0.46."""
    confidences = [0.9, 0.35, 0.3, 0.4, 0.35]
    words = [Word(f"词{i}", conf, i * 0.5, i * 0.5 + 0.4) for i, conf in enumerate(confidences)]
    return Transcript("词0 词1 词2 词3 词4", words, 3.0, "fake", 8000)


def call_from_caller() -> str:
    return services.record_call(
        "CA" + "3" * 32, CALLER, HOTLINE_NUMBER, "inbound", "zh-CN"
    ).call_sid


def transcribe(recording_id: int) -> None:
    transcribe_recording.apply(args=[recording_id])
    db.session.expire_all()


def voicemail(rest: TwilioRestDouble, audio: bytes, call_sid: str) -> int:
    sid = rest.add_recording(call_sid, audio)
    recording, _ = intake.note_voicemail(sid, call_sid, "zh-CN")
    note_recording_status(recording, "completed", 4)
    return recording.id


def emergency_message_of(rest: TwilioRestDouble, audio: bytes) -> Case:
    """The caller pressed 9, nobody answered, and the message left joined the emergency case."""
    call_sid = call_from_caller()
    call = services.find_call(call_sid)
    assert call is not None
    case, _ = intake.open_emergency_case(call)
    transcribe(voicemail(rest, audio, call_sid))
    db.session.refresh(case)
    return case


def staff_in_every_language() -> dict[str, str]:
    for username, locale in (("wang", "zh-CN"), ("li", "en-US"), ("kim", "ko-KR")):
        make_user(username, Role.STAFF, language=locale)
    return {"zh-CN": "wang", "en-US": "li", "ko-KR": "kim"}


def test_white_noise_after_an_emergency_call_gets_a_note_for_staff_in_their_language(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    login: Callable[[str], FlaskClient],
) -> None:
    fake_recognizer.reply = WHITE_NOISE_A
    with app.app_context():
        case = emergency_message_of(rest, noise(10.0))
        assert case.source == CaseSource.EMERGENCY_CALL and case.transcript == "A"
        assert case.problem == TranscriptProblem.UNCLEAR
        assert "No clear speech" in case.error  # for operators, with the figure
        assert db.session.scalar(select(CallBack)) is None  # the case stands: no call-back
        users = staff_in_every_language()
        token = create_token("dashboard")
        case_id = case.id
    for locale, username in users.items():
        page = login(username).get(f"/cases/{case_id}").get_data(as_text=True)
        assert NOTE[locale] in page, locale
    answer = app.test_client().get(
        f"/api/cases/{case_id}", headers={"Authorization": f"Bearer {token}"}
    )
    body = answer.get_json()
    assert body["problem"] == "unclear" and body["speech_confidence"] == 0.84
    assert all(NOTE[locale] in body["problem_notes"][locale] for locale in NOTE)


def test_a_message_the_recognizer_mostly_guessed_at_opens_its_case_with_the_note(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    login: Callable[[str], FlaskClient],
) -> None:
    fake_recognizer.reply = mostly_guessed()
    with app.app_context():
        transcribe(voicemail(rest, speech_like(), call_from_caller()))
        case = db.session.scalar(select(Case))
        assert case is not None and case.status == CaseStatus.NEW  # speech: a case, as before
        assert case.problem == TranscriptProblem.UNCLEAR
        assert "mean word confidence 0.46" in case.error
        make_user("li", Role.STAFF, language="en-US")
        case_id = case.id
    page = login("li").get(f"/cases/{case_id}").get_data(as_text=True)
    assert NOTE["en-US"] in page


def test_a_clear_message_has_no_note(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    login: Callable[[str], FlaskClient],
) -> None:
    fake_recognizer.reply = transcript_of("电梯 坏 了", conf=0.92)
    with app.app_context():
        transcribe(voicemail(rest, speech_like(), call_from_caller()))
        case = db.session.scalar(select(Case))
        assert case is not None and case.problem is None and case.error == ""
        make_user("li", Role.STAFF, language="en-US")
        token = create_token("dashboard")
        case_id = case.id
    page = login("li").get(f"/cases/{case_id}").get_data(as_text=True)
    assert NOTE["en-US"] not in page and 'id="case-error"' not in page
    body = app.test_client().get(
        f"/api/cases/{case_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert body.get_json()["problem"] is None and body.get_json()["problem_notes"] == {}
    assert body.get_json()["speech_confidence"] == 0.92


def test_a_survey_comment_of_noise_is_marked_for_staff(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    login: Callable[[str], FlaskClient],
) -> None:
    fake_recognizer.reply = WHITE_NOISE_A
    with app.app_context():
        case = Case(source=CaseSource.VOICEMAIL, phone=CALLER, locale="zh-CN")
        db.session.add(case)
        db.session.commit()
        sid = rest.add_recording("CA" + "4" * 32, noise(6.0))
        comment, _ = note_recording(case, sid, RecordingPurpose.SURVEY_COMMENT, "zh-CN")
        note_recording_status(comment, "completed", 6)
        transcribe(comment.id)
        recording = db.session.scalar(select(Recording))
        assert recording is not None and recording.problem == TranscriptProblem.UNCLEAR
        assert case.problem is None  # the case's own message is not in question
        [event] = [e for e in case.events if e.kind == "survey_comment"]
        assert event.detail["problem"] == "unclear" and event.detail["confidence"] == 0.84
        users = staff_in_every_language()
        case_id = case.id
    for locale, username in users.items():
        page = login(username).get(f"/cases/{case_id}").get_data(as_text=True)
        assert COMMENT_NOTE[locale] in page, locale


def test_noise_as_a_new_message_still_goes_on_the_call_back_list(
    app: Flask, rest: TwilioRestDouble, fake_recognizer: FakeRecognizer
) -> None:
    fake_recognizer.reply = WHITE_NOISE_A
    with app.app_context():
        transcribe(voicemail(rest, noise(10.0), call_from_caller()))
        assert db.session.scalar(select(Case)) is None
        call_back = db.session.scalar(select(CallBack))
        assert call_back is not None and call_back.reason == CallBackReason.NOISE
