"""Celery wired to the Flask app: tasks run inside an app context, like a request."""

from __future__ import annotations

from typing import Any

import kombu.transport.sqlalchemy as sqla
from celery import Celery
from flask import Flask

from hotline.config import Settings
from hotline.jobs import HotlineTask, beat_schedule
from hotline.task_budget import visibility_timeout

# Where the tasks live; each declares its own periodic jobs (hotline.jobs.periodic).
TASK_MODULES = ["tasks.recordings", "tasks.escalation", "tasks.followups"]
SPEECH_QUEUE = "speech"
DEFAULT_QUEUE = "celery"
PUBLISH_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0.1,
    "interval_step": 0.3,
    "interval_max": 0.5,
}


def _transport_options(settings: Settings) -> dict[str, Any]:
    if settings.broker_url.startswith(("redis", "rediss", "sqs")):
        # Longer than the longest task (with its retry's wait), so the broker does not hand a
        # task that is still running (acknowledged late) to a second worker; short enough
        # that the broker itself re-sends what a dead worker held within minutes.
        return {"visibility_timeout": visibility_timeout(settings)}
    return {}  # AMQP has no visibility timeout; the SQLAlchemy transport takes none


def _poll_sqlite_broker_often(broker_url: str) -> None:
    """kombu's SQLAlchemy transport polls once a second, which caps the embedded default at
    about 2 follow-ups a second; it passes transport options to create_engine, so the
    interval can only be set on the class."""
    if broker_url.startswith("sqla+"):
        sqla.Transport.polling_interval = 0.05


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    _poll_sqlite_broker_often(settings.broker_url)

    task_class = type("AppTask", (HotlineTask,), {"flask_app": app})
    celery_app = Celery(app.name, task_cls=task_class)
    celery_app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(settings),
        # A publish that meets a broker connection error is tried again 3 times within about
        # a second; then the row's claim is given back and the sweeps publish it again.
        task_publish_retry_policy=PUBLISH_RETRY_POLICY,
        task_ignore_result=True,
        # Acknowledge only when a task has finished: a worker killed mid-task loses nothing.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        timezone=settings.timezone,
        task_routes={"tasks.recordings.transcribe_recording": {"queue": SPEECH_QUEUE}},
        task_default_queue=DEFAULT_QUEUE,
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        include=TASK_MODULES,
    )
    celery_app.set_default()
    celery_app.loader.import_default_modules()  # the tasks, and the periodic jobs they declare
    celery_app.conf.beat_schedule = beat_schedule()
    app.extensions["celery"] = celery_app
    return celery_app
