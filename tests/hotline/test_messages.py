"""Every locale has every key of every catalogue, asking for the same {placeholders}."""

from __future__ import annotations

import re

import pytest

from hotline.i18n import FALLBACK, LOCALES, PARTS, Catalogue, Message, catalogue, staff_text


def gaps(catalogues: dict[str, Catalogue]) -> list[str]:
    """What one locale lacks or words differently from the others, as readable lines."""
    every_key = set().union(*(words.keys() for words in catalogues.values()))
    found = []
    for key in sorted(every_key):
        asked = {
            locale: words.placeholders(key)
            for locale, words in catalogues.items()
            if key in words.keys()  # noqa: SIM118 (a Catalogue, not a dict)
        }
        found += [f"{locale} lacks {key}" for locale in catalogues if locale not in asked]
        if len({frozenset(names) for names in asked.values()}) > 1:
            found.append(f"{key} asks for different placeholders: {asked}")
    return found


@pytest.mark.parametrize("part", PARTS)
def test_every_locale_has_every_key_with_the_same_placeholders(part: str) -> None:
    catalogues = {locale: catalogue(locale, part) for locale in LOCALES}  # type: ignore[arg-type]
    assert gaps(catalogues) == []
    assert all(text.strip() for words in catalogues.values() for text in words._entries.values())


def test_a_missing_key_or_placeholder_is_found() -> None:
    english = Catalogue("en-US", {"hello": "Hello {name}", "bye": "Bye", "case": "Case {number}"})
    chinese = Catalogue("zh-CN", {"hello": "您好", "case": "案件 {number}", "extra": "多"})
    assert gaps({"en-US": english, "zh-CN": chinese}) == [
        "zh-CN lacks bye",
        "en-US lacks extra",
        "hello asks for different placeholders: {'en-US': {'name'}, 'zh-CN': set()}",
    ]


def test_a_message_is_worded_in_each_language_with_its_nested_words() -> None:
    empty = Message("case.refused.empty", {"field": Message("case.refused.field.note")})
    english = catalogue(FALLBACK, "staff").render(empty)
    chinese = catalogue("zh-CN", "staff").render(empty)
    assert english == "the note is empty"
    assert chinese != english and "{" not in chinese


def test_staff_words_fall_back_to_english_then_to_the_key() -> None:
    assert staff_text("fr-FR", "case.section.timeline") == staff_text(
        FALLBACK, "case.section.timeline"
    )
    assert staff_text("zh-CN", "no.such.key") == "no.such.key"


def test_voice_helpers_read_the_status_tables() -> None:
    words = catalogue("en-US", "voice")
    assert words.status("resolved") == "resolved"
    assert words.next_step("new").startswith("Someone will contact you")
    assert words.digits("123") == "1, 2, 3"


EMERGENCY_NUMBERS = re.compile(r"(?<!\d)(000|110|111|112|119|120|911|995|999)(?!\d)")


@pytest.mark.parametrize("part", ["voice", "sms"])
def test_no_text_names_an_emergency_number_but_through_its_placeholder(part: str) -> None:
    """The number depends on the centre's country, not the language: {emergency} names it."""
    named = [
        (locale, key)
        for locale in LOCALES
        for key, text in catalogue(locale, part)._entries.items()  # type: ignore[arg-type]
        if EMERGENCY_NUMBERS.search(text)
    ]
    assert named == []
