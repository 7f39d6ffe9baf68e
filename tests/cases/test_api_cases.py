"""The JSON API for working on cases: what an integration sees and may do with its token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from accounts.models import Role, User
from cases.api_tokens import create_token
from cases.models import Case, CaseEvent, CaseParticipant, CaseStatus, Urgency
from hotline.clock import CLOCK_KEY
from hotline.db import db
from tests.accounts.conftest import make_user
from tests.workspace.conftest import make_case

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.extensions[CLOCK_KEY] = lambda: NOW
    return app.test_client()


def _token(app: Flask, username: str | None = None, role: Role = Role.STAFF, **fields: str) -> str:
    """A bearer header value for a new user of `role`, or a read-only token without a user."""
    with app.app_context():
        user_id = make_user(username, role, **fields) if username else None
        return "Bearer " + create_token(f"token for {username}", user_id)


def _case(app: Flask, **fields: Any) -> int:
    with app.app_context():
        case = make_case(**fields)
        db.session.commit()
        return case.id


def _stored(app: Flask, case_id: int) -> Case:
    """The case as the database has it now (attributes loaded, usable after the context)."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        _ = (case.events, case.assignee, case.participants, case.transcript_edits)
        db.session.expunge_all()
        return case


def _kinds(case: Case) -> list[str]:
    return [event.kind for event in case.events]


# -- reading -----------------------------------------------------------------------------


def test_filters_narrow_the_list(app: Flask, client: FlaskClient) -> None:
    token = _token(app, "staff1", display_name="Wang")
    with app.app_context():
        handler = make_user("handler", Role.STAFF)
    noise = _case(app, category="noise", grid="A1", assignee_id=handler)
    late = _case(app, urgency=Urgency.URGENT, deadline_at=NOW - timedelta(hours=1), grid="B2")
    done = _case(app, status=CaseStatus.RESOLVED, deadline_at=NOW - timedelta(days=1))
    other_phone = _case(app, phone="+8613900000002")

    def ids(**query: str) -> list[int]:
        response = client.get("/api/cases", query_string=query, headers={"Authorization": token})
        assert response.status_code == 200, response.get_json()
        return sorted(case["id"] for case in response.get_json())

    assert ids() == sorted([noise, late, done, other_phone])
    assert ids(category="noise") == [noise]
    assert ids(grid="B2") == [late]
    assert ids(urgency="urgent") == [late]
    assert ids(status="resolved") == [done]
    assert ids(assignee_id=str(handler)) == [noise]
    assert ids(overdue="true") == [late]  # the resolved one is late but no longer open
    assert ids(overdue="false") == sorted([noise, done, other_phone])
    assert ids(phone="+8613900000002") == [other_phone]
    assert ids(status="resolved", overdue="true") == []


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"status": "finished"}, "status must be one of"),
        ({"category": "weather"}, "category must be one of"),
        ({"overdue": "maybe"}, "overdue must be true or false"),
        ({"limit": "0"}, "limit must be a whole number from 1 to 200"),
        ({"limit": "201"}, "limit must be a whole number from 1 to 200"),
        ({"assignee_id": "me"}, "assignee_id must be a whole number"),
        ({"after": "999999"}, "after must be a case id"),
        ({"q": "楼道"}, "full-text search (q) is not available"),
    ],
)
def test_a_bad_filter_is_a_clear_400(
    app: Flask, client: FlaskClient, query: dict[str, str], words: str
) -> None:
    token = _token(app)
    response = client.get("/api/cases", query_string=query, headers={"Authorization": token})
    assert response.status_code == 400
    assert words in response.get_json()["message"]


def test_pages_follow_the_link_header_newest_first(app: Flask, client: FlaskClient) -> None:
    token = _token(app)
    same_moment = NOW - timedelta(hours=1)
    # Three cases share a creation time: the id breaks the tie, so none is lost or repeated.
    ids = [_case(app, created_at=same_moment) for _ in range(3)]
    ids += [_case(app, created_at=NOW - timedelta(minutes=m)) for m in (30, 10)]
    expected = [ids[4], ids[3], ids[2], ids[1], ids[0]]
    seen: list[int] = []
    url: str | None = "/api/cases?limit=2&urgency=normal"
    pages = 0
    while url is not None:
        response = client.get(url, headers={"Authorization": token})
        assert response.status_code == 200
        page = [case["id"] for case in response.get_json()]
        assert len(page) <= 2
        seen += page
        pages += 1
        link = response.headers.get("Link")
        url = None
        if link is not None:
            target, rel = link.split(";")
            assert rel.strip() == 'rel="next"' and "urgency=normal" in target
            url = target.strip().removeprefix("<").removesuffix(">")
    assert seen == expected and pages == 3


