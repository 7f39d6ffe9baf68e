"""Turns a noted recording into a transcript, however the attempt goes, for every purpose.

A voicemail without a case yet is first judged: silence (its loudness) or noise (no word the
recognizer is sure of) goes on the call-back list and opens no case; speech opens the case and
fills it in (transcript, words, triage). A voicemail that already has its case (an emergency
call's, or one opened while the transcript was late) is filled in. A survey comment keeps its
transcript and goes on the case's timeline. Download, retries, errors and re-queueing are the
same for all (cases.recordings); when the machine fails for good, the voicemail's case opens
without a transcript, for staff to listen to.

Idempotent: the task takes a lease on the recording and keeps it alive while it works, so a
duplicate finds it held and does nothing; a recording already transcribed is left alone; and
should two tasks ever both transcribe it (a worker thought dead was only slow), the first to
move it out of PENDING applies its result and the other's transaction is rolled back. A worker
killed mid-task stops renewing the lease, and beat's sweep sends the recording again.
"""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import timedelta

from celery import Task, shared_task
from sqlalchemy import update

import speech
from cases.callbacks import call_back_instead
from cases.events import EventKind
from cases.intake import apply_triage, open_voicemail_case
from cases.models import (
    CallBackReason,
    Case,
    Recording,
    RecordingPurpose,
    RecordingStatus,
    TranscriptProblem,
)
from cases.recordings import (
    HEARTBEAT_S,
    SWEEP_EVERY_S,
    open_overdue_voicemails,
    renew_lease,
    requeue_stalled,
    retry_later,
    take_lease,
)
from cases.services import add_event
from hotline.clock import now
from hotline.db import db, moved_one_row
from hotline.jobs import heartbeat, last_success, periodic
from hotline.settings import current_settings
from hotline.task_budget import DOWNLOAD_ATTEMPTS, download_retry_delay, longest_transcription
from hotline.telephony import (
    DownloadedRecording,
    RecordingCredentialsRejected,
    RecordingDownloadError,
    TelephonyNotConfigured,
    current_telephony,
)
from outreach import reconcile

log = logging.getLogger(__name__)

RECONCILE_EVERY_S = 120.0
RECONCILE_JOB = "tasks.recordings.reconcile_recordings"
CREDENTIALS_REJECTED = (
    "The recording could not be fetched: Twilio rejected the hotline's account credentials "
    "— check TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN."
)


@shared_task(bind=True, max_retries=DOWNLOAD_ATTEMPTS - 1)
def transcribe_recording(self: Task, recording_id: int) -> None:
    task_id = self.request.id or uuid.uuid4().hex  # None when called as a plain function
    if not take_lease(recording_id, task_id, now()):
        return  # done already, or a live task holds it
    longest = longest_transcription(current_settings()).total_seconds()
    with heartbeat(functools.partial(renew_lease, recording_id, task_id), HEARTBEAT_S, longest):
        _transcribe(self, recording_id)


def _transcribe(self: Task, recording_id: int) -> None:
    recording = db.session.get(Recording, recording_id)
    assert recording is not None, "the lease was just taken on it"
    downloaded = _download(self, recording)
    if downloaded is None:
        return
    try:
        # Measured for every recording: it decides whether a voicemail opens a case, and
        # whether the words of one kept anyway (a survey comment) can be relied on.
        level = speech.loudness(downloaded.path)
        awaits_verdict = _awaits_verdict(recording)
        by_sound = speech.heard_by_sound(level) if awaits_verdict else None
        if by_sound is not None:  # silence, steady noise: no need for the recognizer
            _no_speech(recording, CallBackReason(by_sound.value), speech.Transcript(""), level)
            return
        locale = recording.locale or _case_of(recording).locale
        transcript = speech.current_recognizer().transcribe_file(downloaded.path, locale)
    except speech.SpeechError as error:
        _fail(recording, str(error), problem_of(error))
        return
    if awaits_verdict and speech.heard(level, transcript) == speech.Heard.NOISE:
        _no_speech(recording, CallBackReason.NOISE, transcript, level)
    elif recording.purpose == RecordingPurpose.SURVEY_COMMENT:
        if _transcribed(recording, transcript, level):
            _apply_comment(recording, transcript)
    else:
        open_voicemail_case(recording)  # first: it may roll back, should the sweep win
        if _transcribed(recording, transcript, level):
            _apply_transcript(recording, transcript)


