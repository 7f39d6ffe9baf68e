"""Seconds of prompt before the beep, on three paths through the phone line, for one locale.

The call simulator plays the real TwiML; what it says is timed from its text
(ivr.speaking_time) at the configured speaking rate. Shared by tests/ivr/test_prompt_seconds.py
and benchmarks/prompt_seconds.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import Flask

from ivr.speaking_time import seconds_to_say
from tests.conftest import HOTLINE_NUMBER
from twilio_double.results import CallResult, GatherEvent, RecordEvent, SayEvent
from twilio_double.script import Hangup, Press, Silence
from twilio_double.simulator import CallSimulator

CALLER = "+8613800000077"  # a first-time caller: the line does not know their name yet
SILENT_SCRIPT = [Silence()] * 6 + [Hangup()]  # silent at every menu, and at the beep


@dataclass(frozen=True)
class PromptSeconds:
    """Estimated seconds before the beep for a caller who..."""

    locale: str
    at_once: float  # presses 1 as soon as a key is taken: only what no key can cut short
    whole_menu: float  # listens to everything, then presses 1
    silent: float  # presses nothing: every prompt, and the seconds the line waits for a key


HEADINGS = ("locale", "presses 1 at once", "hears the menu, then 1", "presses nothing")


def before_beep(result: CallResult) -> list[SayEvent | GatherEvent]:
    """What the caller met before the first beep (a <Record>)."""
    met: list[SayEvent | GatherEvent] = []
    for event in result.timeline:
        if isinstance(event, RecordEvent):
            return met
        met.append(event)
    raise AssertionError(f"the caller never reached the beep; they heard {result.said}")


def _seconds(met: list[SayEvent | GatherEvent], locale: str, rate: str, *, keys: bool) -> float:
    """Seconds of `met`; with `keys`, a key cut every prompt inside a <Gather> at its start."""
    total = 0.0
    for event in met:
        if isinstance(event, GatherEvent):
            total += event.timeout if event.outcome == "timeout" else 0.0
        elif not (keys and event.in_gather):
            total += seconds_to_say(event.text, locale, rate)
    return total


def measure(app: Flask, phone: CallSimulator, locale: str) -> PromptSeconds:
    """Play the three callers against `app`, as a centre whose language is `locale`."""
    settings = replace(app.extensions["hotline.settings"], default_locale=locale)
    app.extensions["hotline.settings"] = settings
    rate = settings.speech_rate
    pressed = before_beep(
        phone.call(CALLER, HOTLINE_NUMBER, [Press("1"), Hangup()], url="/ivr/incoming")
    )
    silent = before_beep(phone.call(CALLER, HOTLINE_NUMBER, SILENT_SCRIPT, url="/ivr/incoming"))
    return PromptSeconds(
        locale,
        at_once=_seconds(pressed, locale, rate, keys=True),
        whole_menu=_seconds(pressed, locale, rate, keys=False),
        silent=_seconds(silent, locale, rate, keys=False),
    )


def table(rows: list[PromptSeconds], speech_rate: str) -> str:
    """The figures as a small text table."""
    widths = [len(heading) for heading in HEADINGS]
    lines = [
        f"Seconds of prompt before the beep (estimated at speaking rate {speech_rate})",
        "  ".join(heading.ljust(width) for heading, width in zip(HEADINGS, widths, strict=True)),
    ]
    for row in rows:
        cells = (row.locale, f"{row.at_once:.1f}", f"{row.whole_menu:.1f}", f"{row.silent:.1f}")
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        )
    return "\n".join(lines)
