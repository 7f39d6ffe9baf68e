"""The fields of Twilio's voice webhooks the phone line reads, each with its kind and column.

Read with `.read()` (hotline.webhook_fields): a malformed SID is a 400, a caller ID that is
no phone number (a SIP caller) is kept as text cut to its column, keys other than 0-9 * #
read as none pressed, and a duration is a finite number of seconds.
"""

from __future__ import annotations

from cases.models import Call
from hotline.webhook_fields import CallerId, Keys, Number, Sid, Text

CALL_SID = Sid("CallSid", ("CA",))
FROM = CallerId("From", Call.from_phone)
TO = CallerId("To", Call.to_phone)
DIRECTION = Text("Direction", Call.direction)
DIGITS = Keys("Digits")
# <Record>'s action says "hangup" when the caller hung up instead of pressing the finish key.
RECORD_ENDED_BY = Keys("Digits", words=("hangup",))
DIAL_CALL_STATUS = Text("DialCallStatus")
CALL_STATUS = Text("CallStatus")  # compared with Twilio's statuses, never stored as sent
ANSWERED_BY = Text("AnsweredBy")
RECORDING_SID = Sid("RecordingSid", ("RE",))
RECORDING_STATUS = Text("RecordingStatus")
# Twilio records at most a few hours; a day is the most a duration can sensibly be.
RECORDING_DURATION = Number("RecordingDuration", low=0, high=24 * 3600)
