"""A Chinese-speaking worker reads every staff page in Chinese: no English words, no raw codes.

The case page (with a timeline holding every kind of event, from the flows that write them),
the inbox and the dashboard are rendered in zh-CN and searched for ASCII words of three
letters or more in what the reader sees. A new event kind, reason or outcome that nobody
translated shows up here as an English word or code, and fails this test.
"""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role, User
from cases import actions, intake, services
from cases.events import EventKind
from cases.models import Case, CaseStatus, Satisfaction
from cases.recordings import note_recording_status
from cases.services import add_event
from hotline.db import db
from outreach.survey import record_answer
from speech import ModelMissing
from tasks.recordings import transcribe_recording
from tests.speech.fakes import FakeRecognizer
from tests.workspace.conftest import make_case, make_resident, make_user
from twilio_double.rest import TwilioRestDouble

Login = Callable[[str], FlaskClient]
ENGLISH_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")
# ASCII words a Chinese page may rightly show, each with the reason why. Add with care.
ALLOWED = {
    "water",  # the inbox's search hint: transcripts are searched in every language,
    "leak",  # so its examples are in Chinese, Korean and English ("water leak")
    "Twilio",  # the phone service's name, as the administrator finds it in the settings
}
INSTALL_HINT = (
    "No speech model for zh-CN. Install one with "
    "'hotline speech install vosk-model-small-cn-0.22 --locale zh-CN'."
)

