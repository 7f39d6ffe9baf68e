"""A PostgreSQL and a Redis of the test's own, to crash and start again: never the shared ones.

PostgreSQL: `initdb` into a temporary folder, served on a free port of 127.0.0.1; `crash()` is
`pg_ctl stop -m immediate` (the server dies without a checkpoint, as on a power cut or an OOM
kill), `start()` again on the same folder and port recovers it from its WAL. PostgreSQL refuses
to run as root, so as root its commands run as the `postgres` user.

Redis as the project runs it (scripts/services.sh; Debian's packaged RDB snapshots every few
minutes would not save a minute's messages either): no persistence. So a crash loses every
queued and unacknowledged task message, which is the broker fault the hotline must survive.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

POSTGRES_BINARIES = ("initdb", "pg_ctl")
POSTGRES_USER = "postgres"
START_TIMEOUT_S = 60


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl are: on the PATH, else Debian's newest /usr/lib/postgresql/N."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name)
    )
    return versions[-1] if versions else None


def require_fault_binaries() -> Path:
    """initdb, pg_ctl and redis-server: CI must have them; elsewhere the fault tests skip."""
    bindir = postgres_bindir()
    missing = [name for name in POSTGRES_BINARIES if not (bindir and (bindir / name).exists())]
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if os.geteuid() == 0 and not _user_exists(POSTGRES_USER):
        missing.append(f"a {POSTGRES_USER!r} user to run PostgreSQL as (this is root)")
    if not missing:
        assert bindir is not None
        return bindir
    reason = f"the fault tests need {', '.join(missing)}"
    if os.environ.get("CI"):
        pytest.fail(f"CI must have them: {reason}")
    pytest.skip(f"{reason} (present in CI)")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PrivatePostgres:
    """A PostgreSQL server of one test, in its own folder, on its own port."""

    def __init__(self, bindir: Path, port: int) -> None:
        self.bindir = bindir
        self.port = port
        # Not under pytest's tmp_path: as root that is private to root, and the server runs as
        # postgres.
        self.folder = Path(tempfile.mkdtemp(prefix="hotline-faults-pg-"))
        self.data = self.folder / "data"
        if os.geteuid() == 0:
            shutil.chown(self.folder, POSTGRES_USER)

    def _run(self, *args: str) -> None:
        as_postgres = ["runuser", "-u", POSTGRES_USER, "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*as_postgres, str(self.bindir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT_S + 10,
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", POSTGRES_USER, "-A", "trust", "-E", "UTF8")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
            # Only a crash of the machine needs fsync; we crash the server, not the machine.
            " -c fsync=off"
        )
        log = str(self.folder / "postgres.log")
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", log, "-w", "-o", options)

    def crash(self) -> None:
        """Stop at once: no checkpoint, every connection cut, as if the server died."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{POSTGRES_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def remove(self) -> None:
        """Stop (if running) and delete everything."""
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """A Redis server of one test, without persistence, on its own port."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        command += ["--logfile", str(self.folder / "redis.log")]
        self.process = subprocess.Popen(command)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError("the private Redis did not start")

    def crash(self) -> None:
        """Kill it: what it held in memory (queued and unacknowledged tasks) is gone."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def remove(self) -> None:
        if self.process is not None:
            self.crash()
