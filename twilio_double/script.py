"""What the simulated caller does: the script of a simulated call.

A script is a sequence of actions consumed strictly in order, one at each
point where Twilio waits for the caller: a ``<Gather>`` or a ``<Record>``.
``<Say>``, ``<Play>``, ``<Pause>`` and ``<Dial>`` consume nothing.

* :class:`Press` — key presses: the digits answer the next ``<Gather>``; at a
  ``<Record>`` a finishOnKey key ends the recording.
* :class:`Silence` — no input: a ``<Gather>`` times out, a ``<Record>`` hears
  only silence.
* :class:`Speak` — audio the caller says; taken by the next ``<Record>`` as
  the recording (at a DTMF ``<Gather>`` it is no input).
* :class:`Hangup` — the caller hangs up at the next input point.
* :class:`SpeakThenHangup` — says the audio into a ``<Record>`` and hangs up.

When the script runs out, the caller stays silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Press:
    """Press keys (``0-9``, ``*``, ``#``)."""

    digits: str


@dataclass(frozen=True)
class Silence:
    """Say and press nothing."""


@dataclass(frozen=True)
class Speak:
    """Speak ``audio`` (WAV bytes or a path to an audio file)."""

    audio: bytes | Path


@dataclass(frozen=True)
class Hangup:
    """Hang up."""


@dataclass(frozen=True)
class SpeakThenHangup:
    """Speak ``audio`` and hang up without pressing a key."""

    audio: bytes | Path


CallerAction = Press | Silence | Speak | Hangup | SpeakThenHangup
