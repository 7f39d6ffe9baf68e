"""A recognizer for unit tests: says what it is told, at once, without loading Vosk.

Real Vosk stays in the contract tests (tests/speech) and the end-to-end runs (tests/e2e);
the unit tests' ``app`` transcribes with a :class:`FakeRecognizer`, and a test that needs to
say what is heard asks for the ``fake_recognizer`` fixture (``vosk_recognizer`` for real Vosk)::

    def test_x(app, fake_recognizer):
        fake_recognizer.reply = "가스 냄새 가 나요"            # words, confidence 0.9
        fake_recognizer.reply = ""                          # silence: no_speech
        fake_recognizer.reply = AudioUnreadable("...")      # raised
        fake_recognizer.reply = lambda path, locale: ...    # any of those, per call
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask

import speech
from speech import AudioUnreadable, SpeechError, Transcript, Word
from speech.extension import EXTENSION_KEY

Answer = str | Transcript | SpeechError
Reply = Answer | Callable[[Path, str], Answer]

FAKE_MODEL = "fake-recognizer"


def transcript_of(
    text: str, *, conf: float = 0.9, duration_s: float = 2.0, truncated: bool = False
) -> Transcript:
    """``text`` as Vosk would give it: one word per space-separated token, spread over
    ``duration_s`` with confidence ``conf``; an empty text is a recording without speech."""
    tokens = text.split()
    step = duration_s / max(len(tokens), 1)
    words = [Word(token, conf, i * step, (i + 1) * step) for i, token in enumerate(tokens)]
    return Transcript(" ".join(tokens), words, duration_s, FAKE_MODEL, 8000, truncated)


@dataclass
class FakeRecognizer:
    """A :class:`speech.Recognizer` that answers ``reply`` and remembers what it heard."""

    reply: Reply = "fake transcript"
    heard: list[tuple[Path, str]] = field(default_factory=list)
    preloaded: list[str] = field(default_factory=list)

    def transcribe_file(self, path: str | os.PathLike[str], locale: str) -> Transcript:
        file = Path(path)
        if not file.is_file():  # as Vosk's adapter does: a missing file is unreadable audio
            raise AudioUnreadable(f"The recording {file} is not there.", path=str(file))
        self.heard.append((file, locale))
        answer = self.reply(file, locale) if callable(self.reply) else self.reply
        if isinstance(answer, SpeechError):
            raise answer
        return answer if isinstance(answer, Transcript) else transcript_of(answer)

    def preload(self, locales: Iterable[str]) -> None:
        self.preloaded.extend(locales)


@contextmanager
def recognizing_with(app: Flask, recognizer: speech.Recognizer) -> Iterator[None]:
    """``app`` transcribes with ``recognizer`` until the block ends (apps may outlive a test)."""
    before = app.extensions[EXTENSION_KEY]
    speech.init_app(app, recognizer)
    try:
        yield
    finally:
        speech.init_app(app, before)


@pytest.fixture
def fake_recognizer(app: Flask) -> Iterator[FakeRecognizer]:
    """A fresh :class:`FakeRecognizer` for this test, to tell what to answer and to ask."""
    fake = FakeRecognizer()
    with recognizing_with(app, fake):
        yield fake


@pytest.fixture
def vosk_recognizer(app: Flask) -> Iterator[speech.VoskRecognizer]:
    """Real Vosk, for the few task tests that are about Vosk itself (mark them speech)."""
    vosk = speech.VoskRecognizer()
    with recognizing_with(app, vosk):
        yield vosk
