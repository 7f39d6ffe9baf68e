"""The text outbox: queued in the caller's transaction, sent by a worker after commit.

A text to a number that opted out is kept as `suppressed` (the timeline shows it was not
sent), never sent; opting out between queueing and sending is checked again at send time. An
opt-out is kept by phone number (SmsOptOut), so it holds for a caller we have no record of.

Sending exactly once: a text due now is claimed (SENDING) by whoever queues it, and a later
or retried one by the dispatcher (outreach.dispatcher); either publishes
`tasks.followups.send_text` after commit. The task takes a lease on the row (moves `due_at`
from the past to now + SEND_LEASE with a conditional UPDATE), so a duplicate task finds the
lease held and does nothing. A worker killed after Twilio took the text but before we noted
its SID leaves the lease to expire; the next task first asks Twilio whether that text already
went out (same number, same body, since the claim) and adopts it instead of sending again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update

from cases.events import EventKind
from cases.models import Case, Resident
from cases.services import add_event
from hotline.clock import now
from hotline.db import db, moved_one_row, upsert
from hotline.jobs import publish
from hotline.redaction import mask_phone
from hotline.telephony import (
    Telephony,
    TelephonyNotConfigured,
    TelephonyRefused,
    current_telephony,
)
from outreach.models import OutboundMessage, OutboundStatus, SmsOptOut

log = logging.getLogger(__name__)
SEND_LEASE = timedelta(seconds=45)  # longer than the Twilio client's timeout
MAX_SEND_ATTEMPTS = 5
RECONCILE_SLACK = timedelta(minutes=2)  # our clock and Twilio's may disagree a little


def opted_out(phone: str) -> bool:
    """No text to this number: it texted STOP (until it texts START), or staff marked the
    resident with this number "no text messages". Checked when a text is queued and again
    just before it is sent."""
    stopped = select(SmsOptOut.phone).where(SmsOptOut.phone == phone)
    marked = select(Resident.id).where(Resident.phone == phone, Resident.sms_opt_out)
    return bool(db.session.scalar(select(exists(stopped) | exists(marked))))


def texted_stop(phones: Sequence[str]) -> dict[str, datetime]:
    """Which of these numbers texted STOP (and not START since), and when: for staff pages."""
    rows = db.session.execute(
        select(SmsOptOut.phone, SmsOptOut.opted_out_at).where(SmsOptOut.phone.in_(phones))
    )
    return {phone: moment for phone, moment in rows}


def opt_out(phone: str, moment: datetime) -> None:
    """STOP from this number: kept by the number, whoever it belongs to (the caller commits)."""
    db.session.execute(
        upsert(SmsOptOut).values(phone=phone, opted_out_at=moment).on_conflict_do_nothing()
    )


def opt_in(phone: str) -> None:
    """START from this number: texts go to it again, its resident's mark included."""
    db.session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone))
    db.session.execute(
        update(Resident)
        .where(Resident.phone == phone, Resident.sms_opt_out)
        .values(sms_opt_out=False)
        .execution_options(synchronize_session="fetch")
    )


SEND_TEXT_TASK = "tasks.followups.send_text"
Q = OutboundStatus


def queue_sms(
    to_phone: str,
    body: str,
    purpose: str,
    case: Case | None = None,
    due_at: datetime | None = None,
) -> OutboundMessage:
    """One text to one recipient, in the caller's transaction: every text the hotline sends.

    A text due now is claimed at once and its send task published when the transaction
    commits; a later one waits for the dispatcher. If the broker refuses the publish, the text
    goes back to the queue for the dispatcher's next tick; if the task is lost after it was
    published, the dispatcher's stale sweep sends it.
    """
    moment = now()
    message = OutboundMessage(
        to_phone=to_phone,
        body=body,
        purpose=purpose,
        case_id=case.id if case is not None else None,
        due_at=due_at or moment,
        status=OutboundStatus.SUPPRESSED if opted_out(to_phone) else OutboundStatus.QUEUED,
    )
    db.session.add(message)
    if message.status == OutboundStatus.SUPPRESSED:
        if case is not None:
            add_event(case, EventKind.SMS_SUPPRESSED, purpose=purpose, reason="opted_out")
        return message
    if message.due_at <= moment:
        message.status = OutboundStatus.SENDING  # claimed by us, as the dispatcher would
        db.session.flush()
        give_back = (
            update(OutboundMessage)
            .where(
                OutboundMessage.id == message.id, OutboundMessage.status == OutboundStatus.SENDING
            )
            .values(status=Q.QUEUED)
        )
        publish(SEND_TEXT_TASK, message.id, undo=give_back)
    return message


