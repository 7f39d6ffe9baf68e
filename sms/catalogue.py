"""The replies of the text line: one TOML file per locale (sms/replies/), the same keys in each."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

from ivr.prompts import LOCALES, supported_locale

__all__ = ["LOCALES", "Replies", "replies", "supported_locale"]


class Replies:
    def __init__(self, locale: str, entries: dict[str, Any]) -> None:
        self.locale = locale
        self._entries = entries

    def text(self, key: str, **values: Any) -> str:
        return str(self._entries[key]).format(**values)

    def status(self, number: str, status: str) -> str:
        """A case's status in one text: its number, where it stands and what happens next."""
        return self.text(
            "status_report",
            number=number,
            status=self._entries["status"][status],
            next_step=self._entries["next_step"][status],
        )

    def keys(self) -> set[str]:
        return {key for key, value in self._entries.items() if isinstance(value, str)}


@functools.cache
def replies(locale: str) -> Replies:
    text = (resources.files("sms") / "replies" / f"{locale}.toml").read_text(encoding="utf-8")
    return Replies(locale, tomllib.loads(text))
