"""Overdue cases are escalated to the supervisors once, by text, without the caller's number."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from accounts.models import Role
from cases.models import Case, CaseStatus
from hotline.clock import CLOCK_KEY
from hotline.db import db
from tasks import escalation
from tasks.escalation import escalate_overdue_cases
from tasks.followups import send_text
from tests.accounts.conftest import make_user
from tests.workspace.conftest import make_case
from twilio_double.rest import TwilioRestDouble

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
RESIDENT = "+8613812345678"
BOSS_PHONE = "+8613900000001"


@pytest.fixture
def published(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A fixed clock, and the outbox texts published (not yet sent) by escalation."""
    app.extensions[CLOCK_KEY] = lambda: NOW
    sent: list[int] = []
    monkeypatch.setattr(send_text, "delay", sent.append)
    yield sent


def _overdue_case(**fields: object) -> Case:
    values: dict[str, object] = {
        "phone": RESIDENT,
        "category": "drainage",
        "status": CaseStatus.ACCEPTED,
        "deadline_at": NOW - timedelta(hours=3, minutes=20),
    }
    values.update(fields)
    case = make_case(**values)
    db.session.commit()
    return case


def _events(case: Case, kind: str) -> list[dict[str, object]]:
    db.session.refresh(case)
    return [event.detail for event in case.events if event.kind == kind]


def test_an_overdue_case_is_escalated_once_however_often_beat_runs(
    app: Flask, published: list[int]
) -> None:
    with app.app_context():
        handler = make_user("li", Role.GRID_WORKER, grid="A1", display_name="Li Worker")
        case = _overdue_case(assignee_id=handler)
        assert escalate_overdue_cases.apply().get() == 1
        assert escalate_overdue_cases.apply().get() == 0
        assert _events(case, "supervisors_notified") == [{"recipients": 0}]
        db.session.refresh(case)
        assert case.escalated_at == NOW
        [detail] = _events(case, "escalated")
        assert detail == {
            "deadline": "2025-03-02T22:40:00+00:00",
            "assignee": "Li Worker",
            "overdue_minutes": 200,
        }


def test_cases_on_time_or_finished_are_left_alone(app: Flask, published: list[int]) -> None:
    with app.app_context():
        cases = [
            _overdue_case(deadline_at=NOW + timedelta(minutes=1)),
            _overdue_case(deadline_at=None),
            _overdue_case(status=CaseStatus.RESOLVED),
            _overdue_case(status=CaseStatus.CLOSED),
            _overdue_case(escalated_at=NOW - timedelta(days=1)),
        ]
        assert escalate_overdue_cases.apply().get() == 0
        assert published == []
        assert [_events(case, "escalated") for case in cases] == [[]] * len(cases)


def test_every_overdue_case_is_escalated_across_batches(
    app: Flask, published: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(escalation, "BATCH", 2)
    with app.app_context():
        ids = [_overdue_case().id for _ in range(5)]
        assert escalate_overdue_cases.apply().get() == 5
        notified = [_events(db.session.get(Case, i), "supervisors_notified") for i in ids]
        assert notified == [[{"recipients": 0}]] * 5


def test_two_workers_racing_escalate_a_case_once(app: Flask, published: list[int]) -> None:
    with app.app_context():
        case_id = _overdue_case().id
    both_found = threading.Barrier(2, timeout=30)
    claims: list[bool] = []

    def beat() -> None:
        with app.app_context():
            [found] = escalation._overdue_ids(NOW)
            both_found.wait()  # both saw the case before either claimed it
            claims.append(escalation._claim(found, NOW))
            db.session.remove()

    workers = [threading.Thread(target=beat) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(claims) == [False, True]
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None and len(_events(case, "escalated")) == 1


def test_supervisors_get_a_text_without_the_residents_number(
    app: Flask, published: list[int], rest: TwilioRestDouble
) -> None:
    with app.app_context():
        make_user("boss", Role.ADMIN, phone=BOSS_PHONE, language="zh-CN")
        make_user("deputy", Role.ADMIN, phone="+8613900000002", language="en-US")
        make_user("nophone", Role.ADMIN)
        make_user("retired", Role.ADMIN, phone="+8613900000003", active=False)
        make_user("clerk", Role.STAFF, phone="+8613900000004")
        case = _overdue_case()
        escalate_overdue_cases.apply()
        for message_id in published * 2:  # a redelivered task sends nothing more
            send_text.apply(args=[message_id])
        texts = {message["to"]: message["body"] for message in rest.messages}
        assert len(rest.messages) == 2 and set(texts) == {BOSS_PHONE, "+8613900000002"}
        assert (
            texts[BOSS_PHONE]
            == f"热线督办：诉求 {case.number}（排水供水）已超时 3小时。处理人：未分派。"
        )
        assert texts["+8613900000002"] == (
            f"Hotline: case {case.number} (Drains and water) is 3 h past its deadline. "
            "Handler: nobody."
        )
        for body in texts.values():
            assert RESIDENT[-8:] not in body
        assert _events(case, "supervisors_notified") == [{"recipients": 2}]


def test_beat_runs_escalation_every_minute(app: Flask) -> None:
    celery = app.extensions["celery"]
    entry = celery.conf.beat_schedule[escalate_overdue_cases.name]
    assert entry == {"task": escalate_overdue_cases.name, "schedule": 60.0}
    assert "tasks.escalation" in celery.conf.include  # so the worker knows the task
