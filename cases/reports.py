"""The figures behind the ledger (台账) and the dashboard, counted by the database.

Every query takes `scope`, the WHERE clause of who is asking (cases.permissions.case_scope),
so a grid worker's ledger and dashboard hold only their grid. Periods are calendar days in the
centre's time zone: a period from Monday to Sunday is [Monday 00:00, next Monday 00:00) local
time, turned into UTC bounds here so the database compares plain timestamps. The dashboard's
counts are GROUP BY queries: the database counts and no case is loaded into Python (each
query takes well under half a second over 100,000 cases, on SQLite and on PostgreSQL).

One problem, many reporters (cases.linked): a problem reported by five neighbours is one
problem and five reporters. The ledger keeps a line per case (every reporter has their case
number) and says which problem each belongs to; the dashboard counts the problem once (cases
per week, open and overdue, the response, resolution and on-time rates: the work is the main
case's) and the reporters one by one (how many, and each one's satisfaction).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, Subquery, case, extract, func, or_, select
from sqlalchemy.orm import selectinload

from cases.events import EventKind
from cases.linked import reports_by_main
from cases.models import MISTAKES, Case, CaseEvent, CaseStatus, Satisfaction
from hotline.db import db

OPEN_STATUSES = [status for status in CaseStatus if status.is_open]
DONE_STATUSES = [CaseStatus.RESOLVED, CaseStatus.CLOSED]
POSITIVE_ANSWERS = [Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED]
# A case is answered in time when staff take it up (it leaves "new") within this many hours.
RESPONSE_HOURS = 24
SUMMARY_LENGTH = 120
# What a spreadsheet would read as the start of a formula (CSV injection, OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet shows as text: a leading ' stops Excel and LibreOffice from
    evaluating "=HYPERLINK(...)" that a caller's words or a name may carry."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# ---- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Calendar days first..last (both included) in the centre's time zone."""

    first: date
    last: date

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[first 00:00, last+1 00:00) local time, as aware datetimes."""
        return local_midnight(self.first, zone), local_midnight(self.last + timedelta(days=1), zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of(day: date) -> Period:
    """The Monday-Sunday week `day` is in: the ledger's default is today's week, so a new
    centre sees its first cases at once."""
    monday = monday_of(day)
    return Period(monday, monday + timedelta(days=6))


def last_full_week(today: date) -> Period:
    """The Monday-Sunday week before the one `today` is in: one click from the ledger."""
    return week_of(today - timedelta(days=7))


def recent_weeks(today: date, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` weeks, oldest first; the last is this week's."""
    this_monday = monday_of(today)
    return [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


# ---- the ledger -------------------------------------------------------------------------------

LEDGER_COLUMNS = (
    "number",
    "opened_at",
    "source",
    "resident",
    "phone",
    "grid",
    "building",
    "category",
    "urgency",
    "summary",
    "handler",
    "status",
    "outcome",
    "resolved_at",
    "closed_at",
    "deadline",
    "overdue",
    "satisfaction",
    "closed_as",
    "close_reason",
    "problem",
    "reporters",
)


def _in_period(scope: ColumnElement[bool], start: datetime, end: datetime) -> list[Any]:
    return [scope, Case.created_at >= start, Case.created_at < end]


def ledger_cases(
    scope: ColumnElement[bool], start: datetime, end: datetime, grid: str | None = None
) -> Sequence[Case]:
    """The cases opened in [start, end), oldest first, with handler and resident loaded."""
    query = (
        select(Case)
        .where(*_in_period(scope, start, end))
        .options(selectinload(Case.assignee), selectinload(Case.resident))
        .order_by(Case.created_at, Case.id)
    )
    if grid is not None:
        query = query.where(Case.grid == grid)
    return db.session.scalars(query).all()


def was_overdue(case: Case, moment: datetime) -> bool:
    """Past its deadline: still open after it, or resolved only after it."""
    if case.deadline_at is None:
        return False
    if case.resolved_at is not None:
        return case.resolved_at > case.deadline_at
    return case.status.is_open and case.deadline_at < moment


def summary(text: str, length: int = SUMMARY_LENGTH) -> str:
    """The start of the transcript on one line: enough to recognise the request."""
    line = re.sub(r"\s+", " ", text).strip()
    return line if len(line) <= length else line[: length - 1] + "…"


def ledger_record(
    case: Case, moment: datetime, reports: dict[int, int] | None = None
) -> dict[str, Any]:
    """One ledger line as raw values (codes, UTC datetimes); pages translate and format them.

    `reports`: how many reports are linked to each main case (reports_by_main); the line of
    a main case, or of a case on its own, says how many residents reported its problem, and
    a report's line is blank there, so that the column adds up to the reporters and its
    filled cells count the problems.
    """
    values: dict[str, Any] = {
        "number": case.number,
        "opened_at": case.created_at,
        "source": case.source,
        "resident": case.resident.name if case.resident else "",
        "phone": case.phone,
        "grid": case.grid,
        "building": case.building,
        "category": case.category,
        "urgency": case.urgency,
        "summary": summary(case.transcript),
        "handler": case.assignee.name if case.assignee else "",
        "status": case.status,
        "outcome": case.resolution_note,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
        "deadline": case.deadline_at,
        "overdue": was_overdue(case, moment),
        "satisfaction": case.satisfaction,
        # How it closed when not after a satisfied answer, with the case a duplicate repeats.
        "closed_as": (case.closed_as, case.duplicate_of_number) if case.closed_as else None,
        "close_reason": case.close_reason,
        # The problem it is one report of: its main case's number, or its own.
        "problem": case.main_case_number or case.number,
        "reporters": None if case.main_case_id is not None else 1 + (reports or {}).get(case.id, 0),
    }
    return values


@dataclass(frozen=True)
class ProblemCount:
    """A period's requests: the problems, and the residents who reported them."""

    problems: int
    reporters: int


def problem_count(cases: Sequence[Case]) -> ProblemCount:
    """Cases reported in the period, each problem once (cases opened by mistake are none)."""
    real = [case for case in cases if case.closed_as not in MISTAKES]
    problems = {case.main_case_id or case.id for case in real}
    return ProblemCount(len(problems), len(real))


def ledger_reports(cases: Sequence[Case]) -> dict[int, int]:
    """reports_by_main for the main cases among `cases`."""
    return reports_by_main([case.id for case in cases if case.main_case_id is None])


# ---- the dashboard ----------------------------------------------------------------------------


@dataclass
class WeekCounts:
    """Cases opened in the week starting on `monday`, by category."""

    monday: date
    by_category: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_category.values())


