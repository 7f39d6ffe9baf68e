"""How long a case may stay open, by urgency (defaults from the centres' own targets)."""

from __future__ import annotations

from datetime import datetime, timedelta

from cases.models import Urgency

DEFAULT_DEADLINES = {
    Urgency.EMERGENCY: timedelta(hours=2),
    Urgency.URGENT: timedelta(hours=24),
    Urgency.NORMAL: timedelta(days=7),
}


def deadline_for(urgency: Urgency, opened_at: datetime) -> datetime:
    return opened_at + DEFAULT_DEADLINES[urgency]
