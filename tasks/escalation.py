"""Overdue cases are escalated to the supervisors (街乡吹哨): once per case, by text.

Beat runs `escalate_overdue_cases` every minute. Each case is claimed with a conditional
UPDATE, so two schedulers or workers running at once never escalate the same case twice;
the texts are queued in the outbox with the claim, one per supervisor, sent after it commits.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from accounts.directory import supervisors
from cases.events import EventKind
from cases.models import Case, CaseStatus
from cases.services import add_event
from hotline.clock import now
from hotline.db import db, moved_one_row
from hotline.i18n import staff_text
from hotline.jobs import periodic
from outreach.outbox import queue_sms

log = logging.getLogger(__name__)
BATCH = 100
MAX_BATCHES = 20  # a minute's work at most; the next run picks up the rest
OPEN_STATUSES = [status for status in CaseStatus if status.is_open]


def _overdue_ids(moment: datetime) -> list[int]:
    """The next batch of open cases past their deadline that nobody has escalated yet."""
    return list(
        db.session.scalars(
            select(Case.id)
            .where(
                Case.status.in_(OPEN_STATUSES),
                Case.deadline_at < moment,
                Case.escalated_at.is_(None),
            )
            .order_by(Case.deadline_at, Case.id)
            .limit(BATCH)
        )
    )


def _claim(case_id: int, moment: datetime) -> bool:
    """Mark the case escalated and say so on its timeline; False if someone else got there."""
    claimed = moved_one_row(
        update(Case)
        .where(
            Case.id == case_id,
            Case.escalated_at.is_(None),
            Case.status.in_(OPEN_STATUSES),
            Case.deadline_at < moment,
        )
        .values(escalated_at=moment)
        .execution_options(synchronize_session=False)
    )
    if not claimed:
        db.session.rollback()
        return False
    case = db.session.get(Case, case_id, populate_existing=True)
    assert case is not None and case.deadline_at is not None  # the UPDATE just matched it
    add_event(
        case,
        EventKind.ESCALATED,
        deadline=case.deadline_at.isoformat(),
        assignee=case.assignee.name if case.assignee else "",
        overdue_minutes=int((moment - case.deadline_at).total_seconds() // 60),
    )
    text_supervisors(case)
    db.session.commit()
    return True


@periodic(60.0)
def escalate_overdue_cases() -> int:
    """Beat, every minute: escalate every open case past its deadline, and text supervisors."""
    moment = now()
    escalated = 0
    for _ in range(MAX_BATCHES):
        batch = _overdue_ids(moment)
        for case_id in batch:
            if _claim(case_id, moment):
                escalated += 1
        if len(batch) < BATCH:
            break
    return escalated


def text_supervisors(case: Case) -> int:
    """One outbox text to each supervisor, in their own language, without the resident's number."""
    recipients = supervisors()
    for user in recipients:
        queue_sms(user.phone, escalation_text(case, user.language), "escalation", case)
    if not recipients:
        log.error("case %s escalated, but no active admin has a phone to text", case.number)
    add_event(case, EventKind.SUPERVISORS_NOTIFIED, recipients=len(recipients))
    return len(recipients)


def _word(locale: str, key: str, **values: object) -> str:
    """A staff-facing word in `locale`, from the workspace catalogues (English if missing)."""
    return staff_text(locale, key, **values)


def _overdue_by(late: timedelta, locale: str) -> str:
    minutes = max(0, int(late.total_seconds() // 60))
    if minutes < 60:
        return _word(locale, "admin.escalation.minutes", minutes=minutes)
    if minutes < 48 * 60:
        return _word(locale, "admin.escalation.hours", hours=minutes // 60)
    return _word(locale, "admin.escalation.days", days=minutes // (24 * 60))


def escalation_text(case: Case, locale: str) -> str:
    """Case number, category, how late, who has it: enough to act, nothing about the caller."""
    moment = now()
    return _word(
        locale,
        "admin.escalation.sms",
        number=case.number,
        category=_word(locale, f"labels.category.{case.category}"),
        overdue=_overdue_by(moment - (case.deadline_at or moment), locale),
        assignee=case.assignee.name if case.assignee else _word(locale, "admin.escalation.nobody"),
    )
