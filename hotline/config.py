"""Settings read from the environment, with defaults for the embedded, first-run setup."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path

from hotline.emergency import EMERGENCY_NUMBERS_BY_COUNTRY, EmergencyNumbers, emergency_numbers
from hotline.phones import (
    DEFAULT_REGION,
    NotAPhoneNumber,
    last_digits,
    normalise_phone,
    region_of_locale,
)

log = logging.getLogger(__name__)

DEFAULT_TWILIO_API_BASE_URL = "https://api.twilio.com"

# Time allowed to resolve a case, by urgency; a centre adds or changes them (and sets
# per-category limits) with HOTLINE_DEADLINES. Applied in cases.deadlines.
DEFAULT_DEADLINES: dict[str, timedelta] = {
    "emergency": timedelta(hours=2),
    "urgent": timedelta(hours=24),
    "normal": timedelta(days=7),
}
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_LIMIT = re.compile(r"^\s*([a-z_]+)\s*=\s*(\d+)\s*([mhd])\s*$")


def parse_deadlines(text: str) -> dict[str, timedelta]:
    """`"urgent=12h, drainage=2d"` over the defaults; a malformed entry is a startup error."""
    limits = dict(DEFAULT_DEADLINES)
    for entry in filter(None, (part.strip() for part in text.split(","))):
        match = _LIMIT.match(entry)
        if match is None:
            example = "urgent=24h, normal=7d or noise=3d"
            raise ValueError(f"HOTLINE_DEADLINES entry {entry!r} must look like {example}")
        key, amount, unit = match.groups()
        limits[key] = timedelta(**{_UNITS[unit]: int(amount)})
    return limits


@dataclass(frozen=True)
class HoursWindow:
    """A daily window such as 07:00-20:00 (end exclusive); may wrap past midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> HoursWindow:
        try:
            start_text, end_text = text.strip().split("-")
            return cls(time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip()))
        except ValueError as error:
            raise ValueError(f"hours must look like 07:00-20:00, got {text!r}") from error

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _split_mapping(text: str) -> dict[str, str]:
    """Parse "zh-CN=Polly.Zhiyu,ko-KR=Polly.Seoyeon" into a dict."""
    pairs = (item.split("=", 1) for item in _split_list(text) if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


TELEPHONY_CHOICES = ("twilio", "local")


def choose_telephony(env: dict[str, str]) -> str:
    """HOTLINE_TELEPHONY, else Twilio when an account is configured, else the local line."""
    chosen = env.get("HOTLINE_TELEPHONY", "").strip().lower()
    if not chosen:
        return "twilio" if env.get("TWILIO_ACCOUNT_SID") else "local"
    if chosen not in TELEPHONY_CHOICES:
        raise ValueError(f"HOTLINE_TELEPHONY must be twilio or local, got {chosen!r}")
    return chosen


def parse_on_duty_numbers(text: str, locale: str) -> tuple[list[str], list[str]]:
    """HOTLINE_ON_DUTY_NUMBERS as (valid numbers in E.164, entries that are no phone number).

    An invalid entry is left out rather than stopping the hotline: the others still ring. It is
    logged as a configuration error by its position and last digits, never in full.
    """
    valid, invalid = [], []
    entries = _split_list(text)
    for position, entry in enumerate(entries, start=1):
        try:
            valid.append(normalise_phone(entry, region_of_locale(locale)))
        except NotAPhoneNumber:
            invalid.append(entry)
            log.error(
                "configuration error: HOTLINE_ON_DUTY_NUMBERS entry %d of %d (ending in %s) "
                "is not a valid phone number; it is left out",
                position,
                len(entries),
                last_digits(entry),
            )
    return valid, invalid


MEGABYTE = 1024 * 1024
DEFAULT_MAX_ATTACHMENT_MB = 10  # a phone's photo is 2-5 MB, a scanned page less


def parse_megabytes(text: str, name: str, default: int) -> int:
    """A size in whole megabytes, as bytes; anything else is a startup error that says so."""
    value = text.strip() or str(default)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of megabytes (1 or more), got {text!r}")
    return int(value) * MEGABYTE


DEFAULT_VOICES = {"zh-CN": "Polly.Zhiyu", "ko-KR": "Polly.Seoyeon", "en-US": "Polly.Joanna"}


@dataclass(frozen=True)
class Settings:
    """Everything the hotline reads from its environment, in one place."""

    data_dir: Path
    database_url: str
    broker_url: str
    public_url: str
    secret_key: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_api_base_url: str
    hotline_number: str
    on_duty_numbers: list[str]
    service_hours: HoursWindow
    calling_hours: HoursWindow
    timezone: str
    survey_delay_minutes: int | None
    default_locale: str
    voices: dict[str, str] = field(default_factory=dict)
    speech_rate: str = "85%"
    max_message_seconds: int = 180
    retry_base_seconds: float = 30.0
    # Time allowed to resolve a case, by urgency and (optionally) category: cases.deadlines.
    deadlines: dict[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    # Which carrier: "twilio", or "local" (hotline.telephony.local) for a trial without one.
    telephony: str = "twilio"
    # HOTLINE_ON_DUTY_NUMBERS entries left out as no phone number, as written (for the start-up
    # check; show them with hotline.phones.last_digits, never whole in a log).
    invalid_on_duty_numbers: list[str] = field(default_factory=list)
    # What a caller is told to ring when nobody on duty answers: the country's, not the
    # language's (hotline.emergency).
    emergency_numbers: EmergencyNumbers = EMERGENCY_NUMBERS_BY_COUNTRY[DEFAULT_REGION]
    # The largest photo or document staff may attach to a case (cases.attachments).
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_MB * MEGABYTE

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("HOTLINE_DATA_DIR", "instance")).resolve()
        survey_delay = env.get("HOTLINE_SURVEY_DELAY_MINUTES", "").strip()
        default_locale = env.get("HOTLINE_DEFAULT_LOCALE", "zh-CN")
        on_duty, invalid_on_duty = parse_on_duty_numbers(
            env.get("HOTLINE_ON_DUTY_NUMBERS", ""), default_locale
        )
        return cls(
            data_dir=data_dir,
            database_url=env.get("HOTLINE_DATABASE_URL") or f"sqlite:///{data_dir / 'hotline.db'}",
            broker_url=env.get("HOTLINE_BROKER_URL") or f"sqla+sqlite:///{data_dir / 'broker.db'}",
            public_url=env.get("HOTLINE_PUBLIC_URL", "http://localhost:5000").rstrip("/"),
            secret_key=env.get("HOTLINE_SECRET_KEY", ""),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_api_base_url=env.get("TWILIO_API_BASE_URL", DEFAULT_TWILIO_API_BASE_URL).rstrip(
                "/"
            ),
            hotline_number=env.get("HOTLINE_NUMBER", ""),
            on_duty_numbers=on_duty,
            service_hours=HoursWindow.parse(env.get("HOTLINE_SERVICE_HOURS", "07:00-20:00")),
            calling_hours=HoursWindow.parse(env.get("HOTLINE_CALLING_HOURS", "08:00-20:00")),
            timezone=env.get("HOTLINE_TIMEZONE", "Asia/Shanghai"),
            survey_delay_minutes=int(survey_delay) if survey_delay else None,
            default_locale=default_locale,
            voices={**DEFAULT_VOICES, **_split_mapping(env.get("HOTLINE_VOICES", ""))},
            speech_rate=env.get("HOTLINE_SPEECH_RATE", "85%"),
            max_message_seconds=int(env.get("HOTLINE_MAX_MESSAGE_SECONDS", "180")),
            retry_base_seconds=float(env.get("HOTLINE_RETRY_BASE_SECONDS", "30")),
            deadlines=parse_deadlines(env.get("HOTLINE_DEADLINES", "")),
            telephony=choose_telephony(env),
            invalid_on_duty_numbers=invalid_on_duty,
            emergency_numbers=emergency_numbers(
                env.get("HOTLINE_EMERGENCY_NUMBERS", ""),
                env.get("HOTLINE_NUMBER", ""),
                default_locale,
            ),
            max_attachment_bytes=parse_megabytes(
                env.get("HOTLINE_MAX_ATTACHMENT_MB", ""),
                "HOTLINE_MAX_ATTACHMENT_MB",
                DEFAULT_MAX_ATTACHMENT_MB,
            ),
        )
