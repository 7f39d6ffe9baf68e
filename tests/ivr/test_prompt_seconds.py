"""An elderly caller is talking within 15 s, in every language; a silent one reaches the beep too.

`pytest tests/ivr/test_prompt_seconds.py -s` prints the figures (so does
benchmarks/prompt_seconds.py).
"""

from __future__ import annotations

import pytest
from flask import Flask

from hotline.i18n import LOCALES
from ivr.speaking_time import rate_factor, seconds_to_say
from tests.ivr.prompt_paths import PromptSeconds, measure, table
from twilio_double.simulator import CallSimulator

TALKING_WITHIN_S = 15.0
SILENT_CALLER_WITHIN_S = 45.0  # was 77-108 s: three menus before the message


def test_every_caller_reaches_the_beep_soon_in_every_language(
    app: Flask, phone: CallSimulator
) -> None:
    rows = [measure(app, phone, locale) for locale in LOCALES]
    print("\n" + table(rows, app.extensions["hotline.settings"].speech_rate))
    too_long = [
        (row.locale, path, seconds)
        for row in rows
        for path, seconds, limit in _limits(row)
        if seconds > limit
    ]
    assert too_long == []


def _limits(row: PromptSeconds) -> list[tuple[str, float, float]]:
    return [
        ("presses 1 at once", row.at_once, TALKING_WITHIN_S),
        ("hears the menu, then 1", row.whole_menu, TALKING_WITHIN_S),
        ("presses nothing", row.silent, SILENT_CALLER_WITHIN_S),
    ]


@pytest.mark.parametrize(
    ("text", "locale", "rate", "seconds"),
    [
        ("您好，这里是社区热线。", "zh-CN", "100%", 9 / 4),
        ("按1", "zh-CN", "50%", 2 / 2),
        ("주민센터 민원 전화입니다.", "ko-KR", "100%", 11 / 5),
        ("Press 1 to report a problem.", "en-US", "100%", 6 / 2.5),
        ("Call 911 now.", "en-US", "100%", 5 / 2.5),  # nine, one, one
    ],
)
def test_seconds_are_estimated_from_syllables_or_words(
    text: str, locale: str, rate: str, seconds: float
) -> None:
    assert seconds_to_say(text, locale, rate) == pytest.approx(seconds)


def test_a_rate_without_a_number_cannot_be_estimated() -> None:
    assert rate_factor("85%") == pytest.approx(0.85)
    with pytest.raises(ValueError, match="percentage"):
        rate_factor("slow")
