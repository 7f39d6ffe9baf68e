"""The pieces the phone line's answers are made of: menu, message, dialling, goodbye.

None of them reads the database: they need only the settings and the caller's voice, so the
line answers with them whether the database does (ivr.views) or not (ivr.degraded).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse
from werkzeug.datastructures import MultiDict

from hotline import clock
from hotline.settings import current_settings
from ivr.voice import Voice

log = logging.getLogger(__name__)
MENU_TIMEOUT_S = 8  # seconds of silence before the menu counts as unanswered
RECORD_SILENCE_TIMEOUT_S = 10  # older callers pause; don't cut them off after Twilio's 5 s
DIAL_TIMEOUT_S = 25

Prompt = tuple[str, dict[str, Any]]  # a key of voice.toml and its {placeholders}


def as_response(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _menu_gather(response: VoiceResponse) -> Gather:
    """One key to /ivr/menu/choice; no finish key, so # is a choice too."""
    return response.gather(
        input="dtmf",
        num_digits=1,
        finish_on_key="",
        timeout=MENU_TIMEOUT_S,
        action="/ivr/menu/choice",
        method="POST",
    )


def add_menu(response: VoiceResponse, voice: Voice, *lead: Prompt) -> None:
    """The menu, with what leads to it (a welcome, "back to the menu"), all in one <Gather>:
    a caller who knows the keys presses at once. No finish key, so # is a choice too."""
    gather = _menu_gather(response)
    for key, values in lead:
        voice.say(gather, key, **values)
    voice.say(gather, "menu")
    # Reached only when the caller pressed nothing: <Gather> falls through on silence.
    response.redirect("/ivr/menu/silence", method="POST")


def add_short_menu(response: VoiceResponse, voice: Voice) -> None:
    """The menu while the database does not answer: 9 for an emergency, else a message.

    Silence falls through to the message at once, with no request in between; a key goes to
    the usual /ivr/menu/choice, which answers as ever if the database is back by then.
    """
    gather = _menu_gather(response)
    voice.say(gather, "welcome")
    voice.say(gather, "menu_short")
    add_record(response, voice, "record_intro")


def _opening_words(voice: Voice) -> str:
    """When a person answers again: "today at 13:00" or "tomorrow at 07:00", in the centre's
    time zone."""
    settings = current_settings()
    local = clock.local_now(settings.timezone)
    opens = clock.next_opening(settings.service_hours, settings.timezone, local)
    day = "today" if opens.date() == local.date() else "tomorrow"
    return voice.prompts.text(f"opens.{day}", time=f"{opens:%H:%M}")


def add_record(response: VoiceResponse, voice: Voice, prompt: str | None) -> None:
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


def add_person(response: VoiceResponse, voice: Voice, caller_id: str | None) -> None:
    """Key 0: put through to the on-duty staff in service hours, else take a message."""
    settings = current_settings()
    if not clock.within(settings.service_hours, settings.timezone):
        add_record(response, voice, "record_after_hours")
        return
    if not settings.on_duty_numbers:  # open, but nobody to put through: not "closed"
        add_record(response, voice, "person_unavailable")
        return
    voice.say(response, "connecting")
    _add_dial(response, "/ivr/person/done", caller_id)


def add_emergency_dial(response: VoiceResponse, voice: Voice, caller_id: str | None) -> None:
    """Key 9: dial the on-duty numbers of the settings."""
    if not current_settings().on_duty_numbers:
        # Nobody to put through: the caller is told to call the emergency services, never
        # that someone was alerted.
        log.error("emergency call but HOTLINE_ON_DUTY_NUMBERS is empty")
        add_record(response, voice, "emergency_unanswered")
        return
    voice.say(response, "emergency_connecting")
    _add_dial(response, "/ivr/emergency/done", caller_id)


def after_dial(voice: Voice, dial_status: str, unanswered_prompt: str) -> VoiceResponse:
    """<Dial>'s action: goodbye after a conversation; otherwise never a dead end, a message."""
    response = VoiceResponse()
    if dial_status == "completed":
        voice.say(response, "goodbye")
        response.hangup()
    else:
        add_record(response, voice, unanswered_prompt)
    return response


def after_message(voice: Voice, nothing_recorded: bool, hung_up: bool) -> VoiceResponse:
    """<Record>'s action: thank the caller, or take them back to the menu if nothing came."""
    response = VoiceResponse()
    if hung_up:
        return response
    if nothing_recorded:
        voice.say(response, "record_nothing_heard")
        response.redirect("/ivr/menu", method="POST")
        return response
    voice.say(response, "message_received")
    response.hangup()
    return response


def nothing_recorded(form: MultiDict[str, str]) -> bool:
    """Twilio skips <Record>'s action when nothing was recorded (# or a hang-up at the beep),
    but should it ever ask anyway, it says so by sending no recording or one of 0 seconds."""
    duration = form.get("RecordingDuration", "").strip()
    return not form.get("RecordingSid", "").strip() or duration in ("0", "0.0")
