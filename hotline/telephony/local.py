"""The local line: the telephony adapter of the embedded default, for a hotline without Twilio.

Every call it places and every text it sends is kept in `local_line_entries` (the admin page
"what the hotline sent" lists them) and nothing reaches a phone, so a new user sees the whole
loop work. Reconciliation (calls_to_since, fetch_call, message_sent_since) reads the same table.

- Entries are written in the caller's transaction: they exist once the caller commits what it
  did with the SID. A crash in between leaves neither, and the retry writes the entry once.
- A placed call reports `no-answer`: nobody can pick up a local line. The follow-up logic then
  treats it as an unanswered call (after its status check, outreach.dispatcher.AWAITING_CHECK):
  retries, then the survey by text, then a home visit, all visible on this line. A call played
  with `hotline simulate answer` is `completed` instead.
- Recordings: `hotline simulate call` writes `<data dir>/local_line/recordings/<RecordingSid>.wav`
  before it tells the hotline about it, with `<RecordingSid>.json` saying which call it was
  (call SID, from, to, duration), as Twilio keeps both; download_recording copies the WAV from
  there, and recordings_since and fetch_call read the notes (for reconciliation).
- Webhooks are still signed: the line's own auth token is kept in `<data dir>/local_line_token`
  (0600, made once), and `hotline simulate` signs with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from hotline.clock import now
from hotline.config import Settings
from hotline.db import db
from hotline.instance_secret import instance_secret
from hotline.telephony.models import EntryKind, LocalLineEntry
from hotline.telephony.port import (
    CarrierRecording,
    DownloadedRecording,
    PlacedCall,
    RecordingDownloadError,
)

LOCAL_NUMBER = "+10000000000"  # the hotline's number when HOTLINE_NUMBER is not set
UNANSWERED = "no-answer"
ANSWERED = "completed"
SENT = "sent"
RECONCILE_LOOKBACK = 50  # as the Twilio adapter: the newest entries to one number
_RECORDING_SID = re.compile(r"^RE[0-9a-f]{32}$")


def new_sid(prefix: str) -> str:
    """An id shaped like Twilio's (two letters, 32 hex digits)."""
    return prefix + uuid.uuid4().hex


def recordings_dir(settings: Settings) -> Path:
    """Where `hotline simulate` leaves the recordings of simulated calls."""
    return settings.data_dir / "local_line" / "recordings"


def auth_token(settings: Settings) -> str:
    """The secret the local line's webhooks are signed with, made once per install."""
    return instance_secret(settings.data_dir / "local_line_token", "delete it and restart")


