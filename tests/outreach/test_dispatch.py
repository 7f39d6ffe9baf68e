"""The dispatcher: due rows claimed once, placed once, re-published when lost, and never out
of hours or against the resident's wishes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from cases.models import Case
from hotline.db import db
from outreach import dispatcher
from outreach.models import FollowUp, FollowUpKind, FollowUpStatus
from tasks import followups
from tests.outreach.conftest import (
    GRID_WORKER_PHONE,
    RESIDENT_PHONE,
    Beat,
    Clock,
    events,
    follow_ups,
    local,
    make_resident,
    messages_to,
    open_case,
    resolve,
    staff,
)
from twilio_double.rest import TwilioRestDouble

S = FollowUpStatus


def resolved_case(clock: Clock, **resident: object) -> Case:
    clock.moment = local(2, 15)
    staff()
    return resolve(open_case(make_resident(**resident)))


def due_survey(clock: Clock, **resident: object) -> FollowUp:
    """A survey call due now (Tuesday 08:00), not yet claimed."""
    case = resolved_case(clock, **resident)
    [follow_up] = follow_ups(case.id)
    clock.moment = follow_up.due_at
    return follow_up


def test_a_due_follow_up_is_claimed_once_however_often_the_dispatcher_runs(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        follow_up = due_survey(clock)
        dispatcher.dispatch_due()
        dispatcher.dispatch_due()  # a second beat, or a second scheduler by mistake
        assert beat.published == [("place_follow_up", follow_up.id)]
        beat.work()
        beat.run()
        assert len(rest.calls) == 1
        db.session.refresh(follow_up)
        assert (follow_up.status, follow_up.attempts) == (S.AWAITING, 1)
        assert follow_up.call_sid == rest.calls[0]["sid"]


def test_a_task_delivered_twice_places_one_call(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        follow_up = due_survey(clock)
        dispatcher.dispatch_due()
        assert followups.place_follow_up.apply(args=[follow_up.id]).get() == "placed"
        assert followups.place_follow_up.apply(args=[follow_up.id]).get() == "not_claimed"
        assert len(rest.calls) == 1


def test_when_the_broker_is_down_claims_are_given_back_and_nothing_is_lost(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broker_down(row_id: int) -> None:
        raise ConnectionError("broker unreachable")

    with app.app_context():
        follow_up = due_survey(clock)
        with monkeypatch.context() as patch:
            patch.setattr(followups.place_follow_up, "delay", broker_down)
            assert dispatcher.dispatch_due().follow_ups == 0
        db.session.refresh(follow_up)
        assert follow_up.status == S.SCHEDULED
        beat.run()  # the broker is back
        assert len(rest.calls) == 1


def test_a_claimed_follow_up_whose_task_was_lost_is_published_again(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        follow_up = due_survey(clock)
        dispatcher.dispatch_due()
        beat.published.clear()  # the broker restarted and lost the message
        clock.advance(minutes=2)
        dispatcher.dispatch_due()
        assert beat.published == []  # not yet: the task may still be on its way
        clock.advance(minutes=1, seconds=15)
        assert dispatcher.dispatch_due().republished == 1  # within a few minutes, not 20
        beat.work()
        assert len(rest.calls) == 1
        db.session.refresh(follow_up)
        assert follow_up.status == S.AWAITING


def test_out_of_hours_it_waits_for_the_window_to_open(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        follow_up = due_survey(clock)
        # Due in the evening (a retry, a staff change): the dispatcher does not call then.
        follow_up.due_at = local(3, 20, 30)
        db.session.commit()
        clock.moment = local(3, 20, 30)
        beat.run()
        assert rest.calls == []
        db.session.refresh(follow_up)
        assert (follow_up.status, follow_up.due_at) == (S.SCHEDULED, local(4, 8))
        [waiting] = events(follow_up.case_id, "follow_up_waiting")
        assert waiting.detail["reason"] == "out_of_hours"
        clock.moment = local(4, 7, 59)
        beat.run()
        assert rest.calls == []
        clock.moment = local(4, 8)
        beat.run()
        assert len(rest.calls) == 1


def test_a_residents_preferred_hours_are_kept(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        case = resolved_case(clock, preferred_call_hours="15:00-17:00")
        [follow_up] = follow_ups(case.id)
        assert follow_up.due_at == local(3, 15)
        clock.moment = local(3, 9)
        beat.run()
        assert rest.calls == []
        clock.moment = local(3, 15)
        beat.run()
        assert len(rest.calls) == 1


def test_do_not_call_means_no_call_and_the_survey_goes_by_text(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        follow_up = due_survey(clock)
        follow_up.case.resident.do_not_call = True  # type: ignore[union-attr]
        db.session.commit()  # they asked after the survey was scheduled
        beat.run()
        assert rest.calls == []
        [text] = messages_to(rest.messages, RESIDENT_PHONE)
        assert "1满意" in text
        kinds = [(f.kind, f.status) for f in follow_ups(follow_up.case_id)]
        assert kinds == [
            (FollowUpKind.SURVEY_CALL, S.CANCELLED),
            (FollowUpKind.SURVEY_SMS, S.AWAITING),
        ]


def test_do_not_call_at_resolution_schedules_a_text_survey_directly(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        case = resolved_case(clock, do_not_call=True)
        [follow_up] = follow_ups(case.id)
        assert follow_up.kind == FollowUpKind.SURVEY_SMS and follow_up.due_at == local(3, 8)


def test_neither_calls_nor_texts_means_a_visit_and_no_text_to_the_resident(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        case = resolved_case(clock, do_not_call=True, sms_opt_out=True)
        clock.moment = local(3, 8)
        beat.run()
        assert rest.calls == []
        assert messages_to(rest.messages, RESIDENT_PHONE) == []
        [visit] = events(case.id, "visit_task")
        assert visit.detail["assigned_to"] == ["zhao"]
        assert len(messages_to(rest.messages, GRID_WORKER_PHONE)) == 1


def test_a_case_reopened_before_the_call_gets_no_call(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    from cases.lifecycle import transition
    from cases.models import CaseStatus

    with app.app_context():
        follow_up = due_survey(clock)
        transition(follow_up.case, CaseStatus.REOPENED, "Li Staff", "the light went out again")
        db.session.commit()
        beat.run()
        assert rest.calls == []
        db.session.refresh(follow_up)
        assert (follow_up.status, follow_up.outcome) == (S.CANCELLED, "case_reopened")


# ------------------------------------------------------------- a worker dies mid-call
def placing(follow_up: FollowUp, clock: Clock) -> None:
    """As a worker leaves it when killed inside calls.create: PLACING, no call SID."""
    follow_up.status = S.PLACING
    follow_up.claimed_at = clock.moment
    db.session.commit()


@pytest.fixture
def real_time(clock: Clock) -> Clock:
    """Reconciliation compares our claim time with Twilio's clock: use the real one."""
    clock.moment = datetime.now(UTC).replace(hour=2)  # 10:00 in Shanghai, inside the window
    return clock


