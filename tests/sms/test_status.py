"""A case number, or the word for "status" in three languages, answers with the status."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from cases.models import CaseStatus, FamilyContact
from hotline.db import db
from outreach.models import OutboundMessage
from tests.sms.helpers import RESIDENT, add_case, add_resident, all_cases, events, messages, text
from twilio_double.simulator import CallSimulator

STRANGER = "+8613800000099"
FAMILY = "+8613800000055"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-CN", "事项 {number}：正在处理中。处理完成后，我们会给您打电话。"),
        ("ko-KR", "접수 번호 {number}: 처리 중입니다. 처리가 끝나면 전화드리겠습니다."),
        ("en-US", "Case {number}: being worked on. We will text or call you when it is done."),
    ],
)
def test_status_by_number_in_the_residents_language(
    app: Flask, phone: CallSimulator, language: str, expected: str
) -> None:
    add_resident(app, language=language)
    case = add_case(app, status=CaseStatus.IN_PROGRESS)
    assert text(phone, case.number) == expected.format(number=case.number)
    assert len(all_cases(app)) == 1  # asking opens no case


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        ("查询", "事项 {number}：已经受理。"),
        ("상태", "접수 번호 {number}: 접수 처리되었습니다."),
        ("STATUS", "Case {number}: accepted."),
        ("status", "Case {number}: accepted."),
    ],
)
def test_status_by_keyword_gives_the_senders_open_case(
    app: Flask, phone: CallSimulator, keyword: str, expected: str
) -> None:
    add_case(app, status=CaseStatus.CLOSED)
    case = add_case(app, status=CaseStatus.ACCEPTED)
    reply = text(phone, keyword)
    assert reply.startswith(expected.format(number=case.number))
    assert len(all_cases(app)) == 2


def test_status_keyword_with_a_number(app: Flask, phone: CallSimulator) -> None:
    case = add_case(app, status=CaseStatus.RESOLVED)
    assert text(phone, f"查询 {case.number}").startswith(f"事项 {case.number}：已经处理完成。")


def test_the_residents_own_status_question_is_on_the_timeline(
    app: Flask, phone: CallSimulator
) -> None:
    case = add_case(app, status=CaseStatus.NEW)
    reply = text(phone, case.number)
    assert events(app, case.id, "sms_received")[0]["text"] == case.number
    assert events(app, case.id, "sms_replied")[0]["text"] == reply


def status_texts(app: Flask) -> list[tuple[str, str]]:
    """(to, body) of the status texts queued because someone else asked."""
    with app.app_context():
        query = select(OutboundMessage.to_phone, OutboundMessage.body).where(
            OutboundMessage.purpose == "status_request"
        )
        return [(to, body) for to, body in db.session.execute(query)]


def test_a_strangers_question_is_texted_to_the_cases_phone_and_kept_off_the_case(
    app: Flask, phone: CallSimulator
) -> None:
    add_resident(app, language="ko-KR")
    case = add_case(app, status=CaseStatus.NEW)
    reply = text(phone, case.number, from_=STRANGER)
    assert reply == f"为保护隐私，事项 {case.number} 的进度将用短信发到该事项登记的手机上。"
    # To the phone on the case, in the resident's language.
    [(to, body)] = status_texts(app)
    assert to == RESIDENT and body.startswith(f"접수 번호 {case.number}: 접수되었고")
    assert events(app, case.id, "sms_received") == []
    [message] = messages(app)
    assert (message.outcome, message.case_id) == ("status", None)


def test_a_family_contact_reads_the_status_of_the_residents_case(
    app: Flask, phone: CallSimulator
) -> None:
    resident_id = add_resident(app)
    with app.app_context():
        db.session.add(FamilyContact(resident_id=resident_id, name="王小明", phone=FAMILY))
        db.session.commit()
    case = add_case(app, status=CaseStatus.IN_PROGRESS, resident_id=resident_id)
    reply = text(phone, case.number, from_=FAMILY)
    assert reply.startswith(f"事项 {case.number}：正在处理中。")
    assert status_texts(app) == []


def test_an_unknown_number_is_not_found(app: Flask, phone: CallSimulator) -> None:
    assert text(phone, "99999") == "没有找到编号为 99999 的事项，请核对编号后再发送。"
    assert all_cases(app) == []


def test_status_without_any_case(app: Flask, phone: CallSimulator) -> None:
    assert text(phone, "STATUS", from_=STRANGER).startswith("We found no open case")
    assert text(phone, "查询", from_=STRANGER).startswith("没有找到您正在办理的事项")
    assert all_cases(app) == []


def test_a_case_asked_about_from_the_residents_registered_number(
    app: Flask, phone: CallSimulator
) -> None:
    """A resident texting from the phone the case was opened from: same number, same case."""
    case = add_case(app, status=CaseStatus.REOPENED, phone=RESIDENT)
    assert "重新处理中" in text(phone, "进度")
    assert events(app, case.id, "sms_received")
