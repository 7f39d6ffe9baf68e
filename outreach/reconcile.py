"""What Twilio holds that the hotline missed: recordings whose callbacks never got through.

A callback is lost when the hotline was down or answered it with an error until Twilio gave
up. Beat (tasks.recordings.reconcile_recordings) lists the account's recordings made since
its last successful run, less OVERLAP, and takes in every completed one the hotline does not
know, through the doors the webhooks use:

* on a call to the hotline's number: a voicemail (cases.intake.note_voicemail), with its
  call noted first when the hotline never saw it (cases.services.record_call);
* on one of our survey calls, after "not satisfied": that answer's comment
  (outreach.survey.note_comment);
* on any other call: left alone.

Then it is marked complete and queued for transcription, as the recording-status callback
does. A recording still being made is left for a later run. Everything is keyed on the
RecordingSid, so a webhook arriving late, at the same moment, lands on the same row and one
transcription is queued.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from cases.intake import note_voicemail
from cases.models import Call, Recording, Satisfaction
from cases.recordings import note_recording_status, queue_transcription
from cases.services import find_call, record_call
from hotline.db import db
from hotline.settings import current_settings
from hotline.telephony import CarrierRecording, Telephony, current_telephony
from hotline.telephony.local import LOCAL_NUMBER
from hotline.webhook_fields import CallerId
from outreach.models import FollowUp, FollowUpKind, SurveyResponse
from outreach.survey import note_comment

log = logging.getLogger(__name__)
CALLER = CallerId("From", Call.from_phone)
CALLED = CallerId("To", Call.to_phone)
# A recording still being made at the last run (up to HOTLINE_MAX_MESSAGE_SECONDS), and the
# difference between our clock and Twilio's.
OVERLAP = timedelta(minutes=10)
FIRST_LOOKBACK = timedelta(days=1)  # the first run ever
MAX_LOOKBACK = timedelta(days=7)  # after a long outage: what is older is no longer news


def window_start(last_success: datetime | None, moment: datetime) -> datetime:
    """Where this run's list begins: a little before the last good run, within limits."""
    if last_success is None:
        return moment - FIRST_LOOKBACK
    return max(last_success - OVERLAP, moment - MAX_LOOKBACK)


def take_in_missed_recordings(since: datetime) -> int:
    """Take in every completed recording since `since` that the hotline does not know."""
    telephony = current_telephony()
    listed = [found for found in telephony.recordings_since(since) if found.complete]
    sids = [found.sid for found in listed]
    known = set(
        db.session.scalars(select(Recording.recording_sid).where(Recording.recording_sid.in_(sids)))
    )
    taken = 0
    for found in reversed(listed):  # oldest first, as they were left
        if found.sid not in known and _take_in(telephony, found):
            taken += 1
    if taken:
        log.warning("took in %d recordings whose callbacks never reached the hotline", taken)
    return taken


def _take_in(telephony: Telephony, found: CarrierRecording) -> bool:
    answer = _survey_answer_on(found.call_sid)
    if answer is not None:
        recording = note_comment(answer, found.sid, found.call_sid)
    elif _hotline_call(telephony, found.call_sid) is not None:
        default = current_settings().default_locale
        recording, _ = note_voicemail(found.sid, found.call_sid, default)
    else:
        log.info("recording %s is not on a hotline call: left alone", found.sid)
        return False
    if recording is None:
        return False
    note_recording_status(recording, "completed", found.duration_s)
    queue_transcription(recording.id)
    return True


def _survey_answer_on(call_sid: str) -> SurveyResponse | None:
    """The "not satisfied" answered on this survey call: a recording on it is its comment."""
    return db.session.scalar(
        select(SurveyResponse)
        .join(FollowUp, SurveyResponse.follow_up_id == FollowUp.id)
        .where(
            FollowUp.call_sid == call_sid,
            FollowUp.kind == FollowUpKind.SURVEY_CALL,
            SurveyResponse.answer == Satisfaction.NOT_SATISFIED,
        )
        .order_by(SurveyResponse.id.desc())
        .limit(1)
    )


def _hotline_call(telephony: Telephony, call_sid: str) -> Call | None:
    """The call, if a resident made it to the hotline; noted now if the hotline never saw it."""
    call = find_call(call_sid)
    if call is not None or not call_sid:
        return call
    try:
        placed = telephony.fetch_call(call_sid)
    except LookupError:
        return None
    settings = current_settings()
    to_phone = CALLED.clean(placed.to_phone)
    if placed.direction != "inbound" or to_phone != (settings.hotline_number or LOCAL_NUMBER):
        return None
    # As the phone line keeps them: E.164, or a SIP or withheld caller ID as text.
    from_phone = CALLER.clean(placed.from_phone)
    return record_call(call_sid, from_phone, to_phone, "inbound", settings.default_locale)
