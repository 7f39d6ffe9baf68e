"""The case lifecycle as a state machine; every transition is recorded on the timeline.

new -> accepted -> in_progress -> resolved -> closed, and reopened from resolved or closed.
不满意不销账: a case is closed only from resolved (the resident was satisfied), and a
dissatisfied resident reopens it.
"""

from __future__ import annotations

from datetime import datetime

from blinker import Namespace

from cases.deadlines import deadline_for
from cases.errors import Refused
from cases.events import EventKind
from cases.models import Case, CaseStatus
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


# Sent after every transition, inside the same transaction: receivers (the follow-up
# scheduler) add their rows to the session and are committed, or rolled back, with it.
status_changed = Namespace().signal("case-status-changed")


class InvalidTransition(Refused):
    """Refused, with a message staff can act on; nothing was changed."""


def _status_word(status: CaseStatus) -> Message:
    return Message(f"case.refused.status.{status.value}")


def allowed_next(case: Case) -> tuple[CaseStatus, ...]:
    return TRANSITIONS[case.status]


def transition(case: Case, to: CaseStatus, actor: str, note: str = "") -> None:
    if to not in TRANSITIONS[case.status]:
        allowed = tuple(_status_word(status) for status in TRANSITIONS[case.status])
        raise InvalidTransition(
            "case.refused.bad_transition",
            number=case.number,
            status=_status_word(case.status),
            allowed=allowed or Message("case.refused.nowhere"),
            to=_status_word(to),
        )
    if to == S.RESOLVED and not note.strip():
        raise InvalidTransition("case.refused.resolution_note_needed")
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
        case.deadline_at = deadline_for(case.urgency, moment, case.category)
        case.escalated_at = None  # a new deadline, so it may be escalated again
    add_event(
        case,
        EventKind.STATUS_CHANGED,
        actor,
        **{"from": previous.value, "to": to.value, "note": note},
    )
    status_changed.send(case, previous=previous, to=to)


def is_overdue(case: Case, moment: datetime | None = None) -> bool:
    return (
        case.status.is_open
        and case.deadline_at is not None
        and case.deadline_at < (moment or now())
    )
