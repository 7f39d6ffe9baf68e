"""The hotline as production runs it, on a PostgreSQL and a Redis of the test's own, and what
staff and callers see of it afterwards: cases through the API, texts at Twilio (the double)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from tests.e2e.conftest import BIN, KOREAN_CENTRE, RunningHotline
from tests.faults.calls import Caller, PlacedCall, place_call
from tests.faults.services import PrivatePostgres, PrivateRedis
from twilio_double.rest import TwilioRestDouble

WORKER = 1  # web, worker, beat: the order of RunningHotline.processes
WORKER_COMMAND = [str(BIN / "hotline"), "worker", "-Q", "celery,speech", "--concurrency", "2"]
# The promise: within five minutes of the service coming back.
RECOVERY_S = float(os.environ.get("HOTLINE_FAULTS_RECOVERY_SECONDS", "300"))
# After everything looks done, one more dispatcher tick (15 s) and a bit: a second text or a
# second case would show up here.
SETTLE_S = 20.0
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

    def recording_status(self, recording_sid: str) -> str:
        return str(self._recording_column("status", recording_sid))

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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in log.read_bytes():
                return
            time.sleep(0.2)
        raise TimeoutError(f"the worker did not start: see {log}")

    def kill_worker(self) -> None:
        """SIGKILL the worker and its pool processes at once, as when its machine dies."""
        worker = self.running.processes[WORKER]
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        for pid in [worker.pid, *map(int, children)]:
            os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=30)

    def start_worker(self) -> None:
        """A new worker in place of the dead one, as its supervisor (systemd...) starts it."""
        log_path = self.log_dir / "process-3.log"  # shown with the others after the test
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                WORKER_COMMAND, env=self.running.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.running.processes[WORKER] = process
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
def voicemail_problems(deployment: Deployment, callers: list[Caller]) -> list[str]:
    """What is still wrong with these callers' messages: each must be one case, transcribed
    once, its number texted to the caller once."""
    try:
        voicemails = [c for c in deployment.cases() if c["source"] == "voicemail"]
        problems = []
        for caller in callers:
            mine = [case for case in voicemails if case["phone"] == caller.phone]
            if len(mine) != 1:
                problems.append(f"{caller.label}: {len(mine)} cases for one message")
                continue
            problems += [
                f"{caller.label}: {p}" for p in _case_problems(deployment, caller, mine[0])
            ]
    except requests.RequestException as error:
        return [f"the API does not answer: {error}"]
    phones = {caller.phone for caller in callers}
    strays = [case["number"] for case in voicemails if case["phone"] not in phones]
    if strays:
        problems.append(f"voicemail cases that are no caller's: {strays}")
    return problems


def _case_problems(deployment: Deployment, caller: Caller, case: dict[str, Any]) -> list[str]:
    problems = []
    if not case["transcript"]:
        state = f"error {case['error']!r}" if case["error"] else "still waiting"
        problems.append(f"case {case['number']} has no transcript ({state})")
    transcribed = [e for e in deployment.events(case["id"]) if e["kind"] == "transcribed"]
    if case["transcript"] and len(transcribed) != 1:
        problems.append(f"case {case['number']} was transcribed {len(transcribed)} times")
    texts = deployment.texts_to(caller.phone)
    with_number = [body for body in texts if case["number"] in body]
    if len(with_number) != 1 or len(texts) != 1:
        problems.append(
            f"case {case['number']}: its number was texted {len(with_number)} times "
            f"({len(texts)} texts to the caller in all)"
        )
    return problems


def wait_for_voicemails(
    deployment: Deployment, callers: list[Caller], within: float = RECOVERY_S
) -> list[str]:
    """Wait (at most `within` seconds) until every message is one case, transcribed, its number
    texted once; then a little longer, for anything sent twice. What is still wrong, if any."""
    deadline = time.monotonic() + within
    while voicemail_problems(deployment, callers) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    problems = voicemail_problems(deployment, callers)
    if not problems:
        time.sleep(SETTLE_S)
        problems = voicemail_problems(deployment, callers)
    return problems + deployment.dead_processes()
