"""Turns a noted recording into a transcript, however the attempt goes, for every purpose.

A voicemail fills in its case (transcript, words, triage); a survey comment keeps its
transcript and goes on the case's timeline. Download, retries, errors and re-queueing are the
same for both (cases.recordings). Idempotent: a recording already transcribed is left alone,
and a worker killed mid-task has its message redelivered (late acknowledgement).
"""

from __future__ import annotations

import logging

from celery import Task, shared_task

import speech
from cases.events import EventKind
from cases.intake import apply_triage
from cases.models import Case, Recording, RecordingPurpose, RecordingStatus, TranscriptProblem
from cases.recordings import requeue_stalled
from cases.services import add_event
from hotline.clock import now
from hotline.db import db
from hotline.jobs import periodic
from hotline.settings import current_settings
from hotline.telephony import RecordingDownloadError, current_telephony

log = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 5


def retry_delay(retries: int) -> int:
    return round(current_settings().retry_base_seconds * 2**retries)


@shared_task(bind=True, max_retries=DOWNLOAD_ATTEMPTS - 1)
def transcribe_recording(self: Task, recording_id: int) -> None:
    recording = db.session.get(Recording, recording_id)
    if recording is None or recording.status != RecordingStatus.PENDING:
        return
    recording.attempts += 1
    db.session.commit()
    try:
        downloaded = current_telephony().download_recording(
            recording.recording_sid, current_settings().data_dir / "recordings"
        )
    except RecordingDownloadError as error:
        if self.request.retries < DOWNLOAD_ATTEMPTS - 1:
            recording.last_error = str(error)
            db.session.commit()
            raise self.retry(countdown=retry_delay(self.request.retries)) from error
        _fail(
            recording,
            f"Could not download the recording after {recording.attempts} attempts: {error}",
            TranscriptProblem.DOWNLOAD_FAILED,
        )
        return
    recording.file_path = str(downloaded.path)
    recording.content_type = downloaded.content_type
    db.session.commit()
    locale = recording.locale or recording.case.locale
    try:
        transcript = speech.current_recognizer().transcribe_file(downloaded.path, locale)
    except speech.SpeechError as error:
        _fail(recording, str(error), problem_of(error))
        return
    recording.status = RecordingStatus.TRANSCRIBED
    recording.transcribed_at = now()
    recording.transcript = transcript.text
    recording.duration_s = recording.duration_s or transcript.duration_s
    if recording.purpose == RecordingPurpose.SURVEY_COMMENT:
        _apply_comment(recording, transcript)
    else:
        _apply_transcript(recording, transcript)


def problem_of(error: speech.SpeechError) -> TranscriptProblem:
    if isinstance(error, speech.ModelMissing):
        return TranscriptProblem.NO_MODEL
    if isinstance(error, speech.AudioUnreadable):
        return TranscriptProblem.UNREADABLE
    return TranscriptProblem.FAILED


def _fail(recording: Recording, message: str, problem: TranscriptProblem) -> None:
    """Give up on the machine, not on the resident: the recording stays for staff to hear.
    Staff are told the problem in their words; the message (what to install, say) is for
    operators: the log and the API."""
    recording.status = RecordingStatus.FAILED
    recording.last_error = message
    if recording.purpose == RecordingPurpose.SURVEY_COMMENT:
        add_event(
            recording.case,
            EventKind.SURVEY_COMMENT,
            "resident",
            transcript="",
            recording_sid=recording.recording_sid,
            error=message,
        )
    else:
        recording.case.error = message
        recording.case.problem = problem
        add_event(recording.case, EventKind.TRANSCRIPTION_FAILED, error=message, problem=problem)
    db.session.commit()
    log.warning("case %s: %s", recording.case.number, message)


def _apply_comment(recording: Recording, transcript: speech.Transcript) -> None:
    """What a dissatisfied resident said after the survey, on the case's timeline."""
    add_event(
        recording.case,
        EventKind.SURVEY_COMMENT,
        "resident",
        transcript=transcript.text,
        recording_sid=recording.recording_sid,
        no_speech=transcript.no_speech,
    )
    db.session.commit()


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
    case.problem = _problem_of(transcript)
    triaged = apply_triage(case, transcript.text, case.locale)
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


def _problem_of(transcript: speech.Transcript) -> TranscriptProblem | None:
    if transcript.no_speech:
        return TranscriptProblem.NO_SPEECH
    return TranscriptProblem.CUT_SHORT if transcript.truncated else None


@periodic(60.0)
def requeue_stalled_recordings() -> int:
    """Beat, every minute: re-send recordings whose task was lost or never published."""
    return requeue_stalled(now())
