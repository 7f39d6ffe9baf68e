"""Each text is handled exactly once, in one transaction, and lands on its case's timeline.

The InboundMessage row is inserted first and flushed: its unique MessageSid makes a replay of
the same webhook (Twilio retries; two requests may race) fail right there, before anything is
done. The replay is answered with the reply the first one got, if there was one, and does
nothing else. Everything a text does is committed together with its row, or not at all.

A text kept in the spool while the database did not answer (sms.degraded told the resident it
came) is handled here the same way once the spool replays it, as of the moment it came; the
reply it would have had in TwiML, which no one reads on a replay, is queued as a text in the
same transaction instead, so it goes once however often the file is replayed.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cases.events import EventKind
from cases.models import CaseEvent, Resident
from cases.services import add_event, find_resident
from hotline.clock import now
from hotline.db import db
from hotline.i18n import supported_locale
from hotline.redaction import mask_phone
from hotline.settings import current_settings
from outreach.models import InboundMessage
from outreach.outbox import opted_out, queue_sms
from sms.handlers import KEYWORD_HANDLERS, Context, Handled, IncomingText, count_text, handle
from sms.reading import Intent, Reading, read, script_locale

log = logging.getLogger(__name__)
ATTEMPTS = 3  # a conflict means another request committed first; the next attempt sees it


def receive(text: IncomingText) -> str | None:
    """Handle one text; returns the reply to send back in TwiML, or None to send nothing."""
    for _ in range(ATTEMPTS):
        earlier = _stored(text.message_sid)
        if earlier is not None:
            log.info("text %s received again: not handled twice", text.message_sid)
            return None if text.spooled_at else _earlier_reply(earlier)
        try:
            handled = _handle(text)
            db.session.commit()
        except IntegrityError:
            # A replay of this MessageSid committed first.
            db.session.rollback()
            continue
        log.info(
            "text %s from %s: %s", text.message_sid, mask_phone(text.from_phone), handled.outcome
        )
        return None if text.spooled_at else handled.reply
    raise RuntimeError(f"text {text.message_sid} kept conflicting with other requests")


def _stored(message_sid: str) -> InboundMessage | None:
    return db.session.scalar(
        select(InboundMessage).where(InboundMessage.message_sid == message_sid)
    )


def _handle(text: IncomingText) -> Handled:
    moment = text.spooled_at or now()
    message = InboundMessage(
        message_sid=text.message_sid,
        from_phone=text.from_phone,
        to_phone=text.to_phone,
        body=text.body,
        received_at=moment,
    )
    db.session.add(message)
    db.session.flush()  # a replay stops here, before anything is done
    # First, so that everything after it sees what the number's earlier texts did (on
    # PostgreSQL it waits for them to commit).
    place = count_text(text.from_phone, moment)
    resident = find_resident(text.from_phone)
    was_opted_out = opted_out(text.from_phone)
    reading = read(text.body)
    locale = reply_locale(resident, text.body, reading)
    handled = handle(Context(text, message, resident, locale, reading, moment, place))
    if was_opted_out and reading.intent != Intent.START:
        handled.reply = None  # after STOP, nothing but the answer to START
    _record(message, handled, text)
    if text.spooled_at:
        _reply_late(text, reading, handled)
    return handled


def _reply_late(text: IncomingText, reading: Reading, handled: Handled) -> None:
    """The reply of a text kept while the database was down, as a text of its own: it was only
    told then that its text came. STOP, START and HELP had their whole answer then."""
    if handled.reply and reading.intent not in KEYWORD_HANDLERS:
        queue_sms(text.from_phone, handled.reply, "late_reply", handled.case)


def reply_locale(resident: Resident | None, body: str, reading: Reading) -> str:
    """The resident's language; else the language of the command word or of the script."""
    default = current_settings().default_locale
    if resident is not None:
        return supported_locale(resident.language, default)
    return reading.keyword_locale or script_locale(body) or default


def _record(message: InboundMessage, handled: Handled, text: IncomingText) -> None:
    """The outcome on the message; the text and the reply on the case's timeline."""
    message.outcome = handled.outcome
    case = handled.case
    if case is None:
        return
    message.case_id = case.id
    detail = {"text": text.body, "message_sid": text.message_sid, **handled.detail}
    if text.received_chars > len(text.body):
        detail["truncated_from"] = text.received_chars
    add_event(case, EventKind.SMS_RECEIVED, "resident", **detail)
    if handled.reply:
        add_event(case, EventKind.SMS_REPLIED, text=handled.reply, in_reply_to=text.message_sid)


def _earlier_reply(message: InboundMessage) -> str | None:
    """What the first delivery of this text was answered, so a retried webhook gets it too."""
    if message.case_id is None or opted_out(message.from_phone):
        return None
    replies = db.session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id == message.case_id, CaseEvent.kind == EventKind.SMS_REPLIED
        )
    )
    for event in replies:
        if (
            isinstance(event.detail, dict)
            and event.detail.get("in_reply_to") == message.message_sid
        ):
            return str(event.detail.get("text") or "") or None
    return None
