"""The text line while its database does not answer: every text is answered, none is lost.

`down_app` (tests/conftest.py) is the hotline pointed at a database that refuses the
connection; `app` is the same hotline once the database is back, which replays the spool.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from cases.models import Case, CaseSource, Urgency
from hotline import spool
from hotline.db import db
from outreach.models import InboundMessage, OutboundMessage
from outreach.outbox import opted_out
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, ON_DUTY, PUBLIC_URL, sign
from tests.sms.helpers import RESIDENT, Clock, all_cases, count, messages, text
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator
from twilio_double.transport import WsgiTransport

RECEIVED = "社区服务热线：您的短信已收到，我们会尽快回复您。"
RECEIVED_EMERGENCY = (
    "社区服务热线：如有生命危险，请立即拨打120或119。您的短信已收到，我们会尽快回复您。"
)
NEIGHBOUR = "+8613800000002"
STOPPED = "您已退订社区服务热线短信，本号码不会再给您发短信。回复“订阅”可重新订阅。"


@pytest.fixture
def down_phone(down_app: Flask, rest: TwilioRestDouble) -> CallSimulator:
    """Twilio, texting the hotline whose database is down."""
    return CallSimulator(
        WsgiTransport(down_app),
        public_base_url=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )


def kept(app: Flask) -> list[Path]:
    return spool.waiting(app.extensions["hotline.settings"].data_dir)


def texts_to(app: Flask, phone: str) -> list[OutboundMessage]:
    with app.app_context():
        query = select(OutboundMessage).where(OutboundMessage.to_phone == phone)
        rows = list(db.session.scalars(query.order_by(OutboundMessage.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_a_text_while_the_database_is_down_is_kept_and_told_it_came(
    down_app: Flask, down_phone: CallSimulator
) -> None:
    assert text(down_phone, "楼道灯坏了三天了", sid="SM" + "1" * 32) == RECEIVED
    [file] = kept(down_app)
    form = json.loads(file.read_text())["form"]
    assert (form["From"], form["Body"], form["MessageSid"]) == (
        RESIDENT,
        "楼道灯坏了三天了",
        "SM" + "1" * 32,
    )


def test_a_kept_text_becomes_one_case_as_of_when_it_came_and_its_number_is_texted_once(
    app: Flask, down_phone: CallSimulator
) -> None:
    text(down_phone, "楼道灯坏了三天了")
    [file] = kept(app)
    came = datetime.fromisoformat(json.loads(file.read_text())["received_at"])
    copy = shutil.copy(file, file.with_suffix(".copy"))
    Clock(app, start=came + timedelta(hours=3))  # the database is back hours later

    assert spool.replay(app) == spool.Replay(stored=1)
    [case] = all_cases(app)
    assert (case.source, case.phone, case.transcript) == (
        CaseSource.SMS,
        RESIDENT,
        "楼道灯坏了三天了",
    )
    assert case.created_at == came  # when the resident wrote, not when the database was back
    [message] = messages(app)
    assert message.received_at == came and message.case_id == case.id
    [reply] = texts_to(app, RESIDENT)
    assert reply.body.startswith(f"社区服务热线：已收到您的短信，事项编号 {case.number}。")
    assert reply.purpose == "late_reply"

    Path(copy).rename(Path(copy).with_suffix(".json"))  # kept twice: a crash before the delete
    assert spool.replay(app) == spool.Replay(stored=1)
    assert count(app, Case) == 1 and count(app, InboundMessage) == 1
    assert len(texts_to(app, RESIDENT)) == 1


def test_a_replayed_text_is_answered_by_a_queued_text_not_in_twiml(app: Flask) -> None:
    form = {"MessageSid": "SM" + "2" * 32, "From": RESIDENT, "To": HOTLINE_NUMBER, "Body": "没水了"}
    replay = {spool.REPLAYING: True, spool.RECEIVED_AT: "2025-03-03T01:00:00+00:00"}
    for _ in range(2):
        response = app.test_client().post(
            "/sms/incoming",
            data=form,
            headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/sms/incoming", form)},
            environ_overrides=replay,
        )
        assert response.status_code == 200
        assert ET.fromstring(response.get_data()).findall("Message") == []  # nobody reads it
    [case] = all_cases(app)
    [reply] = texts_to(app, RESIDENT)
    assert case.number in reply.body


def test_texts_in_a_row_during_the_outage_make_one_case(
    app: Flask, down_phone: CallSimulator
) -> None:
    assert text(down_phone, "电梯坏了") == RECEIVED
    assert text(down_phone, "三号楼") == ""  # told once: a stuck phone is not answered each time
    assert len(kept(app)) == 2
    Clock(app, start=datetime.now(UTC) + timedelta(hours=3))

    assert spool.replay(app) == spool.Replay(stored=2)
    [case] = all_cases(app)
    assert case.transcript == "电梯坏了\n三号楼"
    assert [reply.body for reply in texts_to(app, RESIDENT)] == [
        f"社区服务热线：已收到您的短信，事项编号 {case.number}。"
        "我们会尽快处理并联系您。回复编号可查询进度。",
        f"已收到，已补充到事项 {case.number}。",
    ]


def test_stop_during_the_outage_is_honoured_once_the_database_is_back(
    app: Flask, down_phone: CallSimulator, phone: CallSimulator
) -> None:
    assert text(down_phone, "退订") == STOPPED  # what STOP needs to be answered is its word
    assert text(down_phone, "电梯坏了") == RECEIVED

    assert spool.replay(app) == spool.Replay(stored=2)
    with app.app_context():
        assert opted_out(RESIDENT)
    [case] = all_cases(app)  # what they wrote after STOP is still acted on...
    assert case.transcript == "电梯坏了"
    assert texts_to(app, RESIDENT) == []  # ...but not answered, nor STOP confirmed twice
    assert text(phone, "电梯还是坏的") == ""


def test_an_emergency_text_during_the_outage_is_told_to_call_for_help_now(
    app: Flask, down_phone: CallSimulator
) -> None:
    assert text(down_phone, "我妈摔倒了，起不来，快来人") == RECEIVED_EMERGENCY
    korean = text(down_phone, "어머니가 넘어졌어요. 일어나지 못해요", from_=NEIGHBOUR)
    # The test centre is in China: 120 or 119 (not Korea's 119) in Korean too.
    assert korean.startswith("주민센터 민원 상담: 생명이 위험하면 바로 120 또는 119에 전화하세요.")

    assert spool.replay(app).stored == 2
    cases = all_cases(app)
    assert [case.urgency for case in cases] == [Urgency.EMERGENCY, Urgency.EMERGENCY]
    assert len(texts_to(app, ON_DUTY)) == 2  # the on-duty staff alerted, once for each
    [reply] = texts_to(app, RESIDENT)
    assert reply.body.startswith(
        f"社区服务热线：已收到，事项编号 {cases[0].number}，已通知值班人员。"
    )


def test_a_text_is_still_signature_checked_without_the_database(down_app: Flask) -> None:
    form = {"MessageSid": "SM" + "3" * 32, "From": RESIDENT, "To": HOTLINE_NUMBER, "Body": "喂"}
    assert down_app.test_client().post("/sms/incoming", data=form).status_code == 403
    assert kept(down_app) == []
