"""Emergency words after a worker dies: seconds from the recording to the on-duty staff's text.

A real production layout on this machine: PostgreSQL (a database of its own), Redis (a
database number of its own), two `hotline worker -Q celery,speech --concurrency 1` and one
`hotline beat`, against the Twilio REST double in this process. Each message is a voicemail of
real Korean speech (clips of shared/speech put end to end) whose last clip holds an emergency
word ("피가", blood), so its alert needs the whole message decoded.

For each length, once as it normally goes, and once with the worker that took the
transcription killed (SIGKILL to its whole process group: the Celery parent and its child,
as when a machine dies) `--kill-after` seconds into the transcription. The clock starts when
Twilio's recording-status callback is noted (the message is complete) and stops when the
double receives the text to the on-duty number.

    python benchmarks/worker_killed.py [--lengths 10,30,60] [--kill-after 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._harness import ACCOUNT_SID, AUTH_TOKEN, BIN, PUBLIC_URL, REDIS_URL  # noqa: E402
from tests.conftest import new_postgres_database  # noqa: E402
from twilio_double.rest import TwilioRestDouble  # noqa: E402

SPEECH = ROOT.parent / "shared" / "speech"
EMERGENCY_CLIP = "ko/zeroth_104_003_0294_8k.wav"  # "커피 가 ...": Vosk hears 피가, blood
ON_DUTY = "+8613900000009"
HOTLINE_NUMBER = "+8610123456"


def message_of(seconds: float) -> bytes:
    """About `seconds` of Korean speech at 8 kHz, the emergency clip last."""
    with (SPEECH / "manifest.tsv").open(encoding="utf-8") as handle:
        clips = [r["file_8k"] for r in csv.DictReader(handle, delimiter="\t") if r["lang"] == "ko"]
    others = [clip for clip in clips if clip != EMERGENCY_CLIP]
    frames: list[bytes] = []
    total = 0.0
    emergency = _frames(SPEECH / EMERGENCY_CLIP)
    while total + len(emergency) / 16000 < seconds - 1:
        clip = _frames(SPEECH / others[len(frames) % len(others)])
        frames.append(clip)
        total += len(clip) / 16000
    frames.append(emergency)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(frames))
    return buffer.getvalue()


def _frames(path: Path) -> bytes:
    with wave.open(str(path)) as audio:
        return audio.readframes(audio.getnframes())


@contextmanager
def production(rest: TwilioRestDouble) -> Iterator[dict[str, Any]]:
    """PostgreSQL + Redis, two workers and beat, each in its own process group."""
    with tempfile.TemporaryDirectory() as temp, new_postgres_database() as database_url:
        env = {
            **os.environ,
            "HOTLINE_DATA_DIR": str(Path(temp) / "data"),
            "HOTLINE_DATABASE_URL": database_url,
            "HOTLINE_BROKER_URL": f"{REDIS_URL}/{random.randint(1, 15)}",
            "HOTLINE_PUBLIC_URL": PUBLIC_URL,
            "HOTLINE_NUMBER": HOTLINE_NUMBER,
            "HOTLINE_ON_DUTY_NUMBERS": ON_DUTY,
            "HOTLINE_DEFAULT_LOCALE": "ko-KR",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": rest.base_url,
        }
        import redis

        redis.Redis.from_url(env["HOTLINE_BROKER_URL"]).flushdb()
        hotline = str(BIN / "hotline")
        subprocess.run([hotline, "db", "upgrade"], env=env, check=True, capture_output=True)
        logs = Path(temp) / "logs"
        logs.mkdir()
        processes: dict[str, subprocess.Popen[bytes]] = {}

        def start(name: str, *command: str) -> None:
            processes[name] = subprocess.Popen(
                [hotline, *command],
                env=env,
                stdout=(logs / f"{name}.log").open("ab"),
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed whole
            )

        for name in ("worker-a", "worker-b"):
            start(name, *worker_command(name))
        start("beat", "beat")
        try:
            _wait_ready(logs, ("worker-a", "worker-b"))
            yield {"env": env, "logs": logs, "processes": processes, "start": start}
        finally:
            for process in processes.values():
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes.values():
                process.wait(timeout=60)


def _wait_ready(logs: Path, names: tuple[str, ...], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(" ready." in (logs / f"{name}.log").read_text(errors="replace") for name in names):
            time.sleep(8)  # each child loads the speech model after "ready"
            return
        time.sleep(0.5)
    raise TimeoutError("the workers did not start")


def hotline_app(env: dict[str, str]) -> Any:
    from hotline.app import create_app
    from hotline.config import Settings

    return create_app(Settings.from_env(env))


def leave_message(app: Any, rest: TwilioRestDouble, audio: bytes, index: int) -> int:
    """What the two recording webhooks do once the caller hung up; returns the recording id."""
    from cases import intake, recordings, services

    with app.app_context():
        caller = f"+8210{index:08d}"
        call = services.record_call(f"CA{index:032d}", caller, HOTLINE_NUMBER, "inbound", "ko-KR")
        sid = rest.add_recording(call.call_sid, audio)
        recording, _ = intake.note_voicemail(sid, call.call_sid, "ko-KR")
        recordings.note_recording_status(recording, "completed", len(audio) / 16000)
        recordings.queue_transcription(recording.id)
        return recording.id


def transcribing_worker(logs: Path, timeout: float = 60) -> str:
    """Which worker received the transcription (each run starts with empty logs)."""
    needle = b"tasks.recordings.transcribe_recording["
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name in ("worker-a", "worker-b"):
            if needle in (logs / f"{name}.log").read_bytes():
                return name
        time.sleep(0.05)
    raise TimeoutError("no worker took the transcription")


def run_one(
    setup: dict[str, Any], rest: TwilioRestDouble, seconds: float, kill_after: float | None
) -> tuple[float, float]:
    """(audio seconds, seconds from the complete recording to the on-duty text)."""
    alerted = threading.Event()
    rest.on_message_created = lambda message: alerted.set() if message["to"] == ON_DUTY else None
    audio = message_of(seconds)
    for name in ("worker-a", "worker-b"):
        (setup["logs"] / f"{name}.log").write_bytes(b"")
    started = time.monotonic()
    leave_message(hotline_app(setup["env"]), rest, audio, random.randint(1, 10**8))
    if kill_after is not None:
        victim = transcribing_worker(setup["logs"])
        time.sleep(kill_after)
        process = setup["processes"][victim]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        print(f"  killed {victim} {time.monotonic() - started:.1f} s after the recording")
        # Its supervisor (systemd) starts it again; it loads its speech model anew.
        setup["start"](victim, *worker_command(victim))
    if not alerted.wait(timeout=900):
        raise TimeoutError("no alert within 15 minutes")
    latency = time.monotonic() - started
    if kill_after is not None:
        _wait_ready(setup["logs"], (victim,))  # back, with its model, before the next run
    return len(audio) / 16000, latency


def worker_command(name: str) -> tuple[str, ...]:
    return ("worker", "-Q", "celery,speech", "--concurrency", "1", "-n", f"{name}@%h")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", default="10,30,60", help="message lengths, seconds")
    parser.add_argument("--kill-after", type=float, default=3.0)
    args = parser.parse_args()
    lengths = [float(x) for x in args.lengths.split(",")]
    with TwilioRestDouble(ACCOUNT_SID, AUTH_TOKEN) as rest, production(rest) as setup:
        print(f"{'message':>8} {'worker':>14} {'alert after':>12}")
        for seconds in lengths:
            for kill in (None, args.kill_after):
                length, latency = run_one(setup, rest, seconds, kill)
                how = "normal" if kill is None else f"killed at {kill:.0f}s"
                print(f"{length:7.1f}s {how:>14} {latency:11.1f}s", flush=True)


if __name__ == "__main__":
    main()
