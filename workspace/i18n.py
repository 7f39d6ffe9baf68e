"""The staff pages' words in zh-CN, ko-KR and en-US: one TOML file per area and locale.

`t("inbox.title")` looks the key up in the signed-in user's language, then in English, and
shows the key itself if nobody wrote the text yet (so a missing word is visible, not fatal).
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

from flask import g, request
from flask_login import current_user

LOCALES = ("zh-CN", "ko-KR", "en-US")
FALLBACK = "en-US"


def _flatten(prefix: str, data: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@functools.cache
def catalogue(locale: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    folder = resources.files("workspace") / "i18n" / locale
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.name.endswith(".toml"):
            _flatten(
                item.name.removesuffix(".toml"), tomllib.loads(item.read_text("utf-8")), entries
            )
    return entries


def current_locale() -> str:
    """The signed-in user's language, else the browser's; worked out once per request."""
    if "locale" not in g:
        if current_user and getattr(current_user, "is_authenticated", False):
            g.locale = str(current_user.language)
        else:
            g.locale = request.accept_languages.best_match(LOCALES) or FALLBACK
    return str(g.locale)


def t(key: str, **values: Any) -> str:
    text = catalogue(current_locale()).get(key) or catalogue(FALLBACK).get(key) or key
    return text.format(**values) if values else text
