"""The hotline as production runs it, on a PostgreSQL and a Redis of the test's own, and what
staff and callers see of it afterwards: cases through the API, texts at Twilio (the double)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from tests.conftest import ON_DUTY
from tests.e2e.conftest import BIN, KOREAN_CENTRE, RunningHotline
from tests.faults.calls import Caller, PlacedCall, place_call, recordings_of
from tests.faults.services import PrivatePostgres, PrivateRedis
from twilio_double.rest import TwilioRestDouble

HOTLINE = str(BIN / "hotline")
# The README's production layout: the `celery` queue (texts, sweeps) on a worker of its own, so
# that a worker busy transcribing never holds up the sweeps; transcription on another.
WORKERS = [
    [HOTLINE, "worker", "-Q", "celery"],
    [HOTLINE, "worker", "-Q", "speech", "--concurrency", "2"],
]
SPEECH_WORKER = 2  # web, the two workers, beat: the order of RunningHotline.processes
# The promise: within five minutes of the service coming back.
RECOVERY_S = float(os.environ.get("HOTLINE_FAULTS_RECOVERY_SECONDS", "300"))
# After everything looks done, one more dispatcher tick (15 s) and a bit: a second text or a
# second case would show up here.
SETTLE_S = 16.0
POLL_S = 2.0


@dataclass
class Deployment:
    running: RunningHotline
    postgres: PrivatePostgres
    redis: PrivateRedis
    rest: TwilioRestDouble
    log_dir: Path
    token: str = ""

    default_locale = KOREAN_CENTRE["HOTLINE_DEFAULT_LOCALE"]

    @property
    def database_url(self) -> str:
        return self.running.env["HOTLINE_DATABASE_URL"]

    def call(self, caller: Caller, release: threading.Event | None = None) -> PlacedCall:
        return place_call(self.running.base_url, self.rest, caller, release)

    # ------------------------------------------------------------- what staff see
    def cases(self) -> list[dict[str, Any]]:
        """Every case, as the API lists them (newest first)."""
        response = requests.get(
            f"{self.running.base_url}/api/cases",
            params={"limit": "200"},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        response.raise_for_status()
        return list(response.json())

    def events(self, case_id: int) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.running.base_url}/api/cases/{case_id}",
            params={"include": "events"},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        response.raise_for_status()
        return list(response.json()["events"])

    def call_backs(self) -> list[dict[str, Any]]:
        """The calls staff are asked to call back (messages without speech)."""
        response = requests.get(
            f"{self.running.base_url}/api/callbacks",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        response.raise_for_status()
        return list(response.json())

    def texts_to(self, phone: str) -> list[str]:
        """The bodies of the texts the hotline had Twilio send to this phone."""
        return [m["body"] for m in self.rest.messages if m["to"] == phone]

    def transcription_attempts(self, recording_sid: str) -> int:
        """How many times a worker has taken this recording up (read from the database)."""
        return int(self._recording_column("attempts", recording_sid) or 0)

    def wait_until_transcribing(self, recording_sids: list[str], timeout: float = 60) -> None:
        """Until a worker has taken up each of these recordings."""
        deadline = time.monotonic() + timeout
        while any(self.transcription_attempts(sid) < 1 for sid in recording_sids):
            if time.monotonic() > deadline:
                raise TimeoutError("the transcriptions never started")
            time.sleep(0.2)

    def recording_status(self, recording_sid: str) -> str | None:
        """pending, transcribed or failed; None when the hotline has no row for it."""
        status = self._recording_column("status", recording_sid)
        return None if status is None else str(status)

    def _recording_column(self, column: str, recording_sid: str) -> Any:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return connection.execute(
                    text(f"SELECT {column} FROM recordings WHERE recording_sid = :sid"),
                    {"sid": recording_sid},
                ).scalar()
        finally:
            engine.dispose()

    # ------------------------------------------------------------------ processes
    def wait_for_worker(self, log: Path, timeout: float = 120) -> None:
        """Until the worker writing this log takes tasks."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in log.read_bytes():
                return
            time.sleep(0.2)
        raise TimeoutError(f"the worker did not start: see {log}")

    def kill_speech_worker(self) -> None:
        """SIGKILL the transcribing worker and its pool at once, as when its machine dies."""
        worker = self.running.processes[SPEECH_WORKER]
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        for pid in [worker.pid, *map(int, children)]:
            os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=30)

    def start_speech_worker(self) -> None:
        """A new worker in place of the dead one, as its supervisor (systemd...) starts it."""
        log_path = self.log_dir / "process-9.log"  # shown with the others after the test
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                WORKERS[1],
                env=self.running.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.processes[SPEECH_WORKER] = process
        self.wait_for_worker(log_path)

    def dead_processes(self) -> list[str]:
        """Processes of the hotline that are gone (nobody restarts them here)."""
        return [
            f"`hotline {_command_of(p)}` exited with {p.returncode}"
            for p in self.running.processes
            if p.poll() is not None
        ]