# One event of every kind, with the detail its writer stores (see the modules named in
# cases/events.py). A new kind must be added here, and gets a Chinese sentence to pass.
SAMPLES: dict[EventKind, tuple[str, dict[str, Any]]] = {
    EventKind.CASE_OPENED: ("system", {"source": "voicemail", "call_sid": "CA" + "1" * 32}),
    EventKind.UNKNOWN_CALL: ("system", {"call_sid": "CA" + "2" * 32}),
    EventKind.RECORDING_RECEIVED: ("system", {"duration_s": 14.0}),
    EventKind.RECORDING_ABSENT: ("system", {}),
    EventKind.TRANSCRIBED: (
        "system",
        {"model": "vosk-model-small-cn-0.22", "words": 4, "category": "facilities"}
        | {"urgency": "normal", "matched": ["灯"]},
    ),
    EventKind.TRANSCRIPTION_FAILED: ("system", {"error": INSTALL_HINT, "problem": "no_model"}),
    EventKind.TRANSCRIPT_LATE: ("system", {}),
    EventKind.RECORDING_CREDENTIALS_REJECTED: (
        "system",
        {"error": "Twilio answered HTTP 401", "problem": "credentials_rejected"},
    ),
    EventKind.RETRANSCRIBE_REQUESTED: ("system", {}),
    EventKind.CASE_NUMBER_SMS: ("system", {"message_sid": "SM" + "3" * 32}),
    EventKind.ON_DUTY_ALERTED: ("system", {"recipients": 2, "words": ["着火"]}),
    EventKind.STATUS_CHANGED: ("李工", {"from": "new", "to": "accepted", "note": ""}),
    EventKind.ASSIGNED: ("routing", {"to": "李工", "to_user_id": 1, "rule_id": 1}),
    EventKind.NOTE: ("李工", {"text": "已电话联系居民"}),
    EventKind.TRANSCRIPT_EDITED: ("李工", {"length": 12}),
    EventKind.TRIAGE_CHANGED: ("李工", {"category": "drainage", "urgency": "urgent"}),
    EventKind.LOCATION_CHANGED: ("李工", {"grid": "B2", "from_grid": "A1"}),
    EventKind.RESIDENT_LINKED: ("李工", {"resident_id": None}),
    EventKind.PARTICIPANT_ADDED: ("李工", {"department": "水务"}),
    EventKind.PART_REPORTED: ("水务", {"report": "已派人维修"}),
    EventKind.LINKED_TO_MAIN: ("李工", {"main": "10001", "merged": True}),
    EventKind.REPORT_LINKED: ("李工", {"number": "10002"}),
    EventKind.UNLINKED_FROM_MAIN: ("李工", {"main": "10001"}),
    EventKind.REPORT_UNLINKED: ("李工", {"number": "10002"}),
    EventKind.ESCALATED: (
        "system",
        {"deadline": "2026-01-05T03:30:00+00:00", "assignee": "李工", "overdue_minutes": 42},
    ),
    EventKind.SUPERVISORS_NOTIFIED: ("system", {"recipients": 1}),
    EventKind.FOLLOW_UP_SCHEDULED: (
        "system",
        {"follow_up_kind": "survey_call", "due_at": "2026-01-06T00:00:00+00:00", "follow_up": 1},
    ),
    EventKind.FOLLOW_UP_WAITING: (
        "system",
        {"follow_up": 1, "follow_up_kind": "survey_call", "reason": "out_of_hours"}
        | {"until": "2026-01-06T00:00:00+00:00"},
    ),
    EventKind.FOLLOW_UP_CANCELLED: ("system", {"reason": "case_reopened", "count": 1}),
    EventKind.FOLLOW_UP_DONE: (
        "system",
        {"follow_up": 2, "follow_up_kind": "survey_sms", "outcome": "answered"},
    ),
    EventKind.SURVEY_CALL_PLACED: (
        "system",
        {"follow_up": 1, "attempt": 1, "call_sid": "CA" + "4" * 32, "adopted": False},
    ),
    EventKind.SURVEY_CALL_OUTCOME: (
        "system",
        {"outcome": "answered", "next": "done", "follow_up": 1, "attempt": 1},
    ),
    EventKind.PROGRESS_CALL_PLACED: (
        "system",
        {"follow_up": 3, "attempt": 1, "call_sid": "CA" + "5" * 32, "adopted": False},
    ),
    EventKind.PROGRESS_CALL_OUTCOME: (
        "system",
        {"outcome": "no-answer", "next": "done", "follow_up": 3, "attempt": 1},
    ),
    EventKind.PROGRESS_UPDATE: (
        "system",
        {"follow_up": 4, "follow_up_kind": "progress", "outcome": "texted", "channel": "sms"},
    ),
    EventKind.SURVEY_SMS_QUEUED: (
        "system",
        {"follow_up": 2, "reply_by": "2026-01-07T00:00:00+00:00"},
    ),
    EventKind.SURVEY_SMS_NO_REPLY: ("system", {"follow_up": 2}),
    EventKind.SURVEY_ANSWERED: ("resident", {"answer": "not_satisfied", "channel": "call"}),
    EventKind.SURVEY_COMMENT: (
        "resident",
        {"transcript": "", "recording_sid": "RE" + "6" * 32, "error": INSTALL_HINT},
    ),
    EventKind.VISIT_TASK: (
        "system",
        {"follow_up": 5, "follow_up_kind": "visit", "outcome": "visit_task", "grid": "A1"}
        | {"assigned_to": ["赵网格员"]},
    ),
    EventKind.LEADER_REPORT: ("system", {"leader": "王建国", "building": "3号楼"}),
    EventKind.VISIT_RECORDED: (
        "赵网格员",
        {"follow_up": 5, "met": False, "note": "家里没人", "next_at": "2026-01-08T00:00:00+00:00"},
    ),
    EventKind.RESIDENT_TEXTED: (
        "李工作人员",
        {
            "text": "师傅明天上午来修灯",
            "locale": "ko-KR",
            "due_at": "2026-01-08T00:00:00+00:00",
            "later": True,
            "message": 3,
        },
    ),
    EventKind.RESIDENT_CALLED: ("李工作人员", {"outcome": "no_answer", "note": "再打"}),
    EventKind.SMS_SENT: ("system", {"purpose": "survey", "message_sid": "SM" + "7" * 32}),
    EventKind.SMS_SUPPRESSED: ("system", {"purpose": "progress", "reason": "opted_out"}),
    EventKind.SMS_FAILED: (
        "system",
        {"purpose": "staff_visit", "message_sid": None, "error": "HTTP 401 Authenticate"},
    ),
    EventKind.SMS_RECEIVED: ("resident", {"text": "灯还是不亮", "message_sid": "SM" + "8" * 32}),
    EventKind.SMS_REPLIED: ("system", {"text": "谢谢，已收到。", "in_reply_to": "SM" + "8" * 32}),
}


class VisibleText(HTMLParser):
    """The words a reader sees: text outside <script> and <style>, and the attributes a
    browser shows (title, aria-label, placeholder, alt)."""

    SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.parts += [value or "" for name, value in attrs if name in self.SHOWN_ATTRIBUTES]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def english_words(page: str) -> list[str]:
    reader = VisibleText()
    reader.feed(page)
    words = ENGLISH_WORD.findall(" ".join(reader.parts))
    return sorted({word for word in words if word not in ALLOWED})