def test_an_expired_placing_lease_adopts_the_call_twilio_already_has(
    app: Flask, rest: TwilioRestDouble, beat: Beat, real_time: Clock
) -> None:
    with app.app_context():
        case = resolved_case(real_time)
        [follow_up] = follow_ups(case.id)
        real_time.moment = datetime.now(UTC).replace(hour=2)
        placing(follow_up, real_time)
        # The dead worker's request reached Twilio: the call exists, its SID was never stored.
        rest.add_call(RESIDENT_PHONE, "+8610123456", direction="outbound-api")
        assert followups.place_follow_up.apply(args=[follow_up.id]).get() == "busy"
        real_time.advance(seconds=61)
        assert dispatcher.dispatch_due().republished == 1
        beat.work()
        assert len(rest.calls) == 1
        db.session.refresh(follow_up)
        assert follow_up.status == S.AWAITING and follow_up.call_sid == rest.calls[0]["sid"]
        [placed] = events(case.id, "survey_call_placed")
        assert placed.detail["adopted"] is True and placed.detail["attempt"] == 1


def test_an_expired_placing_lease_with_no_call_at_twilio_places_it(
    app: Flask, rest: TwilioRestDouble, beat: Beat, real_time: Clock
) -> None:
    with app.app_context():
        case = resolved_case(real_time)
        [follow_up] = follow_ups(case.id)
        real_time.moment = datetime.now(UTC).replace(hour=2)
        placing(follow_up, real_time)
        real_time.advance(seconds=61)
        beat.run()
        assert len(rest.calls) == 1
        [placed] = events(case.id, "survey_call_placed")
        assert placed.detail["adopted"] is False


