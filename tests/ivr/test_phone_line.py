"""A resident's call, played by the simulator exactly as Twilio would, through every path."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from cases.models import (
    CallBack,
    Case,
    CaseSource,
    CaseStatus,
    FamilyContact,
    Recording,
    RecordingStatus,
    Resident,
    Urgency,
)
from hotline.clock import CLOCK_KEY
from hotline.db import db
from outreach.models import OutboundMessage
from tasks.recordings import transcribe_recording
from tests.conftest import ACCOUNT_SID, HOTLINE_NUMBER, ON_DUTY, PUBLIC_URL, SimulatorFactory, sign
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Hangup, Press, Silence, Speak
from twilio_double.simulator import CallSimulator

CALLER = "+8613800000001"
FAMILY = "+8613800000055"
STRANGER = "+8613800000099"
Poster = Callable[..., TestResponse]


def speech_wav(seconds: float = 2.0) -> bytes:
    """Sound that rises and falls as a voice does; the fake recognizer hears words in it."""
    t = np.arange(int(8000 * seconds)) / 8000
    samples = 4000 * np.sin(2 * np.pi * 300 * t) * np.abs(np.sin(2 * np.pi * 2 * t))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def add_resident(app: Flask, language: str = "zh-CN", name: str = "王秀英") -> None:
    with app.app_context():
        db.session.add(Resident(phone=CALLER, name=name, language=language))
        db.session.commit()


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def transcribe(app: Flask) -> None:
    """What a worker does with the recordings a call left (the unit tests' broker keeps them)."""
    with app.app_context():
        pending = select(Recording.id).where(Recording.status == RecordingStatus.PENDING)
        for recording_id in db.session.scalars(pending).all():
            transcribe_recording.apply(args=[recording_id])


def only_case(app: Flask) -> Case:
    with app.app_context():
        [case] = db.session.scalars(select(Case)).all()
        db.session.expunge(case)
        return case


def leave_message(app: Flask, phone: CallSimulator) -> str:
    """The caller presses 1 and speaks; returns the number of the case that opened."""
    phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("1"), Speak(speech_wav())],
        url="/ivr/incoming",
    )
    transcribe(app)
    return only_case(app).number


def test_unknown_caller_hears_welcome_and_menu_in_default_language(phone: CallSimulator) -> None:
    result = phone.call(from_=CALLER, to=HOTLINE_NUMBER, script=[Hangup()], url="/ivr/incoming")
    assert result.application_error is None
    assert result.said[0] == "您好，这里是社区热线。"
    assert "请按1" in result.said[1] and "按9" in result.said[1]
    assert result.says[0].language == "zh-CN"
    # A caller who knows the keys need not wait: a key cuts the welcome short too.
    assert all(say.in_gather for say in result.says)


def test_hash_at_the_menu_repeats_it(phone: CallSimulator) -> None:
    result = phone.call(
        from_=CALLER, to=HOTLINE_NUMBER, script=[Press("#"), Hangup()], url="/ivr/incoming"
    )
    assert len([text for text in result.said if "请按1" in text]) == 2
    assert not any("没有听到按键" in text for text in result.said)


def test_known_caller_is_greeted_by_name_in_their_language(
    app: Flask, phone: CallSimulator
) -> None:
    add_resident(app, language="ko-KR", name="김영희")
    result = phone.call(from_=CALLER, to=HOTLINE_NUMBER, script=[Hangup()], url="/ivr/incoming")
    assert result.said[0].startswith("김영희님")
    assert "1번" in result.said[1]
    assert result.says[0].voice == "Polly.Seoyeon"


def test_star_repeats_and_invalid_digit_is_explained(phone: CallSimulator) -> None:
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("*"), Press("7"), Hangup()],
        url="/ivr/incoming",
    )
    menus = [text for text in result.said if "请按1" in text]
    assert len(menus) == 3
    assert "对不起，没有这个选项。" in result.said


def test_a_silent_caller_hears_the_menu_once_then_leaves_a_message(
    app: Flask, phone: CallSimulator
) -> None:
    """Some callers cannot use a keypad: never hang up on them, and do not keep them waiting."""
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Silence(), Speak(speech_wav())],
        url="/ivr/incoming",
    )
    assert len([text for text in result.said if "请按1" in text]) == 1
    assert "没有听到按键，现在为您转到留言。" in result.said
    assert len(result.recordings) == 1
    transcribe(app)
    assert count(app, Case) == 1
    assert result.hung_up_by == "app"


