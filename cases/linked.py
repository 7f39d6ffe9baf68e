"""One problem, many reporters: cases linked to the problem's main case.

The same blocked drain reported by five neighbours is one problem. Staff link the other four
cases to one of them, the main case, where the work is done (cases.actions.link_to_main,
merge_into). Every reporter keeps their own case: its number, its texts, its survey. Its
status follows the main case's (cases.lifecycle), and the ledger and the rates count the
problem once and its reporters one by one (cases.reports).

Links are one level deep: a case is a main case, a report linked to one, or on its own; a
main case joining another problem brings its reports along.

This module only reads; the changes are cases.actions' and cases.lifecycle's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, exists, func, select

from cases.models import Case, CaseStatus
from hotline.db import db
from triage import OTHER

# How far back the case page looks for likely duplicates. Neighbours report the same drain
# within days of each other; four weeks also catches a problem left open well past its
# deadline (a week for a normal case) and reported again, while a drain that blocks again
# next season is a new problem, not offered as this one.
SUGGESTION_WINDOW = timedelta(weeks=4)
MAX_SUGGESTIONS = 10
OPEN_STATUSES = [status for status in CaseStatus if status.is_open]


def linked_cases(main: Case) -> list[Case]:
    """The reports linked to `main`, oldest first (none for a case that is no main case)."""
    if main.id is None:
        return []
    query = select(Case).where(Case.main_case_id == main.id).order_by(Case.id)
    return list(db.session.scalars(query))


def main_of(case: Case) -> Case:
    """The case where the problem is handled: its main case, or the case itself."""
    if case.main_case_id is None:
        return case
    main = db.session.get(Case, case.main_case_id)
    return main if main is not None else case


def has_reports(case: Case) -> bool:
    if case.id is None:
        return False
    return bool(db.session.scalar(select(exists().where(Case.main_case_id == case.id))))


def shares_a_problem(case: Case) -> bool:
    """Part of a problem with more than one reporter: a report, or a main case with reports."""
    return case.main_case_id is not None or has_reports(case)


def likely_duplicates(subject: Case, scope: ColumnElement[bool], moment: datetime) -> list[Case]:
    """Open cases that may be the same problem as `subject`, for the case page to offer.

    The same category, reported in the last SUGGESTION_WINDOW, in the same grid (or, for a
    case without a grid, the same building); the same building first, then the oldest. Only
    main cases and cases on their own: a report is reached through its main case. A case of
    category "other" gets none: that category says nothing about what the problem is.
    """
    if subject.main_case_id is not None or not subject.status.is_open:
        return []
    if subject.category == OTHER or not (subject.grid or subject.building):
        return []
    place = Case.grid == subject.grid if subject.grid else Case.building == subject.building
    same_building = case((Case.building == subject.building, 0), else_=1)
    query = (
        select(Case)
        .where(
            scope,
            place,
            Case.id != subject.id,
            Case.main_case_id.is_(None),
            Case.category == subject.category,
            Case.status.in_(OPEN_STATUSES),
            Case.created_at >= moment - SUGGESTION_WINDOW,
        )
        .order_by(same_building, Case.created_at, Case.id)
        .limit(MAX_SUGGESTIONS)
    )
    return list(db.session.scalars(query))


def reports_by_main(mains: Sequence[int]) -> dict[int, int]:
    """How many reports are linked to each of these main cases (absent: none)."""
    if not mains:
        return {}
    rows = db.session.execute(
        select(Case.main_case_id, func.count())
        .where(Case.main_case_id.in_(mains))
        .group_by(Case.main_case_id)
    )
    return {int(main or 0): int(count) for main, count in rows}
