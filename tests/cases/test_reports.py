"""The ledger's and the dashboard's queries, on a small data set whose answers we know."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import true

from accounts.models import Role, User
from cases.models import Case, CaseEvent, CaseSource, CaseStatus, Satisfaction
from cases.permissions import case_scope
from cases.reports import (
    GridLoad,
    Period,
    all_grids,
    grid_rates,
    last_full_week,
    ledger_cases,
    ledger_record,
    open_and_overdue,
    recent_weeks,
    spreadsheet_safe,
    summary,
    week_of,
    weekly_counts,
)
from hotline.db import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 5, 15, 4, 0, tzinfo=UTC)  # Wednesday noon in Shanghai
GRID_A = case_scope(User(role=Role.GRID_WORKER, grid="A1"))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_case(**fields: Any) -> Case:
    values: dict[str, Any] = {"source": CaseSource.VOICEMAIL, "locale": "zh-CN", "grid": "A1"}
    values.update(fields)
    case = Case(**values)
    db.session.add(case)
    return case


def taken_up(case: Case, after: timedelta) -> None:
    """The timeline line staff leave when they accept the case."""
    detail = {"from": "new", "to": "accepted"}
    moment = case.created_at + after
    db.session.add(CaseEvent(case=case, kind="status_changed", detail=detail, created_at=moment))


@pytest.fixture
def context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def test_periods_are_local_calendar_days() -> None:
    assert last_full_week(date(2024, 5, 15)) == Period(date(2024, 5, 6), date(2024, 5, 12))
    assert last_full_week(date(2024, 5, 13)) == Period(date(2024, 5, 6), date(2024, 5, 12))
    assert week_of(date(2024, 5, 15)) == Period(date(2024, 5, 13), date(2024, 5, 19))
    assert week_of(date(2024, 5, 19)) == Period(date(2024, 5, 13), date(2024, 5, 19))
    start, end = Period(date(2024, 5, 6), date(2024, 5, 12)).bounds(SHANGHAI)
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (
        utc("2024-05-05 16:00"),
        utc("2024-05-12 16:00"),
    )
    weeks = recent_weeks(date(2024, 5, 15), 3)
    assert weeks == [date(2024, 4, 29), date(2024, 5, 6), date(2024, 5, 13)]


def test_spreadsheet_safe_neutralises_formulas_only() -> None:
    for cell in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx"):
        assert spreadsheet_safe(cell) == "'" + cell
    for cell in ("王秀英", "1+1", "", "'quoted"):
        assert spreadsheet_safe(cell) == cell


def test_weeks_are_counted_by_category_in_the_centres_time_zone(context: None) -> None:
    add_case(created_at=utc("2024-05-05 16:30"), category="noise")  # Monday 6 May, 00:30 local
    add_case(created_at=utc("2024-05-05 15:30"), category="noise")  # Sunday 5 May, 23:30 local
    add_case(created_at=utc("2024-05-07 01:00"), category="drainage")
    add_case(created_at=utc("2024-05-07 02:00"), category="drainage", grid="B2")
    add_case(created_at=utc("2024-05-14 01:00"), category="other")
    add_case(created_at=utc("2024-04-01 01:00"), category="other")  # before the window
    db.session.commit()
    weeks = weekly_counts(true(), recent_weeks(date(2024, 5, 15), 3), SHANGHAI)
    assert [(w.monday, w.by_category, w.total) for w in weeks] == [
        (date(2024, 4, 29), {"noise": 1}, 1),
        (date(2024, 5, 6), {"noise": 1, "drainage": 2}, 3),
        (date(2024, 5, 13), {"other": 1}, 1),
    ]
    mine = weekly_counts(GRID_A, recent_weeks(date(2024, 5, 15), 3), SHANGHAI)
    assert [w.total for w in mine] == [1, 2, 1]


def test_open_and_overdue_per_grid(context: None) -> None:
    add_case(status=CaseStatus.NEW, deadline_at=NOW - timedelta(hours=1))
    add_case(status=CaseStatus.IN_PROGRESS, deadline_at=NOW + timedelta(hours=1))
    add_case(status=CaseStatus.REOPENED, deadline_at=None)
    add_case(status=CaseStatus.RESOLVED, deadline_at=NOW - timedelta(days=1))  # not open
    add_case(status=CaseStatus.ACCEPTED, deadline_at=NOW - timedelta(days=1), grid="B2")
    add_case(status=CaseStatus.CLOSED, grid="C3")
    db.session.commit()
    assert open_and_overdue(true(), NOW) == [GridLoad("A1", 3, 1), GridLoad("B2", 1, 1)]
    assert open_and_overdue(GRID_A, NOW) == [GridLoad("A1", 3, 1)]


def test_rates_per_grid_count_what_their_definitions_say(context: None) -> None:
    opened = utc("2024-05-06 02:00")
    deadline = opened + timedelta(days=7)
    # A1: five cases in the period.
    quick = add_case(
        created_at=opened,
        status=CaseStatus.CLOSED,
        deadline_at=deadline,
        resolved_at=opened + timedelta(days=2),
        satisfaction=Satisfaction.SATISFIED,
    )
    slow = add_case(
        created_at=opened,
        status=CaseStatus.RESOLVED,
        deadline_at=deadline,
        resolved_at=deadline + timedelta(hours=1),  # resolved, but late
        satisfaction=Satisfaction.NOT_SATISFIED,
    )
    basic = add_case(
        created_at=opened,
        status=CaseStatus.IN_PROGRESS,
        deadline_at=deadline,
        satisfaction=Satisfaction.BASICALLY_SATISFIED,
    )
    add_case(created_at=opened, status=CaseStatus.NEW, deadline_at=deadline)  # never taken up
    add_case(created_at=NOW - timedelta(hours=1), status=CaseStatus.NEW)  # too new to be late
    # B2: one case, taken up in time, resolved with no deadline at all.
    other = add_case(created_at=opened, grid="B2", status=CaseStatus.RESOLVED, resolved_at=opened)
    add_case(created_at=utc("2024-04-01 00:00"))  # outside the period
    db.session.flush()
    taken_up(quick, timedelta(hours=2))
    taken_up(slow, timedelta(hours=30))  # taken up, but after 24 hours
    taken_up(basic, timedelta(hours=23, minutes=59))
    taken_up(other, timedelta(minutes=5))
    db.session.commit()

    start, end = Period(date(2024, 5, 6), date(2024, 5, 15)).bounds(SHANGHAI)
    a1, b2 = grid_rates(true(), start, end, NOW)
    assert (a1.grid, a1.cases, a1.response_base, a1.responded) == ("A1", 5, 4, 2)
    assert (a1.resolved, a1.on_time, a1.answered, a1.satisfied) == (2, 1, 3, 2)
    assert (a1.response_rate, a1.resolution_rate, a1.on_time_rate) == (0.5, 0.4, 0.5)
    assert a1.satisfaction_rate == pytest.approx(2 / 3)
    assert (b2.grid, b2.cases, b2.responded, b2.resolved, b2.on_time) == ("B2", 1, 1, 1, 1)
    assert b2.satisfaction_rate is None  # nobody answered: no rate, not 0%
    total = all_grids([a1, b2])
    assert (total.grid, total.cases, total.responded, total.response_base) == (None, 6, 3, 5)
    assert [row.grid for row in grid_rates(GRID_A, start, end, NOW)] == ["A1"]


def test_ledger_cases_of_a_period_and_their_lines(context: None) -> None:
    handler = User(username="li", display_name="Li Handler", role=Role.STAFF, password_hash="x")
    db.session.add(handler)
    inside = add_case(
        created_at=utc("2024-05-05 16:00"),  # Monday 00:00 local: the first moment of the week
        transcript="楼道灯\n坏了" + "很久" * 100,
        assignee=handler,
        status=CaseStatus.RESOLVED,
        resolution_note="换了灯泡",
        resolved_at=utc("2024-05-06 00:00"),
        deadline_at=utc("2024-05-05 20:00"),
    )
    open_late = add_case(
        created_at=utc("2024-05-12 15:59"), grid="B2", deadline_at=utc("2024-05-13")
    )
    add_case(created_at=utc("2024-05-12 16:00"))  # the next Monday 00:00 local: next week
    db.session.commit()
    start, end = Period(date(2024, 5, 6), date(2024, 5, 12)).bounds(SHANGHAI)
    assert [c.id for c in ledger_cases(true(), start, end)] == [inside.id, open_late.id]
    assert [c.id for c in ledger_cases(true(), start, end, grid="B2")] == [open_late.id]
    assert [c.id for c in ledger_cases(GRID_A, start, end)] == [inside.id]
    line = ledger_record(inside, NOW)
    assert (line["handler"], line["outcome"], line["status"]) == (
        "Li Handler",
        "换了灯泡",
        CaseStatus.RESOLVED,
    )
    assert line["overdue"] is True  # resolved, but after its deadline
    assert line["summary"].startswith("楼道灯 坏了") and len(line["summary"]) == 120
    assert ledger_record(open_late, NOW)["overdue"] is True
    assert ledger_record(open_late, utc("2024-05-12 23:00"))["overdue"] is False


def test_summary_keeps_short_text_whole() -> None:
    assert summary("  路灯   坏了 ") == "路灯 坏了"
