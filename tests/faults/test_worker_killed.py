"""The whole worker killed in the middle of a transcription (issue 10, "whole worker killed":
its transcriptions waited for the re-send after 30 min, the broker's visibility timeout being
an hour).

Not one pool process, which the worker replaces itself (tests/e2e/test_worker_killed.py): the
worker and its pool at once, as when its machine dies; a new worker starts, as its supervisor
would start it. The message must be transcribed within a few minutes, once, and its number
texted once.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.faults.calls import leaves_message, recordings_of, what_went_wrong
from tests.faults.deployment import RECOVERY_S, Deployment, wait_for_recovery
from twilio_double import audio

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.speech, pytest.mark.timeout(600)]

INTO_THE_TRANSCRIPTION_S = 2.0


def long_message(clips: list[Path]) -> bytes:
    """About a minute of Korean speech: long enough to be killed in the middle of decoding."""
    pieces = []
    for clip in clips[:6]:
        speech = audio.decode(clip.read_bytes())
        assert speech is not None
        pieces += [speech, audio.silence(0.7)]
    return audio.encode(np.concatenate(pieces))


def test_a_message_whose_worker_is_killed_is_transcribed_within_minutes(
    deployment: Deployment, korean_speech: list[Path]
) -> None:
    caller = leaves_message(
        "message whose worker was killed", "+821055553001", long_message(korean_speech), "ko-KR"
    )
    call = deployment.call(caller)
    call.wait()
    assert not what_went_wrong(call, deployment.default_locale)
    [recording_sid] = recordings_of(call)

    deployment.wait_until_transcribing([recording_sid])
    time.sleep(INTO_THE_TRANSCRIPTION_S)
    deployment.kill_speech_worker()
    assert deployment.recording_status(recording_sid) == "pending", "killed too late"
    deployment.start_speech_worker()

    lost = wait_for_recovery(deployment, [call])
    assert not lost, (
        f"worker killed mid-transcription, a new one started, then at most {RECOVERY_S:.0f} s:\n"
        + "\n".join(lost)
    )
