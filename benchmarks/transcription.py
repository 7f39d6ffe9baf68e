"""Transcription: the whole voicemail pipeline against bare Vosk, and worker throughput.

1. Real-time factor (processing seconds / audio seconds) per clip, for the 10 Korean 8 kHz
   clips of shared/speech: bare Vosk (the WAV as it is, as shared/speech/README.md measured),
   against the voicemail task (download from the Twilio double with basic auth, convert,
   decode, save the case) run in-process on SQLite. Model loading is excluded from both.
2. Throughput: the same clips, queued as voicemails, drained by a real `hotline worker` with
   1 and then 2 worker processes (embedded SQLite broker); messages per minute and the ratio.

    python benchmarks/transcription.py [--copies 2] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._harness import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    running_hotline,
)
from benchmarks.transcription_bare import bare  # noqa: E402
from twilio_double.rest import TwilioRestDouble  # noqa: E402

SPEECH = ROOT.parent / "shared" / "speech"


def clips() -> list[tuple[Path, float]]:
    with (SPEECH / "manifest.tsv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["lang"] == "ko"]
    result = []
    for row in rows:
        path = SPEECH / row["file_8k"]
        with wave.open(str(path)) as audio:
            result.append((path, audio.getnframes() / audio.getframerate()))
    return result


def hotline_env(data_dir: Path, database_url: str, rest: TwilioRestDouble) -> dict[str, str]:
    return {
        "HOTLINE_DATA_DIR": str(data_dir),
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_DEFAULT_LOCALE": "ko-KR",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": rest.base_url,
    }


def note_voicemail(rest: TwilioRestDouble, path: Path, index: int) -> int:
    """What the IVR's webhooks leave behind for one message: call, case, ready recording."""
    from cases import intake, recordings, services

    call = services.record_call(f"CA{index:032d}", f"+8210{index:08d}", "+8210", "inbound", "ko-KR")
    sid = rest.add_recording(call.call_sid, path)
    _, recording, _ = intake.case_for_recording(sid, call.call_sid, "ko-KR")
    recordings.note_recording_status(recording, "completed", 10)
    return recording.id


def real_time_factors(rest: TwilioRestDouble) -> None:
    from hotline.app import create_app
    from hotline.config import Settings
    from hotline.db import db
    from speech.models import resolve_model_path
    from speech.recognizer import load_model
    from tasks.recordings import transcribe_recording

    model = load_model(resolve_model_path("ko-KR"))
    with tempfile.TemporaryDirectory() as temp:
        env = hotline_env(Path(temp), f"sqlite:///{temp}/bench.db", rest)
        env["HOTLINE_BROKER_URL"] = "memory://"
        app = create_app(Settings.from_env(env))
        print(f"{'clip':28} {'audio s':>8} {'bare RTF':>9} {'pipeline RTF':>13} {'ratio':>6}")
        bare_total = pipe_total = audio_total = 0.0
        ratios = []
        with app.app_context():
            db.create_all()
            for index, (path, seconds) in enumerate(clips()):
                started = time.perf_counter()
                bare(model, path)
                bare_s = time.perf_counter() - started
                recording_id = note_voicemail(rest, path, index)
                started = time.perf_counter()
                transcribe_recording.apply(args=[recording_id])
                pipe_s = time.perf_counter() - started
                bare_total, pipe_total, audio_total = (
                    bare_total + bare_s,
                    pipe_total + pipe_s,
                    audio_total + seconds,
                )
                ratios.append(pipe_s / bare_s)
                print(
                    f"{path.name:28} {seconds:8.2f} {bare_s / seconds:9.3f} "
                    f"{pipe_s / seconds:13.3f} {pipe_s / bare_s:6.2f}"
                )
            db.session.remove()
            db.engine.dispose()
        print(
            f"{'all':28} {audio_total:8.2f} {bare_total / audio_total:9.3f} "
            f"{pipe_total / audio_total:13.3f} {pipe_total / bare_total:6.2f}"
            f"   (median per-clip ratio {statistics.median(ratios):.2f})"
        )


def throughput(rest: TwilioRestDouble, workers: int, copies: int) -> float:
    """Messages per minute drained by `hotline worker --concurrency N` (after it is ready)."""
    from sqlalchemy import create_engine, func, select

    from cases.models import Recording, RecordingStatus

    with running_hotline("embedded", rest.base_url, web=False, workers=workers) as hotline:
        env = {
            **os.environ,
            **hotline_env(hotline.data_dir, hotline.env["HOTLINE_DATABASE_URL"], rest),
        }
        _wait_for_worker(hotline.data_dir.parent / "logs", workers)
        from cases.recordings import queue_transcription
        from hotline.app import create_app
        from hotline.config import Settings

        app = create_app(
            Settings.from_env(
                {
                    **env,
                    "HOTLINE_BROKER_URL": hotline.env.get(
                        "HOTLINE_BROKER_URL", f"sqla+sqlite:///{hotline.data_dir / 'broker.db'}"
                    ),
                }
            )
        )
        total = len(clips()) * copies
        with app.app_context():
            ids = [
                note_voicemail(rest, path, workers * 1000 + copy * 100 + index)
                for copy in range(copies)
                for index, (path, _) in enumerate(clips())
            ]
            started = time.perf_counter()
            for recording_id in ids:
                queue_transcription(recording_id)
        engine = create_engine(hotline.env["HOTLINE_DATABASE_URL"])
        done = 0
        while done < total:
            time.sleep(0.5)
            with engine.connect() as connection:
                done = (
                    connection.scalar(
                        select(func.count()).where(Recording.status != RecordingStatus.PENDING)
                    )
                    or 0
                )
        elapsed = time.perf_counter() - started
        engine.dispose()
    rate = total / elapsed * 60
    print(f"{workers} worker process(es): {total} messages in {elapsed:.1f} s = {rate:.1f}/min")
    return rate


def _wait_for_worker(logs: Path, processes: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = "".join(p.read_text(errors="replace") for p in logs.glob("*.log"))
        if " ready." in text:
            time.sleep(3 + 2 * processes)  # each child loads the model after "ready"
            return
        time.sleep(0.5)
    raise TimeoutError("worker did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=2, help="times each clip is queued")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    with TwilioRestDouble(ACCOUNT_SID, AUTH_TOKEN) as rest:
        real_time_factors(rest)
        if not args.skip_throughput:
            one = throughput(rest, 1, args.copies)
            two = throughput(rest, 2, args.copies)
            print(f"throughput with 2 worker processes / 1: {two / one:.2f}x")


if __name__ == "__main__":
    main()
