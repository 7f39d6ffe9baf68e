"""Closing the loop: follow-ups (survey calls, progress updates, visits), the text outbox,
the SMS line's inbound messages and the residents' survey answers."""

from __future__ import annotations

from flask import Flask

from cases.intake import emergency_raised, voicemail_received
from cases.lifecycle import status_changed
from cases.staff_intake import request_recorded
from outreach import notices, schedule


def init_app(app: Flask) -> None:
    """Connect outreach to what happens to cases: resolved -> survey, emergency -> alerts,
    voicemail or a request staff recorded -> the case number by text.

    Blinker keeps one connection per receiver, so building several apps connects once.
    """
    status_changed.connect(schedule.on_status_changed)
    emergency_raised.connect(notices.on_emergency)
    voicemail_received.connect(notices.on_voicemail)
    request_recorded.connect(notices.on_request_recorded)
