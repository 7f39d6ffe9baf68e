"""The staff workspace's frame: home, navigation, and what every page may use."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from accounts.models import Role
from workspace.formatting import FILTERS
from workspace.i18n import current_locale, t

bp = Blueprint(
    "workspace",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/workspace",
)

# (endpoint, label key, roles that see it); each page module adds its own entry.
NAV: list[tuple[str, str, tuple[Role, ...]]] = []
EVERYONE = tuple(Role)
# The menu reads in the order of a working day, whatever order the modules are imported in.
MENU_ORDER = (
    "inbox",
    "new_case",
    "callbacks",
    "visits",
    "residents",
    "ledger",
    "dashboard",
    "admin",
)


def _menu_position(entry: tuple[str, str, tuple[Role, ...]]) -> int:
    area = entry[0].split(".")[0]
    return MENU_ORDER.index(area) if area in MENU_ORDER else len(MENU_ORDER)


def add_to_nav(endpoint: str, label_key: str, roles: tuple[Role, ...] = EVERYONE) -> None:
    if endpoint not in (entry[0] for entry in NAV):
        NAV.append((endpoint, label_key, roles))
        NAV.sort(key=_menu_position)


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()
    if query:  # a search typed into the address bar, or an old bookmark: keep it
        return redirect(url_for("search.index", q=query))
    links = nav_links()
    if links:
        return redirect(url_for(links[0][0]))
    return t("common.app_name")


def nav_links() -> list[tuple[str, str]]:
    return [(endpoint, label) for endpoint, label, roles in NAV if current_user.role in roles]


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(t=t, current_locale=current_locale, nav_links=nav_links)
    app.jinja_env.filters.update(FILTERS)
    app.after_request(_security_headers)


# Pages load scripts and styles only from our own static files: no inline script, so text a
# caller or a note smuggles into a page cannot run even if escaping were ever missed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)


def _security_headers(response: Response) -> Response:
    if not request.path.startswith(("/ivr/", "/sms/")):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
