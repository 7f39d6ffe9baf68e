"""STOP, START and HELP in three languages; after STOP, one confirmation and then silence."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.db import db
from outreach.models import OutboundMessage, OutboundStatus
from outreach.outbox import queue_sms
from tests.sms.helpers import RESIDENT, add_resident, all_cases, messages, resident, text
from twilio_double.simulator import CallSimulator

STRANGER = "+8613800000099"
TWILIO_STOP = (
    "You have successfully been unsubscribed. You will not receive any more messages from"
    " this number. Reply START to resubscribe."
)


def queued_status(app: Flask, phone: str) -> OutboundStatus:
    """What becomes of a text the hotline queues for this number now."""
    with app.app_context():
        message = queue_sms(phone, "您的事项已处理完成。", "progress")
        db.session.commit()
        return db.session.get(OutboundMessage, message.id).status  # type: ignore[union-attr]


def test_a_stranger_who_texts_stop_never_gets_a_text_again(
    app: Flask, phone: CallSimulator
) -> None:
    assert text(phone, "STOP", from_=STRANGER) == TWILIO_STOP
    opted = resident(app, STRANGER)
    assert opted is not None and opted.sms_opt_out
    assert opted.name == "" and opted.language == "en-US"
    assert queued_status(app, STRANGER) == OutboundStatus.SUPPRESSED
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
    found = resident(app)
    assert found is not None and found.sms_opt_out and found.name == "王秀英"
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
    opted = resident(app, STRANGER)
    assert opted is not None and opted.sms_opt_out
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
