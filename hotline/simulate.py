"""`hotline simulate`: try the whole loop on the local line, without Twilio or a phone.

The project's call simulator (twilio_double) plays Twilio's side against a running
`hotline run`, signing every webhook with the local line's token and leaving each recording
where the local line downloads it from (hotline.telephony.local).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from hotline.app import create_app
from hotline.config import Settings
from hotline.db import db, utcnow
from hotline.telephony.local import (
    ANSWERED,
    LOCAL_NUMBER,
    UNANSWERED,
    RecordingNote,
    auth_token,
    recordings_dir,
)
from hotline.telephony.models import EntryKind, LocalLineEntry
from twilio_double.results import CallResult
from twilio_double.script import CallerAction, Press, Speak
from twilio_double.simulator import CallSimulator
from twilio_double.transport import HttpTransport, Transport

LOCAL_ACCOUNT_SID = "AC" + "0" * 32  # the local line has no account; webhooks still carry one


class LocalLinePhone(CallSimulator):
    """Twilio's side of the local line: recordings go to the local line's directory."""

    def __init__(self, settings: Settings, transport: Transport) -> None:
        super().__init__(
            transport,
            public_base_url=settings.public_url,
            account_sid=LOCAL_ACCOUNT_SID,
            auth_token=auth_token(settings),
        )
        self.recordings = recordings_dir(settings)

    def _store_recording(self, call: Any, sid: str, wav: bytes, duration: int) -> None:
        """Written (atomically) before the hotline hears of the recording, as Twilio's is,
        with a note of its call that reconciliation reads should the callbacks not get through."""
        self.recordings.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=self.recordings, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(wav)
        os.replace(temp_name, self.recordings / f"{sid}.wav")
        result = call.result
        note = RecordingNote(sid, result.call_sid, result.from_, result.to, duration, utcnow())
        note.write(self.recordings)


def _local_settings() -> Settings:
    settings = Settings.from_env()
    if settings.telephony != "local":
        raise click.ClickException(
            "the hotline uses Twilio here (HOTLINE_TELEPHONY or TWILIO_ACCOUNT_SID is set): "
            "simulate only plays the local line"
        )
    return settings


def _report(result: CallResult) -> None:
    for said in result.said:
        click.echo(f"  hotline: {said}")
    if result.application_error is not None:
        raise click.ClickException(f"the hotline failed the call: {result.application_error}")
    click.echo(f"call {result.call_sid} ended ({result.final_status})")


URL_OPTION = click.option(
    "--url", default=None, help="Where `hotline run` listens [default: HOTLINE_PUBLIC_URL]."
)


@click.group("simulate")
def simulate() -> None:
    """Play calls and texts against a running hotline on its local line (no Twilio)."""


@simulate.command("call")
@click.option(
    "--audio",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="What the caller says (a WAV file).",
)
@click.option("--from", "caller", default="+8613800000000", show_default=True)
@click.option("--digits", default="1", show_default=True, help="The menu choice (1: message).")
@URL_OPTION
def simulate_call(audio: Path, caller: str, digits: str, url: str | None) -> None:
    """Call the hotline, choose from the menu, leave `--audio` as the message."""
    settings = _local_settings()
    phone = LocalLinePhone(settings, HttpTransport(url or settings.public_url))
    script: list[CallerAction] = [Press(digits), Speak(audio), Press("#")]
    try:
        result = phone.call(
            caller, settings.hotline_number or LOCAL_NUMBER, script, url="/ivr/incoming"
        )
    finally:
        phone.close()
    _report(result)
    for sid in result.recordings:
        click.echo(f"left recording {sid}")


@simulate.command("sms")
@click.option("--from", "sender", default="+8613800000000", show_default=True)
@click.argument("body")
@URL_OPTION
def simulate_sms(sender: str, body: str, url: str | None) -> None:
    """Text the hotline; its reply is printed."""
    settings = _local_settings()
    phone = LocalLinePhone(settings, HttpTransport(url or settings.public_url))
    try:
        result = phone.send_sms(sender, settings.hotline_number or LOCAL_NUMBER, body)
    finally:
        phone.close()
    for reply in result.replies:
        click.echo(f"  hotline: {reply.body}")


@simulate.command("answer")
@click.option("--press", "keys", multiple=True, help="Keys the resident presses, in order.")
@URL_OPTION
def simulate_answer(keys: tuple[str, ...], url: str | None) -> None:
    """Answer the newest call the local line placed (a survey or progress call)."""
    settings = _local_settings()
    app = create_app(settings)
    with app.app_context():
        entry = db.session.scalar(
            select(LocalLineEntry)
            .where(LocalLineEntry.kind == EntryKind.CALL, LocalLineEntry.status == UNANSWERED)
            .order_by(LocalLineEntry.created_at.desc(), LocalLineEntry.id.desc())
        )
        if entry is None:
            raise click.ClickException("the local line has placed no call to answer")
        placed = _as_twilio_call(entry)
        # Answered before the hotline hears so, so its status check agrees with the callback.
        entry.status = ANSWERED
        db.session.commit()
        db.engine.dispose()
    phone = LocalLinePhone(settings, HttpTransport(url or settings.public_url))
    try:
        _report(phone.answer(placed, [Press(key) for key in keys]))
    finally:
        phone.close()


def _as_twilio_call(entry: LocalLineEntry) -> dict[str, Any]:
    """The call as Twilio's REST double keeps it: what CallSimulator.answer plays."""
    return {
        "sid": entry.sid,
        "from": entry.from_phone,
        "to": entry.to_phone,
        "request": {
            "Url": entry.url,
            "Method": "POST",
            "StatusCallback": entry.status_callback,
            "StatusCallbackMethod": "POST",
            "MachineDetection": "Enable",
        },
        "status_callback_event": ["completed"],
    }
