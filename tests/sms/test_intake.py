"""A text opens a case, or adds to the one just opened, and both show on its timeline."""

from __future__ import annotations

from dataclasses import replace

import pytest
from celery import Task
from flask import Flask

from cases.lifecycle import transition
from cases.models import Case, CaseSource, CaseStatus, Urgency
from hotline.db import db
from outreach.models import OutboundMessage
from tasks.followups import send_text
from tests.conftest import ON_DUTY
from tests.sms.helpers import (
    RESIDENT,
    Clock,
    add_resident,
    all_cases,
    events,
    messages,
    text,
)
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator


def test_a_text_opens_a_case_and_the_reply_gives_its_number_in_chinese(
    app: Flask, phone: CallSimulator, rest: TwilioRestDouble
) -> None:
    reply = text(phone, "电梯坏了，三号楼的老人下不了楼")

    [case] = all_cases(app)
    assert case.source == CaseSource.SMS
    assert case.phone == RESIDENT
    assert case.status == CaseStatus.NEW
    assert case.category == "facilities"
    assert case.urgency == Urgency.URGENT  # 电梯坏 is on the urgent list
    assert case.transcript == case.machine_transcript == "电梯坏了，三号楼的老人下不了楼"
    assert case.locale == "zh-CN"
    assert case.deadline_at is not None
    assert reply.startswith("社区服务热线：已收到您的短信，事项编号 " + case.number)
    # Twilio sent our reply back to the resident.
    [sent] = [m for m in rest.messages if m["direction"] == "outbound-reply"]
    assert (sent["to"], sent["body"]) == (RESIDENT, reply)


def test_the_text_and_the_reply_are_on_the_case_timeline(app: Flask, phone: CallSimulator) -> None:
    reply = text(phone, "楼下垃圾三天没人收了", sid="SM" + "a" * 32)

    [case] = all_cases(app)
    kinds = [event.kind for event in case.events]
    assert kinds[0] == "case_opened"
    assert kinds[-2:] == ["sms_received", "sms_replied"]
    assert events(app, case.id, "case_opened")[0]["source"] == "sms"
    [received] = events(app, case.id, "sms_received")
    assert received["text"] == "楼下垃圾三天没人收了"
    assert received["message_sid"] == "SM" + "a" * 32
    assert events(app, case.id, "sms_replied")[0]["text"] == reply
    [message] = messages(app)
    assert (message.outcome, message.case_id, message.body) == (
        "new_case",
        case.id,
        received["text"],
    )


def test_a_known_resident_is_answered_in_their_language_and_the_case_is_theirs(
    app: Flask, phone: CallSimulator
) -> None:
    resident_id = add_resident(app, name="김영희", language="ko-KR", grid="G3", building="7동")
    reply = text(phone, "엘리베이터가 고장 났어요")

    [case] = all_cases(app)
    assert (case.resident_id, case.grid, case.building, case.locale) == (
        resident_id,
        "G3",
        "7동",
        "ko-KR",
    )
    assert reply.startswith("주민센터 민원 상담")
    assert case.number in reply


@pytest.mark.parametrize(
    ("body", "start"),
    [("엘리베이터가 고장 났어요", "주민센터"), ("The street light is broken", "社区服务热线")],
)
def test_a_stranger_is_answered_in_the_script_they_write_else_the_default(
    app: Flask, phone: CallSimulator, body: str, start: str
) -> None:
    assert text(phone, body).startswith(start)


def test_an_english_text_is_triaged_with_the_english_lexicon(
    app: Flask, phone: CallSimulator
) -> None:
    text(phone, "The street light outside building 3 is broken")
    [case] = all_cases(app)
    assert case.category == "facilities"


