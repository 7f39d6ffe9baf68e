"""The local line: a hotline without Twilio keeps its calls and texts, and still checks webhooks."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from cases.models import Case, Recording
from hotline.config import Settings
from hotline.db import db, utcnow
from hotline.simulate import LocalLinePhone, _as_twilio_call
from hotline.telephony import (
    LocalLine,
    RecordingDownloadError,
    TwilioTelephony,
    build,
    current_telephony,
)
from hotline.telephony.local import recordings_dir
from hotline.telephony.models import EntryKind, LocalLineEntry
from outreach import notices
from tasks.followups import send_text
from tasks.recordings import reconcile_recordings
from tests.conftest import AUTH_TOKEN, PUBLIC_URL, local_line_env, make_env
from tests.tasks.test_voicemail import wav_bytes
from twilio_double.script import Press, Speak
from twilio_double.transport import LosingTransport, WsgiTransport

RESIDENT = "+8613800000001"


def _line() -> LocalLine:
    line = current_telephony()
    assert isinstance(line, LocalLine)
    return line


# -- which carrier ------------------------------------------------------------------------------


def test_without_a_twilio_account_the_hotline_runs_on_the_local_line(tmp_path: Path) -> None:
    env = local_line_env(tmp_path, "sqlite://")
    assert Settings.from_env(env).telephony == "local"
    assert isinstance(build(Settings.from_env(env)), LocalLine)
    with_twilio = make_env(tmp_path, "sqlite://")
    assert Settings.from_env(with_twilio).telephony == "twilio"
    assert isinstance(build(Settings.from_env(with_twilio)), TwilioTelephony)


def test_hotline_telephony_overrides_the_guess(tmp_path: Path) -> None:
    env = make_env(tmp_path, "sqlite://", HOTLINE_TELEPHONY="local")
    assert Settings.from_env(env).telephony == "local"
    no_account = local_line_env(tmp_path, "sqlite://")
    assert Settings.from_env({**no_account, "HOTLINE_TELEPHONY": "Twilio"}).telephony == "twilio"
    with pytest.raises(ValueError, match="HOTLINE_TELEPHONY must be twilio or local"):
        Settings.from_env({**env, "HOTLINE_TELEPHONY": "carrier-pigeon"})


# -- texts and calls kept, and found again -------------------------------------------------------


def test_a_text_is_kept_and_found_by_reconciliation(local_app: Flask) -> None:
    with local_app.app_context():
        before = utcnow() - timedelta(seconds=1)
        sid = _line().send_sms(RESIDENT, "您的诉求编号是 0001")
        db.session.commit()
        [entry] = db.session.scalars(select(LocalLineEntry))
        assert (entry.kind, entry.sid, entry.to_phone, entry.body, entry.status) == (
            EntryKind.TEXT,
            sid,
            RESIDENT,
            "您的诉求编号是 0001",
            "sent",
        )
        assert sid.startswith("SM") and len(sid) == 34 and entry.from_phone == "+8610123456"
        assert _line().message_sent_since(RESIDENT, "您的诉求编号是 0001", before) == sid
        assert _line().message_sent_since(RESIDENT, "another text", before) is None
        assert _line().message_sent_since("+8613900000000", "您的诉求编号是 0001", before) is None
        later = utcnow() + timedelta(seconds=1)
        assert _line().message_sent_since(RESIDENT, "您的诉求编号是 0001", later) is None


def test_a_text_whose_sender_rolled_back_was_never_sent(local_app: Flask) -> None:
    """Kept in the caller's transaction: a crash before the commit leaves nothing to adopt."""
    with local_app.app_context():
        _line().send_sms(RESIDENT, "lost")
        db.session.rollback()
        assert db.session.scalars(select(LocalLineEntry)).all() == []


def test_a_placed_call_reports_no_answer_to_reconciliation(local_app: Flask) -> None:
    with local_app.app_context():
        before = utcnow() - timedelta(seconds=1)
        url = f"{PUBLIC_URL}/ivr/survey/7"
        sid = _line().place_call(RESIDENT, url, url + "/status")
        db.session.commit()
        assert sid.startswith("CA") and len(sid) == 34
        [placed] = _line().calls_to_since(RESIDENT, before)
        assert (placed.sid, placed.status) == (sid, "no-answer")
        assert _line().fetch_call(sid).status == "no-answer"
        assert _line().calls_to_since(RESIDENT, utcnow() + timedelta(seconds=1)) == []
        assert _line().calls_to_since("+8613900000000", before) == []
        with pytest.raises(LookupError):
            _line().fetch_call("CA" + "f" * 32)
        entry = db.session.scalar(select(LocalLineEntry))
        assert entry is not None and (entry.url, entry.status_callback) == (url, url + "/status")


