"""The case page on a phone: what the case is about at the top, a bar with its actions and the
caller's number always at hand, and a long timeline folded to its latest events."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accounts.models import Role, User
from cases import actions
from cases.models import Case, CaseParticipant
from hotline.db import db
from tests.workspace.conftest import make_case, make_user

Login = Callable[[str], FlaskClient]


def a_case(app: Flask, notes: int = 0, **fields: object) -> int:
    with app.app_context():
        case = make_case(grid="A1", transcript="楼道的灯坏了，晚上看不见", **fields)
        db.session.flush()
        writer = db.session.scalar(select(User).where(User.username == "zhao"))
        assert writer is not None
        for count in range(1, notes + 1):
            actions.add_note(case, f"第{count}次上门", writer)
        db.session.commit()
        return case.id


def test_an_editor_has_the_action_bar_and_the_request_on_top(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("zhao", Role.GRID_WORKER, grid="A1", language="en-US")
    case_id = a_case(app)
    page = login("zhao").get(f"/cases/{case_id}").get_data(as_text=True)
    bar = page[page.index('id="case-bar"') : page.index("</nav>", page.index('id="case-bar"'))]
    for target, label in (
        ("#lifecycle-heading", "Status"),
        ("#notes-heading", "Note"),
        ("#routing-heading", "Assign"),
        ("tel:+8613800000001", "Call"),
    ):
        assert f'<a href="{target}">{label}</a>' in bar
    summary = page.index('id="case-summary"')
    assert summary < page.index('id="status-form"')
    assert "楼道的灯坏了，晚上看不见" in page[summary : summary + 200]


def test_a_department_taking_part_gets_only_the_call_link(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("zhao", Role.GRID_WORKER, grid="A1", language="en-US")
        housing = make_user("housing", Role.DEPARTMENT, language="en-US")
    case_id = a_case(app)
    with app.app_context():
        db.session.add(CaseParticipant(case_id=case_id, user_id=housing))
        db.session.commit()
    page = login("housing").get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="case-bar"' in page and "#lifecycle-heading" not in page
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        case.phone = ""
        db.session.commit()
    assert 'id="case-bar"' not in login("housing").get(f"/cases/{case_id}").get_data(as_text=True)


def test_a_long_timeline_folds_its_earlier_events(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("zhao", Role.GRID_WORKER, grid="A1", language="en-US")
    long_case, short_case = a_case(app, notes=12), a_case(app, notes=2)
    client = login("zhao")
    page = client.get(f"/cases/{long_case}").get_data(as_text=True)
    folded = page[
        page.index('class="timeline-earlier"') : page.index(
            "</details>", page.index('class="timeline-earlier"')
        )
    ]
    assert "Show 7 earlier events" in folded and "第7次上门" in folded and "第8次上门" not in folded
    recent = page[page.index("</details>", page.index('class="timeline-earlier"')) :]
    assert '<ol class="timeline" start="8">' in recent
    assert all(f"第{n}次上门" in recent for n in range(8, 13))
    assert "timeline-earlier" not in client.get(f"/cases/{short_case}").get_data(as_text=True)
