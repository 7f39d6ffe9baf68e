"""The login and logout pages (the rule of who may sign in: accounts.logins)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user

from accounts.logins import Locked, authenticate
from accounts.sessions import renew_key
from workspace.i18n import t

bp = Blueprint("auth", __name__)


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
    user = authenticate(username, password)
    if isinstance(user, Locked):
        flash(t("common.locked", minutes=user.minutes), "error")
        return render_template("login.html"), 429
    if user is None:
        flash(t("common.bad_login"), "error")
        return render_template("login.html"), 401
    # Nothing from before the login carries over, its key and CSRF token included: whoever
    # planted them in this browser must not share the session they now open.
    session.clear()
    renew_key()
    login_user(user)
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    session.clear()  # an empty session deletes its server-side row
    return redirect(url_for("auth.login"))
