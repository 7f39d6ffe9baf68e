"""Home visits (上门回访) that count: a visit is done when the worker records what happened.

A visit is a follow-up of kind VISIT. The hotline makes one when no call or text reached the
resident after the case was resolved (outreach.schedule.fall_back); staff schedule one by
hand. When it is due, the dispatcher texts the grid's workers (outreach.dispatcher._visit);
the visit stays open, on their "My visits" page, until one of them records it:

* met: the resident's answer, asked in person (1 satisfied, 2 basically satisfied, 3 not
  satisfied), is stored by outreach.survey.record_answer, as a keypad or a text answer is
  (channel "visit"): it counts in the ledger and the rates, a satisfied answer closes the
  case, and "not satisfied" reopens and escalates it (不满意不销账).
* not met: the same visit is due again the next morning (the workers are texted again) and
  stays on the page. It ends only with an answer, or when the case leaves "resolved" (a
  supervisor closes it with a reason; it is reopened), which cancels it.

A visit can also be recorded without one being scheduled (the worker met the resident on a
round): it is made and recorded at once. A grid worker records visits for their own grid's
cases; staff and admins for any case. Everything is written in the caller's transaction,
which commits; a refusal (cases.errors.Refused) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, false, select, true, update
from sqlalchemy.orm import selectinload

from accounts.models import Role, User
from cases.actions import MAX_NOTE, clean_text
from cases.errors import Refused
from cases.events import EventKind
from cases.lifecycle import InvalidTransition
from cases.models import Case, CaseStatus, Satisfaction
from cases.permissions import can_edit, case_scope
from cases.reports import local_midnight
from cases.services import add_event
from hotline.clock import now
from hotline.db import db, moved_one_row
from hotline.i18n import Message
from hotline.settings import current_settings
from outreach.models import FollowUp, FollowUpKind, FollowUpStatus, VisitRecord
from outreach.schedule import PENDING, next_window, open_visit
from outreach.survey import record_answer

CHANNEL = "visit"  # the survey answer's channel, on the timeline and in survey_responses
MAX_DAYS_AHEAD = 60  # a visit is scheduled for a day within this many days
LIST_LIMIT = 200
K = FollowUpKind
S = FollowUpStatus
VISITORS = (Role.ADMIN, Role.STAFF, Role.GRID_WORKER)


@dataclass(frozen=True)
class Outcome:
    """What the worker found: met or not; if met, the resident's answer; a note."""

    met: bool
    answer: Satisfaction | None = None
    note: str | None = None


# ---- who -------------------------------------------------------------------------------------


def may_record_visits(user: User) -> bool:
    """Grid workers, staff and admins go on visits; departments do not."""
    return user.role in VISITORS


def may_visit(user: User, case: Case) -> bool:
    """The grid worker of the case's grid, or staff and admins (who may change any case)."""
    return may_record_visits(user) and can_edit(user, case)


def visit_scope(user: User | None) -> ColumnElement[bool]:
    """The visits `user` may see and record, as a WHERE clause on Case (None: a read-only
    API token, which sees them all)."""
    if user is None:
        return true()
    return case_scope(user) if may_record_visits(user) else false()


def _refuse_unless_theirs(user: User, case: Case) -> None:
    if not may_visit(user, case):
        raise Refused("visits.refused.not_yours", number=case.number)


# ---- reading ---------------------------------------------------------------------------------


def open_visits(user: User | None, grid: str | None = None) -> list[FollowUp]:
    """The visits waiting to be recorded that `user` may record, the newest due first."""
    query = (
        select(FollowUp)
        .join(Case, FollowUp.case_id == Case.id)
        .where(
            FollowUp.kind == K.VISIT,
            FollowUp.status.in_(PENDING),
            Case.status == CaseStatus.RESOLVED,  # a visit asks about a resolution
            visit_scope(user),
        )
        .options(
            selectinload(FollowUp.case).selectinload(Case.resident),
            selectinload(FollowUp.records),
            selectinload(FollowUp.scheduled_by),
        )
        .order_by(FollowUp.due_at.desc(), FollowUp.id.desc())
        .limit(LIST_LIMIT)
    )
    if grid is not None:
        query = query.where(Case.grid == grid)
    return list(db.session.scalars(query))


def visible_visit(user: User | None, visit_id: int) -> FollowUp | None:
    """A visit (open or not) if `user` may see it; None hides whether it exists."""
    return db.session.scalar(
        select(FollowUp)
        .join(Case, FollowUp.case_id == Case.id)
        .where(FollowUp.id == visit_id, FollowUp.kind == K.VISIT, visit_scope(user))
    )


