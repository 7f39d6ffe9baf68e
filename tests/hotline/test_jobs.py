"""Tasks published after commit (never on rollback), and periodic jobs one run at a time."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Task
from flask import Flask

from cases.models import Resident
from hotline.app import create_app
from hotline.clock import now
from hotline.config import Settings
from hotline.db import db
from hotline.jobs import acquire_lock, beat_schedule, last_success, release_lock
from tasks import followups
from tests.conftest import make_env
from tests.speech.fakes import FakeRecognizer


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[object, ...]]]:
    """What actually reaches the broker."""
    sent: list[tuple[str, tuple[object, ...]]] = []

    def apply_async(task: Task, args: tuple[object, ...] = (), kwargs: object = None, **_: object):
        sent.append((task.name, tuple(args or ())))

    monkeypatch.setattr(Task, "apply_async", apply_async)
    return sent


def _write() -> None:
    db.session.add(Resident(phone="+8613800000077", name="王"))
    db.session.flush()


def test_a_task_delayed_in_a_transaction_is_published_once_at_commit(
    app: Flask, broker: list[tuple[str, tuple[object, ...]]]
) -> None:
    with app.app_context():
        _write()
        followups.send_text.delay(7)
        assert broker == []  # not while the row it needs is uncommitted
        db.session.commit()
        assert broker == [("tasks.followups.send_text", (7,))]
        db.session.commit()
        assert len(broker) == 1


def test_a_task_delayed_in_a_rolled_back_transaction_is_never_published(
    app: Flask, broker: list[tuple[str, tuple[object, ...]]]
) -> None:
    with app.app_context():
        _write()
        followups.send_text.delay(7)
        db.session.rollback()
        db.session.commit()
        _write()
        db.session.commit()
        assert broker == []


def test_a_task_delayed_outside_a_writing_transaction_is_published_at_once(
    app: Flask, broker: list[tuple[str, tuple[object, ...]]]
) -> None:
    with app.app_context():
        db.session.get(Resident, 1)  # a read opens a transaction, but nothing waits on it
        followups.send_text.delay(8)
        assert broker == [("tasks.followups.send_text", (8,))]


def test_periodic_jobs_are_declared_by_their_packages(app: Flask) -> None:
    schedule = beat_schedule()
    assert schedule["tasks.followups.dispatch_follow_ups"]["schedule"] == 15.0
    assert schedule["tasks.recordings.requeue_stalled_recordings"]["schedule"] == 5.0
    assert app.extensions["celery"].conf.beat_schedule == schedule


def test_reconciliation_with_twilio_runs_every_two_minutes(app: Flask) -> None:
    schedule = beat_schedule()
    assert schedule["tasks.recordings.reconcile_recordings"]["schedule"] == 120.0


@pytest.mark.parametrize(
    ("max_message_seconds", "fits"),
    [("180", (480, 600)), ("600", (900, 1020))],
)
def test_the_redis_visibility_timeout_fits_the_longest_task_not_an_hour(
    tmp_path: Path, max_message_seconds: str, fits: tuple[int, int]
) -> None:
    """The longest a worker holds a task unacknowledged: a download retried after 240 s, then
    the longest message (HOTLINE_MAX_MESSAGE_SECONDS) decoded at a real-time factor of 1 after
    a download of up to 60 s. Redis must not hand it to a second worker before; and what a dead
    worker held comes back from Redis itself within minutes, not an hour."""
    env = make_env(
        tmp_path,
        "sqlite://",
        HOTLINE_BROKER_URL="redis://127.0.0.1:6379/15",
        HOTLINE_RETRY_BASE_SECONDS="30",
        HOTLINE_MAX_MESSAGE_SECONDS=max_message_seconds,
    )
    app = create_app(Settings.from_env(env), recognizer=FakeRecognizer())
    options = app.extensions["celery"].conf.broker_transport_options
    low, high = fits
    assert low <= options["visibility_timeout"] <= high


def test_a_periodic_job_notes_when_it_last_ran_to_its_end(app: Flask) -> None:
    with app.app_context():
        assert last_success("tasks.followups.dispatch_follow_ups") is None
        before = now()
        followups.dispatch_follow_ups.apply()
        done = last_success("tasks.followups.dispatch_follow_ups")
        assert done is not None and before <= done <= now()


def test_a_periodic_job_never_runs_twice_at_once(app: Flask) -> None:
    """Two beats by mistake: the second run of a job still running finds the lock and skips."""
    with app.app_context():
        token = acquire_lock("tasks.followups.dispatch_follow_ups", timedelta(minutes=10))
        assert token is not None
        assert followups.dispatch_follow_ups.apply().get() is None  # skipped
        release_lock("tasks.followups.dispatch_follow_ups", token)
        assert followups.dispatch_follow_ups.apply().get() is not None  # ran


def test_two_workers_racing_for_a_lock_one_wins(app: Flask) -> None:
    start = threading.Barrier(2, timeout=30)
    tokens: list[str | None] = []

    def take() -> None:
        with app.app_context():
            start.wait()
            tokens.append(acquire_lock("race", timedelta(minutes=1)))
            db.session.remove()

    workers = [threading.Thread(target=take) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(token is None for token in tokens) == [False, True]


def test_an_abandoned_lock_expires(app: Flask) -> None:
    with app.app_context():
        assert acquire_lock("killed", timedelta(seconds=-1)) is not None  # its worker died
        assert acquire_lock("killed", timedelta(minutes=1)) is not None
