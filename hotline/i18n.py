"""One loader for every word residents hear or read and staff see, in zh-CN, ko-KR and en-US.

The texts live in `messages/<locale>/`: `voice.toml` (the phone line), `sms.toml` (the text
line's replies) and `staff/<area>.toml` (the staff pages; keys are prefixed with the area, as in
"case.event.note"). Tables are flattened into dotted keys ("status.new"). Every locale has the
same keys with the same {placeholders}: tests/hotline/test_messages.py checks it.

One placeholder is the centre's, not the caller's: {emergency}, the emergency number(s) of the
centre's country (HOTLINE_EMERGENCY_NUMBERS, hotline.emergency), worded in the text's language
("120或119", "911"). `Catalogue.text` fills it wherever a text is rendered, so no reply, prompt
or follow-up can name the number of the wrong country.
"""

from __future__ import annotations

import functools
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal

from hotline.emergency import EmergencyNumbers
from hotline.settings import current_settings

LOCALES = ("zh-CN", "ko-KR", "en-US")
FALLBACK = "en-US"
Part = Literal["voice", "sms", "staff"]
PARTS: tuple[Part, ...] = ("voice", "sms", "staff")
EMERGENCY = "emergency"  # the placeholder of the centre's emergency numbers


@dataclass(frozen=True)
class Message:
    """Words not yet put into a language: a key and its values, worded for each reader.

    A value may itself be a Message (say, the name of a field), worded in the same language,
    or a tuple of Messages, worded and joined into a list.
    """

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


class Catalogue:
    """The texts of one part (voice, sms, staff) in one locale."""

    def __init__(self, locale: str, entries: dict[str, str], list_separator: str = ", ") -> None:
        self.locale = locale
        self._entries = entries
        self.list_separator = list_separator

    def text(self, key: str, **values: Any) -> str:
        """The text for `key` with its {placeholders} filled; KeyError if there is none.

        {emergency}, unless given, is the running centre's (an app context is needed then)."""
        template = self._entries[key]
        if EMERGENCY in self.placeholders(key) and EMERGENCY not in values:
            values[EMERGENCY] = self.emergency(current_settings().emergency_numbers)
        if not values:
            return template
        return template.format(**{name: self._word(value) for name, value in values.items()})

    def emergency(self, numbers: EmergencyNumbers) -> str:
        """The numbers to call, as this language says them: "120或119", "911"."""
        if numbers.one_number:
            return self.text("emergency.one", number=numbers.ambulance)
        return self.text("emergency.two", ambulance=numbers.ambulance, fire=numbers.fire)

    def get(self, key: str) -> str | None:
        return self._entries.get(key)

    def render(self, message: Message) -> str:
        return self.text(message.key, **message.values)

    def _word(self, value: Any) -> Any:
        if isinstance(value, tuple):
            return self.list_separator.join(str(self._word(item)) for item in value)
        return self.render(value) if isinstance(value, Message) else value

    def status(self, status: str) -> str:
        return self.text(f"status.{status}")

    def next_step(self, status: str) -> str:
        return self.text(f"next_step.{status}")

    def digits(self, number: str) -> str:
        """A number read digit by digit, with a pause between digits for slow listeners."""
        return self.text("digit_separator").join(number)

    def keys(self) -> set[str]:
        return set(self._entries)

    def placeholders(self, key: str) -> set[str]:
        """The {names} a text expects, so every language can be checked to ask for the same."""
        parsed = string.Formatter().parse(self._entries[key])
        return {name for _, name, _, _ in parsed if name is not None}


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """{"status": {"new": "..."}} as {"status.new": "..."}."""
    entries: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            entries.update(flatten(value, name))
        else:
            entries[name] = str(value)
    return entries


def _read(item: Traversable) -> dict[str, Any]:
    return tomllib.loads(item.read_text(encoding="utf-8"))


def _staff_entries(folder: Traversable) -> dict[str, str]:
    entries: dict[str, str] = {}
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.name.endswith(".toml"):
            entries.update(flatten(_read(item), item.name.removesuffix(".toml")))
    return entries


@functools.cache
def catalogue(locale: str, part: Part) -> Catalogue:
    """A locale's texts of one part, read once per process."""
    if locale not in LOCALES:
        raise LookupError(f"no messages for locale {locale!r}")
    folder = resources.files("messages") / locale
    if part == "staff":
        entries = _staff_entries(folder / "staff")
        return Catalogue(locale, entries, entries.get("common.list_separator", ", "))
    return Catalogue(locale, flatten(_read(folder / f"{part}.toml")))


def supported_locale(locale: str | None, default: str) -> str:
    if locale in LOCALES:
        return str(locale)
    # A resident recorded as "ko" or "zh" still gets their language.
    prefix = (locale or "").split("-")[0].lower()
    return next((known for known in LOCALES if known.lower().startswith(prefix)), default)


def staff_text(locale: str, key: str, **values: Any) -> str:
    """Staff words in `locale`, else English, else the key itself: a missing word is visible,
    not fatal (the catalogue test keeps every locale complete)."""
    words = catalogue(locale if locale in LOCALES else FALLBACK, "staff")
    english = catalogue(FALLBACK, "staff")
    if words.get(key) is not None:
        return words.text(key, **values)
    if english.get(key) is not None:
        return english.text(key, **values)
    return key


def staff_message(locale: str, message: Message) -> str:
    return staff_text(locale, message.key, **message.values)
