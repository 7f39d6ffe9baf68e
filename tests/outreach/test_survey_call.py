"""The satisfaction survey (回访) by phone, from resolution to the resident's answer."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from cases.models import Case, CaseStatus, RecordingPurpose, RecordingStatus, Satisfaction
from hotline import spool
from hotline.db import db
from outreach.models import FollowUpKind, FollowUpStatus, OutboundStatus, SurveyResponse
from tasks.escalation import escalate_overdue_cases
from tasks.recordings import requeue_stalled_recordings
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    HOTLINE_NUMBER,
    PUBLIC_URL,
    DatabaseGoesDown,
    sign,
)
from tests.outreach.conftest import (
    ASSIGNEE_PHONE,
    BOSS_PHONE,
    NOTE,
    RESIDENT_PHONE,
    Beat,
    Clock,
    events,
    follow_ups,
    local,
    make_resident,
    messages_to,
    open_case,
    outbox,
    resolve,
    staff,
)
from tests.speech.fakes import FakeRecognizer
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Press, Silence, Speak
from twilio_double.simulator import CallSimulator
from twilio_double.transport import WsgiTransport

Poster = Callable[..., TestResponse]


def speech_wav(seconds: float = 2.0) -> bytes:
    """A loud tone: Twilio's trim-silence keeps it, as it would keep a voice."""
    samples = (np.sin(np.arange(int(8000 * seconds)) * 0.3) * 8000).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def resolved_case(clock: Clock, **resident: Any) -> Case:
    """Resolved on Monday at 15:00 by its assignee, Li; the supervisor has a phone."""
    clock.moment = local(2, 15)
    people = staff()
    case = open_case(make_resident(**resident), assignee_id=people["assignee"])
    return resolve(case)


def survey_call(rest: TwilioRestDouble, beat: Beat, clock: Clock) -> dict[str, Any]:
    """The next morning at 08:00 the dispatcher places the survey call."""
    clock.moment = local(3, 8)
    beat.run()
    [call] = rest.calls
    return call


def test_resolve_then_survey_call_in_the_window_then_3_reopens_and_escalates(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, phone: CallSimulator
) -> None:
    with app.app_context():
        case = resolved_case(clock)
        clock.moment = local(2, 21)  # the evening: nobody is called
        beat.run()
        assert rest.calls == []
        call = survey_call(rest, beat, clock)
        assert call["to"] == RESIDENT_PHONE and call["from"] == HOTLINE_NUMBER
        request = call["request"]
        assert request["Url"].startswith(f"{PUBLIC_URL}/ivr/survey/")
        assert request["StatusCallback"] == request["Url"] + "/status"
        assert request["MachineDetection"] == "Enable"
        assert "completed" in call["status_callback_event"]

        result = phone.answer(call, [Press("3"), Speak(speech_wav(2.0))])
        assert result.application_error is None
        said = " ".join(result.said)
        assert "王秀英" in said and "，".join(case.number) in said  # digit by digit
        assert NOTE in said and "请按3" in said
        db.session.expire_all()
        db.session.refresh(case)
        assert case.status == CaseStatus.REOPENED and case.escalated_at is not None
        assert case.satisfaction == Satisfaction.NOT_SATISFIED
        [follow_up] = [f for f in follow_ups(case.id) if f.kind == FollowUpKind.SURVEY_CALL]
        assert (follow_up.status, follow_up.outcome) == (FollowUpStatus.DONE, "answered")

        beat.run()  # the outbox: texts to the supervisor and the assignee, in their languages
        [to_boss] = messages_to(rest.messages, BOSS_PHONE)
        [to_assignee] = messages_to(rest.messages, ASSIGNEE_PHONE)
        assert "NOT SATISFIED" in to_boss and case.number in to_boss and "Li Staff" in to_boss
        assert "不满意" in to_assignee and case.number in to_assignee
        assert all(RESIDENT_PHONE not in body for body in (to_boss, to_assignee))
        kinds = [event.kind for event in events(case.id)]
        assert "survey_call_placed" in kinds and "survey_call_outcome" in kinds
        assert kinds.count("sms_sent") == 2 and "escalated" in kinds


