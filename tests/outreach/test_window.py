"""Calling hours: the centre's window, the resident's, both, and windows past midnight."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from hotline.config import HoursWindow
from outreach.window import is_allowed, next_allowed_moment, parse_preferred
from tests.outreach.conftest import SHANGHAI, local

CENTRE = HoursWindow.parse("08:00-20:00")
TZ = "Asia/Shanghai"


def test_inside_the_window_a_call_may_go_now() -> None:
    moment = local(2, 10, 30)
    assert next_allowed_moment(moment, CENTRE, None, TZ) == moment
    assert is_allowed(moment, CENTRE, None, TZ)


def test_before_opening_waits_for_the_morning_and_after_closing_for_the_next() -> None:
    assert next_allowed_moment(local(2, 6, 59), CENTRE, None, TZ) == local(2, 8)
    assert next_allowed_moment(local(2, 20), CENTRE, None, TZ) == local(3, 8)  # end exclusive
    assert next_allowed_moment(local(2, 23, 30), CENTRE, None, TZ) == local(3, 8)


def test_the_answer_is_in_utc_and_the_hours_are_the_centres_local_time() -> None:
    opens = next_allowed_moment(datetime(2026, 3, 1, 22, 0, tzinfo=UTC), CENTRE, None, TZ)
    assert opens == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert opens.astimezone(SHANGHAI).hour == 8


def test_a_residents_preferred_hours_narrow_the_centres() -> None:
    afternoons = HoursWindow.parse("14:00-17:00")
    assert next_allowed_moment(local(2, 9), CENTRE, afternoons, TZ) == local(2, 14)
    assert next_allowed_moment(local(2, 17, 5), CENTRE, afternoons, TZ) == local(3, 14)
    assert is_allowed(local(2, 16, 59), CENTRE, afternoons, TZ)


def test_preferred_hours_past_midnight_meet_the_centre_twice_a_day() -> None:
    nights_and_early = HoursWindow.parse("18:00-09:00")  # evenings and early mornings
    assert next_allowed_moment(local(2, 8, 30), CENTRE, nights_and_early, TZ) == local(2, 8, 30)
    assert next_allowed_moment(local(2, 10), CENTRE, nights_and_early, TZ) == local(2, 18)
    assert next_allowed_moment(local(2, 20, 30), CENTRE, nights_and_early, TZ) == local(3, 8)


def test_calling_hours_may_wrap_past_midnight() -> None:
    late = HoursWindow.parse("20:00-02:00")
    assert is_allowed(local(3, 1, 0), late, None, TZ)
    assert next_allowed_moment(local(3, 3), late, None, TZ) == local(3, 20)


def test_hours_that_never_meet_fall_back_to_the_centres_and_say_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    late_evening = HoursWindow.parse("21:00-23:00")
    with caplog.at_level(logging.WARNING, logger="outreach.window"):
        assert next_allowed_moment(local(2, 6), CENTRE, late_evening, TZ) == local(2, 8)
    assert "never meet" in caplog.text


def test_unreadable_preferred_hours_are_ignored() -> None:
    assert parse_preferred("afternoons please") is None
    assert parse_preferred("") is None and parse_preferred(None) is None
    assert parse_preferred("09:00-11:30") == HoursWindow.parse("09:00-11:30")
