"""The timeline's kinds: one enumeration, each with a sentence in every language."""

from __future__ import annotations

from cases.events import EventKind
from hotline.i18n import LOCALES, catalogue
from workspace.case_page import DESCRIBERS


def test_every_event_kind_has_a_sentence_in_every_language() -> None:
    missing = [
        (locale, kind.value)
        for locale in LOCALES
        for kind in EventKind
        if catalogue(locale, "staff").get(f"case.event.{kind.value}") is None
    ]
    assert missing == []


def test_the_case_page_describes_every_kind_and_only_those() -> None:
    assert set(DESCRIBERS) == {kind.value for kind in EventKind}


def test_a_kind_is_stored_as_its_plain_string() -> None:
    assert EventKind.FOLLOW_UP_CANCELLED == "follow_up_cancelled"
    assert EventKind("survey_call_outcome") is EventKind.SURVEY_CALL_OUTCOME