@pytest.mark.parametrize(
    ("key", "answer"), [("1", Satisfaction.SATISFIED), ("2", Satisfaction.BASICALLY_SATISFIED)]
)
def test_1_or_2_closes_the_case_and_counts_for_the_satisfaction_rate(
    app: Flask,
    rest: TwilioRestDouble,
    beat: Beat,
    clock: Clock,
    phone: CallSimulator,
    key: str,
    answer: Satisfaction,
) -> None:
    with app.app_context():
        case = resolved_case(clock)
        result = phone.answer(survey_call(rest, beat, clock), [Press(key)])
        assert "谢谢您的评价" in result.said[-1]
        db.session.expire_all()
        db.session.refresh(case)
        assert case.status == CaseStatus.CLOSED
        [response] = db.session.scalars(db.select(SurveyResponse)).all()
        assert (response.answer, response.channel) == (answer, "call")
        assert case.satisfaction == answer
        beat.run()
        assert messages_to(rest.messages, BOSS_PHONE) == []


def test_star_repeats_and_a_korean_resident_hears_korean(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, phone: CallSimulator
) -> None:
    with app.app_context():
        case = resolved_case(clock, language="ko-KR", name="김영희")
        result = phone.answer(survey_call(rest, beat, clock), [Press("*"), Press("1")])
        questions = [text for text in result.said if "3번" in text]
        assert len(questions) == 2 and result.said[0].startswith("김영희님")
        assert result.says[0].language == "ko-KR"
        db.session.expire_all()
        assert db.session.get(Case, case.id).status == CaseStatus.CLOSED  # type: ignore[union-attr]


def test_silence_repeats_once_then_thanks_and_counts_as_not_answered(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, phone: CallSimulator
) -> None:
    with app.app_context():
        case = resolved_case(clock)
        result = phone.answer(survey_call(rest, beat, clock), [Silence(), Silence()])
        assert "没有听到您按键" in result.said[-1]
        assert len([text for text in result.said if "请按3" in text]) == 2
        db.session.expire_all()
        [follow_up] = follow_ups(case.id)
        assert follow_up.status == FollowUpStatus.SCHEDULED  # to be tried again
        assert follow_up.attempts == 1
        [outcome] = events(case.id, "survey_call_outcome")
        assert outcome.detail["outcome"] == "no_input" and outcome.detail["next"] == "retry"
        assert db.session.get(Case, case.id).status == CaseStatus.RESOLVED  # type: ignore[union-attr]


def test_an_answering_machine_hears_nothing_and_the_call_is_retried(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, phone: CallSimulator
) -> None:
    with app.app_context():
        case = resolved_case(clock)
        result = phone.answer(survey_call(rest, beat, clock), [], answered_by="machine_start")
        assert result.said == []
        db.session.expire_all()
        [outcome] = events(case.id, "survey_call_outcome")
        assert outcome.detail["outcome"] == "machine" and outcome.detail["next"] == "retry"


def test_no_answer_three_times_then_an_sms_survey_then_a_visit_task(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, phone: CallSimulator
) -> None:
    with app.app_context():
        case = resolved_case(clock)
        clock.moment = local(3, 8)
        call_times = []
        for _ in range(3):
            beat.run()
            call = rest.calls[-1]
            call_times.append(clock.moment)
            phone.answer(call, outcome="no-answer")
            db.session.expire_all()
            [follow_up] = [f for f in follow_ups(case.id) if f.kind == FollowUpKind.SURVEY_CALL]
            clock.moment = max(clock.moment, follow_up.due_at)
        assert len(rest.calls) == 3
        hours = [moment.astimezone(local(3, 8).tzinfo).hour for moment in call_times]
        assert len(set(hours)) == 3, "retried at different times of day"
        assert call_times[-1] - call_times[0] <= local(5, 8) - local(3, 8), "within two days"
        outcomes = events(case.id, "survey_call_outcome")
        assert [e.detail["next"] for e in outcomes] == ["retry", "retry", "survey_sms"]
        assert all(e.detail["outcome"] == "no-answer" for e in outcomes)

        beat.run()  # the survey by text, in the resident's language
        [text] = messages_to(rest.messages, RESIDENT_PHONE)
        assert case.number in text and "1满意" in text and "3不满意" in text
        clock.advance(hours=23)
        beat.run()
        assert events(case.id, "visit_task") == []
        clock.advance(hours=1, minutes=1)
        beat.run()
        [visit] = events(case.id, "visit_task")
        assert visit.detail["grid"] == "A1" and visit.detail["assigned_to"] == ["zhao"]
        [to_worker] = messages_to(rest.messages, "+8613900000003")
        assert (
            case.number in to_worker and "幸福里" in to_worker and RESIDENT_PHONE not in to_worker
        )
        assert "방문" in to_worker  # the grid worker reads Korean


