"""Queue a text in the outbox, in the caller's transaction; a worker sends it after commit.

A text to someone who opted out is kept as `suppressed` (the timeline shows it was not sent),
never sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cases.models import Case, Resident
from hotline.clock import now
from hotline.db import db
from outreach.models import OutboundMessage, OutboundStatus


def opted_out(phone: str) -> bool:
    return bool(
        db.session.scalar(
            select(Resident.sms_opt_out).where(Resident.phone == phone, Resident.sms_opt_out)
        )
    )


def queue_sms(
    to_phone: str,
    body: str,
    purpose: str,
    case: Case | None = None,
    due_at: datetime | None = None,
) -> OutboundMessage:
    message = OutboundMessage(
        to_phone=to_phone,
        body=body,
        purpose=purpose,
        case_id=case.id if case is not None else None,
        due_at=due_at or now(),
        status=OutboundStatus.SUPPRESSED if opted_out(to_phone) else OutboundStatus.QUEUED,
    )
    db.session.add(message)
    return message
