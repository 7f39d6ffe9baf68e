"""Keep residents' phone numbers out of every log line, whoever writes it."""

from __future__ import annotations

import logging
import re

# E.164 and local numbers of 7+ digits, possibly with spaces or dashes inside.
_PHONE = re.compile(r"(?<![\w])\+?\d[\d \-]{5,}\d(\d{2})(?![\w])")
_ENCODED_PHONE = re.compile(r"(%2B|\+)?\d{5,}(\d{2})(?=&|$|\s)")


def mask_phone(text: str) -> str:
    """Replace every phone-like number with stars, keeping the last two digits for support."""
    text = _PHONE.sub(lambda match: "***" + match.group(1), text)
    return _ENCODED_PHONE.sub(lambda match: "***" + match.group(2), text)


class RedactingLogRecord(logging.LogRecord):
    def getMessage(self) -> str:
        return mask_phone(super().getMessage())


def install() -> None:
    """Make every log record in this process redact phone numbers from its message."""
    logging.setLogRecordFactory(RedactingLogRecord)
