"""The follow-up loop on the local line: nobody answers, so it retries, then texts, then visits."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.db import db
from hotline.telephony.models import EntryKind, LocalLineEntry
from outreach.models import FollowUpKind
from tests.outreach.conftest import RESIDENT_PHONE, Beat, Clock, events, follow_ups, local
from tests.outreach.test_survey_call import resolved_case


@pytest.fixture
def app(local_app: Flask) -> Flask:
    """The hotline of a first user: no Twilio account, so the local line."""
    return local_app


def _kept(kind: EntryKind) -> list[LocalLineEntry]:
    query = select(LocalLineEntry).where(LocalLineEntry.kind == kind).order_by(LocalLineEntry.id)
    return list(db.session.scalars(query))


def test_unanswered_local_calls_are_retried_then_the_survey_goes_by_text(
    app: Flask, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        case = resolved_case(clock)
        clock.moment = local(3, 8)
        for attempt in range(1, 4):
            beat.run()
            assert len(_kept(EntryKind.CALL)) == attempt
            clock.advance(minutes=31)  # no status callback: the dispatcher asks the line
            beat.run()
            [follow_up] = [f for f in follow_ups(case.id) if f.kind == FollowUpKind.SURVEY_CALL]
            clock.moment = max(clock.moment, follow_up.due_at)
        outcomes = events(case.id, "survey_call_outcome")
        assert [e.detail["next"] for e in outcomes] == ["retry", "retry", "survey_sms"]
        assert all(e.detail["outcome"] == "no-answer" for e in outcomes)
        beat.run()
        texts = [entry for entry in _kept(EntryKind.TEXT) if entry.to_phone == RESIDENT_PHONE]
        assert len(texts) == 1 and case.number in texts[0].body
        assert all(call.to_phone == RESIDENT_PHONE for call in _kept(EntryKind.CALL))
