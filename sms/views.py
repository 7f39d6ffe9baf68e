"""POST /sms/incoming: every text a resident sends, answered in their language.

Twilio posts each inbound text here (signed) and sends whatever <Message> the TwiML answer
holds. What a text does lives in sms/handlers.py; doing it exactly once in sms/inbound.py;
what happens while the database does not answer in sms/degraded.py.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.messaging_response import MessagingResponse

from hotline import spool
from hotline.clock import now
from hotline.twilio_signature import twilio_signed
from sms import degraded
from sms.handlers import IncomingText
from sms.inbound import receive
from sms.reading import clean, truncate

bp = Blueprint("sms", __name__, url_prefix="/sms")

# The columns' sizes. Twilio's MessageSids are 34 characters and its numbers E.164 (at most
# 16); anything longer did not come from Twilio's SMS webhook, and cannot be stored as it is.
MAX_SID = 64
MAX_FROM = 20  # residents.phone, where an opt-out is kept
MAX_TO = 32


@bp.post("/incoming")
@twilio_signed
def incoming() -> Response:
    """A text from a resident: stored, acted on once, answered in TwiML."""
    return _twiml(receive(_incoming_text()))


@bp.errorhandler(SQLAlchemyError)
def without_database(error: SQLAlchemyError) -> Response:
    """The database does not answer: the text is kept until it does, and the resident told."""
    if not spool.on_database_error(error, must_keep=True):
        return Response(status=503)  # not kept: "we have your text" would be untrue
    return _twiml(degraded.reply(_incoming_text()))


def _twiml(reply: str | None) -> Response:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return Response(str(response), mimetype="text/xml")


def _incoming_text() -> IncomingText:
    """The form Twilio posted; 400 without a usable MessageSid and From, tolerant of the rest."""
    message_sid = clean(request.form.get("MessageSid", ""))
    from_phone = clean(request.form.get("From", ""))
    if not message_sid or not from_phone:
        abort(400, "MessageSid and From are required")
    if len(message_sid) > MAX_SID or any(c.isspace() for c in message_sid):
        abort(400, "MessageSid is not one Twilio sends")
    if len(from_phone) > MAX_FROM or any(c.isspace() for c in from_phone):
        abort(400, "From is not a phone number")
    body = clean(request.form.get("Body", ""))
    return IncomingText(
        message_sid=message_sid,
        from_phone=from_phone,
        to_phone=clean(request.form.get("To", ""))[:MAX_TO],
        body=truncate(body),
        received_chars=len(body),
        spooled_at=_spooled_at(),
    )


def _spooled_at() -> datetime | None:
    """When a text replayed from the spool came (now, if its file does not say); None live."""
    if not spool.replaying():
        return None
    return spool.received_at() or now()
