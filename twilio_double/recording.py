"""How a ``<Record>`` turns the caller's script into a recording.

Twilio records the caller until a finishOnKey key, a hang-up, ``timeout``
seconds of silence or ``maxLength``; with ``trim="trim-silence"`` (the
default) leading and trailing silence is removed, and "if Twilio receives an
empty recording, it will not make a request to the action URL"
(twilio.com/docs/voice/twiml/record). Recordings are 8 kHz mono 16-bit WAV,
as phone-call recordings are.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from twilio_double import audio
from twilio_double.script import CallerAction, Hangup, Press, Speak, SpeakThenHangup

RATE = audio.TELEPHONE_RATE


@dataclass
class Take:
    """What the caller gave a ``<Record>``: speech, the ending key, hang-up or timeout."""

    speech: np.ndarray | None = None
    raw: bytes | None = None
    key: str | None = None
    hangup: bool = False
    timed_out: bool = False


def _pop(script: deque[CallerAction]) -> CallerAction | None:
    return script.popleft() if script else None


def _is_finish(action: CallerAction | None, finish: str) -> bool:
    return isinstance(action, Press) and action.digits[:1] != "" and action.digits[0] in finish


def take_recording(script: deque[CallerAction], finish: str, max_length: float) -> Take:
    """Consume the caller's actions for one ``<Record>`` (an exhausted script is silence)."""
    caller = _pop(script)
    if isinstance(caller, Speak | SpeakThenHangup):
        data = audio.read_audio_bytes(caller.audio)
        speech = audio.decode(data)
        raw = data if speech is None else None
        if isinstance(caller, SpeakThenHangup):
            return Take(speech, raw, hangup=True)
        if speech is not None and len(speech) >= max_length * RATE:
            return Take(speech, raw, timed_out=True)  # cut by maxLength
        return _end_of_speech(script, speech, raw, finish)
    if isinstance(caller, Press) and _is_finish(caller, finish):
        return Take(key=caller.digits[0])
    if isinstance(caller, Hangup):
        return Take(hangup=True)
    return Take(timed_out=True)


def _end_of_speech(
    script: deque[CallerAction], speech: np.ndarray | None, raw: bytes | None, finish: str
) -> Take:
    """After speaking, the caller presses a finish key, hangs up, or falls silent."""
    following = script[0] if script else None
    if isinstance(following, Press) and _is_finish(following, finish):
        script.popleft()
        return Take(speech, raw, key=following.digits[0])
    if isinstance(following, Hangup):
        script.popleft()
        return Take(speech, raw, hangup=True)
    return Take(speech, raw, timed_out=True)


def compose(take: Take, trim: bool, timeout: float, max_length: float) -> bytes | None:
    """The recorded WAV (8 kHz mono 16-bit), or ``None`` when it is empty.

    A recording ended by silence keeps ``timeout`` seconds of it (all of
    ``maxLength`` when ``timeout`` is 0) unless ``trim`` removes it. Audio the
    simulator cannot decode is passed through unchanged.
    """
    if take.raw is not None:
        return take.raw or None
    samples = take.speech if take.speech is not None else audio.silence(0)
    if take.timed_out:
        samples = np.concatenate([samples, audio.silence(timeout if timeout > 0 else max_length)])
    if trim:
        samples = audio.trim_silence(samples)
    samples = samples[: int(max_length * RATE)]
    return audio.encode(samples) if len(samples) else None


def recording_duration(wav: bytes) -> int:
    """Whole seconds, at least 1, as RecordingDuration reports a non-empty recording."""
    seconds = audio.wav_duration(wav)
    return max(1, round(seconds)) if seconds else 1
