"""The case lifecycle as a state machine; every transition is recorded on the timeline.

new -> accepted -> in_progress -> resolved -> closed, and reopened from resolved or closed.
不满意不销账: a resolved case closes after the resident's satisfied (or basically satisfied)
answer to this resolution; a dissatisfied resident reopens it. Without an answer, only a
supervisor closes it, with a written reason (close_without_answer). A case opened by mistake
(junk, a duplicate, no message) is closed as such before anything was done about it
(close_as_mistake), without a survey, and counts in no rate.

One problem, many reporters (cases.linked): a case linked to a main case follows it. Its
status moves on with the main case's work (accepted, in progress) and it is resolved with the
main case, with the same note; resolving it on its own is refused. Closing stays each
reporter's own: a report closes after its own resident's satisfied answer (不满意不销账 for
each reporter), so a main case that closes leaves its reports waiting for their answers.
Reopening is the problem's: a report reopened (its resident not satisfied, or by staff)
reopens the main case, and a main case reopened takes back to work the reports still waiting
for an answer; a report whose resident was satisfied stays closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from blinker import Namespace

from cases.deadlines import deadline_for
from cases.errors import Refused
from cases.events import EventKind
from cases.linked import linked_cases
from cases.models import Case, CaseStatus, ClosedAs, Satisfaction
from cases.services import add_event
from hotline.clock import now
from hotline.db import db
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
    if to == S.RESOLVED and case.main_case_id is not None:
        raise InvalidTransition(
            "linked.refused.resolve_the_main_case", number=case.number, main=case.main_case_number
        )
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
    extra: dict[str, Any] = {"duplicate_of": duplicate_of.number} if duplicate_of else {}
    _move(case, S.CLOSED, actor, note.strip(), closed_as=how.value, **extra)


def _move(
    case: Case, to: CaseStatus, actor: str, note: str, *, carried: bool = False, **detail: Any
) -> None:
    """Change the status, say so on the timeline and to the receivers; then carry the change
    to the other cases of the same problem, unless it was carried here from one of them."""
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
        # A report has no deadline of its own: its main case's is the problem's.
        linked = case.main_case_id is not None
        case.deadline_at = None if linked else deadline_for(case.urgency, moment, case.category)
        case.escalated_at = None  # a new deadline, so it may be escalated again
    add_event(
        case,
        EventKind.STATUS_CHANGED,
        actor,
        **{"from": previous.value, "to": to.value, "note": note, **detail},
    )
    status_changed.send(case, previous=previous, to=to)
    if not carried:
        _carry(case, to, actor, note)


# ---- one problem, many reporters -----------------------------------------------------------


def _carry(case: Case, to: CaseStatus, actor: str, note: str) -> None:
    """A report reopened reopens its main case; a main case's move is carried to its reports."""
    if case.main_case_id is None:
        _carry_to_reports(case, to, actor, note)
        return
    if to != S.REOPENED:
        return
    main = db.session.get(Case, case.main_case_id)
    if main is not None and main.status in (S.RESOLVED, S.CLOSED):
        _move(main, S.REOPENED, actor, "", carried=True, with_case=case.number)
        _carry_to_reports(main, S.REOPENED, actor, "")


def _carry_to_reports(main: Case, to: CaseStatus, actor: str, note: str) -> None:
    if to == S.CLOSED:
        return  # each reporter's own answer closes their case
    for report in linked_cases(main):
        if to == S.REOPENED:
            if report.status == S.RESOLVED:  # waiting for an answer: back to work
                _move(report, S.REOPENED, actor, "", carried=True, with_case=main.number)
            continue
        if report.status.is_open:
            follow(report, main, actor, to, note)


def follow(
    report: Case, main: Case, actor: str, to: CaseStatus | None = None, note: str = ""
) -> None:
    """Move an open report on to `to` (by default where its main case is), through the steps
    of the work; never back, and never closed or reopened this way."""
    target = to or main.status
    if target == S.RESOLVED:
        report.resolution_locale = main.resolution_locale
        report.resolution_translations = dict(main.resolution_translations)
        note = note or main.resolution_note
    for step in _steps(report.status, target):
        _move(
            report,
            step,
            actor,
            note if step == S.RESOLVED else "",
            carried=True,
            with_case=main.number,
        )


def _steps(start: CaseStatus, goal: CaseStatus) -> list[CaseStatus]:
    """The shortest way from `start` to `goal` through the work (no closing or reopening on
    the way); empty when there is none, or nothing to do."""
    ways: dict[CaseStatus, list[CaseStatus]] = {start: []}
    queue = [start]
    while queue:
        status = queue.pop(0)
        if status == goal:
            return ways[status]
        for after in TRANSITIONS[status]:
            if after not in ways and after not in (S.CLOSED, S.REOPENED):
                ways[after] = [*ways[status], after]
                queue.append(after)
    return []


def is_overdue(case: Case, moment: datetime | None = None) -> bool:
    return (
        case.status.is_open
        and case.deadline_at is not None
        and case.deadline_at < (moment or now())
    )
