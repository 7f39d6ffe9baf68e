"""Several cases at once from the inbox: assign them to one person, or close them as junk or as
duplicates of one case; each by the rules of its single action, and all of them or none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from accounts.models import Role
from cases.models import CASE_NUMBER_OFFSET, Case, CaseEvent, CaseParticipant, CaseStatus
from hotline.db import db
from outreach.models import FollowUp
from tests.workspace.conftest import csrf_token, make_case, make_user

Login = Callable[[str], FlaskClient]


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            "desk": make_user("desk", Role.STAFF, display_name="Desk", language="en-US"),
            "zhao": make_user("zhao", Role.GRID_WORKER, display_name="Zhao", grid="A1",
                              language="en-US"),
            "qian": make_user("qian", Role.GRID_WORKER, display_name="Qian", grid="B2",
                              language="en-US"),
            "housing": make_user("housing", Role.DEPARTMENT, display_name="Housing",
                                 department="Housing office", language="en-US"),
        }  # fmt: skip


def new_cases(app: Flask, count: int, **fields: Any) -> list[int]:
    with app.app_context():
        fields.setdefault("grid", "A1")
        cases = [make_case(**fields) for _ in range(count)]
        db.session.commit()
        return [case.id for case in cases]


def number(case_id: int) -> str:
    return str(CASE_NUMBER_OFFSET + case_id)


def send(client: FlaskClient, case_ids: list[int], **form: str) -> TestResponse:
    data: dict[str, Any] = {
        "csrf_token": csrf_token(client, "/cases"),
        "case_id": [str(case_id) for case_id in case_ids],
        "back": "status=all&grid=A1",
        **form,
    }
    return client.post("/cases/bulk", data=data)


def state(app: Flask, case_ids: list[int]) -> list[tuple[str, int | None, str | None]]:
    """Each case's status, assignee and how it was closed."""
    with app.app_context():
        cases = [db.session.get(Case, case_id) for case_id in case_ids]
        return [
            (case.status.value, case.assignee_id, case.closed_as.value if case.closed_as else None)
            for case in cases
            if case is not None
        ]


def flashed(client: FlaskClient, response: TestResponse) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_staff_assign_several_cases_to_one_grid_worker(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    case_ids = new_cases(app, 3)
    client = login("desk")
    response = send(client, case_ids, do="assign", assignee_id=str(people["zhao"]))
    assert "Cases assigned: 3." in flashed(client, response)
    assert state(app, case_ids) == [("accepted", people["zhao"], None)] * 3
    # Back to the inbox as it was (its filters), with nothing left ticked.
    where = urlsplit(response.headers["Location"])
    assert where.path == "/cases" and parse_qs(where.query) == {"status": ["all"], "grid": ["A1"]}
    with app.app_context():
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "assigned")).all()
        assert sorted(event.case_id for event in events) == case_ids
        assert {event.actor for event in events} == {"Desk"}


