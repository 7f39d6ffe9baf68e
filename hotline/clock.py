"""The current time, replaceable in tests that need a controllable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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


def local_now(timezone: str) -> datetime:
    """Now, on the centre's clock."""
    return now().astimezone(ZoneInfo(timezone))


def next_opening(window: HoursWindow, timezone: str, moment: datetime | None = None) -> datetime:
    """When the daily window next opens after `moment` (default: now), in the centre's zone:
    later today if it has not opened yet today, else tomorrow."""
    local = (moment or now()).astimezone(ZoneInfo(timezone))
    today = datetime.combine(local.date(), window.start, tzinfo=local.tzinfo)
    if today > local:
        return today
    return datetime.combine(local.date() + timedelta(days=1), window.start, tzinfo=local.tzinfo)
