"""Exceptions of the speech package.

Every exception derives from :class:`SpeechError`, and ``str(error)`` is a complete sentence
meant to be shown to centre staff or the operator as it is (in the case view, a task's failure
reason, or the CLI). Callers should not need to add context to make it understandable.
"""

from __future__ import annotations

__all__ = ["AudioUnreadable", "ModelInstallError", "ModelMissing", "SpeechError"]


class SpeechError(Exception):
    """Base class: something about speech recognition failed; the message is for people."""


class AudioUnreadable(SpeechError):
    """A recording cannot be decoded: empty, truncated to nothing, corrupt, or not audio.

    ``path`` is the file concerned (as given by the caller).
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ModelMissing(SpeechError):
    """No usable speech model is configured or installed for a locale.

    ``locale`` is the locale asked for, ``path`` the configured path that was not usable
    (``None`` when nothing at all was configured), and ``env_var`` the setting to change.
    """

    def __init__(
        self,
        message: str,
        *,
        locale: str | None = None,
        path: str | None = None,
        env_var: str | None = None,
    ) -> None:
        super().__init__(message)
        self.locale = locale
        self.path = path
        self.env_var = env_var


class ModelInstallError(SpeechError):
    """Installing a speech model failed; nothing was installed (or the old model was kept)."""
