"""Staff reaching the resident by hand from the case page: a text, and a phone call made.

* A text goes through the outbox (outreach.outbox) to the case's contact (the resident's
  number, else the caller's), headed in the resident's language with the hotline's name and
  the case number, as every text of the hotline is. It must fit in two SMS segments, as the
  hotline's own texts do (hotline.segments): elderly residents' phones show longer texts out
  of order or in pieces. It waits for the calling hours (and the resident's own hours), as
  family copies do. Refused, with nothing queued: an empty text, one too long, a case without
  a number, a number that texted STOP or a resident marked "no text messages".
* A call made to the resident is recorded with its outcome (answered, no answer, wrong number)
  and a note. A call that reached the resident is the case's first response: a new case is
  accepted (the dashboard's response rate counts when a case left "new"). A report of a
  problem (cases.linked) keeps following its main case's status.

The timeline records what was written or what came of the call, never the number. Whoever may
change the case may do both (cases.permissions.can_edit). The caller commits; a refusal
(cases.errors.Refused) changes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from accounts.models import User
from cases.actions import MAX_NOTE, clean_text
from cases.errors import Refused
from cases.events import EventKind
from cases.lifecycle import transition
from cases.models import Case, CaseEvent, CaseStatus
from cases.permissions import can_edit
from cases.services import add_event
from hotline.clock import now
from hotline.db import db
from hotline.i18n import Message
from hotline.segments import GSM7_PART, count_segments, is_gsm7
from outreach.models import OutboundMessage
from outreach.outbox import queue_sms, texted_stop
from outreach.schedule import Contact, contact_of, next_window

MAX_SEGMENTS = 2  # as the hotline's own texts (tests/sms/test_segments.py)
MAX_TEXT = 1000  # what is read at all, before the segments are counted
TEXT_PURPOSE = "staff_text"  # the outbox row's purpose: "a text from staff" on the timeline
TEXT_TEMPLATE = "staff_text_sms"  # the heading, in the resident's language (messages/*/sms.toml)


class CallOutcome(enum.StrEnum):
    """What came of a call staff made to the resident."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"


# ---- who ---------------------------------------------------------------------------------------


def may_contact(user: User, case: Case) -> bool:
    """The same people who may change the case."""
    return can_edit(user, case)


def _refuse_unless_theirs(user: User, case: Case) -> None:
    if not may_contact(user, case):
        raise Refused("contact.refused.not_yours", number=case.number)


# ---- a text ------------------------------------------------------------------------------------


def text_body(case: Case, contact: Contact, words: str) -> str:
    """The text as the resident reads it: the heading in their language, then staff's words."""
    return contact.texts.text(TEXT_TEMPLATE, number=case.number, text=words)


def _room(case: Case, contact: Contact, letter: str) -> int:
    """How many `letter`s fit in MAX_SEGMENTS after the heading (found by bisection)."""
    low, high = 0, MAX_SEGMENTS * GSM7_PART
    while low < high:
        middle = (low + high + 1) // 2
        if count_segments(text_body(case, contact, letter * middle)).segments <= MAX_SEGMENTS:
            low = middle
        else:
            high = middle - 1
    return low


def room_for(case: Case, contact: Contact, words: str) -> int:
    """About how many characters like `words`' fit once headed: a text of GSM-7 characters
    only holds 153 a segment, one Chinese or Korean letter (or a curly quote) makes all of it
    UCS-2, which holds 67."""
    return _room(case, contact, "a" if is_gsm7(text_body(case, contact, words)) else "中")


def text_room(case: Case, contact: Contact) -> int:
    """For the form's hint: how many characters of the resident's own language fit."""
    return room_for(case, contact, "a" if contact.locale == "en-US" else "中")


@dataclass(frozen=True)
class Texted:
    """A text queued for the resident: the outbox row, its line on the timeline, and whether
    it waits for the calling hours."""

    message: OutboundMessage
    event: CaseEvent
    later: bool


def text_resident(case: Case, text: str | None, by: User) -> Texted:
    """Queue staff's text to the case's contact, in their language, within the calling hours."""
    _refuse_unless_theirs(by, case)
    words = clean_text(text, MAX_TEXT, "text_message")
    contact = contact_of(case)
    if not contact.phone:
        raise Refused("contact.refused.no_phone", number=case.number)
    _refuse_if_opted_out(contact)
    body = text_body(case, contact, words)
    if count_segments(body).segments > MAX_SEGMENTS:
        raise Refused(
            "contact.refused.too_long", length=len(words), limit=room_for(case, contact, words)
        )
    moment = now()
    due = next_window(moment, contact)
    message = queue_sms(contact.phone, body, TEXT_PURPOSE, case, due_at=due)
    db.session.flush()  # its id goes on the timeline
    event = add_event(
        case,
        EventKind.RESIDENT_TEXTED,
        by.name,
        text=words,
        locale=contact.locale,
        due_at=due.isoformat(),
        later=due > moment,
        message=message.id,
    )
    return Texted(message, event, later=due > moment)


def _refuse_if_opted_out(contact: Contact) -> None:
    """STOP from the number, or staff's own mark on the resident: no text, and said which."""
    if contact.can_text:
        return
    if texted_stop([contact.phone]):
        raise Refused("contact.refused.texted_stop")
    raise Refused("contact.refused.no_texts_mark")


# ---- a call ------------------------------------------------------------------------------------


def record_call(case: Case, outcome: str | None, note: str | None, by: User) -> CaseEvent:
    """A call staff made to the resident, with what came of it; an answered call takes up a
    new case (its first response)."""
    _refuse_unless_theirs(by, case)
    try:
        result = CallOutcome(outcome or "")
    except ValueError:
        raise Refused(
            "contact.refused.unknown_outcome",
            allowed=tuple(Message(f"contact.outcome.{known.value}") for known in CallOutcome),
        ) from None
    written = clean_text(note, MAX_NOTE, "note", required=False)
    if not contact_of(case).phone:
        raise Refused("contact.refused.no_phone_to_call", number=case.number)
    event = add_event(case, EventKind.RESIDENT_CALLED, by.name, outcome=result.value, note=written)
    # A report of another case's problem follows its main case's status, and the main case
    # is the one the response rate counts (cases.reports.a_problem).
    first_response = result == CallOutcome.ANSWERED and case.status == CaseStatus.NEW
    if first_response and case.main_case_id is None:
        transition(case, CaseStatus.ACCEPTED, by.name, reason="resident_called")
    return event
