"""Follow-up tasks: thin wrappers; the work lives in outreach/ (dispatcher, outbox, schedule).

Beat runs `dispatch_follow_ups` every 15 seconds and `schedule_progress_updates` hourly. Both
read the database; nothing here is ever published with a far-future ETA. Every task takes an
id, re-reads the world, and is safe to run twice (acks_late redelivers after a worker dies).
"""

from __future__ import annotations

import logging

from celery import Task, shared_task

import speech
from cases.events import EventKind
from cases.services import add_event
from hotline.db import db
from hotline.jobs import periodic
from hotline.settings import current_settings
from hotline.telephony import RecordingDownloadError, current_telephony
from outreach import dispatcher, outbox, schedule
from outreach.models import SurveyResponse
from outreach.survey import COMMENT_QUEUED
from tasks.voicemail import DOWNLOAD_ATTEMPTS, retry_delay

log = logging.getLogger(__name__)


@periodic(15.0)
def dispatch_follow_ups() -> dict[str, int]:
    """Beat: claim what is due (calls, texts, visits), publish it, re-publish what was lost."""
    report = dispatcher.dispatch_due()
    return vars(report)


@shared_task
def place_follow_up(follow_up_id: int) -> str:
    """Carry out one claimed follow-up: place the call, queue the text or the visit."""
    return dispatcher.place(follow_up_id)


@shared_task
def send_text(message_id: int) -> str:
    """Send one claimed text from the outbox."""
    status = outbox.send(message_id)
    return status.value if status else "not_ours"


@shared_task
def check_call_outcome(follow_up_id: int) -> str:
    """A placed call whose status callback never came: ask Twilio how it ended."""
    return dispatcher.check_call_outcome(follow_up_id)


@periodic(3600.0)
def schedule_progress_updates() -> int:
    """Beat, hourly: weekly progress updates for cases open more than a week."""
    return schedule.schedule_progress_updates()


@shared_task(bind=True, max_retries=DOWNLOAD_ATTEMPTS - 1)
def transcribe_survey_comment(self: Task, response_id: int) -> None:
    """What a dissatisfied resident said after the survey: downloaded, transcribed, on the
    case timeline. Done once per recording (SurveyResponse.comment_recording_sid is unique)."""
    response = db.session.get(SurveyResponse, response_id)
    if response is None or not response.comment_recording_sid or response.comment_transcript:
        return
    settings = current_settings()
    try:
        downloaded = current_telephony().download_recording(
            response.comment_recording_sid, settings.data_dir / "recordings"
        )
    except RecordingDownloadError as error:
        if self.request.retries < DOWNLOAD_ATTEMPTS - 1:
            raise self.retry(countdown=retry_delay(self.request.retries)) from error
        _comment_failed(response, f"could not download the comment: {error}")
        return
    response.comment_file_path = str(downloaded.path)
    db.session.commit()
    locale = schedule.contact_of(response.case).locale
    try:
        transcript = speech.current_recognizer().transcribe_file(downloaded.path, locale)
    except speech.SpeechError as error:
        _comment_failed(response, str(error))
        return
    response.comment_transcript = transcript.text
    add_event(
        response.case,
        EventKind.SURVEY_COMMENT,
        "resident",
        transcript=transcript.text,
        recording_sid=response.comment_recording_sid,
        no_speech=transcript.no_speech,
    )
    db.session.commit()


def _comment_failed(response: SurveyResponse, message: str) -> None:
    """The recording stays with the answer for staff to listen to; the timeline says why."""
    if response.comment_file_path == COMMENT_QUEUED:
        response.comment_file_path = ""
    add_event(
        response.case,
        EventKind.SURVEY_COMMENT,
        "resident",
        transcript="",
        recording_sid=response.comment_recording_sid,
        error=message,
    )
    db.session.commit()
    log.warning("survey comment of case %s: %s", response.case.number, message)
