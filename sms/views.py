"""POST /sms/incoming: every text a resident sends, answered in their language.

Twilio posts each inbound text here (signed) and sends whatever <Message> the TwiML answer
holds. What a text does lives in sms/handlers.py; doing it exactly once in sms/inbound.py;
what happens while the database does not answer in sms/degraded.py.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.messaging_response import MessagingResponse

from cases.models import Resident
from hotline import spool
from hotline.clock import now
from hotline.twilio_signature import twilio_signed
from hotline.webhook_fields import CallerId, Sid, Text
from outreach.models import InboundMessage
from sms import degraded
from sms.handlers import IncomingText
from sms.inbound import receive
from sms.reading import truncate

bp = Blueprint("sms", __name__, url_prefix="/sms")

# A sender we answer and whose opt-out we keep (on the resident's phone) must fit that
# column, or the opt-out would be kept for another number: 400, not cut. Twilio's numbers are
# E.164 (at most 16 characters).
MESSAGE_SID = Sid("MessageSid", ("SM", "MM"))
FROM = CallerId("From", Resident.phone, strict=True)
TO = CallerId("To", InboundMessage.to_phone)
BODY = Text("Body", InboundMessage.body, keep_lines=True)  # cut, marked, by sms.reading


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
    message_sid = MESSAGE_SID.require()
    from_phone = FROM.read()
    body = BODY.read()
    return IncomingText(
        message_sid=message_sid,
        from_phone=from_phone,
        to_phone=TO.read(),
        body=truncate(body),
        received_chars=len(body),
        spooled_at=_spooled_at(),
    )


def _spooled_at() -> datetime | None:
    """When a text replayed from the spool came (now, if its file does not say); None live."""
    if not spool.replaying():
        return None
    return spool.received_at() or now()
