"""The visit pages: a grid worker's open visits as cards, one visit's page, and the form on
the case page that records what a visit found (or schedules one)."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accounts.models import Role
from cases.models import Case, CaseStatus, Satisfaction
from hotline.db import db
from outreach.models import FollowUp, FollowUpKind, FollowUpStatus, VisitRecord
from tests.outreach import conftest as loop
from tests.outreach.conftest import (
    BOSS_PHONE,
    GRID_WORKER_PHONE,
    Beat,
    Clock,
    local,
    make_resident,
    open_case,
    outbox,
    resolve,
)
from tests.workspace.conftest import csrf_token, make_user

Login = Callable[[str], FlaskClient]
# The follow-up tests' controllable clock and beat played by hand (tests/outreach/conftest.py).
clock = loop.clock
beat = loop.beat


def people(app: Flask) -> None:
    with app.app_context():
        make_user("boss", Role.ADMIN, phone=BOSS_PHONE, language="en-US")
        make_user("li", Role.STAFF, language="en-US", display_name="Li Staff")
        make_user("zhao", Role.GRID_WORKER, grid="A1", phone=GRID_WORKER_PHONE, language="en-US")
        make_user("qian", Role.GRID_WORKER, grid="B2", language="en-US")
        make_user("water", Role.DEPARTMENT, department="Water company", language="en-US")


def visited_case(
    app: Flask, clock: Clock, beat: Beat, phone: str = "+8613800000001", grid: str = "A1"
) -> int:
    """A case resolved on Monday whose resident takes no calls or texts: on Tuesday at 08:00
    its grid's worker is asked to visit."""
    with app.app_context():
        clock.moment = local(2, 15)
        resident = make_resident(
            phone=phone, grid=grid, do_not_call=True, sms_opt_out=True, language="zh-CN"
        )
        case = resolve(open_case(resident, grid=grid))
        clock.moment = local(3, 8)
        beat.run()
        return case.id


def stored(app: Flask, case_id: int) -> tuple[CaseStatus, Satisfaction | None, list[bool]]:
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        records = db.session.scalars(select(VisitRecord.met).where(VisitRecord.case_id == case_id))
        return case.status, case.satisfaction, list(records)


def visit_id(app: Flask, case_id: int) -> int:
    with app.app_context():
        found = db.session.scalar(
            select(FollowUp.id).where(
                FollowUp.case_id == case_id, FollowUp.kind == FollowUpKind.VISIT
            )
        )
        assert found is not None
        return found


