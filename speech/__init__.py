"""Offline speech recognition for hotline voicemails (Vosk).

Public API::

    transcribe_file(path, locale="ko-KR") -> Transcript   # what the worker calls
    transcribe_chunks(chunks, sample_rate, locale=...) -> Transcript
    Transcript(text, words, duration_s, model_name, sample_rate, truncated).no_speech
    Word(word, conf, start, end)
    preload(locales)                      # in the worker's process-init hook
    resolve_model_path(locale) -> Path
    install_model(spec, models_dir=..., locale=..., sha256=...) -> InstalledModel
    SpeechError, AudioUnreadable, ModelMissing, ModelInstallError

The CLI group is ``speech.cli.speech_group``; scoring helpers are in ``speech.metrics``.
Importing this package does not import vosk: that happens at the first model load.
"""

from speech.errors import AudioUnreadable, ModelInstallError, ModelMissing, SpeechError
from speech.models import InstalledModel, install_model, resolve_model_path
from speech.recognizer import Transcript, Word, preload, transcribe_chunks, transcribe_file

__all__ = [
    "AudioUnreadable",
    "InstalledModel",
    "ModelInstallError",
    "ModelMissing",
    "SpeechError",
    "Transcript",
    "Word",
    "install_model",
    "preload",
    "resolve_model_path",
    "transcribe_chunks",
    "transcribe_file",
]
