"""What follow-up comes next, and when: the schedule lives in the follow_ups table.

* A case is resolved -> a survey (回访) is scheduled: by phone after HOTLINE_SURVEY_DELAY_MINUTES
  or, when unset, the next morning at the opening of the calling window; by text when the
  resident asked not to be called; a home visit when neither is possible. Family contacts
  who receive updates get a copy of the resolution, and so does a building leader who
  reported it for the resident (`tell_reporters`), as of its progress and of a reopening.
* A case is reopened or closed -> pending surveys are cancelled.
* A survey call is not answered (no answer, busy, failed, an answering machine, or nobody
  pressed a key) -> it is tried again at another time of day (3 attempts over 2 days), then
  by text, and when the text gets no reply within SMS_REPLY_WAIT, a visit by the grid worker.
* A case open for more than a week gets a progress update every week until it is resolved.
* A problem reported by several residents (cases.linked) is resolved on its main case and
  on every report with it: each reporter is texted that it is resolved (their own case
  number) and gets a survey of their own.

Every decision is a row change in the caller's transaction plus a line on the case timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, or_, select

from cases.events import EventKind
from cases.linked import shares_a_problem
from cases.models import Case, CaseStatus, Resident
from cases.services import add_event
from hotline.clock import now
from hotline.config import HoursWindow
from hotline.db import db
from hotline.i18n import Catalogue, catalogue, supported_locale
from hotline.settings import current_settings
from outreach.models import FollowUp, FollowUpKind, FollowUpStatus
from outreach.outbox import opted_out, queue_sms
from outreach.window import next_allowed_moment, parse_preferred

log = logging.getLogger(__name__)

K = FollowUpKind
S = FollowUpStatus
SURVEY_CALL_ATTEMPTS = 3
# After attempt 1 fails: +3 h; after attempt 2: +29 h. Morning, midday, late afternoon of the
# next day: a resident out every morning is still reached, all within two days.
RETRY_GAPS = (timedelta(hours=3), timedelta(hours=29))
SMS_REPLY_WAIT = timedelta(hours=24)  # how long a survey text waits for its 1/2/3 reply
PROGRESS_EVERY = timedelta(days=7)
PENDING = (S.SCHEDULED, S.CLAIMED, S.PLACING, S.AWAITING)
SURVEY_KINDS = (K.SURVEY_CALL, K.SURVEY_SMS, K.VISIT)
FAMILY_NOTE_CHARS = 40  # a resolution note in a text is cut, to keep it to two segments
PROGRESS_BATCH = 500


@dataclass(frozen=True)
class Contact:
    """How a case's resident can be reached, as the resident's record says today."""

    phone: str
    name: str
    locale: str
    can_call: bool
    can_text: bool
    preferred_hours: HoursWindow | None
    resident: Resident | None

    @property
    def prompts(self) -> Catalogue:
        """What the resident hears on the phone."""
        return catalogue(self.locale, "voice")

    @property
    def texts(self) -> Catalogue:
        """What the resident (and their family) reads in a text."""
        return catalogue(self.locale, "sms")


def contact_of(case: Case) -> Contact:
    settings = current_settings()
    resident = case.resident
    phone = resident.phone if resident else case.phone
    language = resident.language if resident else case.locale
    return Contact(
        phone=phone,
        name=resident.name if resident else "",
        locale=supported_locale(language, settings.default_locale),
        can_call=bool(phone) and not (resident and resident.do_not_call),
        can_text=bool(phone) and not opted_out(phone),
        preferred_hours=parse_preferred(resident.preferred_call_hours if resident else None),
        resident=resident,
    )


def next_window(moment: datetime, contact: Contact | None = None) -> datetime:
    """The first moment at or after `moment` inside the calling hours (and the resident's)."""
    settings = current_settings()
    preferred = contact.preferred_hours if contact else None
    return next_allowed_moment(moment, settings.calling_hours, preferred, settings.timezone)


def survey_due_at(resolved_at: datetime, contact: Contact) -> datetime:
    """HOTLINE_SURVEY_DELAY_MINUTES after resolution, or the next morning when it is unset."""
    settings = current_settings()
    if settings.survey_delay_minutes is not None:
        due = resolved_at + timedelta(minutes=settings.survey_delay_minutes)
    else:
        zone = ZoneInfo(settings.timezone)
        next_day = resolved_at.astimezone(zone).date() + timedelta(days=1)
        due = datetime.combine(next_day, time(0), tzinfo=zone) + timedelta(
            hours=settings.calling_hours.start.hour, minutes=settings.calling_hours.start.minute
        )
    return next_window(due, contact)


def add_follow_up(case: Case, kind: FollowUpKind, due_at: datetime, **fields: Any) -> FollowUp:
    follow_up = FollowUp(case=case, kind=kind, due_at=due_at, created_at=now(), **fields)
    db.session.add(follow_up)
    db.session.flush()  # its id goes on the timeline
    add_event(
        case,
        EventKind.FOLLOW_UP_SCHEDULED,
        follow_up_kind=kind.value,
        due_at=due_at.isoformat(),
        follow_up=follow_up.id,
    )
    return follow_up


def pending_surveys(case: Case, statuses: tuple[FollowUpStatus, ...] = PENDING) -> list[FollowUp]:
    return list(
        db.session.scalars(
            select(FollowUp).where(
                FollowUp.case_id == case.id,
                FollowUp.kind.in_(SURVEY_KINDS),
                FollowUp.status.in_(statuses),
            )
        )
    )


def first_survey_kind(contact: Contact) -> FollowUpKind:
    if contact.can_call:
        return K.SURVEY_CALL
    return K.SURVEY_SMS if contact.can_text else K.VISIT


def schedule_survey(case: Case) -> FollowUp | None:
    """One survey per resolution: a case with a survey under way does not get a second."""
    if pending_surveys(case):
        return None
    contact = contact_of(case)
    kind = first_survey_kind(contact)
    attempts = SURVEY_CALL_ATTEMPTS if kind == K.SURVEY_CALL else 1
    return add_follow_up(
        case, kind, survey_due_at(case.resolved_at or now(), contact), max_attempts=attempts
    )


def cancel_surveys(case: Case, reason: str) -> int:
    """Not-yet-placed surveys stop; a survey call already ringing finishes on its own."""
    cancelled = 0
    for follow_up in pending_surveys(case, (S.SCHEDULED, S.CLAIMED, S.AWAITING)):
        if follow_up.kind == K.SURVEY_CALL and follow_up.status == S.AWAITING:
            continue  # its status callback closes it, and sees the case is no longer resolved
        follow_up.status = S.CANCELLED
        follow_up.outcome = reason
        cancelled += 1
    if cancelled:
        add_event(case, EventKind.FOLLOW_UP_CANCELLED, reason=reason, count=cancelled)
    return cancelled


def written_note(case: Case, locale: str) -> str:
    """The resolution note staff wrote in `locale`, or "" if they wrote none in it."""
    note = case.resolution_translations.get(locale, "").strip()
    written_in = case.resolution_locale or current_settings().default_locale
    if not note and written_in == locale:
        note = case.resolution_note.strip()
    return note


def note_for(case: Case, contact: Contact, words: Catalogue) -> str:
    """What was done, as the resident hears or reads it (`words`: their voice or text
    catalogue): the note staff wrote in the resident's language, else a stock sentence in it.
    A Chinese note read out in a Korean voice is noise to a Korean resident."""
    return written_note(case, contact.locale) or words.text("resolution_stock")


def short_note_for(case: Case, contact: Contact) -> str:
    """note_for in a text: a note staff wrote is cut, to keep the text within two segments."""
    note = written_note(case, contact.locale)
    return _short(note) if note else contact.texts.text("resolution_stock")


def on_status_changed(case: Case, previous: CaseStatus, to: CaseStatus, **_: Any) -> None:
    """cases.lifecycle.status_changed receiver: runs inside the transition's transaction."""
    if to == CaseStatus.RESOLVED:
        copy_to_family(case, "family_resolved_sms", note=short_note_for(case, contact_of(case)))
        tell_reporters(case, "resolved")
        if shares_a_problem(case):
            text_problem_resolved(case)
        schedule_survey(case)
    elif to in (CaseStatus.REOPENED, CaseStatus.CLOSED):
        cancel_surveys(case, f"case_{to.value}")


def text_problem_resolved(case: Case) -> None:
    """One of several residents who reported a problem (cases.linked): told by text, on their
    own case number, that it is resolved and that we will ask them. A resident alone with
    their problem hears the note in the survey call; a neighbour whose report was linked to
    someone else's case might not know anyone was working on it. Queued for the calling
    window, as family copies are; not twice to a phone tell_reporters already told."""
    contact = contact_of(case)
    if not contact.phone or contact.phone in {reporter.phone for reporter in case.reporters}:
        return
    body = contact.texts.text(
        "problem_resolved_sms", number=case.number, note=short_note_for(case, contact)
    )
    queue_sms(contact.phone, body, "problem_resolved", case, due_at=next_window(now()))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= FAMILY_NOTE_CHARS else text[: FAMILY_NOTE_CHARS - 1] + "…"


def copy_to_family(case: Case, key: str, **values: str) -> int:
    """A copy to every family contact who asked for updates, in the resident's language.

    Queued for the calling window: a family member is not woken at night either. A contact
    whose number opted out gets a suppressed row (queue_sms), never a text.
    """
    contact = contact_of(case)
    if contact.resident is None:
        return 0
    family = [person for person in contact.resident.family_contacts if person.receives_updates]
    for person in family:
        body = contact.texts.text(key, name=contact.name, number=case.number, **values)
        queue_sms(person.phone, body, f"family_{key}", case, due_at=next_window(now()))
    return len(family)


def tell_reporters(case: Case, what: str) -> int:
    """Who reported the case for someone else (a building leader, cases.leaders) hears what
    became of it, in their own language: `what` is "resolved" (with the note staff wrote in
    that language, else the stock sentence), "progress" or "reopened".

    A reporter whose phone is the one the resident's own texts go to already hears those
    (a leader who named no neighbour is the case's contact), except the resolution, which
    residents hear in the survey and reporters only by this text. Queued for the calling
    window, like the family's copies.
    """
    contact = contact_of(case)
    default = current_settings().default_locale
    told = 0
    for reporter in case.reporters:
        if not reporter.phone or (what != "resolved" and reporter.phone == contact.phone):
            continue
        words = catalogue(supported_locale(reporter.locale, default), "sms")
        values = {"number": case.number}
        if what == "resolved":
            note = written_note(case, words.locale)
            values["note"] = _short(note) if note else words.text("resolution_stock")
        elif what == "progress":
            values["status"] = words.status(case.status.value)
        body = words.text(f"reporter_{what}_sms", **values)
        queue_sms(reporter.phone, body, f"reporter_{what}", case, due_at=next_window(now()))
        told += 1
    return told


def retry_at(follow_up: FollowUp, moment: datetime, contact: Contact) -> datetime:
    gap = RETRY_GAPS[min(follow_up.attempts, len(RETRY_GAPS)) - 1]
    return next_window(moment + gap, contact)


def after_call_outcome(follow_up: FollowUp, outcome: str, answered: bool) -> str:
    """The next step after a survey call ended; returns it for the timeline ("retry", ...)."""
    moment = now()
    case = follow_up.case
    follow_up.outcome = outcome
    follow_up.status = S.DONE
    if answered or follow_up.kind != K.SURVEY_CALL:
        return "done"
    if case.status != CaseStatus.RESOLVED:
        return "no_longer_needed"
    contact = contact_of(case)
    if follow_up.attempts < follow_up.max_attempts and contact.can_call:
        follow_up.status = S.SCHEDULED
        follow_up.due_at = retry_at(follow_up, moment, contact)
        follow_up.call_sid = None  # the next call gets its own SID
        return "retry"
    return fall_back(case, contact).kind.value


def fall_back(case: Case, contact: Contact | None = None) -> FollowUp:
    """Calls did not reach the resident: a survey by text, or else a home visit."""
    contact = contact or contact_of(case)
    if contact.can_text:
        return add_follow_up(case, K.SURVEY_SMS, next_window(now()), max_attempts=1)
    return add_visit(case, next_window(now()))


def open_visit(case: Case) -> FollowUp | None:
    """The case's home visit not yet recorded (outreach.visits), if there is one."""
    return db.session.scalar(
        select(FollowUp)
        .where(FollowUp.case_id == case.id, FollowUp.kind == K.VISIT, FollowUp.status.in_(PENDING))
        .order_by(FollowUp.id.desc())
        .limit(1)
    )


def add_visit(case: Case, due_at: datetime) -> FollowUp:
    """A home visit for the grid worker, unless one is open already (staff may have asked
    for one by hand meanwhile): the resident is visited once, and asked once."""
    return open_visit(case) or add_follow_up(case, K.VISIT, due_at, max_attempts=1)


def progress_due_cases(moment: datetime) -> list[int]:
    """Open cases older than a week with no progress update (done or pending) in the last week."""
    recent = exists().where(
        FollowUp.case_id == Case.id,
        FollowUp.kind == K.PROGRESS,
        or_(FollowUp.created_at > moment - PROGRESS_EVERY, FollowUp.status.in_(PENDING)),
    )
    open_statuses = [status for status in CaseStatus if status.is_open]
    return list(
        db.session.scalars(
            select(Case.id)
            .where(
                and_(Case.status.in_(open_statuses), Case.created_at <= moment - PROGRESS_EVERY),
                ~recent,
            )
            .order_by(Case.id)
            .limit(PROGRESS_BATCH)
        )
    )


def schedule_progress_updates(moment: datetime | None = None) -> int:
    """Beat (hourly): a PROGRESS follow-up for each open case due its weekly update."""
    moment = moment or now()
    count = 0
    while batch := progress_due_cases(moment):
        for case_id in batch:
            case = db.session.get(Case, case_id)
            assert case is not None
            add_follow_up(case, K.PROGRESS, next_window(moment, contact_of(case)), max_attempts=1)
        db.session.commit()
        count += len(batch)
    return count
