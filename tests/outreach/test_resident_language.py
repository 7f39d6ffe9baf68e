"""What was done, told to the resident only in their language: a note staff wrote in it, else
a stock sentence in it. A Chinese note read out in a Korean voice helps nobody."""

from __future__ import annotations

from flask import Flask

from accounts.models import User
from cases import actions
from cases.models import Case
from hotline.db import db
from tests.outreach.conftest import (
    NOTE,
    RESIDENT_PHONE,
    SON_PHONE,
    Beat,
    Clock,
    add_family,
    local,
    make_resident,
    messages_to,
    open_case,
    staff,
)
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Press
from twilio_double.simulator import CallSimulator

KOREAN_STOCK = "담당자가 처리를 마쳤습니다."
KOREAN_NOTE = "계단 전구를 새것으로 갈았습니다."


def resolved_for_a_korean_resident(
    clock: Clock, translations: dict[str, str] | None = None, **resident: object
) -> Case:
    """Resolved on Monday at 15:00 by Li, who writes in Chinese; the resident reads Korean."""
    clock.moment = local(2, 15)
    people = staff()
    korean = make_resident(language="ko-KR", name="김영희", **resident)
    add_family(korean)
    case = open_case(korean, assignee_id=people["assignee"])
    li = db.session.get(User, people["assignee"])
    assert li is not None and li.language == "zh-CN"
    actions.resolve(case, NOTE, li, translations=translations)
    db.session.commit()
    return case


def survey_call_says(rest: TwilioRestDouble, beat: Beat, clock: Clock, phone: CallSimulator) -> str:
    clock.moment = local(3, 8)
    beat.run()
    [call] = rest.calls
    return " ".join(phone.answer(call, [Press("1")]).said)


def test_a_korean_resident_hears_a_stock_korean_sentence_not_the_chinese_note(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, phone: CallSimulator
) -> None:
    with app.app_context():
        case = resolved_for_a_korean_resident(clock)
        assert case.resolution_locale == "zh-CN"  # the writer's language, kept with the note
        said = survey_call_says(rest, beat, clock, phone)
        assert KOREAN_STOCK in said and NOTE not in said
        [family_copy] = messages_to(rest.messages, SON_PHONE)
        assert KOREAN_STOCK in family_copy and NOTE not in family_copy


def test_a_note_written_in_korean_is_read_to_the_korean_resident_as_written(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, phone: CallSimulator
) -> None:
    with app.app_context():
        resolved_for_a_korean_resident(clock, translations={"ko-KR": KOREAN_NOTE})
        said = survey_call_says(rest, beat, clock, phone)
        assert KOREAN_NOTE in said and KOREAN_STOCK not in said and NOTE not in said
        [family_copy] = messages_to(rest.messages, SON_PHONE)
        assert KOREAN_NOTE[:20] in family_copy and NOTE not in family_copy


def test_the_survey_text_tells_a_korean_resident_in_korean(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    """A resident who asked not to be called is surveyed by text, in the same way."""
    with app.app_context():
        resolved_for_a_korean_resident(clock, do_not_call=True)
        clock.moment = local(3, 8)
        beat.run()
        [survey] = messages_to(rest.messages, RESIDENT_PHONE)
        assert "만족 1" in survey and KOREAN_STOCK in survey and NOTE not in survey


def test_a_chinese_resident_still_hears_the_chinese_note(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, phone: CallSimulator
) -> None:
    with app.app_context():
        clock.moment = local(2, 15)
        people = staff()
        case = open_case(make_resident(), assignee_id=people["assignee"])
        li = db.session.get(User, people["assignee"])
        assert li is not None
        actions.resolve(case, NOTE, li)
        db.session.commit()
        said = survey_call_says(rest, beat, clock, phone)
        assert NOTE in said and "负责人已经处理了" not in said