def _download(self: Task, recording: Recording) -> DownloadedRecording | None:
    """The recording's file, retried with backoff; None when the task has given up or retries."""
    try:
        downloaded = current_telephony().download_recording(
            recording.recording_sid, current_settings().data_dir / "recordings"
        )
    except RecordingCredentialsRejected as error:
        # No retry mends wrong credentials: say so on the case at once.
        log.error("recording %s: %s", recording.recording_sid, error)
        _fail(
            recording,
            CREDENTIALS_REJECTED,
            TranscriptProblem.CREDENTIALS_REJECTED,
            EventKind.RECORDING_CREDENTIALS_REJECTED,
        )
        return None
    except RecordingDownloadError as error:
        if self.request.retries < DOWNLOAD_ATTEMPTS - 1:
            delay = download_retry_delay(current_settings(), self.request.retries)
            retry_later(recording, delay, str(error))
            raise self.retry(countdown=delay) from error
        _fail(
            recording,
            f"Could not download the recording after {recording.attempts} attempts: {error}",
            TranscriptProblem.DOWNLOAD_FAILED,
        )
        return None
    recording.file_path = str(downloaded.path)
    recording.content_type = downloaded.content_type
    db.session.commit()
    return downloaded


def _awaits_verdict(recording: Recording) -> bool:
    """A voicemail that has no case yet: whether it holds speech decides if it opens one."""
    return recording.purpose == RecordingPurpose.VOICEMAIL and recording.case_id is None


def _case_of(recording: Recording) -> Case:
    case = recording.case
    assert case is not None, "only a voicemail waiting for its verdict has no case"
    return case


def _settle(recording: Recording, status: RecordingStatus) -> bool:
    """Move the recording out of PENDING: True for the one task that does. Another task that
    got there first (a worker thought dead was only slow) wins; ours is rolled back, with the
    case it may have opened in the same transaction."""
    settled = moved_one_row(
        update(Recording)
        .where(Recording.id == recording.id, Recording.status == RecordingStatus.PENDING)
        .values(status=status, lease_until=None, lease_holder="")
        .execution_options(synchronize_session=False)
    )
    if not settled:
        db.session.rollback()
        log.info("recording %s was settled by another task", recording.recording_sid)
        return False
    recording.status = status
    return True


def _transcribed(
    recording: Recording, transcript: speech.Transcript, level: speech.Loudness | None
) -> bool:
    if not _settle(recording, RecordingStatus.TRANSCRIBED):
        return False
    recording.transcribed_at = now()
    recording.transcript = transcript.text
    recording.problem = _problem_of(transcript, level)
    recording.duration_s = recording.duration_s or transcript.duration_s
    return True


def problem_of(error: speech.SpeechError) -> TranscriptProblem:
    if isinstance(error, speech.ModelMissing):
        return TranscriptProblem.NO_MODEL
    if isinstance(error, speech.AudioUnreadable):
        return TranscriptProblem.UNREADABLE
    return TranscriptProblem.FAILED


def _no_speech(
    recording: Recording,
    reason: CallBackReason,
    transcript: speech.Transcript,
    level: speech.Loudness,
) -> None:
    """No case, no case number: staff call the number back. Unless its case opened meanwhile
    (the transcript was late): then the transcript fills that case in, flagged for staff."""
    if call_back_instead(recording, reason, transcript.text):
        log.info("recording %s holds no speech (%s)", recording.recording_sid, reason.value)
        return
    if _transcribed(recording, transcript, level):
        _apply_transcript(recording, transcript)