def _command_of(process: subprocess.Popen[bytes]) -> str:
    args = process.args
    return str(args[1]) if isinstance(args, list) else str(args)


# ------------------------------------------------------------------------ outcomes
def voicemail_problems(deployment: Deployment, calls: list[PlacedCall]) -> list[str]:
    """What is still wrong with these calls' messages: each must be one case (not a call back:
    they hold speech), transcribed once, its number texted to the caller once."""
    voicemails = [c for c in deployment.cases() if c["source"] == "voicemail"]
    call_backs = {c["recording_sid"] for c in deployment.call_backs()}
    problems = []
    for call in calls:
        label, phone = call.caller.label, call.caller.phone
        mine = [case for case in voicemails if case["phone"] == phone]
        if len(mine) == 1:
            problems += [f"{label}: {p}" for p in _case_problems(deployment, phone, mine[0])]
        else:
            problems.append(f"{label}: {len(mine)} cases ({_recording_state(deployment, call)})")
        if call_backs & set(recordings_of(call)):
            problems.append(f"{label}: on the call-back list, though it holds speech")
    phones = {call.caller.phone for call in calls}
    strays = [case["number"] for case in voicemails if case["phone"] not in phones]
    if strays:
        problems.append(f"voicemail cases that are no caller's: {strays}")
    return problems


def _recording_state(deployment: Deployment, call: PlacedCall) -> str:
    """Where the message is, when it is not a case: for whoever reads the failure."""
    sids = recordings_of(call)
    if len(sids) != 1:
        return f"the call recorded {len(sids)} messages"
    status = deployment.recording_status(sids[0])
    if status is None:
        return "the hotline has no record of the recording"
    attempts = deployment.transcription_attempts(sids[0])
    return f"recording {status}, worker attempts: {attempts}"


def _case_problems(deployment: Deployment, phone: str, case: dict[str, Any]) -> list[str]:
    problems = []
    if not case["transcript"]:
        state = f"error {case['error']!r}" if case["error"] else "still waiting"
        problems.append(f"case {case['number']} has no transcript ({state})")
    transcribed = [e for e in deployment.events(case["id"]) if e["kind"] == "transcribed"]
    if case["transcript"] and len(transcribed) != 1:
        problems.append(f"case {case['number']} was transcribed {len(transcribed)} times")
    texts = deployment.texts_to(phone)
    with_number = [body for body in texts if _mentions(body, case["number"])]
    if len(with_number) != 1 or len(texts) != 1:
        problems.append(
            f"case {case['number']}: its number was texted {len(with_number)} times "
            f"({len(texts)} texts to the caller in all)"
        )
    return problems


def emergency_problems(deployment: Deployment, calls: list[PlacedCall]) -> list[str]:
    """Each caller who pressed 9: one emergency case, the on-duty staff texted about it once."""
    emergencies = [c for c in deployment.cases() if c["source"] == "emergency_call"]
    alerts = deployment.texts_to(ON_DUTY)
    problems = []
    for call in calls:
        mine = [case for case in emergencies if case["phone"] == call.caller.phone]
        if len(mine) != 1:
            problems.append(f"{call.caller.label}: {len(mine)} emergency cases")
            continue
        told = [body for body in alerts if _mentions(body, mine[0]["number"])]
        if len(told) != 1:
            problems.append(f"{call.caller.label}: on-duty staff texted {len(told)} times")
    return problems


def _mentions(body: str, number: str) -> bool:
    return re.search(rf"(?<!\d){re.escape(number)}(?!\d)", body) is not None


def outcome_problems(deployment: Deployment, calls: list[PlacedCall]) -> list[str]:
    try:
        return voicemail_problems(
            deployment, [c for c in calls if c.caller.wants == "voicemail"]
        ) + emergency_problems(deployment, [c for c in calls if c.caller.wants == "emergency"])
    except requests.RequestException as error:
        return [f"the API does not answer: {error}"]


def wait_for_recovery(
    deployment: Deployment, calls: list[PlacedCall], within: float = RECOVERY_S
) -> list[str]:
    """Wait (at most `within` seconds) until every message is one case, transcribed, its number
    texted once, and every 9 one emergency case, its alert texted once; then a little longer,
    for anything done twice. What is still wrong, if anything."""
    started = time.monotonic()
    deadline = started + within
    while outcome_problems(deployment, calls) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    problems = outcome_problems(deployment, calls)
    # The figure for a closing note (`pytest -m faults -rP` shows it).
    print(
        f"{len(calls)} calls: all handled {time.monotonic() - started:.0f} s after recovery"
        if not problems
        else f"{len(problems)} problems after {within:.0f} s"
    )
    if not problems:
        time.sleep(SETTLE_S)
        problems = outcome_problems(deployment, calls)
    return problems + deployment.dead_processes()
