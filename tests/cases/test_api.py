from __future__ import annotations

from click.testing import CliRunner
from flask import Flask

from cases import intake, services
from cases.api_tokens import create_token
from hotline.cli import main
from hotline.db import db


def _seed_case(phone: str) -> str:
    call = services.record_call(
        "CA" + phone[-6:] * 5 + "00", phone, "+8610123456", "inbound", "zh-CN"
    )
    recording, _ = intake.note_voicemail("RE" + phone[-6:] * 5 + "00", call.call_sid, "zh-CN")
    intake.open_voicemail_case(recording)  # as when its transcript holds speech
    db.session.commit()
    assert recording.case is not None
    return recording.case.number


def test_cases_by_phone_needs_a_valid_bearer_token(app: Flask) -> None:
    client = app.test_client()
    with app.app_context():
        token = create_token("acceptance")
        mine = _seed_case("+8613800000001")
        _seed_case("+8613800000002")
    assert client.get("/api/cases?phone=+8613800000001").status_code == 401
    assert client.get("/api/cases", headers={"Authorization": "Bearer nope"}).status_code == 401
    response = client.get(
        "/api/cases",
        query_string={"phone": "+8613800000001"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    [case] = response.get_json()
    assert case["number"] == mine and case["phone"] == "+8613800000001"
    assert {
        "id",
        "number",
        "status",
        "phone",
        "transcript",
        "category",
        "urgency",
        "created_at",
    } <= set(case)


def test_bad_phone_is_a_clear_400(app: Flask) -> None:
    with app.app_context():
        token = create_token("t")
    response = app.test_client().get(
        "/api/cases?phone=call-me", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert "E.164" in response.get_json()["message"]


def test_tokens_are_stored_hashed(app: Flask) -> None:
    from cases.models import ApiToken

    with app.app_context():
        token = create_token("t")
        stored = db.session.scalar(db.select(ApiToken))
        assert (
            stored is not None and token not in stored.token_hash and len(stored.token_hash) == 64
        )


def test_cli_prints_the_token_as_its_last_line(app: Flask, env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["tokens", "create", "--name", "checker"], env=env)
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("hl_") and len(token) > 40


def test_healthz(app: Flask) -> None:
    assert app.test_client().get("/healthz").status_code == 200


def test_a_grid_workers_token_sees_only_their_grid(app: Flask) -> None:
    from accounts.models import Role
    from cases.models import Case
    from tests.accounts.conftest import make_user

    client = app.test_client()
    with app.app_context():
        worker = make_user("grid1", Role.GRID_WORKER, grid="第一网格")
        token = create_token("grid1 phone", worker)
        _seed_case("+8613800000001")
        _seed_case("+8613800000002")
        mine = db.session.scalar(db.select(Case).where(Case.phone == "+8613800000001"))
        assert mine is not None
        mine.grid = "第一网格"
        db.session.commit()
        mine_id = mine.id
        other_id = db.session.scalar(db.select(Case.id).where(Case.phone == "+8613800000002"))
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/cases", headers=headers).get_json()
    assert [case["id"] for case in listed] == [mine_id]
    assert client.get(f"/api/cases/{mine_id}", headers=headers).status_code == 200
    assert client.get(f"/api/cases/{other_id}", headers=headers).status_code == 404
