"""Follow-up tests: a controllable clock, beat played by hand, cases and people to call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from accounts.models import Role
from cases.lifecycle import transition
from cases.models import Case, CaseEvent, CaseStatus, FamilyContact, Resident
from hotline.clock import CLOCK_KEY
from hotline.db import db
from outreach import dispatcher
from outreach.models import FollowUp, OutboundMessage
from tasks import followups, recordings
from tests.accounts.conftest import make_user
from tests.workspace.conftest import make_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
RESIDENT_PHONE = "+8613800000001"
SON_PHONE = "+8613800000002"
BOSS_PHONE = "+8613900000001"
ASSIGNEE_PHONE = "+8613900000002"
GRID_WORKER_PHONE = "+8613900000003"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026, in the centre's time zone (Shanghai), as UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


class Clock:
    """What hotline.clock.now() returns in the app under test; moved by hand."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


@pytest.fixture
def clock(app: Flask) -> Clock:
    """Monday 2 March 2026, 10:00 in Shanghai, until a test moves it."""
    moment = Clock(local(2, 10))
    app.extensions[CLOCK_KEY] = moment
    return moment


# What the played worker runs, by the names the tests see published.
WORKER_TASKS = {
    "place_follow_up": followups.place_follow_up,
    "send_text": followups.send_text,
    "check_call_outcome": followups.check_call_outcome,
    "transcribe_recording": recordings.transcribe_recording,
}


@dataclass
class Beat:
    """Celery beat and a worker, played in the test: publish, then run what was published."""

    published: list[tuple[str, int]] = field(default_factory=list)

    def run(self) -> dispatcher.DispatchReport:
        """Beat ticks (and the worker works) until nothing more is due at this moment."""
        report = dispatcher.DispatchReport()
        for _ in range(5):
            tick = dispatcher.dispatch_due()
            if not self.published and not tick.sms_surveys_expired:
                break
            report.follow_ups += tick.follow_ups
            report.texts += tick.texts
            self.work()
        return report

    def work(self) -> None:
        while self.published:
            name, row_id = self.published.pop(0)
            WORKER_TASKS[name].apply(args=[row_id]).get()
        db.session.expire_all()


@pytest.fixture
def beat(app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Beat:
    played = Beat()
    for name, task in WORKER_TASKS.items():

        def publish(row_id: int, name: str = name) -> None:
            played.published.append((name, row_id))

        monkeypatch.setattr(task, "delay", publish)
    return played


def make_resident(**fields: Any) -> Resident:
    values: dict[str, Any] = {
        "phone": RESIDENT_PHONE,
        "name": "王秀英",
        "language": "zh-CN",
        "grid": "A1",
        "address": "幸福里3号楼2单元501",
    }
    values.update(fields)
    resident = Resident(**values)
    db.session.add(resident)
    db.session.flush()
    return resident


def add_family(resident: Resident, number: str = SON_PHONE, receives_updates: bool = True) -> None:
    resident.family_contacts.append(
        FamilyContact(
            name="王小明", phone=number, relation="son", receives_updates=receives_updates
        )
    )


def open_case(resident: Resident | None = None, **fields: Any) -> Case:
    values: dict[str, Any] = {"status": CaseStatus.ACCEPTED, "grid": "A1"}
    if resident is not None:
        values.update(resident=resident, phone=resident.phone, locale=resident.language)
    values.update(fields)
    case = make_case(**values)
    db.session.commit()
    return case


NOTE = "已更换楼道灯泡"


def resolve(case: Case, note: str = NOTE) -> Case:
    transition(case, CaseStatus.RESOLVED, "Li Staff", note)
    db.session.commit()
    return case


def staff() -> dict[str, int]:
    """A supervisor (admin), the case's assignee and the grid worker of grid A1, with phones."""
    return {
        "boss": make_user("boss", Role.ADMIN, phone=BOSS_PHONE, language="en-US"),
        "assignee": make_user(
            "li", Role.STAFF, phone=ASSIGNEE_PHONE, language="zh-CN", display_name="Li Staff"
        ),
        "grid_worker": make_user(
            "zhao", Role.GRID_WORKER, grid="A1", phone=GRID_WORKER_PHONE, language="ko-KR"
        ),
    }


def follow_ups(case_id: int) -> list[FollowUp]:
    return list(
        db.session.scalars(
            select(FollowUp).where(FollowUp.case_id == case_id).order_by(FollowUp.id)
        )
    )


def outbox(**where: Any) -> list[OutboundMessage]:
    query = select(OutboundMessage).order_by(OutboundMessage.id)
    for key, value in where.items():
        query = query.where(getattr(OutboundMessage, key) == value)
    return list(db.session.scalars(query))


def events(case_id: int, kind: str | None = None) -> list[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    if kind is not None:
        query = query.where(CaseEvent.kind == kind)
    return list(db.session.scalars(query))


def messages_to(rest_messages: list[dict[str, Any]], number: str) -> list[str]:
    return [message["body"] for message in rest_messages if message["to"] == number]
