"""Inbox: new and open cases, most urgent and oldest first; filters, search, paging."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_login import login_required

from workspace.views import EVERYONE, add_to_nav

bp = Blueprint("inbox", __name__)

add_to_nav("inbox.index", "common.inbox", EVERYONE)


@bp.get("/cases")
@login_required
def index() -> ResponseReturnValue:
    return "not built yet", 501
