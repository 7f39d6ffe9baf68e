"""The recognizer port: what the rest of the hotline needs from speech recognition.

Callers get a :class:`Recognizer` from :func:`speech.current_recognizer` and never know
which engine is behind it: Vosk in production (:class:`speech.recognizer.VoskRecognizer`),
a fake in unit tests. A recognizer raises :class:`~speech.errors.SpeechError` (with a message
for staff) when it cannot transcribe.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Recognizer", "Transcript", "Word"]


@dataclass(frozen=True)
class Word:
    """One recognised word: text (display form), confidence 0–1, start and end in seconds."""

    word: str
    conf: float
    start: float
    end: float


@dataclass(frozen=True)
class Transcript:
    """The result of transcribing one recording.

    ``text`` is the display text (words joined by spaces), ``duration_s`` the seconds of audio
    decoded, ``model_name`` which model produced it, ``sample_rate`` the rate the recognizer was
    fed at, and ``truncated`` whether the file was cut short (what was there is transcribed).
    """

    text: str
    words: list[Word] = field(default_factory=list)
    duration_s: float = 0.0
    model_name: str = ""
    sample_rate: int = 0
    truncated: bool = False

    @property
    def no_speech(self) -> bool:
        """True when nothing was recognised (silence, noise, or an empty recording)."""
        return not self.words

    @property
    def confidence(self) -> float | None:
        """The recognised words' mean confidence, 0–1; None when there are none."""
        if not self.words:
            return None
        return sum(word.conf for word in self.words) / len(self.words)


class Recognizer(Protocol):
    """Speech to text for recordings, one language at a time."""

    def transcribe_file(self, path: str | os.PathLike[str], locale: str) -> Transcript:
        """The transcript of the recording at ``path``, spoken in ``locale`` (e.g. ko-KR).

        Raises :class:`~speech.errors.SpeechError` when the audio or the model is unusable.
        """
        ...

    def preload(self, locales: Iterable[str]) -> None:
        """Get ready for ``locales`` now (a worker's start), not inside the first task.

        Raises :class:`~speech.errors.SpeechError` naming the locales that cannot be served,
        after trying every one of them.
        """
        ...
