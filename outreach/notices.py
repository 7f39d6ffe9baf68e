"""Texts telling people about a case: its number to the caller, an emergency to staff on duty,
its status to the phone on the case when someone else asks; and who a notice for a building
goes to (`building_notice_recipients`: its residents and its leaders).

Each is one outbox row per recipient (outreach.outbox), queued in the transaction that opened
or raised the case, so each recipient gets it exactly once, retried on its own, and it shows
on the case's timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from cases.events import EventKind
from cases.leaders import leaders_of
from cases.models import Case, CaseEvent, Resident
from cases.services import add_event, find_resident
from hotline.clock import now
from hotline.db import db
from hotline.i18n import Catalogue, catalogue, supported_locale
from hotline.redaction import mask_phone
from hotline.settings import current_settings
from outreach.models import OutboundMessage
from outreach.outbox import queue_sms

log = logging.getLogger(__name__)
# Someone keying in other people's case numbers must not flood them with texts.
STATUS_TEXT_INTERVAL = timedelta(hours=24)


def status_report(replies: Catalogue, number: str, status: str) -> str:
    """A case's status in one text: its number, where it stands and what happens next."""
    return replies.text(
        "status_report",
        number=number,
        status=replies.status(status),
        next_step=replies.next_step(status),
    )


def text_case_number(case: Case) -> OutboundMessage | None:
    """The caller's case number, which they also heard read out, in their language."""
    if not case.phone:
        return None
    words = catalogue(supported_locale(case.locale, current_settings().default_locale), "sms")
    body = words.text("case_number_sms", number=case.number)
    return queue_sms(case.phone, body, "case_number", case)


def on_request_recorded(case: Case, resolved: bool = False, **_: object) -> None:
    """cases.staff_intake.request_recorded receiver: the person staff recorded the request for
    gets its number by text (and, if it was resolved on the spot, that it was), in their
    language, in the same transaction; no text for someone who gave no number."""
    if not case.phone:
        return
    words = catalogue(supported_locale(case.locale, current_settings().default_locale), "sms")
    key = "recorded_resolved_sms" if resolved else "recorded_sms"
    queue_sms(case.phone, words.text(key, number=case.number), "case_number", case)


def _quoted(words: list[str], prompts: Catalogue) -> str:
    """The resident's own words that raised the alarm, quoted, for the on-duty person to judge."""
    left, right = ("“", "”") if prompts.locale.startswith(("zh", "ko")) else ('"', '"')  # GSM-7
    return prompts.list_separator.join(f"{left}{word}{right}" for word in words)


def alert_on_duty(case: Case, words: list[str]) -> int:
    """An emergency: a text to every on-duty number, in the centre's language, once per case."""
    if _already_alerted(case):
        return 0
    settings = current_settings()
    prompts = catalogue(settings.default_locale, "sms")
    name = f" {case.resident.name}" if case.resident else ""
    key = "emergency_keyword_alert_sms" if words else "emergency_alert_sms"
    body = prompts.text(
        key, number=case.number, phone=case.phone or "?", name=name, words=_quoted(words, prompts)
    )
    for number in settings.on_duty_numbers:
        queue_sms(number, body, "emergency_alert", case)
    if not settings.on_duty_numbers:
        log.error("emergency case %s: no HOTLINE_ON_DUTY_NUMBERS to alert", case.number)
    add_event(
        case, EventKind.ON_DUTY_ALERTED, recipients=len(settings.on_duty_numbers), words=words
    )
    log.info("on-duty staff alerted for case %s (caller %s)", case.number, mask_phone(case.phone))
    return len(settings.on_duty_numbers)


def on_emergency(case: Case, words: list[str] | None = None, **_: object) -> None:
    """cases.intake.emergency_raised receiver, inside the transaction that raised it."""
    alert_on_duty(case, words or [])


def on_voicemail(case: Case, **_: object) -> None:
    """cases.intake.voicemail_received receiver: the caller gets their case number by text,
    queued in the same transaction as the recording, so exactly once per message."""
    text_case_number(case)


def _already_alerted(case: Case) -> bool:
    if case.id is None:
        return False
    query = select(CaseEvent.id).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.ON_DUTY_ALERTED
    )
    return db.session.scalar(query) is not None


def text_status(case: Case) -> bool:
    """Someone else asked about this case: its status goes by text to the phone on the case,
    in the resident's language, at most once per STATUS_TEXT_INTERVAL. False when the case
    has no phone to text."""
    resident = case.resident or find_resident(case.phone)
    phone = case.phone or (resident.phone if resident else "")
    if not phone:
        return False
    if not _status_texted_lately(case):
        language = resident.language if resident else case.locale
        words = catalogue(supported_locale(language, current_settings().default_locale), "sms")
        queue_sms(
            phone, status_report(words, case.number, case.status.value), "status_request", case
        )
    return True


def _status_texted_lately(case: Case) -> bool:
    query = select(OutboundMessage.id).where(
        OutboundMessage.case_id == case.id,
        OutboundMessage.purpose == "status_request",
        OutboundMessage.due_at >= now() - STATUS_TEXT_INTERVAL,
    )
    return db.session.scalar(query.limit(1)) is not None


@dataclass(frozen=True)
class NoticeRecipient:
    """Someone a notice for a building goes to, in their language."""

    phone: str
    name: str
    locale: str
    leader: bool  # a leader of the building (who may live elsewhere, or be staff)


def building_notice_recipients(building: str) -> list[NoticeRecipient]:
    """Who a notice for `building` goes to: its leaders first, then its residents, each
    number once. Opted-out numbers are included: queue_sms keeps them from being texted.

    No notice is sent from here yet; the broadcast of issue 13 texts these people.
    """
    if not building:
        return []
    default = current_settings().default_locale
    recipients: dict[str, NoticeRecipient] = {}
    for leader in leaders_of(building):
        if leader.phone:
            locale = supported_locale(leader.language, default)
            recipients.setdefault(
                leader.phone, NoticeRecipient(leader.phone, leader.name, locale, True)
            )
    residents = db.session.scalars(
        select(Resident).where(Resident.building == building).order_by(Resident.id)
    )
    for resident in residents:
        locale = supported_locale(resident.language, default)
        recipients.setdefault(
            resident.phone, NoticeRecipient(resident.phone, resident.name, locale, False)
        )
    return list(recipients.values())
