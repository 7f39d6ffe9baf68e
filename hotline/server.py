"""Serve the web app with gunicorn: several processes, so one busy request never holds the line."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.workers.base import Worker

from hotline import spool
from hotline.app import create_app
from hotline.db import db
from hotline.i18n import LOCALES
from triage import warm as warm_triage


class HotlineServer(BaseApplication):
    """gunicorn's documented "custom application": options from our CLI, app from our factory."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Runs once, in the master (`preload_app`), before it listens: each web process forks
        with triage's analysers and models loaded, and none spends its first seconds loading
        them while a caller waits (one load a machine, not one a process)."""
        app = create_app()
        warm_triage(LOCALES)
        return app


def _after_fork(worker: Worker) -> None:
    """A forked process must not share the master's database connections (SQLAlchemy's
    "Using Connection Pools with Multiprocessing"); then it replays this machine's spool."""
    app: Flask = worker.wsgi
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
    spool.start_replayer(app)


def serve(host: str, port: int, workers: int, threads: int) -> None:
    HotlineServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "preload_app": True,
            "post_worker_init": _after_fork,
            # Twilio gives up after 15 s; a stuck request is restarted well before that.
            "timeout": 30,
            "graceful_timeout": 20,
            "accesslog": "-",
            # The query string may hold a phone number: log the path only.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        }
    ).run()
