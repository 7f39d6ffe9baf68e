"""How long a case may stay open: by urgency, and by category where a centre sets one.

Defaults from the centres' own targets: emergency 2 hours, urgent 24 hours, normal 7 days.
`HOTLINE_DEADLINES="urgent=12h,normal=5d,drainage=2d"` changes them; a category's limit applies
when it is shorter than its urgency's (a blocked drain is never allowed longer than urgent).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import has_app_context

from cases.models import Urgency
from hotline.config import DEFAULT_DEADLINES
from hotline.settings import current_settings


def _configured() -> dict[str, timedelta]:
    if not has_app_context():
        return DEFAULT_DEADLINES
    return current_settings().deadlines


def time_allowed(urgency: Urgency, category: str = "") -> timedelta:
    limits = _configured()
    allowed = limits[urgency.value]
    if category in limits and category not in DEFAULT_DEADLINES:
        allowed = min(allowed, limits[category])
    return allowed


def deadline_for(urgency: Urgency, opened_at: datetime, category: str = "") -> datetime:
    return opened_at + time_allowed(urgency, category)
