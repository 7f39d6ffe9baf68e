"""What is scheduled when: the survey after resolution, weekly progress, family copies."""

from __future__ import annotations

import dataclasses

from flask import Flask

from cases.lifecycle import transition
from cases.models import CaseStatus
from hotline.db import db
from hotline.settings import EXTENSION_KEY
from outreach.models import FollowUpKind, FollowUpStatus, OutboundStatus
from outreach.schedule import schedule_progress_updates
from tests.outreach.conftest import (
    NOTE,
    RESIDENT_PHONE,
    SON_PHONE,
    Beat,
    Clock,
    add_family,
    events,
    follow_ups,
    local,
    make_resident,
    messages_to,
    open_case,
    outbox,
    resolve,
)
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Hangup
from twilio_double.segments import num_segments
from twilio_double.simulator import CallSimulator

K = FollowUpKind


def test_without_a_delay_the_survey_is_the_next_morning_at_the_window_opening(
    app: Flask, clock: Clock
) -> None:
    with app.app_context():
        clock.moment = local(2, 19, 45)
        case = resolve(open_case(make_resident()))
        [survey] = follow_ups(case.id)
        assert (survey.kind, survey.status) == (K.SURVEY_CALL, FollowUpStatus.SCHEDULED)
        assert survey.due_at == local(3, 8) and survey.max_attempts == 3
        assert [e.detail["follow_up_kind"] for e in events(case.id, "follow_up_scheduled")] == [
            "survey_call"
        ]


def test_hotline_survey_delay_minutes_sets_the_delay_inside_the_window(
    app: Flask, clock: Clock
) -> None:
    settings = app.extensions[EXTENSION_KEY]
    app.extensions[EXTENSION_KEY] = dataclasses.replace(settings, survey_delay_minutes=90)
    with app.app_context():
        clock.moment = local(2, 10)
        case = resolve(open_case(make_resident()))
        assert follow_ups(case.id)[0].due_at == local(2, 11, 30)
        clock.moment = local(2, 19)
        other = resolve(open_case(make_resident(phone="+8613800000077")))
        assert follow_ups(other.id)[0].due_at == local(3, 8)  # 20:30 is too late: next morning


def test_a_case_with_a_pending_survey_does_not_get_two_and_reopening_cancels_it(
    app: Flask, clock: Clock
) -> None:
    with app.app_context():
        case = resolve(open_case(make_resident()))
        transition(case, CaseStatus.REOPENED, "Li Staff", "not finished")
        db.session.commit()
        [cancelled] = follow_ups(case.id)
        assert cancelled.status == FollowUpStatus.CANCELLED
        resolve(case, "finished now")
        statuses = [f.status for f in follow_ups(case.id)]
        assert statuses == [FollowUpStatus.CANCELLED, FollowUpStatus.SCHEDULED]
        from outreach.schedule import schedule_survey

        assert schedule_survey(case) is None  # one already pending


def test_family_who_opted_in_get_a_copy_of_the_resolution_and_others_do_not(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        resident = make_resident()
        add_family(resident)
        add_family(resident, "+8613800000003", receives_updates=False)
        add_family(resident, "+8613800000004")
        make_resident(phone="+8613800000004", name="王小红", sms_opt_out=True)  # a STOP
        clock.moment = local(2, 21)  # resolved late: the copy waits for the morning
        case = resolve(open_case(resident))
        beat.run()
        assert rest.messages == []
        clock.moment = local(3, 8)
        beat.run()
        [copy] = messages_to(rest.messages, SON_PHONE)
        assert "家属抄送" in copy and case.number in copy and NOTE in copy
        assert messages_to(rest.messages, "+8613800000003") == []
        assert messages_to(rest.messages, "+8613800000004") == []
        [suppressed] = outbox(to_phone="+8613800000004")
        assert suppressed.status == OutboundStatus.SUPPRESSED


def test_the_sms_survey_fits_two_texts_in_every_language(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        for index, language in enumerate(("zh-CN", "ko-KR", "en-US")):
            clock.moment = local(2, 10)
            phone = f"+861380000010{index}"
            resident = make_resident(phone=phone, language=language, do_not_call=True)
            resolve(open_case(resident, locale=language))
        clock.moment = local(3, 8)
        beat.run()
        bodies = [message["body"] for message in rest.messages]
        assert len(bodies) == 3
        for body in bodies:
            assert num_segments(body) <= 2, body
            assert "1" in body and "2" in body and "3" in body


def test_a_case_open_over_a_week_gets_a_weekly_progress_text_with_family_copies(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        resident = make_resident()
        add_family(resident)
        case = open_case(resident, status=CaseStatus.IN_PROGRESS, created_at=local(2, 9))
        young = open_case(make_resident(phone="+8613800000055"), created_at=local(8, 9))
        clock.moment = local(9, 10)  # a week and an hour later
        assert schedule_progress_updates() == 1
        assert schedule_progress_updates() == 0  # once a week
        beat.run()
        [text] = messages_to(rest.messages, RESIDENT_PHONE)
        assert case.number in text and "正在处理中" in text
        [copy] = messages_to(rest.messages, SON_PHONE)
        assert "家属抄送" in copy and case.number in copy
        assert len(events(case.id, "progress_update")) == 1
        assert follow_ups(young.id) == []
        clock.moment = local(16, 9, 59)
        assert schedule_progress_updates() == 1  # the second case is a week old now
        clock.moment = local(16, 10, 1)
        assert schedule_progress_updates() == 1  # a week since the first case's last update
        resolve(case)
        clock.moment = local(30, 9)
        schedule_progress_updates()
        progress = [f for f in follow_ups(case.id) if f.kind == K.PROGRESS]
        assert len(progress) == 2, "no progress updates once resolved"


def test_a_resident_who_opted_out_of_texts_gets_the_progress_update_by_phone(
    app: Flask,
    rest: TwilioRestDouble,
    beat: Beat,
    clock: Clock,
    phone: CallSimulator,
) -> None:
    with app.app_context():
        case = open_case(make_resident(sms_opt_out=True), created_at=local(2, 9))
        clock.moment = local(9, 10)
        schedule_progress_updates()
        beat.run()
        assert rest.messages == []
        [call] = rest.calls
        result = phone.answer(call, [Hangup()])
        said = " ".join(result.said)
        assert "，".join(case.number) in said and "已经受理" in said
        db.session.expire_all()
        [outcome] = events(case.id, "progress_call_outcome")
        assert outcome.detail["outcome"] == "answered"


def test_a_resident_nobody_may_call_or_text_gets_no_progress_update(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        case = open_case(make_resident(sms_opt_out=True, do_not_call=True), created_at=local(2, 9))
        clock.moment = local(9, 10)
        schedule_progress_updates()
        beat.run()
        assert rest.messages == [] and rest.calls == []
        [event] = events(case.id, "progress_update")
        assert event.detail["outcome"] == "unreachable"
