"""How every page shows times, phone numbers and the cases' coded values.

Registered as Jinja filters in workspace.views.init_app, so templates write
`{{ case.created_at|local_time }}`, `{{ case.phone|masked_phone }}`,
`{{ case.category|category_label }}`, `{{ case.urgency|urgency_label }}`,
`{{ case.status|status_label }}`, `{{ user.role|role_label }}`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

from hotline.settings import current_settings
from workspace.i18n import t


def centre_zone() -> ZoneInfo:
    return ZoneInfo(current_settings().timezone)


def local_time(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the centre's wall-clock time; blank when there is none."""
    if moment is None:
        return ""
    return moment.astimezone(centre_zone()).strftime(pattern)


def masked_phone(phone: str | None) -> str:
    """Lists show only the last four digits; the full number is on the case page."""
    digits = (phone or "").strip()
    return f"…{digits[-4:]}" if len(digits) > 4 else digits


def _label(kind: str, value: str | enum.Enum | None) -> str:
    if value is None or value == "":
        return ""
    code = value.value if isinstance(value, enum.Enum) else value
    return t(f"labels.{kind}.{code}")


def category_label(value: str | None) -> str:
    return _label("category", value)


def urgency_label(value: str | enum.Enum | None) -> str:
    return _label("urgency", value)


def status_label(value: str | enum.Enum | None) -> str:
    return _label("status", value)


def source_label(value: str | enum.Enum | None) -> str:
    """How a case came: the phone line, a text, or how staff say it reached them."""
    return _label("source", value)


def role_label(value: str | enum.Enum | None) -> str:
    return _label("role", value)


def satisfaction_label(value: str | enum.Enum | None) -> str:
    return _label("satisfaction", value)


def closed_as_label(how: str | enum.Enum | None, duplicate_of: str | None = None) -> str:
    """How a case was closed when not after a satisfied answer ("" for the ordinary way);
    a duplicate names the case it repeats."""
    if how is None or how == "":
        return ""
    code = how.value if isinstance(how, enum.Enum) else how
    if code == "duplicate" and duplicate_of:
        return t("case.closed_as.duplicate_of", number=duplicate_of)
    return t(f"case.closed_as.{code}")


def quoted(words: list[str]) -> str:
    """Words read from a message, each in quotes: "倒在地上", "不答应"."""
    return t("case.why.separator").join(t("case.why.quote", words=word) for word in words)


def silenced_list(pairs: list[tuple[str, str]]) -> str:
    """Alarm words the triage read and did not count, each with why (negated, in the past...)."""
    return t("case.why.separator").join(
        t("case.why.silenced_item", words=word, why=t(f"case.why.because.{why}"))
        for word, why in pairs
    )


FILTERS = {
    "quoted": quoted,
    "silenced_list": silenced_list,
    "local_time": local_time,
    "masked_phone": masked_phone,
    "category_label": category_label,
    "urgency_label": urgency_label,
    "status_label": status_label,
    "role_label": role_label,
    "source_label": source_label,
    "satisfaction_label": satisfaction_label,
}