def test_duplicate_status_callbacks_give_one_outcome(
    app: Flask,
    rest: TwilioRestDouble,
    beat: Beat,
    clock: Clock,
    phone: CallSimulator,
    signed_post: Poster,
) -> None:
    with app.app_context():
        case = resolved_case(clock)
        call = survey_call(rest, beat, clock)
        phone.answer(call, outcome="busy")
        path = call["request"]["StatusCallback"].removeprefix(PUBLIC_URL)
        for _ in range(3):
            replay = signed_post(path, {"CallSid": call["sid"], "CallStatus": "busy"})
            assert replay.status_code == 204
        db.session.expire_all()
        [outcome] = events(case.id, "survey_call_outcome")
        assert outcome.detail["outcome"] == "busy"
        [follow_up] = follow_ups(case.id)
        assert follow_up.status == FollowUpStatus.SCHEDULED and follow_up.attempts == 1


def test_an_unsigned_status_callback_is_refused(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, signed_post: Poster
) -> None:
    with app.app_context():
        resolved_case(clock)
        call = survey_call(rest, beat, clock)
        path = call["request"]["StatusCallback"].removeprefix(PUBLIC_URL)
        params = {"CallSid": call["sid"], "CallStatus": "completed"}
        assert signed_post(path, params, signature="forged").status_code == 403


def test_a_comment_after_3_is_transcribed_once_onto_the_timeline(
    app: Flask,
    rest: TwilioRestDouble,
    beat: Beat,
    clock: Clock,
    make_phone: Callable[..., CallSimulator],
    fake_recognizer: FakeRecognizer,
) -> None:
    fake_recognizer.reply = "灯还是不亮"
    phone = make_phone(recording_status_repeats=3)  # Twilio repeats its callback
    with app.app_context():
        case = resolved_case(clock)
        result = phone.answer(survey_call(rest, beat, clock), [Press("3"), Speak(speech_wav())])
        assert "您的意见已经记下" in result.said[-1]
        beat.work()  # the transcription task(s) published by the callbacks
        [response] = db.session.scalars(db.select(SurveyResponse)).all()
        assert response.comment is not None and response.comment.transcript == "灯还是不亮"
        assert response.comment.purpose == RecordingPurpose.SURVEY_COMMENT
        assert response.comment.status == RecordingStatus.TRANSCRIBED
        # The comment is playable on the case page, with its transcript.
        assert response.comment.file_path and Path(response.comment.file_path).is_file()
        assert [locale for _, locale in fake_recognizer.heard] == ["zh-CN"]
        [comment] = events(case.id, "survey_comment")
        assert comment.detail["transcript"] == "灯还是不亮"


def test_a_comment_whose_transcription_was_lost_is_requeued_by_beat(
    app: Flask,
    rest: TwilioRestDouble,
    beat: Beat,
    clock: Clock,
    phone: CallSimulator,
    fake_recognizer: FakeRecognizer,
) -> None:
    """The broker lost the task: the comment is a recording like a voicemail, and the same
    sweep finds it, so staff never see "left a comment" with no audio and no text."""
    fake_recognizer.reply = "还是没修好"
    with app.app_context():
        case = resolved_case(clock)
        phone.answer(survey_call(rest, beat, clock), [Press("3"), Speak(speech_wav())])
        lost = [item for item in beat.published if item[0] == "transcribe_recording"]
        assert len(lost) == 1
        beat.published.remove(lost[0])  # lost with the broker
        beat.work()
        clock.advance(minutes=31)
        assert requeue_stalled_recordings.apply().get() == 1
        beat.work()
        [comment] = events(case.id, "survey_comment")
        assert comment.detail["transcript"] == "还是没修好"