def cards(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>|\s+", " ", card) for card in page.split('class="visit-card"')[1:]]


def record(client: FlaskClient, case_id: int, **form: str) -> str:
    """Post the visit form as the page would, and return the page it comes back to."""
    data = {"csrf_token": csrf_token(client, "/visits"), "back": "case", **form}
    response = client.post(f"/cases/{case_id}/visits", data=data)
    assert response.status_code == 303
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_my_visits_are_cards_of_my_grid_the_newest_due_first(
    app: Flask, login: Login, clock: Clock, beat: Beat
) -> None:
    people(app)
    first = visited_case(app, clock, beat, "+8613800000001")
    clock.moment = local(4, 9)
    second = visited_case(app, clock, beat, "+8613800000002")
    with app.app_context():  # the second one's visit falls due a day later
        visit = db.session.get(FollowUp, visit_id(app, second))
        assert visit is not None
        visit.due_at = local(4, 8)
        db.session.commit()
    theirs = visited_case(app, clock, beat, "+8613800000003", grid="B2")
    page = login("zhao").get("/visits").get_data(as_text=True)
    assert '<a href="/visits">My visits</a>' in page
    shown = cards(page)
    assert [str(10000 + second) in shown[0], str(10000 + first) in shown[1]] == [True, True]
    assert len(shown) == 2 and all(str(10000 + theirs) not in card for card in shown)
    assert "王秀英" in shown[0] and "幸福里3号楼2单元501" in shown[0]
    assert "Calls and texts did not reach the resident." in shown[0]
    assert f'href="/visits/{visit_id(app, second)}"' in page
    assert [str(10000 + theirs) in card for card in cards(login("qian").get("/visits").text)] == [
        True
    ]


def test_a_department_has_no_visits(app: Flask, login: Login) -> None:
    people(app)
    client = login("water")
    assert client.get("/visits").status_code == 403
    assert 'href="/visits"' not in client.get("/inbox").get_data(as_text=True)


def test_not_satisfied_from_the_case_page_reopens_the_case_and_tells_the_supervisor(
    app: Flask, login: Login, clock: Clock, beat: Beat
) -> None:
    people(app)
    case_id = visited_case(app, clock, beat)
    client = login("zhao")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="visit-form"' in page and "A visit is due" in page
    assert page.index('id="visit-form"') < page.index('id="timeline"')  # within reach
    after = record(client, case_id, result="not_satisfied", note="still leaking")
    assert "the resident is not satisfied" in after and "reopened" in after
    assert 'id="visit-form"' not in after  # reopened: nothing left to visit about
    assert "by home visit" in after and "still leaking" in after  # on the timeline
    assert stored(app, case_id) == (CaseStatus.REOPENED, Satisfaction.NOT_SATISFIED, [True])
    with app.app_context():
        assert [m.to_phone for m in outbox(purpose="staff_supervisor")] == [BOSS_PHONE]


def test_recording_for_another_grids_case_is_refused_and_changes_nothing(
    app: Flask, login: Login, clock: Clock, beat: Beat
) -> None:
    people(app)
    case_id = visited_case(app, clock, beat)
    client = login("qian")
    for target in (case_id, 999):
        data = {"csrf_token": csrf_token(client, "/visits"), "result": "not_satisfied"}
        response = client.post(f"/cases/{target}/visits", data=data)
        assert response.status_code == 303 and response.headers["Location"] == "/visits"
        page = client.get("/visits").get_data(as_text=True)
        assert f"Case {10000 + target} is not one of your grid&#39;s cases" in page
        assert "Nothing was recorded." in page
    assert stored(app, case_id) == (CaseStatus.RESOLVED, None, [])
    with app.app_context():  # nobody is told of an answer that was not taken
        assert outbox(purpose="staff_supervisor") == outbox(purpose="staff_assignee") == []
    assert client.get(f"/visits/{visit_id(app, case_id)}").status_code == 404
    schedule = client.post(
        f"/cases/{case_id}/visits/schedule",
        data={"csrf_token": csrf_token(client, "/visits"), "due_on": "2026-03-04"},
    )
    assert schedule.headers["Location"] == "/visits"


def test_a_form_without_a_choice_or_with_a_bad_note_is_refused_with_a_message(
    app: Flask, login: Login, clock: Clock, beat: Beat
) -> None:
    people(app)
    case_id = visited_case(app, clock, beat)
    client = login("zhao")
    assert "Choose what you found" in record(client, case_id)
    assert "Choose what you found" in record(client, case_id, result="maybe")
    assert "the note is too long" in record(client, case_id, result="not_met", note="x" * 4001)
    assert stored(app, case_id) == (CaseStatus.RESOLVED, None, [])


def test_the_visit_page_records_not_met_then_an_answer(
    app: Flask, login: Login, clock: Clock, beat: Beat
) -> None:
    people(app)
    case_id = visited_case(app, clock, beat)
    visit = visit_id(app, case_id)
    client = login("zhao")
    page = client.get(f"/visits/{visit}").get_data(as_text=True)
    assert "王秀英" in page and 'href="tel:+8613800000001"' in page
    assert 'name="back" value="visit"' in page and "Met: 3 not satisfied" in page
    token = csrf_token(client, f"/visits/{visit}")
    clock.moment = local(3, 17)
    response = client.post(
        f"/cases/{case_id}/visits",
        data={"csrf_token": token, "back": "visit", "result": "not_met", "note": "nobody home"},
    )
    assert response.headers["Location"] == "/visits"
    listing = client.get("/visits").get_data(as_text=True)
    assert "not met. The visit is due again 2026-03-04 08:00" in listing
    assert "Not met on 1 earlier visit(s)." in cards(listing)[0]
    client.post(
        f"/cases/{case_id}/visits",
        data={"csrf_token": token, "back": "visit", "result": "satisfied"},
    )
    assert stored(app, case_id) == (CaseStatus.CLOSED, Satisfaction.SATISFIED, [False, True])
    done = client.get(f"/visits/{visit}").get_data(as_text=True)
    assert 'id="visit-form"' not in done and "This visit is finished" in done
    assert "did not meet the resident" in done and "met the resident: Satisfied" in done


def test_staff_schedule_a_visit_from_the_case_page(
    app: Flask, login: Login, clock: Clock, beat: Beat
) -> None:
    people(app)
    with app.app_context():
        clock.moment = local(2, 15)
        case_id = resolve(open_case(make_resident())).id
    client = login("li")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="visit-schedule"' in page and 'value="2026-03-02"' in page
    token = csrf_token(client, f"/cases/{case_id}")
    bad = client.post(
        f"/cases/{case_id}/visits/schedule", data={"csrf_token": token, "due_on": "tomorrow"}
    )
    assert "“tomorrow” is not a day" in client.get(bad.headers["Location"]).text
    done = client.post(
        f"/cases/{case_id}/visits/schedule", data={"csrf_token": token, "due_on": "2026-03-05"}
    )
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Visit scheduled for 2026-03-05 08:00" in page
    assert "A visit is due 2026-03-05 08:00. Asked for by Li Staff." in page
    assert 'id="visit-schedule"' not in page
    with app.app_context():
        [visit] = db.session.scalars(select(FollowUp).where(FollowUp.kind == FollowUpKind.VISIT))
        assert visit.status == FollowUpStatus.SCHEDULED
    zhao = login("zhao").get("/visits").get_data(as_text=True)
    assert "Asked for by Li Staff." in zhao
