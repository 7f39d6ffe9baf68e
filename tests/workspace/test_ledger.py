"""The weekly ledger: the right cases for the period, in CSV and XLSX, in the reader's words."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from accounts.models import Role
from cases.models import CaseStatus, Satisfaction
from hotline.clock import CLOCK_KEY
from hotline.db import db
from tests.workspace.conftest import make_case, make_resident, make_user

Login = Callable[[str], FlaskClient]
# Wednesday 15 May 2024, noon in Shanghai: last full week is Monday 6 to Sunday 12 May.
NOW = datetime(2024, 5, 15, 4, 0, tzinfo=UTC)
WEEK = {"start": "2024-05-06", "end": "2024-05-12"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def cases(app: Flask) -> dict[str, str]:
    """Two cases inside last week (at its very edges, in Shanghai time), two just outside."""
    app.extensions[CLOCK_KEY] = lambda: NOW
    with app.app_context():
        handler = make_user("handler", Role.STAFF, display_name="Li Handler")
        resident = make_resident(phone="+8613800000001", name="张阿姨", grid="A1")
        done = make_case(
            created_at=utc("2024-05-05 16:30"),  # Monday 00:30 in Shanghai
            resident=resident,
            grid="A1",
            building="3号楼",
            category="drainage",
            transcript="下水道堵了，\n水漫到门口",
            assignee_id=handler,
            status=CaseStatus.CLOSED,
            resolution_note="疏通了下水道",
            resolved_at=utc("2024-05-07 02:00"),
            closed_at=utc("2024-05-08 02:00"),
            deadline_at=utc("2024-05-12 16:30"),
            satisfaction=Satisfaction.SATISFIED,
        )
        late = make_case(
            created_at=utc("2024-05-12 15:50"),  # Sunday 23:50 in Shanghai
            phone="+8613912345678",
            grid="B2",
            category="noise",
            transcript='=HYPERLINK("http://evil.example","点我")',
            deadline_at=utc("2024-05-13 15:50"),
        )
        make_case(created_at=utc("2024-05-12 16:10"), grid="A1", transcript="next week")
        make_case(created_at=utc("2024-05-05 15:59"), grid="A1", transcript="week before")
        db.session.commit()
        return {"done": done.number, "late": late.number}


def _csv_rows(response: TestResponse) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_page_shows_this_week_by_default_and_last_week_is_one_click_away(
    app: Flask, cases: dict[str, str], staff: FlaskClient
) -> None:
    """A new centre's first cases are this week's: the page opens on them, not on an empty
    last week; last week is a link."""
    page = staff.get("/ledger").get_data(as_text=True)
    assert 'value="2024-05-13"' in page and 'value="2024-05-19"' in page
    assert "1 case(s) opened from 2024-05-13 to 2024-05-19" in page
    assert "next week" in page and cases["done"] not in page
    links = dict(re.findall(r'<a href="([^"]+)">(This week|Last week)</a>', page))
    assert set(links.values()) == {"This week", "Last week"}
    last_week = next(href for href, label in links.items() if label == "Last week")
    page = staff.get(last_week.replace("&amp;", "&")).get_data(as_text=True)
    assert "2 case(s) opened from 2024-05-06 to 2024-05-12" in page
    assert cases["done"] in page and "next week" not in page


def test_empty_dates_and_answers_stay_empty_cells_in_csv_and_xlsx(
    app: Flask, cases: dict[str, str], staff: FlaskClient
) -> None:
    """A case not yet resolved has no dates and no answer: blank cells, never "None"."""
    header, *rows = _csv_rows(staff.get("/ledger.csv", query_string=WEEK))
    late = dict(zip(header, rows[1], strict=True))
    assert (late["Resolved at"], late["Closed at"], late["Satisfaction"]) == ("", "", "")
    assert "None" not in staff.get("/ledger.csv", query_string=WEEK).get_data(as_text=True)

    workbook = staff.get("/ledger.xlsx", query_string=WEEK).get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).worksheets[0]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    late = dict(zip(header, rows[1], strict=True))
    assert (late["Resolved at"], late["Closed at"]) == (None, None)
    assert late["Satisfaction"] in (None, "")
    assert all(value != "None" for row in rows for value in row)


def test_csv_has_the_periods_cases_with_handler_outcome_dates_and_satisfaction(
    app: Flask, cases: dict[str, str], staff: FlaskClient
) -> None:
    response = staff.get("/ledger.csv", query_string=WEEK)
    assert response.status_code == 200
    assert "ledger_2024-05-06_2024-05-12.csv" in response.headers["Content-Disposition"]
    header, *rows = _csv_rows(response)
    assert header[:3] == ["Case number", "Opened at", "Source"]
    records = [dict(zip(header, row, strict=True)) for row in rows]
    assert [r["Case number"] for r in records] == [cases["done"], cases["late"]]
    done, late = records
    assert done["Opened at"] == "2024-05-06 00:30"  # Shanghai time, not UTC
    assert (done["Resident"], done["Grid"], done["Category"]) == (
        "张阿姨",
        "A1",
        "Drains and water",
    )
    assert done["Request"] == "下水道堵了， 水漫到门口"
    assert (done["Handler"], done["Outcome"]) == ("Li Handler", "疏通了下水道")
    assert (done["Resolved at"], done["Closed at"]) == ("2024-05-07 10:00", "2024-05-08 10:00")
    assert (done["Status"], done["Satisfaction"], done["Overdue"]) == ("Closed", "Satisfied", "No")
    assert done["Phone"] == "…0001"  # the ledger travels: only the last four digits
    assert (late["Overdue"], late["Satisfaction"], late["Handler"]) == ("Yes", "", "")
    # A caller's words that look like a formula are shown as text, never run.
    assert late["Request"].startswith("'=HYPERLINK")


def test_xlsx_has_chinese_headers_real_dates_and_text_not_formulas(
    app: Flask, cases: dict[str, str], login: Login
) -> None:
    with app.app_context():
        make_user("zhou", Role.STAFF, language="zh-CN")
    response = login("zhou").get("/ledger.xlsx", query_string=WEEK)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:2] == ["诉求编号", "受理时间"]
    assert {"办理人", "办理结果", "办结时间", "满意度", "是否超期"} <= set(header)
    records = [dict(zip(header, row, strict=True)) for row in rows]
    assert [r["诉求编号"] for r in records] == [int(cases["done"]), int(cases["late"])]
    done, late = records
    assert done["受理时间"] == datetime(2024, 5, 6, 0, 30)
    assert (done["办理人"], done["办理结果"], done["满意度"]) == (
        "Li Handler",
        "疏通了下水道",
        "满意",
    )
    assert (done["类别"], done["状态"], done["是否超期"]) == ("排水供水", "已销账", "否")
    assert late["是否超期"] == "是"
    formula_cell = sheet.cell(row=3, column=header.index("诉求内容") + 1)
    assert formula_cell.data_type == "s" and formula_cell.value.startswith("=HYPERLINK")


def test_a_grid_workers_ledger_holds_only_their_grid(
    app: Flask, cases: dict[str, str], login: Login
) -> None:
    with app.app_context():
        make_user("grid_b", Role.GRID_WORKER, grid="B2", language="en-US")
    client = login("grid_b")
    _, *rows = _csv_rows(client.get("/ledger.csv", query_string={**WEEK, "grid": "A1"}))
    assert [row[0] for row in rows] == [cases["late"]]


def test_staff_can_narrow_the_ledger_to_one_grid(
    app: Flask, cases: dict[str, str], staff: FlaskClient
) -> None:
    _, *rows = _csv_rows(staff.get("/ledger.csv", query_string={**WEEK, "grid": "A1"}))
    assert [row[0] for row in rows] == [cases["done"]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2024-13-01", "end": "2024-05-12"}, "From must be a date such as 2024-05-06"),
        ({"start": "2024-05-12", "end": "2024-05-06"}, "The end of the period is before its start"),
        ({"start": "2020-01-01", "end": "2024-05-06"}, "A ledger covers at most 366 days"),
    ],
)
def test_bad_dates_are_refused_with_a_clear_message(
    app: Flask, staff: FlaskClient, query: dict[str, str], message: str
) -> None:
    for path in ("/ledger", "/ledger.csv", "/ledger.xlsx"):
        response = staff.get(path, query_string=query)
        assert response.status_code == 400, path
        assert message in response.get_data(as_text=True), path


def test_a_department_has_no_ledger(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("water", Role.DEPARTMENT)
    assert login("water").get("/ledger.csv").status_code == 403
