"""Who may sign in. Repeated failures lock the account for a while, whoever is guessing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_login import LoginManager
from sqlalchemy import select

from accounts.models import User
from hotline.clock import now
from hotline.db import db

login_manager = LoginManager()
login_manager.login_view = "auth.login"
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class Locked:
    """The account is locked for these many more minutes (rounded up)."""

    minutes: int


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def authenticate(username: str, password: str) -> User | Locked | None:
    """The active user these credentials name; Locked while locked (whatever the password);
    None when they are wrong, which counts a failure against an existing account."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is not None and user.locked_until and user.locked_until > now():
        return Locked(int((user.locked_until - now()).total_seconds() // 60) + 1)
    if user is None or not user.active or not user.check_password(password):
        if user is not None:
            _count_failure(user)
        return None
    user.failed_logins = 0
    user.locked_until = None
    db.session.commit()
    return user


def _count_failure(user: User) -> None:
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILURES:
        user.locked_until = now() + LOCK_FOR
        user.failed_logins = 0
    db.session.commit()
