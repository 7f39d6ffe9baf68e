"""Bearer tokens for /api/: shown once when made, stored only as a SHA-256 hash."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g, request
from sqlalchemy import select

from cases.models import ApiToken
from hotline.clock import now
from hotline.db import db

View = TypeVar("View", bound=Callable[..., Any])


def _digest(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough; no salt or stretching needed.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str, user_id: int | None = None) -> str:
    token = "hl_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(name=name, token_hash=_digest(token), user_id=user_id))
    db.session.commit()
    return token


def token_required(view: View) -> View:
    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            abort(401)
        found = db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == _digest(token.strip()))
        )
        if found is None:
            abort(401)
        found.last_used_at = now()
        db.session.commit()
        g.api_token = found
        return view(*args, **kwargs)

    return checked  # type: ignore[return-value]
