"""The satisfaction survey call: what the resident hears and presses, and how the call ended."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("survey", __name__, url_prefix="/ivr/survey")
