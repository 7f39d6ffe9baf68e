"""Offline transcription of recordings with Vosk: the adapter behind :mod:`speech.port`.

:class:`VoskRecognizer` is the recognizer the app uses (see :func:`speech.init_app`). Its
work is :func:`transcribe_file`: it resolves the model for the locale (:mod:`speech.models`),
streams the file through :class:`speech.audio.AudioStream` (which decides how the audio is
resampled; see that module for the measurements), and feeds a ``KaldiRecognizer`` with
per-word confidence and timing switched on.

Each ``vosk.Model`` is loaded once per process and path and shared by all threads (Vosk
models are read-only after loading; each transcription gets its own recognizer). The cache
belongs to the process, not to a :class:`VoskRecognizer`, so the apps built in one process
(tests build many) share the models. :meth:`VoskRecognizer.preload` runs in the worker's
process-init hook so the first task doesn't pay the load.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from speech.audio import AudioStream, choose_feed_rate, probe
from speech.errors import ModelMissing
from speech.models import model_name, model_problems, model_sample_rate, resolve_model_path
from speech.port import Transcript, Word

__all__ = [
    "Transcript",
    "VoskRecognizer",
    "Word",
    "display_text",
    "load_model",
    "preload",
    "transcribe_chunks",
    "transcribe_file",
]


# -- display normalisation --------------------------------------------------------------
_BRACKET_DIGITS = re.compile(r"\[(\d+)\]")
_PAREN_WORD = re.compile(r"\(([^()\s]+)\)")
_UNKNOWN = re.compile(r"^(\[unk\]|<unk>)$", re.IGNORECASE)


def display_text(raw: str) -> str:
    """Vosk's Korean number notation made readable: ``[17]`` → ``17``, ``(천)`` → ``천``.

    Unknown-word markers (``[unk]``, ``<unk>``) are dropped. :func:`speech.metrics.cer`
    reads digits back as Sino-Korean, so display text scores like the raw text.
    """
    words = []
    for token in raw.split():
        if _UNKNOWN.match(token):
            continue
        token = _PAREN_WORD.sub(r"\1", _BRACKET_DIGITS.sub(r"\1", token))
        if token:
            words.append(token)
    return " ".join(words)


# -- model cache ------------------------------------------------------------------------
_models: dict[Path, Any] = {}
_load_locks: dict[Path, threading.Lock] = {}
_registry_lock = threading.Lock()


def _vosk() -> Any:
    """Import vosk lazily (it loads a large shared library) with its logging silenced."""
    import vosk

    vosk.SetLogLevel(-1)
    return vosk


def load_model(path: Path | str) -> Any:
    """The ``vosk.Model`` for the folder ``path``, loaded on first use and then cached.

    Thread-safe: concurrent first calls for one folder load it once (a lock per folder, so
    loading one model doesn't hold up users of another). Raises :class:`ModelMissing` when
    the folder is not a model or Vosk cannot load it.
    """
    key = Path(path).resolve()
    model = _models.get(key)
    if model is not None:
        return model
    with _registry_lock:
        lock = _load_locks.setdefault(key, threading.Lock())
    with lock:
        model = _models.get(key)
        if model is None:
            problems = model_problems(key)
            if problems:
                raise ModelMissing(
                    f"The speech model folder {key} is not usable: {problems[0]}.",
                    path=str(key),
                )
            vosk = _vosk()
            try:
                model = vosk.Model(str(key))  # a path only: never name/lang (they download)
            except Exception as exc:
                raise ModelMissing(
                    f"Vosk could not load the speech model in {key} ({exc}); the files may "
                    "be damaged: reinstall it with 'hotline speech install NAME'.",
                    path=str(key),
                ) from exc
            _models[key] = model
        return model


def preload(locales: Iterable[str] = ("ko-KR",)) -> list[Path]:
    """Load the models for ``locales`` now (for a worker's process-init hook).

    Every locale is attempted, so one without a model doesn't stop the others from loading;
    afterwards :class:`ModelMissing` is raised listing those that failed. Returns the model
    folders loaded.
    """
    loaded: list[Path] = []
    failures: list[str] = []
    for locale in locales:
        try:
            path = resolve_model_path(locale)
            load_model(path)
        except ModelMissing as exc:
            failures.append(str(exc))
            continue
        if path not in loaded:
            loaded.append(path)
    if failures:
        raise ModelMissing(" ".join(failures))
    return loaded


# -- transcription ----------------------------------------------------------------------
def _collect(result_json: str, words: list[Word]) -> None:
    data = json.loads(result_json)
    for item in data.get("result", []) or []:
        text = display_text(str(item.get("word", "")))
        if text:
            words.append(
                Word(
                    word=text,
                    conf=float(item.get("conf", 0.0)),
                    start=float(item.get("start", 0.0)),
                    end=float(item.get("end", 0.0)),
                )
            )


def transcribe_chunks(
    chunks: Iterable[bytes],
    sample_rate: int,
    *,
    locale: str = "ko-KR",
    model_path: Path | str | None = None,
) -> Transcript:
    """Transcribe mono 16-bit little-endian PCM ``chunks`` at ``sample_rate``.

    The model is ``model_path`` or the one resolved for ``locale``. Results are collected
    across ``AcceptWaveform``/``Result`` (at each endpoint Vosk detects) and ``FinalResult``.
    ``truncated`` is always False here; :func:`transcribe_file` sets it from the file.
    """
    path = Path(model_path) if model_path is not None else resolve_model_path(locale)
    model = load_model(path)
    recognizer = _vosk().KaldiRecognizer(model, float(sample_rate))
    recognizer.SetWords(True)
    words: list[Word] = []
    n_bytes = 0
    for chunk in chunks:
        if not chunk:
            continue
        n_bytes += len(chunk)
        if recognizer.AcceptWaveform(chunk):
            _collect(recognizer.Result(), words)
    _collect(recognizer.FinalResult(), words)
    return Transcript(
        text=" ".join(w.word for w in words),
        words=words,
        duration_s=n_bytes / 2 / sample_rate,
        model_name=model_name(path),
        sample_rate=int(sample_rate),
        truncated=False,
    )


def transcribe_file(
    path: str | os.PathLike[str],
    locale: str = "ko-KR",
    *,
    model_path: Path | str | None = None,
) -> Transcript:
    """Transcribe the recording at ``path`` (any format :mod:`speech.audio` reads).

    Raises :class:`~speech.errors.AudioUnreadable` for files that aren't usable audio and
    :class:`~speech.errors.ModelMissing` when no model is available for ``locale``.
    A recording cut short is transcribed as far as it goes, with ``truncated=True``.
    """
    model_dir = Path(model_path) if model_path is not None else resolve_model_path(locale)
    info = probe(path)  # fail on unreadable files before loading a model
    feed_rate = choose_feed_rate(info.sample_rate, model_sample_rate(model_dir))
    load_model(model_dir)
    with AudioStream(path, target_rate=feed_rate) as stream:
        transcript = transcribe_chunks(stream, stream.rate, model_path=model_dir)
    return replace(transcript, truncated=stream.truncated)


class VoskRecognizer:
    """The :class:`speech.port.Recognizer` backed by the Vosk models of this machine.

    One model per locale, found by :func:`speech.models.resolve_model_path` (``VOSK_MODEL_PATH``,
    ``VOSK_MODEL_PATH_<LOCALE>``, installed and bundled models), loaded once per process.
    """

    def transcribe_file(self, path: str | os.PathLike[str], locale: str) -> Transcript:
        return transcribe_file(path, locale)

    def preload(self, locales: Iterable[str]) -> None:
        preload(locales)
