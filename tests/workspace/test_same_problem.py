"""One problem, many reporters on the staff pages: the case page suggests likely duplicates
and merges them in one click; the ledger and the dashboard count the problem once and its
reporters one by one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from cases.models import Case, CaseEvent, CaseStatus, Satisfaction
from hotline.db import db
from outreach.models import OutboundMessage
from outreach.survey import record_answer
from tests.workspace.conftest import csrf_token, make_case
from tests.workspace.test_closing import (
    PERIOD,
    Login,
    flashed_errors,
    hours_ago,
    ledger_rows,
    page_of,
    people,  # noqa: F401 (a fixture)
    post,
    stored,
)

DRAIN = {"category": "drainage", "building": "3号楼", "transcript": "3号楼下水道堵了"}


def new_case(app: Flask, opened_hours_ago: float = 2, **fields: object) -> int:
    """A case opened that long ago, in grid A1 unless `fields` say otherwise."""
    with app.app_context():
        case = make_case(**{"grid": "A1", "created_at": hours_ago(opened_hours_ago), **fields})
        db.session.commit()
        return case.id


def suggestions(page: str) -> list[str]:
    """The one-click buttons of the case page's likely duplicates, in order."""
    found = re.search(r'<ul class="suggestions" id="suggestions">(.*?)</ul>', page, re.S)
    return re.findall(r'<button type="submit">(.*?)</button>', found.group(1)) if found else []


def everything(app: Flask) -> tuple[list[tuple[int, str, int | None]], int, int]:
    """Every case's status and main case, and how many events and outgoing texts there are:
    what a refused link or merge must leave as it was."""
    with app.app_context():
        cases = db.session.execute(
            select(Case.id, Case.status, Case.main_case_id).order_by(Case.id)
        ).all()
        events = db.session.scalar(select(func.count()).select_from(CaseEvent)) or 0
        texts = db.session.scalar(select(func.count()).select_from(OutboundMessage)) or 0
        return [(id_, status.value, main) for id_, status, main in cases], events, texts


def flashed(page: str) -> list[str]:
    return re.findall(r'<p class="flash success" role="status">(.*?)</p>', page, re.S)


@pytest.mark.usefixtures("people")
def test_the_case_page_suggests_likely_duplicates_and_merges_one_in_a_click(
    app: Flask, login: Login
) -> None:
    staff = login("wang")
    first = new_case(app, 30, phone="+8613800000101", **DRAIN)
    main = new_case(app, 20, phone="+8613800000102", **DRAIN)
    later = new_case(app, 10, phone="+8613800000103", **DRAIN)
    elsewhere_in_grid = new_case(app, 5, phone="+8613800000104", **{**DRAIN, "building": "7号楼"})
    # Not offered: another category, another grid, closed, too old, of category "other".
    new_case(app, 5, **{**DRAIN, "category": "noise"})
    new_case(app, 5, **{**DRAIN, "grid": "B2"})
    new_case(app, 5, status=CaseStatus.CLOSED, **DRAIN)
    new_case(app, 24 * 7 * 5, **DRAIN)
    other = new_case(app, 5, **{**DRAIN, "category": "other"})

    page = page_of(staff.get(f"/cases/{main}"))
    assert suggestions(page) == [
        f"Link this case to {10000 + first}",  # it came first: the problem's main case
        f"Merge {10000 + later} into this case",
        f"Merge {10000 + elsewhere_in_grid} into this case",  # same grid, other building: last
    ]
    assert "in the last 4 weeks" in page
    assert suggestions(page_of(staff.get(f"/cases/{other}"))) == []

    page = page_of(post(staff, main, "merge", cases=str(10000 + later)))
    assert flashed(page) == [
        "The cases are merged into this one: each reporter keeps their case number."
    ]
    assert "Reported by 2 residents." in page
    assert f"linked case {10000 + later} to this case" in page
    assert suggestions(page) == [
        f"Link this case to {10000 + first}",
        f"Merge {10000 + elsewhere_in_grid} into this case",
    ]
    report = page_of(staff.get(f"/cases/{later}"))
    assert f"One of 2 reports of the problem handled on case {10000 + main}." in report
    assert 'value="resolved"' not in report  # resolved with its main case, not on its own
    assert "Opened by mistake" not in report  # a neighbour's report is no mistake

    # The whole problem joins the older one: links stay one level deep.
    page = page_of(post(staff, main, "link", main=str(10000 + first)))
    assert flashed_errors(page) == []
    assert stored(app, later).main_case_id == first
    assert "Reported by 3 residents." in page_of(staff.get(f"/cases/{first}"))


