"""The staff workspace's frame: home, navigation, and what every page may use."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from accounts.models import Role
from workspace.i18n import current_locale, t

bp = Blueprint(
    "workspace",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/workspace",
)

# (endpoint, label key, roles that see it); pages register here when they exist.
NAV: list[tuple[str, str, tuple[Role, ...]]] = []


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    links = nav_links()
    if links:
        return redirect(url_for(links[0][0]))
    return t("common.app_name")


def nav_links() -> list[tuple[str, str]]:
    return [(endpoint, label) for endpoint, label, roles in NAV if current_user.role in roles]


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(t=t, current_locale=current_locale, nav_links=nav_links)