def test_twilio_failing_leaves_the_call_to_be_reconciled_not_repeated(
    app: Flask, rest: TwilioRestDouble, beat: Beat, real_time: Clock
) -> None:
    with app.app_context():
        case = resolved_case(real_time)
        [follow_up] = follow_ups(case.id)
        real_time.moment = datetime.now(UTC).replace(hour=2)
        db.session.execute(
            db.update(FollowUp).where(FollowUp.id == follow_up.id).values(due_at=real_time.moment)
        )
        db.session.commit()
        rest.fail_next(r"/Calls\.json$", status=503, method="POST")
        beat.run()
        db.session.refresh(follow_up)
        assert follow_up.status == S.PLACING and "503" in follow_up.last_error
        real_time.advance(seconds=30)
        beat.run()
        assert rest.calls == []  # the lease still holds
        real_time.advance(seconds=31)
        beat.run()
        assert len(rest.calls) == 1


def test_twilio_refusing_the_number_counts_as_a_failed_attempt(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        follow_up = due_survey(clock)
        rest.fail_next(r"/Calls\.json$", status=400, method="POST")
        beat.run()
        db.session.refresh(follow_up)
        assert (follow_up.status, follow_up.attempts) == (S.SCHEDULED, 1)
        [outcome] = events(follow_up.case_id, "survey_call_outcome")
        assert outcome.detail["outcome"] == "failed" and outcome.detail["next"] == "retry"


def test_a_call_whose_status_callback_never_came_is_looked_up(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        follow_up = due_survey(clock)
        beat.run()
        [call] = rest.calls
        rest.update_call(call["sid"], status="no-answer")  # Twilio knows; we were never told
        clock.advance(minutes=31)
        beat.run()
        db.session.refresh(follow_up)
        assert follow_up.status == S.SCHEDULED and follow_up.attempts == 1
        [outcome] = events(follow_up.case_id, "survey_call_outcome")
        assert outcome.detail["outcome"] == "no-answer"


def test_claims_go_in_batches_and_the_broker_never_holds_more_than_max_in_flight(
    app: Flask, beat: Beat, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher, "BATCH", 5)
    monkeypatch.setattr(dispatcher, "MAX_IN_FLIGHT", 12)
    with app.app_context():
        case = open_case()
        db.session.add_all(
            FollowUp(
                case_id=case.id,
                kind=FollowUpKind.PROGRESS,
                due_at=clock.moment - timedelta(minutes=1),
            )
            for _ in range(30)
        )
        db.session.commit()
        assert dispatcher.dispatch_due().follow_ups == 12
        assert dispatcher.dispatch_due().follow_ups == 0  # the rest wait in the database
        published = [row_id for name, row_id in beat.published if name == "place_follow_up"]
        beat.work()
        assert dispatcher.dispatch_due().follow_ups == 12
        published += [row_id for name, row_id in beat.published if name == "place_follow_up"]
        beat.work()
        assert dispatcher.dispatch_due().follow_ups == 6
        published += [row_id for name, row_id in beat.published if name == "place_follow_up"]
        assert sorted(published) == sorted(f.id for f in follow_ups(case.id))