def test_the_default_page_is_fifty(app: Flask, client: FlaskClient) -> None:
    token = _token(app)
    with app.app_context():
        for _ in range(51):
            make_case()
        db.session.commit()
    response = client.get("/api/cases", headers={"Authorization": token})
    assert len(response.get_json()) == 50 and 'rel="next"' in response.headers["Link"]


def test_one_case_in_full_and_its_timeline_on_request(app: Flask, client: FlaskClient) -> None:
    token = _token(app)
    with app.app_context():
        handler = make_user("li", Role.STAFF, display_name="Li Handler")
        water = make_user("water", Role.DEPARTMENT, department="Water company")
        case = make_case(
            grid="A1", building="3号楼", assignee_id=handler, deadline_at=NOW - timedelta(hours=2)
        )
        case.participants.append(CaseParticipant(user_id=water, report="valve replaced"))
        case.events.append(CaseEvent(kind="note", actor="Li Handler", detail={"text": "called"}))
        db.session.commit()
        case_id = case.id
    headers = {"Authorization": token}
    body = client.get(f"/api/cases/{case_id}", headers=headers).get_json()
    assert body["assignee"] == {"id": handler, "name": "Li Handler"}
    assert (body["grid"], body["building"], body["overdue"]) == ("A1", "3号楼", True)
    assert body["deadline_at"].startswith("2025-03-03T00:00")
    assert body["participants"] == [
        {
            "user_id": water,
            "department": "Water company",
            "report": "valve replaced",
            "reported_at": None,
        }
    ]
    assert body["satisfaction"] is None and body["resolved_at"] is None and "events" not in body
    with_events = client.get(f"/api/cases/{case_id}?include=events", headers=headers).get_json()
    [note] = with_events["events"]
    assert (note["kind"], note["actor"], note["detail"]) == (
        "note",
        "Li Handler",
        {"text": "called"},
    )


# -- who may see and change what -------------------------------------------------------------


def test_a_grid_worker_cannot_read_or_change_another_grids_case(
    app: Flask, client: FlaskClient
) -> None:
    token = _token(app, "grid1", Role.GRID_WORKER, grid="A1")
    mine = _case(app, grid="A1")
    theirs = _case(app, grid="B2", transcript="路灯坏了")
    headers = {"Authorization": token}
    assert [case["id"] for case in client.get("/api/cases", headers=headers).get_json()] == [mine]
    assert client.get(f"/api/cases/{theirs}", headers=headers).status_code == 404
    for path, body in [
        ("", {"transcript": "changed"}),
        ("/notes", {"text": "hello"}),
        ("/assign", {"assignee_id": None}),
        ("/resolve", {"note": "done"}),
    ]:
        method = client.patch if not path else client.post
        response = method(f"/api/cases/{theirs}{path}", json=body, headers=headers)
        assert response.status_code == 404, path
    after = _stored(app, theirs)
    assert (after.transcript, after.status, _kinds(after)) == ("路灯坏了", CaseStatus.NEW, [])
    moved = client.patch(f"/api/cases/{mine}", json={"building": "5号楼"}, headers=headers)
    assert moved.status_code == 200 and moved.get_json()["building"] == "5号楼"


def test_a_department_changes_only_what_is_assigned_to_it(app: Flask, client: FlaskClient) -> None:
    token = _token(app, "water", Role.DEPARTMENT, department="Water company")
    with app.app_context():
        water = db.session.scalar(db.select(User.id).where(User.username == "water"))
        joint = make_case()
        joint.participants.append(CaseParticipant(user_id=water))
        unrelated = make_case()
        assigned = make_case(assignee_id=water, status=CaseStatus.ACCEPTED)
        db.session.commit()
        joint_id, unrelated_id, assigned_id = joint.id, unrelated.id, assigned.id
    headers = {"Authorization": token}
    assert client.get(f"/api/cases/{joint_id}", headers=headers).status_code == 200
    writes = [
        (client.patch, "", {"urgency": "urgent"}),
        (client.post, "/assign", {"assignee_id": water}),
        (client.post, "/resolve", {"note": "fixed"}),
        (client.post, "/notes", {"text": "we came by"}),
    ]
    for method, path, body in writes:
        seen = method(f"/api/cases/{joint_id}{path}", json=body, headers=headers)
        assert seen.status_code == 403, path
        assert "not assigned to you" in seen.get_json()["message"]
        unseen = method(f"/api/cases/{unrelated_id}{path}", json=body, headers=headers)
        assert unseen.status_code == 404, path
    assert _kinds(_stored(app, joint_id)) == [] and _kinds(_stored(app, unrelated_id)) == []
    resolved = client.post(
        f"/api/cases/{assigned_id}/resolve", json={"note": "pipe fixed"}, headers=headers
    )
    assert resolved.status_code == 200 and resolved.get_json()["status"] == "resolved"


