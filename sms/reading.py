"""What a text says, before anything is done about it: cleaned, then read as a command or not.

Commands are whole texts ("STOP", "查询", "10023", "3"), matched after width folding (NFKC turns
full-width "ＳＴＯＰ" and "１" into ASCII), case folding and trimming of spaces and punctuation
("退订。" still unsubscribes). Anything longer is a resident describing a problem, never a
command: "please stop the noise" opens a case, as Twilio too only acts on single words.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

# Twilio's own limit for one text; storing more is pointless and a longer body is not a text.
STORED_BODY_LIMIT = 1600
TRUNCATION_MARK = " […]"


class Intent(enum.StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    STATUS = "status"
    SURVEY = "survey"
    EMPTY = "empty"
    TEXT = "text"  # words about a problem: a new case, or more for the case just opened


# Keyword -> the language it is written in (the reply's language when the sender is unknown).
# Twilio's own opt-out, opt-in and help words first: Twilio blocks or unblocks the number on
# them whatever we do, so our record must agree with it.
EN, ZH, KO = "en-US", "zh-CN", "ko-KR"
KEYWORDS: dict[Intent, dict[str, str]] = {
    Intent.STOP: {
        **dict.fromkeys(("stop", "stopall", "unsubscribe", "cancel", "end", "quit"), EN),
        **dict.fromkeys(("optout", "revoke"), EN),
        **dict.fromkeys(("退订", "td", "取消订阅"), ZH),
        **dict.fromkeys(("수신거부", "수신중단"), KO),
    },
    Intent.START: {
        **dict.fromkeys(("start", "unstop", "yes"), EN),
        **dict.fromkeys(("订阅", "重新订阅"), ZH),
        **dict.fromkeys(("시작", "수신동의"), KO),
    },
    Intent.HELP: {
        **dict.fromkeys(("help", "info"), EN),
        **dict.fromkeys(("帮助", "求助说明"), ZH),
        **dict.fromkeys(("도움말", "도움"), KO),
    },
}
STATUS_WORDS = {"status": EN, "查询": ZH, "进度": ZH, "查询进度": ZH, "상태": KO, "조회": KO}
SURVEY_ANSWERS = ("1", "2", "3")
# Longer digit strings (a phone number to call back) are words for staff, not a case number.
MAX_CASE_NUMBER_DIGITS = 9
_STATUS = re.compile(
    r"^(?P<word>{words})?[#:\s]*(?P<number>[0-9]{{1,{digits}}})?$".format(
        words="|".join(sorted(map(re.escape, STATUS_WORDS), key=len, reverse=True)),
        digits=MAX_CASE_NUMBER_DIGITS,
    )
)


@dataclass(frozen=True)
class Reading:
    intent: Intent
    number: str = ""  # the case number asked about, or the survey answer
    keyword_locale: str | None = None  # the language of the command word, if any


def truncate(body: str) -> str:
    """At most STORED_BODY_LIMIT characters, marked when cut so staff know there was more."""
    if len(body) <= STORED_BODY_LIMIT:
        return body
    return body[: STORED_BODY_LIMIT - len(TRUNCATION_MARK)] + TRUNCATION_MARK


def has_words(text: str) -> bool:
    """Letters or digits: emoji, punctuation and spaces alone are not something we can act on."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def _folded(text: str) -> str:
    """Width- and case-folded, spaces removed, punctuation trimmed from both ends."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = "".join(folded.split())
    start, end = 0, len(folded)
    while start < end and _is_edge(folded[start]):
        start += 1
    while end > start and _is_edge(folded[end - 1]):
        end -= 1
    return folded[start:end]


def _is_edge(char: str) -> bool:
    """Punctuation or a symbol (an emoji too): "退订。" and "STOP!" are still the keyword."""
    return unicodedata.category(char)[0] in "PS"


def read(text: str) -> Reading:
    """Which command, if any, the whole text is."""
    if not has_words(text):
        return Reading(Intent.EMPTY)
    folded = _folded(text)
    for intent, words in KEYWORDS.items():
        if folded in words:
            return Reading(intent, keyword_locale=words[folded])
    if folded in SURVEY_ANSWERS:
        return Reading(Intent.SURVEY, number=folded)
    status = _STATUS.match(folded)
    if status and (status["word"] or status["number"]):
        word = status["word"]
        return Reading(Intent.STATUS, status["number"] or "", STATUS_WORDS.get(word or ""))
    return Reading(Intent.TEXT)


def _is_hangul(char: str) -> bool:
    code = ord(char)
    return 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F


def _is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FFFF
    )


def script_locale(text: str) -> str | None:
    """ko-KR for Hangul, zh-CN for Chinese characters, None for anything else.

    Hangul wins over Han: Korean is sometimes written with a few Chinese characters in it.
    """
    if any(_is_hangul(c) for c in text):
        return KO
    if any(_is_han(c) for c in text):
        return ZH
    return None


def is_latin(text: str) -> bool:
    return any("a" <= c.lower() <= "z" for c in text)