def is_open(visit: FollowUp) -> bool:
    return visit.status in PENDING


def not_met_count(visit: FollowUp) -> int:
    return sum(1 for record in visit.records if not record.met)


# ---- scheduling ------------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(current_settings().timezone)


def local_today() -> date:
    """Today in the centre's time zone: a visit is scheduled for a day there."""
    return now().astimezone(_zone()).date()


def schedule_visit(case: Case, by: User, day: date) -> FollowUp:
    """Staff ask for a visit on `day` (from the opening of the calling hours, or now if that
    is later): the grid's workers are texted then, and it waits on their list."""
    _refuse_unless_theirs(by, case)
    _refuse_unless_resolved(case)
    already = open_visit(case)
    if already is not None:
        raise Refused("visits.refused.already_open", number=case.number)
    today = local_today()
    if day < today:
        raise Refused("visits.refused.past_day", day=day.isoformat())
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise Refused("visits.refused.too_far", day=day.isoformat(), days=MAX_DAYS_AHEAD)
    due = next_window(max(now(), local_midnight(day, _zone())))
    visit = _new_visit(case, by, due)
    add_event(
        case,
        EventKind.FOLLOW_UP_SCHEDULED,
        by.name,
        follow_up_kind=K.VISIT.value,
        due_at=due.isoformat(),
        follow_up=visit.id,
    )
    return visit


def _new_visit(case: Case, by: User, due: datetime) -> FollowUp:
    visit = FollowUp(
        case=case, kind=K.VISIT, due_at=due, max_attempts=1, created_at=now(), scheduled_by_id=by.id
    )
    db.session.add(visit)
    db.session.flush()  # its id goes on the timeline
    return visit


def _refuse_unless_resolved(case: Case) -> None:
    if case.status != CaseStatus.RESOLVED:
        raise InvalidTransition(
            "visits.refused.not_resolved",
            number=case.number,
            status=Message(f"case.refused.status.{case.status.value}"),
        )


# ---- recording -------------------------------------------------------------------------------


def record_visit(case: Case, by: User, outcome: Outcome) -> VisitRecord:
    """Record what `by` found on the case's open visit (or on a visit made now, when none
    was scheduled). The caller commits.

    Two people recording the same visit at once: the first one's record stands, the second
    is refused (a conditional UPDATE decides, as the dispatcher's claims do).
    """
    _refuse_unless_theirs(by, case)
    note = clean_text(outcome.note, MAX_NOTE, "note", required=False)
    if outcome.met and outcome.answer is None:
        raise Refused("visits.refused.answer_needed")
    if not outcome.met and outcome.answer is not None:
        raise Refused("visits.refused.answer_without_meeting")
    _refuse_unless_resolved(case)
    visit = open_visit(case) or _new_visit(case, by, now())
    if not _claim(visit, outcome.met):
        raise Refused("visits.refused.already_recorded", number=case.number)
    record = VisitRecord(
        follow_up=visit,
        case=case,
        recorded_by_id=by.id,
        met=outcome.met,
        answer=outcome.answer,
        note=note,
        recorded_at=now(),
    )
    db.session.add(record)
    detail = {"follow_up": visit.id, "met": outcome.met, "note": note}
    if not outcome.met:
        detail["next_at"] = visit.due_at.isoformat()
    add_event(case, EventKind.VISIT_RECORDED, by.name, **detail)
    if outcome.answer is not None:
        # The same recording as a keypad or a text answer: counted in the rates, closes the
        # case or reopens and escalates it.
        record_answer(case, outcome.answer, CHANNEL, visit)
    return record


def next_try() -> datetime:
    """Not met: the visit is due again at the next morning's opening of the calling hours."""
    tomorrow = local_today() + timedelta(days=1)
    return next_window(local_midnight(tomorrow, _zone()))


def _claim(visit: FollowUp, met: bool) -> bool:
    """Take the open visit: done when met, due again tomorrow when not; False if someone
    recorded it (or the hotline cancelled it) first."""
    if met:
        values: dict[str, object] = {"status": S.DONE, "outcome": "answered"}
    else:
        values = {
            "status": S.SCHEDULED,
            "outcome": "not_met",
            "due_at": next_try(),
            "claimed_at": None,
        }
    claimed = moved_one_row(
        update(FollowUp)
        .where(FollowUp.id == visit.id, FollowUp.status.in_(PENDING))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(visit)
    return claimed
