"""Dispatch 10,000 due follow-ups: how long it takes, and that each call is placed exactly once.

Real processes against the Twilio REST double (in this process), which counts the calls it
receives per follow-up (from each call's URL, /ivr/survey/<id>):

* embedded — `hotline run`: SQLite database, Celery over SQLite, one worker (2 pool
  processes on a 2-core machine) with beat inside it;
* postgres — PostgreSQL + Redis, `hotline worker --concurrency 2` and `hotline beat`.

The follow-ups are written (all due at once) after the worker is ready; the clock starts at
that commit. Beat runs the dispatcher every 15 s, so up to 15 s of the figure is the wait for
its first tick; "placing" is the time from the first call to the last.

    python benchmarks/dispatch.py [--count 10000] [--backend embedded|postgres|both]
                                  [--polling-interval 0.05]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._harness import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    BIN,
    PUBLIC_URL,
    REDIS_URL,
    free_port,
)
from tests.conftest import new_postgres_database  # noqa: E402
from twilio_double.rest import TwilioRestDouble  # noqa: E402

SURVEY_URL = re.compile(r"/ivr/survey/(\d+)$")
TIMEOUT_S = 1800


def hotline_env(
    data_dir: Path, database_url: str, broker_url: str, rest: TwilioRestDouble
) -> dict[str, str]:
    env = {
        "HOTLINE_DATA_DIR": str(data_dir),
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_PUBLIC_URL": PUBLIC_URL,
        "HOTLINE_NUMBER": "+8610123456",
        "HOTLINE_CALLING_HOURS": "00:00-23:59",  # the benchmark may run at any hour
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": rest.base_url,
    }
    if broker_url:
        env["HOTLINE_BROKER_URL"] = broker_url
    return env


def _worker_with_polling(interval: float) -> list[str]:
    """The embedded worker (with beat) as `hotline run` starts it, polling its SQLite broker
    every `interval` seconds instead of kombu's default 1 s."""
    # kombu's SQLAlchemy transport hands its transport options to create_engine(), so the
    # interval can only be set on the transport class.
    code = (
        "import kombu.transport.sqlalchemy as sqla; "
        f"sqla.Transport.polling_interval = {interval}; "
        "from hotline.worker import celery; "
        "celery.worker_main(['worker', '--beat', '-Q', 'celery,speech', '--loglevel', 'INFO'])"
    )
    return [sys.executable, "-c", code]


