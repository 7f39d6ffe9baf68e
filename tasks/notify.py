"""Texts to residents and to on-duty staff, each sent at most once per case."""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy import select

from cases.events import EventKind
from cases.models import Case, CaseEvent
from cases.services import add_event
from hotline.db import db
from hotline.i18n import catalogue, supported_locale
from hotline.redaction import mask_phone
from hotline.settings import current_settings
from hotline.telephony import current_telephony

log = logging.getLogger(__name__)
RETRY = {"autoretry_for": (Exception,), "retry_backoff": 10, "max_retries": 5}


def _already(case: Case, kind: EventKind) -> bool:
    return (
        db.session.scalar(
            select(CaseEvent.id).where(CaseEvent.case_id == case.id, CaseEvent.kind == kind)
        )
        is not None
    )


@shared_task(**RETRY)
def send_case_number_sms(case_id: int) -> None:
    """Text the caller their case number, which they also heard read out."""
    case = db.session.get(Case, case_id)
    if case is None or not case.phone or _already(case, EventKind.CASE_NUMBER_SMS):
        return
    if case.resident and case.resident.sms_opt_out:
        return
    settings = current_settings()
    prompts = catalogue(supported_locale(case.locale, settings.default_locale), "voice")
    sid = current_telephony().send_sms(
        case.phone, prompts.text("case_number_sms", number=case.number)
    )
    add_event(case, EventKind.CASE_NUMBER_SMS, message_sid=sid)
    db.session.commit()


@shared_task(**RETRY)
def alert_on_duty_staff(case_id: int, words: list[str]) -> None:
    """An emergency: text every on-duty number at once, in the centre's default language."""
    case = db.session.get(Case, case_id)
    if case is None or _already(case, EventKind.ON_DUTY_ALERTED):
        return
    settings = current_settings()
    prompts = catalogue(settings.default_locale, "voice")
    name = f" {case.resident.name}" if case.resident else ""
    key = "emergency_keyword_alert_sms" if words else "emergency_alert_sms"
    body = prompts.text(
        key, number=case.number, phone=case.phone or "?", name=name, words="、".join(words)
    )
    gateway = current_telephony()
    for number in settings.on_duty_numbers:
        gateway.send_sms(number, body)
    if not settings.on_duty_numbers:
        log.error("emergency case %s: no HOTLINE_ON_DUTY_NUMBERS to alert", case.number)
    add_event(
        case, EventKind.ON_DUTY_ALERTED, recipients=len(settings.on_duty_numbers), words=words
    )
    db.session.commit()
    log.info("on-duty staff alerted for case %s (caller %s)", case.number, mask_phone(case.phone))
