"""Redis crashes while messages arrive (issue 10, "Redis down 60 s": 0 of 20 case-number texts
were ever sent; messages whose task was lost waited half an hour).

Redis runs as the project runs it, without persistence, so the crash loses every task it held.
Every message left just before the crash or during the outage must still be one case,
transcribed once, its number texted to the caller once, within five minutes of Redis coming
back; and callers notice nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.faults.calls import leaves_message, what_went_wrong
from tests.faults.deployment import RECOVERY_S, Deployment, wait_for_recovery

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.speech, pytest.mark.timeout(600)]

OUTAGE_S = 20.0
KO = "ko-KR"


def test_messages_left_around_a_broker_crash_become_cases_and_texts_once(
    deployment: Deployment, korean_speech: list[Path]
) -> None:
    clips = iter(korean_speech * 2)
    before = [
        leaves_message(f"message {n} just before the crash", f"+8210555520{n:02}", next(clips), KO)
        for n in range(1, 7)
    ]
    during = [
        leaves_message(f"message {n} during the outage", f"+8210555520{n:02}", next(clips), KO)
        for n in range(7, 13)
    ]
    first = [deployment.call(caller) for caller in before]
    for call in first:
        call.wait()
    assert not [p for call in first for p in what_went_wrong(call, deployment.default_locale)]
    # Their transcriptions and texts are queued or under way when Redis goes: lost with it.
    deployment.redis.crash()
    crashed_at = time.monotonic()
    late = [deployment.call(caller) for caller in during]
    for call in late:
        call.wait()
    heard = [p for call in late for p in what_went_wrong(call, deployment.default_locale)]
    time.sleep(max(0.0, crashed_at + OUTAGE_S - time.monotonic()))
    deployment.redis.start()

    lost = wait_for_recovery(deployment, first + late)
    assert not heard + lost, (
        f"Redis down {OUTAGE_S:.0f} s (and all it held lost) while messages arrived, then up "
        f"for at most {RECOVERY_S:.0f} s:\n" + "\n".join(heard + lost)
    )
