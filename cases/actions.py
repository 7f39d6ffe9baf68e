"""What staff do to a case, shared by the workspace pages and the JSON API.

Each action checks its input, changes the case, and records who did what on the timeline.
Bad input raises `Refused` before anything changes; the caller commits on success.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from cases.deadlines import deadline_for
from cases.errors import Refused
from cases.lifecycle import transition
from cases.models import Case, CaseParticipant, CaseStatus, Resident, TranscriptEdit, Urgency
from cases.services import add_event
from cases.triage import CATEGORIES
from hotline.clock import now
from hotline.db import db

if TYPE_CHECKING:
    from accounts.models import User

MAX_NOTE = 4000
MAX_TRANSCRIPT = 20000
MAX_FIELD = 100


def clean_text(value: str | None, limit: int, what: str, *, required: bool = True) -> str:
    """Trimmed text within `limit` characters, or a refusal that says which field and why."""
    text = (value or "").strip()
    if required and not text:
        raise Refused(f"{what} is empty")
    if len(text) > limit:
        raise Refused(f"{what} is too long: {len(text)} characters, at most {limit}")
    return text


def add_note(case: Case, text: str | None, by: User) -> None:
    add_event(case, "note", by.name, text=clean_text(text, MAX_NOTE, "the note"))


def edit_transcript(case: Case, text: str | None, by: User) -> None:
    """The machine transcript stays as it was; every correction is kept with who and when."""
    corrected = clean_text(text, MAX_TRANSCRIPT, "the transcript", required=False)
    if corrected == case.transcript:
        return
    case.transcript = corrected
    db.session.add(TranscriptEdit(case=case, user_id=by.id, text=corrected))
    add_event(case, "transcript_edited", by.name, length=len(corrected))


def set_triage(case: Case, category: str | None, urgency: str | None, by: User) -> None:
    """Staff override the guessed category and urgency; a new urgency moves the deadline."""
    changes: dict[str, str] = {}
    if category is not None and category != case.category:
        if category not in CATEGORIES:
            raise Refused(f"unknown category {category[:40]!r}")
        changes["category"] = category
    if urgency is not None and urgency != case.urgency.value:
        try:
            level = Urgency(urgency)
        except ValueError:
            raise Refused(f"unknown urgency {urgency[:40]!r}") from None
        changes["urgency"] = level.value
    if not changes:
        return
    if "category" in changes:
        case.category = changes["category"]
    if "urgency" in changes:
        case.urgency = Urgency(changes["urgency"])
        if case.status.is_open:
            case.deadline_at = deadline_for(case.urgency, case.created_at, case.category)
            if case.deadline_at > now():
                case.escalated_at = None  # no longer overdue: it may escalate again later
    add_event(case, "triage_changed", by.name, **changes)


def assign(case: Case, assignee: User | None, by: User) -> None:
    """Hand the case to someone (or to nobody); a new case is accepted by being assigned."""
    if assignee is not None and not assignee.active:
        raise Refused(f"{assignee.name} has no active account")
    if (assignee.id if assignee else None) == case.assignee_id:
        return
    case.assignee = assignee
    add_event(
        case,
        "assigned",
        by.name,
        to=assignee.name if assignee else "",
        to_user_id=assignee.id if assignee else None,
    )
    if assignee is not None and case.status == CaseStatus.NEW:
        transition(case, CaseStatus.ACCEPTED, by.name)


def change_status(case: Case, to: str, by: User, note: str | None = None) -> None:
    try:
        target = CaseStatus(to)
    except ValueError:
        raise Refused(f"unknown status {to[:40]!r}") from None
    transition(case, target, by.name, clean_text(note, MAX_NOTE, "the note", required=False))


def resolve(case: Case, note: str | None, by: User) -> None:
    """Resolved, with what was done; a new or reopened case is accepted on the way."""
    text = clean_text(note, MAX_NOTE, "the resolution note")
    if case.status in (CaseStatus.NEW, CaseStatus.REOPENED):
        transition(case, CaseStatus.ACCEPTED, by.name)
    transition(case, CaseStatus.RESOLVED, by.name, text)


def link_resident(case: Case, resident: Resident | None, by: User) -> None:
    """Tie the case to a resident; an empty grid or building is filled from their record."""
    if (resident.id if resident else None) == case.resident_id:
        return
    case.resident = resident
    if resident is not None:
        case.grid = case.grid or resident.grid
        case.building = case.building or resident.building
    add_event(case, "resident_linked", by.name, resident_id=resident.id if resident else None)


def resident_from_case(case: Case, name: str | None, by: User, **fields: str) -> Resident:
    """A new resident record from the caller's number, linked to the case."""
    if not case.phone:
        raise Refused("this case has no caller number to make a resident from")
    if db.session.scalar(select(Resident.id).where(Resident.phone == case.phone)) is not None:
        raise Refused("a resident with this number exists already: link the case to them")
    resident = Resident(
        phone=case.phone,
        name=clean_text(name, MAX_FIELD, "the name"),
        language=case.locale,
        **{key: clean_text(value, MAX_FIELD, key, required=False) for key, value in fields.items()},
    )
    db.session.add(resident)
    db.session.flush()
    link_resident(case, resident, by)
    return resident


def add_participant(case: Case, department: User, by: User) -> None:
    """A joint case: another department takes a part and reports back on it."""
    if any(p.user_id == department.id for p in case.participants):
        return
    case.participants.append(CaseParticipant(user_id=department.id))
    add_event(case, "participant_added", by.name, department=department.name)


def report_part(case: Case, text: str | None, by: User) -> None:
    """A joint case's department says what it did about its part."""
    participant = next((p for p in case.participants if p.user_id == by.id), None)
    if participant is None:
        raise Refused("only a department taking part in this case can report on it")
    participant.report = clean_text(text, MAX_NOTE, "the report")
    participant.reported_at = now()
    add_event(case, "part_reported", by.name, report=participant.report)
