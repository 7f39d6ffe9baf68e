"""Twilio's form fields, each read by its kind, so nothing a webhook stores can break a column.

A webhook names its fields once, each with a kind and, where it is stored, the model column
it goes to (the length is read from the column, never repeated here):

    CALL_SID = Sid("CallSid", ("CA",))
    FROM = CallerId("From", Call.from_phone)

and reads them with `FROM.read()`. What Twilio never sends is refused with a clear 400 (a SID
that is not its prefix and 32 hex digits, a number that is no number); what a caller cannot
help is kept: a caller ID that is no phone number (a SIP address, "Anonymous") is stored as
text, control characters dropped (PostgreSQL refuses NUL) and cut to the column's length.
Field formats: twilio.com/docs/usage/webhooks/voice-webhooks and
twilio.com/docs/messaging/guides/webhook-request.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, NoReturn

from flask import abort, request
from sqlalchemy.orm import QueryableAttribute

from hotline.phones import NotAPhoneNumber, normalise_phone

__all__ = ["CallerId", "Keys", "Number", "Sid", "Text"]

KEPT_CONTROLS = frozenset("\n\t")
# Only what is written like a phone number is read as one: phonenumbers would otherwise
# dig a number out of "sip:+86138...@x.sip.twilio.com", and a SIP caller is nobody we know.
PHONE_LIKE = re.compile(r"^\+[0-9 ()./-]+$")
UNKNOWN_REGION = "ZZ"  # numbers without +country are not guessed at
KEYPAD = frozenset("0123456789*#")
HEX_32 = re.compile(r"[0-9a-fA-F]{32}")


def _refuse(name: str, why: str) -> NoReturn:
    abort(400, f"{name} {why}")


def _form(name: str) -> str:
    return request.form.get(name, "")


def printable(text: str, *, keep_lines: bool = False) -> str:
    """Without control characters (NUL among them) or lone surrogates, trimmed; `keep_lines`
    keeps line ends (as \\n) and tabs."""
    kept = KEPT_CONTROLS if keep_lines else frozenset()
    if keep_lines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        char for char in text if char in kept or unicodedata.category(char) not in ("Cc", "Cs")
    ).strip()


def column_length(column: QueryableAttribute[Any] | None) -> int | None:
    """The column's length (VARCHAR(n)); None for TEXT or when nothing is stored."""
    return getattr(column.type, "length", None) if column is not None else None


@dataclass(frozen=True)
class Sid:
    """A Twilio SID: one of `prefixes` ("CA") and 32 hex digits. Absent: ""; anything else: 400."""

    name: str
    prefixes: tuple[str, ...]

    def read(self) -> str:
        value = _form(self.name).strip()
        if value and not (value[:2] in self.prefixes and HEX_32.fullmatch(value[2:])):
            _refuse(self.name, f"is not a Twilio SID ({'/'.join(self.prefixes)} and 32 hex digits)")
        return value

    def require(self) -> str:
        value = self.read()
        if not value:
            _refuse(self.name, "is missing")
        return value


@dataclass(frozen=True)
class CallerId:
    """A caller ID (From, To): E.164 when it is a phone number; otherwise what Twilio sent (a
    SIP address, "Anonymous", a client name), printable and cut to the column.

    `strict`: a sender we must answer and whose opt-out we keep (a text's From) is refused
    with 400 when missing or too long for the column, rather than stored cut."""

    name: str
    column: QueryableAttribute[Any]
    strict: bool = False

    def read(self) -> str:
        return self.clean(_form(self.name))

    def clean(self, raw: str) -> str:
        """What `read` keeps of `raw`: also for a caller ID learnt from Twilio's REST API."""
        text = printable(raw)
        if PHONE_LIKE.match(text):
            try:
                return normalise_phone(text, UNKNOWN_REGION)
            except NotAPhoneNumber:
                pass  # kept as it came, as any caller ID that is no phone number
        length = column_length(self.column)
        if self.strict and not text:
            _refuse(self.name, "is missing")
        too_long = length is not None and len(text) > length
        if self.strict and (too_long or any(char.isspace() for char in text)):
            _refuse(self.name, "is not a phone number")
        return text[:length]


@dataclass(frozen=True)
class Text:
    """Free text: printable, cut to the column's length (a TEXT column: whole)."""

    name: str
    column: QueryableAttribute[Any] | None = None
    keep_lines: bool = False

    def read(self) -> str:
        return printable(_form(self.name), keep_lines=self.keep_lines)[: column_length(self.column)]


@dataclass(frozen=True)
class Number:
    """A number within [low, high]: absent is None, beyond the bounds (infinity too) is the
    bound, and what is no number at all (or NaN) is a 400."""

    name: str
    low: float
    high: float

    def read(self) -> float | None:
        text = _form(self.name).strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            _refuse(self.name, "is not a number")
        if math.isnan(value):
            _refuse(self.name, "is not a number")
        return min(max(value, self.low), self.high)


@dataclass(frozen=True)
class Keys:
    """Keys pressed: only 0-9, * and #, or one of Twilio's `words` ("hangup"); anything else
    reads as nothing pressed, which the menus answer by asking again."""

    name: str
    words: tuple[str, ...] = ()

    def read(self) -> str:
        value = _form(self.name).strip()
        if value in self.words or set(value) <= KEYPAD:
            return value
        return ""