@contextmanager
def processes(
    backend: str, rest: TwilioRestDouble, temp: Path, polling: float | None = None
) -> Iterator[dict[str, str]]:
    """The hotline's processes for `backend`, started and ready; stopped at the end."""
    with ExitStack() as stack:
        if backend == "postgres":
            database = stack.enter_context(new_postgres_database())
            broker = f"{REDIS_URL}/{random.randint(1, 15)}"
            import redis

            redis.Redis.from_url(broker).flushdb()
            commands = [
                ["worker", "-Q", "celery", "--concurrency", "2"],
                ["beat"],
            ]
        else:
            database, broker = f"sqlite:///{temp / 'hotline.db'}", ""
            commands = [["run", "--port", str(free_port())]]
        if backend == "embedded" and polling is not None:
            commands = [_worker_with_polling(polling)]
        env = hotline_env(temp / "data", database, broker, rest)
        full_env = {**os.environ, **env}
        subprocess.run([str(BIN / "hotline"), "db", "upgrade"], env=full_env, check=True)
        logs = []
        for index, command in enumerate(commands):
            log = temp / f"process-{index}.log"
            logs.append(log)
            program = [] if command[0] == sys.executable else [str(BIN / "hotline")]
            process = subprocess.Popen(
                [*program, *command],
                env=full_env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            stack.callback(_stop, process)
        _wait_for(logs[0], " ready.", 180)
        time.sleep(8)  # each pool process loads the speech model after "ready"
        yield env


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait_for(log: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{log.name}: no {text!r} after {timeout} s")


def seed(env: dict[str, str], count: int) -> tuple[list[int], datetime]:
    """`count` resolved cases, each with a survey call due now; returns their follow-up ids."""
    from sqlalchemy import insert, select

    from cases.models import Case, CaseSource, CaseStatus
    from hotline.app import create_app
    from hotline.config import Settings
    from hotline.db import db
    from outreach.models import FollowUp, FollowUpKind

    app = create_app(Settings.from_env({**os.environ, **env}))
    with app.app_context():
        moment = datetime.now(UTC)
        cases = [
            {
                "source": CaseSource.VOICEMAIL,
                "phone": f"+86139{index:08d}",
                "locale": "zh-CN",
                "status": CaseStatus.RESOLVED,
                "resolution_note": "已处理",
                "resolved_at": moment,
            }
            for index in range(count)
        ]
        db.session.execute(insert(Case), cases)
        case_ids = db.session.scalars(select(Case.id).order_by(Case.id)).all()
        follow_ups = [
            {"case_id": case_id, "kind": FollowUpKind.SURVEY_CALL, "due_at": moment}
            for case_id in case_ids
        ]
        db.session.execute(insert(FollowUp), follow_ups)
        db.session.commit()
        ids = list(db.session.scalars(select(FollowUp.id)))
        db.session.remove()
        db.engine.dispose()
    return ids, moment


def placed_count(env: dict[str, str]) -> int:
    from sqlalchemy import create_engine, func, select

    from outreach.models import FollowUp, FollowUpStatus

    engine = create_engine(env["HOTLINE_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return (
                connection.scalar(
                    select(func.count()).where(FollowUp.status == FollowUpStatus.AWAITING)
                )
                or 0
            )
    finally:
        engine.dispose()


def run(backend: str, count: int, polling: float | None = None) -> None:
    with TwilioRestDouble(ACCOUNT_SID, AUTH_TOKEN) as rest, tempfile.TemporaryDirectory() as temp:
        arrivals: list[float] = []
        rest.on_call_created = lambda call: arrivals.append(time.perf_counter())
        with processes(backend, rest, Path(temp), polling) as env:
            ids, _ = seed(env, count)
            started = time.perf_counter()
            placed = 0
            while placed < count and time.perf_counter() - started < TIMEOUT_S:
                time.sleep(1.0)
                placed = placed_count(env)
            elapsed = time.perf_counter() - started
            time.sleep(5)  # anything placed late (a duplicate) would show up now
            calls = rest.calls
        span = (max(arrivals) - min(arrivals)) if arrivals else 0.0
        label = backend if polling is None else f"{backend}, broker polled every {polling} s"
        report(label, count, ids, calls, elapsed, placed, span)


def report(
    backend: str,
    count: int,
    ids: list[int],
    calls: list[dict[str, object]],
    elapsed: float,
    placed: int,
    span: float,
) -> None:
    per_follow_up: Counter[int] = Counter()
    for call in calls:
        url = str(call["request"]["Url"])  # type: ignore[index]
        match = SURVEY_URL.search(url)
        if match:
            per_follow_up[int(match.group(1))] += 1
    duplicates = sum(n - 1 for n in per_follow_up.values() if n > 1)
    missing = sum(1 for follow_up_id in ids if per_follow_up[follow_up_id] == 0)
    print(f"\n== {backend}: {count} due follow-ups")
    print(f"  all placed (AWAITING) after   {elapsed:8.1f} s   ({placed} placed)")
    print(f"  calls/s, due to last placed   {count / elapsed:8.1f}")
    print(f"  calls received by Twilio      {len(calls):8d}")
    print(f"  duplicates                    {duplicates:8d}")
    print(f"  missing                       {missing:8d}")
    rate = len(calls) / max(span, 1e-9)
    print(f"  placing, first to last call   {span:8.1f} s   ({rate:.1f} calls/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--backend", choices=["embedded", "postgres", "both"], default="both")
    parser.add_argument(
        "--polling-interval",
        type=float,
        help="embedded only: poll the SQLite broker this often (hotline's own setting: 0.05 s)",
    )
    args = parser.parse_args()
    backends = ["embedded", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        run(backend, args.count, args.polling_interval)


if __name__ == "__main__":
    main()
