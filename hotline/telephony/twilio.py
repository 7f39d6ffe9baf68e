"""The Twilio adapter of the telephony port: texts, calls and recording downloads.

Tests point it at a local double of the API with TWILIO_API_BASE_URL; nothing else changes.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from hotline.config import Settings
from hotline.redaction import mask_phone
from hotline.telephony.port import (
    CarrierRecording,
    CredentialsRejected,
    DownloadedRecording,
    PlacedCall,
    RecordingCredentialsRejected,
    RecordingDownloadError,
    TelephonyNotConfigured,
    TelephonyRefused,
)

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_S = 30
# A REST call that takes longer is abandoned; the follow-up's lease (outreach.dispatcher) is
# longer still, so no second worker takes over while the first may still get its answer.
API_TIMEOUT_S = 15
CHECK_TIMEOUT_S = (3, 5)  # connect, read: the set-up check runs while people wait
RECONCILE_LOOKBACK = 50  # newest calls or texts to one number searched when reconciling
RECORDINGS_LOOKBACK = 1000  # newest recordings of the account listed when reconciling
_CHUNK = 64 * 1024


class TwilioTelephony:
    """The real carrier, through the `twilio` library; built once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.twilio_account_sid and self.settings.twilio_auth_token)

    @property
    def webhook_auth_token(self) -> str:
        return self.settings.twilio_auth_token

    @property
    def client(self) -> Client:
        if self._client is None:
            client = Client(
                self.settings.twilio_account_sid,
                self.settings.twilio_auth_token,
                http_client=TwilioHttpClient(timeout=API_TIMEOUT_S),
            )
            # The twilio library builds every URL from the domain's base_url.
            client.api.base_url = self.settings.twilio_api_base_url
            self._client = client
        return self._client

    def _require_configuration(self) -> None:
        if not self.configured or not self.settings.hotline_number:
            raise TelephonyNotConfigured(
                "Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, HOTLINE_NUMBER)"
            )

    def send_sms(self, to: str, body: str) -> str:
        self._require_configuration()
        with _refusals():
            message = self.client.messages.create(
                to=to, from_=self.settings.hotline_number, body=body
            )
        return str(message.sid)

    def place_call(
        self,
        to: str,
        url: str,
        status_callback: str,
        status_callback_events: Sequence[str] = ("completed",),
        machine_detection: str = "Enable",
    ) -> str:
        self._require_configuration()
        with _refusals():
            call = self.client.calls.create(
                to=to,
                from_=self.settings.hotline_number,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=list(status_callback_events),
                machine_detection=machine_detection,
            )
        log.info("call %s placed to %s", call.sid, mask_phone(to))
        return str(call.sid)

    def calls_to_since(self, to: str, since: datetime) -> list[PlacedCall]:
        """Twilio's list is newest first, and calls not yet dialled have no start time, so
        we filter on the creation time ourselves."""
        calls = self.client.calls.list(
            to=to, from_=self.settings.hotline_number, limit=RECONCILE_LOOKBACK
        )
        return [
            PlacedCall(str(c.sid), str(c.status), c.date_created, c.answered_by)
            for c in calls
            if c.date_created is None or c.date_created >= since
        ]

    def fetch_call(self, sid: str) -> PlacedCall:
        try:
            call = self.client.calls(sid).fetch()
        except TwilioRestException as error:
            if error.status == 404:
                raise LookupError(f"Twilio has no call {sid}") from error
            raise
        return PlacedCall(
            str(call.sid),
            str(call.status),
            call.date_created,
            call.answered_by,
            from_phone=str(call._from or ""),
            to_phone=str(call.to or ""),
            direction=str(call.direction or ""),
        )

    def recordings_since(self, since: datetime) -> list[CarrierRecording]:
        """Twilio filters by creation time on its side; we filter again, to the second."""
        self._require_configuration()
        recordings = self.client.recordings.list(
            date_created_after=since, limit=RECORDINGS_LOOKBACK
        )
        return [
            CarrierRecording(
                str(r.sid),
                str(r.call_sid or ""),
                str(r.status),
                _seconds(r.duration),
                r.date_created,
            )
            for r in recordings
            if r.date_created is None or r.date_created >= since
        ]

    def message_sent_since(self, to: str, body: str, since: datetime) -> str | None:
        messages = self.client.messages.list(
            to=to, from_=self.settings.hotline_number, limit=RECONCILE_LOOKBACK
        )
        for message in messages:
            created = message.date_created
            if message.body == body and (created is None or created >= since):
                return str(message.sid)
        return None

    def check_account(self) -> None:
        """Fetch our own account resource: the cheapest request that needs both credentials."""
        if not self.configured:
            raise TelephonyNotConfigured("TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is not set")
        response = requests.get(
            f"{self.settings.twilio_api_base_url}/2010-04-01/Accounts/"
            f"{self.settings.twilio_account_sid}.json",
            auth=(self.settings.twilio_account_sid, self.settings.twilio_auth_token),
            timeout=CHECK_TIMEOUT_S,
        )
        if response.status_code == 401:
            raise CredentialsRejected("Twilio rejected the account SID and auth token (HTTP 401)")
        response.raise_for_status()

    def recording_media_url(self, recording_sid: str) -> str:
        # Built from the SID, never from a URL in a request: we only fetch from Twilio.
        return (
            f"{self.settings.twilio_api_base_url}/2010-04-01/Accounts/"
            f"{self.settings.twilio_account_sid}/Recordings/{recording_sid}.wav"
        )

    def download_recording(self, recording_sid: str, directory: Path) -> DownloadedRecording:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            response = requests.get(
                self.recording_media_url(recording_sid),
                auth=(self.settings.twilio_account_sid, self.settings.twilio_auth_token),
                stream=True,
                timeout=DOWNLOAD_TIMEOUT_S,
            )
        except requests.RequestException as error:
            raise RecordingDownloadError(f"could not reach Twilio: {error}") from error
        with response:
            if response.status_code in (401, 403):
                raise RecordingCredentialsRejected(
                    f"Twilio answered HTTP {response.status_code}: the account credentials "
                    "(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN) were rejected"
                )
            if response.status_code != 200:
                raise RecordingDownloadError(f"Twilio answered HTTP {response.status_code}")
            content_type = response.headers.get("Content-Type", "").split(";")[0]
            target = directory / f"{recording_sid}{_extension(content_type)}"
            try:
                size = _stream_to_file(response, target)
            except requests.RequestException as error:
                raise RecordingDownloadError(f"the download broke off: {error}") from error
        if size == 0:
            raise RecordingDownloadError("Twilio sent an empty (0-byte) recording")
        return DownloadedRecording(target, content_type, size)


@contextmanager
def _refusals() -> Iterator[None]:
    """A 4xx other than 429 means Twilio created nothing and never will: say so for good."""
    try:
        yield
    except TwilioRestException as error:
        if 400 <= error.status < 500 and error.status != 429:
            raise TelephonyRefused(str(error)) from error
        raise


def _seconds(duration: str | None) -> float | None:
    """Twilio's duration is a string of whole seconds; -1 or nothing while still recording."""
    try:
        seconds = float(duration or "")
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _extension(content_type: str) -> str:
    return {"audio/mpeg": ".mp3", "audio/mp3": ".mp3"}.get(content_type, ".wav")


def _stream_to_file(response: requests.Response, target: Path) -> int:
    handle, temp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in response.iter_content(_CHUNK):
                out.write(chunk)
                size += len(chunk)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return size