def test_texts_in_a_row_make_one_case(app: Flask, phone: CallSimulator) -> None:
    clock = Clock(app)
    first = text(phone, "电梯坏了")
    clock.advance(minutes=4)
    second = text(phone, "三号楼二单元")
    clock.advance(minutes=25)  # 29 minutes after the first, 25 after the previous text
    third = text(phone, "楼里有个老人摔倒了")

    [case] = all_cases(app)
    assert case.transcript == "电梯坏了\n三号楼二单元\n楼里有个老人摔倒了"
    assert case.machine_transcript == case.transcript
    assert case.number in first
    assert second == f"已收到，已补充到事项 {case.number}。"
    # 摔倒 is an emergency word: the case is raised, and the reply says what to do now.
    assert case.urgency == Urgency.EMERGENCY
    assert "120" in third and case.number in third
    assert [m.outcome for m in messages(app)] == ["new_case", "added_to_case", "added_to_case"]
    assert len(events(app, case.id, "sms_received")) == 3
    assert events(app, case.id, "triage_changed")[-1]["urgency"] == "emergency"


def test_a_text_after_a_long_pause_opens_a_new_case(app: Flask, phone: CallSimulator) -> None:
    clock = Clock(app)
    text(phone, "电梯坏了")
    clock.advance(minutes=31)
    text(phone, "楼道的灯也不亮")
    assert len(all_cases(app)) == 2


def test_a_case_staff_picked_up_is_not_added_to(app: Flask, phone: CallSimulator) -> None:
    text(phone, "电梯坏了")
    with app.app_context():
        case = db.session.get(Case, all_cases(app)[0].id)
        assert case is not None
        transition(case, CaseStatus.ACCEPTED, "staff")
        db.session.commit()
    text(phone, "楼道的灯也不亮")
    assert len(all_cases(app)) == 2


def test_another_number_does_not_join_the_case(app: Flask, phone: CallSimulator) -> None:
    text(phone, "电梯坏了")
    text(phone, "电梯坏了", from_="+8613800000002")
    assert len(all_cases(app)) == 2


def test_an_emergency_text_alerts_the_on_duty_staff_after_commit(
    app: Flask, phone: CallSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[int] = []

    def publish(task: Task, args: tuple[int], kwargs: object = None, **options: object) -> None:
        with app.app_context():  # published only once the case and the text are committed
            message = db.session.get(OutboundMessage, args[0])
            assert message is not None and message.case_id is not None
        assert task.name == send_text.name
        published.append(args[0])

    monkeypatch.setattr(Task, "apply_async", publish)  # what reaches the broker
    reply = text(phone, "我妈摔倒了，起不来，快来人")

    [case] = all_cases(app)
    assert case.urgency == Urgency.EMERGENCY
    with app.app_context():
        [alert] = [db.session.get(OutboundMessage, message_id) for message_id in published]
        assert alert is not None and alert.to_phone == ON_DUTY and alert.case_id == case.id
        assert alert.purpose == "emergency_alert" and "摔倒" in alert.body
    assert "120" in reply


def test_a_duplicated_message_sid_is_handled_once_and_answered_the_same(
    app: Flask, phone: CallSimulator
) -> None:
    sid = "SM" + "d" * 32
    first = text(phone, "电梯坏了", sid=sid)
    again = text(phone, "电梯坏了", sid=sid)

    [case] = all_cases(app)
    assert again == first
    assert len(messages(app)) == 1
    assert len(events(app, case.id, "sms_received")) == 1
    assert len(events(app, case.id, "sms_replied")) == 1


def test_an_emergency_text_with_nobody_on_duty_does_not_claim_anyone_was_alerted(
    app: Flask, phone: CallSimulator
) -> None:
    settings = app.extensions["hotline.settings"]
    app.extensions["hotline.settings"] = replace(settings, on_duty_numbers=[])

    reply = text(phone, "我妈摔倒了，起不来，快来人")

    [case] = all_cases(app)
    assert case.urgency == Urgency.EMERGENCY
    assert "已通知值班人员" not in reply
    assert "联系不到值班人员" in reply and "120" in reply