def _take_lease(message_id: int, moment: datetime) -> bool:
    """Only one worker sends a claimed text: the one whose UPDATE finds the lease free."""
    taken = moved_one_row(
        update(OutboundMessage)
        .where(
            OutboundMessage.id == message_id,
            OutboundMessage.status == OutboundStatus.SENDING,
            OutboundMessage.due_at <= moment,
        )
        .values(due_at=moment + SEND_LEASE, attempts=OutboundMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return taken


def send(message_id: int) -> OutboundStatus | None:
    """Send one claimed text (the worker task's body); returns its status, None if not ours."""
    moment = now()
    message = db.session.get(OutboundMessage, message_id)
    if message is None or message.status != OutboundStatus.SENDING:
        return None
    earlier_attempts = message.attempts
    if not _take_lease(message_id, moment):
        return None
    db.session.refresh(message)
    if opted_out(message.to_phone):
        return _finish(message, OutboundStatus.SUPPRESSED, reason="opted_out")
    telephony = current_telephony()
    try:
        sid = _already_sent(telephony, message) if earlier_attempts else None
        sid = sid or telephony.send_sms(message.to_phone, message.body)
    except Exception as error:
        return _failed_attempt(message, error)
    message.message_sid = sid
    message.sent_at = now()
    return _finish(message, OutboundStatus.SENT)


def _already_sent(telephony: Telephony, message: OutboundMessage) -> str | None:
    """A previous attempt may have reached Twilio (worker killed, timeout, 5xx): ask first."""
    sid = telephony.message_sent_since(
        message.to_phone, message.body, message.created_at - RECONCILE_SLACK
    )
    if sid is None:
        return None
    taken = db.session.scalar(
        select(OutboundMessage.id).where(
            OutboundMessage.message_sid == sid, OutboundMessage.id != message.id
        )
    )
    if taken is not None:
        return None  # that text belongs to another row with the same words
    log.info("text %s had already gone out as %s: adopting it", message.id, sid)
    return sid


def _failed_attempt(message: OutboundMessage, error: Exception) -> OutboundStatus:
    message.last_error = str(error)[:500]
    if isinstance(error, TelephonyRefused | TelephonyNotConfigured):
        return _finish(message, OutboundStatus.FAILED, error=message.last_error)
    if message.attempts >= MAX_SEND_ATTEMPTS:
        return _finish(message, OutboundStatus.FAILED, error=message.last_error)
    # Back to the queue: the dispatcher picks it up again after a growing pause.
    message.status = OutboundStatus.QUEUED
    message.due_at = now() + timedelta(minutes=2**message.attempts)
    db.session.commit()
    log.warning(
        "text %s to %s failed, will retry: %s", message.id, mask_phone(message.to_phone), error
    )
    return OutboundStatus.QUEUED


def _finish(message: OutboundMessage, status: OutboundStatus, **detail: str) -> OutboundStatus:
    message.status = status
    case = db.session.get(Case, message.case_id) if message.case_id else None
    if case is not None:
        kind = {
            OutboundStatus.SENT: EventKind.SMS_SENT,
            OutboundStatus.SUPPRESSED: EventKind.SMS_SUPPRESSED,
        }.get(status, EventKind.SMS_FAILED)
        add_event(case, kind, purpose=message.purpose, message_sid=message.message_sid, **detail)
    db.session.commit()
    return status
