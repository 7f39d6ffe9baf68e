"""Building leaders on the staff pages: made on a resident's (or an account's) page, shown on
the building's cases and on its residents' pages; bad input is refused with a clear message."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from accounts.models import Role
from cases.leaders import appoint
from cases.models import BuildingLeader, Case
from hotline.db import db
from tests.sms.helpers import text
from tests.workspace.conftest import csrf_token, make_resident, make_user
from twilio_double.simulator import CallSimulator

Login = Callable[[str], FlaskClient]
LEADER = "+8613800000101"


def _building(app: Flask) -> dict[str, int]:
    with app.app_context():
        people = {
            "leader": make_resident(phone=LEADER, name="张建国", building="3号楼", grid="A1"),
            "neighbour": make_resident(
                phone="+8613800000102", name="李秀兰", building="3号楼", grid="A1"
            ),
            "five": make_resident(phone="+8613800000105", name="王桂芳", building="5号楼"),
        }
        db.session.commit()
        return {key: resident.id for key, resident in people.items()}


def _leaders() -> int:
    return db.session.scalar(select(func.count(BuildingLeader.id))) or 0


def _appoint(client: FlaskClient, resident_id: int, building: str) -> str:
    """Post the form on the resident's page; the page it comes back to."""
    token = csrf_token(client, "/residents")
    response = client.post(
        f"/residents/{resident_id}/leads",
        data={"building": building, "csrf_token": token},
        follow_redirects=True,
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_staff_make_a_resident_a_building_leader_shown_on_the_buildings_residents(
    app: Flask, staff: FlaskClient
) -> None:
    ids = _building(app)
    page = _appoint(staff, ids["leader"], "3号楼")
    assert "张建国 is now a leader of 3号楼." in page
    assert "Leads these buildings" in page and "<li>3号楼" in page

    neighbour = staff.get(f"/residents/{ids['neighbour']}").get_data(as_text=True)
    assert "Leader of 3号楼:" in neighbour and "张建国" in neighbour and LEADER in neighbour
    five = staff.get(f"/residents/{ids['five']}").get_data(as_text=True)
    assert "5号楼 has no building leader yet." in five

    with app.app_context():
        leadership = db.session.scalars(select(BuildingLeader)).one()
    response = staff.post(
        f"/residents/{ids['leader']}/leads/{leadership.id}/delete",
        data={"csrf_token": csrf_token(staff, "/residents")},
        follow_redirects=True,
    )
    assert "张建国 is no longer a leader of 3号楼." in response.get_data(as_text=True)
    with app.app_context():
        assert _leaders() == 0


def test_a_leader_of_an_unknown_building_or_resident_is_refused_and_nothing_changes(
    app: Flask, staff: FlaskClient
) -> None:
    ids = _building(app)
    page = _appoint(staff, ids["leader"], "3号搂")  # a typo: nobody lives in 3号搂
    assert "No resident lives in “3号搂”" in page
    page = _appoint(staff, 987654, "3号楼")  # no such resident
    assert "There is no resident or account 987654" in page
    page = _appoint(staff, ids["leader"], "   ")
    assert "Type the building they lead." in page
    _appoint(staff, ids["leader"], "3号楼")
    page = _appoint(staff, ids["leader"], "3号楼")
    assert "张建国 already leads 3号楼." in page
    with app.app_context():
        assert _leaders() == 1


def test_only_the_office_makes_leaders(app: Flask, login: Login) -> None:
    ids = _building(app)
    with app.app_context():
        make_user("grid_a", Role.GRID_WORKER, grid="A1", language="en-US")
    client = login("grid_a")
    page = client.get(f"/residents/{ids['neighbour']}").get_data(as_text=True)
    assert 'id="appoint-form"' not in page
    response = client.post(
        f"/residents/{ids['leader']}/leads",
        data={"building": "3号楼", "csrf_token": csrf_token(client, "/residents")},
    )
    assert response.status_code == 403
    with app.app_context():
        assert _leaders() == 0


def test_the_case_page_shows_the_reporting_leader_and_the_buildings_leaders(
    app: Flask, staff: FlaskClient, phone: CallSimulator
) -> None:
    ids = _building(app)
    with app.app_context():
        appoint("3号楼", resident_id=ids["leader"])
        db.session.commit()
    text(phone, "李秀兰家卫生间漏水", from_=LEADER)
    with app.app_context():
        case = db.session.scalars(select(Case)).one()

    page = staff.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="case-reporter"' in page and "building leader 张建国 (3号楼)" in page
    assert 'id="case-building-leaders"' in page
    assert 'id="resident-name">李秀兰' in page  # the neighbour is the resident
    assert "recorded the report of building leader 张建国 for building 3号楼" in page
    assert "linked the case to resident 李秀兰" in page
    assert 'class="resident-suggestion"' not in page  # the leader is not offered as resident

    leader_page = staff.get(f"/residents/{ids['leader']}").get_data(as_text=True)
    assert "Reported as building leader" in leader_page and case.number in leader_page


def test_an_admin_makes_a_staff_member_a_building_leader(app: Flask, login: Login) -> None:
    _building(app)
    with app.app_context():
        make_user("boss", Role.ADMIN, language="en-US")
        zhou = make_user("zhou", Role.STAFF, display_name="Zhou", language="en-US")
    admin = login("boss")
    token = csrf_token(admin, f"/admin/users/{zhou}")
    response = admin.post(
        f"/admin/users/{zhou}/leads",
        data={"building": "5号楼", "csrf_token": token},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Zhou is now a leader of 5号楼." in page and "<li>5号楼" in page
    other = login("zhou")
    forbidden = other.post(
        f"/admin/users/{zhou}/leads",
        data={"building": "3号楼", "csrf_token": csrf_token(other, "/residents")},
    )
    assert forbidden.status_code == 403
    with app.app_context():
        assert [lead.user_id for lead in db.session.scalars(select(BuildingLeader))] == [zhou]
