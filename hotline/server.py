"""Serve the web app with gunicorn: several processes, so one busy request never holds the line."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from hotline import spool
from hotline.app import create_app
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
        """Runs in each web process: the app, and the replayer of this machine's spool."""
        app = create_app()
        spool.start_replayer(app)
        # A few seconds of loading, off the request path: the first text is read at once.
        threading.Thread(target=warm_triage, args=(LOCALES,), daemon=True).start()
        return app


def serve(host: str, port: int, workers: int, threads: int) -> None:
    HotlineServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            # Twilio gives up after 15 s; a stuck request is restarted well before that.
            "timeout": 30,
            "graceful_timeout": 20,
            "accesslog": "-",
            # The query string may hold a phone number: log the path only.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        }
    ).run()
