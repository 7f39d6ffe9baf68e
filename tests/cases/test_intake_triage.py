"""What triage may do to a case: raise its urgency from the words, never lower what staff or
the caller (key 9) set, and page the on-duty staff only for an emergency."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from cases.intake import Intake, apply_triage, emergency_raised, open_case
from cases.models import Case, CaseSource, Urgency
from hotline.db import db
from tests.workspace.conftest import make_case


@pytest.fixture
def alerts(app: Flask) -> Iterator[list[list[str]]]:
    """The words each emergency alert would quote, as the signal carries them."""
    sent: list[list[str]] = []

    def receive(_: Case, words: list[str]) -> None:
        sent.append(words)

    emergency_raised.connect(receive)
    yield sent
    emergency_raised.disconnect(receive)


def test_the_emergency_key_stays_an_emergency_whatever_the_words(
    app: Flask, alerts: list[list[str]]
) -> None:
    with app.app_context():
        case = open_case(
            Intake(
                CaseSource.SMS,
                "en-US",
                phone="+15555550100",
                text="I fell behind on my rent this month",
                urgency=Urgency.EMERGENCY,
            )
        )
        db.session.commit()
        assert case.urgency == Urgency.EMERGENCY
        assert alerts == [[]]  # alerted once, with no words: the caller pressed 9


def test_words_never_lower_what_staff_set(app: Flask, alerts: list[list[str]]) -> None:
    with app.app_context():
        case = make_case(urgency=Urgency.EMERGENCY, locale="en-US")
        result = apply_triage(case, "could someone fix the street light by the bus stop", "en-US")
        assert case.urgency == Urgency.EMERGENCY
        assert "urgency" not in result.changes
        assert alerts == []


def test_an_urgent_need_raises_the_urgency_without_paging_anyone(
    app: Flask, alerts: list[list[str]]
) -> None:
    with app.app_context():
        case = make_case(urgency=Urgency.NORMAL, locale="en-US")
        apply_triage(case, "my carer did not come today and there is no food in the house", "en-US")
        assert case.urgency == Urgency.URGENT
        assert alerts == []


def test_an_emergency_pages_once_and_quotes_the_words_that_raised_it(
    app: Flask, alerts: list[list[str]]
) -> None:
    with app.app_context():
        case = make_case(urgency=Urgency.URGENT, locale="en-US")
        db.session.flush()  # a case has its number once saved, as every channel's has
        apply_triage(case, "my husband collapsed on the kitchen floor and won’t wake up", "en-US")
        apply_triage(case, "my husband collapsed on the kitchen floor and won’t wake up", "en-US")
        assert case.urgency == Urgency.EMERGENCY
        [words] = alerts
        assert words and all(
            word in "my husband collapsed on the kitchen floor and won't wake up" for word in words
        )
