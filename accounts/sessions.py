"""Server-side sessions: the browser holds a random key, the database holds the session.

Logging out deletes the row, so a copied cookie is worthless afterwards; nothing about the
user is readable or forgeable on the client. Signing in, and any change to what the signed-in
account may do, gives the browser a new key and deletes the old row (`renew_key`): a key
someone planted in the browser before, or copied from it, opens nothing afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response, session
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
        self.replaced_key: str | None = None  # deleted when the session is saved
        self.modified = False

    def renew_key(self) -> None:
        """Saved under a new key from this response on; the old key stops working."""
        self.replaced_key = self.replaced_key or self.key
        self.key = None
        self.modified = True


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
            stale = [key for key in (session.replaced_key, session.key) if key]
            if stale:  # emptied: logged out
                _delete(*stale)
                db.session.commit()
                response.delete_cookie(COOKIE, httponly=True, samesite="Lax", secure=secure)
            return
        if not session.modified and session.key:
            return
        if session.replaced_key:
            _delete(session.replaced_key)  # committed with the row of the new key
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


def _delete(*keys: str) -> None:
    digests = [_digest(key) for key in keys]
    db.session.execute(delete(WebSession).where(WebSession.key_hash.in_(digests)))


def renew_key() -> None:
    """This browser's session goes on under a new key; the old key's row is deleted. At
    sign-in and whenever the signed-in account's privileges change."""
    assert isinstance(session, ServerSession)
    session.renew_key()


def end_sessions_of(user_id: int) -> None:
    """Sign a user out everywhere (password changed, account disabled); the caller commits."""
    db.session.execute(delete(WebSession).where(WebSession.user_id == user_id))
