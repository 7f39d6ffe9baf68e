"""Each kind of Twilio form field, read from a request as a webhook reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import BadRequest

from cases.models import Call, Case
from hotline.webhook_fields import CallerId, Keys, Number, Sid, Text, column_length, printable

CALLER = "+8613800000001"


def read(field: Any, value: str | None) -> Any:
    """What `field` reads from a form where its value is `value` (None: left out)."""
    form = {} if value is None else {field.name: value}
    with Flask(__name__).test_request_context("/", method="POST", data=form):
        reader: Callable[[], Any] = field.read
        return reader()


def refused(field: Any, value: str | None, how: str = "read") -> str:
    form = {} if value is None else {field.name: value}
    with (
        Flask(__name__).test_request_context("/", method="POST", data=form),
        pytest.raises(BadRequest) as refusal,
    ):
        getattr(field, how)()
    return str(refusal.value.description)


def test_printable_drops_control_characters_and_keeps_lines_when_asked() -> None:
    assert printable("电梯\x00坏了\x07\r\n三号楼\t ", keep_lines=True) == "电梯坏了\n三号楼"
    assert printable("a\rb", keep_lines=True) == "a\nb"
    assert printable(" +86138\x00\n ") == "+86138"


def test_column_lengths_come_from_the_models() -> None:
    assert column_length(Call.from_phone) == 32
    assert column_length(Case.transcript) is None  # TEXT: no limit
    assert column_length(None) is None


def test_a_sid_is_its_prefix_and_32_hex_digits() -> None:
    call_sid = Sid("CallSid", ("CA",))
    assert read(call_sid, " CA" + "aB3" * 10 + "00 ") == "CA" + "aB3" * 10 + "00"
    assert read(call_sid, None) == "" and read(call_sid, "") == ""
    for wrong in ("CA" + "0" * 31, "CA" + "0" * 33, "RE" + "0" * 32, "CA" + "g" * 32, "CA\x00"):
        assert "CallSid is not a Twilio SID (CA" in refused(call_sid, wrong)
    assert refused(call_sid, None, "require") == "CallSid is missing"
    message_sid = Sid("MessageSid", ("SM", "MM"))
    assert read(message_sid, "MM" + "1" * 32) == "MM" + "1" * 32


def test_a_caller_id_is_e164_when_a_number_else_kept_within_its_column() -> None:
    from_ = CallerId("From", Call.from_phone)
    assert read(from_, "+86 138-0000-0001") == CALLER
    assert read(from_, CALLER + "\x00") == CALLER
    sip = f"sip:{CALLER}@hotline-zh.sip.twilio.com"
    assert read(from_, sip) == sip[:32]  # never dug out of a SIP address
    assert read(from_, "Anonymous") == "Anonymous"
    assert read(from_, "+266696687") == "+266696687"  # Twilio's "number withheld"
    assert read(from_, "+" + "1" * 60) == "+" + "1" * 31
    assert read(from_, None) == ""


def test_a_strict_sender_is_refused_rather_than_cut() -> None:
    sender = CallerId("From", Call.from_phone, strict=True)
    assert read(sender, "+86 138 0000 0001") == CALLER
    assert refused(sender, "  ") == "From is missing"
    assert refused(sender, "sip:" + CALLER + "@hotline-zh.sip.twilio.com") == (
        "From is not a phone number"
    )
    assert refused(sender, "a b") == "From is not a phone number"


def test_text_is_printable_and_cut_to_its_column() -> None:
    assert read(Text("Direction", Call.direction), "inbound\x00" + "x" * 40) == "inbound" + "x" * 13
    assert read(Text("Body", Case.transcript, keep_lines=True), "a\r\n" + "b" * 5000) == (
        "a\n" + "b" * 5000
    )
    assert read(Text("RecordingStatus"), None) == ""


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("12", 12.0), ("1e309", 3600.0), ("-1e309", 0.0), ("inf", 3600.0), ("-4", 0.0), ("", None)],
)
def test_a_number_is_finite_and_within_its_bounds(value: str, seconds: float | None) -> None:
    assert read(Number("RecordingDuration", 0, 3600), value) == seconds


@pytest.mark.parametrize("value", ["nan", "forty", "0x10", "1e309e"])
def test_what_is_no_number_is_refused(value: str) -> None:
    assert refused(Number("RecordingDuration", 0, 3600), value) == (
        "RecordingDuration is not a number"
    )


def test_keys_are_keypad_keys_or_twilios_words() -> None:
    digits = Keys("Digits")
    assert read(digits, " 10023# ") == "10023#"
    for not_keys in ("1\x00", "１", "abc", "hangup", "1 2"):
        assert read(digits, not_keys) == ""
    assert read(Keys("Digits", words=("hangup",)), "hangup") == "hangup"
