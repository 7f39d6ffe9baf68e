"""The satisfaction survey call: what the resident hears and presses, and how the call ended.

Twilio fetches /ivr/survey/<follow_up_id> when the resident picks up. They hear, slowly and
in their language, which case this is (its number digit by digit) and what was done, then
press 1 satisfied, 2 basically satisfied, 3 not satisfied, * to hear it again. Silence: the
question is repeated once, then we thank them and hang up; the call then counts as not
answered ("no_input") and is retried like an unanswered call, then texted, then visited,
because a resident who cannot manage the keypad is best asked in person.
After 3 they may say what is still wrong; the recording is transcribed like a voicemail.
A progress-update call (a PROGRESS follow-up) uses the same URL and only tells the status.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.voice_response import VoiceResponse

from cases.models import CaseStatus, Recording
from cases.recordings import note_recording_status, queue_transcription
from hotline import spool
from hotline.db import db
from hotline.settings import current_settings
from hotline.twilio_signature import twilio_signed
from ivr import degraded, fields
from ivr.voice import Voice
from outreach import dispatcher
from outreach.models import FollowUp, FollowUpKind, FollowUpStatus, SurveyResponse
from outreach.schedule import contact_of, note_for
from outreach.survey import KEYPAD_ANSWERS, note_comment, record_answer

log = logging.getLogger(__name__)
bp = Blueprint("survey", __name__, url_prefix="/ivr/survey")

ANSWER_TIMEOUT_S = 8
SILENT_REPEATS = 1  # the question is asked again once after silence
COMMENT_MAX_S = 120
COMMENT_SILENCE_TIMEOUT_S = 10
LIVE = (FollowUpStatus.PLACING, FollowUpStatus.AWAITING)  # PLACING: SID not yet stored
# What the resident told us, kept in the spool while the database does not answer.
KEPT = frozenset({"survey.comment", "survey.comment_status", "survey.status"})
CALLBACKS = frozenset({"survey.comment_status", "survey.status"})  # heard by no one


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _attempt() -> int:
    try:
        return max(0, int(request.args.get("attempt", "0")))
    except ValueError:
        return 0


def _follow_up(follow_up_id: int) -> FollowUp | None:
    """The follow-up this call is for, if the call is still its live call."""
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.status not in LIVE:
        return None
    call_sid = fields.CALL_SID.read()
    if follow_up.call_sid not in (None, call_sid):
        log.warning("survey webhook for follow-up %s from another call", follow_up_id)
        return None
    return follow_up


def _voice(follow_up: FollowUp | None) -> Voice:
    settings = current_settings()
    locale = contact_of(follow_up.case).locale if follow_up else settings.default_locale
    return Voice(settings, locale)


def _goodbye(voice: Voice, key: str) -> Response:
    response = VoiceResponse()
    voice.say(response, key)
    response.hangup()
    return _twiml(response)


def _still_asking(follow_up: FollowUp | None) -> bool:
    return (
        follow_up is not None
        and follow_up.kind == FollowUpKind.SURVEY_CALL
        and follow_up.case.status == CaseStatus.RESOLVED
    )


def _add_question(response: VoiceResponse, voice: Voice, follow_up: FollowUp, attempt: int) -> None:
    case = follow_up.case
    gather = response.gather(
        input="dtmf",
        num_digits=1,
        timeout=ANSWER_TIMEOUT_S,
        action=f"/ivr/survey/{follow_up.id}/answer?attempt={attempt}",
        method="POST",
    )
    digits = voice.prompts.digits(case.number)
    # Only a note in the resident's language is read out; else a stock sentence in it.
    note = note_for(case, contact_of(case), voice.prompts)
    voice.say(gather, "survey_case", digits=digits, note=note)
    voice.say(gather, "survey_question")
    # Reached only when nothing was pressed: <Gather> falls through on silence.
    response.redirect(f"/ivr/survey/{follow_up.id}/silence?attempt={attempt}", method="POST")


def _greet(response: VoiceResponse, voice: Voice, follow_up: FollowUp) -> None:
    name = contact_of(follow_up.case).name
    if name:
        voice.say(response, "survey_greeting_known", name=name)
    else:
        voice.say(response, "survey_greeting")


@bp.post("/<int:follow_up_id>")
@twilio_signed
def answered(follow_up_id: int) -> Response:
    """Twilio's voice URL for the outbound call: greet, then ask (or tell the progress)."""
    if fields.ANSWERED_BY.read() in dispatcher.MACHINE:
        # An answering machine: leave nothing; the status callback counts it as unanswered.
        response = VoiceResponse()
        response.hangup()
        return _twiml(response)
    follow_up = _follow_up(follow_up_id)
    voice = _voice(follow_up)
    if follow_up is not None and follow_up.kind == FollowUpKind.PROGRESS:
        return _progress(voice, follow_up)
    if not _still_asking(follow_up):
        return _goodbye(voice, "survey_not_needed")
    assert follow_up is not None
    response = VoiceResponse()
    _greet(response, voice, follow_up)
    _add_question(response, voice, follow_up, attempt=0)
    return _twiml(response)


def _progress(voice: Voice, follow_up: FollowUp) -> Response:
    case = follow_up.case
    response = VoiceResponse()
    _greet(response, voice, follow_up)
    voice.say(
        response,
        "progress_call",
        digits=voice.prompts.digits(case.number),
        status=voice.prompts.status(case.status.value),
        next_step=voice.prompts.next_step(case.status.value),
    )
    voice.say(response, "survey_goodbye")
    response.hangup()
    return _twiml(response)