def test_the_case_number_text_goes_to_the_local_line(local_app: Flask) -> None:
    with local_app.app_context():
        case = Case(phone=RESIDENT, locale="ko-KR", source="voicemail")
        db.session.add(case)
        db.session.commit()
        message = notices.text_case_number(case)
        db.session.commit()  # its send task is published now (memory broker): run it here
        assert message is not None
        send_text.apply(args=[message.id])
        [entry] = db.session.scalars(select(LocalLineEntry))
        assert entry.to_phone == RESIDENT and case.number in entry.body


# -- recordings -----------------------------------------------------------------------------------


def test_a_recording_not_left_by_the_simulator_cannot_be_downloaded(
    local_app: Flask, tmp_path: Path
) -> None:
    with local_app.app_context():
        with pytest.raises(RecordingDownloadError, match="no recording"):
            _line().download_recording("RE" + "a" * 32, tmp_path / "out")
        with pytest.raises(RecordingDownloadError, match="not a recording id"):
            _line().download_recording("../../secret_key", tmp_path / "out")
        source = recordings_dir(_line().settings)
        source.mkdir(parents=True)
        (source / f"RE{'b' * 32}.wav").write_bytes(b"")
        with pytest.raises(RecordingDownloadError, match="empty"):
            _line().download_recording("RE" + "b" * 32, tmp_path / "out")


def test_a_simulated_call_leaves_a_recording_the_line_downloads(
    local_app: Flask, tmp_path: Path
) -> None:
    message = wav_bytes(np.full(8000 * 2, 3000))
    with local_app.app_context():
        settings = _line().settings
    phone = LocalLinePhone(settings, WsgiTransport(local_app))
    result = phone.call(
        RESIDENT, "+8610123456", [Press("1"), Speak(message), Press("#")], url="/ivr/incoming"
    )
    assert result.application_error is None and len(result.recordings) == 1
    [sid] = result.recordings
    with local_app.app_context():
        downloaded = _line().download_recording(sid, tmp_path / "recordings")
        assert (
            downloaded.path.read_bytes() == (recordings_dir(settings) / f"{sid}.wav").read_bytes()
        )
        assert downloaded.size > 44 and downloaded.content_type == "audio/x-wav"
        recording = db.session.scalar(select(Recording))  # its case opens once transcribed
        assert recording is not None and recording.recording_sid == sid
        assert recording.available and recording.locale == "zh-CN"


def test_a_simulated_message_whose_callbacks_were_lost_is_found_by_reconciliation(
    local_app: Flask,
) -> None:
    """`hotline simulate call` against a hotline that failed the recording callbacks."""
    with local_app.app_context():
        settings = _line().settings
    transport = LosingTransport(WsgiTransport(local_app), r"/ivr/(recorded|recording-status)$")
    phone = LocalLinePhone(settings, transport)
    message = wav_bytes(np.full(8000 * 2, 3000))
    result = phone.call(RESIDENT, "+8610123456", [Press("1"), Speak(message)], url="/ivr/incoming")
    [sid] = result.recordings
    assert transport.dropped  # the hotline never heard of it
    with local_app.app_context():
        assert db.session.scalar(select(Recording)) is None
        assert reconcile_recordings.apply().get() == 1
        recording = db.session.scalar(select(Recording))
        assert recording is not None and recording.recording_sid == sid and recording.available
        assert reconcile_recordings.apply().get() == 0


# -- webhooks are signed with the line's own token ----------------------------------------------


def test_the_local_line_signs_webhooks_with_a_token_of_its_own(local_app: Flask) -> None:
    with local_app.app_context():
        token = _line().webhook_auth_token
        token_file = _line().settings.data_dir / "local_line_token"
    assert len(token) == 64 and token_file.read_text() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    params = {"CallSid": "CA" + "1" * 32, "From": RESIDENT, "To": "+8610123456"}
    url = PUBLIC_URL + "/ivr/incoming"
    client = local_app.test_client()

    def post(signature: str) -> int:
        headers = {"X-Twilio-Signature": signature}
        return client.post("/ivr/incoming", data=params, headers=headers).status_code

    assert post(RequestValidator(token).compute_signature(url, params)) == 200
    assert post(RequestValidator(AUTH_TOKEN).compute_signature(url, params)) == 403
    assert post("") == 403


def test_a_placed_call_can_be_answered_in_the_simulator(local_app: Flask) -> None:
    with local_app.app_context():
        url = f"{PUBLIC_URL}/ivr/survey/1"
        sid = _line().place_call(RESIDENT, url, url + "/status")
        db.session.commit()
        entry = db.session.scalar(select(LocalLineEntry))
        assert entry is not None
        placed = _as_twilio_call(entry)
        settings = _line().settings
    assert placed["sid"] == sid and placed["request"]["Url"] == url
    phone = LocalLinePhone(settings, WsgiTransport(local_app))
    result = phone.answer(placed)
    # Signed with the line's token, so accepted: no such survey any more, and the status came.
    assert result.application_error is None and "这次回访已经不需要了" in result.said[0]
    assert [(r.kind, r.status) for r in result.requests] == [("voice", 200), ("status", 204)]
