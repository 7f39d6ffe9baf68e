"""How many SMS segments a text costs, counted exactly as carriers (and Twilio) count them.

A text made only of GSM 03.38 characters travels in GSM-7: 160 septets in one segment, 153 per
segment once it is split (the concatenation header takes the rest). Characters of the extension
table cost two septets (an escape, then the character), and carriers never split that pair.
Any other character, one Chinese or Korean letter or an emoji, makes the whole text UCS-2:
70 UTF-16 units in one segment, 67 per segment when split, and a surrogate pair (an emoji) is
never split either. Elderly residents' phones show a long text out of order or in pieces, so
replies are kept to one or two segments (tests/sms/test_segments.py checks every template),
and so is a text staff write to a resident from the case page (outreach.contact). Here, in the
infrastructure, so that the SMS line and outreach count alike.
"""

from __future__ import annotations

from dataclasses import dataclass

# The 128 characters of the GSM 03.38 default alphabet, in table order, except 0x1B (the
# escape to the extension table, which is not a character a text can contain).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Reached through the escape: each costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # GSM-7 or UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _pack(costs: list[int], single: int, per_part: int) -> int:
    """Segments needed for characters of these costs, none of them split across segments."""
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            segments, used = segments + 1, 0
        used += cost
    return segments


def count_segments(text: str) -> SegmentCount:
    """Encoding, size and number of segments of `text` (an empty text still costs one)."""
    if is_gsm7(text):
        costs = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return SegmentCount(GSM7, sum(costs), _pack(costs, GSM7_SINGLE, GSM7_PART))
    costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SegmentCount(UCS2, sum(costs), _pack(costs, UCS2_SINGLE, UCS2_PART))


def segments(text: str) -> int:
    return count_segments(text).segments
