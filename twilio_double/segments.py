"""SMS segment counting, as carriers (and Twilio's ``num_segments``) count them.

A message that fits the GSM 03.38 7-bit alphabet is sent in GSM-7: 160
septets in a single segment, 153 per segment once concatenated (the user data
header takes 7). Extension-table characters (``^{}\\[~]|€`` and form feed)
cost two septets and an escape pair is never split across segments. Any other
character forces UCS-2: 70 UTF-16 code units single, 67 per part, and a
surrogate pair is never split.
"""

from __future__ import annotations

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
_BASIC = frozenset(GSM7_BASIC)
_EXTENSION = frozenset(GSM7_EXTENSION)


def is_gsm7(body: str) -> bool:
    """True when every character of ``body`` is in the GSM-7 alphabet."""
    return all(c in _BASIC or c in _EXTENSION for c in body)


def _pack(costs: list[int], single: int, per_part: int) -> int:
    """Segments needed for units of the given costs; a unit is never split."""
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def num_segments(body: str) -> int:
    """Number of SMS segments Twilio reports for ``body`` (an empty body is 1)."""
    if is_gsm7(body):
        return _pack([2 if c in _EXTENSION else 1 for c in body], 160, 153)
    return _pack([2 if ord(c) > 0xFFFF else 1 for c in body], 70, 67)


def encoding(body: str) -> str:
    """``"GSM-7"`` or ``"UCS-2"``."""
    return "GSM-7" if is_gsm7(body) else "UCS-2"
