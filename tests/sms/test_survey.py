"""1, 2 or 3 answers the pending satisfaction survey; 3 reopens the case (不满意不销账)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from accounts.models import Role, User
from cases.models import Case, CaseStatus, Satisfaction
from hotline.db import db
from outreach.models import (
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    OutboundMessage,
    OutboundStatus,
    SurveyResponse,
)
from sms.handlers import RATE_LIMIT_TEXTS
from tests.sms.helpers import NOW, Clock, add_case, all_cases, events, messages, text
from twilio_double.simulator import CallSimulator

SUPERVISOR = "+8613900000001"
HANDLER = "+8613900000002"


def resolved_case_with_survey(
    app: Flask,
    kind: FollowUpKind = FollowUpKind.SURVEY_SMS,
    status: FollowUpStatus = FollowUpStatus.AWAITING,
) -> tuple[int, int]:
    """A resolved case, handled by a staff member, whose survey text went out."""
    with app.app_context():
        boss = User(username="boss", role=Role.ADMIN, phone=SUPERVISOR, language="en-US")
        handler = User(username="li", role=Role.STAFF, phone=HANDLER)
        for user in (boss, handler):
            user.set_password("correct horse battery")
            db.session.add(user)
        db.session.commit()
        handler_id = handler.id
    case = add_case(
        app,
        status=CaseStatus.RESOLVED,
        resolution_note="修好了",
        resolved_at=NOW,
        assignee_id=handler_id,
    )
    with app.app_context():
        follow_up = FollowUp(
            case_id=case.id, kind=kind, status=status, due_at=NOW - timedelta(hours=1)
        )
        db.session.add(follow_up)
        db.session.commit()
        return case.id, follow_up.id


def load(app: Flask, case_id: int, follow_up_id: int) -> tuple[Case, FollowUp]:
    with app.app_context():
        case, follow_up = db.session.get(Case, case_id), db.session.get(FollowUp, follow_up_id)
        assert case is not None and follow_up is not None
        db.session.expunge_all()
        return case, follow_up


def test_three_reopens_and_escalates_the_case(app: Flask, phone: CallSimulator) -> None:
    Clock(app)
    case_id, follow_up_id = resolved_case_with_survey(app)
    reply = text(phone, "3")

    case, follow_up = load(app, case_id, follow_up_id)
    assert case.status == CaseStatus.REOPENED
    assert case.satisfaction == Satisfaction.NOT_SATISFIED
    assert case.escalated_at is not None
    assert follow_up.status == FollowUpStatus.DONE
    assert reply == f"很抱歉没有让您满意。事项 {case.number} 已重新处理，工作人员会尽快联系您。"
    with app.app_context():
        [response] = db.session.scalars(select(SurveyResponse)).all()
        assert (response.answer, response.channel, response.follow_up_id) == (
            Satisfaction.NOT_SATISFIED,
            "sms",
            follow_up_id,
        )
        queued = db.session.scalars(select(OutboundMessage)).all()
        staff_texts = {(m.to_phone, m.case_id, m.status) for m in queued}
    # The supervisor and the handler hear of it, through the outbox (outreach.survey).
    assert staff_texts >= {
        (SUPERVISOR, case_id, OutboundStatus.SENDING),
        (HANDLER, case_id, OutboundStatus.SENDING),
    }
    assert [m.outcome for m in messages(app)] == ["survey_answer"]
    assert events(app, case_id, "sms_received")[0]["text"] == "3"
    assert len(all_cases(app)) == 1  # an answer is not a new case


@pytest.mark.parametrize(("body", "answer"), [("1", "satisfied"), ("２", "basically_satisfied")])
def test_one_or_two_closes_the_case(
    app: Flask, phone: CallSimulator, body: str, answer: str
) -> None:
    case_id, follow_up_id = resolved_case_with_survey(app)
    reply = text(phone, body)

    case, follow_up = load(app, case_id, follow_up_id)
    assert case.status == CaseStatus.CLOSED
    assert case.satisfaction == Satisfaction(answer)
    assert follow_up.status == FollowUpStatus.DONE
    assert reply == f"谢谢您的评价！事项 {case.number} 已办结。"
    with app.app_context():
        assert db.session.scalars(select(OutboundMessage)).all() == []


def test_a_pending_survey_call_can_be_answered_by_text(app: Flask, phone: CallSimulator) -> None:
    case_id, follow_up_id = resolved_case_with_survey(
        app, FollowUpKind.SURVEY_CALL, FollowUpStatus.SCHEDULED
    )
    text(phone, "1")
    case, follow_up = load(app, case_id, follow_up_id)
    assert (case.status, follow_up.status) == (CaseStatus.CLOSED, FollowUpStatus.DONE)


def test_an_answer_counts_once(app: Flask, phone: CallSimulator) -> None:
    case_id, follow_up_id = resolved_case_with_survey(app)
    text(phone, "1")
    second = text(phone, "3")  # the survey is done: nothing to answer any more
    case, _ = load(app, case_id, follow_up_id)
    assert case.status == CaseStatus.CLOSED
    assert second.startswith("目前没有需要您评价的事项")
    with app.app_context():
        assert len(db.session.scalars(select(SurveyResponse)).all()) == 1


@pytest.mark.parametrize("status", [FollowUpStatus.DONE, FollowUpStatus.CANCELLED])
def test_a_survey_no_longer_pending_is_not_answered(
    app: Flask, phone: CallSimulator, status: FollowUpStatus
) -> None:
    case_id, follow_up_id = resolved_case_with_survey(app, status=status)
    assert text(phone, "3").startswith("目前没有需要您评价的事项")
    case, _ = load(app, case_id, follow_up_id)
    assert case.status == CaseStatus.RESOLVED
    assert [m.outcome for m in messages(app)] == ["no_survey"]


def test_another_numbers_survey_is_not_answered(app: Flask, phone: CallSimulator) -> None:
    case_id, follow_up_id = resolved_case_with_survey(app)
    text(phone, "3", from_="+8613800000077")
    case, follow_up = load(app, case_id, follow_up_id)
    assert (case.status, follow_up.status) == (CaseStatus.RESOLVED, FollowUpStatus.AWAITING)


def test_an_answer_counts_even_after_a_flood_of_texts(app: Flask, phone: CallSimulator) -> None:
    Clock(app)
    case_id, follow_up_id = resolved_case_with_survey(app)
    for _ in range(RATE_LIMIT_TEXTS + 1):
        text(phone, "👍")
    assert text(phone, "3").startswith("很抱歉没有让您满意")
    case, _ = load(app, case_id, follow_up_id)
    assert case.status == CaseStatus.REOPENED
