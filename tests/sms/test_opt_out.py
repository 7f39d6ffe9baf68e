"""STOP, START and HELP in three languages; after STOP, one confirmation and then silence."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from cases.models import Resident
from hotline.db import db
from outreach.models import OutboundMessage, OutboundStatus
from tasks import followups
from tests.conftest import HOTLINE_NUMBER
from tests.ivr.test_phone_line import speech_wav, transcribe
from tests.sms.helpers import (
    RESIDENT,
    add_resident,
    all_cases,
    messages,
    queued_status,
    resident,
    text,
)
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Press, Speak
from twilio_double.simulator import CallSimulator

STRANGER = "+8613800000099"
TWILIO_STOP = (
    "You have successfully been unsubscribed. You will not receive any more messages from"
    " this number. Reply START to resubscribe."
)


def test_a_stranger_who_texts_stop_never_gets_a_text_again(
    app: Flask, phone: CallSimulator
) -> None:
    assert text(phone, "STOP", from_=STRANGER) == TWILIO_STOP
    assert queued_status(app, STRANGER) == OutboundStatus.SUPPRESSED
    assert resident(app, STRANGER) is None  # kept by the number: no nameless resident
    # Nothing afterwards: not another confirmation, not HELP, not the case number...
    assert text(phone, "STOP", from_=STRANGER) == ""
    assert text(phone, "HELP", from_=STRANGER) == ""
    assert text(phone, "电梯坏了", from_=STRANGER) == ""
    # ...but what they write is never dropped: the case is open for staff.
    [case] = all_cases(app)
    assert case.transcript == "电梯坏了"
    assert [m.outcome for m in messages(app)] == ["stop", "stop", "help", "new_case"]


def test_a_resident_who_texts_stop_is_answered_in_their_language_and_start_undoes_it(
    app: Flask, phone: CallSimulator
) -> None:
    add_resident(app, language="zh-CN")
    assert text(phone, "退订").startswith("您已退订社区服务热线短信")
    assert queued_status(app, RESIDENT) == OutboundStatus.SUPPRESSED

    assert text(phone, "订阅") == "您已重新订阅社区服务热线短信。回复“退订”可停止接收。"
    found = resident(app)
    assert found is not None and not found.sms_opt_out
    assert queued_status(app, RESIDENT) == OutboundStatus.SENDING  # not suppressed: on its way
    assert text(phone, "HELP").startswith("社区服务热线：")  # answered again


@pytest.mark.parametrize(
    ("body", "reply_start"),
    [
        ("STOP", "You have successfully been unsubscribed"),
        ("stop", "You have successfully been unsubscribed"),
        ("UNSUBSCRIBE", "You have successfully been unsubscribed"),
        ("ＳＴＯＰ", "You have successfully been unsubscribed"),
        ("退订", "您已退订"),
        ("TD", "您已退订"),
        ("退订。", "您已退订"),
        ("수신거부", "수신거부 처리되었습니다"),
    ],
)
def test_stop_variants(app: Flask, phone: CallSimulator, body: str, reply_start: str) -> None:
    assert text(phone, body, from_=STRANGER).startswith(reply_start)
    assert queued_status(app, STRANGER) == OutboundStatus.SUPPRESSED
    assert all_cases(app) == []


def test_a_sentence_with_stop_in_it_is_not_an_opt_out(app: Flask, phone: CallSimulator) -> None:
    text(phone, "Please stop the noise at night", from_=STRANGER)
    assert resident(app, STRANGER) is None
    assert len(all_cases(app)) == 1


def test_start_from_a_stranger_changes_nothing_but_is_answered(
    app: Flask, phone: CallSimulator
) -> None:
    assert text(phone, "START", from_=STRANGER).startswith("You have successfully been re-")
    assert resident(app, STRANGER) is None


@pytest.mark.parametrize(
    ("body", "reply_start"),
    [
        ("帮助", "社区服务热线：发短信写下问题即可登记"),
        ("HELP", "Community hotline: text us your problem"),
        ("도움말", "주민센터 민원 상담: 불편 사항을"),
    ],
)
def test_help_in_three_languages(
    app: Flask, phone: CallSimulator, body: str, reply_start: str
) -> None:
    assert text(phone, body, from_=STRANGER).startswith(reply_start)
    assert all_cases(app) == []
    assert [m.outcome for m in messages(app)] == ["help"]


def test_suppressed_texts_are_kept_not_sent(app: Flask, phone: CallSimulator) -> None:
    text(phone, "TD", from_=STRANGER)
    queued_status(app, STRANGER)
    with app.app_context():
        rows = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.to_phone == STRANGER)
        ).all()
        assert [row.status for row in rows] == [OutboundStatus.SUPPRESSED]


def leave_voicemail(app: Flask, phone: CallSimulator, caller: str) -> None:
    """A call that leaves a message: once transcribed, its case number is queued as a text."""
    script = [Press("1"), Speak(speech_wav())]
    phone.call(from_=caller, to=HOTLINE_NUMBER, script=script, url="/ivr/incoming")
    transcribe(app)


def send_queued_texts(app: Flask, phone: str) -> list[OutboundStatus]:
    """The worker sends what was queued for this number; what became of each text."""
    with app.app_context():
        ids = db.session.scalars(
            select(OutboundMessage.id).where(OutboundMessage.to_phone == phone)
        ).all()
    for message_id in ids:
        followups.send_text.apply(args=[message_id]).get()
    with app.app_context():
        return [db.session.get(OutboundMessage, i).status for i in ids]  # type: ignore[union-attr]


def texts_sent_to(rest: TwilioRestDouble, phone: str) -> list[str]:
    return [
        m["body"] for m in rest.messages if m["to"] == phone and m["direction"] != "outbound-reply"
    ]


def test_stop_from_a_first_time_caller_holds_back_their_queued_case_number_text(
    app: Flask, phone: CallSimulator, rest: TwilioRestDouble
) -> None:
    leave_voicemail(app, phone, STRANGER)  # nobody knows this number: no resident record
    assert text(phone, "STOP", from_=STRANGER) == TWILIO_STOP
    assert send_queued_texts(app, STRANGER) == [OutboundStatus.SUPPRESSED]
    assert texts_sent_to(rest, STRANGER) == []
    assert text(phone, "START", from_=STRANGER).startswith("You have successfully been re-")
    assert queued_status(app, STRANGER) == OutboundStatus.SENDING


def test_the_opt_out_stays_with_the_number_that_texted_stop(
    app: Flask, phone: CallSimulator, rest: TwilioRestDouble
) -> None:
    """Staff move a resident to a new number: the old number said STOP, the new one did not."""
    new_number = "+8613800000088"
    resident_id = add_resident(app)
    assert text(phone, "退订").startswith("您已退订")
    with app.app_context():
        found = db.session.get(Resident, resident_id)
        assert found is not None
        found.phone = new_number
        db.session.commit()
    leave_voicemail(app, phone, RESIDENT)  # the old number is still someone's phone
    assert send_queued_texts(app, RESIDENT) == [OutboundStatus.SUPPRESSED]
    assert texts_sent_to(rest, RESIDENT) == []
    assert queued_status(app, new_number) == OutboundStatus.SENDING
