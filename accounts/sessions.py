"""Server-side sessions: the browser holds a random key, the database holds the session.

Logging out deletes the row, so a copied cookie is worthless afterwards; nothing about the
user is readable or forgeable on the client.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select
from werkzeug.datastructures import CallbackDict

from accounts.models import WebSession
from hotline.clock import now
from hotline.db import db

COOKIE = "hotline_session"
LIFETIME = timedelta(hours=12)


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, data: dict[str, Any] | None = None, key: str | None = None) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.key = key
        self.modified = False


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class DatabaseSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        key = request.cookies.get(COOKIE)
        if key:
            row = db.session.scalar(
                select(WebSession).where(
                    WebSession.key_hash == _digest(key), WebSession.expires_at > now()
                )
            )
            if row is not None:
                return ServerSession(dict(row.data), key)
        return ServerSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        secure = app.config.get("SESSION_COOKIE_SECURE", False)
        if not session:
            if session.key:  # emptied: logged out
                db.session.execute(
                    delete(WebSession).where(WebSession.key_hash == _digest(session.key))
                )
                db.session.commit()
                response.delete_cookie(COOKIE, httponly=True, samesite="Lax", secure=secure)
            return
        if not session.modified and session.key:
            return
        key = session.key or secrets.token_urlsafe(32)
        row = db.session.scalar(select(WebSession).where(WebSession.key_hash == _digest(key)))
        if row is None:
            row = WebSession(key_hash=_digest(key))
            db.session.add(row)
        row.data = dict(session)
        row.user_id = int(session["_user_id"]) if session.get("_user_id") else None
        row.expires_at = now() + LIFETIME
        db.session.commit()
        response.set_cookie(
            COOKIE,
            key,
            max_age=int(LIFETIME.total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=secure,
        )


def end_sessions_of(user_id: int) -> None:
    """Sign a user out everywhere (password changed, account disabled); the caller commits."""
    db.session.execute(delete(WebSession).where(WebSession.user_id == user_id))
