"""The phone line: Twilio's voice webhooks, answered with slow, patient TwiML.

Every choice is one key, the same in every language: 1 leave a message, 2 hear the status of a
case, 0 talk to a person, 9 emergency, * or # repeat. Short, so that an elderly caller is
talking within 15 s (tests/ivr/test_prompt_seconds.py): everything said before a choice is
inside its <Gather>, so a key cuts it short, and a caller who presses nothing is taken to the
message after one menu. Nothing slow happens inside a request: the recording is only noted
here, and downloaded and transcribed by a Celery task. A database error in any of them is
answered by ivr.degraded, never with a 500.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request, send_file
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.voice_response import VoiceResponse

from cases import intake, recordings, services
from cases.models import Call, Case
from cases.permissions import phone_may_hear
from hotline.db import db
from hotline.i18n import supported_locale
from hotline.settings import current_settings
from hotline.twilio_signature import twilio_signed
from ivr import degraded, fields, twiml
from ivr.voice import Voice, recorded_prompt_path
from outreach.notices import text_status

log = logging.getLogger(__name__)
bp = Blueprint("ivr", __name__, url_prefix="/ivr")
bp.register_error_handler(SQLAlchemyError, degraded.answer)  # a caller never hears a 500


def _call() -> Call | None:
    """The call this webhook belongs to, noted on first sight (None if Twilio sent no CallSid)."""
    call_sid = fields.CALL_SID.read()
    if not call_sid:
        log.warning("voice webhook %s without a CallSid", request.path)
        return None
    settings = current_settings()
    return services.record_call(
        call_sid,
        from_phone=fields.FROM.read(),
        to_phone=fields.TO.read(),
        direction=fields.DIRECTION.read() or "inbound",
        locale=settings.default_locale,
    )


def _voice(call: Call | None) -> Voice:
    settings = current_settings()
    locale = call.locale if call else settings.default_locale
    return Voice(settings, supported_locale(locale, settings.default_locale))


def _add_case_status(response: VoiceResponse, voice: Voice, case: Case) -> None:
    prompts = voice.prompts
    voice.say(
        response,
        "status_report",
        digits=prompts.digits(case.number),
        status=prompts.status(case.status.value),
        next_step=prompts.next_step(case.status.value),
    )


@bp.post("/incoming")
@twilio_signed
def incoming() -> Response:
    call = _call()
    voice = _voice(call)
    response = VoiceResponse()
    if call and call.resident and call.resident.name:  # a number that only texted STOP has none
        twiml.add_menu(response, voice, ("welcome_known", {"name": call.resident.name}))
    else:
        twiml.add_menu(response, voice, ("welcome", {}))
    return twiml.as_response(response)


@bp.post("/menu")
@twilio_signed
def menu() -> Response:
    response = VoiceResponse()
    twiml.add_menu(response, _voice(_call()))
    return twiml.as_response(response)


@bp.post("/menu/silence")
@twilio_signed
def menu_silence() -> Response:
    """No key after a whole menu: never hang up on a silent caller, and do not make them sit
    through the menu again; they may not manage the keypad, but can speak."""
    voice = _voice(_call())
    response = VoiceResponse()
    voice.say(response, "no_input_to_message")
    twiml.add_record(response, voice, "record_intro")
    return twiml.as_response(response)


@bp.post("/menu/choice")
@twilio_signed
def menu_choice() -> Response:
    call = _call()
    voice = _voice(call)
    response = VoiceResponse()
    digits = fields.DIGITS.read()
    if digits == "1":
        twiml.add_record(response, voice, "record_intro")
    elif digits == "2":
        _answer_status(response, voice, call)
    elif digits == "0":
        twiml.add_person(response, voice, call.to_phone if call else None)
    elif digits == "9":
        _answer_emergency(response, voice, call)
    elif digits in ("*", "#"):
        twiml.add_menu(response, voice)
    else:
        twiml.add_menu(response, voice, ("invalid_choice", {}))
    return twiml.as_response(response)


def _answer_status(response: VoiceResponse, voice: Voice, call: Call | None) -> None:
    case = services.latest_open_case(call.from_phone) if call else None
    if case is not None:
        _add_case_status(response, voice, case)
        twiml.add_menu(response, voice, ("back_to_menu", {}))
        return
    gather = response.gather(
        input="dtmf",
        finish_on_key="#",
        timeout=twiml.MENU_TIMEOUT_S + 4,
        action="/ivr/status/lookup",
    )
    voice.say(gather, "status_none_for_caller")
    voice.say(gather, "status_ask_number")
    response.redirect("/ivr/menu", method="POST")


@bp.post("/status/lookup")
@twilio_signed
def status_lookup() -> Response:
    """A keyed-in case number: its status for the case's own phone and family; for anyone
    else, a text to the phone on the case (numbers are sequential, easy to guess)."""
    call = _call()
    voice = _voice(call)
    response = VoiceResponse()
    case = services.case_by_number(fields.DIGITS.read())
    if case is not None and phone_may_hear(call.from_phone if call else "", case):
        _add_case_status(response, voice, case)
    elif case is not None and text_status(case):
        db.session.commit()  # the queued text goes out once this commits
        voice.say(response, "status_texted")
    else:  # no such case, or one with no phone to text (an unknown caller's): nothing to say
        voice.say(response, "status_not_found")
    twiml.add_menu(response, voice, ("back_to_menu", {}))
    return twiml.as_response(response)


def _after_dial(unanswered_prompt: str) -> Response:
    voice = _voice(_call())
    dial_status = fields.DIAL_CALL_STATUS.read()
    return twiml.as_response(twiml.after_dial(voice, dial_status, unanswered_prompt))


@bp.post("/person/done")
@twilio_signed
def person_done() -> Response:
    return _after_dial("person_unavailable")


def _answer_emergency(response: VoiceResponse, voice: Voice, call: Call | None) -> None:
    if call is not None:
        intake.open_emergency_case(call)  # on-duty staff are texted as it opens
    twiml.add_emergency_dial(response, voice, call.to_phone if call else None)


@bp.post("/emergency/done")
@twilio_signed
def emergency_done() -> Response:
    return _after_dial("emergency_unanswered")


@bp.post("/recorded")
@twilio_signed
def recorded() -> Response:
    """<Record>'s action: thank the caller. There is no case number to read yet: the case
    opens once the message is known to hold speech (tasks.recordings), and its number is
    texted then; silence or noise goes on the call-back list instead."""
    call = _call()
    voice = _voice(call)
    nothing_recorded = twiml.nothing_recorded(request.form)
    if not nothing_recorded:
        recording_sid = fields.RECORDING_SID.require()
        intake.note_voicemail(recording_sid, call.call_sid if call else "", voice.locale)
    hung_up = fields.RECORD_ENDED_BY.read() == "hangup"
    return twiml.as_response(twiml.after_message(voice, nothing_recorded, hung_up))


@bp.post("/recording-status")
@twilio_signed
def recording_status() -> Response:
    """Twilio says the recording is ready (or that nothing was recorded): note it durably, then
    let a worker transcribe it."""
    settings = current_settings()
    recording, _ = intake.note_voicemail(
        fields.RECORDING_SID.require(), fields.CALL_SID.read(), settings.default_locale
    )
    recordings.note_recording_status(
        recording,
        status=fields.RECORDING_STATUS.read(),
        duration=fields.RECORDING_DURATION.read(),
    )
    recordings.queue_transcription(recording.id)
    return Response(status=204)


@bp.post("/fallback")
@twilio_signed
def fallback() -> Response:
    """Twilio's fallback URL, asked when the voice URL failed or was too slow: the menu of
    ivr.degraded, in the default language, without trying the database."""
    return twiml.as_response(degraded.short_menu(degraded.default_voice()))


@bp.get("/audio/<locale>/<filename>")
def recorded_prompt(locale: str, filename: str) -> Response:
    path = recorded_prompt_path(current_settings().data_dir, locale, filename)
    if path is None:
        abort(404)
    return send_file(path, max_age=3600)
