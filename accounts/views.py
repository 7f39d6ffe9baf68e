"""Log in and out. Repeated failures lock the account for a while, whoever is guessing."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import select

from accounts.models import User
from hotline.clock import now
from hotline.db import db
from workspace.i18n import t

bp = Blueprint("auth", __name__, template_folder="templates")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def _safe_next(target: str | None) -> str:
    """Only paths on this site: a login link must not bounce staff to another site."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("workspace.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("login.html")
    username = request.form.get("username", "").strip()[:50]
    password = request.form.get("password", "")[:200]
    user = db.session.scalar(select(User).where(User.username == username))
    if user is not None and user.locked_until and user.locked_until > now():
        minutes = int((user.locked_until - now()).total_seconds() // 60) + 1
        flash(t("common.locked", minutes=minutes), "error")
        return render_template("login.html"), 429
    if user is None or not user.active or not user.check_password(password):
        if user is not None:
            _count_failure(user)
        flash(t("common.bad_login"), "error")
        return render_template("login.html"), 401
    user.failed_logins = 0
    user.locked_until = None
    db.session.commit()
    login_user(user)
    return redirect(_safe_next(request.args.get("next")))


def _count_failure(user: User) -> None:
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILURES:
        user.locked_until = now() + LOCK_FOR
        user.failed_logins = 0
    db.session.commit()


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    session.clear()  # an empty session deletes its server-side row
    return redirect(url_for("auth.login"))