def test_leaving_a_message_thanks_the_caller_and_opens_the_case_once_speech_is_heard(
    app: Flask, phone: CallSimulator, rest: TwilioRestDouble
) -> None:
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("1"), Speak(speech_wav()), Press("#")],
        url="/ivr/incoming",
    )
    assert result.said[-1] == "谢谢您，留言已经收到。我们会用短信把事项编号发给您。再见。"
    assert result.hung_up_by == "app"
    with app.app_context():
        recording = db.session.scalar(select(Recording))
        assert recording is not None
        assert recording.recording_sid == result.recordings[0] and recording.available
    # The caller ended the message with the # key.
    assert result.record_events[0].digits == "#"
    assert count(app, Case) == 0  # not before its transcript says it holds speech
    transcribe(app)
    case = only_case(app)
    assert case.source == CaseSource.VOICEMAIL and case.phone == CALLER
    with app.app_context():
        [text] = db.session.scalars(select(OutboundMessage)).all()
        assert text.to_phone == CALLER and case.number in text.body


@pytest.mark.parametrize(
    "at_the_beep", [Press("#"), Hangup()], ids=["hash-at-the-beep", "hang-up-at-the-beep"]
)
def test_nothing_recorded_opens_no_case_and_texts_nothing(
    app: Flask, phone: CallSimulator, at_the_beep: Press | Hangup
) -> None:
    script = [Press("1"), at_the_beep, Hangup()]  # hung up at the beep, or once back at the menu
    result = phone.call(from_=CALLER, to=HOTLINE_NUMBER, script=script, url="/ivr/incoming")
    assert result.application_error is None and result.recordings == []
    assert [r.status for r in result.requests_of("recording-status")] == [204]
    if isinstance(at_the_beep, Press):  # still on the line: told so, and back to the menu
        assert "我们没有收到您的留言。" in result.said
    transcribe(app)
    assert count(app, Case) == 0 and count(app, OutboundMessage) == 0
    assert count(app, CallBack) == 0


def test_a_record_action_without_a_recording_is_nothing_recorded(
    app: Flask, signed_post: Poster
) -> None:
    """Twilio documents that it skips the action then; if it ever asks, the caller is told."""
    params = {"CallSid": "CA" + "4" * 32, "From": CALLER, "To": HOTLINE_NUMBER}
    for fields in ({}, {"RecordingSid": "RE" + "4" * 32, "RecordingDuration": "0"}):
        response = signed_post("/ivr/recorded", {**params, **fields})
        assert response.status_code == 200
        assert "我们没有收到您的留言。" in response.get_data(as_text=True)
    assert count(app, Case) == 0 and count(app, Recording) == 0


@pytest.mark.parametrize("status_first", [False, True])
def test_three_deliveries_of_the_recording_callback_make_one_case(
    app: Flask, make_phone: SimulatorFactory, status_first: bool
) -> None:
    phone = make_phone(recording_status_repeats=3, recording_status_first=status_first)
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("1"), Speak(speech_wav())],
        url="/ivr/incoming",
    )
    assert len(result.requests_of("recording-status")) == 3
    assert all(r.status == 204 for r in result.requests_of("recording-status"))
    assert count(app, Recording) == 1
    transcribe(app)
    assert count(app, Case) == 1 and count(app, OutboundMessage) == 1


def test_recording_callback_for_an_unknown_call_still_opens_a_case(
    app: Flask, signed_post: Poster, rest: TwilioRestDouble
) -> None:
    rest.add_recording("CA" + "9" * 32, speech_wav(), sid="RE" + "9" * 32)
    response = signed_post(
        "/ivr/recording-status",
        {
            "AccountSid": ACCOUNT_SID,
            "CallSid": "CA" + "9" * 32,
            "RecordingSid": "RE" + "9" * 32,
            "RecordingStatus": "completed",
            "RecordingDuration": "4",
        },
    )
    assert response.status_code == 204
    transcribe(app)
    case = only_case(app)
    assert case.phone == ""
    with app.app_context():
        assert [e.kind for e in db.session.get(Case, case.id).events] == [  # type: ignore[union-attr]
            "case_opened",
            "unknown_call",
            "recording_received",
            "transcribed",
        ]


def test_status_of_the_callers_open_case_is_spoken(app: Flask, phone: CallSimulator) -> None:
    number = leave_message(app, phone)
    result = phone.call(
        from_=CALLER, to=HOTLINE_NUMBER, script=[Press("2"), Hangup()], url="/ivr/incoming"
    )
    spoken = [text for text in result.said if text.startswith("事项")]
    assert spoken and "，".join(number) in spoken[0] and "已经收到" in spoken[0]


