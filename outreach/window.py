"""When the hotline may call a resident: the centre's calling hours and the resident's own.

Both are daily windows in the centre's time zone, end exclusive, and either may wrap past
midnight. A call may be placed only inside both; when the two never overlap (a resident who
asked for evening calls at a centre that stops at 20:00), the centre's window wins and the
conflict is logged, so the resident is still called rather than never.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from hotline.config import HoursWindow

log = logging.getLogger(__name__)
DAY = 24 * 3600
Interval = tuple[int, int]  # seconds since local midnight, [start, end)


def parse_preferred(text: str | None) -> HoursWindow | None:
    """A resident's "HH:MM-HH:MM", or None when unset or unreadable (then only the centre's)."""
    if not text or not text.strip():
        return None
    try:
        return HoursWindow.parse(text)
    except ValueError:
        log.warning("ignoring unreadable preferred call hours %r", text)
        return None


def _seconds(moment: clock_time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _intervals(window: HoursWindow) -> list[Interval]:
    """The window as one or two intervals of a single day (two when it wraps past midnight)."""
    start, end = _seconds(window.start), _seconds(window.end)
    if start < end:
        return [(start, end)]
    if start == end:
        return []  # "08:00-08:00" is empty, as HoursWindow.contains treats it
    return [(0, end), (start, DAY)] if end > 0 else [(start, DAY)]


def _intersect(first: list[Interval], second: list[Interval]) -> list[Interval]:
    overlaps = [
        (max(a_start, b_start), min(a_end, b_end))
        for a_start, a_end in first
        for b_start, b_end in second
    ]
    return sorted((start, end) for start, end in overlaps if start < end)


def allowed_intervals(calling: HoursWindow, preferred: HoursWindow | None) -> list[Interval]:
    """Where both windows agree; the centre's window alone when they never do."""
    centre = _intervals(calling)
    if preferred is None:
        return centre
    both = _intersect(centre, _intervals(preferred))
    if not both:
        log.warning(
            "preferred hours %s never meet calling hours %s: using the centre's", preferred, calling
        )
        return centre
    return both


def _local(day: date, seconds: int, zone: ZoneInfo) -> datetime:
    midnight = datetime.combine(day, clock_time(0), tzinfo=zone)
    return midnight + timedelta(seconds=seconds)


def next_allowed_moment(
    moment: datetime, calling_hours: HoursWindow, preferred_hours: HoursWindow | None, tz: str
) -> datetime:
    """`moment` itself when a call is allowed then, else the next opening of both windows."""
    zone = ZoneInfo(tz)
    intervals = allowed_intervals(calling_hours, preferred_hours)
    if not intervals:
        log.error("calling hours %s are empty: calling at once", calling_hours)
        return moment
    local = moment.astimezone(zone)
    for offset in range(3):  # the next opening is at most a day and a bit away
        day = local.date() + timedelta(days=offset)
        for start, end in intervals:
            opens, closes = _local(day, start, zone), _local(day, end, zone)
            if opens <= local < closes:
                return moment
            if local < opens:
                return opens.astimezone(moment.tzinfo)
    raise AssertionError("a non-empty daily window always opens within two days")


def is_allowed(
    moment: datetime, calling_hours: HoursWindow, preferred_hours: HoursWindow | None, tz: str
) -> bool:
    return next_allowed_moment(moment, calling_hours, preferred_hours, tz) == moment
