"""Who may sign in. Repeated failures lock the account for a while, whoever is guessing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_login import LoginManager
from sqlalchemy import case, literal, or_, select, update

from accounts.models import User
from hotline.clock import now
from hotline.db import UTCDateTime, db, moved_one_row

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
    None when they are wrong, which counts a failure against an existing account.

    Each attempt takes its turn from the failure counter before the password is checked, in
    one UPDATE: however many guesses arrive at once, at most MAX_FAILURES are checked before
    the account locks, and the rest are refused as locked without being checked.
    """
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        return None
    moment = now()
    if not _take_attempt(user.id, moment):
        return _locked(user, moment)
    if not user.active or not user.check_password(password):
        return None  # the attempt taken stays counted
    _clear_failures(user.id)
    return user


def _take_attempt(user_id: int, moment: datetime) -> bool:
    """Count one more failure unless locked; the attempt that reaches the limit locks the
    account (and starts the count again). A right password then clears both."""
    reaches_limit = User.failed_logins + 1 >= MAX_FAILURES
    taken = moved_one_row(
        update(User)
        .where(User.id == user_id, or_(User.locked_until.is_(None), User.locked_until <= moment))
        .values(
            failed_logins=case((reaches_limit, 0), else_=User.failed_logins + 1),
            locked_until=case((reaches_limit, literal(moment + LOCK_FOR, UTCDateTime)), else_=None),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return taken


def _clear_failures(user_id: int) -> None:
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(failed_logins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _locked(user: User, moment: datetime) -> Locked:
    until = user.locked_until or moment + LOCK_FOR
    return Locked(int((until - moment).total_seconds() // 60) + 1)