def key_in_case_number(phone: CallSimulator, number: str, from_: str = STRANGER) -> list[str]:
    """Press 2, then key in a case number: what the caller heard."""
    result = phone.call(
        from_=from_,
        to=HOTLINE_NUMBER,
        script=[Press("2"), Press(number + "#"), Hangup()],
        url="/ivr/incoming",
    )
    return result.said


def texts_to(app: Flask, phone: str, purpose: str = "status_request") -> list[str]:
    """The bodies of the texts of one purpose queued to `phone`."""
    with app.app_context():
        query = select(OutboundMessage.body).where(
            OutboundMessage.to_phone == phone, OutboundMessage.purpose == purpose
        )
        return list(db.session.scalars(query))


def close_case(app: Flask, number: str) -> None:
    with app.app_context():
        case = db.session.get(Case, Case.id_from_number(number))
        assert case is not None
        case.status = CaseStatus.CLOSED
        db.session.commit()


def test_keyed_case_number_from_the_cases_own_phone_hears_the_status(
    app: Flask, phone: CallSimulator
) -> None:
    number = leave_message(app, phone)
    close_case(app, number)  # no open case: the caller is asked for a number
    said = key_in_case_number(phone, number, from_=CALLER)
    assert "我们没有找到您正在办理的事项。" in said
    assert any("，".join(number) in text and "已经办结" in text for text in said)


def test_a_family_contact_hears_the_status_of_the_residents_case(
    app: Flask, phone: CallSimulator
) -> None:
    with app.app_context():
        resident = Resident(phone=CALLER, name="王秀英", language="zh-CN")
        resident.family_contacts.append(FamilyContact(name="王小明", phone=FAMILY))
        db.session.add(resident)
        db.session.commit()
    number = leave_message(app, phone)
    said = key_in_case_number(phone, number, from_=FAMILY)
    assert any("，".join(number) in text and "已经收到" in text for text in said)
    assert texts_to(app, CALLER) == []


def test_a_stranger_keying_a_case_number_hears_it_will_be_texted_to_the_cases_phone(
    app: Flask, phone: CallSimulator
) -> None:
    number = leave_message(app, phone)
    said = key_in_case_number(phone, number)
    assert "为保护隐私，这个事项的进度会用短信发到事项登记的手机上。" in said
    assert not any("已经收到" in text or "，".join(number) in text for text in said)
    key_in_case_number(phone, number)  # asking again does not text the resident again
    [status_text] = texts_to(app, CALLER)
    assert status_text.startswith(f"事项 {number}：已经收到")
    assert texts_to(app, STRANGER) == []


def test_a_keyed_number_that_is_no_case_is_not_found(app: Flask, phone: CallSimulator) -> None:
    leave_message(app, phone)
    assert "对不起，没有找到这个编号的事项。" in key_in_case_number(phone, "99")
    # A resident keying in their phone number by mistake: too long to be a case number.
    too_long = key_in_case_number(phone, "13800000000000000000")
    assert "对不起，没有找到这个编号的事项。" in too_long


def test_zero_dials_the_on_duty_person_in_service_hours(phone: CallSimulator) -> None:
    result = phone.call(from_=CALLER, to=HOTLINE_NUMBER, script=[Press("0")], url="/ivr/incoming")
    assert result.dialed == [ON_DUTY]
    assert result.said[-1] == "谢谢您的来电，再见。"


def test_zero_takes_a_message_outside_service_hours(app: Flask, phone: CallSimulator) -> None:
    # 23:00 in Shanghai: 15:00 UTC, with service hours 07:00-20:00.
    app.extensions["hotline.settings"] = _with_hours(app, "07:00-20:00")
    app.extensions[CLOCK_KEY] = lambda: datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("0"), Speak(speech_wav())],
        url="/ivr/incoming",
    )
    assert result.dialed == []
    assert any("下班时间" in text and "明天07:00" in text for text in result.said)
    transcribe(app)
    assert count(app, Case) == 1