def wav(seconds: float = 2.0) -> bytes:
    """Sound that rises and falls as a voice does (a steady tone would be taken for noise)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        t = np.arange(int(8000 * seconds))
        samples = np.sin(t * 0.3) * 8000 * np.abs(np.sin(2 * np.pi * 2 * t / 8000))
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def voicemail_without_a_model(rest: TwilioRestDouble, recognizer: FakeRecognizer) -> Case:
    """A Mandarin voicemail on a first install, before the Mandarin speech model is there."""
    recognizer.reply = ModelMissing(INSTALL_HINT, locale="zh-CN")
    call = services.record_call(
        "CA" + "9" * 32, "+8613800000001", "+8610123456", "inbound", "zh-CN"
    )
    sid = rest.add_recording(call.call_sid, wav())
    recording, _ = intake.note_voicemail(sid, call.call_sid, "zh-CN")
    note_recording_status(recording, "completed", 9)
    transcribe_recording.apply(args=[recording.id])
    db.session.expire_all()
    fresh = db.session.scalar(db.select(Case))  # opened without a transcript, for staff to hear
    assert fresh is not None and fresh.problem is not None
    return fresh


def worked_on(case: Case, li: User, boss: User) -> None:
    """What a week does to a case: assigned, resolved, a dissatisfied resident, every kind of
    event besides, and a supervisor closing it in the end without a second answer."""
    actions.assign(case, li, li)
    actions.add_note(case, "已电话联系居民，约好明天上门", li)
    actions.resolve(case, "更换了楼道灯泡", li)
    record_answer(case, Satisfaction.NOT_SATISFIED, "call")
    for kind, (actor, detail) in SAMPLES.items():
        add_event(case, kind, actor, **detail)
    actions.resolve(case, "重新接线，灯已亮", li)
    actions.close(case, "居民住院，三次回访均无人接听", boss)


@pytest.fixture
def chinese_pages(
    app: Flask, rest: TwilioRestDouble, fake_recognizer: FakeRecognizer, login: Login
) -> dict[str, str]:
    with app.app_context():
        li_id = make_user("li", Role.STAFF, language="zh-CN", display_name="李工")
        boss_id = make_user("liu", Role.ADMIN, language="zh-CN", display_name="刘主任")
        make_resident(name="张阿姨", address="幸福里3号楼", grid="A1")
        db.session.commit()
        li, boss = db.session.get(User, li_id), db.session.get(User, boss_id)
        assert li is not None and boss is not None
        case = voicemail_without_a_model(rest, fake_recognizer)
        worked_on(case, li, boss)
        repeat = make_case(transcript="楼道灯坏了，上午打过电话")
        db.session.flush()
        actions.close_as_mistake(repeat, "duplicate", li, "同一位居民", case.number)
        db.session.commit()
        assert case.status == CaseStatus.CLOSED
        case_id, repeat_id = case.id, repeat.id
    client = login("liu")
    return {
        "case page": client.get(f"/cases/{case_id}").get_data(as_text=True),
        "mistake case page": client.get(f"/cases/{repeat_id}").get_data(as_text=True),
        "inbox": client.get("/cases", query_string={"status": "all"}).get_data(as_text=True),
        "dashboard": client.get("/dashboard").get_data(as_text=True),
    }


def test_every_event_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(EventKind)


@pytest.mark.parametrize("page", ["case page", "mistake case page", "inbox", "dashboard"])
def test_a_chinese_page_has_no_english_words(chinese_pages: dict[str, str], page: str) -> None:
    assert english_words(chinese_pages[page]) == []


def test_the_case_page_says_what_happened_in_plain_chinese(chinese_pages: dict[str, str]) -> None:
    page = chinese_pages["case page"]
    timeline = page[page.index('id="timeline"') :]
    assert "居民" in re.findall(r'<span class="actor">(.*?)</span>', timeline)
    assert "将状态从已办结改为已重启：居民不满意" in timeline
    assert "回访电话结束：已接听" in timeline
    assert "在居民未作评价的情况下销账" in timeline and "居民住院" in timeline
    assert "暂时不能自动转写这种语言的录音" in page  # what staff can do, not what to install
