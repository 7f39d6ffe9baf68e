"""The resident's answer to the satisfaction survey, however it came (keypad or text).

不满意不销账: "not satisfied" reopens the case and escalates it to the supervisor; only a
satisfied (or basically satisfied) resident lets a resolved case close.

Everything an answer causes is written in the caller's transaction: the answer, the case's
new status, the timeline, and the texts to the supervisors, the assignee and the family (as
outbox rows, sent by the dispatcher after commit). The caller only commits.
"""

from __future__ import annotations

from sqlalchemy import select

from accounts.directory import supervisors
from cases.events import EventKind
from cases.lifecycle import transition
from cases.linked import main_of
from cases.models import Case, CaseStatus, Recording, RecordingPurpose, Satisfaction
from cases.recordings import note_recording
from cases.services import add_event
from hotline.clock import now
from hotline.db import db
from hotline.i18n import catalogue, supported_locale
from hotline.settings import current_settings
from outreach.models import FollowUp, FollowUpKind, FollowUpStatus, SurveyResponse
from outreach.outbox import queue_sms
from outreach.schedule import contact_of, copy_to_family, tell_reporters

RESIDENT = "resident"
KEYPAD_ANSWERS = {
    "1": Satisfaction.SATISFIED,
    "2": Satisfaction.BASICALLY_SATISFIED,
    "3": Satisfaction.NOT_SATISFIED,
}


def awaiting_sms_survey(case: Case) -> FollowUp | None:
    """The survey text of this case still waiting for its 1/2/3 reply (for the SMS line)."""
    return db.session.scalar(
        select(FollowUp)
        .where(
            FollowUp.case_id == case.id,
            FollowUp.kind == FollowUpKind.SURVEY_SMS,
            FollowUp.status == FollowUpStatus.AWAITING,
        )
        .order_by(FollowUp.id.desc())
        .limit(1)
    )


def record_answer(
    case: Case, answer: Satisfaction, channel: str, follow_up: FollowUp | None = None
) -> SurveyResponse:
    """Store the answer, then close the case or reopen and escalate it. The caller commits.

    A survey text or visit is done once answered; a survey call stays AWAITING until Twilio's
    status callback ends it (outreach.dispatcher.note_call_outcome), which sees the answer.
    """
    response = SurveyResponse(
        case=case, answer=answer, channel=channel, follow_up_id=None, answered_at=now()
    )
    if follow_up is not None:
        response.follow_up_id = follow_up.id
        if follow_up.kind != FollowUpKind.SURVEY_CALL:
            follow_up.status = FollowUpStatus.DONE
            follow_up.outcome = "answered"
    db.session.add(response)
    case.satisfaction = answer
    add_event(case, EventKind.SURVEY_ANSWERED, RESIDENT, answer=answer.value, channel=channel)
    if answer == Satisfaction.NOT_SATISFIED:
        _reopen_and_escalate(case)
    elif case.status == CaseStatus.RESOLVED:
        transition(case, CaseStatus.CLOSED, RESIDENT)
    return response


def _reopen_and_escalate(case: Case) -> None:
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        transition(case, CaseStatus.REOPENED, RESIDENT, reason="not_satisfied")
    # Setting escalated_at also keeps the overdue beat (tasks.escalation) from escalating
    # and texting the supervisors about this case a second time.
    case.escalated_at = now()
    add_event(case, EventKind.ESCALATED, "system", reason="not_satisfied")
    notify_not_satisfied(case)


def notify_not_satisfied(case: Case) -> int:
    """Texts to every supervisor and to the assignee, in their language; none holds the
    resident's number. The family hears that the case is being worked on again."""
    default = current_settings().default_locale
    # A report of a problem (cases.linked) is worked on its main case: its handler is told.
    handler = main_of(case).assignee or case.assignee
    assignee = handler.name if handler else "-"
    recipients = {user.phone: user for user in supervisors()}
    for person in (handler, case.assignee):
        if person is not None and person.phone and person.active:
            recipients.setdefault(person.phone, person)
    for phone, user in recipients.items():
        words = catalogue(supported_locale(user.language, default), "sms")
        body = words.text("staff_not_satisfied_sms", number=case.number, assignee=assignee)
        purpose = "staff_assignee" if user in (handler, case.assignee) else "staff_supervisor"
        queue_sms(phone, body, purpose, case)
    # notify_supervisors (tasks.escalation) checks this event before texting anyone.
    add_event(
        case, EventKind.SUPERVISORS_NOTIFIED, recipients=len(recipients), reason="not_satisfied"
    )
    copy_to_family(case, "family_reopened_sms")
    tell_reporters(case, "reopened")
    return len(recipients)


def note_comment(
    response: SurveyResponse, recording_sid: str, call_sid: str = ""
) -> Recording | None:
    """The comment after "not satisfied": a recording of the case like any other (noted once,
    transcribed by the same pipeline); None if this answer already has a different comment."""
    if response.comment_recording_sid not in (None, recording_sid):
        return None
    locale = contact_of(response.case).locale
    recording, _ = note_recording(
        response.case, recording_sid, RecordingPurpose.SURVEY_COMMENT, locale, call_sid
    )
    expected = (RecordingPurpose.SURVEY_COMMENT, response.case_id)
    if (recording.purpose, recording.case_id) != expected:
        return None  # that SID belongs to something else
    if response.comment_recording_sid is None:
        response.comment_recording_sid = recording_sid
        db.session.commit()
    return recording
