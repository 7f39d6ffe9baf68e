"""Offline speech recognition for hotline voicemails (Vosk).

Public API::

    init_app(app, recognizer=None)        # the app factory: Vosk unless a recognizer is given
    current_recognizer() -> Recognizer    # what tasks and commands call
    Recognizer                            # the port: transcribe_file(path, locale), preload(...)
    VoskRecognizer                        # the adapter: models per locale, loaded once per process
    transcribe_file(path, locale="ko-KR") -> Transcript   # Vosk itself, without the port
    transcribe_chunks(chunks, sample_rate, locale=...) -> Transcript
    Transcript(text, words, duration_s, model_name, sample_rate, truncated).no_speech
    Transcript.confidence                 # the words' mean confidence (None: no words)
    Word(word, conf, start, end)
    loudness(path) -> Loudness(duration_s, sound_s, peak_dbfs, spread_db).silent / .steady
    heard(loudness, transcript) -> Heard.SPEECH | SILENCE | NOISE   # is it a message at all?
    heard_by_sound(loudness) -> Heard | None                        # without the words
    clear_speech(loudness | None, transcript) -> bool   # may staff rely on the words?
    preload(locales) -> list[Path]        # Vosk models loaded now (VoskRecognizer.preload)
    resolve_model_path(locale) -> Path
    install_model(spec, models_dir=..., locale=..., sha256=...) -> InstalledModel
    SpeechError, AudioUnreadable, ModelMissing, ModelInstallError

The CLI group is ``speech.cli.speech_group``; scoring helpers are in ``speech.metrics``.
Importing this package does not import vosk: that happens at the first model load.
"""

from speech.errors import AudioUnreadable, ModelInstallError, ModelMissing, SpeechError
from speech.extension import current_recognizer, init_app
from speech.models import InstalledModel, install_model, resolve_model_path
from speech.port import Recognizer, Transcript, Word
from speech.presence import Heard, Loudness, clear_speech, heard, heard_by_sound, loudness
from speech.recognizer import VoskRecognizer, preload, transcribe_chunks, transcribe_file

__all__ = [
    "AudioUnreadable",
    "Heard",
    "InstalledModel",
    "Loudness",
    "ModelInstallError",
    "ModelMissing",
    "Recognizer",
    "SpeechError",
    "Transcript",
    "VoskRecognizer",
    "Word",
    "clear_speech",
    "current_recognizer",
    "heard",
    "heard_by_sound",
    "init_app",
    "install_model",
    "loudness",
    "preload",
    "resolve_model_path",
    "transcribe_chunks",
    "transcribe_file",
]
