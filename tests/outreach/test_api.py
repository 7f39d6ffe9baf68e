"""Home visits in the JSON API: the same rules and permissions as the pages, described in the
OpenAPI document, answered in JSON that matches it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from accounts.models import Role
from cases.api_tokens import create_token
from cases.models import Case, CaseStatus, Satisfaction
from hotline.db import db
from outreach.models import FollowUp, FollowUpKind, VisitRecord
from tests.accounts.conftest import make_user
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


def bearer(app: Flask, username: str | None, role: Role = Role.STAFF, **fields: str) -> dict:
    """The header of a token for a new user of `role`, or of a read-only token."""
    with app.app_context():
        user_id = make_user(username, role, **fields) if username else None
        return {"Authorization": "Bearer " + create_token(f"for {username}", user_id)}


@pytest.fixture
def client(app: Flask, clock: Clock) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(app: Flask) -> dict[str, dict]:
    with app.app_context():
        make_user("boss", Role.ADMIN, phone=BOSS_PHONE)
    return {
        "zhao": bearer(app, "zhao", Role.GRID_WORKER, grid="A1", phone=GRID_WORKER_PHONE),
        "qian": bearer(app, "qian", Role.GRID_WORKER, grid="B2"),
        "li": bearer(app, "li", Role.STAFF, display_name="Li Staff"),
        "water": bearer(app, "water", Role.DEPARTMENT, department="Water company"),
        "read_only": bearer(app, None),
    }


def visited_case(app: Flask, clock: Clock, beat: Beat, grid: str = "A1", phone: str = "") -> int:
    """Resolved on Monday; the resident takes no calls or texts: a visit on Tuesday 08:00."""
    with app.app_context():
        clock.moment = local(2, 15)
        resident = make_resident(
            grid=grid, do_not_call=True, sms_opt_out=True, phone=phone or "+8613800000001"
        )
        case = resolve(open_case(resident, grid=grid))
        clock.moment = local(3, 8)
        beat.run()
        return case.id


def stored(app: Flask, case_id: int) -> tuple[CaseStatus, Satisfaction | None, int]:
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        records = db.session.scalars(select(VisitRecord).where(VisitRecord.case_id == case_id))
        return case.status, case.satisfaction, len(records.all())


def validator(document: dict[str, Any], schema: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        "urn:hotline-api", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"urn:hotline-api#/components/schemas/{schema}"}, registry=registry
    )


def test_a_grid_worker_lists_their_grids_open_visits(
    app: Flask, client: FlaskClient, tokens: dict[str, dict], clock: Clock, beat: Beat
) -> None:
    mine = visited_case(app, clock, beat)
    theirs = visited_case(app, clock, beat, grid="B2", phone="+8613800000002")
    listed = client.get("/api/visits", headers=tokens["zhao"]).get_json()
    assert [visit["case_id"] for visit in listed] == [mine]
    [visit] = listed
    assert (visit["status"], visit["resident_name"], visit["scheduled_by"]) == (
        "open",
        "王秀英",
        None,
    )
    every = client.get("/api/visits", headers=tokens["li"]).get_json()
    assert {visit["case_id"] for visit in every} == {mine, theirs}
    only_b2 = client.get("/api/visits?grid=B2", headers=tokens["read_only"]).get_json()
    assert [visit["case_id"] for visit in only_b2] == [theirs]
    assert client.get("/api/visits", headers=tokens["water"]).status_code == 403
    assert client.get("/api/visits").status_code == 401


def test_not_satisfied_by_the_api_reopens_and_texts_the_supervisor(
    app: Flask, client: FlaskClient, tokens: dict[str, dict], clock: Clock, beat: Beat
) -> None:
    case_id = visited_case(app, clock, beat)
    body = {"met": True, "answer": "not_satisfied", "note": "the drain smells again"}
    response = client.post(f"/api/cases/{case_id}/visits", json=body, headers=tokens["zhao"])
    assert response.status_code == 201
    visit = response.get_json()
    assert (visit["status"], visit["case_status"]) == ("done", "reopened")
    [record] = visit["records"]
    assert (record["met"], record["answer"], record["note"]) == (
        True,
        "not_satisfied",
        "the drain smells again",
    )
    assert record["recorded_by"]["name"] == "zhao"
    assert stored(app, case_id) == (CaseStatus.REOPENED, Satisfaction.NOT_SATISFIED, 1)
    with app.app_context():
        assert [m.to_phone for m in outbox(purpose="staff_supervisor")] == [BOSS_PHONE]


def test_not_met_by_the_api_keeps_the_visit_open(
    app: Flask, client: FlaskClient, tokens: dict[str, dict], clock: Clock, beat: Beat
) -> None:
    case_id = visited_case(app, clock, beat)
    response = client.post(
        f"/api/cases/{case_id}/visits", json={"met": False}, headers=tokens["zhao"]
    )
    assert response.status_code == 201
    visit = response.get_json()
    assert (visit["status"], visit["not_met"], visit["case_status"]) == ("open", 1, "resolved")
    assert visit["due_at"].startswith("2026-03-04T00:00")  # 08:00 in Shanghai
    assert [v["id"] for v in client.get("/api/visits", headers=tokens["zhao"]).json] == [
        visit["id"]
    ]


def test_another_grids_case_is_refused_and_nothing_changes(
    app: Flask, client: FlaskClient, tokens: dict[str, dict], clock: Clock, beat: Beat
) -> None:
    case_id = visited_case(app, clock, beat)
    body = {"met": True, "answer": "not_satisfied"}
    for path in (f"/api/cases/{case_id}/visits", f"/api/cases/{case_id}/visits/schedule"):
        payload = body if path.endswith("/visits") else {"due_on": "2026-03-04"}
        response = client.post(path, json=payload, headers=tokens["qian"])
        assert response.status_code == 404
        message = response.get_json()["message"]
        assert f"no case {10000 + case_id} among the cases you may visit" in message
        assert "nothing was recorded" in message
    missing = client.post("/api/cases/999/visits", json=body, headers=tokens["qian"])
    assert missing.status_code == 404 and "no case 10999" in missing.get_json()["message"]
    for who in ("water", "read_only"):
        refused = client.post(f"/api/cases/{case_id}/visits", json=body, headers=tokens[who])
        assert refused.status_code == 403
    assert stored(app, case_id) == (CaseStatus.RESOLVED, None, 0)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, "met is required"),
        ({"met": "yes"}, 400, "met is required"),
        ({"met": True, "answer": 3}, 400, "answer must be one of"),
        ({"met": True, "answer": "happy"}, 400, "answer must be one of"),
        ({"met": True, "answer": "satisfied", "extra": 1}, 400, "unknown field(s): extra"),
        ({"met": True, "answer": "satisfied", "note": 5}, 400, "note must be a string"),
        ({"met": True}, 422, "choose their answer"),
        ({"met": False, "answer": "satisfied"}, 422, "An answer needs a meeting"),
        ({"met": False, "note": "x" * 4001}, 422, "too long"),
    ],
)
def test_bad_bodies_are_a_clear_error_and_change_nothing(
    app: Flask,
    client: FlaskClient,
    tokens: dict[str, dict],
    clock: Clock,
    beat: Beat,
    body: dict[str, Any],
    status: int,
    words: str,
) -> None:
    case_id = visited_case(app, clock, beat)
    response = client.post(f"/api/cases/{case_id}/visits", json=body, headers=tokens["zhao"])
    assert response.status_code == status
    assert words in response.get_json()["message"]
    assert stored(app, case_id) == (CaseStatus.RESOLVED, None, 0)


def test_a_visit_to_a_case_not_resolved_is_a_409(
    app: Flask, client: FlaskClient, tokens: dict[str, dict], clock: Clock
) -> None:
    with app.app_context():
        case_id = open_case(make_resident()).id
    response = client.post(
        f"/api/cases/{case_id}/visits",
        json={"met": True, "answer": "satisfied"},
        headers=tokens["zhao"],
    )
    assert response.status_code == 409 and "resolved" in response.get_json()["message"]


def test_staff_schedule_a_visit_through_the_api(
    app: Flask, client: FlaskClient, tokens: dict[str, dict], clock: Clock
) -> None:
    with app.app_context():
        clock.moment = local(2, 15)
        case_id = resolve(open_case(make_resident())).id
    path = f"/api/cases/{case_id}/visits/schedule"
    for bad in ({}, {"due_on": "05/03/2026"}, {"due_on": "2026-02-30"}):
        response = client.post(path, json=bad, headers=tokens["li"])
        assert response.status_code == 400 and "YYYY-MM-DD" in response.get_json()["message"]
    past = client.post(path, json={"due_on": "2026-03-01"}, headers=tokens["li"])
    assert past.status_code == 422 and "has passed" in past.get_json()["message"]
    response = client.post(path, json={"due_on": "2026-03-05"}, headers=tokens["li"])
    assert response.status_code == 201
    visit = response.get_json()
    assert visit["scheduled_by"]["name"] == "Li Staff" and visit["status"] == "open"
    again = client.post(path, json={"due_on": "2026-03-06"}, headers=tokens["li"])
    assert again.status_code == 422 and "already has a visit" in again.get_json()["message"]
    with app.app_context():
        kinds = db.session.scalars(select(FollowUp.kind).where(FollowUp.case_id == case_id))
        assert list(kinds).count(FollowUpKind.VISIT) == 1


def test_the_visit_routes_are_documented_and_the_answers_match_the_schemas(
    app: Flask, client: FlaskClient, tokens: dict[str, dict], clock: Clock, beat: Beat
) -> None:
    document = client.get("/api/openapi.json").get_json()
    validate_openapi(document)
    paths = document["paths"]
    assert set(paths["/api/cases/{case_id}/visits"]) == {"parameters", "post"}
    assert "get" in paths["/api/visits"] and "post" in paths["/api/cases/{case_id}/visits/schedule"]
    case_id = visited_case(app, clock, beat)
    listed = client.get("/api/visits", headers=tokens["zhao"]).get_json()
    not_met = client.post(
        f"/api/cases/{case_id}/visits", json={"met": False}, headers=tokens["zhao"]
    ).get_json()
    answered = client.post(
        f"/api/cases/{case_id}/visits",
        json={"met": True, "answer": "satisfied"},
        headers=tokens["zhao"],
    ).get_json()
    refused = client.post(
        f"/api/cases/{case_id}/visits", json={"met": True}, headers=tokens["zhao"]
    ).get_json()
    for visit in [*listed, not_met, answered]:
        validator(document, "Visit").validate(visit)
    validator(document, "Error").validate(refused)
    assert answered["case_status"] == "closed" and len(answered["records"]) == 2
    # Strict enough to notice drift.
    assert not validator(document, "Visit").is_valid({**answered, "status": "finished"})
