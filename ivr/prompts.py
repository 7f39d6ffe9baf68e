"""The prompt catalogue: one TOML file per locale, the same keys in each."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

LOCALES = ("zh-CN", "ko-KR", "en-US")


class Catalogue:
    def __init__(self, locale: str, entries: dict[str, Any]) -> None:
        self.locale = locale
        self._entries = entries

    def text(self, key: str, **values: Any) -> str:
        template = self._entries[key]
        return str(template).format(**values) if values else str(template)

    def status(self, status: str) -> str:
        return str(self._entries["status"][status])

    def next_step(self, status: str) -> str:
        return str(self._entries["next_step"][status])

    def digits(self, number: str) -> str:
        """A number read digit by digit, with a pause between digits for slow listeners."""
        return self.text("digit_separator").join(number)

    def keys(self) -> set[str]:
        return set(self._entries)


def supported_locale(locale: str | None, default: str) -> str:
    if locale in LOCALES:
        return str(locale)
    # A resident recorded as "ko" or "zh" still gets their language.
    prefix = (locale or "").split("-")[0].lower()
    return next((known for known in LOCALES if known.lower().startswith(prefix)), default)


@functools.cache
def catalogue(locale: str) -> Catalogue:
    text = (resources.files("ivr") / "prompts" / f"{locale}.toml").read_text(encoding="utf-8")
    return Catalogue(locale, tomllib.loads(text))
