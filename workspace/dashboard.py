"""Dashboard: cases per week by category, open against overdue, rates per grid."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_login import login_required

from accounts.models import Role
from workspace.views import add_to_nav

bp = Blueprint("dashboard", __name__)

add_to_nav("dashboard.index", "common.dashboard", (Role.ADMIN, Role.STAFF, Role.GRID_WORKER))


@bp.get("/dashboard")
@login_required
def index() -> ResponseReturnValue:
    return "not built yet", 501
