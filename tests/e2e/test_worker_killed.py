"""A worker process killed in the middle of a transcription: the message is not lost.

The message is two minutes of speech (a Korean recording, said over and over), so that Vosk is
still decoding when the worker is killed, and the message opens its case once transcribed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from cases.models import Case, Recording, RecordingStatus
from cases.recordings import queue_transcription
from hotline import migrate
from hotline.app import create_app
from hotline.config import Settings
from hotline.db import db
from tests.conftest import make_env
from tests.e2e.conftest import BIN, KOREAN_CENTRE, stop
from tests.speech_data import load_korean_clips
from tests.tasks.test_voicemail import noted_recording, wav_bytes
from twilio_double.rest import TwilioRestDouble

pytestmark = [pytest.mark.slow, pytest.mark.speech]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise TimeoutError(what)


def test_killed_worker_process_is_replaced_and_the_message_transcribed_once(
    tmp_path: Path, rest: TwilioRestDouble
) -> None:
    env = make_env(
        tmp_path,
        f"sqlite:///{tmp_path / 'hotline.db'}",
        TWILIO_API_BASE_URL=rest.base_url,
        HOTLINE_BROKER_URL=f"sqla+sqlite:///{tmp_path / 'broker.db'}",
        **KOREAN_CENTRE,
    )
    migrate.upgrade(env["HOTLINE_DATABASE_URL"])
    app = create_app(Settings.from_env(env))
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [str(BIN / "hotline"), "worker", "-Q", "celery,speech", "--concurrency", "1"],
        env={**os.environ, **env},
        stdout=log,
        start_new_session=True,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: b" ready." in (tmp_path / "worker.log").read_bytes(), 60, "worker start")
        # Two minutes of speech: long enough to be killed in the middle of decoding.
        clip, _ = sf.read(load_korean_clips()[0].path_8k, dtype="int16")
        speech = np.tile(clip, 8000 * 120 // len(clip) + 1)[: 8000 * 120]
        with app.app_context():
            recording_id = noted_recording(rest, wav_bytes(speech))
            assert queue_transcription(recording_id)

            def attempts() -> int:
                db.session.expire_all()
                recording = db.session.get(Recording, recording_id)
                assert recording is not None
                return recording.attempts

            wait_until(lambda: attempts() == 1, 60, "task start")
            time.sleep(1.0)
            [child] = children(worker.pid)
            os.kill(child, signal.SIGKILL)

            def finished() -> bool:
                db.session.expire_all()
                recording = db.session.get(Recording, recording_id)
                return recording is not None and recording.status != RecordingStatus.PENDING

            wait_until(finished, 240, "transcription after the kill")
            recording = db.session.get(Recording, recording_id)
            assert recording is not None
            assert recording.status == RecordingStatus.TRANSCRIBED
            assert recording.attempts == 2
            case = db.session.scalar(select(Case))
            assert case is not None
            assert [event.kind for event in case.events].count("transcribed") == 1
            db.session.remove()
            db.engine.dispose()
    finally:
        stop([worker], timeout=60)
        log.close()
    assert b"WorkerLostError" in (tmp_path / "worker.log").read_bytes()
