"""The staff pages' words in the reader's language (the texts: messages/<locale>/staff/).

`t("inbox.title")` looks the key up in the signed-in user's language, then in English, and
shows the key itself if nobody wrote the text yet (so a missing word is visible, not fatal).
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_login import current_user

from hotline.i18n import FALLBACK, LOCALES, Message, staff_message, staff_text


def current_locale() -> str:
    """The signed-in user's language, else the browser's; worked out once per request."""
    if "locale" not in g:
        if current_user and getattr(current_user, "is_authenticated", False):
            g.locale = str(current_user.language)
        else:
            g.locale = request.accept_languages.best_match(LOCALES) or FALLBACK
    return str(g.locale)


def t(key: str, **values: Any) -> str:
    return staff_text(current_locale(), key, **values)


def say(message: Message) -> str:
    """A message handed up by the domain (a refusal, say) in the reader's language."""
    return staff_message(current_locale(), message)
