"""The phone line: Twilio's voice webhooks, answered with slow, patient TwiML.

Every choice is one key, the same in every language: 1 leave a message, 2 hear the status of a
case, 0 talk to a person, 9 emergency, * or # repeat. Short, so that an elderly caller is
talking within 15 s (tests/ivr/test_prompt_seconds.py): everything said before a choice is
inside its <Gather>, so a key cuts it short, and a caller who presses nothing is taken to the
message after one menu. Nothing slow happens inside a request: the recording is only noted
here, and downloaded and transcribed by a Celery task.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Response, abort, request, send_file
from twilio.twiml.voice_response import Dial, VoiceResponse

from cases import intake, recordings, services
from cases.models import Call, Case
from cases.permissions import phone_may_hear
from hotline import clock
from hotline.db import db
from hotline.i18n import supported_locale
from hotline.settings import current_settings
from hotline.twilio_signature import twilio_signed
from ivr.voice import Voice, recorded_prompt_path
from outreach.notices import text_status

log = logging.getLogger(__name__)
bp = Blueprint("ivr", __name__, url_prefix="/ivr")

MENU_TIMEOUT_S = 8  # seconds of silence before the menu counts as unanswered
RECORD_SILENCE_TIMEOUT_S = 10  # older callers pause; don't cut them off after Twilio's 5 s
DIAL_TIMEOUT_S = 25
RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _call() -> Call | None:
    """The call this webhook belongs to, noted on first sight (None if Twilio sent no CallSid)."""
    call_sid = request.form.get("CallSid", "").strip()
    if not call_sid:
        log.warning("voice webhook %s without a CallSid", request.path)
        return None
    settings = current_settings()
    return services.record_call(
        call_sid,
        from_phone=request.form.get("From", "").strip(),
        to_phone=request.form.get("To", "").strip(),
        direction=request.form.get("Direction", "inbound"),
        locale=settings.default_locale,
    )


def _voice(call: Call | None) -> Voice:
    settings = current_settings()
    locale = call.locale if call else settings.default_locale
    return Voice(settings, supported_locale(locale, settings.default_locale))


Prompt = tuple[str, dict[str, Any]]  # a key of voice.toml and its {placeholders}


def _add_menu(response: VoiceResponse, voice: Voice, *lead: Prompt) -> None:
    """The menu, with what leads to it (a welcome, "back to the menu"), all in one <Gather>:
    a caller who knows the keys presses at once. No finish key, so # is a choice too."""
    gather = response.gather(
        input="dtmf",
        num_digits=1,
        finish_on_key="",
        timeout=MENU_TIMEOUT_S,
        action="/ivr/menu/choice",
        method="POST",
    )
    for key, values in lead:
        voice.say(gather, key, **values)
    voice.say(gather, "menu")
    # Reached only when the caller pressed nothing: <Gather> falls through on silence.
    response.redirect("/ivr/menu/silence", method="POST")


def _opening_words(voice: Voice) -> str:
    """When a person answers again: "today at 13:00" or "tomorrow at 07:00", in the centre's
    time zone."""
    settings = current_settings()
    local = clock.local_now(settings.timezone)
    opens = clock.next_opening(settings.service_hours, settings.timezone, local)
    day = "today" if opens.date() == local.date() else "tomorrow"
    return voice.prompts.text(f"opens.{day}", time=f"{opens:%H:%M}")


def _add_record(response: VoiceResponse, voice: Voice, prompt: str | None) -> None:
    settings = current_settings()
    if prompt == "record_after_hours":
        voice.say(response, prompt, opens=_opening_words(voice))
    elif prompt:
        voice.say(response, prompt)
    response.record(
        action="/ivr/recorded",
        method="POST",
        max_length=settings.max_message_seconds,
        finish_on_key="#",
        timeout=RECORD_SILENCE_TIMEOUT_S,
        play_beep=True,
        trim="do-not-trim",
        recording_status_callback=f"{settings.public_url}/ivr/recording-status",
        recording_status_callback_method="POST",
        recording_status_callback_event="completed absent",
    )
    # Only reached if Twilio recorded nothing at all.
    voice.say(response, "record_nothing_heard")
    response.redirect("/ivr/menu", method="POST")


def _add_dial(response: VoiceResponse, action: str, caller_id: str | None) -> None:
    dial = Dial(action=action, method="POST", timeout=DIAL_TIMEOUT_S, caller_id=caller_id or None)
    for number in current_settings().on_duty_numbers:
        dial.number(number)
    response.append(dial)


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
        _add_menu(response, voice, ("welcome_known", {"name": call.resident.name}))
    else:
        _add_menu(response, voice, ("welcome", {}))
    return _twiml(response)


@bp.post("/menu")
@twilio_signed
def menu() -> Response:
    response = VoiceResponse()
    _add_menu(response, _voice(_call()))
    return _twiml(response)


@bp.post("/menu/silence")
@twilio_signed
def menu_silence() -> Response:
    """No key after a whole menu: never hang up on a silent caller, and do not make them sit
    through the menu again; they may not manage the keypad, but can speak."""
    voice = _voice(_call())
    response = VoiceResponse()
    voice.say(response, "no_input_to_message")
    _add_record(response, voice, "record_intro")
    return _twiml(response)


