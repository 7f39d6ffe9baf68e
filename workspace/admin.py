"""Administration: routing rules (and, later, accounts)."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_login import login_required

from accounts.models import Role
from workspace.views import add_to_nav

bp = Blueprint("admin", __name__)

add_to_nav("admin.routing", "common.admin", (Role.ADMIN,))


@bp.get("/admin/routing")
@login_required
def routing() -> ResponseReturnValue:
    return "not built yet", 501
