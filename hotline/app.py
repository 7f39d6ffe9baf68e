"""The application factory: settings, database, Celery and the blueprints, in one screen."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

import cases
import outreach
import speech
from accounts.logins import login_manager
from accounts.sessions import DatabaseSessionInterface
from cases.api import bp as api_bp
from hotline import redaction, spool, telephony
from hotline.celery_app import celery_init_app
from hotline.config import Settings
from hotline.db import IdConverter, db, describe
from hotline.instance_secret import instance_secret
from hotline.settings import EXTENSION_KEY, current_settings
from ivr.survey import bp as survey_bp
from ivr.views import bp as ivr_bp
from outreach.api import bp as outreach_api_bp
from sms.views import bp as sms_bp
from workspace import (
    admin,
    callbacks,
    case_page,
    contact,
    dashboard,
    inbox,
    ledger,
    login,
    residents,
    visits,
)
from workspace import leaders as leader_pages
from workspace.views import bp as workspace_bp
from workspace.views import init_app as init_workspace

log = logging.getLogger(__name__)
DB_CONNECT_TIMEOUT_S = 5
DB_SILENT_HOST_MS = 5000


def create_app(
    settings: Settings | None = None,
    *,
    telephony_adapter: telephony.Telephony | None = None,
    recognizer: speech.Recognizer | None = None,
) -> Flask:
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    redaction.install()
    app = Flask("hotline", instance_path=str(settings.data_dir))
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.config.update(
        SECRET_KEY=settings.secret_key or _instance_secret_key(settings.data_dir),
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=1024 * 1024,  # webhooks are small; refuse anything huge
    )
    app.config.update(
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the server-side session
    )
    app.extensions[EXTENSION_KEY] = settings
    db.init_app(app)
    celery_init_app(app, settings)
    telephony.init_app(app, settings, telephony_adapter)
    speech.init_app(app, recognizer)  # Vosk unless given one (tests give a fake)
    cases.init_app(app)
    outreach.init_app(app)
    _init_workspace(app)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.register_error_handler(HTTPException, json_error)
    return app


def _engine_options(database_url: str) -> dict[str, Any]:
    """Connections checked before use. A PostgreSQL host that does not answer fails within
    seconds, not the kernel's minutes, so that the phone line answers without it
    (ivr.degraded) before Twilio gives up on the webhook at 15 s: a new connection within
    DB_CONNECT_TIMEOUT_S, one whose host vanished (no reply, not even a TCP acknowledgement)
    within DB_SILENT_HOST_MS."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if database_url.startswith("postgresql"):
        options["connect_args"] = {
            "connect_timeout": DB_CONNECT_TIMEOUT_S,
            "tcp_user_timeout": DB_SILENT_HOST_MS,
        }
    return options


def _instance_secret_key(data_dir: Path) -> str:
    """One key for every process of this install when HOTLINE_SECRET_KEY is not set: a key
    made per process would make each web process reject the others' CSRF tokens."""
    return instance_secret(data_dir / "secret_key", "delete it, or set HOTLINE_SECRET_KEY")


def _init_workspace(app: Flask) -> None:
    """Staff pages: server-side sessions, logins, CSRF on every form; webhooks and API exempt."""
    app.session_interface = DatabaseSessionInterface()
    login_manager.init_app(app)
    app.before_request(_allow_large_uploads)  # before CSRFProtect, which reads the form
    csrf = CSRFProtect(app)
    webhooks = (ivr_bp, survey_bp, sms_bp)
    for webhook in webhooks:
        csrf.exempt(webhook)  # Twilio signs its webhooks instead
    apis = (api_bp, outreach_api_bp)
    for api in apis:
        csrf.exempt(api)  # bearer tokens, no cookies
    init_workspace(app)
    pages = (
        login,
        inbox,
        callbacks,
        visits,
        case_page,
        contact,
        residents,
        ledger,
        dashboard,
        admin,
        leader_pages,
    )
    for blueprint in (*webhooks, *apis, workspace_bp, *(page.bp for page in pages)):
        app.register_blueprint(blueprint)


# Everything else is small (webhooks, forms); only a whole residents list is allowed to be big.
LARGE_UPLOADS = {"residents.import_csv": 32 * 1024 * 1024}


def _allow_large_uploads() -> None:
    limit = LARGE_UPLOADS.get(request.endpoint or "")
    if limit is not None:
        request.max_content_length = limit


def healthz() -> ResponseReturnValue:
    """200 while this web process answers; "degraded" while the database does not (the phone
    line still answers then: a load balancer must keep sending it calls), with the number of
    webhooks waiting in this machine's spool."""
    spooled = len(spool.waiting(current_settings().data_dir))
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("/healthz: the database does not answer: %s", describe(error))
        return {"status": "degraded", "database": "unreachable", "spooled": spooled}
    return {"status": "ok", "database": "ok", "spooled": spooled}


def json_error(error: HTTPException) -> ResponseReturnValue:
    """Machines (API, webhooks) get JSON errors; people get the ordinary error page."""
    if not request.path.startswith(("/api/", "/ivr/", "/sms/")):
        return error
    response = jsonify(error=error.name, message=error.description)
    return response, error.code or 500
