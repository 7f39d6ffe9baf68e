"""WAV helpers for the Twilio double: what a phone call recording looks like.

Twilio's ``<Record>`` produces a mono recording of the caller at telephone
quality (8 kHz). These helpers turn a test clip into such a recording, add or
trim silence the way ``trim``/``timeout`` would, and measure WAV durations for
the ``duration`` fields of recordings. Anything that is not a readable audio
file is passed through untouched (the double must also be able to serve junk).
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

TELEPHONE_RATE = 8000
SILENCE_THRESHOLD = 1e-3  # peak amplitude (full scale = 1.0) below which audio is "silent"


def read_audio_bytes(audio: bytes | Path | str) -> bytes:
    """Return the bytes of ``audio`` (a path is read from disk)."""
    if isinstance(audio, bytes | bytearray):
        return bytes(audio)
    return Path(audio).read_bytes()


def wav_duration(data: bytes) -> float | None:
    """Duration in seconds from a WAV header, or ``None`` if ``data`` is not a WAV."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            rate = w.getframerate()
            return w.getnframes() / rate if rate else None
    except (wave.Error, EOFError):
        pass
    decoded = decode(data)
    return None if decoded is None else len(decoded) / TELEPHONE_RATE


def decode(data: bytes) -> np.ndarray | None:
    """Decode any soundfile-readable audio to mono float32 at 8 kHz, or ``None``."""
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        return None
    mono = samples.mean(axis=1).astype(np.float32)
    if rate != TELEPHONE_RATE and len(mono):
        mono = soxr.resample(mono, rate, TELEPHONE_RATE).astype(np.float32)
    return mono


def encode(samples: np.ndarray) -> bytes:
    """Encode mono float samples (8 kHz) as a 16-bit PCM WAV."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(TELEPHONE_RATE)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def silence(seconds: float) -> np.ndarray:
    """``seconds`` of digital silence at 8 kHz."""
    return np.zeros(max(0, round(seconds * TELEPHONE_RATE)), dtype=np.float32)


def silence_wav(seconds: float) -> bytes:
    """A WAV of ``seconds`` of silence, 8 kHz mono 16-bit."""
    return encode(silence(seconds))


def is_silent(samples: np.ndarray) -> bool:
    """True when no sample rises above the silence threshold."""
    return not len(samples) or float(np.max(np.abs(samples))) < SILENCE_THRESHOLD


def trim_silence(samples: np.ndarray) -> np.ndarray:
    """Drop leading and trailing silence, as ``trim="trim-silence"`` does."""
    loud = np.flatnonzero(np.abs(samples) >= SILENCE_THRESHOLD)
    if not len(loud):
        return samples[:0]
    return samples[loud[0] : loud[-1] + 1]
