"""What the phone line, the tasks and the API do to residents and cases."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cases.events import EventKind
from cases.models import (
    Call,
    Case,
    CaseEvent,
    CaseStatus,
    Resident,
)
from hotline.db import db

log = logging.getLogger(__name__)
T = TypeVar("T")


def find_resident(phone: str) -> Resident | None:
    if not phone:
        return None
    return db.session.scalar(select(Resident).where(Resident.phone == phone))


def add_event(case: Case, kind: EventKind, actor: str = "system", **detail: Any) -> CaseEvent:
    """One line on the case's timeline; `detail` holds what the sentence for `kind` needs."""
    event = CaseEvent(case=case, kind=kind, actor=actor, detail=detail)
    db.session.add(event)
    return event


def insert_or_get(make: Callable[[], T], lookup: Callable[[], T | None]) -> tuple[T, bool]:
    """The row `lookup` finds; else insert it with `make` and commit (True: made now).

    Twilio retries webhooks, and two of them may race: the unique constraint decides who wins,
    and the loser returns the winner's row.
    """
    existing = lookup()
    if existing is not None:
        return existing, False
    try:
        row = make()
        db.session.commit()
        return row, True
    except IntegrityError:
        db.session.rollback()
        existing = lookup()
        if existing is None:
            raise
        return existing, False


def record_call(call_sid: str, from_phone: str, to_phone: str, direction: str, locale: str) -> Call:
    """The call row for a CallSid, made on first sight; greets the resident by their language."""

    def make() -> Call:
        resident = find_resident(from_phone)
        call = Call(
            call_sid=call_sid,
            from_phone=from_phone,
            to_phone=to_phone,
            direction=direction,
            locale=resident.language if resident else locale,
            resident=resident,
        )
        db.session.add(call)
        return call

    call, _ = insert_or_get(
        make, lambda: db.session.scalar(select(Call).where(Call.call_sid == call_sid))
    )
    return call


def find_call(call_sid: str) -> Call | None:
    return db.session.scalar(select(Call).where(Call.call_sid == call_sid)) if call_sid else None


def latest_open_case(phone: str) -> Case | None:
    if not phone:
        return None
    open_statuses = [status for status in CaseStatus if status.is_open]
    return db.session.scalar(
        select(Case)
        .where(Case.phone == phone, Case.status.in_(open_statuses))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(1)
    )


def case_by_number(number: str) -> Case | None:
    case_id = Case.id_from_number(number)
    return db.session.get(Case, case_id) if case_id is not None else None
