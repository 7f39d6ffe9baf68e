"""Deadlines by urgency and category, with the centre's own limits from the environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from cases.deadlines import deadline_for
from cases.models import Urgency
from hotline.app import create_app
from hotline.config import Settings

OPENED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_defaults_are_two_hours_a_day_and_a_week() -> None:
    assert deadline_for(Urgency.EMERGENCY, OPENED) == OPENED + timedelta(hours=2)
    assert deadline_for(Urgency.URGENT, OPENED, "noise") == OPENED + timedelta(hours=24)
    assert deadline_for(Urgency.NORMAL, OPENED, "drainage") == OPENED + timedelta(days=7)


def test_a_centre_sets_its_own_limits_and_shorter_ones_per_category(
    env: dict[str, str],
) -> None:
    app: Flask = create_app(
        Settings.from_env({**env, "HOTLINE_DEADLINES": "urgent=12h, normal=5d, drainage=2d"})
    )
    with app.app_context():
        assert deadline_for(Urgency.URGENT, OPENED) == OPENED + timedelta(hours=12)
        assert deadline_for(Urgency.NORMAL, OPENED, "noise") == OPENED + timedelta(days=5)
        # A blocked drain gets two days even when judged normal; never longer than urgent's 12 h.
        assert deadline_for(Urgency.NORMAL, OPENED, "drainage") == OPENED + timedelta(days=2)
        assert deadline_for(Urgency.URGENT, OPENED, "drainage") == OPENED + timedelta(hours=12)
        assert deadline_for(Urgency.EMERGENCY, OPENED, "drainage") == OPENED + timedelta(hours=2)


@pytest.mark.parametrize("bad", ["urgent=soon", "normal=7w", "=3d", "urgent 24h"])
def test_a_malformed_setting_stops_the_start_with_a_clear_message(bad: str) -> None:
    with pytest.raises(ValueError, match="HOTLINE_DEADLINES entry"):
        Settings.from_env({"HOTLINE_DEADLINES": bad})
