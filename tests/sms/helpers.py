"""Small helpers shared by the text-line tests: send a text, read back what it made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from cases.models import Case, CaseEvent, CaseSource, Resident
from hotline.clock import CLOCK_KEY
from hotline.db import db
from outreach.models import InboundMessage, OutboundMessage, OutboundStatus
from outreach.outbox import queue_sms
from tests.conftest import HOTLINE_NUMBER
from twilio_double.simulator import CallSimulator

RESIDENT = "+8613800000001"
NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, app: Flask, start: datetime = NOW) -> None:
        self.moment = start
        app.extensions[CLOCK_KEY] = lambda: self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def text(phone: CallSimulator, body: str, from_: str = RESIDENT, sid: str | None = None) -> str:
    """Send a text as Twilio would; the single reply it got ("" when none)."""
    result = phone.send_sms(from_, HOTLINE_NUMBER, body, message_sid=sid)
    assert result.application_error is None, result.application_error
    assert len(result.replies) <= 1, "a text gets at most one reply"
    return result.replies[0].body if result.replies else ""


def add_resident(app: Flask, phone: str = RESIDENT, **fields: Any) -> int:
    with app.app_context():
        resident = Resident(phone=phone, **{"name": "王秀英", "language": "zh-CN", **fields})
        db.session.add(resident)
        db.session.commit()
        return resident.id


def add_case(app: Flask, **fields: Any) -> Case:
    """A case as the phone line would have opened it, detached for reading."""
    values: dict[str, Any] = {
        "source": CaseSource.VOICEMAIL,
        "phone": RESIDENT,
        "locale": "zh-CN",
        "transcript": "楼道灯坏了",
        "machine_transcript": "楼道灯坏了",
        **fields,
    }
    with app.app_context():
        case = Case(**values)
        db.session.add(case)
        db.session.commit()
        db.session.refresh(case)
        db.session.expunge(case)
        return case


def all_cases(app: Flask) -> list[Case]:
    with app.app_context():
        cases = list(db.session.scalars(select(Case).order_by(Case.id)))
        for case in cases:
            _ = case.events
            db.session.expunge(case)
        return cases


def events(app: Flask, case_id: int, kind: str) -> list[dict[str, Any]]:
    with app.app_context():
        return [
            event.detail
            for event in db.session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
                .order_by(CaseEvent.id)
            )
        ]


def messages(app: Flask) -> list[InboundMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def resident(app: Flask, phone: str = RESIDENT) -> Resident | None:
    with app.app_context():
        found = db.session.scalar(select(Resident).where(Resident.phone == phone))
        if found is not None:
            db.session.expunge(found)
        return found


def queued_status(app: Flask, phone: str) -> OutboundStatus:
    """What becomes of a text the hotline queues for this number now."""
    with app.app_context():
        message = queue_sms(phone, "您的事项已处理完成。", "progress")
        db.session.commit()
        return db.session.get(OutboundMessage, message.id).status  # type: ignore[union-attr]
