"""The dashboard: right numbers for a small known data set, drawn as SVG with tables beside."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role
from cases.models import CaseEvent, CaseStatus, Satisfaction
from hotline.clock import CLOCK_KEY
from hotline.db import db
from tests.workspace.conftest import make_case, make_user

Login = Callable[[str], FlaskClient]
NOW = datetime(2024, 5, 15, 4, 0, tzinfo=UTC)  # Wednesday 15 May 2024, noon in Shanghai


class TableReader(HTMLParser):
    """The rows of the table with a given id, as lists of cell texts."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", self.table_id) in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(page: str, table_id: str) -> dict[str, list[str]]:
    """Each body row by its first cell; the header row under "header"."""
    reader = TableReader(table_id)
    reader.feed(page)
    assert reader.rows, f"no table {table_id}"
    header, *rows = reader.rows
    return {"header": header[1:], **{row[0]: row[1:] for row in rows}}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def known(app: Flask) -> None:
    """Three cases: two in grid A1, one in B2; one open past its deadline, one resolved."""
    app.extensions[CLOCK_KEY] = lambda: NOW
    with app.app_context():
        make_case(
            created_at=utc("2024-05-14 02:00"),
            grid="A1",
            category="noise",
            deadline_at=utc("2024-05-14 04:00"),
        )
        done = make_case(
            created_at=utc("2024-05-07 02:00"),
            grid="A1",
            category="drainage",
            status=CaseStatus.CLOSED,
            deadline_at=utc("2024-05-14 02:00"),
            resolved_at=utc("2024-05-08 02:00"),
            resolution_note="疏通",
            satisfaction=Satisfaction.SATISFIED,
        )
        make_case(
            created_at=utc("2024-05-08 02:00"),
            grid="B2",
            category="noise",
            status=CaseStatus.IN_PROGRESS,
            deadline_at=utc("2024-05-20 02:00"),
        )
        db.session.flush()
        db.session.add(
            CaseEvent(
                case=done,
                kind="status_changed",
                detail={"from": "new", "to": "accepted"},
                created_at=done.created_at + timedelta(hours=2),
            )
        )
        db.session.commit()


def test_the_dashboard_shows_the_known_numbers(known: None, staff: FlaskClient) -> None:
    response = staff.get("/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    weeks = table(page, "weeks-table")
    assert weeks["header"] == ["Drains and water", "Noise", "Total"]
    assert len(weeks) == 1 + 12
    assert weeks["2024-05-13"] == ["0", "1", "1"]
    assert weeks["2024-05-06"] == ["1", "1", "2"]
    assert weeks["2024-02-26"] == ["0", "0", "0"]
    load = table(page, "load-table")
    assert (load["A1"], load["B2"], load["Total"]) == (["1", "1"], ["1", "0"], ["2", "1"])
    rates = table(page, "rates-table")
    # Cases (problems), reporters, then the four rates.
    assert rates["A1"] == ["2", "2", "50.0% (1/2)", "50.0% (1/2)", "100.0% (1/1)", "100.0% (1/1)"]
    assert rates["B2"] == ["1", "1", "0.0% (0/1)", "0.0% (0/1)", "—", "—"]
    assert rates["Total"] == [
        "3",
        "3",
        "33.3% (1/3)",
        "33.3% (1/3)",
        "100.0% (1/1)",
        "100.0% (1/1)",
    ]


def test_the_charts_are_svg_with_a_title_on_every_bar(known: None, staff: FlaskClient) -> None:
    page = staff.get("/dashboard").get_data(as_text=True)
    assert page.count("<svg") == 2
    assert "<title>Week of 05-06, Noise: 1</title>" in page
    assert "<title>A1: 1 overdue</title>" in page
    assert "style=" not in page  # the Content-Security-Policy would block it


def test_a_grid_worker_sees_only_their_grid(known: None, app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("grid_b", Role.GRID_WORKER, grid="B2", language="en-US")
    page = login("grid_b").get("/dashboard").get_data(as_text=True)
    assert table(page, "weeks-table")["2024-05-06"] == ["1", "1"]
    assert set(table(page, "load-table")) == {"header", "B2", "Total"}
    assert set(table(page, "rates-table")) == {"header", "B2", "Total"}


def test_rates_for_a_chosen_period_and_bad_dates(known: None, staff: FlaskClient) -> None:
    page = staff.get("/dashboard?start=2024-05-13&end=2024-05-19").get_data(as_text=True)
    assert set(table(page, "rates-table")) == {"header", "A1", "Total"}
    response = staff.get("/dashboard?start=yesterday&end=2024-05-19")
    assert response.status_code == 400
    assert "From must be a date such as 2024-05-06" in response.get_data(as_text=True)


def test_a_department_has_no_dashboard(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("water", Role.DEPARTMENT)
    assert login("water").get("/dashboard").status_code == 403