class LocalLine:
    """Calls and texts kept in the database instead of reaching a phone network."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._token: str | None = None

    @property
    def number(self) -> str:
        return self.settings.hotline_number or LOCAL_NUMBER

    @property
    def webhook_auth_token(self) -> str:
        if self._token is None:
            self._token = auth_token(self.settings)
        return self._token

    def _keep(self, kind: EntryKind, to: str, status: str, **words: str) -> str:
        """One entry (words: body, or url and status_callback), written in the caller's
        transaction."""
        prefix = "CA" if kind == EntryKind.CALL else "SM"
        entry = LocalLineEntry(
            kind=kind,
            sid=new_sid(prefix),
            to_phone=to,
            from_phone=self.number,
            status=status,
            body=words.get("body", ""),
            url=words.get("url", ""),
            status_callback=words.get("status_callback", ""),
            created_at=now(),  # the hotline's clock, which reconciliation compares with
        )
        db.session.add(entry)
        db.session.flush()
        return entry.sid

    def send_sms(self, to: str, body: str) -> str:
        return self._keep(EntryKind.TEXT, to, SENT, body=body)

    def place_call(
        self,
        to: str,
        url: str,
        status_callback: str,
        status_callback_events: Sequence[str] = ("completed",),
        machine_detection: str = "Enable",
    ) -> str:
        return self._keep(EntryKind.CALL, to, UNANSWERED, url=url, status_callback=status_callback)

    def _newest_to(self, kind: EntryKind, to: str, since: datetime) -> list[LocalLineEntry]:
        query = (
            select(LocalLineEntry)
            .where(
                LocalLineEntry.kind == kind,
                LocalLineEntry.to_phone == to,
                LocalLineEntry.created_at >= since,
            )
            .order_by(LocalLineEntry.created_at.desc(), LocalLineEntry.id.desc())
            .limit(RECONCILE_LOOKBACK)
        )
        return list(db.session.scalars(query))

    def calls_to_since(self, to: str, since: datetime) -> list[PlacedCall]:
        return [_placed(entry) for entry in self._newest_to(EntryKind.CALL, to, since)]

    def fetch_call(self, sid: str) -> PlacedCall:
        entry = db.session.scalar(
            select(LocalLineEntry).where(
                LocalLineEntry.sid == sid, LocalLineEntry.kind == EntryKind.CALL
            )
        )
        if entry is not None:
            return _placed(entry)
        for note in self._recording_notes():  # a call the simulator made to the hotline
            if note.call_sid == sid:
                return note.call()
        raise LookupError(f"the local line has no call {sid}")

    def recordings_since(self, since: datetime) -> list[CarrierRecording]:
        notes = [note for note in self._recording_notes() if note.created_at >= since]
        notes.sort(key=lambda note: note.created_at, reverse=True)
        return [note.recording() for note in notes]

    def _recording_notes(self) -> list[RecordingNote]:
        folder = recordings_dir(self.settings)
        return [RecordingNote.read(path) for path in sorted(folder.glob("RE*.json"))]

    def message_sent_since(self, to: str, body: str, since: datetime) -> str | None:
        for entry in self._newest_to(EntryKind.TEXT, to, since):
            if entry.body == body:
                return entry.sid
        return None

    def download_recording(self, recording_sid: str, directory: Path) -> DownloadedRecording:
        # The SID names a file: only Twilio-shaped ones, never a path.
        if not _RECORDING_SID.match(recording_sid):
            raise RecordingDownloadError(f"not a recording id: {recording_sid!r}")
        source = recordings_dir(self.settings) / f"{recording_sid}.wav"
        if not source.is_file():
            raise RecordingDownloadError(f"the local line has no recording {source.name} (yet)")
        if source.stat().st_size == 0:
            raise RecordingDownloadError("the local line's recording is empty (0 bytes)")
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / source.name
        size = _copy_atomically(source, target)
        return DownloadedRecording(target, "audio/x-wav", size)

    def check_account(self) -> None:
        """The local line has no account: nothing to refuse."""


def _placed(entry: LocalLineEntry) -> PlacedCall:
    return PlacedCall(
        entry.sid,
        entry.status,
        entry.created_at,
        from_phone=entry.from_phone,
        to_phone=entry.to_phone,
        direction="outbound-api",
    )


@dataclass(frozen=True)
class RecordingNote:
    """What the local line keeps next to a recording: its call, as Twilio would know it."""

    sid: str
    call_sid: str
    from_phone: str
    to_phone: str
    duration_s: float
    created_at: datetime

    def write(self, folder: Path) -> None:
        fields = asdict(self) | {"created_at": self.created_at.isoformat()}
        _write_atomically(folder / f"{self.sid}.json", json.dumps(fields).encode())

    @classmethod
    def read(cls, path: Path) -> RecordingNote:
        fields = json.loads(path.read_text(encoding="utf-8"))
        fields["created_at"] = datetime.fromisoformat(fields["created_at"])
        return cls(**fields)

    def recording(self) -> CarrierRecording:
        return CarrierRecording(
            self.sid, self.call_sid, "completed", self.duration_s, self.created_at
        )

    def call(self) -> PlacedCall:
        return PlacedCall(
            self.call_sid,
            ANSWERED,
            self.created_at,
            from_phone=self.from_phone,
            to_phone=self.to_phone,
            direction="inbound",
        )


def _write_atomically(target: Path, data: bytes) -> None:
    handle, temp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _copy_atomically(source: Path, target: Path) -> int:
    handle, temp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as into:
            shutil.copyfileobj(into, out)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target.stat().st_size
