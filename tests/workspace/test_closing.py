"""不满意不销账: a resolved case closes after the resident's satisfied answer; without one only a
supervisor closes it, with a reason everyone can read; a case opened by mistake is closed as
such, without a survey, and counts in no rate."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from accounts.models import Role
from cases.api_tokens import create_token
from cases.models import Case, CaseStatus, ClosedAs, Satisfaction
from cases.reports import Period, grid_rates
from hotline.db import db
from outreach.models import FollowUp
from outreach.survey import record_answer
from tests.workspace.conftest import csrf_token, make_case, make_user

Login = Callable[[str], FlaskClient]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def hours_ago(hours: float) -> datetime:
    """Real time: the timeline's events are stamped with it, and the rates compare them."""
    return datetime.now(UTC) - timedelta(hours=hours)


# The last four days, in the centre's calendar: every case here was opened in them.
PERIOD = {
    "start": (hours_ago(96).astimezone(SHANGHAI).date()).isoformat(),
    "end": (hours_ago(-24).astimezone(SHANGHAI).date()).isoformat(),
}


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    """A grid worker of A1, a desk worker, and the centre's supervisor (an admin)."""
    with app.app_context():
        return {
            "grid": make_user("zhao", Role.GRID_WORKER, grid="A1", language="en-US"),
            "staff": make_user("wang", Role.STAFF, language="en-US", display_name="Wang"),
            "boss": make_user("boss", Role.ADMIN, language="en-US", display_name="Supervisor Liu"),
        }


def new_case(app: Flask, opened_hours_ago: float = 2, **fields: object) -> int:
    with app.app_context():
        case = make_case(grid="A1", created_at=hours_ago(opened_hours_ago), **fields)
        db.session.commit()
        return case.id


