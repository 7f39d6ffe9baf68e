"""The case lifecycle as a state machine; every transition is recorded on the timeline.

new -> accepted -> in_progress -> resolved -> closed, and reopened from resolved or closed.
不满意不销账: a resolved case closes after the resident's satisfied (or basically satisfied)
answer to this resolution; a dissatisfied resident reopens it. Without an answer, only a
supervisor closes it, with a written reason (close_without_answer). A case opened by mistake
(junk, a duplicate, no message) is closed as such before anything was done about it
(close_as_mistake), without a survey, and counts in no rate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from blinker import Namespace

from cases.deadlines import deadline_for
from cases.errors import Refused
from cases.events import EventKind
from cases.models import Case, CaseStatus, ClosedAs, Satisfaction
from cases.services import add_event
from hotline.clock import now
from hotline.i18n import Message

S = CaseStatus
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    S.NEW: (S.ACCEPTED,),
    S.ACCEPTED: (S.IN_PROGRESS, S.RESOLVED),
    S.IN_PROGRESS: (S.RESOLVED,),
    S.RESOLVED: (S.CLOSED, S.REOPENED),
    S.CLOSED: (S.REOPENED,),
    S.REOPENED: (S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED),
}
# Where a case opened by mistake may be closed from: before anything was done about it. A
# resolved or reopened case had a real request behind it, and goes through the survey.
MISTAKE_FROM = (S.NEW, S.ACCEPTED, S.IN_PROGRESS)
POSITIVE_ANSWERS = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)


# Sent after every transition, inside the same transaction: receivers (the follow-up
# scheduler) add their rows to the session and are committed, or rolled back, with it.
status_changed = Namespace().signal("case-status-changed")


class InvalidTransition(Refused):
    """Refused, with a message staff can act on; nothing was changed."""


def _status_word(status: CaseStatus) -> Message:
    return Message(f"case.refused.status.{status.value}")


def allowed_next(case: Case) -> tuple[CaseStatus, ...]:
    return TRANSITIONS[case.status]


def satisfied_since_resolved(case: Case) -> bool:
    """The resident's latest answer, given since the case was last resolved, is satisfied or
    basically satisfied. An answer to an earlier resolution does not close this one."""
    answer = None
    for event in case.events:
        if event.kind == EventKind.STATUS_CHANGED and event.detail.get("to") == S.RESOLVED:
            answer = None
        elif event.kind == EventKind.SURVEY_ANSWERED:
            answer = event.detail.get("answer")
    return answer in POSITIVE_ANSWERS


def _check(case: Case, to: CaseStatus) -> None:
    if to not in TRANSITIONS[case.status]:
        allowed = tuple(_status_word(status) for status in TRANSITIONS[case.status])
        raise InvalidTransition(
            "case.refused.bad_transition",
            number=case.number,
            status=_status_word(case.status),
            allowed=allowed or Message("case.refused.nowhere"),
            to=_status_word(to),
        )


def transition(case: Case, to: CaseStatus, actor: str, note: str = "", **detail: Any) -> None:
    """Move the case on; `detail` adds to the timeline's record (a `reason` code, say)."""
    _check(case, to)
    if to == S.RESOLVED and not note.strip():
        raise InvalidTransition("case.refused.resolution_note_needed")
    if to == S.CLOSED and not satisfied_since_resolved(case):
        raise InvalidTransition("case.refused.close_needs_answer", number=case.number)
    _move(case, to, actor, note, **detail)


def close_without_answer(case: Case, actor: str, reason: str) -> None:
    """A supervisor closes a resolved case the resident never answered for, saying why.
    Who is a supervisor is the caller's check (cases.actions.close)."""
    _check(case, S.CLOSED)
    if not reason.strip():
        raise InvalidTransition("case.refused.close_reason_needed", number=case.number)
    case.closed_as = ClosedAs.WITHOUT_ANSWER
    case.close_reason = reason.strip()
    _move(case, S.CLOSED, actor, "", closed_as=ClosedAs.WITHOUT_ANSWER.value, reason=reason)


def close_as_mistake(
    case: Case, actor: str, how: ClosedAs, note: str = "", duplicate_of: Case | None = None
) -> None:
    """Close a case that was opened by mistake: no survey follows, no rate counts it."""
    if not how.by_mistake:
        raise ValueError(f"{how} is not a mistake")
    if case.status not in MISTAKE_FROM:
        raise InvalidTransition(
            "case.refused.mistake_too_late", number=case.number, status=_status_word(case.status)
        )
    if (how == ClosedAs.DUPLICATE) != (duplicate_of is not None):
        raise ValueError("a duplicate, and only a duplicate, names the case it repeats")
    case.closed_as = how
    case.close_reason = note.strip()
    case.duplicate_of_id = duplicate_of.id if duplicate_of else None
    extra = {"duplicate_of": duplicate_of.number} if duplicate_of else {}
    _move(case, S.CLOSED, actor, note.strip(), closed_as=how.value, **extra)


def _move(case: Case, to: CaseStatus, actor: str, note: str, **detail: Any) -> None:
    moment = now()
    previous = case.status
    case.status = to
    if to == S.RESOLVED:
        case.resolution_note = note.strip()
        case.resolved_at = moment
    elif to == S.CLOSED:
        case.closed_at = moment
    elif to == S.REOPENED:
        case.resolved_at = case.closed_at = None
        case.closed_as, case.close_reason, case.duplicate_of_id = None, "", None
        case.deadline_at = deadline_for(case.urgency, moment, case.category)
        case.escalated_at = None  # a new deadline, so it may be escalated again
    add_event(
        case,
        EventKind.STATUS_CHANGED,
        actor,
        **{"from": previous.value, "to": to.value, "note": note, **detail},
    )
    status_changed.send(case, previous=previous, to=to)


def is_overdue(case: Case, moment: datetime | None = None) -> bool:
    return (
        case.status.is_open
        and case.deadline_at is not None
        and case.deadline_at < (moment or now())
    )
