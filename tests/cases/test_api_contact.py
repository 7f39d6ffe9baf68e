"""Texting the resident and recording a call made to them, through the JSON API: the case
page's rules and permissions, described in the OpenAPI document, refusals changing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accounts.models import Role
from cases.api_tokens import create_token
from cases.models import CaseEvent, CaseParticipant, CaseStatus
from hotline.clock import CLOCK_KEY
from hotline.db import db
from outreach.models import OutboundMessage, SmsOptOut
from tests.accounts.conftest import make_user
from tests.cases.test_api_cases import NOW, _stored, _token, _validator
from tests.workspace.conftest import make_case, make_resident

PHONE = "+8613800000001"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.extensions[CLOCK_KEY] = lambda: NOW  # 10:00 in Shanghai: calling hours
    return app.test_client()


@pytest.fixture
def tokens(app: Flask) -> dict[str, dict[str, str]]:
    def header(value: str) -> dict[str, str]:
        return {"Authorization": value}

    return {
        "li": header(_token(app, "li", display_name="Li Staff")),
        "zhao": header(_token(app, "zhao", Role.GRID_WORKER, grid="A1")),
        "qian": header(_token(app, "qian", Role.GRID_WORKER, grid="B2")),
        "water": header(_token(app, "water", Role.DEPARTMENT, department="Water company")),
        "read_only": header(_token(app)),
    }


def a_case(app: Flask, resident: dict[str, Any] | None = None, **fields: Any) -> int:
    with app.app_context():
        values = {"phone": PHONE, "name": "张阿姨", "grid": "A1", "language": "zh-CN"}
        record = make_resident(**(values | resident)) if resident is not None else None
        case = make_case(grid="A1", resident=record, **fields)
        db.session.commit()
        return case.id


def queued(app: Flask, case_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(OutboundMessage.to_phone, OutboundMessage.body).where(
                OutboundMessage.case_id == case_id
            )
        )
        return [(phone, body) for phone, body in rows]


def event_kinds(app: Flask, case_id: int) -> list[str]:
    with app.app_context():
        query = select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
        return list(db.session.scalars(query))


def test_a_text_to_the_resident_answers_the_documented_json(
    app: Flask, client: FlaskClient, tokens: dict[str, dict[str, str]]
) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert {"/api/cases/{case_id}/texts", "/api/cases/{case_id}/calls"} <= set(document["paths"])
    case_id = a_case(app, {"language": "ko-KR", "name": "김영희"})
    response = client.post(
        f"/api/cases/{case_id}/texts", json={"text": "내일 갑니다."}, headers=tokens["zhao"]
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    _validator(document, "ResidentText").validate(body)
    assert (body["status"], body["locale"], body["text"]) == ("sending", "ko-KR", "내일 갑니다.")
    assert body["body"] == "주민센터 민원 전화(민원 10001): 내일 갑니다."
    assert body["event"]["kind"] == "resident_texted"
    assert queued(app, case_id) == [(PHONE, body["body"])]
    # The timeline, as the API shows it, has the words and never the number.
    case = client.get(f"/api/cases/{case_id}?include=events", headers=tokens["li"]).get_json()
    [texted] = [event for event in case["events"] if event["kind"] == "resident_texted"]
    assert texted["actor"] == "zhao" and "13800000001" not in str(texted)


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({}, 400, "text is required"),
        ({"text": 5}, 400, "text must be a string"),
        ({"text": "x", "to": "+8613900000000"}, 400, "unknown field(s): to"),
        ({"text": " "}, 422, "the text message is empty"),
        ({"text": "楼" * 119}, 422, "119 characters, at most 118 here. Nothing was sent."),
    ],
)
def test_a_bad_text_is_refused_and_nothing_is_queued(
    app: Flask,
    client: FlaskClient,
    tokens: dict[str, dict[str, str]],
    body: dict[str, Any],
    code: int,
    words: str,
) -> None:
    case_id = a_case(app, {})
    before = event_kinds(app, case_id)
    response = client.post(f"/api/cases/{case_id}/texts", json=body, headers=tokens["li"])
    assert response.status_code == code
    assert words in response.get_json()["message"]
    assert queued(app, case_id) == [] and event_kinds(app, case_id) == before


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("no phone", "Case 10001 has no phone number to text"),
        ("STOP", "This number texted STOP"),
        ("marked", "The resident's record says “No text messages”"),
    ],
)
def test_no_text_without_a_number_or_to_a_number_that_opted_out(
    app: Flask, client: FlaskClient, tokens: dict[str, dict[str, str]], how: str, words: str
) -> None:
    if how == "no phone":
        case_id = a_case(app, phone="")
    else:
        case_id = a_case(app, {"sms_opt_out": how == "marked"})
    if how == "STOP":
        with app.app_context():
            db.session.add(SmsOptOut(phone=PHONE))
            db.session.commit()
    response = client.post(f"/api/cases/{case_id}/texts", json={"text": "好"}, headers=tokens["li"])
    assert response.status_code == 422
    assert words in response.get_json()["message"]
    assert queued(app, case_id) == [] and "resident_texted" not in event_kinds(app, case_id)


def test_the_same_permissions_as_changing_the_case(
    app: Flask, client: FlaskClient, tokens: dict[str, dict[str, str]]
) -> None:
    case_id = a_case(app, {})
    with app.app_context():
        water = make_user("water2", Role.DEPARTMENT, department="Gas")
        db.session.add(CaseParticipant(case_id=case_id, user_id=water))
        db.session.commit()
    with app.app_context():
        joint = {"Authorization": "Bearer " + create_token("joint case", water)}
    text, call = {"text": "好"}, {"outcome": "answered"}
    for path, body in (
        (f"/api/cases/{case_id}/texts", text),
        (f"/api/cases/{case_id}/calls", call),
    ):
        assert client.post(path, json=body, headers=tokens["read_only"]).status_code == 403
        assert (
            client.post(path, json=body, headers=joint).status_code == 403
        )  # sees, may not change
        assert client.post(path, json=body, headers=tokens["water"]).status_code == 404
        assert client.post(path, json=body, headers=tokens["qian"]).status_code == 404
        assert client.post(path, json=body).status_code == 401
    assert queued(app, case_id) == [] and _stored(app, case_id).status == CaseStatus.NEW
    assert "resident_called" not in event_kinds(app, case_id)


def test_an_answered_call_takes_up_a_new_case(
    app: Flask, client: FlaskClient, tokens: dict[str, dict[str, str]]
) -> None:
    document = client.get("/api/openapi.json").get_json()
    case_id = a_case(app, {})
    body = {"outcome": "answered", "note": "明天上午去看"}
    response = client.post(f"/api/cases/{case_id}/calls", json=body, headers=tokens["zhao"])
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    _validator(document, "ResidentCall").validate(answer)
    assert (answer["outcome"], answer["note"], answer["case_status"]) == (
        "answered",
        "明天上午去看",
        "accepted",
    )
    assert answer["event"]["kind"] == "resident_called"
    case = _stored(app, case_id)
    assert case.status == CaseStatus.ACCEPTED
    [accepted] = [event for event in case.events if event.kind == "status_changed"]
    assert accepted.detail["reason"] == "resident_called"
    again = client.post(
        f"/api/cases/{case_id}/calls", json={"outcome": "no_answer"}, headers=tokens["zhao"]
    )
    assert (again.status_code, again.get_json()["case_status"]) == (201, "accepted")


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({}, 400, "outcome is required, one of: answered, no_answer, wrong_number"),
        ({"outcome": "busy"}, 400, "outcome is required"),
        ({"outcome": "answered", "note": 3}, 400, "note must be a string"),
        ({"outcome": "answered", "note": "x" * 4001}, 422, "the note is too long"),
    ],
)
def test_a_bad_call_record_is_refused_and_nothing_changes(
    app: Flask,
    client: FlaskClient,
    tokens: dict[str, dict[str, str]],
    body: dict[str, Any],
    code: int,
    words: str,
) -> None:
    case_id = a_case(app, {})
    response = client.post(f"/api/cases/{case_id}/calls", json=body, headers=tokens["li"])
    assert response.status_code == code
    assert words in response.get_json()["message"]
    assert _stored(app, case_id).status == CaseStatus.NEW
    assert "resident_called" not in event_kinds(app, case_id)


def test_no_call_to_record_without_a_number(
    app: Flask, client: FlaskClient, tokens: dict[str, dict[str, str]]
) -> None:
    case_id = a_case(app, phone="")
    response = client.post(
        f"/api/cases/{case_id}/calls", json={"outcome": "answered"}, headers=tokens["li"]
    )
    assert response.status_code == 422
    assert "has no phone number" in response.get_json()["message"]
    assert _stored(app, case_id).status == CaseStatus.NEW
