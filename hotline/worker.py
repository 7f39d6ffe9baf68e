"""Entry point for `celery -A hotline.worker worker|beat`."""

import logging

from celery.signals import worker_process_init

from hotline.app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]


@worker_process_init.connect
def _load_speech_model(**_: object) -> None:
    """Load the Vosk model when a worker process starts, not inside the first task."""
    from hotline.i18n import LOCALES
    from speech import SpeechError, preload

    try:
        preload(LOCALES)
    except SpeechError as error:  # reported on each case too; the worker stays up for the rest
        logging.getLogger(__name__).warning("speech models: %s", error)