def test_not_satisfied_is_not_escalated_twice_by_the_overdue_beat(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, phone: CallSimulator
) -> None:
    with app.app_context():
        resolved_case(clock)
        phone.answer(survey_call(rest, beat, clock), [Press("3")])
        clock.advance(days=10)  # long past the reopened case's new deadline
        assert escalate_overdue_cases.apply().get() == 0
        beat.run()
        assert len(messages_to(rest.messages, BOSS_PHONE)) == 1
        sent = outbox(status=OutboundStatus.SENT)
        assert {message.purpose for message in sent} >= {"staff_supervisor", "staff_assignee"}


def test_an_sms_reply_through_record_answer_closes_the_survey_text_and_the_case(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    """What the SMS line does with a "3" reply: record_answer, then commit; nothing else."""
    from outreach.survey import awaiting_sms_survey, record_answer

    with app.app_context():
        case = resolved_case(clock, do_not_call=True)
        clock.moment = local(3, 8)
        beat.run()
        follow_up = awaiting_sms_survey(case)
        assert follow_up is not None and follow_up.kind == FollowUpKind.SURVEY_SMS
        record_answer(case, Satisfaction.NOT_SATISFIED, "sms", follow_up)
        db.session.commit()
        assert awaiting_sms_survey(case) is None
        assert (follow_up.status, follow_up.outcome) == (FollowUpStatus.DONE, "answered")
        beat.run()
        assert len(messages_to(rest.messages, BOSS_PHONE)) == 1
        assert len(messages_to(rest.messages, ASSIGNEE_PHONE)) == 1
        clock.advance(days=2)
        beat.run()
        assert events(case.id, "visit_task") == []  # answered: nobody needs to visit


def test_an_answer_and_a_comment_given_while_the_database_is_down_are_stored_once_it_is_back(
    app: Flask,
    down_app: Flask,
    rest: TwilioRestDouble,
    beat: Beat,
    clock: Clock,
    fake_recognizer: FakeRecognizer,
) -> None:
    """The database goes down after the question was asked: the resident's 3 and what they
    said after it are kept in the spool, and stored by the same webhooks when it is back."""
    fake_recognizer.reply = "灯还是不亮"
    after_the_question = ("/answer", "/comment", "/comment-status", "/status")
    goes_down = DatabaseGoesDown(app, down_app, lambda path: path.endswith(after_the_question))
    phone = CallSimulator(
        WsgiTransport(goes_down),
        public_base_url=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )
    with app.app_context():
        case = resolved_case(clock)
        result = phone.answer(survey_call(rest, beat, clock), [Press("3"), Speak(speech_wav())])
        assert result.application_error is None
        assert "您的意见已经记下" in result.said[-1]
        assert case.status == CaseStatus.RESOLVED  # nothing stored yet

        assert spool.replay(app) == spool.Replay(stored=4)  # 3, the comment twice, the call's end
        beat.work()
        db.session.refresh(case)
        assert case.status == CaseStatus.REOPENED
        assert case.satisfaction == Satisfaction.NOT_SATISFIED
        [follow_up] = [f for f in follow_ups(case.id) if f.kind == FollowUpKind.SURVEY_CALL]
        assert (follow_up.status, follow_up.outcome) == (FollowUpStatus.DONE, "answered")
        [comment] = events(case.id, "survey_comment")
        assert comment.detail["transcript"] == "灯还是不亮"


def test_a_survey_call_answered_while_the_database_is_down_says_it_will_call_again(
    down_app: Flask,
) -> None:
    params = {"CallSid": "CA" + "6" * 32, "To": RESIDENT_PHONE, "From": HOTLINE_NUMBER}
    for path in ("/ivr/survey/1", "/ivr/survey/1/silence", "/ivr/survey/1/answer"):
        signature = sign(PUBLIC_URL + path, params)
        response = down_app.test_client().post(
            path, data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200
        assert "我们换个时间再给您打电话" in response.get_data(as_text=True)
    assert spool.waiting(down_app.extensions["hotline.settings"].data_dir) == []