@bp.post("/<int:follow_up_id>/silence")
@twilio_signed
def silence(follow_up_id: int) -> Response:
    follow_up = _follow_up(follow_up_id)
    voice = _voice(follow_up)
    if not _still_asking(follow_up):
        return _goodbye(voice, "survey_not_needed")
    assert follow_up is not None
    attempt = _attempt()
    if attempt >= SILENT_REPEATS:
        return _goodbye(voice, "survey_no_input_goodbye")
    response = VoiceResponse()
    voice.say(response, "no_input")
    _add_question(response, voice, follow_up, attempt + 1)
    return _twiml(response)


@bp.post("/<int:follow_up_id>/answer")
@twilio_signed
def answer(follow_up_id: int) -> Response:
    """1 / 2 close the case, 3 reopens and escalates it, * repeats, anything else re-asks."""
    follow_up = _follow_up(follow_up_id)
    voice = _voice(follow_up)
    if not _still_asking(follow_up) or _already_answered(follow_up_id):
        return _goodbye(voice, "survey_not_needed")
    assert follow_up is not None
    digits = fields.DIGITS.read()
    response = VoiceResponse()
    if digits not in KEYPAD_ANSWERS:
        if digits != "*":
            voice.say(response, "invalid_choice")
        _add_question(response, voice, follow_up, _attempt())
        return _twiml(response)
    survey_answer = KEYPAD_ANSWERS[digits]
    record_answer(follow_up.case, survey_answer, "call", follow_up)
    db.session.commit()
    if digits != "3":
        return _goodbye(voice, "survey_thanks")
    return _ask_for_comment(voice, follow_up_id)


def _ask_for_comment(voice: Voice, follow_up_id: int) -> Response:
    """After a 3: sorry, and what is still wrong, if they like."""
    response = VoiceResponse()
    voice.say(response, "survey_sorry")
    voice.say(response, "survey_comment_intro")
    _add_comment_record(response, follow_up_id)
    voice.say(response, "survey_comment_none")  # only reached if nothing was recorded
    response.hangup()
    return _twiml(response)


def _already_answered(follow_up_id: int) -> bool:
    return _response_for(follow_up_id) is not None


def _response_for(follow_up_id: int) -> SurveyResponse | None:
    return db.session.scalar(
        select(SurveyResponse)
        .where(SurveyResponse.follow_up_id == follow_up_id)
        .order_by(SurveyResponse.id.desc())
        .limit(1)
    )


def _add_comment_record(response: VoiceResponse, follow_up_id: int) -> None:
    settings = current_settings()
    response.record(
        action=f"/ivr/survey/{follow_up_id}/comment",
        method="POST",
        max_length=COMMENT_MAX_S,
        finish_on_key="#",
        timeout=COMMENT_SILENCE_TIMEOUT_S,
        play_beep=True,
        recording_status_callback=f"{settings.public_url}/ivr/survey/{follow_up_id}/comment-status",
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )


def _note_comment(follow_up_id: int) -> Recording | None:
    """The comment's recording, noted once however often Twilio tells us."""
    response = _response_for(follow_up_id)
    if response is None:
        log.warning("a survey comment for follow-up %s without an answer", follow_up_id)
        return None
    return note_comment(response, fields.RECORDING_SID.require(), fields.CALL_SID.read())


@bp.post("/<int:follow_up_id>/comment")
@twilio_signed
def comment(follow_up_id: int) -> Response:
    """<Record>'s action: thank the resident. The recording may not be ready yet."""
    _note_comment(follow_up_id)
    if fields.RECORD_ENDED_BY.read() == "hangup":
        return _twiml(VoiceResponse())
    voice = _voice(db.session.get(FollowUp, follow_up_id))
    return _goodbye(voice, "survey_comment_thanks")


@bp.post("/<int:follow_up_id>/comment-status")
@twilio_signed
def comment_status(follow_up_id: int) -> Response:
    """recordingStatusCallback: the comment can be downloaded now (or Twilio heard nothing)."""
    status = fields.RECORDING_STATUS.read()
    if status in ("completed", "absent"):
        recording = _note_comment(follow_up_id)
        if recording is not None:
            note_recording_status(recording, status, fields.RECORDING_DURATION.read())
            queue_transcription(recording.id)
    return Response(status=204)


@bp.post("/<int:follow_up_id>/status")
@twilio_signed
def status(follow_up_id: int) -> Response:
    """Twilio's call status callback: the call's outcome, once, and what happens next."""
    dispatcher.note_call_outcome(
        follow_up_id,
        fields.CALL_SID.read(),
        fields.CALL_STATUS.read(),
        fields.ANSWERED_BY.read(),
    )
    return Response(status=204)


@bp.errorhandler(SQLAlchemyError)
def without_database(error: SQLAlchemyError) -> Response:
    """The database does not answer: the resident is still answered (in the default language:
    we cannot look them up), and their key and comment are kept until it does."""
    endpoint = request.endpoint or ""
    digits = request.form.get("Digits", "").strip()
    answered = endpoint == "survey.answer" and digits in KEYPAD_ANSWERS
    kept = spool.on_database_error(error, must_keep=endpoint in KEPT or answered)
    if endpoint in CALLBACKS:
        return Response(status=204 if kept else 503)
    voice = degraded.default_voice()
    if endpoint == "survey.comment":
        if digits == "hangup":
            return _twiml(VoiceResponse())
        return _goodbye(voice, "survey_comment_thanks")
    if not answered:  # the question cannot be read out without the case: call again later
        return _goodbye(voice, "survey_call_again")
    if digits != "3":
        return _goodbye(voice, "survey_thanks")
    # "Your case has been reopened" is true once the kept answer is stored.
    return _ask_for_comment(voice, int((request.view_args or {})["follow_up_id"]))
