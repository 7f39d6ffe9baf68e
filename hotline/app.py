"""The application factory: settings, database, Celery and the blueprints, in one screen."""

from __future__ import annotations

import secrets

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from hotline import models, redaction  # noqa: F401 - models: every table registered
from hotline.celery_app import celery_init_app
from hotline.config import Settings
from hotline.db import db
from hotline.settings import EXTENSION_KEY


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    redaction.install()
    app = Flask("hotline", instance_path=str(settings.data_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        MAX_CONTENT_LENGTH=1024 * 1024,  # webhooks are small; refuse anything huge
    )
    app.extensions[EXTENSION_KEY] = settings
    db.init_app(app)
    celery_init_app(app, settings)

    from hotline.api import bp as api_bp
    from ivr.views import bp as ivr_bp

    app.register_blueprint(ivr_bp)
    app.register_blueprint(api_bp)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.register_error_handler(HTTPException, json_error)
    return app


def healthz() -> ResponseReturnValue:
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


def json_error(error: HTTPException) -> ResponseReturnValue:
    response = jsonify(error=error.name, message=error.description)
    return response, error.code or 500
