"""Whatever Twilio (or someone pretending to be it) posts: stored, answered, never a 500."""

from __future__ import annotations

import threading

import pytest
from flask import Flask

from outreach.models import InboundMessage
from sms.reading import STORED_BODY_LIMIT
from tests.conftest import ACCOUNT_SID, HOTLINE_NUMBER, PUBLIC_URL, sign
from tests.sms.conftest import Poster
from tests.sms.helpers import RESIDENT, all_cases, count, events, messages, text
from twilio_double.simulator import CallSimulator

EMPTY_REPLY = "没有读到文字。请用文字写下您的问题，或直接拨打本热线。"


def form(**fields: str | None) -> dict[str, str]:
    """A text's form as Twilio posts it; a field given as None is left out."""
    values: dict[str, str | None] = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": "SM" + "f" * 32,
        "From": RESIDENT,
        "To": HOTLINE_NUMBER,
        "Body": "电梯坏了",
        "NumMedia": "0",
    }
    values.update(fields)
    return {key: value for key, value in values.items() if value is not None}


@pytest.mark.parametrize("body", ["", "   ", "\n\t\n", "👍", "😀🙏🏻🙏🏻", "……", "?!"])
def test_nothing_to_read_is_stored_and_answered_clearly(
    app: Flask, phone: CallSimulator, body: str
) -> None:
    assert text(phone, body) == EMPTY_REPLY
    assert all_cases(app) == []
    [message] = messages(app)
    assert message.outcome == "empty"


def test_a_photo_alone_after_a_text_joins_its_case(app: Flask, phone: CallSimulator) -> None:
    text(phone, "楼道墙裂了")
    result = phone.send_sms(
        RESIDENT, HOTLINE_NUMBER, "", media=[("https://api.twilio.com/m/ME1", "image/jpeg")]
    )
    assert result.replies[0].body == EMPTY_REPLY
    [case] = all_cases(app)
    assert len(events(app, case.id, "sms_received")) == 2


def test_an_over_long_text_is_cut_for_storage_and_still_opens_a_case(
    app: Flask, signed_post: Poster
) -> None:
    body = "电梯坏了。" + "我们楼里住的都是老人，" * 600  # 6605 characters, beyond Twilio's 1600
    response = signed_post(form(Body=body))
    assert response.status_code == 200
    [message] = messages(app)
    assert len(message.body) == STORED_BODY_LIMIT
    assert message.body.endswith("[…]")
    [case] = all_cases(app)
    assert case.transcript == message.body
    assert case.category == "facilities"
    assert events(app, case.id, "sms_received")[0]["truncated_from"] == len(body)
    assert case.number in response.get_data(as_text=True)


def test_control_characters_are_dropped(app: Flask, signed_post: Poster) -> None:
    response = signed_post(form(Body="电梯\x00坏了\x07\x1b\r\n三号楼"))
    assert response.status_code == 200
    [case] = all_cases(app)
    assert case.transcript == "电梯坏了\n三号楼"


@pytest.mark.parametrize(
    "fields",
    [
        {"NumMedia": "lots"},
        {"To": "x" * 300},
        {"To": None},
        {"Body": None},
        {"AccountSid": None},
        {"FromCountry": "🏳️"},
    ],
)
def test_odd_fields_are_tolerated(app: Flask, signed_post: Poster, fields: dict[str, str]) -> None:
    response = signed_post(form(**fields))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    assert count(app, InboundMessage) == 1


def test_invalid_utf8_is_kept_as_werkzeug_reads_it(app: Flask) -> None:
    from urllib.parse import quote, urlencode

    decoded = form(Body="电梯坏了%FF")  # Werkzeug leaves a sequence it cannot decode as it is
    others = urlencode(form(Body=None))
    raw = f"{others}&Body={quote('电梯坏了')}%FF".encode()  # a broken byte at the end
    signature = sign(PUBLIC_URL + "/sms/incoming", decoded)
    response = app.test_client().post(
        "/sms/incoming",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 200
    [case] = all_cases(app)
    assert case.transcript == "电梯坏了%FF"


@pytest.mark.parametrize(
    "fields",
    [
        {"From": None},
        {"MessageSid": None},
        {"From": "  "},
        {"MessageSid": "\x00"},
        {"From": "+86138000000011234567890"},  # longer than any E.164 number
        {"MessageSid": "SM" + "1" * 100},
        {"MessageSid": "SM 123"},
    ],
)
def test_without_a_usable_message_sid_or_sender_it_is_a_bad_request(
    app: Flask, signed_post: Poster, fields: dict[str, str]
) -> None:
    assert signed_post(form(**fields)).status_code == 400
    assert count(app, InboundMessage) == 0


def test_unsigned_or_wrongly_signed_texts_are_refused(app: Flask, signed_post: Poster) -> None:
    assert signed_post(form(), signature="").status_code == 403
    assert signed_post(form(), signature="c2lnbmF0dXJl").status_code == 403
    assert count(app, InboundMessage) == 0
    assert all_cases(app) == []


def test_a_text_signed_for_another_body_is_refused(app: Flask, signed_post: Poster) -> None:
    from tests.conftest import PUBLIC_URL

    signature = sign(PUBLIC_URL + "/sms/incoming", form(Body="电梯坏了"))
    assert signed_post(form(Body="STOP"), signature=signature).status_code == 403


def test_the_same_text_delivered_twice_at_once_is_handled_once(
    app: Flask, signed_post: Poster
) -> None:
    statuses: list[int] = []
    replies: list[str] = []
    start = threading.Barrier(4)

    def deliver() -> None:
        start.wait()
        response = signed_post(form(Body="楼道灯坏了"))
        statuses.append(response.status_code)
        replies.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 4
    assert count(app, InboundMessage) == 1
    [case] = all_cases(app)
    assert len(events(app, case.id, "sms_received")) == 1
    assert all(case.number in reply for reply in replies)  # every delivery got the reply
