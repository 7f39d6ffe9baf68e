"""The text line while the database does not answer: every text is kept and answered.

A database error in /sms/incoming (the server down, the connection cut, no connection free) is
answered here, never with a 500, after which Twilio would drop the text. The text is kept in
the spool (hotline.spool) and handled by the same webhook once the database answers again;
the case number, or whatever the reply would have been, then follows as a text (sms.inbound).

Meanwhile the resident is told their text came, in the language of its words (they cannot be
looked up). The words alone decide what else the reply says, as they need no database:
- STOP, START and HELP get their usual answer (the opt-out is stored when the text is);
- a text that reads as an emergency (the triage package's rules) is told to call the emergency
  number now, since the on-duty staff are texted only once the case opens.
A number that opted out is answered too: it cannot be looked up, and it has just written.
The same reply goes to a number at most once per RATE_LIMIT_WINDOW (per web process), as the
database's rate limit would have it: a stuck phone, or an auto-responder answering our
replies, must not get a reply to each of its texts. Every text is kept all the same.
"""

from __future__ import annotations

import threading
from datetime import datetime

from flask import current_app

from cases.models import Urgency
from hotline.clock import now
from hotline.i18n import catalogue
from sms.handlers import KEYWORD_HANDLERS, RATE_LIMIT_WINDOW, IncomingText, triage_locale
from sms.inbound import reply_locale
from sms.reading import read
from triage import triage

RECEIVED = "received_later"
RECEIVED_EMERGENCY = "received_later_emergency"
ANSWERED_KEY = "sms.degraded.answered"


def reply(text: IncomingText) -> str | None:
    """What a text is answered while the database does not answer; None: nothing this time."""
    words = _reply(text)
    answered: Answered = current_app.extensions.setdefault(ANSWERED_KEY, Answered())
    return words if answered.first_time(text.from_phone, words, now()) else None


def _reply(text: IncomingText) -> str:
    reading = read(text.body)
    locale = reply_locale(None, text.body, reading)
    replies = catalogue(locale, "sms")
    if reading.intent in KEYWORD_HANDLERS:
        return replies.text(reading.intent.value)  # the catalogue's stop, start and help
    if reads_as_emergency(text.body, locale):
        return replies.text(RECEIVED_EMERGENCY)
    return replies.text(RECEIVED)


def reads_as_emergency(body: str, locale: str) -> bool:
    return triage(body, triage_locale(body, locale)).urgency == Urgency.EMERGENCY.value


class Answered:
    """The replies this web process gave lately without the database, by number."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, tuple[str, datetime]] = {}

    def first_time(self, phone: str, words: str, moment: datetime) -> bool:
        """Whether `words` were not given to `phone` within the window (and note them if so)."""
        with self._lock:
            since = moment - RATE_LIMIT_WINDOW
            self._last = {number: last for number, last in self._last.items() if last[1] > since}
            if self._last.get(phone, ("", moment))[0] == words:
                return False
            self._last[phone] = (words, moment)
            return True
