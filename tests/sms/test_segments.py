"""Segments counted exactly as carriers count them, and every reply kept to two of them."""

from __future__ import annotations

import random

import pytest

from cases.models import CaseStatus
from hotline.emergency import EmergencyNumbers
from hotline.i18n import LOCALES, Catalogue, catalogue
from hotline.segments import GSM7, UCS2, count_segments, segments
from sms.handlers import status_report
from twilio_double.segments import num_segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters cost two septets: 160
        ("€" * 81, 2),
        ("{}" * 40 + "a", 2),  # 161 septets
        ("ΔΦΓΛΩ @£$¥ èéùìò ÄÖÑÜ§ ¿¡ äöñüà", 1),  # GSM-7 after all
        ("中" * 70, 1),
        ("中" * 71, 2),
        ("中" * 134, 2),
        ("中" * 135, 3),
        ("a" * 69 + "é", 1),  # é is GSM-7
        ("a" * 69 + "ç", 1),  # ç is not (only Ç is): UCS-2, 70 units
        ("a" * 70 + "ç", 2),
        ("😀" * 35, 1),  # 70 UTF-16 units
        ("😀" * 36, 2),
    ],
)
def test_counts_segments_like_a_carrier(text: str, expected: int) -> None:
    assert segments(text) == expected


def test_an_escape_pair_is_never_split_between_segments() -> None:
    # 306 septets would fit two segments of 153 if the € could be split; it cannot.
    text = "a" * 152 + "€" + "a" * 152
    assert count_segments(text).units == 306
    assert segments(text) == 3


def test_a_surrogate_pair_is_never_split_between_segments() -> None:
    text = "中" * 66 + "😀" + "中" * 66  # 134 UTF-16 units
    assert count_segments(text).units == 134
    assert segments(text) == 3


def test_one_chinese_character_makes_the_whole_text_ucs2() -> None:
    assert count_segments("Case 10023 中").encoding == UCS2
    assert count_segments("Case 10023: resolved. ~^|").encoding == GSM7
    assert count_segments("Case 10023: resolved. ~^|").units == 28  # ~ ^ | cost two each


def test_agrees_with_the_twilio_double_on_random_texts() -> None:
    alphabet = "aZ0 .\n€{}[]~^|ΔéçÇ中한😀‘’—"
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        assert segments(text) == num_segments(text), text


# Realistic values: a five-digit case number, or the longest a resident may key in (echoed by
# status_not_found); every status label is tried in the status reply.
FILLED = {
    "number": "10023",
    # The hotline's own texts (outreach): a resident's name and address, an on-duty alert's
    # caller and words, a progress update's status, a family copy's note of what was done.
    "name": "王秀英",
    "phone": "+8613800000001",
    "words": "摔倒、起不来",
    "status": "正在处理中",
    "next_step": "处理完成后，我们会给您打电话。",
    "note": "已更换楼道灯泡",
    "assignee": "Li Staff",
    "by": "Li Staff",
    "address": "幸福里3号楼2单元501",
    # A text staff write from the case page (outreach.contact refuses what does not fit).
    "text": "师傅明天上午9点上门修理楼道灯，请家里留人。",
}
LONGEST_NUMBER = "123456789"


def replies(locale: str) -> Catalogue:
    return catalogue(locale, "sms")


# The same in Latin letters, for the check that English texts stay in GSM-7.
LATIN = {key: "Wang Xiuying" if key == "name" else value for key, value in FILLED.items()}
LATIN.update(words="fell, cannot get up", status="in progress", next_step="We will call you.")
LATIN.update(note="Replaced the stairwell bulb", address="Building 3, Unit 2, Flat 501")
LATIN.update(text="The electrician comes tomorrow at 9 to fix the stairwell light.")


def _every_reply(locale: str, values: dict[str, str] = FILLED) -> list[tuple[str, str]]:
    words = replies(locale)
    # status_report is filled with every status below; status.* and next_step.* are its parts.
    keys = sorted(key for key in words.keys() - {"status_report"} if "." not in key)
    # The longer way of naming the emergency numbers: two of them ("120 or 119").
    emergency = words.emergency(EmergencyNumbers("120", "119"))
    filled = [(key, words.text(key, **values, emergency=emergency)) for key in keys]
    filled.append(("status_not_found", words.text("status_not_found", number=LONGEST_NUMBER)))
    for status in CaseStatus:
        filled.append((f"status.{status.value}", status_report(words, "10023", status.value)))
    return filled


@pytest.mark.parametrize("locale", LOCALES)
def test_every_reply_fits_in_two_segments(locale: str) -> None:
    too_long = {key: segments(text) for key, text in _every_reply(locale) if segments(text) > 2}
    assert too_long == {}


def test_english_replies_stay_in_gsm7() -> None:
    """One curly quote would make a reply UCS-2 and halve what fits in a segment."""
    ucs2 = [
        key for key, text in _every_reply("en-US", LATIN) if count_segments(text).encoding != GSM7
    ]
    assert ucs2 == []


def test_every_language_has_the_same_replies() -> None:
    keys = {locale: replies(locale).keys() for locale in LOCALES}
    assert keys["zh-CN"] == keys["ko-KR"] == keys["en-US"]
    for locale in LOCALES:
        for status in CaseStatus:
            assert status_report(replies(locale), "10023", status.value)