def test_a_case_goes_only_to_someone_who_can_see_it(app: Flask, client: FlaskClient) -> None:
    token = _token(app, "staff1", display_name="Wang Staff")
    with app.app_context():
        own_grid = make_user("grid_a", Role.GRID_WORKER, grid="A1", display_name="Sun A1")
        other_grid = make_user("grid_b", Role.GRID_WORKER, grid="B2", display_name="Zhou B2")
        water = make_user("water", Role.DEPARTMENT, display_name="Water", department="Water")
    case_id = _case(app, grid="A1")
    headers = {"Authorization": token}
    offered = client.get(f"/api/cases/{case_id}/assignees", headers=headers)
    assert offered.status_code == 200
    assert sorted(user["name"] for user in offered.get_json()) == ["Sun A1", "Wang Staff", "Water"]
    refused = client.post(
        f"/api/cases/{case_id}/assign", json={"assignee_id": other_grid}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.get_json()["message"] == (
        "Zhou B2 cannot open this case (a grid worker sees only their own grid's cases): "
        "choose someone who can"
    )
    assert _stored(app, case_id).assignee_id is None and _kinds(_stored(app, case_id)) == []
    for user_id in (own_grid, water):
        taken = client.post(
            f"/api/cases/{case_id}/assign", json={"assignee_id": user_id}, headers=headers
        )
        assert taken.status_code == 200 and taken.get_json()["assignee_id"] == user_id


def test_resolve_keeps_the_notes_language_and_its_translations(
    app: Flask, client: FlaskClient
) -> None:
    """A resident hears only a note in their language: the API says which language it is in."""
    headers = {"Authorization": _token(app, "li", language="zh-CN")}
    case_id = _case(app, status=CaseStatus.ACCEPTED, locale="ko-KR")
    bad = client.post(
        f"/api/cases/{case_id}/resolve",
        json={"note": "换了灯泡", "translations": {"ko-KR": 7}},
        headers=headers,
    )
    assert bad.status_code == 400 and "translations must be" in bad.get_json()["message"]
    unknown = client.post(
        f"/api/cases/{case_id}/resolve", json={"note": "换了灯泡", "locale": "fr"}, headers=headers
    )
    assert unknown.status_code == 422 and "unknown language" in unknown.get_json()["message"]
    resolved = client.post(
        f"/api/cases/{case_id}/resolve",
        json={"note": "换了灯泡", "translations": {"ko-KR": "전구를 갈았습니다"}},
        headers=headers,
    ).get_json()
    assert (resolved["status"], resolved["resolution_locale"]) == ("resolved", "zh-CN")
    assert resolved["resolution_translations"] == {"ko-KR": "전구를 갈았습니다"}
    assert (resolved["closed_as"], resolved["close_reason"]) == (None, "")


def test_a_read_only_token_reads_but_cannot_write(app: Flask, client: FlaskClient) -> None:
    token = _token(app)
    case_id = _case(app)
    headers = {"Authorization": token}
    assert client.get(f"/api/cases/{case_id}", headers=headers).status_code == 200
    response = client.post(f"/api/cases/{case_id}/notes", json={"text": "hi"}, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["message"].startswith("this token is read-only")
    assert client.patch(f"/api/cases/{case_id}", json={}, headers=headers).status_code == 403
    assert _kinds(_stored(app, case_id)) == []


def test_a_deactivated_users_token_stops_working(app: Flask, client: FlaskClient) -> None:
    token = _token(app, "leaver")
    case_id = _case(app)
    with app.app_context():
        db.session.execute(db.update(User).values(active=False))
        db.session.commit()
    response = client.get(f"/api/cases/{case_id}", headers={"Authorization": token})
    assert response.status_code == 403 and "deactivated" in response.get_json()["message"]


def test_writes_need_a_token(app: Flask, client: FlaskClient) -> None:
    case_id = _case(app)
    assert client.post(f"/api/cases/{case_id}/notes", json={"text": "x"}).status_code == 401


# -- changing --------------------------------------------------------------------------------


def test_patch_corrects_the_case_and_signs_the_timeline(app: Flask, client: FlaskClient) -> None:
    token = _token(app, "staff1", display_name="Wang Staff")
    case_id = _case(app, status=CaseStatus.ACCEPTED, grid="A1")
    response = client.patch(
        f"/api/cases/{case_id}",
        json={
            "transcript": "三号楼楼道灯坏了",
            "category": "facilities",
            "urgency": "urgent",
            "grid": "A2",
            "building": "3号楼",
            "status": "in_progress",
            "note": "electrician booked",
        },
        headers={"Authorization": token},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["transcript"], body["category"], body["urgency"]) == (
        "三号楼楼道灯坏了",
        "facilities",
        "urgent",
    )
    assert (body["grid"], body["building"], body["status"]) == ("A2", "3号楼", "in_progress")
    case = _stored(app, case_id)
    assert case.machine_transcript == "楼道灯坏了"  # the machine's words are kept
    assert _kinds(case) == [
        "transcript_edited",
        "triage_changed",
        "location_changed",
        "status_changed",
    ]
    assert {event.actor for event in case.events} == {"Wang Staff"}
    moved = case.events[2].detail
    assert (moved["from_grid"], moved["grid"], moved["building"]) == ("A1", "A2", "3号楼")


def test_sending_back_the_current_status_changes_nothing(app: Flask, client: FlaskClient) -> None:
    token = _token(app, "staff1")
    case_id = _case(app)
    response = client.patch(
        f"/api/cases/{case_id}", json={"status": "new"}, headers={"Authorization": token}
    )
    assert response.status_code == 200 and response.get_json()["status"] == "new"
    assert _kinds(_stored(app, case_id)) == []


def test_a_refused_patch_changes_nothing(app: Flask, client: FlaskClient) -> None:
    token = _token(app, "staff1")
    case_id = _case(app)
    headers = {"Authorization": token}
    unknown = client.patch(
        f"/api/cases/{case_id}",
        json={"transcript": "new words", "category": "weather"},
        headers=headers,
    )
    assert unknown.status_code == 422 and "unknown category" in unknown.get_json()["message"]
    jump = client.patch(
        f"/api/cases/{case_id}",
        json={"transcript": "new words", "status": "closed"},
        headers=headers,
    )
    assert jump.status_code == 409
    assert "it can go to: accepted, not closed" in jump.get_json()["message"]
    no_note = client.patch(f"/api/cases/{case_id}", json={"status": "resolved"}, headers=headers)
    assert no_note.status_code == 422 and "resolution note" in no_note.get_json()["message"]
    case = _stored(app, case_id)
    assert (case.transcript, case.category, case.status) == ("楼道灯坏了", "other", CaseStatus.NEW)
    assert _kinds(case) == [] and case.transcript_edits == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"urgency": 3}', "urgency must be a string"),
        (b'{"colour": "red"}', "unknown field(s): colour"),
        (b'{"note": "why"}', "note goes with status"),
    ],
)
def test_malformed_bodies_are_a_clear_400(
    app: Flask, client: FlaskClient, body: bytes, words: str
) -> None:
    token = _token(app, "staff1")
    case_id = _case(app)
    response = client.patch(
        f"/api/cases/{case_id}",
        data=body,
        headers={"Authorization": token, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert words in response.get_json()["message"]


def test_notes_are_added_and_oversized_ones_refused(app: Flask, client: FlaskClient) -> None:
    token = _token(app, "staff1", display_name="Wang Staff")
    case_id = _case(app)
    headers = {"Authorization": token}
    added = client.post(
        f"/api/cases/{case_id}/notes", json={"text": " 已电话联系 "}, headers=headers
    )
    assert added.status_code == 201
    assert (added.get_json()["actor"], added.get_json()["detail"]) == (
        "Wang Staff",
        {"text": "已电话联系"},
    )
    too_long = client.post(
        f"/api/cases/{case_id}/notes", json={"text": "x" * 4001}, headers=headers
    )
    assert too_long.status_code == 422
    assert "too long: 4001 characters, at most 4000" in too_long.get_json()["message"]
    empty = client.post(f"/api/cases/{case_id}/notes", json={"text": "  "}, headers=headers)
    assert empty.status_code == 422 and "empty" in empty.get_json()["message"]
    missing = client.post(f"/api/cases/{case_id}/notes", json={}, headers=headers)
    assert missing.status_code == 422
    assert _kinds(_stored(app, case_id)) == ["note"]


def test_assign_hands_over_and_accepts_a_new_case(app: Flask, client: FlaskClient) -> None:
    token = _token(app, "staff1", display_name="Wang Staff")
    with app.app_context():
        handler = make_user("li", Role.GRID_WORKER, grid="A1", display_name="Li")
        gone = make_user("gone", Role.STAFF, active=False)
    case_id = _case(app, grid="A1")  # the grid worker's grid: they can see it
    headers = {"Authorization": token}
    url = f"/api/cases/{case_id}/assign"
    given = client.post(url, json={"assignee_id": handler}, headers=headers)
    assert given.status_code == 200
    assert (given.get_json()["assignee"], given.get_json()["status"]) == (
        {"id": handler, "name": "Li"},
        "accepted",
    )
    assert client.post(url, json={"assignee_id": gone}, headers=headers).status_code == 422
    missing = client.post(url, json={"assignee_id": 999999}, headers=headers)
    assert missing.status_code == 422 and "no user with id 999999" in missing.get_json()["message"]
    assert client.post(url, json={"assignee_id": 2**40}, headers=headers).status_code == 422
    assert client.post(url, json={"assignee_id": True}, headers=headers).status_code == 400
    assert client.post(url, json={}, headers=headers).status_code == 400
    assert _stored(app, case_id).assignee_id == handler
    cleared = client.post(url, json={"assignee_id": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.get_json()["assignee"] is None


def test_resolve_sets_resolved_and_records_who(app: Flask, client: FlaskClient) -> None:
    token = _token(app, "staff1", display_name="Wang Staff")
    case_id = _case(app)
    headers = {"Authorization": token}
    url = f"/api/cases/{case_id}/resolve"
    assert client.post(url, json={}, headers=headers).status_code == 422
    response = client.post(url, json={"note": "灯已更换"}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["resolution_note"]) == ("resolved", "灯已更换")
    assert body["resolved_at"].startswith("2025-03-03T02:00")
    case = _stored(app, case_id)
    assert case.status == CaseStatus.RESOLVED
    steps = [(e.actor, e.detail["to"]) for e in case.events if e.kind == "status_changed"]
    assert steps == [("Wang Staff", "accepted"), ("Wang Staff", "resolved")]
    again = client.post(url, json={"note": "again"}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"] == "Conflict"
    assert "case" in again.get_json()["message"] and "is resolved" in again.get_json()["message"]
    assert _stored(app, case_id).resolution_note == "灯已更换"
    assert len(_stored(app, case_id).events) == len(case.events)


# -- the OpenAPI document --------------------------------------------------------------------


def _openapi_path(rule: str) -> str:
    """Flask's /api/cases/<int:case_id> is OpenAPI's /api/cases/{case_id}."""
    parts = []
    for part in rule.split("/"):
        if part.startswith("<") and part.endswith(">"):
            part = "{" + part[1:-1].split(":")[-1] + "}"
        parts.append(part)
    return "/".join(parts)


def test_the_document_is_valid_openapi_and_lists_every_api_route(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    routes = {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert routes == documented


def _validator(document: dict[str, Any], schema: str) -> Any:
    from jsonschema import Draft202012Validator

    registry = Registry().with_resource(
        "urn:hotline-api", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"urn:hotline-api#/components/schemas/{schema}"}, registry=registry
    )


def test_real_responses_match_the_documented_schemas(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    token = _token(app, "staff1", display_name="Wang Staff")
    with app.app_context():
        water = make_user("water", Role.DEPARTMENT, department="Water company")
        case = make_case(deadline_at=NOW, assignee_id=water, grid="A1")
        case.participants.append(CaseParticipant(user_id=water, report="done"))
        db.session.commit()
        case_id = case.id
    _case(app)  # one without assignee or deadline: the nulls must match too
    headers = {"Authorization": token}
    note = client.post(f"/api/cases/{case_id}/notes", json={"text": "hello"}, headers=headers)
    listed = client.get("/api/cases", headers=headers).get_json()
    detail = client.get(f"/api/cases/{case_id}?include=events", headers=headers).get_json()
    error = client.get("/api/cases/999999", headers=headers).get_json()
    assignees = client.get(f"/api/cases/{case_id}/assignees", headers=headers).get_json()
    for case_body in listed:
        _validator(document, "Case").validate(case_body)
    _validator(document, "CaseDetail").validate(detail)
    _validator(document, "Event").validate(note.get_json())
    _validator(document, "Error").validate(error)
    for assignee in assignees:
        _validator(document, "Assignee").validate(assignee)
    assert len(listed) == 2 and detail["events"] and detail["participants"]
    # The schemas are strict enough to notice drift: a wrong type does not pass.
    assert not _validator(document, "Case").is_valid({**listed[0], "overdue": "no"})
