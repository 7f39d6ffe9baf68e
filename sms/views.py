"""POST /sms/incoming: every text a resident sends, answered in their language."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sms", __name__, url_prefix="/sms")
