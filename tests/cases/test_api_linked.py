"""The JSON API's link, merge and unlink: one problem, many reporters, with the pages' rules."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role
from cases.api_tokens import create_token
from cases.models import CaseParticipant, CaseStatus
from hotline.clock import CLOCK_KEY
from hotline.db import db
from tests.accounts.conftest import make_user
from tests.cases.test_api_cases import NOW, _case, _stored, _token, _validator
from tests.workspace.conftest import make_case


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.extensions[CLOCK_KEY] = lambda: NOW
    return app.test_client()


DRAIN = {"category": "drainage", "grid": "A1", "building": "3号楼", "transcript": "下水道堵了"}


def _drains(app: Flask, count: int, **fields: Any) -> list[int]:
    return [_case(app, phone=f"+86138000001{n:02d}", **{**DRAIN, **fields}) for n in range(count)]


def _number(case_id: int) -> str:
    return str(10000 + case_id)


def test_merge_link_and_unlink_answer_the_documented_case(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    headers = {"Authorization": _token(app, "staff1", display_name="Wang Staff")}
    main, second, third, fourth = _drains(app, 4)

    merged = client.post(
        f"/api/cases/{main}/merge", json={"case_ids": [second, third]}, headers=headers
    )
    assert merged.status_code == 200, merged.get_json()
    body = merged.get_json()
    _validator(document, "CaseDetail").validate(body)
    assert [linked["number"] for linked in body["linked_cases"]] == [
        _number(second),
        _number(third),
    ]
    assert body["main_case_id"] is None

    linked = client.post(f"/api/cases/{fourth}/link", json={"main_id": main}, headers=headers)
    assert linked.status_code == 200
    _validator(document, "CaseDetail").validate(linked.get_json())
    assert (linked.get_json()["main_case_id"], linked.get_json()["main_case"]) == (
        main,
        _number(main),
    )
    assert linked.get_json()["status"] == "new"  # as its main case: nobody took it up yet
    again = client.post(f"/api/cases/{fourth}/link", json={"main_id": main}, headers=headers)
    assert again.status_code == 200  # the same link twice changes nothing

    listed = client.get("/api/cases", headers=headers).get_json()
    for case_body in listed:
        _validator(document, "Case").validate(case_body)
    assert sorted(c["id"] for c in listed if c["main_case_id"] == main) == [second, third, fourth]

    resolved = client.post(
        f"/api/cases/{main}/resolve", json={"note": "疏通了下水道"}, headers=headers
    )
    assert resolved.status_code == 200
    assert {_stored(app, case_id).status for case_id in (second, third, fourth)} == {
        CaseStatus.RESOLVED
    }
    refused = client.post(f"/api/cases/{second}/resolve", json={"note": "x"}, headers=headers)
    assert refused.status_code == 409  # already resolved, with its main case

    unlinked = client.post(f"/api/cases/{fourth}/unlink", headers=headers)
    assert unlinked.status_code == 200
    _validator(document, "CaseDetail").validate(unlinked.get_json())
    assert unlinked.get_json()["main_case_id"] is None
    assert unlinked.get_json()["status"] == "resolved"  # keeps the status it has


def test_bad_merges_are_clear_errors_and_change_nothing(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    headers = {"Authorization": _token(app, "staff1")}
    main, report, other = _drains(app, 3)
    closed = _case(app, status=CaseStatus.CLOSED, **DRAIN)
    assert client.post(
        f"/api/cases/{main}/merge", json={"case_ids": [report]}, headers=headers
    ).status_code == (200)

    def refused(case_id: int, action: str, body: dict[str, Any]) -> tuple[int, str]:
        response = client.post(f"/api/cases/{case_id}/{action}", json=body, headers=headers)
        _validator(document, "Error").validate(response.get_json())
        return response.status_code, response.get_json()["message"]

    assert refused(main, "merge", {"case_ids": [main]}) == (
        422,
        f"case {_number(main)} cannot be linked to itself",
    )
    assert refused(main, "link", {"main_id": report}) == (
        422,
        f"case {_number(report)} is already one of the reports of case {_number(main)}: merge "
        "it the other way round",
    )
    assert refused(closed, "merge", {"case_ids": [other]}) == (
        409,
        f"case {_number(closed)} is closed: only an open case takes more reports of its "
        "problem; reopen it, or keep this case on its own",
    )
    assert refused(other, "link", {"main_id": 999999}) == (422, "there is no case with id 999999")
    # All or nothing: the good case in the list is not merged when another is refused.
    assert refused(main, "merge", {"case_ids": [other, closed]})[0] == 409
    assert refused(other, "unlink", {}) == (
        422,
        f"case {_number(other)} is not linked to another case",
    )
    for body in ({}, {"case_ids": "12"}, {"case_ids": [True]}, {"case_ids": [1], "x": 1}):
        assert refused(main, "merge", body)[0] == 400
    assert refused(other, "link", {"main_id": "10001"})[0] == 400
    assert _stored(app, other).main_case_id is None
    assert _stored(app, closed).main_case_id is None
    assert _stored(app, report).main_case_id == main


def test_linking_keeps_to_what_the_token_may_change(app: Flask, client: FlaskClient) -> None:
    reader = {"Authorization": _token(app)}
    worker = {"Authorization": _token(app, "zhao", Role.GRID_WORKER, grid="A1")}
    ours, mine_too = _drains(app, 2)
    theirs = _case(app, **{**DRAIN, "grid": "B2"})
    with app.app_context():
        water = make_user("water", Role.DEPARTMENT, department="Water company")
        assigned = make_case(**DRAIN, assignee_id=water)
        joint = make_case(**DRAIN)  # the water company takes part, but it is not theirs
        joint.participants.append(CaseParticipant(user_id=water))
        db.session.commit()
        assigned_id, joint_id = assigned.id, joint.id
        department = {"Authorization": "Bearer " + create_token("water's token", water)}

    # A read-only token changes nothing.
    response = client.post(f"/api/cases/{ours}/link", json={"main_id": mine_too}, headers=reader)
    assert response.status_code == 403
    # Another grid's case is as unknown as a missing one, in the body or in the path.
    response = client.post(f"/api/cases/{ours}/link", json={"main_id": theirs}, headers=worker)
    assert (response.status_code, response.get_json()["message"]) == (
        422,
        f"there is no case with id {theirs}",
    )
    response = client.post(f"/api/cases/{theirs}/link", json={"main_id": ours}, headers=worker)
    assert response.status_code == 404
    # A case the token's user sees but may not change: 403, as for a case in the path.
    response = client.post(
        f"/api/cases/{assigned_id}/merge", json={"case_ids": [joint_id]}, headers=department
    )
    assert (response.status_code, response.get_json()["message"]) == (
        403,
        f"you may see case {_number(joint_id)} but not change it",
    )
    response = client.post(
        f"/api/cases/{joint_id}/merge", json={"case_ids": [assigned_id]}, headers=department
    )
    assert response.status_code == 403
    for case_id in (ours, theirs, assigned_id, joint_id):
        assert _stored(app, case_id).main_case_id is None
