"""How a text is read: commands only as whole texts, in three languages and any width."""

from __future__ import annotations

import pytest

from sms.reading import (
    STORED_BODY_LIMIT,
    Intent,
    read,
    script_locale,
    truncate,
)


@pytest.mark.parametrize(
    ("body", "intent", "locale"),
    [
        ("STOP", Intent.STOP, "en-US"),
        ("stop", Intent.STOP, "en-US"),
        (" Stop. ", Intent.STOP, "en-US"),
        ("ＳＴＯＰ", Intent.STOP, "en-US"),  # full-width, as a Chinese keyboard types it
        ("UNSUBSCRIBE", Intent.STOP, "en-US"),
        ("退订", Intent.STOP, "zh-CN"),
        ("退订。", Intent.STOP, "zh-CN"),
        ("TD", Intent.STOP, "zh-CN"),
        ("td", Intent.STOP, "zh-CN"),
        ("수신거부", Intent.STOP, "ko-KR"),
        ("수신 거부", Intent.STOP, "ko-KR"),
        ("START", Intent.START, "en-US"),
        ("订阅", Intent.START, "zh-CN"),
        ("시작", Intent.START, "ko-KR"),
        ("HELP", Intent.HELP, "en-US"),
        ("帮助", Intent.HELP, "zh-CN"),
        ("도움말", Intent.HELP, "ko-KR"),
        ("status", Intent.STATUS, "en-US"),
        ("查询", Intent.STATUS, "zh-CN"),
        ("상태", Intent.STATUS, "ko-KR"),
    ],
)
def test_keywords_in_three_languages(body: str, intent: Intent, locale: str) -> None:
    reading = read(body)
    assert (reading.intent, reading.keyword_locale) == (intent, locale)


@pytest.mark.parametrize(
    ("body", "number"),
    [
        ("10023", "10023"),
        ("１００２３", "10023"),
        ("#10023", "10023"),
        ("查询 10023", "10023"),
        ("STATUS 10023", "10023"),
        ("상태10023", "10023"),
        ("10023。", "10023"),
    ],
)
def test_a_case_number_asks_for_the_status(body: str, number: str) -> None:
    assert read(body).intent == Intent.STATUS
    assert read(body).number == number


@pytest.mark.parametrize("body", ["1", "2", "3", "３", " 3 ", "3。"])
def test_one_two_three_answer_the_survey(body: str) -> None:
    assert read(body).intent == Intent.SURVEY


@pytest.mark.parametrize(
    "body",
    [
        "please stop the noise",  # a sentence with a keyword in it is a sentence
        "电梯坏了",
        "我要退订报纸",
        "13800000001",  # a number to call back is too long to be a case number
        "3号楼电梯坏了",
    ],
)
def test_anything_else_is_words_for_a_case(body: str) -> None:
    assert read(body).intent == Intent.TEXT


@pytest.mark.parametrize("body", ["", "   \n\t", "👍", "😀🙏🏻", "...", "？！"])
def test_nothing_to_read(body: str) -> None:
    assert read(body).intent == Intent.EMPTY


def test_truncate_marks_a_cut_text() -> None:
    assert truncate("好" * STORED_BODY_LIMIT) == "好" * STORED_BODY_LIMIT
    cut = truncate("好" * 5000)
    assert len(cut) == STORED_BODY_LIMIT
    assert cut.endswith("[…]")


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("电梯坏了", "zh-CN"),
        ("엘리베이터가 고장 났어요", "ko-KR"),
        ("김 씨 家 앞", "ko-KR"),
        ("the lift is broken", None),
        ("12345", None),
    ],
)
def test_script_decides_the_language_of_a_stranger(text: str, locale: str | None) -> None:
    assert script_locale(text) == locale
