"""The weekly ledger (台账): a period's cases as CSV and XLSX."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_login import login_required

from accounts.models import Role
from workspace.views import add_to_nav

bp = Blueprint("ledger", __name__)

add_to_nav("ledger.index", "common.ledger", (Role.ADMIN, Role.STAFF, Role.GRID_WORKER))


@bp.get("/ledger")
@login_required
def index() -> ResponseReturnValue:
    return "not built yet", 501