def weekly_counts(
    scope: ColumnElement[bool], mondays: list[date], zone: ZoneInfo
) -> list[WeekCounts]:
    """Problems per week and category (a report linked to a main case is not another one).
    Week boundaries are local Mondays turned into UTC here, and the database puts each case
    in its week with a CASE over those boundaries."""
    edges = [local_midnight(day, zone) for day in [*mondays, mondays[-1] + timedelta(weeks=1)]]
    week = case(
        *[(Case.created_at < edge, index) for index, edge in enumerate(edges[1:])],
        else_=None,
    )
    bucketed = (
        select(week.label("week"), Case.category.label("category"))
        .where(*_in_period(scope, edges[0], edges[-1]), a_problem())
        .subquery()
    )
    counts = db.session.execute(
        select(bucketed.c.week, bucketed.c.category, func.count()).group_by(
            bucketed.c.week, bucketed.c.category
        )
    ).all()
    weeks = [WeekCounts(monday) for monday in mondays]
    for index, category, count in counts:
        weeks[int(index)].by_category[category] = count
    return weeks


@dataclass(frozen=True)
class GridLoad:
    grid: str
    open: int
    overdue: int


def open_and_overdue(scope: ColumnElement[bool], moment: datetime) -> list[GridLoad]:
    """Open problems per grid now, and how many of them are past their deadline."""
    overdue = func.sum(case((Case.deadline_at < moment, 1), else_=0))
    rows = db.session.execute(
        select(Case.grid, func.count(), overdue)
        .where(scope, Case.status.in_(OPEN_STATUSES), a_problem())
        .group_by(Case.grid)
        .order_by(Case.grid)
    ).all()
    return [GridLoad(grid, count, int(late or 0)) for grid, count, late in rows]


