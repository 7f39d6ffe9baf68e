"""How long a prompt takes to say: an estimate from its text, the locale and the speaking rate.

Used to keep the phone line short (tests/ivr/test_prompt_seconds.py, benchmarks/prompt_seconds.py):
an elderly caller should be talking within 15 s. It is an estimate, not a measurement of a voice.
"""

from __future__ import annotations

import re

# What is counted, per locale: Mandarin and Korean are spoken a syllable per character (a Hanzi,
# a Hangul block, a digit read one by one); English by words, a digit read as one word.
_SPOKEN_UNITS = {
    "zh-CN": re.compile(r"[\u4e00-\u9fff0-9]"),
    "ko-KR": re.compile(r"[\uac00-\ud7a30-9]"),
    "en-US": re.compile(r"[A-Za-z']+|[0-9]"),
}


def units_per_second(locale: str) -> float:
    """Syllables (zh-CN, ko-KR) or words (en-US) a second at the voice's normal rate (100%).

    Averages over running speech, pauses at commas and full stops included, and on the slow
    side on purpose. Read speech measured by Pellegrino, Coupé & Marsico ("A cross-language
    perspective on speech information rate", Language 87(3), 2011) runs at 5.18 syllables a
    second in Mandarin; we take a careful 4. Korean is spoken faster in syllables than Mandarin
    (its syllables are lighter; Coupé et al., Science Advances 5(9), 2019); we take 5. English:
    150 words a minute, the figure usually quoted for clear conversational speech and about
    where Amazon Polly's English voices speak at 100%.
    """
    return {"zh-CN": 4.0, "ko-KR": 5.0, "en-US": 150 / 60}[locale]


def rate_factor(speech_rate: str) -> float:
    """settings.speech_rate (an SSML prosody rate) as a factor: "85%" is 0.85. Words such as
    "slow" have no agreed number, so they cannot be estimated."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", speech_rate)
    if match is None:
        raise ValueError(f"cannot estimate a speaking rate of {speech_rate!r}: give a percentage")
    return float(match.group(1)) / 100


def spoken_units(text: str, locale: str) -> int:
    return len(_SPOKEN_UNITS[locale].findall(text))


def seconds_to_say(text: str, locale: str, speech_rate: str) -> float:
    """Seconds the phone line's voice takes to say `text` at `speech_rate` (e.g. "85%")."""
    return spoken_units(text, locale) / (units_per_second(locale) * rate_factor(speech_rate))
