"""Every recording of a resident, whatever it is for, goes the same way.

    noted (a Twilio callback, or beat's reconciliation with Twilio; idempotent on the SID)
      -> available (recordingStatusCallback "completed"; "absent": nothing was recorded)
      -> queued for transcription once (a conditional UPDATE; published after commit)
      -> leased by the task that runs it, which keeps the lease alive while it works
      -> downloaded, transcribed and applied by tasks.recordings, by purpose, once (the
         conditional move out of PENDING decides, should two tasks ever run it)
      -> re-queued by beat, every 5 s, if the task was never published, was lost in the
         broker (QUEUED_STALE) or its worker died (the lease lapsed: LEASE).

Re-sending is harmless: a task that finds the lease held, or the recording done, does nothing.
The sweep is what makes a lost task cost seconds or minutes, not the broker's visibility
timeout. After a worker dies mid-transcription, its message is running again within LEASE +
SWEEP_EVERY_S (20 s). Emergency words then reach the on-duty staff that long after the death
plus a whole transcription (half the message's length): about a minute for a one-minute
message killed late in its decoding (benchmarks/worker_killed.py measures it).

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
SWEEP_EVERY_S = 5.0  # beat's sweep (tasks.recordings.requeue_stalled_recordings)
# A running task renews its lease every HEARTBEAT_S; five missed heartbeats (a database that
# hiccups longer at worst costs a duplicate, which does nothing) and its worker is dead.
LEASE = timedelta(seconds=15)
HEARTBEAT_S = 3.0
# A published task not started after this was lost in the broker (a Redis restart): sent
# again. A queue that is merely long gets a duplicate now and then, which does nothing.
QUEUED_STALE = timedelta(minutes=2)
UNCONFIRMED_AFTER = timedelta(minutes=3)  # Twilio's "completed" callback never came
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
    the broker refuses it, the claim is given back and beat's next sweep (5 s) tries again;
    a task lost after publishing is re-queued after QUEUED_STALE.
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


def take_lease(recording_id: int, task_id: str, moment: datetime) -> bool:
    """Hold a pending recording for the task about to run it: False when another live task
    holds it, or it is done. The same task retried (same id) takes its own lease back. Counts
    the attempt."""
    taken = moved_one_row(
        update(Recording)
        .where(
            Recording.id == recording_id,
            Recording.status == RecordingStatus.PENDING,
            or_(
                Recording.lease_until.is_(None),
                Recording.lease_until <= moment,
                Recording.lease_holder == task_id,
            ),
        )
        .values(lease_until=moment + LEASE, lease_holder=task_id, attempts=Recording.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return taken


def renew_lease(recording_id: int, task_id: str) -> bool:
    """The heartbeat of a running task: True while the recording is still pending and ours."""
    renewed = moved_one_row(
        update(Recording)
        .where(
            Recording.id == recording_id,
            Recording.status == RecordingStatus.PENDING,
            Recording.lease_holder == task_id,
        )
        .values(lease_until=now() + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return renewed


def retry_later(recording: Recording, seconds: int, error: str) -> None:
    """The task will run again in `seconds` (a download failed): the lease goes, and the wait
    counts as queued from then on, so a retry lost with its worker is re-sent too."""
    recording.last_error = error
    recording.lease_until = None
    recording.lease_holder = ""
    recording.enqueued_at = now() + timedelta(seconds=seconds)
    db.session.commit()


def stalled_recordings(moment: datetime, limit: int = 100) -> list[Recording]:
    """Pending recordings whose task was never published, was lost in the broker, or whose
    worker died; and those Twilio never confirmed."""
    return list(
        db.session.scalars(
            select(Recording)
            .where(
                Recording.status == RecordingStatus.PENDING,
                or_(
                    Recording.enqueued_at.is_(None) & Recording.available.is_(True),
                    Recording.lease_until.is_(None)
                    & (Recording.enqueued_at < moment - QUEUED_STALE),
                    Recording.lease_until < moment,
                    Recording.enqueued_at.is_(None)
                    & (Recording.created_at < moment - UNCONFIRMED_AFTER),
                ),
            )
            .order_by(Recording.id)
            .limit(limit)
        )
    )


def requeue_stalled(moment: datetime) -> int:
    """Publish the stalled recordings again, clearing any lapsed lease. Should its worker only
    have been slow, both may finish: the first to move the recording out of PENDING wins."""
    stalled = stalled_recordings(moment)
    for recording in stalled:
        recording.available = True
        recording.enqueued_at = None
        recording.lease_until = None
        recording.lease_holder = ""
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
    recording.lease_until = None
    recording.lease_holder = ""
    recording.last_error = ""
    if recording.case is not None:
        add_event(recording.case, EventKind.RETRANSCRIBE_REQUESTED)
    db.session.commit()
