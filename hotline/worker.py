"""Entry point for `celery -A hotline.worker worker|beat`."""

from hotline.app import create_app

app = create_app()
celery = app.extensions["celery"]
