"""The telephony port's contract, held by both adapters: Twilio (the real `twilio` client
against the local REST double) and the local line (the database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from hotline.config import Settings
from hotline.db import db, utcnow
from hotline.telephony import (
    CredentialsRejected,
    RecordingDownloadError,
    Telephony,
    TelephonyNotConfigured,
    TelephonyRefused,
    TwilioTelephony,
    current_telephony,
)
from hotline.telephony.local import RecordingNote, recordings_dir
from tests.conftest import HOTLINE_NUMBER, hotline_app, local_line_env, make_env
from twilio_double.rest import TwilioRestDouble

RESIDENT = "+8613800000001"
CALL_SID = "CA" + "7" * 32
AUDIO = b"RIFF" + bytes(200)


@pytest.fixture(params=["twilio", "local"])
def adapter(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, rest: TwilioRestDouble
) -> Iterator[tuple[str, Flask]]:
    env = make_env(tmp_path, database_url, TWILIO_API_BASE_URL=rest.base_url)
    if request.param == "local":
        env = local_line_env(tmp_path, database_url)
    with hotline_app(env) as app:
        yield request.param, app


def _leave_recording(kind: str, app: Flask, rest: TwilioRestDouble) -> str:
    """A recording as each carrier holds one: at Twilio, or where the simulator drops it,
    on a call from a resident to the hotline."""
    if kind == "twilio":
        rest.add_call(HOTLINE_NUMBER, RESIDENT, sid=CALL_SID)
        return rest.add_recording(CALL_SID, AUDIO, duration=7)
    sid = "RE" + "7" * 32
    folder = recordings_dir(app.extensions["hotline.settings"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{sid}.wav").write_bytes(AUDIO)
    RecordingNote(sid, CALL_SID, RESIDENT, HOTLINE_NUMBER, 7, utcnow()).write(folder)
    return sid


def test_a_text_is_sent_and_found_again(adapter: tuple[str, Flask]) -> None:
    _, app = adapter
    with app.app_context():
        line: Telephony = current_telephony()
        before = utcnow() - timedelta(minutes=1)
        sid = line.send_sms(RESIDENT, "社区服务热线：测试")
        db.session.commit()
        assert sid.startswith("SM")
        assert line.message_sent_since(RESIDENT, "社区服务热线：测试", before) == sid
        assert line.message_sent_since(RESIDENT, "another text", before) is None
        assert line.message_sent_since("+8613800000002", "社区服务热线：测试", before) is None


def test_a_call_is_placed_listed_and_fetched(adapter: tuple[str, Flask]) -> None:
    _, app = adapter
    with app.app_context():
        line = current_telephony()
        before = utcnow() - timedelta(minutes=1)
        url = "https://hotline.example.org/ivr/survey/1"
        sid = line.place_call(RESIDENT, url, url + "/status")
        db.session.commit()
        assert sid.startswith("CA")
        assert [call.sid for call in line.calls_to_since(RESIDENT, before)] == [sid]
        assert line.calls_to_since("+8613800000002", before) == []
        assert line.fetch_call(sid).sid == sid


def test_a_recording_is_downloaded_into_the_folder(
    adapter: tuple[str, Flask], rest: TwilioRestDouble, tmp_path: Path
) -> None:
    kind, app = adapter
    with app.app_context():
        sid = _leave_recording(kind, app, rest)
        downloaded = current_telephony().download_recording(sid, tmp_path / "recordings")
        assert downloaded.path.parent == tmp_path / "recordings"
        assert downloaded.path.read_bytes() == AUDIO and downloaded.size == len(AUDIO)
        with pytest.raises(RecordingDownloadError):
            current_telephony().download_recording("RE" + "0" * 32, tmp_path / "recordings")


def test_recordings_are_listed_with_their_call_for_reconciliation(
    adapter: tuple[str, Flask], rest: TwilioRestDouble
) -> None:
    kind, app = adapter
    with app.app_context():
        line = current_telephony()
        before = utcnow() - timedelta(minutes=1)
        sid = _leave_recording(kind, app, rest)
        [found] = line.recordings_since(before)
        assert (found.sid, found.call_sid, found.complete) == (sid, CALL_SID, True)
        assert found.duration_s == 7 and found.created_at is not None
        assert line.recordings_since(utcnow() + timedelta(minutes=1)) == []
        call = line.fetch_call(CALL_SID)
        assert (call.from_phone, call.to_phone, call.direction) == (
            RESIDENT,
            HOTLINE_NUMBER,
            "inbound",
        )
        with pytest.raises(LookupError):
            line.fetch_call("CA" + "0" * 32)


def test_a_recording_twilio_is_still_making_is_not_complete(
    app: Flask, rest: TwilioRestDouble
) -> None:
    with app.app_context():
        before = utcnow() - timedelta(minutes=1)
        sid = rest.add_recording(CALL_SID, AUDIO, status="in-progress")
        [found] = current_telephony().recordings_since(before)
        assert (found.sid, found.complete, found.duration_s) == (sid, False, None)


def test_twilio_refusing_a_number_is_a_refusal_and_a_server_error_is_not(
    app: Flask, rest: TwilioRestDouble
) -> None:
    with app.app_context():
        line = current_telephony()
        assert isinstance(line, TwilioTelephony)
        rest.fail_next(r"/Messages\.json$", 400, method="POST")
        with pytest.raises(TelephonyRefused):
            line.send_sms(RESIDENT, "x")
        rest.fail_next(r"/Calls\.json$", 503, method="POST")
        with pytest.raises(Exception) as uncertain:  # the call may or may not exist
            line.place_call(RESIDENT, "https://h.example/x", "https://h.example/s")
        assert not isinstance(uncertain.value, TelephonyRefused)
        rest.fail_next(r"/Messages\.json$", 429, method="POST")
        with pytest.raises(Exception) as busy:
            line.send_sms(RESIDENT, "x")
        assert not isinstance(busy.value, TelephonyRefused)


def test_twilio_without_a_hotline_number_is_not_configured(
    tmp_path: Path, database_url: str, rest: TwilioRestDouble
) -> None:
    env = make_env(tmp_path, database_url, TWILIO_API_BASE_URL=rest.base_url, HOTLINE_NUMBER="")
    line = TwilioTelephony(Settings.from_env(env))
    with pytest.raises(TelephonyNotConfigured):
        line.send_sms(RESIDENT, "x")
    with pytest.raises(TelephonyNotConfigured):
        line.place_call(RESIDENT, "https://h.example/x", "https://h.example/s")
    assert rest.messages == [] and rest.calls == []


def test_the_account_check_passes_with_good_credentials(adapter: tuple[str, Flask]) -> None:
    _, app = adapter
    with app.app_context():
        current_telephony().check_account()  # the local line has no account to refuse


@pytest.mark.parametrize("wrong", ["TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID"])
def test_twilio_rejecting_the_credentials_is_said_so(
    tmp_path: Path, database_url: str, rest: TwilioRestDouble, wrong: str
) -> None:
    bad = {"TWILIO_AUTH_TOKEN": "a-wrong-token", "TWILIO_ACCOUNT_SID": "AC" + "9" * 32}[wrong]
    env = make_env(tmp_path, database_url, TWILIO_API_BASE_URL=rest.base_url, **{wrong: bad})
    line = TwilioTelephony(Settings.from_env(env))
    with pytest.raises(CredentialsRejected, match="rejected the account SID and auth token"):
        line.check_account()
    assert rest.requests[-1]["status"] == 401