@pytest.mark.usefixtures("people")
def test_bad_links_on_the_page_say_why_and_change_nothing(app: Flask, login: Login) -> None:
    staff, grid_worker = login("wang"), login("zhao")
    main, report, free = (new_case(app, 5, **DRAIN) for _ in range(3))
    closed = new_case(app, 5, status=CaseStatus.CLOSED, **DRAIN)
    theirs = new_case(app, 5, **{**DRAIN, "grid": "B2"})
    post(staff, main, "merge", cases=str(10000 + report))
    before = everything(app)

    def error(client: object, case_id: int, action: str, **data: str) -> list[str]:
        return flashed_errors(page_of(post(client, case_id, action, **data)))  # type: ignore[arg-type]

    assert error(staff, main, "merge", cases=str(10000 + main)) == [
        f"case {10000 + main} cannot be linked to itself"
    ]
    assert error(staff, free, "link", main=str(10000 + closed)) == [
        f"case {10000 + closed} is closed: only an open case takes more reports of its problem; "
        "reopen it, or keep this case on its own"
    ]
    assert error(staff, closed, "merge", cases=str(10000 + free)) == [
        f"case {10000 + closed} is closed: only an open case takes more reports of its problem; "
        "reopen it, or keep this case on its own"
    ]
    # All or none: the good case in the list is not merged when another is refused.
    assert error(staff, main, "merge", cases=f"{10000 + free}, {10000 + closed}") == [
        f"case {10000 + closed} is closed: only an open case joins a problem"
    ]
    assert error(staff, main, "link", main=str(10000 + report)) == [
        f"case {10000 + report} is already one of the reports of case {10000 + main}: merge it "
        "the other way round"
    ]
    assert error(staff, free, "merge", cases="") == ["say which cases to merge into this one"]
    assert error(staff, free, "merge", cases=f"{10000 + main}, 12x") == ["there is no case 12x"]
    assert error(grid_worker, free, "link", main=str(10000 + theirs)) == [
        f"there is no case {10000 + theirs}"
    ]
    assert error(staff, free, "unlink") == [f"case {10000 + free} is not linked to another case"]
    assert [stored(app, case_id).main_case_id for case_id in (main, free, closed, theirs)] == [
        None
    ] * 4
    assert stored(app, report).main_case_id == main
    # Nothing else either: no status, no timeline event, no text.
    assert everything(app) == before
    # A grid worker never gets to another grid's case to link it.
    response = grid_worker.post(
        f"/cases/{theirs}/link",
        data={"main": str(10000 + free), "csrf_token": csrf_token(grid_worker)},
    )
    assert response.status_code == 404


@pytest.mark.usefixtures("people")
def test_the_ledger_and_the_dashboard_count_the_problem_once(app: Flask, login: Login) -> None:
    staff = login("wang")
    main, *reports = (new_case(app, 30, phone=f"+86138000001{n}", **DRAIN) for n in range(5))
    alone = new_case(app, 30, phone="+8613800000200", **{**DRAIN, "category": "noise"})
    post(staff, main, "merge", cases=" ".join(str(10000 + r) for r in reports))
    post(staff, main, "status", to="resolved", note="Cleared the drain.")
    with app.app_context():  # four of the five reporters answer, all satisfied
        for case_id in (main, *reports[:3]):
            record_answer(db.session.get(Case, case_id), Satisfaction.SATISFIED, "call")
        db.session.commit()

    ledger = page_of(staff.get("/ledger", query_string=PERIOD))
    assert '<p id="problem-count">2 problems, 6 reporters</p>' in ledger
    lines = {line["Case number"]: line for line in ledger_rows(staff)}
    assert lines[str(10000 + main)]["Reporters"] == "5"
    assert lines[str(10000 + main)]["Problem (main case)"] == str(10000 + main)
    for report in reports:
        assert lines[str(10000 + report)]["Problem (main case)"] == str(10000 + main)
        assert lines[str(10000 + report)]["Reporters"] == ""
    assert lines[str(10000 + alone)]["Reporters"] == "1"

    dashboard = page_of(staff.get("/dashboard", query_string=PERIOD))
    rates = dashboard[dashboard.index('id="rates-table"') :]
    row = re.search(r"<th scope=\"row\">A1</th>(.*?)</tr>", rates, re.S)
    assert row is not None
    cells = re.findall(r'<td class="number">(.*?)</td>', row.group(1))
    # 2 problems (the drain once), 6 reporters; the drain's work counted once: resolved 1 of
    # 2 problems; four of its reporters answered, each counts: 4 of 4 satisfied.
    assert cells[:2] == ["2", "6"]
    assert cells[3] == "50.0% (1/2)"
    assert cells[5] == "100.0% (4/4)"
    assert "counts once" in dashboard


@pytest.mark.usefixtures("people")
def test_suggestions_look_back_four_weeks(app: Flask, login: Login) -> None:
    staff = login("wang")
    subject = new_case(app, 1, **DRAIN)
    with app.app_context():
        inside = make_case(grid="A1", created_at=hours_ago(24 * 27), **DRAIN)
        outside = make_case(grid="A1", created_at=hours_ago(24 * 29), **DRAIN)
        db.session.commit()
        numbers = inside.number, outside.number
    assert timedelta(weeks=4).days == 28
    assert suggestions(page_of(staff.get(f"/cases/{subject}"))) == [
        f"Link this case to {numbers[0]}"
    ]
