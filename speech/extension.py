"""The recognizer of an app: chosen once when the app is built, found by whoever needs it.

``speech.init_app(app)`` keeps a recognizer in ``app.extensions["speech"]`` (Vosk unless one
is given, e.g. a fake in tests); :func:`current_recognizer` is how tasks and commands get it.
"""

from __future__ import annotations

from functools import cache

from flask import Flask, current_app, has_app_context

from speech.port import Recognizer
from speech.recognizer import VoskRecognizer

__all__ = ["EXTENSION_KEY", "current_recognizer", "default_recognizer", "init_app"]

EXTENSION_KEY = "speech"


def init_app(app: Flask, recognizer: Recognizer | None = None) -> Recognizer:
    """Give ``app`` its recognizer: ``recognizer``, or this process's Vosk one."""
    chosen = recognizer if recognizer is not None else default_recognizer()
    app.extensions[EXTENSION_KEY] = chosen
    return chosen


def current_recognizer() -> Recognizer:
    """The current app's recognizer; outside an app (``python -m speech.cli``), Vosk's."""
    if has_app_context():
        recognizer: Recognizer | None = current_app.extensions.get(EXTENSION_KEY)
        if recognizer is not None:
            return recognizer
    return default_recognizer()


@cache
def default_recognizer() -> Recognizer:
    """One Vosk recognizer per process (its models are cached per process anyway)."""
    return VoskRecognizer()
