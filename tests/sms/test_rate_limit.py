"""Too many texts from one number: every one is kept, but no new case and one notice."""

from __future__ import annotations

import threading

from flask import Flask

from cases.lifecycle import transition
from cases.models import Case, CaseStatus
from hotline.db import db
from outreach.models import OutboundStatus
from sms.handlers import RATE_LIMIT_TEXTS
from tests.conftest import HOTLINE_NUMBER
from tests.sms.conftest import Poster
from tests.sms.helpers import RESIDENT, Clock, all_cases, events, messages, queued_status, text
from twilio_double.simulator import CallSimulator


def accept(app: Flask, case_id: int) -> None:
    """Staff pick the case up: a new text would open another case from now on."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        transition(case, CaseStatus.ACCEPTED, "staff")
        db.session.commit()


def test_a_flood_is_kept_on_the_open_case_with_one_notice(app: Flask, phone: CallSimulator) -> None:
    clock = Clock(app)
    for index in range(RATE_LIMIT_TEXTS):
        text(phone, f"电梯坏了 {index}")
        clock.advance(seconds=20)
    [case] = all_cases(app)
    accept(app, case.id)

    notice = text(phone, "楼道的灯也坏了")
    later = [text(phone, f"还有 {index}") for index in range(3)]

    assert [c.id for c in all_cases(app)] == [case.id]  # no new case
    assert notice == "您的短信都已收到并记录，请稍候，工作人员会联系您。"
    assert later == ["", "", ""]
    stored = messages(app)
    assert len(stored) == RATE_LIMIT_TEXTS + 4  # nothing dropped
    assert [m.outcome for m in stored[-4:]] == ["rate_limited"] + ["rate_limited_quiet"] * 3
    assert {m.case_id for m in stored[-4:]} == {case.id}
    received = events(app, case.id, "sms_received")
    assert [e["text"] for e in received[-4:]] == ["楼道的灯也坏了", "还有 0", "还有 1", "还有 2"]
    assert all(e["rate_limited"] for e in received[-4:])


def test_the_limit_lifts_when_the_window_has_passed(app: Flask, phone: CallSimulator) -> None:
    clock = Clock(app)
    for index in range(RATE_LIMIT_TEXTS + 1):
        text(phone, f"电梯坏了 {index}")
    [case] = all_cases(app)
    accept(app, case.id)
    clock.advance(minutes=11)
    assert text(phone, "楼道的灯也坏了").startswith("社区服务热线：已收到您的短信")
    assert len(all_cases(app)) == 2


def test_a_flood_without_an_open_case_is_still_stored(app: Flask, phone: CallSimulator) -> None:
    Clock(app)
    for _ in range(RATE_LIMIT_TEXTS):
        text(phone, "👍")  # nothing to read: no case
    assert text(phone, "电梯坏了").startswith("您的短信都已收到并记录")
    assert all_cases(app) == []
    assert messages(app)[-1].body == "电梯坏了"


def test_stop_works_however_many_texts_came_before(app: Flask, phone: CallSimulator) -> None:
    Clock(app)
    for _ in range(RATE_LIMIT_TEXTS + 2):
        text(phone, "👍")
    assert text(phone, "STOP").startswith("You have successfully been unsubscribed")
    assert queued_status(app, RESIDENT) == OutboundStatus.SUPPRESSED


def test_other_numbers_are_not_limited(app: Flask, phone: CallSimulator) -> None:
    Clock(app)
    for _ in range(RATE_LIMIT_TEXTS + 1):
        text(phone, "👍")
    assert text(phone, "电梯坏了", from_="+8613800000002").startswith("社区服务热线：已收到")


def test_a_flood_at_once_is_limited_and_opens_one_case(app: Flask, signed_post: Poster) -> None:
    """Thirty texts from one number in the same instant: the same limit, still one case."""
    flood = 30
    statuses: list[int] = []
    start = threading.Barrier(flood)

    def deliver(index: int) -> None:
        start.wait()
        fields = {
            "MessageSid": f"SM{index:032d}",
            "From": RESIDENT,
            "To": HOTLINE_NUMBER,
            "Body": f"电梯坏了，快来人 {index}",
        }
        statuses.append(signed_post(fields).status_code)

    threads = [threading.Thread(target=deliver, args=(index,)) for index in range(flood)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert statuses == [200] * flood
    stored = messages(app)
    assert len(stored) == flood  # nothing dropped
    acted_on = [m for m in stored if m.outcome in ("new_case", "added_to_case")]
    assert len(acted_on) <= RATE_LIMIT_TEXTS
    assert [m.outcome for m in stored].count("rate_limited") == 1  # one notice
    [case] = all_cases(app)
    assert {m.case_id for m in stored} == {case.id}