def test_junk_and_duplicates_are_closed_together_without_surveys(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    original, *repeats = new_cases(app, 3)
    junk = new_cases(app, 2)
    client = login("zhao")
    response = send(
        client, repeats, do="close", closed_as="duplicate", duplicate_of=number(original)
    )
    assert "Cases closed as opened by mistake: 2." in flashed(client, response)
    response = send(client, junk, do="close", closed_as="junk", note="advertising texts")
    assert "Cases closed as opened by mistake: 2." in flashed(client, response)
    assert state(app, repeats) == [("closed", None, "duplicate")] * 2
    assert state(app, junk) == [("closed", None, "junk")] * 2
    with app.app_context():
        closed = {i: db.session.get(Case, i) for i in (*repeats, *junk)}
        assert {closed[i].duplicate_of_id for i in repeats} == {original}  # type: ignore[union-attr]
        assert {closed[i].close_reason for i in junk} == {"advertising texts"}  # type: ignore[union-attr]
        assert db.session.scalars(select(FollowUp)).all() == []
    assert state(app, [original]) == [("new", None, None)]


def test_one_refused_case_changes_none_and_each_refusal_is_named(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    fresh = new_cases(app, 2)
    resolved = new_cases(app, 1, status=CaseStatus.RESOLVED, resolution_note="fixed")
    client = login("desk")
    response = send(client, [*fresh, *resolved], do="close", closed_as="junk")
    page = flashed(client, response)
    assert "Nothing was changed: 1 of the ticked cases cannot be" in page
    assert f"Case {number(resolved[0])}: case {number(resolved[0])} is resolved" in page
    assert state(app, fresh) == [("new", None, None)] * 2
    assert state(app, resolved) == [("resolved", None, None)]
    # The batch comes back ticked, so only the refused case needs unticking.
    where = parse_qs(urlsplit(response.headers["Location"]).query)
    assert where["selected"] == [",".join(map(str, [*fresh, *resolved]))]
    for case_id in (*fresh, *resolved):
        assert f'value="{case_id}" form="bulk-form" checked' in page


def test_a_duplicate_of_a_case_in_the_batch_itself_is_refused(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    case_ids = new_cases(app, 2)
    client = login("desk")
    response = send(
        client, case_ids, do="close", closed_as="duplicate", duplicate_of=number(case_ids[0])
    )
    assert "a case cannot duplicate itself" in flashed(client, response)
    assert state(app, case_ids) == [("new", None, None)] * 2


def test_a_grid_worker_cannot_reach_another_grids_case_through_the_batch(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    mine = new_cases(app, 1)
    theirs = new_cases(app, 1, grid="B2")[0]
    client = login("zhao")
    response = send(client, [*mine, theirs], do="assign", assignee_id=str(people["zhao"]))
    page = flashed(client, response)
    assert f"Case {number(theirs)}: there is no case {number(theirs)}" in page
    assert state(app, [*mine, theirs]) == [("new", None, None)] * 2


def test_nobody_is_handed_a_case_they_could_not_see(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    case_ids = new_cases(app, 2)
    client = login("desk")
    page = flashed(client, send(client, case_ids, do="assign", assignee_id=str(people["qian"])))
    for case_id in case_ids:
        assert f"Case {number(case_id)}: Qian cannot open this case" in page
    assert state(app, case_ids) == [("new", None, None)] * 2


def test_a_department_changes_only_what_is_assigned_to_it(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    assigned = new_cases(app, 1, assignee_id=people["housing"])
    taking_part = new_cases(app, 1)
    with app.app_context():
        db.session.add(CaseParticipant(case_id=taking_part[0], user_id=people["housing"]))
        db.session.commit()
    client = login("housing")
    page = flashed(client, send(client, [*assigned, *taking_part], do="close", closed_as="junk"))
    assert f"Case {number(taking_part[0])}: you may see this case but not change it" in page
    assert state(app, [*assigned, *taking_part]) == [
        ("new", people["housing"], None),
        ("new", None, None),
    ]


@pytest.mark.parametrize(
    ("case_ids", "form", "message"),
    [
        ([], {"do": "assign"}, "Tick at least one case first."),
        ([1], {"do": "assign"}, "Choose who the ticked cases go to."),
        ([1], {"do": "delete"}, "Choose to assign or to close the ticked cases."),
        ([1], {"do": "close", "closed_as": "without_answer"}, "unknown reason for a mistake"),
        ([1], {"do": "close", "closed_as": "duplicate"}, "say which case this one duplicates"),
        ([1], {"do": "assign", "assignee_id": "99999"}, "There is no such user."),
        (list(range(1, 102)), {"do": "close", "closed_as": "junk"}, "101 cases ticked"),
    ],
)
def test_bad_requests_say_why_and_change_nothing(
    app: Flask,
    login: Login,
    people: dict[str, int],
    case_ids: list[int],
    form: dict[str, str],
    message: str,
) -> None:
    new_cases(app, 1)
    client = login("desk")
    page = flashed(client, send(client, case_ids, **form))
    assert message in page
    assert state(app, [1]) == [("new", None, None)]


def test_a_case_id_that_is_no_number_is_refused(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    new_cases(app, 1)
    client = login("desk")
    data = {"csrf_token": csrf_token(client, "/cases"), "case_id": ["1", "x1"], "do": "close",
            "closed_as": "junk"}  # fmt: skip
    response = client.post("/cases/bulk", data=data)
    assert "“x1” is not a number." in flashed(client, response)
    assert state(app, [1]) == [("new", None, None)]


def test_without_the_forms_token_nothing_happens(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    case_ids = new_cases(app, 1)
    response = login("desk").post(
        "/cases/bulk", data={"case_id": str(case_ids[0]), "do": "close", "closed_as": "junk"}
    )
    assert response.status_code == 400
    assert state(app, case_ids) == [("new", None, None)]


def test_the_inbox_offers_a_box_only_for_cases_the_reader_may_change(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    assigned = new_cases(app, 1, assignee_id=people["housing"])[0]
    taking_part = new_cases(app, 1)[0]
    with app.app_context():
        db.session.add(CaseParticipant(case_id=taking_part, user_id=people["housing"]))
        db.session.commit()
    page = login("housing").get("/cases?status=all").get_data(as_text=True)
    assert f'name="case_id" value="{assigned}"' in page
    assert f'name="case_id" value="{taking_part}"' not in page
    assert f'href="/cases/{taking_part}"' in page
