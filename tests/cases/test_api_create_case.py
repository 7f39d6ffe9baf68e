"""POST /api/cases: an integration records a request on someone's behalf, as the form does."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select

from accounts.models import Role
from cases.api_tokens import create_token
from cases.models import Attachment, Case, CaseEvent
from hotline.db import db
from hotline.settings import current_settings
from outreach.models import FollowUp
from tests.accounts.conftest import make_user
from tests.cases.test_staff_intake import JPEG, PNG
from tests.conftest import make_env
from tests.workspace.conftest import make_case, make_resident
from twilio_double.rest import TwilioRestDouble


@pytest.fixture
def env(tmp_path: Path, database_url: str, rest: TwilioRestDouble) -> dict[str, str]:
    """Files limited to 1 MB, so that a file too big stays small."""
    return make_env(
        tmp_path, database_url, TWILIO_API_BASE_URL=rest.base_url, HOTLINE_MAX_ATTACHMENT_MB="1"
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        zhang = make_resident(name="Zhang Xiuying", address="12 River Road", grid="A1")
        kim = make_resident(phone="+8613800000002", name="Kim", grid="B2", language="ko-KR")
        db.session.commit()
        return {"zhang": zhang.id, "kim": kim.id}


def token(app: Flask, username: str | None, role: Role = Role.STAFF, **fields: str) -> str:
    with app.app_context():
        user_id = make_user(username, role, **fields) if username else None
        return "Bearer " + create_token(f"token for {username}", user_id)


def create(client: FlaskClient, bearer: str, **body: Any) -> Any:
    return client.post("/api/cases", json=body, headers={"Authorization": bearer})


def counts(app: Flask) -> tuple[int, int, int, int]:
    with app.app_context():
        folder = current_settings().data_dir / "attachments"
        files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
        rows = (
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Case, CaseEvent, Attachment)
        )
        return (*rows, len(files))  # type: ignore[return-value]


def validator(document: dict[str, Any], schema: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        "urn:hotline-api", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"urn:hotline-api#/components/schemas/{schema}"}, registry=registry
    )


def test_a_request_recorded_through_the_api_matches_the_documented_schema(
    app: Flask, client: FlaskClient, ids: dict[str, int]
) -> None:
    bearer = token(app, "mei", display_name="Mei Desk")
    response = create(
        client,
        bearer,
        source="building_leader",
        text="下水道堵了，污水倒灌",
        resident_id=ids["zhang"],
        resolved=True,
        resolution_note="物业当场疏通",
        attachment={"file_name": "drain.png", "content_base64": base64.b64encode(PNG).decode()},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    document = client.get("/api/openapi.json").get_json()
    validator(document, "CaseDetail").validate(body)
    assert (body["source"], body["resident_id"], body["status"]) == (
        "building_leader",
        ids["zhang"],
        "resolved",
    )
    assert (body["category"], body["urgency"]) == ("drainage", "urgent")
    assert body["address"] == "12 River Road" and body["person_name"] == ""
    [attachment] = body["attachments"]
    assert attachment["content_type"] == "image/png" and attachment["file_name"] == "drain.png"
    file = client.get(attachment["url"], headers={"Authorization": bearer})
    assert file.status_code == 200 and file.get_data() == PNG and file.mimetype == "image/png"
    file.close()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 1  # the survey
    # The new way in is a filter of the list, and a value of the documented enum.
    listed = client.get("/api/cases?source=building_leader", headers={"Authorization": bearer})
    assert [case["id"] for case in listed.get_json()] == [body["id"]]
    assert client.get("/api/cases?source=desk", headers={"Authorization": bearer}).get_json() == []


def test_a_grid_workers_token_records_in_their_grid_only(
    app: Flask, client: FlaskClient, ids: dict[str, int]
) -> None:
    bearer = token(app, "li", Role.GRID_WORKER, grid="A1", display_name="Li Grid")
    other = create(client, bearer, source="grid_patrol", text="路灯坏了", resident_id=ids["kim"])
    assert other.status_code == 422
    assert f"there is no resident {ids['kim']}" in other.get_json()["message"]
    stranger = create(
        client, bearer, source="grid_patrol", text="路灯坏了", person_name="王大爷", grid="B2"
    )
    assert stranger.status_code == 422 and "own grid (A1)" in stranger.get_json()["message"]
    made = create(client, bearer, source="grid_patrol", text="路灯坏了", person_name="王大爷")
    assert made.status_code == 201 and made.get_json()["grid"] == "A1"
    assert made.get_json()["person_name"] == "王大爷"
    # Another grid's case and its files are as unknown to the token as missing ones.
    with app.app_context():
        elsewhere = make_case(grid="B2").id
        db.session.commit()
    hidden = client.get(f"/api/cases/{elsewhere}/attachments/1", headers={"Authorization": bearer})
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("who", "role"), [(None, Role.STAFF), ("water", Role.DEPARTMENT)], ids=["read-only", "dept"]
)
def test_who_does_not_record_requests_gets_403(
    app: Flask, client: FlaskClient, ids: dict[str, int], who: str | None, role: Role
) -> None:
    bearer = token(app, who, role, department="Water")
    response = create(client, bearer, source="desk", text="x", resident_id=ids["zhang"])
    assert response.status_code == 403
    assert counts(app)[0] == 0


BAD_BODIES = [
    ({"text": "x", "resident_id": "7"}, 400, "resident_id must be"),
    ({"text": "x", "person_name": "W", "shoe_size": 42}, 400, "unknown field(s): shoe_size"),
    ({"text": "x", "person_name": "W", "resolved": "yes"}, 400, "resolved must be true or false"),
    ({"text": 7, "person_name": "W"}, 400, "text must be a string"),
    (
        {"text": "x", "person_name": "W", "attachment": {"content_base64": "%%%"}},
        400,
        "not base64",
    ),
    ({"text": "x"}, 422, "say who is affected"),
    ({"text": " ", "person_name": "W"}, 422, "what the request is is empty"),
    ({"text": "x", "person_name": "W", "category": "weather"}, 422, "unknown category"),
    ({"text": "x", "person_name": "W", "source": "sms"}, 422, "choose how the request came"),
    ({"text": "x", "person_name": "W", "resolved": True}, 422, "a resolution note is needed"),
    (
        {
            "text": "x",
            "person_name": "W",
            "attachment": {"file_name": "a.jpg", "content_base64": base64.b64encode(b"<svg/>")},
        },
        422,
        "not a JPEG, PNG, WebP or HEIC photo or a PDF",
    ),
    (
        {
            "text": "x",
            "person_name": "W",
            "attachment": {
                "file_name": "big.jpg",
                "content_base64": base64.b64encode(JPEG + b"\0" * 1024 * 1024),
            },
        },
        422,
        "the file is too big: at most 1 MB",
    ),
]


@pytest.mark.parametrize(("body", "status", "words"), BAD_BODIES, ids=[w for *_, w in BAD_BODIES])
def test_bad_input_is_refused_whole(
    app: Flask,
    client: FlaskClient,
    ids: dict[str, int],
    body: dict[str, Any],
    status: int,
    words: str,
) -> None:
    bearer = token(app, "mei")
    attachment = body.get("attachment")
    if attachment and isinstance(attachment.get("content_base64"), bytes):
        attachment["content_base64"] = attachment["content_base64"].decode()
    response = create(client, bearer, **{"source": "desk", **body})
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["message"]
    assert counts(app) == (0, 0, 0, 0)