@pytest.mark.parametrize(
    ("language", "hours", "local_time", "heard"),
    [
        ("zh-CN", "07:00-20:00", time(5, 30), "工作人员今天07:00上班"),
        ("zh-CN", "07:00-20:00", time(20, 0), "工作人员明天07:00上班"),
        ("zh-CN", "13:00-20:00", time(12, 30), "工作人员今天13:00上班"),
        ("zh-CN", "22:00-06:00", time(10, 0), "工作人员今天22:00上班"),  # a night line
        ("ko-KR", "13:00-20:00", time(12, 30), "상담원은 오늘 13:00에 출근합니다"),
        ("ko-KR", "07:00-20:00", time(23, 0), "상담원은 내일 07:00에 출근합니다"),
        ("en-US", "07:00-20:00", time(5, 30), "opens today at 07:00"),
        ("en-US", "08:00-20:00", time(20, 0), "opens tomorrow at 08:00"),
    ],
)
def test_closed_hours_say_whether_a_person_answers_again_today_or_tomorrow(
    app: Flask, phone: CallSimulator, language: str, hours: str, local_time: time, heard: str
) -> None:
    app.extensions["hotline.settings"] = _with_hours(app, hours)
    moment = datetime.combine(date(2026, 11, 20), local_time, tzinfo=ZoneInfo("Asia/Shanghai"))
    app.extensions[CLOCK_KEY] = lambda: moment
    add_resident(app, language=language)
    result = phone.call(
        from_=CALLER, to=HOTLINE_NUMBER, script=[Press("0"), Hangup()], url="/ivr/incoming"
    )
    assert result.dialed == []
    assert any(heard in text for text in result.said), result.said


def test_zero_in_service_hours_with_nobody_on_duty_does_not_say_closed(
    app: Flask, phone: CallSimulator
) -> None:
    app.extensions["hotline.settings"] = _without_on_duty(app)
    result = phone.call(
        from_=CALLER, to=HOTLINE_NUMBER, script=[Press("0"), Hangup()], url="/ivr/incoming"
    )
    assert "工作人员暂时不能接听。请在嘀声后留言，我们会给您回电。" in result.said
    assert not any("下班" in text for text in result.said)


def _without_on_duty(app: Flask) -> object:
    from dataclasses import replace

    return replace(app.extensions["hotline.settings"], on_duty_numbers=[])


def _with_hours(app: Flask, hours: str) -> object:
    from dataclasses import replace

    from hotline.config import HoursWindow

    return replace(app.extensions["hotline.settings"], service_hours=HoursWindow.parse(hours))


def test_unanswered_person_leads_to_a_message(phone: CallSimulator, app: Flask) -> None:
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("0"), Speak(speech_wav())],
        url="/ivr/incoming",
        dial_outcomes={ON_DUTY: "no-answer"},
    )
    assert "工作人员暂时不能接听。请在嘀声后留言，我们会给您回电。" in result.said
    transcribe(app)
    assert count(app, Case) == 1


def test_nine_dials_even_at_night_and_opens_an_emergency_case(
    app: Flask, phone: CallSimulator
) -> None:
    app.extensions["hotline.settings"] = _with_hours(app, "07:00-20:00")
    app.extensions[CLOCK_KEY] = lambda: datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 02:00 local
    add_resident(app)
    result = phone.call(from_=CALLER, to=HOTLINE_NUMBER, script=[Press("9")], url="/ivr/incoming")
    assert result.dialed == [ON_DUTY]
    case = only_case(app)
    assert (case.source, case.urgency) == (CaseSource.EMERGENCY_CALL, Urgency.EMERGENCY)
    assert case.resident_id is not None


def test_unanswered_emergency_message_joins_the_emergency_case(
    app: Flask, phone: CallSimulator
) -> None:
    phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("9"), Speak(speech_wav())],
        url="/ivr/incoming",
        dial_outcomes={ON_DUTY: "no-answer"},
    )
    case = only_case(app)
    assert case.source == CaseSource.EMERGENCY_CALL
    with app.app_context():
        assert db.session.scalar(select(Recording.case_id)) == case.id


# The test centre is in China (HOTLINE_NUMBER +86...): 120 and 119 in every language
# (tests/ivr/test_emergency_number.py has centres elsewhere).
EMERGENCY_ALONE = {
    "zh-CN": "值班人员暂时无法接听。如有生命危险，请马上挂机，拨打120急救或119火警。",
    "en-US": "If a life is in danger, hang up now and call 120 for an ambulance or 119 for a fire.",
    "ko-KR": "생명이 위험하면 바로 끊고 구급은 120, 화재는 119에 전화하세요.",
}
CLAIMS_ALERTED = ("已经收到您的紧急求助", "has been alerted", "알렸습니다")


