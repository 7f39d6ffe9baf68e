"""Every recording of a resident, whatever it is for, goes the same way.

    noted (a Twilio callback; idempotent on the RecordingSid)
      -> available (recordingStatusCallback "completed"; "absent": nothing was recorded)
      -> queued for transcription once (a conditional UPDATE; published after commit)
      -> downloaded, transcribed and applied by tasks.recordings, by purpose
      -> re-queued by beat if the task was lost or never published.

A voicemail opens its case once its transcript holds speech (or joins the call's emergency
case); silence or noise goes on the call-back list (cases.callbacks); one whose transcript
is late by OPEN_WITHOUT_TRANSCRIPT_AFTER, or failed for good, opens its case without one, for
staff to listen to. A survey comment is kept with its transcript on the case's timeline and
is playable on the case page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from cases.events import EventKind
from cases.intake import open_voicemail_case
from cases.models import Case, Recording, RecordingPurpose, RecordingStatus, TranscriptProblem
from cases.services import add_event, insert_or_get
from hotline.clock import now
from hotline.db import db, moved_one_row
from hotline.jobs import publish

TRANSCRIBE_TASK = "tasks.recordings.transcribe_recording"
STALLED_AFTER = timedelta(minutes=30)  # longer than every retry's backoff added up
UNCONFIRMED_AFTER = timedelta(minutes=10)  # Twilio's "completed" callback never came
# A message whose transcript is this late opens its case without one: staff listen instead.
OPEN_WITHOUT_TRANSCRIPT_AFTER = timedelta(minutes=5)
NO_AUDIO = "Twilio recorded no audio: please call the resident back."


def note_recording(
    case: Case, recording_sid: str, purpose: RecordingPurpose, locale: str, call_sid: str = ""
) -> tuple[Recording, bool]:
    """The row for this RecordingSid, made (and committed) on first sight; True if made now."""

    def lookup() -> Recording | None:
        return db.session.scalar(select(Recording).where(Recording.recording_sid == recording_sid))

    def make() -> Recording:
        recording = Recording(
            recording_sid=recording_sid,
            call_sid=call_sid,
            case=case,
            purpose=purpose,
            locale=locale,
        )
        db.session.add(recording)
        return recording

    return insert_or_get(make, lookup)


def note_recording_status(recording: Recording, status: str, duration: float | None) -> None:
    """What Twilio's recordingStatusCallback said (`duration`: seconds, finite, as the webhook
    read it); 'absent' means Twilio heard nothing."""
    # A voicemail without a case yet gets these events when its case opens, if it ever does.
    case = recording.case if recording.purpose == RecordingPurpose.VOICEMAIL else None
    if status == "completed" and not recording.available:
        recording.available = True
        recording.duration_s = duration
        if case is not None:
            add_event(case, EventKind.RECORDING_RECEIVED, duration_s=recording.duration_s)
    elif status == "absent" and recording.status == RecordingStatus.PENDING:
        # Nothing was recorded (# or a hang-up at the beep): no case, no text, no call-back.
        recording.status = RecordingStatus.FAILED
        recording.last_error = NO_AUDIO
        if case is not None:  # the message after an unanswered emergency call
            case.no_speech = True
            case.error = NO_AUDIO
            case.problem = TranscriptProblem.NO_AUDIO
            add_event(case, EventKind.RECORDING_ABSENT)
    db.session.commit()


def problem_key(case: Case) -> str | None:
    """The staff words (a key of messages/<locale>/staff/case.toml) for what went wrong with
    the case's transcript, if anything: what staff should do instead of reading it."""
    if case.problem is not None:
        return f"case.problem.{case.problem.value}"
    return "case.problem.other" if case.error else None


def queue_transcription(recording_id: int) -> bool:
    """Publish the transcription once, however many times Twilio repeats its callback.

    The claim and the publish go together: the task is published when the claim commits. If
    the broker refuses it, the claim is given back and beat's next sweep (a minute) tries
    again; a task lost after publishing is re-queued after STALLED_AFTER.
    """
    claimed = moved_one_row(
        update(Recording)
        .where(
            Recording.id == recording_id,
            Recording.available.is_(True),
            Recording.enqueued_at.is_(None),
            Recording.status == RecordingStatus.PENDING,
        )
        .values(enqueued_at=now())
        .execution_options(synchronize_session=False)
    )
    if claimed:
        give_back = (
            update(Recording)
            .where(Recording.id == recording_id, Recording.status == RecordingStatus.PENDING)
            .values(enqueued_at=None)
        )
        publish(TRANSCRIBE_TASK, recording_id, undo=give_back)
    db.session.commit()
    return claimed


def stalled_recordings(moment: datetime, limit: int = 100) -> list[Recording]:
    """Pending recordings whose task was lost, never published, or never confirmed by Twilio."""
    return list(
        db.session.scalars(
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
            .limit(limit)
        )
    )


def requeue_stalled(moment: datetime) -> int:
    stalled = stalled_recordings(moment)
    for recording in stalled:
        recording.available = True
        recording.enqueued_at = None
    db.session.commit()
    return sum(queue_transcription(recording.id) for recording in stalled)


def overdue_voicemails(moment: datetime, limit: int = 100) -> list[Recording]:
    """Voicemails still waiting for the transcript that would open their case."""
    return list(
        db.session.scalars(
            select(Recording)
            .where(
                Recording.purpose == RecordingPurpose.VOICEMAIL,
                Recording.case_id.is_(None),
                Recording.status == RecordingStatus.PENDING,
                Recording.created_at < moment - OPEN_WITHOUT_TRANSCRIPT_AFTER,
            )
            .order_by(Recording.id)
            .limit(limit)
        )
    )


def open_overdue_voicemails(moment: datetime) -> int:
    """Never lose a message to a slow or stuck transcription: open its case without one.

    The transcription goes on; when it finishes it fills in this case.
    """
    opened = 0
    for recording in overdue_voicemails(moment):
        if open_voicemail_case(recording) and recording.case is not None:
            recording.case.problem = TranscriptProblem.LATE  # until the transcript comes
            add_event(recording.case, EventKind.TRANSCRIPT_LATE)
            opened += 1
        db.session.commit()  # else its transcript came in the meantime
    return opened


def start_over(recording: Recording) -> None:
    """Staff asked for another go (a model was installed, a download failed)."""
    recording.status = RecordingStatus.PENDING
    recording.available = True
    recording.enqueued_at = None
    recording.last_error = ""
    if recording.case is not None:
        add_event(recording.case, EventKind.RETRANSCRIBE_REQUESTED)
    db.session.commit()
