"""Residents directory: search, profile, family contacts, CSV import and export."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_login import login_required

from workspace.views import EVERYONE, add_to_nav

bp = Blueprint("residents", __name__)

add_to_nav("residents.index", "common.residents", EVERYONE)


@bp.get("/residents")
@login_required
def index() -> ResponseReturnValue:
    return "not built yet", 501
