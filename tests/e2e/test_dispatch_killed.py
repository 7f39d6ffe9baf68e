"""A worker killed inside `calls.create`: the survey call is placed exactly once.

Real processes: a `hotline worker` (one pool process) and the Twilio REST double, which
creates the call at once but holds its answer, as a slow Twilio would. The pool process is
killed with SIGKILL while it waits; Celery redelivers the task (late acknowledgement), the
new process finds the follow-up PLACING under a fresh lease and leaves it; once the lease
expires the dispatcher (played here by the test, as beat would) publishes it again, and the
worker asks Twilio, finds the call the dead process placed, and adopts it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from cases.lifecycle import transition
from cases.models import CaseEvent, CaseSource, CaseStatus, Resident
from hotline import migrate
from hotline.app import create_app
from hotline.config import Settings
from hotline.db import db
from outreach import dispatcher
from outreach.models import FollowUp, FollowUpStatus
from tests.conftest import REDIS_URL, make_env, new_postgres_database
from tests.e2e.conftest import BIN, KOREAN_CENTRE, stop
from tests.e2e.test_worker_killed import children, wait_until
from twilio_double.rest import TwilioRestDouble

pytestmark = pytest.mark.slow
RESIDENT = "+8613800000001"


@pytest.fixture(params=["embedded", pytest.param("postgres-redis", marks=pytest.mark.postgres)])
def env(
    request: pytest.FixtureRequest, tmp_path: Path, rest: TwilioRestDouble
) -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        if request.param == "embedded":
            database = f"sqlite:///{tmp_path / 'hotline.db'}"
            broker = f"sqla+sqlite:///{tmp_path / 'broker.db'}"
        else:
            database = stack.enter_context(new_postgres_database())
            broker = f"{REDIS_URL}/{random.randint(1, 15)}"
            redis.Redis.from_url(broker).flushdb()
        yield make_env(
            tmp_path,
            database,
            TWILIO_API_BASE_URL=rest.base_url,
            HOTLINE_BROKER_URL=broker,
            HOTLINE_CALLING_HOURS="00:00-23:59",
            **KOREAN_CENTRE,
        )


def due_survey(app: Flask) -> int:
    """A resolved case whose survey call is due now."""
    resident = Resident(phone=RESIDENT, name="김영희", language="ko-KR")
    db.session.add(resident)
    from cases.models import Case

    case = Case(
        source=CaseSource.VOICEMAIL,
        phone=RESIDENT,
        locale="ko-KR",
        resident=resident,
        status=CaseStatus.ACCEPTED,
    )
    db.session.add(case)
    db.session.flush()
    transition(case, CaseStatus.RESOLVED, "staff", "가로등을 고쳤습니다")
    [follow_up] = db.session.scalars(select(FollowUp)).all()
    follow_up.due_at = datetime.now(UTC)
    db.session.commit()
    return follow_up.id


def test_killed_mid_dispatch_the_call_is_placed_exactly_once(
    tmp_path: Path, env: dict[str, str], rest: TwilioRestDouble
) -> None:
    migrate.upgrade(env["HOTLINE_DATABASE_URL"])
    app = create_app(Settings.from_env(env))
    log_path = tmp_path / "worker.log"
    log = log_path.open("wb")
    worker = subprocess.Popen(
        [str(BIN / "hotline"), "worker", "-Q", "celery", "--concurrency", "1"],
        env={**os.environ, **env},
        stdout=log,
        start_new_session=True,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: b" ready." in log_path.read_bytes(), 90, "worker start")
        # Twilio creates the call at once, then answers 10 s late: the worker is killed
        # after Twilio has the call and before we could store its SID.
        rest.delay_next(r"/Calls\.json$", 10, method="POST")
        with app.app_context():
            follow_up_id = due_survey(app)
            assert dispatcher.dispatch_due().follow_ups == 1

            def status() -> FollowUpStatus:
                db.session.expire_all()
                follow_up = db.session.get(FollowUp, follow_up_id)
                assert follow_up is not None
                return follow_up.status

            wait_until(lambda: len(rest.calls) == 1, 60, "calls.create reached Twilio")
            assert status() == FollowUpStatus.PLACING
            [child] = children(worker.pid)
            os.kill(child, signal.SIGKILL)

            def beat_then_placed() -> bool:
                dispatcher.dispatch_due()  # beat, every couple of seconds
                return status() == FollowUpStatus.AWAITING

            wait_until(beat_then_placed, 180, "the call adopted after the lease expired")
            follow_up = db.session.get(FollowUp, follow_up_id)
            assert follow_up is not None
            [call] = rest.calls
            assert follow_up.call_sid == call["sid"] and follow_up.attempts == 1
            placed = db.session.scalars(
                select(CaseEvent).where(CaseEvent.kind == "survey_call_placed")
            ).all()
            assert [event.detail["adopted"] for event in placed] == [True]
            db.session.remove()
            db.engine.dispose()
    finally:
        stop([worker], timeout=60)
        log.close()
    assert len(rest.calls) == 1
    assert b"WorkerLostError" in log_path.read_bytes()