def _fail(
    recording: Recording,
    message: str,
    problem: TranscriptProblem,
    kind: EventKind = EventKind.TRANSCRIPTION_FAILED,
) -> None:
    """Give up on the machine, not on the resident: the recording stays for staff to hear, on
    a case (a voicemail opens its case now, without a transcript). Staff are told the problem
    in their words; the message (what to install, say) is for operators: the log and the API."""
    if recording.purpose == RecordingPurpose.VOICEMAIL:
        open_voicemail_case(recording)  # first: it may roll back, should the sweep win
    if not _settle(recording, RecordingStatus.FAILED):
        return
    recording.last_error = message
    case = _case_of(recording)
    if recording.purpose == RecordingPurpose.SURVEY_COMMENT:
        add_event(
            case,
            EventKind.SURVEY_COMMENT,
            "resident",
            transcript="",
            recording_sid=recording.recording_sid,
            error=message,
        )
    else:
        case.error = message
        case.problem = problem
        add_event(case, kind, error=message, problem=problem)
    db.session.commit()
    log.warning("case %s: %s", case.number, message)


def _apply_comment(recording: Recording, transcript: speech.Transcript) -> None:
    """What a dissatisfied resident said after the survey, on the case's timeline."""
    add_event(
        _case_of(recording),
        EventKind.SURVEY_COMMENT,
        "resident",
        transcript=transcript.text,
        recording_sid=recording.recording_sid,
        no_speech=transcript.no_speech,
        problem=recording.problem,
        confidence=transcript.confidence,
    )
    db.session.commit()


def _apply_transcript(recording: Recording, transcript: speech.Transcript) -> None:
    case = _case_of(recording)
    case.machine_transcript = transcript.text
    case.transcript = transcript.text
    case.transcript_words = [
        {"word": w.word, "conf": w.conf, "start": w.start, "end": w.end} for w in transcript.words
    ]
    case.no_speech = transcript.no_speech
    case.problem = recording.problem
    case.error = _operator_note(transcript, recording.problem)
    triaged = apply_triage(case, transcript.text, case.locale)
    add_event(
        case,
        EventKind.TRANSCRIBED,
        model=transcript.model_name,
        words=len(transcript.words),
        category=case.category,
        urgency=case.urgency.value,
        **triaged.reasons,
    )
    db.session.commit()


def _problem_of(
    transcript: speech.Transcript, level: speech.Loudness | None
) -> TranscriptProblem | None:
    """What staff are told to do instead of relying on the words (listen), if anything."""
    if transcript.no_speech:
        return TranscriptProblem.NO_SPEECH
    if not speech.clear_speech(level, transcript):
        return TranscriptProblem.UNCLEAR
    return TranscriptProblem.CUT_SHORT if transcript.truncated else None


def _operator_note(transcript: speech.Transcript, problem: TranscriptProblem | None) -> str:
    """The same for the API and the log, with the figure behind it."""
    notes = []
    if problem == TranscriptProblem.NO_SPEECH:
        notes.append("No speech recognised: listen to the recording.")
    elif problem == TranscriptProblem.UNCLEAR:
        notes.append(
            f"No clear speech (mean word confidence {transcript.confidence:.2f}, or the sound"
            " is noise): listen to the recording."
        )
    if transcript.truncated:
        notes.append("The recording was cut short.")
    return " ".join(notes)


@periodic(SWEEP_EVERY_S, lock_for=timedelta(minutes=1))
def requeue_stalled_recordings() -> int:
    """Beat, every 5 s: open the case of a message whose transcript is late, and re-send
    recordings whose task was lost, never published, or died with its worker. (Its lock lapses
    within a minute should the worker running it die.)"""
    moment = now()
    open_overdue_voicemails(moment)
    return requeue_stalled(moment)


@periodic(RECONCILE_EVERY_S, lock_for=timedelta(minutes=5))
def reconcile_recordings() -> int:
    """Beat, every 2 minutes: take in the recordings Twilio has whose callbacks never reached
    the hotline (outreach.reconcile), so a lost callback costs minutes, not a message."""
    since = reconcile.window_start(last_success(RECONCILE_JOB), now())
    try:
        return reconcile.take_in_missed_recordings(since)
    except TelephonyNotConfigured:
        return 0  # no Twilio account yet: nothing to ask