def post(client: FlaskClient, case_id: int, action: str, **data: str) -> TestResponse:
    response = client.post(
        f"/cases/{case_id}/{action}", data={**data, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(f"/cases/{case_id}")


def page_of(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def flashed_errors(page: str) -> list[str]:
    return re.findall(r'<p class="flash error" role="status">(.*?)</p>', page, re.S)


def status_buttons(page: str) -> list[str]:
    return re.findall(r'<button type="submit" name="to" value="(\w+)"', page)


def stored(app: Flask, case_id: int) -> Case:
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        db.session.expunge(case)
        return case


def resolved_by(client: FlaskClient, app: Flask, note: str = "Replaced the bulb.") -> int:
    """A new case of grid A1, accepted and resolved on its page by `client`."""
    case_id = new_case(app)
    post(client, case_id, "status", to="accepted")
    page = page_of(post(client, case_id, "status", to="resolved", note=note))
    assert flashed_errors(page) == []
    assert stored(app, case_id).status == CaseStatus.RESOLVED
    return case_id


def ledger_rows(client: FlaskClient) -> list[dict[str, str]]:
    body = client.get("/ledger.csv", query_string=PERIOD).get_data().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(body)))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_a_grid_worker_cannot_close_a_case_the_resident_has_not_answered_for(
    app: Flask, people: dict[str, int], login: Login
) -> None:
    grid_worker = login("zhao")
    case_id = resolved_by(grid_worker, app)
    page = page_of(grid_worker.get(f"/cases/{case_id}"))
    assert status_buttons(page) == ["reopened"]  # no "Close" to press
    assert "only a supervisor may close it, with a reason" in page

    # Posting anyway (an old page, a crafted form) is refused, with the rule in words.
    page = page_of(post(grid_worker, case_id, "status", to="closed", note="The resident is happy"))
    assert flashed_errors(page) == [
        f"case {10000 + case_id} has no answer from the resident: only a supervisor may close "
        "it, with a reason"
    ]
    case = stored(app, case_id)
    assert (case.status, case.closed_as, case.closed_at) == (CaseStatus.RESOLVED, None, None)


def test_a_supervisor_closes_without_an_answer_only_with_a_reason_shown_on_timeline_and_ledger(
    app: Flask, people: dict[str, int], login: Login
) -> None:
    case_id = resolved_by(login("wang"), app)
    boss = login("boss")
    page = page_of(boss.get(f"/cases/{case_id}"))
    assert status_buttons(page) == ["closed", "reopened"]
    assert "Reason for closing (required)" in page

    page = page_of(post(boss, case_id, "status", to="closed", note="  "))
    assert flashed_errors(page) == [
        f"closing case {10000 + case_id} without the resident&#39;s answer needs a reason"
    ]
    assert stored(app, case_id).status == CaseStatus.RESOLVED

    reason = "The resident moved away; three calls and a visit found nobody."
    page = page_of(post(boss, case_id, "status", to="closed", note=reason))
    case = stored(app, case_id)
    assert (case.status, case.closed_as, case.close_reason) == (
        CaseStatus.CLOSED,
        ClosedAs.WITHOUT_ANSWER,
        reason,
    )
    timeline = page[page.index('id="timeline"') :]
    assert "Supervisor Liu" in timeline
    assert "closed the case without the resident&#39;s answer" in timeline
    assert reason in timeline
    [line] = ledger_rows(boss)
    assert line["Status"] == "Closed" and line["Satisfaction"] == ""
    assert line["How it was closed"] == "Closed by a supervisor without the resident's answer"
    assert line["Reason for closing"] == reason


def test_the_api_shows_how_and_why_a_case_was_closed(
    app: Flask, people: dict[str, int], login: Login
) -> None:
    case_id = resolved_by(login("wang"), app)
    post(login("boss"), case_id, "status", to="closed", note="Resident in hospital for months")
    with app.app_context():
        token = create_token("reports", None)
    body = app.test_client().get(
        f"/api/cases/{case_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert body.get_json()["closed_as"] == "without_answer"
    assert body.get_json()["close_reason"] == "Resident in hospital for months"
    assert body.get_json()["duplicate_of"] is None


def test_a_satisfied_answer_closes_the_case_as_it_always_did(
    app: Flask, people: dict[str, int], login: Login
) -> None:
    case_id = resolved_by(login("zhao"), app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        record_answer(case, Satisfaction.SATISFIED, "sms")
        db.session.commit()
    case = stored(app, case_id)
    assert (case.status, case.closed_as, case.satisfaction) == (
        CaseStatus.CLOSED,
        None,
        Satisfaction.SATISFIED,
    )
    [line] = ledger_rows(login("wang"))
    assert (line["Satisfaction"], line["How it was closed"]) == ("Satisfied", "")


def test_an_answer_to_an_earlier_resolution_does_not_close_the_next_one(
    app: Flask, people: dict[str, int], login: Login
) -> None:
    """Satisfied once, reopened by staff, resolved again: the new work needs its own answer."""
    staff = login("wang")
    case_id = resolved_by(staff, app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        record_answer(case, Satisfaction.SATISFIED, "call")
        db.session.commit()
    post(staff, case_id, "status", to="reopened", note="The light failed again")
    post(staff, case_id, "status", to="resolved", note="Rewired the stairwell.")
    page = page_of(post(staff, case_id, "status", to="closed"))
    assert flashed_errors(page) == [
        f"case {10000 + case_id} has no answer from the resident: only a supervisor may close "
        "it, with a reason"
    ]
    assert stored(app, case_id).status == CaseStatus.RESOLVED


def test_cases_opened_by_mistake_close_without_a_survey_and_count_in_no_rate(
    app: Flask, people: dict[str, int], login: Login
) -> None:
    grid_worker = login("zhao")
    # The one real request: taken up at once, resolved, and the resident was satisfied.
    real = resolved_by(grid_worker, app)
    with app.app_context():
        case = db.session.get(Case, real)
        assert case is not None
        record_answer(case, Satisfaction.SATISFIED, "call")
        db.session.commit()
    # Opened 30 hours ago and never taken up: each would be "late" in the response rate.
    junk = new_case(app, 30, transcript="喂？喂？")
    silent = new_case(app, 30, transcript="")
    repeat = new_case(app, 30, transcript="楼道灯坏了，上午打过电话")

    page = page_of(post(grid_worker, junk, "mistake", closed_as="junk"))
    assert "The case is closed as opened by mistake." in page
    post(grid_worker, silent, "mistake", closed_as="no_message", note="Only breathing")
    page = page_of(post(grid_worker, repeat, "mistake", closed_as="duplicate"))
    assert flashed_errors(page) == ["say which case this one duplicates"]
    page = page_of(post(grid_worker, repeat, "mistake", closed_as="duplicate", duplicate_of="9"))
    assert flashed_errors(page) == ["there is no case 9"]
    page = page_of(
        post(grid_worker, repeat, "mistake", closed_as="duplicate", duplicate_of=str(10000 + real))
    )
    assert f"closed the case as opened by mistake: Duplicate of case {10000 + real}" in page

    for case_id, how in ((junk, "junk"), (silent, "no_message"), (repeat, "duplicate")):
        case = stored(app, case_id)
        assert (case.status, case.closed_as) == (CaseStatus.CLOSED, ClosedAs(how))
    assert stored(app, repeat).duplicate_of_number == str(10000 + real)
    with app.app_context():  # nobody is called to ask about a case that was no request
        surveyed = db.session.scalars(select(FollowUp.case_id)).all()
        assert set(surveyed) == {real}
        days = Period(date.fromisoformat(PERIOD["start"]), date.fromisoformat(PERIOD["end"]))
        [a1] = grid_rates(Case.grid == "A1", *days.bounds(SHANGHAI), hours_ago(0))
    assert (a1.cases, a1.response_base, a1.responded) == (1, 1, 1)
    assert (a1.answered, a1.satisfied, a1.resolved) == (1, 1, 1)

    dashboard = page_of(login("wang").get("/dashboard", query_string=PERIOD))
    rates = dashboard[dashboard.index('id="rates-table"') :]
    assert rates.count("100.0% (1/1)") >= 3  # response, resolution, satisfaction: 1 of 1
    assert "count in none of these rates" in dashboard
    lines = {line["Case number"]: line for line in ledger_rows(login("wang"))}
    assert lines[str(10000 + repeat)]["How it was closed"] == f"Duplicate of case {10000 + real}"
    assert lines[str(10000 + silent)]["Reason for closing"] == "Only breathing"


def test_a_case_that_was_worked_on_cannot_be_called_a_mistake(
    app: Flask, people: dict[str, int], login: Login
) -> None:
    staff = login("wang")
    case_id = resolved_by(staff, app)
    page = page_of(staff.get(f"/cases/{case_id}"))
    assert 'id="mistake-form"' not in page
    page = page_of(post(staff, case_id, "mistake", closed_as="junk"))
    assert (
        "a case that was resolved or reopened cannot be closed as opened by mistake"
        in (flashed_errors(page)[0])
    )
    assert stored(app, case_id).status == CaseStatus.RESOLVED


def test_the_resolve_form_offers_a_note_in_the_residents_language(
    app: Flask, people: dict[str, int], login: Login
) -> None:
    """A Chinese-speaking worker, a Korean resident: the note's language is preselected as
    the worker's, and a second note in Korean is offered and kept with its language."""
    with app.app_context():
        make_user("li", Role.STAFF, language="zh-CN")
    case_id = new_case(app, locale="ko-KR", phone="+8613800000077", status=CaseStatus.ACCEPTED)
    li = login("li")
    page = page_of(li.get(f"/cases/{case_id}"))
    assert '<option value="zh-CN" selected>中文</option>' in page
    assert "给居民的办结说明（韩语，可选）" in page
    post(
        li,
        case_id,
        "status",
        to="resolved",
        note="更换了楼道灯泡",
        note_locale="zh-CN",
        resident_locale="ko-KR",
        resident_note="계단 전구를 갈았습니다",
    )
    case = stored(app, case_id)
    assert (case.status, case.resolution_note, case.resolution_locale) == (
        CaseStatus.RESOLVED,
        "更换了楼道灯泡",
        "zh-CN",
    )
    assert case.resolution_translations == {"ko-KR": "계단 전구를 갈았습니다"}