@pytest.mark.parametrize("language", ["zh-CN", "en-US", "ko-KR"])
@pytest.mark.parametrize("on_duty", ["none configured", "no answer"])
def test_an_emergency_nobody_answers_is_told_to_call_the_emergency_number(
    app: Flask, phone: CallSimulator, language: str, on_duty: str
) -> None:
    if on_duty == "none configured":
        app.extensions["hotline.settings"] = _without_on_duty(app)
    add_resident(app, language=language)
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("9"), Speak(speech_wav())],
        url="/ivr/incoming",
        dial_outcomes={ON_DUTY: "no-answer"},
    )
    assert result.dialed == ([] if on_duty == "none configured" else [ON_DUTY])
    assert any(EMERGENCY_ALONE[language] in text for text in result.said), result.said
    assert not any(claim in text for text in result.said for claim in CLAIMS_ALERTED)
    assert len(result.recordings) == 1  # then the message is taken
    assert only_case(app).urgency == Urgency.EMERGENCY


@pytest.mark.parametrize("signing", ["omit", "forged"])
def test_unsigned_or_forged_webhooks_are_refused(
    app: Flask, make_phone: SimulatorFactory, signing: str
) -> None:
    result = make_phone(signing=signing).call(
        from_=CALLER, to=HOTLINE_NUMBER, script=[Hangup()], url="/ivr/incoming"
    )
    assert result.application_error is not None and result.application_error.status == 403
    assert count(app, Case) == 0


def test_signature_for_another_url_or_other_params_is_refused(signed_post: Poster) -> None:
    params = {"CallSid": "CA" + "1" * 32, "From": CALLER, "To": HOTLINE_NUMBER}
    signed_elsewhere = sign("https://evil.example.org/ivr/incoming", params)
    assert signed_post("/ivr/incoming", params, signature=signed_elsewhere).status_code == 403
    tampered = sign(PUBLIC_URL + "/ivr/incoming", {**params, "From": "+8613800000002"})
    assert signed_post("/ivr/incoming", params, signature=tampered).status_code == 403
    assert signed_post("/ivr/incoming", params).status_code == 200


def test_garbled_fields_still_get_the_caller_a_menu(signed_post: Poster) -> None:
    response = signed_post("/ivr/incoming", {"Foo": "bar"})
    assert response.status_code == 200 and b"<Gather" in response.data
    response = signed_post(
        "/ivr/menu/choice?attempt=x", {"CallSid": "CA" + "2" * 32, "Digits": "abc"}
    )
    assert response.status_code == 200 and b"<Gather" in response.data


def test_recording_callback_without_a_valid_recording_sid_is_a_clear_400(
    signed_post: Poster, app: Flask
) -> None:
    response = signed_post(
        "/ivr/recording-status", {"CallSid": "CA" + "3" * 32, "RecordingSid": "../../etc"}
    )
    assert response.status_code == 400
    assert "RecordingSid" in response.get_json()["message"]
    assert count(app, Case) == 0


def test_recorded_prompt_is_played_instead_of_spoken(app: Flask, phone: CallSimulator) -> None:
    settings = app.extensions["hotline.settings"]
    folder = settings.data_dir / "prompts" / "zh-CN"
    folder.mkdir(parents=True)
    (folder / "menu.mp3").write_bytes(b"ID3 recorded menu")
    result = phone.call(from_=CALLER, to=HOTLINE_NUMBER, script=[Hangup()], url="/ivr/incoming")
    assert result.played == [f"{PUBLIC_URL}/ivr/audio/zh-CN/menu.mp3"]
    assert not any("请按1" in text for text in result.said)
    client = app.test_client()
    with client.get("/ivr/audio/zh-CN/menu.mp3") as response:
        assert response.data == b"ID3 recorded menu"
    assert client.get("/ivr/audio/zh-CN/..%2F..%2Fhotline.db").status_code == 404
    assert client.get("/ivr/audio/zh-CN/menu.txt").status_code == 404


def test_hanging_up_after_speaking_still_leaves_a_case(app: Flask, phone: CallSimulator) -> None:
    from twilio_double.script import SpeakThenHangup

    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("1"), SpeakThenHangup(speech_wav())],
        url="/ivr/incoming",
    )
    assert result.hung_up_by == "caller"
    assert result.record_events[0].digits == "hangup"
    transcribe(app)
    assert count(app, Case) == 1 and count(app, Recording) == 1


def test_message_length_is_configurable(app: Flask, phone: CallSimulator) -> None:
    from dataclasses import replace

    app.extensions["hotline.settings"] = replace(
        app.extensions["hotline.settings"], max_message_seconds=120
    )
    result = phone.call(
        from_=CALLER, to=HOTLINE_NUMBER, script=[Press("1"), Hangup()], url="/ivr/incoming"
    )
    record_twiml = result.requests_of("gather")[0].body
    assert 'maxLength="120"' in record_twiml and 'finishOnKey="#"' in record_twiml
