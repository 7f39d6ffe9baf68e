"""Entry point for `celery -A hotline.worker worker|beat`."""

import logging

from celery.signals import worker_process_init

from hotline.app import create_app
from hotline.i18n import LOCALES
from speech import SpeechError, current_recognizer

flask_app = create_app()
celery = flask_app.extensions["celery"]


@worker_process_init.connect
def _load_speech_model(**_: object) -> None:
    """Load the speech models when a worker process starts, not inside the first task."""

    try:
        with flask_app.app_context():  # the app's recognizer: the one its tasks will use
            current_recognizer().preload(LOCALES)
    except SpeechError as error:  # reported on each case too; the worker stays up for the rest
        logging.getLogger(__name__).warning("speech models: %s", error)
