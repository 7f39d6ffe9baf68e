"""What staff do to a case, shared by the workspace pages and the JSON API.

Each action checks its input, changes the case, and records who did what on the timeline.
Bad input raises `Refused` before anything changes; the caller commits on success.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from cases import lifecycle
from cases.deadlines import deadline_for
from cases.errors import Refused
from cases.events import EventKind
from cases.lifecycle import InvalidTransition, satisfied_since_resolved, transition
from cases.linked import linked_cases
from cases.models import (
    MISTAKES,
    Case,
    CaseParticipant,
    CaseStatus,
    ClosedAs,
    Resident,
    TranscriptEdit,
    Urgency,
)
from cases.permissions import can_be_assigned, can_close_unanswered, can_edit, can_view
from cases.services import add_event
from hotline.clock import now
from hotline.db import db
from hotline.i18n import LOCALES, Message
from triage import CATEGORIES

if TYPE_CHECKING:
    from accounts.models import User

MAX_NOTE = 4000
MAX_TRANSCRIPT = 20000
MAX_FIELD = 100


def clean_text(value: str | None, limit: int, what: str, *, required: bool = True) -> str:
    """Trimmed text within `limit` characters, or a refusal that says which field and why.

    `what` names the field (note, transcript, resolution_note, name, report, grid, building,
    address): the refusal words it from case.refused.field.<what>.
    """
    text = (value or "").strip()
    field = Message(f"case.refused.field.{what}")
    if required and not text:
        raise Refused("case.refused.empty", field=field)
    if len(text) > limit:
        raise Refused("case.refused.too_long", field=field, length=len(text), limit=limit)
    return text


def add_note(case: Case, text: str | None, by: User) -> None:
    add_event(case, EventKind.NOTE, by.name, text=clean_text(text, MAX_NOTE, "note"))


def edit_transcript(case: Case, text: str | None, by: User) -> None:
    """The machine transcript stays as it was; every correction is kept with who and when."""
    corrected = clean_text(text, MAX_TRANSCRIPT, "transcript", required=False)
    if corrected == case.transcript:
        return
    case.transcript = corrected
    db.session.add(TranscriptEdit(case=case, user_id=by.id, text=corrected))
    add_event(case, EventKind.TRANSCRIPT_EDITED, by.name, length=len(corrected))


def set_triage(case: Case, category: str | None, urgency: str | None, by: User) -> None:
    """Staff override the guessed category and urgency; a new urgency moves the deadline."""
    changes: dict[str, str] = {}
    if category is not None and category != case.category:
        if category not in CATEGORIES:
            raise Refused("case.refused.unknown_category", value=repr(category[:40]))
        changes["category"] = category
    if urgency is not None and urgency != case.urgency.value:
        try:
            level = Urgency(urgency)
        except ValueError:
            raise Refused("case.refused.unknown_urgency", value=repr(urgency[:40])) from None
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
    add_event(case, EventKind.TRIAGE_CHANGED, by.name, **changes)


def assign(case: Case, assignee: User | None, by: User) -> None:
    """Hand the case to someone (or to nobody); a new case is accepted by being assigned."""
    if assignee is not None and not assignee.active:
        raise Refused("case.refused.inactive_account", name=assignee.name)
    if assignee is not None and not can_be_assigned(assignee, case):
        # They would be handed work they get 404 for: give it to someone of the case's grid.
        raise Refused("case.refused.cannot_see_case", name=assignee.name)
    if (assignee.id if assignee else None) == case.assignee_id:
        return
    case.assignee = assignee
    add_event(
        case,
        EventKind.ASSIGNED,
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
        raise Refused("case.refused.unknown_status", value=repr(to[:40])) from None
    if target == CaseStatus.RESOLVED:
        resolve(case, note, by)
    elif target == CaseStatus.CLOSED:
        close(case, note, by)
    else:
        transition(case, target, by.name, clean_text(note, MAX_NOTE, "note", required=False))


def resolve(
    case: Case,
    note: str | None,
    by: User,
    locale: str | None = None,
    translations: dict[str, str] | None = None,
) -> None:
    """Resolved, with what was done; a new or reopened case is accepted on the way.

    `locale` is the language of the note (by default the writer's); `translations` the same
    note in other languages, {locale: text}. The resident hears and reads only a note in
    their own language (outreach.schedule.note_for), else a stock sentence.
    """
    text = clean_text(note, MAX_NOTE, "resolution_note", required=False)
    if not text:
        raise Refused("case.refused.resolution_note_needed")
    case.resolution_locale = _locale(locale or by.language)
    case.resolution_translations = {
        _locale(language): clean_text(words, MAX_NOTE, "resolution_note")
        for language, words in (translations or {}).items()
        if (words or "").strip()
    }
    if case.status in (CaseStatus.NEW, CaseStatus.REOPENED):
        transition(case, CaseStatus.ACCEPTED, by.name)
    transition(case, CaseStatus.RESOLVED, by.name, text)


def _locale(value: str) -> str:
    if value not in LOCALES:
        raise Refused("case.refused.unknown_language", value=repr(value[:20]))
    return value


def close(case: Case, reason: str | None, by: User) -> None:
    """Closed after the resident's satisfied answer, by anyone who may change the case;
    without one (不满意不销账) only by a supervisor, who writes why."""
    text = clean_text(reason, MAX_NOTE, "close_reason", required=False)
    if case.status != CaseStatus.RESOLVED or satisfied_since_resolved(case):
        transition(case, CaseStatus.CLOSED, by.name, text)  # refuses what may not close
        return
    if not can_close_unanswered(by):
        raise Refused("case.refused.close_needs_supervisor", number=case.number)
    lifecycle.close_without_answer(case, by.name, text)


def close_as_mistake(
    case: Case, how: str | None, by: User, note: str | None = None, duplicate_of: str = ""
) -> None:
    """A case opened by mistake (junk, a duplicate of another case, no message) is closed as
    such by whoever may change it: no survey, and no rate counts it.

    A duplicate is the same resident asking again. A neighbour reporting the same problem is
    no mistake: their case is linked to the problem's main case (link_to_main), so that they
    too hear back and are asked whether they are satisfied.
    """
    if case.main_case_id is not None or linked_cases(case):
        raise Refused("linked.refused.unlink_first", number=case.number)
    try:
        kind = ClosedAs(how or "")
    except ValueError:
        kind = None
    if kind not in MISTAKES:
        raise Refused("case.refused.unknown_mistake", value=repr((how or "")[:40]))
    assert kind is not None
    other = _repeated_case(case, duplicate_of, by) if kind == ClosedAs.DUPLICATE else None
    text = clean_text(note, MAX_NOTE, "note", required=False)
    lifecycle.close_as_mistake(case, by.name, kind, text, other)


def _repeated_case(case: Case, number: str, by: User) -> Case:
    """The case a duplicate repeats, by its number, if `by` may see it."""
    if not number.strip():
        raise Refused("case.refused.duplicate_of_needed")
    case_id = Case.id_from_number(number)
    other = db.session.get(Case, case_id) if case_id is not None else None
    if other is None or not can_view(by, other):
        raise Refused("case.refused.no_such_case", value=number.strip()[:20])
    if other.id == case.id:
        raise Refused("case.refused.duplicate_of_itself")
    return other


def link_resident(case: Case, resident: Resident | None, by: User) -> None:
    """Tie the case to a resident; an empty grid or building is filled from their record."""
    if (resident.id if resident else None) == case.resident_id:
        return
    case.resident = resident
    if resident is not None:
        case.grid = case.grid or resident.grid
        case.building = case.building or resident.building
    add_event(
        case, EventKind.RESIDENT_LINKED, by.name, resident_id=resident.id if resident else None
    )


def resident_from_case(case: Case, name: str | None, by: User, **fields: str) -> Resident:
    """A new resident record from the caller's number, linked to the case."""
    if not case.phone:
        raise Refused("case.refused.no_caller_number")
    if db.session.scalar(select(Resident.id).where(Resident.phone == case.phone)) is not None:
        raise Refused("case.refused.resident_exists")
    resident = Resident(
        phone=case.phone,
        name=clean_text(name, MAX_FIELD, "name"),
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
    add_event(case, EventKind.PARTICIPANT_ADDED, by.name, department=department.name)


def report_part(case: Case, text: str | None, by: User) -> None:
    """A joint case's department says what it did about its part."""
    participant = next((p for p in case.participants if p.user_id == by.id), None)
    if participant is None:
        raise Refused("case.refused.not_taking_part")
    participant.report = clean_text(text, MAX_NOTE, "report")
    participant.reported_at = now()
    add_event(case, EventKind.PART_REPORTED, by.name, report=participant.report)


# ---- one problem, many reporters (cases.linked) --------------------------------------------


def case_by_number(number: str | None, by: User) -> Case:
    """The case with this number, if `by` may see it; another grid's case is as unknown as
    a missing one."""
    text = (number or "").strip()
    if not text:
        raise Refused("linked.refused.number_needed")
    case_id = Case.id_from_number(text)
    found = db.session.get(Case, case_id) if case_id is not None else None
    if found is None or not can_view(by, found):
        raise Refused("case.refused.no_such_case", value=text[:20])
    return found


def link_to_main(case: Case, main: Case, by: User, *, merged: bool = False) -> None:
    """`case` is one report of the problem handled on `main`: it keeps its number, its
    reporter is texted and surveyed, and its status follows `main`'s from now on. A case that
    is itself a main case brings its reports along (two problems found to be one).

    Refused, with nothing changed: `main` itself, one of the case's own reports (a cycle), a
    report of another case (link to that main case instead), a case that is not open on
    either side, a case `by` may not change.
    """
    if case.main_case_id == main.id:
        return
    _check_link(case, main, by)
    moving = [case, *linked_cases(case)]
    for report in moving:
        if not can_edit(by, report):
            raise Refused("linked.refused.cannot_change", number=report.number)
    for report in moving:
        report.main_case_id = main.id
        report.deadline_at = None  # the main case's deadline is the problem's
        add_event(report, EventKind.LINKED_TO_MAIN, by.name, main=main.number, merged=merged)
        add_event(main, EventKind.REPORT_LINKED, by.name, number=report.number)
        if report.status.is_open:  # catches up with the main case's work, never goes back
            lifecycle.follow(report, main, by.name)


def _check_link(case: Case, main: Case, by: User) -> None:
    if main.id == case.id:
        raise Refused("linked.refused.itself", number=case.number)
    if main.main_case_id == case.id:
        raise Refused("linked.refused.cycle", number=case.number, main=main.number)
    if main.main_case_id is not None:
        raise Refused(
            "linked.refused.main_is_a_report", main=main.number, its_main=main.main_case_number
        )
    if case.main_case_id is not None:
        raise Refused(
            "linked.refused.already_linked", number=case.number, main=case.main_case_number
        )
    if not can_edit(by, main):
        raise Refused("linked.refused.cannot_change", number=main.number)
    if not main.status.is_open:
        raise InvalidTransition(
            "linked.refused.main_not_open",
            main=main.number,
            status=Message(f"case.refused.status.{main.status.value}"),
        )
    if not case.status.is_open:
        raise InvalidTransition(
            "linked.refused.case_not_open",
            number=case.number,
            status=Message(f"case.refused.status.{case.status.value}"),
        )


def merge_into(main: Case, others: list[Case], by: User) -> None:
    """Several cases become reports of `main`'s problem at once; all or none (the caller
    rolls back on a refusal)."""
    if main.main_case_id is not None:
        raise Refused(
            "linked.refused.main_is_a_report", main=main.number, its_main=main.main_case_number
        )
    unique = list({other.id: other for other in others}.values())
    if not unique:
        raise Refused("linked.refused.nothing_to_merge")
    for other in unique:
        link_to_main(other, main, by, merged=True)


def unlink(case: Case, by: User) -> None:
    """The case is a problem of its own again: it keeps the status it has, and gets its own
    deadline back (from its opening, as when its urgency changes)."""
    if case.main_case_id is None:
        raise Refused("linked.refused.not_linked", number=case.number)
    main = db.session.get(Case, case.main_case_id)
    case.main_case_id = None
    if case.status.is_open:
        case.deadline_at = deadline_for(case.urgency, case.created_at, case.category)
    add_event(case, EventKind.UNLINKED_FROM_MAIN, by.name, main=main.number if main else "")
    if main is not None:
        add_event(main, EventKind.REPORT_UNLINKED, by.name, number=case.number)
