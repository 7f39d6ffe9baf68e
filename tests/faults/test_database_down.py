"""PostgreSQL crashes in the middle of calls (issue 10, "PostgreSQL down 30 s").

Every caller still hears TwiML in their language (or the centre's), never Twilio's "an
application error has occurred"; 9 still dials the on-duty number; and within five minutes of
the database coming back every message, left before, during or across the crash, is one case,
transcribed once, its number texted to the caller once, and every 9 is one emergency case whose
alert the on-duty staff got once.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.faults.calls import (
    Caller,
    leaves_message,
    presses_nine,
    recordings_of,
    what_went_wrong,
)
from tests.faults.deployment import RECOVERY_S, Deployment, wait_for_recovery

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.speech, pytest.mark.timeout(600)]

OUTAGE_S = 30.0  # issue 10's "PostgreSQL down 30 s"
KO = "ko-KR"  # the centre's language, also for callers it does not know


def callers(speech: list[Path]) -> tuple[list[Caller], list[Caller], list[Caller]]:
    """Who calls just before the crash, who is on the line when it strikes, who calls during."""
    clips = iter(speech)
    before = [
        leaves_message("1st message just before the crash", "+821055551001", next(clips), KO),
        leaves_message("2nd message just before the crash", "+821055551002", next(clips), KO),
    ]
    in_progress = [
        leaves_message("Korean resident's message mid-call", "+821012345678", next(clips), KO),
        leaves_message("unknown caller's message mid-call", "+821055551003", next(clips), KO),
        presses_nine("Chinese resident pressing 9 mid-call", "+8613800138000", "zh-CN"),
        presses_nine("English resident pressing 9 mid-call", "+12025550143", "en-US"),
        leaves_message("another message mid-call", "+821055551004", next(clips), KO),
    ]
    during = [
        leaves_message(
            "message from a call made during the outage", "+821055551005", next(clips), KO
        ),
        presses_nine("Chinese resident calling during the outage, 9", "+8613800138001", "zh-CN"),
    ]
    return before, in_progress, during


def test_callers_during_a_database_crash_are_answered_and_no_message_is_lost(
    deployment: Deployment, korean_speech: list[Path]
) -> None:
    before, in_progress, during = callers(korean_speech)
    first = [deployment.call(caller) for caller in before]
    for call in first:
        call.wait()
    assert not [p for call in first for p in what_went_wrong(call, deployment.default_locale)]
    release = threading.Event()
    held = [deployment.call(caller, release) for caller in in_progress]
    for call in held:
        assert call.transport.holding.wait(60), f"{call.caller.label} never reached the menu"
    # The first two messages are being transcribed when the database goes.
    deployment.wait_until_transcribing([s for call in first for s in recordings_of(call)])
    deployment.postgres.crash()
    crashed_at = time.monotonic()
    release.set()
    late = [deployment.call(caller) for caller in during]
    for call in held + late:
        call.wait()
    heard = [p for call in held + late for p in what_went_wrong(call, deployment.default_locale)]
    time.sleep(max(0.0, crashed_at + OUTAGE_S - time.monotonic()))
    deployment.postgres.start()

    lost = wait_for_recovery(deployment, first + held + late)
    assert not heard + lost, (
        f"PostgreSQL down {OUTAGE_S:.0f} s in the middle of calls, then up for at most "
        f"{RECOVERY_S:.0f} s:\n" + "\n".join(heard + lost)
    )
