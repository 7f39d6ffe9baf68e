"""One case: recording, transcript, triage, routing, lifecycle and timeline."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_login import login_required

bp = Blueprint("case_page", __name__)


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> ResponseReturnValue:
    return "not built yet", 501
