"""Shared by the benchmarks: start a real hotline (subprocesses) against the Twilio double."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.conftest import new_postgres_database

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "bench-auth-token"
PUBLIC_URL = "https://hotline.example.org"
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Hotline:
    base_url: str
    env: dict[str, str]
    data_dir: Path


@contextmanager
def running_hotline(
    backend: str,
    twilio_base_url: str,
    *,
    web: bool = True,
    workers: int = 0,
    processes: int = 2,
    threads: int = 8,
) -> Iterator[Hotline]:
    """`hotline web` (+ optionally `hotline worker -c N`) on `embedded` or `postgres` storage."""
    with tempfile.TemporaryDirectory() as temp, _database(backend, Path(temp)) as database_url:
        data_dir = Path(temp) / "data"
        env = {
            **os.environ,
            "HOTLINE_DATA_DIR": str(data_dir),
            "HOTLINE_DATABASE_URL": database_url,
            "HOTLINE_PUBLIC_URL": PUBLIC_URL,
            "HOTLINE_NUMBER": "+8610123456",
            "HOTLINE_ON_DUTY_NUMBERS": "+8613900000009",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": twilio_base_url,
            "HOTLINE_RETRY_BASE_SECONDS": "1",
        }
        if backend == "postgres":
            redis_db = random.randint(1, 15)
            env["HOTLINE_BROKER_URL"] = f"{REDIS_URL}/{redis_db}"
            import redis

            redis.Redis.from_url(env["HOTLINE_BROKER_URL"]).flushdb()
        subprocess.run(
            [str(BIN / "hotline"), "db", "upgrade"], env=env, check=True, capture_output=True
        )
        port = free_port()
        commands = []
        if web:
            commands.append(
                [str(BIN / "hotline"), "web", "--port", str(port), "--threads", str(threads)]
            )
        if workers:
            commands.append(
                [
                    str(BIN / "hotline"),
                    "worker",
                    "-Q",
                    "celery,speech",
                    "--concurrency",
                    str(workers),
                ]
            )
        logs = Path(temp) / "logs"
        logs.mkdir()
        processes = [
            subprocess.Popen(
                command, env=env, stdout=(logs / f"{i}.log").open("wb"), stderr=subprocess.STDOUT
            )
            for i, command in enumerate(commands)
        ]
        try:
            base_url = f"http://127.0.0.1:{port}"
            if web:
                _wait_healthy(base_url)
            yield Hotline(base_url, env, data_dir)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)


@contextmanager
def _database(backend: str, temp: Path) -> Iterator[str]:
    if backend == "postgres":
        with new_postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{temp / 'hotline.db'}"


def _wait_healthy(base_url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise TimeoutError("hotline did not start")
