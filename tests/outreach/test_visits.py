"""Home visits that count: a visit stays open until the worker records it, and its answer is
a survey answer like one given on the phone (rates, closing, 不满意不销账)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select, true

from accounts.models import Role, User
from cases.errors import Refused
from cases.lifecycle import InvalidTransition
from cases.models import Case, CaseStatus, Satisfaction
from cases.reports import all_grids, grid_rates, ledger_record
from hotline.db import db
from outreach import dispatcher
from outreach.models import FollowUp, FollowUpKind, FollowUpStatus, SurveyResponse, VisitRecord
from outreach.visits import Outcome, open_visits, record_visit, schedule_visit
from tests.accounts.conftest import make_user
from tests.outreach.conftest import (
    ASSIGNEE_PHONE,
    BOSS_PHONE,
    GRID_WORKER_PHONE,
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
from twilio_double.rest import TwilioRestDouble

S = FollowUpStatus
ALL_TIME = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def visit_due(clock: Clock, beat: Beat) -> Case:
    """Resolved on Monday; the resident takes no calls and no texts, so on Tuesday at 08:00
    the grid worker (zhao, grid A1) is texted to visit."""
    clock.moment = local(2, 15)
    people = staff()
    resident = make_resident(do_not_call=True, sms_opt_out=True)
    case = resolve(open_case(resident, assignee_id=people["assignee"]))
    clock.moment = local(3, 8)
    beat.run()
    return case


def the_visit(case: Case) -> FollowUp:
    [visit] = [f for f in follow_ups(case.id) if f.kind == FollowUpKind.VISIT]
    return visit


def test_a_visit_task_stays_open_on_the_grid_workers_list_until_recorded(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        case = visit_due(clock, beat)
        make_user("qian", Role.GRID_WORKER, grid="B2")
        visit = the_visit(case)
        assert visit.status == S.AWAITING  # texted, not done
        assert len(messages_to(rest.messages, GRID_WORKER_PHONE)) == 1
        assert [v.id for v in open_visits(user("zhao"))] == [visit.id]
        assert [v.id for v in open_visits(user("li"))] == [visit.id]  # staff see every grid
        assert open_visits(user("qian")) == []  # another grid's worker does not
        clock.advance(days=3)
        beat.run()
        db.session.refresh(visit)
        assert visit.status == S.AWAITING  # nothing drops it
        assert len(messages_to(rest.messages, GRID_WORKER_PHONE)) == 1  # nor texts it again


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (Satisfaction.SATISFIED, CaseStatus.CLOSED),
        (Satisfaction.BASICALLY_SATISFIED, CaseStatus.CLOSED),
    ],
)
def test_a_satisfied_answer_on_a_visit_closes_the_case_and_counts_in_the_rates(
    app: Flask,
    rest: TwilioRestDouble,
    beat: Beat,
    clock: Clock,
    answer: Satisfaction,
    status: CaseStatus,
) -> None:
    with app.app_context():
        case = visit_due(clock, beat)
        before = all_grids(grid_rates(true(), *ALL_TIME, clock.moment))
        assert (before.answered, before.satisfied) == (0, 0)

        record = record_visit(case, user("zhao"), Outcome(True, answer, "灯亮了"))
        db.session.commit()

        db.session.refresh(case)
        assert case.status == status and case.satisfaction == answer
        visit = the_visit(case)
        assert (visit.status, visit.outcome) == (S.DONE, "answered")
        assert (record.met, record.answer, record.note) == (True, answer, "灯亮了")
        [response] = db.session.scalars(select(SurveyResponse)).all()
        assert (response.channel, response.answer, response.follow_up_id) == (
            "visit",
            answer,
            visit.id,
        )
        after = all_grids(grid_rates(true(), *ALL_TIME, clock.moment))
        assert (after.answered, after.satisfied, after.satisfaction_rate) == (1, 1, 1.0)
        assert ledger_record(case, clock.moment)["satisfaction"] == answer
        [answered] = events(case.id, "survey_answered")
        assert answered.detail == {"answer": answer.value, "channel": "visit"}
        [recorded] = events(case.id, "visit_recorded")
        assert recorded.actor == "zhao" and recorded.detail["met"] is True
        assert open_visits(user("zhao")) == []


def test_not_satisfied_on_a_visit_reopens_escalates_and_texts_the_supervisor(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        clock.moment = local(3, 10)
        case = visit_due(clock, beat)
        record_visit(case, user("zhao"), Outcome(True, Satisfaction.NOT_SATISFIED, "还是漏水"))
        db.session.commit()
        db.session.refresh(case)
        assert case.status == CaseStatus.REOPENED and case.escalated_at is not None
        assert case.satisfaction == Satisfaction.NOT_SATISFIED
        queued = {message.purpose: message.to_phone for message in outbox()}
        assert queued["staff_supervisor"] == BOSS_PHONE
        assert queued["staff_assignee"] == ASSIGNEE_PHONE

        beat.run()  # the outbox sends them
        [to_boss] = messages_to(rest.messages, BOSS_PHONE)
        assert "NOT SATISFIED" in to_boss and case.number in to_boss
        assert len(messages_to(rest.messages, ASSIGNEE_PHONE)) == 1
        kinds = [event.kind for event in events(case.id)]
        assert kinds.index("visit_recorded") < kinds.index("survey_answered")
        assert "escalated" in kinds and "supervisors_notified" in kinds
        rates = all_grids(grid_rates(true(), *ALL_TIME, clock.moment))
        assert (rates.answered, rates.satisfied) == (1, 0)


def test_not_met_keeps_the_visit_and_brings_it_back_the_next_morning(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        case = visit_due(clock, beat)
        clock.moment = local(3, 16)
        record = record_visit(case, user("zhao"), Outcome(False, None, "家里没人"))
        db.session.commit()
        visit = the_visit(case)
        assert (record.met, record.answer) == (False, None)
        assert (visit.status, visit.due_at, visit.outcome) == (S.SCHEDULED, local(4, 8), "not_met")
        assert [v.id for v in open_visits(user("zhao"))] == [visit.id]
        db.session.refresh(case)
        assert case.status == CaseStatus.RESOLVED and case.satisfaction is None
        [not_met] = events(case.id, "visit_recorded")
        assert not_met.detail["met"] is False and not_met.detail["next_at"]
        assert db.session.scalars(select(SurveyResponse)).all() == []

        clock.moment = local(4, 8)
        beat.run()  # the worker is reminded, and the visit waits for them again
        db.session.refresh(visit)
        assert visit.status == S.AWAITING
        assert len(messages_to(rest.messages, GRID_WORKER_PHONE)) == 2

        record_visit(case, user("zhao"), Outcome(True, Satisfaction.SATISFIED))
        db.session.commit()
        db.session.refresh(case)
        assert case.status == CaseStatus.CLOSED
        assert [r.met for r in db.session.scalars(select(VisitRecord))] == [False, True]


def test_a_grid_worker_cannot_record_a_visit_for_another_grids_case(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        case = visit_due(clock, beat)
        make_user("qian", Role.GRID_WORKER, grid="B2")
        make_user("water", Role.DEPARTMENT, department="Water company")
        for outsider in ("qian", "water"):
            with pytest.raises(Refused) as refused:
                record_visit(case, user(outsider), Outcome(True, Satisfaction.NOT_SATISFIED))
            db.session.rollback()
            assert refused.value.message.key == "visits.refused.not_yours"
            assert case.number in str(refused.value)
        db.session.refresh(case)
        assert case.status == CaseStatus.RESOLVED and case.satisfaction is None
        assert the_visit(case).status == S.AWAITING
        assert db.session.scalars(select(VisitRecord)).all() == []
        assert events(case.id, "visit_recorded") == []


def test_an_answer_needs_a_meeting_and_a_meeting_needs_an_answer(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        case = visit_due(clock, beat)
        for outcome, key in [
            (Outcome(True, None), "visits.refused.answer_needed"),
            (Outcome(False, Satisfaction.SATISFIED), "visits.refused.answer_without_meeting"),
            (Outcome(False, None, "x" * 4001), "case.refused.too_long"),
        ]:
            with pytest.raises(Refused) as refused:
                record_visit(case, user("zhao"), outcome)
            db.session.rollback()
            assert refused.value.message.key == key
        assert the_visit(case).status == S.AWAITING


def test_a_visit_is_only_for_a_resolved_case(app: Flask, clock: Clock) -> None:
    with app.app_context():
        staff()
        case = open_case(make_resident())
        with pytest.raises(InvalidTransition):
            record_visit(case, user("zhao"), Outcome(True, Satisfaction.SATISFIED))
        with pytest.raises(InvalidTransition):
            schedule_visit(case, user("li"), date(2026, 3, 4))


def test_a_worker_who_met_the_resident_on_a_round_records_it_without_a_task(
    app: Flask, rest: TwilioRestDouble, clock: Clock
) -> None:
    """The resident can be called: a survey call is scheduled, but the worker met them
    first. The visit is made and recorded at once, and the call is no longer needed."""
    with app.app_context():
        clock.moment = local(2, 15)
        staff()
        case = resolve(open_case(make_resident()))
        clock.moment = local(2, 17)
        record_visit(case, user("zhao"), Outcome(True, Satisfaction.SATISFIED, "路上遇到"))
        db.session.commit()
        kinds = {f.kind: f.status for f in follow_ups(case.id)}
        assert kinds == {FollowUpKind.SURVEY_CALL: S.CANCELLED, FollowUpKind.VISIT: S.DONE}
        db.session.refresh(case)
        assert case.status == CaseStatus.CLOSED


def test_staff_schedule_a_visit_and_the_grid_worker_is_texted_that_day(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        clock.moment = local(2, 15)
        staff()
        case = resolve(open_case(make_resident()))
        visit = schedule_visit(case, user("li"), date(2026, 3, 5))
        db.session.commit()
        assert (visit.kind, visit.due_at, visit.scheduled_by_id) == (
            FollowUpKind.VISIT,
            local(5, 8),
            user("li").id,
        )
        [scheduled] = [
            e for e in events(case.id, "follow_up_scheduled") if e.detail["follow_up"] == visit.id
        ]
        assert scheduled.actor == "Li Staff"
        assert [v.id for v in open_visits(user("zhao"))] == [visit.id]
        with pytest.raises(Refused) as twice:
            schedule_visit(case, user("li"), date(2026, 3, 6))
        assert twice.value.message.key == "visits.refused.already_open"

        clock.moment = local(5, 8)
        beat.run()
        [to_worker] = messages_to(rest.messages, GRID_WORKER_PHONE)
        assert case.number in to_worker and "Li Staff" in to_worker  # Korean, who asked
        db.session.refresh(visit)
        assert visit.status == S.AWAITING


@pytest.mark.parametrize(
    ("day", "key"),
    [
        (date(2026, 3, 1), "visits.refused.past_day"),
        (date(2026, 6, 1), "visits.refused.too_far"),
    ],
)
def test_a_visit_day_must_be_today_or_within_sixty_days(
    app: Flask, clock: Clock, day: date, key: str
) -> None:
    with app.app_context():
        staff()
        case = resolve(open_case(make_resident()))
        with pytest.raises(Refused) as refused:
            schedule_visit(case, user("li"), day)
        assert refused.value.message.key == key


def test_a_visit_recorded_while_its_text_is_on_the_way_is_not_texted(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    """The dispatcher claimed the visit; before its worker texts, the visit is recorded.
    The record stands and nobody is sent to a door already visited."""
    with app.app_context():
        clock.moment = local(2, 15)
        staff()
        case = resolve(open_case(make_resident(do_not_call=True, sms_opt_out=True)))
        clock.moment = local(3, 8)
        dispatcher.dispatch_due()
        assert [name for name, _ in beat.published] == ["place_follow_up"]
        record_visit(case, user("zhao"), Outcome(True, Satisfaction.SATISFIED))
        db.session.commit()
        beat.work()
        beat.run()
        assert messages_to(rest.messages, GRID_WORKER_PHONE) == []
        assert (the_visit(case).status, the_visit(case).outcome) == (S.DONE, "answered")
        assert events(case.id, "visit_task") == []


def test_a_survey_text_without_reply_makes_no_second_visit_when_one_is_open(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        clock.moment = local(2, 15)
        staff()
        case = resolve(open_case(make_resident(do_not_call=True)))
        clock.moment = local(3, 8)
        beat.run()  # the survey by text
        schedule_visit(case, user("li"), date(2026, 3, 3))
        db.session.commit()
        clock.advance(days=1, minutes=1)
        beat.run()  # no reply: a visit, but one is open already
        visits = [f for f in follow_ups(case.id) if f.kind == FollowUpKind.VISIT]
        assert len(visits) == 1
