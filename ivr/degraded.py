"""The phone line while the database does not answer: every caller is still answered.

A database error in a voice webhook (the server down, the connection cut, no connection free,
a statement refused) is answered here, never with a 500, which Twilio turns into "an
application error has occurred", in English, and a dead line. The caller cannot be looked up,
so they hear the default language (HOTLINE_DEFAULT_LOCALE):

- at the menu: the welcome, "9 for an emergency", and the message if they press nothing;
- 9 dials the on-duty numbers of the settings, 0 a person as ever (the settings suffice), any
  other key takes a message, whose callbacks are the usual webhooks;
- what Twilio tells us that must not be lost (the recording; the key 9, so that the emergency
  case opens and the on-duty staff are texted) is kept in the spool (hotline.spool) and stored
  by the same webhook once the database answers again.

/ivr/fallback, Twilio's fallback URL, answers the same menu without trying the database.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.voice_response import VoiceResponse

from hotline import spool
from hotline.settings import current_settings
from ivr import twiml
from ivr.voice import Voice


def default_voice() -> Voice:
    settings = current_settings()
    return Voice(settings, settings.default_locale)


def answer(error: SQLAlchemyError) -> Response:
    """The phone line's error handler for database errors (registered by ivr.views)."""
    kept = spool.on_database_error(error, must_keep=_worth_keeping(request.endpoint or ""))
    if request.endpoint == "ivr.recording_status":
        return Response(status=204 if kept else 503)  # no caller hears this one
    answer_for = _ANSWERS.get(request.endpoint or "", short_menu)
    return twiml.as_response(answer_for(default_voice()))


def _worth_keeping(endpoint: str) -> bool:
    """What must not be lost: a recording, and the key 9 (its emergency case opens, and the
    on-duty staff are texted, once the database is back)."""
    if endpoint == "ivr.menu_choice":
        return request.form.get("Digits", "").strip() == "9"
    if endpoint == "ivr.recorded":
        return not twiml.nothing_recorded(request.form)
    return endpoint == "ivr.recording_status"


def short_menu(voice: Voice) -> VoiceResponse:
    response = VoiceResponse()
    twiml.add_short_menu(response, voice)
    return response


def _menu_silence(voice: Voice) -> VoiceResponse:
    response = VoiceResponse()
    voice.say(response, "no_input_to_message")
    twiml.add_record(response, voice, "record_intro")
    return response


def _menu_choice(voice: Voice) -> VoiceResponse:
    digits = request.form.get("Digits", "").strip()
    caller_id = request.form.get("To", "").strip() or None
    response = VoiceResponse()
    if digits == "9":
        twiml.add_emergency_dial(response, voice, caller_id)
    elif digits == "0":
        twiml.add_person(response, voice, caller_id)
    elif digits in ("*", "#"):
        twiml.add_short_menu(response, voice)
    else:  # 1, and 2: a case's status cannot be read now, but a message can be taken
        twiml.add_record(response, voice, "record_intro")
    return response


def _recorded(voice: Voice) -> VoiceResponse:
    hung_up = request.form.get("Digits") == "hangup"
    return twiml.after_message(voice, twiml.nothing_recorded(request.form), hung_up)


def _after_dial(unanswered_prompt: str) -> Callable[[Voice], VoiceResponse]:
    def answer(voice: Voice) -> VoiceResponse:
        dial_status = request.form.get("DialCallStatus", "")
        return twiml.after_dial(voice, dial_status, unanswered_prompt)

    return answer


_ANSWERS: dict[str, Callable[[Voice], VoiceResponse]] = {
    "ivr.menu_silence": _menu_silence,
    "ivr.menu_choice": _menu_choice,
    "ivr.recorded": _recorded,
    "ivr.person_done": _after_dial("person_unavailable"),
    "ivr.emergency_done": _after_dial("emergency_unanswered"),
}  # every other webhook (the call's first, the menu, a status lookup): the short menu
