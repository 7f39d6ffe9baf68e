"""The resident's answer to the satisfaction survey, however it came (keypad or text).

不满意不销账: "not satisfied" reopens the case and escalates it to the supervisor; only a
satisfied (or basically satisfied) resident lets a resolved case close.
"""

from __future__ import annotations

from cases.lifecycle import transition
from cases.models import Case, CaseStatus, Satisfaction
from cases.services import add_event
from hotline.clock import now
from hotline.db import db
from outreach.models import FollowUp, SurveyResponse
from outreach.outbox import queue_sms

RESIDENT = "resident"
KEYPAD_ANSWERS = {
    "1": Satisfaction.SATISFIED,
    "2": Satisfaction.BASICALLY_SATISFIED,
    "3": Satisfaction.NOT_SATISFIED,
}


def record_answer(
    case: Case, answer: Satisfaction, channel: str, follow_up: FollowUp | None = None
) -> SurveyResponse:
    """Store the answer, then close the case or reopen and escalate it. The caller commits.

    Escalation here only marks the case and its timeline; the caller (a task or webhook)
    sends the texts to the supervisor and the assignee after commit.
    """
    response = SurveyResponse(case=case, answer=answer, channel=channel, follow_up_id=None)
    if follow_up is not None:
        response.follow_up_id = follow_up.id
    db.session.add(response)
    case.satisfaction = answer
    add_event(case, "survey_answered", RESIDENT, answer=answer.value, channel=channel)
    if answer == Satisfaction.NOT_SATISFIED:
        _reopen_and_escalate(case)
    elif case.status == CaseStatus.RESOLVED:
        transition(case, CaseStatus.CLOSED, RESIDENT)
    return response


def _reopen_and_escalate(case: Case) -> None:
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        transition(case, CaseStatus.REOPENED, RESIDENT, "the resident is not satisfied")
    case.escalated_at = now()
    add_event(case, "escalated", "system", reason="not_satisfied")
    _tell_staff(case)


def _tell_staff(case: Case) -> None:
    """The supervisors and the handler hear at once, by text; never the resident's number."""
    from tasks.escalation import supervisors  # tasks build on the domain, not the reverse

    staff = {user.id: user for user in supervisors()}
    if case.assignee is not None and case.assignee.phone:
        staff[case.assignee.id] = case.assignee
    body = f"Case {case.number}: the resident is not satisfied. The case is reopened."
    for user in staff.values():
        queue_sms(user.phone, body, "not_satisfied", case)
