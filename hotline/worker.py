"""Entry point for `celery -A hotline.worker worker|beat`."""

import logging

from celery.signals import worker_init, worker_process_init

from hotline.app import create_app
from hotline.i18n import LOCALES
from speech import SpeechError, current_recognizer
from triage import warm as warm_triage

flask_app = create_app()
celery = flask_app.extensions["celery"]


@worker_init.connect
def _load_triage(**_: object) -> None:
    """Load triage once, in the worker's main process before its pool forks: every task
    process starts with it (one load a machine, not one a process, all at once at start)."""
    warm_triage(LOCALES)


@worker_process_init.connect
def _load_speech_model(**_: object) -> None:
    """Load the speech models when a worker process starts, not inside the first task."""
    try:
        with flask_app.app_context():  # the app's recognizer: the one its tasks will use
            current_recognizer().preload(LOCALES)
    except SpeechError as error:  # reported on each case too; the worker stays up for the rest
        logging.getLogger(__name__).warning("speech models: %s", error)