@bp.post("/menu/choice")
@twilio_signed
def menu_choice() -> Response:
    call = _call()
    voice = _voice(call)
    response = VoiceResponse()
    digits = request.form.get("Digits", "").strip()
    if digits == "1":
        _add_record(response, voice, "record_intro")
    elif digits == "2":
        _answer_status(response, voice, call)
    elif digits == "0":
        _answer_person(response, voice, call)
    elif digits == "9":
        _answer_emergency(response, voice, call)
    elif digits in ("*", "#"):
        _add_menu(response, voice)
    else:
        _add_menu(response, voice, ("invalid_choice", {}))
    return _twiml(response)


def _answer_status(response: VoiceResponse, voice: Voice, call: Call | None) -> None:
    case = services.latest_open_case(call.from_phone) if call else None
    if case is not None:
        _add_case_status(response, voice, case)
        _add_menu(response, voice, ("back_to_menu", {}))
        return
    gather = response.gather(
        input="dtmf", finish_on_key="#", timeout=MENU_TIMEOUT_S + 4, action="/ivr/status/lookup"
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
    case = services.case_by_number(request.form.get("Digits", ""))
    if case is not None and phone_may_hear(call.from_phone if call else "", case):
        _add_case_status(response, voice, case)
    elif case is not None and text_status(case):
        db.session.commit()  # the queued text goes out once this commits
        voice.say(response, "status_texted")
    else:  # no such case, or one with no phone to text (an unknown caller's): nothing to say
        voice.say(response, "status_not_found")
    _add_menu(response, voice, ("back_to_menu", {}))
    return _twiml(response)


def _answer_person(response: VoiceResponse, voice: Voice, call: Call | None) -> None:
    settings = current_settings()
    if not clock.within(settings.service_hours, settings.timezone):
        _add_record(response, voice, "record_after_hours")
        return
    if not settings.on_duty_numbers:  # open, but nobody to put through: not "closed"
        _add_record(response, voice, "person_unavailable")
        return
    voice.say(response, "connecting")
    _add_dial(response, "/ivr/person/done", call.to_phone if call else None)


def _after_dial(unanswered_prompt: str) -> Response:
    """<Dial>'s action: goodbye after a conversation; otherwise never a dead end, a message."""
    voice = _voice(_call())
    response = VoiceResponse()
    if request.form.get("DialCallStatus") == "completed":
        voice.say(response, "goodbye")
        response.hangup()
    else:
        _add_record(response, voice, unanswered_prompt)
    return _twiml(response)


@bp.post("/person/done")
@twilio_signed
def person_done() -> Response:
    return _after_dial("person_unavailable")


def _answer_emergency(response: VoiceResponse, voice: Voice, call: Call | None) -> None:
    if call is not None:
        intake.open_emergency_case(call)  # on-duty staff are texted as it opens
    if not current_settings().on_duty_numbers:
        # Nobody to put through: the caller is told to call the emergency services, never
        # that someone was alerted.
        log.error("emergency call but HOTLINE_ON_DUTY_NUMBERS is empty")
        _add_record(response, voice, "emergency_unanswered")
        return
    voice.say(response, "emergency_connecting")
    _add_dial(response, "/ivr/emergency/done", call.to_phone if call else None)


@bp.post("/emergency/done")
@twilio_signed
def emergency_done() -> Response:
    return _after_dial("emergency_unanswered")


def _recording_sid() -> str:
    recording_sid = request.form.get("RecordingSid", "").strip()
    if not RECORDING_SID.match(recording_sid):
        log.warning("%s without a valid RecordingSid", request.path)
        abort(400, "RecordingSid missing or malformed")
    return recording_sid


def _nothing_recorded() -> bool:
    """Twilio skips the action when nothing was recorded (# or a hang-up at the beep), but
    should it ever ask anyway, it says so by sending no recording or one of 0 seconds."""
    duration = request.form.get("RecordingDuration", "").strip()
    return not request.form.get("RecordingSid", "").strip() or duration in ("0", "0.0")


@bp.post("/recorded")
@twilio_signed
def recorded() -> Response:
    """<Record>'s action: thank the caller. There is no case number to read yet: the case
    opens once the message is known to hold speech (tasks.recordings), and its number is
    texted then; silence or noise goes on the call-back list instead."""
    call = _call()
    voice = _voice(call)
    response = VoiceResponse()
    hung_up = request.form.get("Digits") == "hangup"
    if _nothing_recorded():
        if not hung_up:
            voice.say(response, "record_nothing_heard")
            response.redirect("/ivr/menu", method="POST")
        return _twiml(response)
    intake.note_voicemail(_recording_sid(), call.call_sid if call else "", voice.locale)
    if not hung_up:
        voice.say(response, "message_received")
        response.hangup()
    return _twiml(response)


@bp.post("/recording-status")
@twilio_signed
def recording_status() -> Response:
    """Twilio says the recording is ready (or that nothing was recorded): note it durably, then
    let a worker transcribe it."""
    settings = current_settings()
    recording, _ = intake.note_voicemail(
        _recording_sid(), request.form.get("CallSid", "").strip(), settings.default_locale
    )
    recordings.note_recording_status(
        recording,
        status=request.form.get("RecordingStatus", ""),
        duration=request.form.get("RecordingDuration", ""),
    )
    recordings.queue_transcription(recording.id)
    return Response(status=204)


@bp.get("/audio/<locale>/<filename>")
def recorded_prompt(locale: str, filename: str) -> Response:
    path = recorded_prompt_path(current_settings().data_dir, locale, filename)
    if path is None:
        abort(404)
    return send_file(path, max_age=3600)
