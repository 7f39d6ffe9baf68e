"""A request recorded by staff on someone's behalf: met at the desk, on a round, on a visit,
passed on by a building leader, raised at a meeting or in a group chat (STAFF_CHANNELS).

`record_request` checks everything first (for whom this member of staff may record it, the
words, the place, category and urgency, the file) and refuses with a message before anything
is made. Then it opens the case through cases.intake.open_case, so routing, deadline, triage
reasons and emergency alerts happen as for every channel; keeps the file; and, for a request
handled on the spot (接诉即办), resolves it at once through the lifecycle, so that the survey
follows as for any resolved case. It commits: the case and its file are kept together or not
at all. The pages (workspace.new_case) and the API (POST /api/cases) both come here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from blinker import Namespace

from accounts.models import Role, User
from cases import actions, attachments
from cases.attachments import CheckedUpload, Upload
from cases.errors import Refused
from cases.events import EventKind
from cases.intake import Intake, open_case
from cases.models import STAFF_CHANNELS, Case, CaseSource, Resident, Urgency
from cases.permissions import can_be_assigned, may_record_for
from cases.services import add_event
from hotline.db import db
from hotline.i18n import LOCALES
from hotline.phones import NotAPhoneNumber, normalise_phone, region_of_locale
from hotline.settings import current_settings
from triage import CATEGORIES, OTHER

# Receivers get the case once it is recorded, inside its transaction (outreach texts the
# person their case number).
request_recorded = Namespace().signal("case-request-recorded")

MAX_NAME = 100  # the width of cases.person_name
MAX_ADDRESS = 200
MAX_PLACE = 50  # grid and building


@dataclass(frozen=True)
class StaffRequest:
    """What the form or the API was given, unchecked; "" means "not said"."""

    channel: str  # how it came: one of STAFF_CHANNELS
    text: str  # what the request is
    resident_id: int | None = None  # a registered resident ...
    person_name: str = ""  # ... or a person without a record, by name
    person_phone: str = ""  # optional, to text and survey them
    person_locale: str = ""  # their language; the centre's by default
    address: str = ""  # where; the resident's address, building and grid by default
    building: str = ""
    grid: str = ""
    category: str = ""  # "": the words decide (triage)
    urgency: str = ""
    resolved: bool = False  # handled on the spot (接诉即办): resolved at once with the note
    resolution_note: str = ""
    upload: Upload | None = None


@dataclass(frozen=True)
class _Checked:
    channel: CaseSource
    text: str
    resident: Resident | None
    person_name: str
    phone: str
    locale: str
    address: str
    building: str | None
    grid: str | None
    category: str
    urgency: Urgency | None
    resolution_note: str | None
    upload: CheckedUpload | None


def record_request(request: StaffRequest, by: User) -> Case:
    """Open the case the request asks for, as `by`, and commit; Refused changes nothing.

    The caller checks that `by` records requests at all (cases.permissions.may_record_requests).
    """
    checked = _check(request, by)
    case = _open(checked, by)
    written: list[Path] = []
    try:
        if checked.upload is not None:
            attachment, path = attachments.store(case, checked.upload, by.id)
            written.append(path)
            add_event(case, EventKind.ATTACHMENT_ADDED, by.name, file_name=attachment.file_name)
        if checked.resolution_note is not None:
            _resolve_on_the_spot(case, checked.resolution_note, by)
        request_recorded.send(case, resolved=checked.resolution_note is not None)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        attachments.remove_files(written)
        raise
    return case


# ---- checking, before anything is made -------------------------------------------------------


def _check(request: StaffRequest, by: User) -> _Checked:
    channel = _channel(request.channel)
    text = actions.clean_text(request.text, actions.MAX_TRANSCRIPT, "request")
    resident = _resident(request, by)
    name = "" if resident else _person_name(request.person_name)
    grid = _grid(request.grid, by)
    if request.resolution_note.strip() and not request.resolved:
        raise Refused("intake.refused.note_without_resolved")
    return _Checked(
        channel=channel,
        text=text,
        resident=resident,
        person_name=name,
        phone=resident.phone if resident else _phone(request.person_phone),
        locale=resident.language if resident else _locale(request.person_locale),
        address=_text(request.address, MAX_ADDRESS, "address")
        or (resident.address if resident else ""),
        building=_text(request.building, MAX_PLACE, "building") or None,
        grid=grid,
        category=_category(request.category),
        urgency=_urgency(request.urgency),
        resolution_note=_resolution_note(request.resolution_note) if request.resolved else None,
        upload=attachments.check(request.upload) if request.upload else None,
    )


def _channel(value: str) -> CaseSource:
    if value not in {channel.value for channel in STAFF_CHANNELS}:
        raise Refused("intake.refused.channel", value=repr(value[:40]))
    return CaseSource(value)


def _resident(request: StaffRequest, by: User) -> Resident | None:
    if request.resident_id is None:
        return None
    if request.person_name.strip() or request.person_phone.strip():
        raise Refused("intake.refused.resident_and_person")
    resident = db.session.get(Resident, request.resident_id)
    if resident is None or not may_record_for(by, resident):
        # Another grid's resident is as unknown as a missing one.
        raise Refused("intake.refused.no_such_resident", id=request.resident_id)
    return resident


def _person_name(value: str) -> str:
    name = _text(value, MAX_NAME, "person_name")
    if not name:
        raise Refused("intake.refused.who")
    return name


def _phone(value: str) -> str:
    if not value.strip():
        return ""
    region = region_of_locale(current_settings().default_locale)
    try:
        return normalise_phone(value, region)
    except NotAPhoneNumber:
        raise Refused("intake.refused.phone") from None


def _locale(value: str) -> str:
    if not value:
        return current_settings().default_locale
    if value not in LOCALES:
        raise Refused("case.refused.unknown_language", value=repr(value[:20]))
    return value


def _grid(value: str, by: User) -> str | None:
    """The grid the problem is in: a grid worker's cases stay in their own grid, where they
    can see them; others may name any, and by default it is the resident's."""
    grid = _text(value, MAX_PLACE, "grid")
    if by.role == Role.GRID_WORKER:
        if grid and grid != by.grid:
            raise Refused("intake.refused.other_grid", grid=by.grid)
        return by.grid
    return grid or None


