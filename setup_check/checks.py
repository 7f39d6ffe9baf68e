"""Each check looks at one thing a new centre gets wrong, and says what to do about it.

A finding *blocks calls* when callers cannot get through or their messages cannot reach staff:
Twilio's credentials unset or rejected, Twilio told to call a local address, or a database that
cannot be read. Everything else is a warning: the line works without it, but less well (no
on-duty number to alert, no speech model for the default language, so messages stay
untranscribed recordings, no administrator to text about overdue cases, a public URL that
does not answer from here, webhooks kept while the database was down that it then refused).
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import requests
from sqlalchemy.exc import SQLAlchemyError

from accounts.directory import supervisors
from hotline import spool
from hotline.config import Settings
from hotline.db import db
from hotline.i18n import FALLBACK, Message, staff_message
from hotline.settings import current_settings
from hotline.telephony import CredentialsRejected, current_telephony
from speech.errors import ModelMissing
from speech.models import install_command, resolve_model_path

# Connect, read: the page and the command answer within seconds even when nothing answers.
PUBLIC_URL_TIMEOUT_S = (2, 3)


class Severity(enum.StrEnum):
    BLOCKING = "blocking"  # calls cannot be taken, or messages cannot reach staff
    WARNING = "warning"  # the line works, less well


@dataclass(frozen=True)
class Finding:
    """One problem: its words are `setup.<key>` in the staff messages."""

    key: str
    severity: Severity
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> Message:
        return Message(f"setup.{self.key}", self.values)


def in_words(finding: Finding, locale: str = FALLBACK) -> str:
    """The finding as a sentence with what to do (English for the log and the command)."""
    return staff_message(locale, finding.message)


def blocks_calls(found: list[Finding]) -> bool:
    return any(finding.severity == Severity.BLOCKING for finding in found)


def _twilio_settings(settings: Settings) -> list[Finding]:
    if settings.telephony != "twilio":
        return []
    found = []
    if not settings.twilio_auth_token:
        found.append(Finding("no_auth_token", Severity.BLOCKING))
    if not settings.twilio_account_sid:
        found.append(Finding("no_account_sid", Severity.BLOCKING))
    if not settings.hotline_number:
        found.append(Finding("no_hotline_number", Severity.WARNING))
    return found


def _is_local(url: str) -> bool:
    """An address Twilio can never call: this machine, or a private network's."""
    host = urlparse(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: whether the world can reach it is for the network check
    return address.is_loopback or address.is_private or address.is_unspecified


def _public_url_is_local(settings: Settings) -> list[Finding]:
    if settings.telephony == "twilio" and _is_local(settings.public_url):
        return [Finding("public_url_local", Severity.BLOCKING, {"url": settings.public_url})]
    return []


def _on_duty(settings: Settings) -> list[Finding]:
    found = []
    if not settings.on_duty_numbers:
        found.append(Finding("no_on_duty", Severity.WARNING))
    refused = len(settings.invalid_on_duty_numbers)  # left out: not valid phone numbers
    if refused:
        found.append(Finding("invalid_on_duty", Severity.WARNING, {"count": refused}))
    return found


def _speech_model(settings: Settings) -> list[Finding]:
    locale = settings.default_locale
    try:
        resolve_model_path(locale)
    except ModelMissing as missing:
        key = "speech_model_unusable" if missing.path else "no_speech_model"
        words = {"language": locale, "command": install_command(locale)}
        return [Finding(key, Severity.WARNING, words)]
    return []


def _admin_phone(settings: Settings) -> list[Finding]:
    try:
        texted = supervisors()
    except SQLAlchemyError as error:  # no database, or not migrated
        db.session.rollback()
        words = {"error": type(error).__name__}
        return [Finding("database_unreadable", Severity.BLOCKING, words)]
    return [] if texted else [Finding("no_admin_phone", Severity.WARNING)]


def _spool_set_aside(settings: Settings) -> list[Finding]:
    """Webhooks kept while the database was down that the hotline then refused: each may be a
    resident's message, and nothing retries them until someone moves them back."""
    found = spool.set_aside_files(settings.data_dir)
    if not found:
        return []
    words = {"count": len(found), "folder": str(found[0].parent)}
    return [Finding("spool_set_aside", Severity.WARNING, words)]


def _reason(error: requests.RequestException) -> Message:
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return Message("setup.reason.http", {"status": error.response.status_code})
    if isinstance(error, requests.Timeout):
        return Message("setup.reason.timeout")
    return Message("setup.reason.connect")


def twilio_credentials(settings: Settings) -> list[Finding]:
    has_both = settings.twilio_account_sid and settings.twilio_auth_token
    if settings.telephony != "twilio" or not has_both:
        return []  # unset credentials are reported above
    try:
        current_telephony().check_account()
    except CredentialsRejected:
        return [Finding("twilio_rejected", Severity.BLOCKING)]
    except requests.RequestException as error:
        return [Finding("twilio_unreachable", Severity.WARNING, {"reason": _reason(error)})]
    return []


def public_url_answers(settings: Settings) -> list[Finding]:
    if settings.telephony == "twilio" and _is_local(settings.public_url):
        return []  # reported above: Twilio cannot call a local address at all
    url = settings.public_url
    try:
        response = requests.get(f"{url}/healthz", timeout=PUBLIC_URL_TIMEOUT_S)
        response.raise_for_status()
    except requests.RequestException as error:
        words = {"url": url, "reason": _reason(error)}
        return [Finding("public_url_unreachable", Severity.WARNING, words)]
    return []


Check = Callable[[Settings], list[Finding]]
# Settings, the speech model, the database: instant.
OFFLINE: tuple[Check, ...] = (
    _twilio_settings,
    _public_url_is_local,
    _on_duty,
    _speech_model,
    _admin_phone,
    _spool_set_aside,
)
# Ask Twilio, and fetch our own public URL: a few seconds at most, each.
NETWORK: tuple[Check, ...] = (twilio_credentials, public_url_answers)
EVERY_CHECK = OFFLINE + NETWORK


def findings(checks: tuple[Check, ...] = EVERY_CHECK) -> list[Finding]:
    """What is wrong with this install, blocking problems first (in an app context)."""
    settings = current_settings()
    found = [finding for check in checks for finding in check(settings)]
    return sorted(found, key=lambda finding: finding.severity != Severity.BLOCKING)