@dataclass(frozen=True)
class GridRates:
    """A grid's cases opened in a period, and the counts its four rates are made of.

    - response rate: taken up (left "new") within RESPONSE_HOURS of opening, of the cases
      that have had RESPONSE_HOURS to be taken up (a case opened an hour ago and not yet
      taken up is not late yet, so it counts on neither side);
    - resolution rate: resolved or closed, of all the period's cases;
    - on-time rate: resolved by the deadline, of the resolved or closed ones (a case without
      a deadline counts as on time);
    - satisfaction rate: satisfied or basically satisfied, of the cases whose resident
      answered the survey (the latest answer counts).
    A case closed as opened by mistake counts in none of them (counted_in_rates).
    `cases` are the problems: a report linked to a main case (cases.linked) counts in
    `reporters` and, with its own resident's answer, in the satisfaction rate; the response,
    resolution and on-time rates are the main case's work, counted once.
    `grid` is None for the row that adds up every grid.
    """

    grid: str | None
    cases: int
    response_base: int
    responded: int
    resolved: int
    on_time: int
    answered: int
    satisfied: int
    reporters: int = 0

    @property
    def response_rate(self) -> float | None:
        return _share(self.responded, self.response_base)

    @property
    def resolution_rate(self) -> float | None:
        return _share(self.resolved, self.cases)

    @property
    def on_time_rate(self) -> float | None:
        return _share(self.on_time, self.resolved)

    @property
    def satisfaction_rate(self) -> float | None:
        return _share(self.satisfied, self.answered)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _epoch_seconds(column: Any) -> ColumnElement[Any]:
    """Seconds since 1970 of a stored timestamp; SQLite keeps them as text, PostgreSQL not."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.julianday(column) * 86400.0
    return extract("epoch", column)


def _first_status_changes(since: datetime) -> Subquery:
    """When each case first changed status (left "new"): one row per case, by GROUP BY."""
    return (
        select(CaseEvent.case_id, func.min(CaseEvent.created_at).label("at"))
        .where(CaseEvent.kind == EventKind.STATUS_CHANGED, CaseEvent.created_at >= since)
        .group_by(CaseEvent.case_id)
        .subquery()
    )


def counted_in_rates() -> ColumnElement[bool]:
    """Every case but those closed as opened by mistake (junk, duplicates, no message): they
    were no request, so they are in no rate, on neither side of any division."""
    return or_(Case.closed_as.is_(None), Case.closed_as.not_in(MISTAKES))


def a_problem() -> ColumnElement[bool]:
    """A main case or a case on its own: each problem once, not each report of it."""
    return Case.main_case_id.is_(None)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0, type_=Integer)


def grid_rates(
    scope: ColumnElement[bool], start: datetime, end: datetime, moment: datetime
) -> list[GridRates]:
    """The four rates' counts per grid, for the cases opened in [start, end)."""
    first = _first_status_changes(start)
    waited = _epoch_seconds(first.c.at) - _epoch_seconds(Case.created_at)
    responded = first.c.at.is_not(None) & (waited <= RESPONSE_HOURS * 3600)
    had_time = Case.created_at <= moment - timedelta(hours=RESPONSE_HOURS)
    done = Case.status.in_(DONE_STATUSES)
    on_time = or_(Case.deadline_at.is_(None), Case.resolved_at <= Case.deadline_at)
    problem = a_problem()
    rows = db.session.execute(
        select(
            Case.grid,
            _count_if(problem),
            _count_if(problem & or_(responded, had_time)),
            _count_if(problem & responded),
            _count_if(problem & done),
            _count_if(problem & done & on_time),
            func.count(Case.satisfaction),
            _count_if(Case.satisfaction.in_(POSITIVE_ANSWERS)),
            func.count(),
        )
        .outerjoin(first, first.c.case_id == Case.id)
        .where(*_in_period(scope, start, end), counted_in_rates())
        .group_by(Case.grid)
        .order_by(Case.grid)
    ).all()
    return [GridRates(*row) for row in rows]


def all_grids(rows: list[GridRates]) -> GridRates:
    """The sum of the grids' rows: the whole centre (or whatever the reader may see)."""
    counts = [sum(getattr(row, name) for row in rows) for name in _COUNTS]
    return GridRates(None, *counts)


_COUNTS = (
    "cases",
    "response_base",
    "responded",
    "resolved",
    "on_time",
    "answered",
    "satisfied",
    "reporters",
)
