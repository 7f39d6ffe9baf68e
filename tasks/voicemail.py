"""Turns a noted recording into a transcribed, triaged case, however the attempt goes.

Idempotent and safe to repeat: a recording already transcribed is left alone, and a worker
killed mid-task has its message redelivered (late acknowledgement).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, shared_task
from sqlalchemy import or_, select

import speech
from cases.events import EventKind
from cases.intake import apply_triage
from cases.models import Case, Recording, RecordingStatus
from cases.services import add_event
from hotline.clock import now
from hotline.db import db
from hotline.jobs import periodic
from hotline.settings import current_settings
from hotline.telephony import RecordingDownloadError, current_telephony
from tasks import dispatch

log = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 5
STALLED_AFTER = timedelta(minutes=30)  # longer than every retry's backoff added up
UNCONFIRMED_AFTER = timedelta(minutes=10)  # Twilio's "completed" callback never came


def retry_delay(retries: int) -> int:
    return round(current_settings().retry_base_seconds * 2**retries)


@shared_task(bind=True, max_retries=DOWNLOAD_ATTEMPTS - 1)
def transcribe_recording(self: Task, recording_id: int) -> None:
    recording = db.session.get(Recording, recording_id)
    if recording is None or recording.status != RecordingStatus.PENDING:
        return
    recording.attempts += 1
    db.session.commit()
    settings = current_settings()
    try:
        downloaded = current_telephony().download_recording(
            recording.recording_sid, settings.data_dir / "recordings"
        )
    except RecordingDownloadError as error:
        if self.request.retries < DOWNLOAD_ATTEMPTS - 1:
            recording.last_error = str(error)
            db.session.commit()
            raise self.retry(countdown=retry_delay(self.request.retries)) from error
        _fail(
            recording,
            f"Could not download the recording after {recording.attempts} attempts: {error}",
        )
        return
    recording.file_path = str(downloaded.path)
    recording.content_type = downloaded.content_type
    db.session.commit()
    try:
        transcript = speech.current_recognizer().transcribe_file(
            downloaded.path, recording.case.locale
        )
    except speech.SpeechError as error:
        _fail(recording, str(error))
        return
    _apply_transcript(recording, transcript)


def _fail(recording: Recording, message: str) -> None:
    """Give up on the machine, not on the resident: the case stays, with the error for staff."""
    recording.status = RecordingStatus.FAILED
    recording.last_error = message
    recording.case.error = message
    add_event(recording.case, EventKind.TRANSCRIPTION_FAILED, error=message)
    db.session.commit()
    log.warning("case %s: %s", recording.case.number, message)


def _apply_transcript(recording: Recording, transcript: speech.Transcript) -> None:
    case: Case = recording.case
    case.machine_transcript = transcript.text
    case.transcript = transcript.text
    case.transcript_words = [
        {"word": w.word, "conf": w.conf, "start": w.start, "end": w.end} for w in transcript.words
    ]
    case.no_speech = transcript.no_speech
    case.error = ""
    if transcript.no_speech:
        case.error = "No speech recognised: listen to the recording."
    if transcript.truncated:
        case.error = (case.error + " The recording was cut short.").strip()
    triaged = apply_triage(case, transcript.text, case.locale)
    recording.status = RecordingStatus.TRANSCRIBED
    recording.transcribed_at = now()
    recording.duration_s = recording.duration_s or transcript.duration_s
    add_event(
        case,
        EventKind.TRANSCRIBED,
        model=transcript.model_name,
        words=len(transcript.words),
        category=case.category,
        urgency=case.urgency.value,
        matched=list(triaged.matched),
    )
    db.session.commit()


def retranscribe(case: Case) -> None:
    """Staff asked for another go (a model was installed, or a download failed): start over."""
    recording = case.recording
    if recording is None:
        raise ValueError(f"case {case.number} has no recording")
    recording.status = RecordingStatus.PENDING
    recording.available = True
    recording.enqueued_at = None
    recording.last_error = ""
    add_event(case, EventKind.RETRANSCRIBE_REQUESTED)
    db.session.commit()


@periodic(60.0)
def requeue_stalled_recordings() -> int:
    """Beat, every minute: re-send recordings whose task was lost or never published."""
    moment = now()
    stalled = db.session.scalars(
        select(Recording)
        .where(
            Recording.status == RecordingStatus.PENDING,
            or_(
                Recording.enqueued_at.is_(None) & Recording.available.is_(True),
                Recording.enqueued_at < moment - STALLED_AFTER,
                Recording.enqueued_at.is_(None)
                & (Recording.created_at < moment - UNCONFIRMED_AFTER),
            ),
        )
        .limit(100)
    ).all()
    for recording in stalled:
        recording.available = True
        recording.enqueued_at = None
    db.session.commit()
    return sum(dispatch.transcription(recording.id) for recording in stalled)
