"""Turns a noted recording into a transcript, however the attempt goes, for every purpose.

A voicemail without a case yet is first judged: silence (its loudness) or noise (no word the
recognizer is sure of) goes on the call-back list and opens no case; speech opens the case and
fills it in (transcript, words, triage). A voicemail that already has its case (an emergency
call's, or one opened while the transcript was late) is filled in. A survey comment keeps its
transcript and goes on the case's timeline. Download, retries, errors and re-queueing are the
same for all (cases.recordings); when the machine fails for good, the voicemail's case opens
without a transcript, for staff to listen to. Idempotent: a recording already transcribed is
left alone, and a worker killed mid-task has its message redelivered (late acknowledgement).
"""

from __future__ import annotations

import logging

from celery import Task, shared_task

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
from cases.recordings import open_overdue_voicemails, requeue_stalled
from cases.services import add_event
from hotline.clock import now
from hotline.db import db
from hotline.jobs import periodic
from hotline.settings import current_settings
from hotline.telephony import (
    DownloadedRecording,
    RecordingCredentialsRejected,
    RecordingDownloadError,
    current_telephony,
)

log = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 5
CREDENTIALS_REJECTED = (
    "The recording could not be fetched: Twilio rejected the hotline's account credentials "
    "— check TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN."
)


def retry_delay(retries: int) -> int:
    return round(current_settings().retry_base_seconds * 2**retries)


@shared_task(bind=True, max_retries=DOWNLOAD_ATTEMPTS - 1)
def transcribe_recording(self: Task, recording_id: int) -> None:
    recording = db.session.get(Recording, recording_id)
    if recording is None or recording.status != RecordingStatus.PENDING:
        return
    recording.attempts += 1
    db.session.commit()
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
        _transcribed(recording, transcript, level)
        _apply_comment(recording, transcript)
    else:
        open_voicemail_case(recording)  # first: it may roll back, should the sweep win
        _transcribed(recording, transcript, level)
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
            recording.last_error = str(error)
            db.session.commit()
            raise self.retry(countdown=retry_delay(self.request.retries)) from error
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


def _transcribed(
    recording: Recording, transcript: speech.Transcript, level: speech.Loudness | None
) -> None:
    recording.status = RecordingStatus.TRANSCRIBED
    recording.transcribed_at = now()
    recording.transcript = transcript.text
    recording.problem = _problem_of(transcript, level)
    recording.duration_s = recording.duration_s or transcript.duration_s


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
    _transcribed(recording, transcript, level)
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
    recording.status = RecordingStatus.FAILED
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
        matched=list(triaged.matched),
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


@periodic(60.0)
def requeue_stalled_recordings() -> int:
    """Beat, every minute: open the case of a message whose transcript is late, and re-send
    recordings whose task was lost or never published."""
    moment = now()
    open_overdue_voicemails(moment)
    return requeue_stalled(moment)
