"""The call-back list in the JSON API: listed urgent first, marked done with a note."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from accounts.models import Role
from cases.api_tokens import create_token
from cases.models import CallBackReason
from hotline.db import db, utcnow
from tests.accounts.conftest import make_user
from tests.cases.test_api_cases import _validator
from tests.workspace.conftest import make_call_back, make_resident


def _token(app: Flask, username: str | None = None, role: Role = Role.STAFF, **fields: str) -> str:
    with app.app_context():
        user_id = make_user(username, role, **fields) if username else None
        return "Bearer " + create_token(f"token for {username}", user_id)


def _seed(app: Flask) -> tuple[int, int]:
    """A stranger's call (the older one), then a resident's of grid A1; their ids."""
    with app.app_context():
        resident = make_resident(phone="+8613800000001", name="王秀英", grid="A1")
        stranger = make_call_back(
            "+8613900000077", None, CallBackReason.NOISE, utcnow() - timedelta(hours=1)
        )
        known = make_call_back("+8613800000001", resident)
        db.session.commit()
        return stranger.id, known.id


def test_the_list_needs_a_token_and_puts_urgent_calls_first(app: Flask) -> None:
    client = app.test_client()
    stranger, known = _seed(app)
    assert client.get("/api/callbacks").status_code == 401
    assert client.get("/api/callbacks", headers={"Authorization": "Bearer nope"}).status_code == 401
    response = client.get("/api/callbacks", headers={"Authorization": _token(app)})
    assert response.status_code == 200
    listed = response.get_json()
    assert [item["id"] for item in listed] == [known, stranger]
    first = listed[0]
    assert first["urgent"] and first["resident_name"] == "王秀英" and first["status"] == "open"
    assert (first["phone"], first["reason"]) == ("+8613800000001", "silence")
    assert not listed[1]["urgent"] and listed[1]["reason"] == "noise"
    document = client.get("/api/openapi.json").get_json()
    for item in listed:
        _validator(document, "CallBack").validate(item)
    bad = client.get("/api/callbacks?status=lost", headers={"Authorization": _token(app)})
    assert bad.status_code == 400


def test_marking_done_needs_a_users_token_and_a_note_and_happens_once(app: Flask) -> None:
    client = app.test_client()
    stranger, known = _seed(app)
    staff = {"Authorization": _token(app, "staff1", display_name="Wang Staff")}
    read_only = {"Authorization": _token(app)}
    url = f"/api/callbacks/{known}/done"
    assert client.post(url, json={"note": "called"}).status_code == 401
    assert client.post(url, json={"note": "called"}, headers=read_only).status_code == 403
    assert client.post(url, json={"note": "  "}, headers=staff).status_code == 422
    assert client.post(url, json={"words": "x"}, headers=staff).status_code == 400
    done = client.post(url, json={"note": "Spoke with her son: all is well."}, headers=staff)
    assert done.status_code == 200
    body = done.get_json()
    assert body["status"] == "done" and body["done_by"]["name"] == "Wang Staff"
    assert body["note"] == "Spoke with her son: all is well." and body["done_at"]
    assert client.post(url, json={"note": "again"}, headers=staff).status_code == 409
    still_open = client.get("/api/callbacks", headers=staff).get_json()
    assert [item["id"] for item in still_open] == [stranger]
    finished = client.get("/api/callbacks?status=done", headers=staff).get_json()
    assert [item["id"] for item in finished] == [known]
    assert (
        client.post("/api/callbacks/999/done", json={"note": "x"}, headers=staff).status_code == 404
    )


def test_a_grid_workers_token_sees_and_marks_only_their_grids_residents(app: Flask) -> None:
    client = app.test_client()
    stranger, known = _seed(app)
    other_grid = {"Authorization": _token(app, "grid_b", Role.GRID_WORKER, grid="B2")}
    own_grid = {"Authorization": _token(app, "grid_a", Role.GRID_WORKER, grid="A1")}
    assert client.get("/api/callbacks", headers=other_grid).get_json() == []
    assert [c["id"] for c in client.get("/api/callbacks", headers=own_grid).get_json()] == [known]
    url = f"/api/callbacks/{known}/done"
    assert client.post(url, json={"note": "x"}, headers=other_grid).status_code == 404
    assert (
        client.post(
            f"/api/callbacks/{stranger}/done", json={"note": "x"}, headers=own_grid
        ).status_code
        == 404
    )
    assert client.post(url, json={"note": "visited her"}, headers=own_grid).status_code == 200
