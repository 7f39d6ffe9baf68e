"""A faithful local stand-in for Twilio, for tests and benchmarks of calls and texts.

* :mod:`twilio_double.rest` — :class:`TwilioRestDouble`, an HTTP double of
  Twilio's REST API 2010-04-01 (Calls, Messages, Recordings and their media),
  plus :func:`make_client` to point the real ``twilio`` client at it.
* :mod:`twilio_double.simulator` — :class:`CallSimulator`, which plays Twilio's
  side of voice calls (following TwiML) and texts against an app, over a WSGI
  or HTTP :mod:`transport <twilio_double.transport>`, with caller scripts from
  :mod:`twilio_double.script`.

Typical use::

    with TwilioRestDouble(account_sid, auth_token) as rest:
        sim = CallSimulator(WsgiTransport(app), public_base_url="https://hotline.example.org",
                            account_sid=account_sid, auth_token=auth_token, rest=rest)
        result = sim.call("+8613800000001", "+8610123456",
                          [Press("1"), Speak(Path("clip.wav")), Press("#")], url="/ivr/incoming")
        assert result.said[0] == "..."
"""

from twilio_double.rest import TwilioRestDouble, close_client, make_client
from twilio_double.results import CallResult, SmsResult
from twilio_double.script import Hangup, Press, Silence, Speak, SpeakThenHangup
from twilio_double.simulator import CallSimulator
from twilio_double.transport import HttpTransport, WsgiTransport

__all__ = [
    "CallResult",
    "CallSimulator",
    "Hangup",
    "HttpTransport",
    "Press",
    "Silence",
    "SmsResult",
    "Speak",
    "SpeakThenHangup",
    "TwilioRestDouble",
    "WsgiTransport",
    "close_client",
    "make_client",
]
