"""The current time, replaceable in tests that need a controllable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from hotline.config import HoursWindow

CLOCK_KEY = "hotline.clock"


def now() -> datetime:
    if has_app_context():
        clock: Callable[[], datetime] | None = current_app.extensions.get(CLOCK_KEY)
        if clock is not None:
            return clock()
    return datetime.now(UTC)


def within(window: HoursWindow, timezone: str, moment: datetime | None = None) -> bool:
    """Whether `moment` (default: now) falls inside the daily window, in the centre's zone."""
    local = (moment or now()).astimezone(ZoneInfo(timezone))
    return window.contains(local.time())
