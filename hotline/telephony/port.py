"""The telephony port: what the hotline asks of a phone carrier, whoever the carrier is.

Adapters: `hotline.telephony.twilio` (the real twilio client; tests point it at the local REST
double) and `hotline.telephony.local` (the embedded default's local line, which keeps every
call and text in the database instead of reaching a phone network).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol


class TelephonyNotConfigured(Exception):
    """No account, token or hotline number: nothing can be sent or placed."""


class TelephonyRefused(Exception):
    """The carrier said no for good (bad number, bad request): nothing was created.

    Any other exception from an adapter (timeout, 5xx, 429) is uncertain: the call or text may
    or may not exist, and the caller reconciles before trying again.
    """


class CredentialsRejected(TelephonyRefused):
    """The carrier refused our account and token (HTTP 401): every call and text will fail."""


class RecordingDownloadError(Exception):
    """The recording could not be fetched (yet): worth retrying."""


class RecordingCredentialsRejected(RecordingDownloadError):
    """The carrier refused the hotline's account credentials (HTTP 401/403): no retry helps
    until an operator corrects TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN."""


@dataclass(frozen=True)
class PlacedCall:
    """What reconciliation needs to know of a call the carrier has (placed or received)."""

    sid: str
    status: str
    created_at: datetime | None
    answered_by: str | None = None
    from_phone: str = ""
    to_phone: str = ""
    direction: str = ""  # inbound, outbound-api, ...


@dataclass(frozen=True)
class CarrierRecording:
    """A recording the carrier holds, as its list gives it."""

    sid: str
    call_sid: str
    status: str  # "completed" once it can be downloaded; in-progress, processing, absent...
    duration_s: float | None
    created_at: datetime | None

    @property
    def complete(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True)
class DownloadedRecording:
    path: Path
    content_type: str
    size: int


class Telephony(Protocol):
    """Place calls, send texts, look them up again, download recordings; check the account."""

    @property
    def webhook_auth_token(self) -> str:
        """The secret the carrier signs its webhooks with; empty: refuse every webhook."""
        ...

    def send_sms(self, to: str, body: str) -> str:
        """Send a text; returns the carrier's message id."""
        ...

    def place_call(
        self,
        to: str,
        url: str,
        status_callback: str,
        status_callback_events: Sequence[str] = ("completed",),
        machine_detection: str = "Enable",
    ) -> str:
        """Dial `to`; the carrier fetches TwiML from `url` when answered. Returns the call id."""
        ...

    def calls_to_since(self, to: str, since: datetime) -> list[PlacedCall]:
        """Calls from the hotline to `to` created at or after `since` (newest first)."""
        ...

    def fetch_call(self, sid: str) -> PlacedCall:
        """A call by its id, placed by the hotline or received by it (LookupError if none)."""
        ...

    def recordings_since(self, since: datetime) -> list[CarrierRecording]:
        """The account's recordings created at or after `since` (newest first), whatever
        became of their callbacks: what the hotline reconciles its own against."""
        ...

    def message_sent_since(self, to: str, body: str, since: datetime) -> str | None:
        """The id of a text with this body already sent to `to` since `since`, if any."""
        ...

    def download_recording(self, recording_sid: str, directory: Path) -> DownloadedRecording:
        """Store the recording in `directory`, replacing any earlier copy atomically."""
        ...

    def check_account(self) -> None:
        """One cheap authenticated request, for the set-up check, within a few seconds.

        Raises CredentialsRejected when the carrier refuses our credentials, and any other
        exception when it could not be asked (network, timeout, 5xx).
        """
        ...
