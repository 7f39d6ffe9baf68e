"""Entry point for `celery -A hotline.worker worker|beat`."""

import logging
import threading

from celery.signals import worker_process_init

from hotline.app import create_app
from hotline.i18n import LOCALES
from speech import SpeechError, current_recognizer
from triage import warm as warm_triage

flask_app = create_app()
celery = flask_app.extensions["celery"]


@worker_process_init.connect
def _load_speech_model(**_: object) -> None:
    """Load the speech models (and, beside them, triage) when a worker process starts, not
    inside the first task. Triage loads in a thread: Celery gives a new process 4 s to start."""
    threading.Thread(target=warm_triage, args=(LOCALES,), daemon=True).start()

    try:
        with flask_app.app_context():  # the app's recognizer: the one its tasks will use
            current_recognizer().preload(LOCALES)
    except SpeechError as error:  # reported on each case too; the worker stays up for the rest
        logging.getLogger(__name__).warning("speech models: %s", error)
