"""Simulated calls -> real Celery worker -> real Vosk on real recordings -> the case via the API.

The pipeline gets the 8 kHz recordings exactly as Twilio would deliver them, and must score no
worse than bare Vosk on the same 8 kHz audio (character error rate, computed here, not assumed).
"""

from __future__ import annotations

import time

import pytest
import requests

from speech.metrics import cer
from speech.models import resolve_model_path
from speech.recognizer import load_model
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    HOTLINE_NUMBER,
    PUBLIC_URL,
)
from tests.e2e.conftest import RunningHotline
from tests.speech_data import bare_vosk, load_korean_clips
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Press, Speak
from twilio_double.simulator import CallSimulator
from twilio_double.transport import HttpTransport

pytestmark = [pytest.mark.slow, pytest.mark.speech]


def wait_for_transcripts(
    hotline: RunningHotline, token: str, phones: list[str], timeout: float = 300
) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    found: dict[str, dict] = {}
    while time.monotonic() < deadline and len(found) < len(phones):
        hotline.check_alive()
        for phone in phones:
            if phone in found:
                continue
            cases = requests.get(
                f"{hotline.base_url}/api/cases",
                params={"phone": phone},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).json()
            if cases and (cases[0]["transcript"] or cases[0]["error"]):
                found[phone] = cases[0]
        time.sleep(1)
    return found


def test_calls_become_transcribed_cases_no_worse_than_bare_vosk(
    hotline: RunningHotline, rest: TwilioRestDouble
) -> None:
    clips = [(clip.path_8k, clip.reference) for clip in load_korean_clips()]
    phone = CallSimulator(
        HttpTransport(hotline.base_url),
        public_base_url=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )
    phones = [f"+82105555{index:04d}" for index in range(len(clips))]
    for number, (clip, _) in zip(phones, clips, strict=True):
        result = phone.call(
            from_=number,
            to=HOTLINE_NUMBER,
            script=[Press("1"), Speak(clip), Press("#")],
            url="/ivr/incoming",
        )
        assert result.application_error is None and len(result.recordings) == 1

    token = hotline.api_token()
    cases = wait_for_transcripts(hotline, token, phones)
    assert len(cases) == len(clips), "every message must become a transcribed case"

    model = load_model(resolve_model_path("ko-KR"))
    pipeline_errors = bare_errors = reference_chars = 0.0
    for number, (clip, reference) in zip(phones, clips, strict=True):
        case = cases[number]
        assert case["status"] == "new" and case["error"] == "", case
        assert case["words"] and all(0 <= w["conf"] <= 1 for w in case["words"])
        length = len(reference.replace(" ", ""))
        pipeline_errors += cer(reference, case["transcript"]) * length
        bare_errors += cer(reference, bare_vosk(model, clip)) * length
        reference_chars += length
    pipeline_cer, bare_cer = pipeline_errors / reference_chars, bare_errors / reference_chars
    print(f"\npipeline CER {pipeline_cer:.3f}  bare Vosk CER {bare_cer:.3f} on the 8 kHz clips")
    assert pipeline_cer <= bare_cer + 1e-9

    # Each caller was also sent their case number by text.
    texted = {m["to"] for m in rest.messages}
    assert set(phones) <= texted