def _text(value: str, limit: int, what: str) -> str:
    return actions.clean_text(value, limit, what, required=False)


def _category(value: str) -> str:
    if value and value not in CATEGORIES:
        raise Refused("case.refused.unknown_category", value=repr(value[:40]))
    return value


def _urgency(value: str) -> Urgency | None:
    if not value:
        return None
    try:
        return Urgency(value)
    except ValueError:
        raise Refused("case.refused.unknown_urgency", value=repr(value[:40])) from None


def _resolution_note(value: str) -> str:
    note = actions.clean_text(value, actions.MAX_NOTE, "resolution_note", required=False)
    if not note:
        raise Refused("case.refused.resolution_note_needed")
    return note


# ---- opening --------------------------------------------------------------------------------


def _open(checked: _Checked, by: User) -> Case:
    decided = {"category"} if checked.category else set()
    if checked.urgency is not None:
        decided.add("urgency")
    case = open_case(
        Intake(
            checked.channel,
            checked.locale,
            phone=checked.phone,
            resident=checked.resident,
            text=checked.text,
            triage_locale=text_locale(checked.text, by.language),
            urgency=checked.urgency or Urgency.NORMAL,
            category=checked.category or OTHER,
            decided=frozenset(decided),
            grid=checked.grid,
            building=checked.building,
            actor=by.name,
        )
    )
    case.address = checked.address
    case.person_name = checked.person_name
    return case


def _resolve_on_the_spot(case: Case, note: str, by: User) -> None:
    """接诉即办: whoever handled it on the spot is its handler, and it is resolved now."""
    if can_be_assigned(by, case):
        actions.assign(case, by, by)
    actions.resolve(case, note, by)


def text_locale(text: str, writer_locale: str) -> str:
    """The lexicon of the script the request is written in (staff may write a resident's
    words in either language): Hangul, Chinese characters, Latin; else the writer's language.
    The text line's rule (sms.reading.script_locale), which this layer cannot import."""
    if any("\uac00" <= char <= "\ud7a3" or "\u1100" <= char <= "\u11ff" for char in text):
        return "ko-KR"
    if any("\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" for char in text):
        return "zh-CN"
    if any("a" <= char.lower() <= "z" for char in text):
        return "en-US"
    return writer_locale if writer_locale in LOCALES else current_settings().default_locale
