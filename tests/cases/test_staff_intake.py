"""Requests staff record on someone's behalf: the same case as every channel opens, checked
whole before anything is made (cases.staff_intake)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from accounts.models import Role, User
from cases.attachments import Upload, content_type_of
from cases.errors import Refused
from cases.events import EventKind
from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseSource,
    CaseStatus,
    Resident,
    RoutingRule,
    Urgency,
)
from cases.staff_intake import StaffRequest, record_request
from hotline.db import db
from hotline.settings import current_settings
from outreach.models import FollowUp, FollowUpKind, OutboundMessage
from tests.accounts.conftest import make_user
from tests.conftest import ON_DUTY, make_env
from twilio_double.rest import TwilioRestDouble

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
IPHONE_HEIC = b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heicmiaf" + b"\x00" * 64
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


@pytest.fixture
def env(tmp_path: Path, database_url: str, rest: TwilioRestDouble) -> dict[str, str]:
    """The test hotline, with files limited to 1 MB (so that a too big one stays small)."""
    return make_env(
        tmp_path, database_url, TWILIO_API_BASE_URL=rest.base_url, HOTLINE_MAX_ATTACHMENT_MB="1"
    )


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    """A grid worker of A1, a member of staff, a department, and a resident in A1 and in B2."""
    with app.app_context():
        ids = {
            "worker": make_user("li", Role.GRID_WORKER, grid="A1", display_name="Li Grid"),
            "staff": make_user("mei", Role.STAFF, display_name="Mei Desk", language="zh-CN"),
            "water": make_user("water", Role.DEPARTMENT, department="Water company"),
        }
        for key, phone, grid in (
            ("zhang", "+8613800000001", "A1"),
            ("kim", "+8613800000002", "B2"),
        ):
            resident = Resident(
                phone=phone,
                name=f"{key} resident",
                grid=grid,
                building=f"{grid}-3",
                address=f"{grid} River Road 12",
                language="zh-CN" if key == "zhang" else "ko-KR",
            )
            db.session.add(resident)
            db.session.flush()
            ids[key] = resident.id
        db.session.commit()
        return ids


def _record(user_id: int, **fields: Any) -> Case:
    values: dict[str, Any] = {"channel": "grid_patrol", "text": "楼道的路灯坏了"}
    values.update(fields)
    return record_request(StaffRequest(**values), db.session.get(User, user_id))


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _files() -> list[Path]:
    folder = current_settings().data_dir / "attachments"
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_a_request_met_on_a_round_becomes_a_case_like_any_other(
    app: Flask, people: dict[str, int]
) -> None:
    with app.app_context():
        db.session.add(RoutingRule(category="facilities", grid="A1", assignee_id=people["worker"]))
        db.session.commit()
        case = _record(people["worker"], resident_id=people["zhang"])
        assert case.source == CaseSource.GRID_PATROL
        assert (case.resident_id, case.phone, case.locale) == (
            people["zhang"],
            "+8613800000001",
            "zh-CN",
        )
        # Where: the resident's, as staff did not say otherwise.
        assert (case.grid, case.building, case.address) == ("A1", "A1-3", "A1 River Road 12")
        # Triage read the words, routing handed it on, the deadline follows (7 days: normal).
        assert case.category == "facilities" and case.urgency == Urgency.NORMAL
        assert case.assignee_id == people["worker"]
        assert (case.deadline_at - case.created_at).days == 7
        opened = case.events[0]
        assert opened.kind == EventKind.CASE_OPENED and opened.actor == "Li Grid"
        assert opened.detail["source"] == "grid_patrol" and opened.detail["read_as"]
        # The resident is texted the case number, in their language.
        [text] = db.session.scalars(select(OutboundMessage)).all()
        assert text.to_phone == "+8613800000001" and case.number in text.body
        assert "已登记" in text.body


def test_staff_decide_category_and_urgency_and_blank_ones_are_read_from_the_words(
    app: Flask, people: dict[str, int]
) -> None:
    with app.app_context():
        # The words read as an emergency, but the member of staff who heard it says it is not.
        words = "上周厨房着火了，已经扑灭，想问问保险怎么办"
        decided = _record(
            people["staff"],
            resident_id=people["zhang"],
            text=words,
            category="administrative",
            urgency="normal",
        )
        assert (decided.category, decided.urgency) == ("administrative", Urgency.NORMAL)
        assert not db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.to_phone == ON_DUTY)
        ).all()
        # Left blank, the words decide: an emergency alerts the on-duty staff as on the phone.
        read = _record(people["staff"], text="楼里闻到很浓的煤气味", person_name="路人")
        assert read.urgency == Urgency.EMERGENCY
        alerts = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.purpose == "emergency_alert")
        ).all()
        assert [alert.to_phone for alert in alerts] == [ON_DUTY]
        assert read.number in alerts[0].body


def test_resolved_on_the_spot_is_resolved_by_the_worker_and_surveyed(
    app: Flask, people: dict[str, int]
) -> None:
    with app.app_context():
        case = _record(
            people["worker"],
            resident_id=people["zhang"],
            resolved=True,
            resolution_note="当场换了灯泡",
        )
        assert case.status == CaseStatus.RESOLVED
        assert case.resolution_note == "当场换了灯泡" and case.assignee_id == people["worker"]
        statuses = [e.detail["to"] for e in case.events if e.kind == EventKind.STATUS_CHANGED]
        assert statuses == ["accepted", "resolved"]
        [survey] = db.session.scalars(select(FollowUp).where(FollowUp.case_id == case.id)).all()
        assert survey.kind == FollowUpKind.SURVEY_CALL
        [text] = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.purpose == "case_number")
        ).all()
        assert "当场办结" in text.body


def test_an_unregistered_person_met_by_a_grid_worker_is_in_the_workers_grid(
    app: Flask, people: dict[str, int]
) -> None:
    with app.app_context():
        case = _record(
            people["worker"],
            person_name="王大爷",
            person_phone="138 0000 0099",
            person_locale="zh-CN",
            address="菜市场东门",
        )
        assert (case.resident_id, case.person_name, case.phone) == (
            None,
            "王大爷",
            "+8613800000099",
        )
        assert (case.grid, case.building, case.address) == ("A1", "", "菜市场东门")
        # Nobody to text without a number.
        nameless = _record(people["staff"], person_name="a neighbour", text="dog barking all night")
        assert nameless.phone == "" and nameless.grid == "" and nameless.locale == "zh-CN"
        assert nameless.category == "animals"


BAD = [
    ({"resident_id": None}, "intake.refused.who"),
    ({"text": "   "}, "case.refused.empty"),
    ({"category": "weather"}, "case.refused.unknown_category"),
    ({"urgency": "soon"}, "case.refused.unknown_urgency"),
    ({"channel": "voicemail"}, "intake.refused.channel"),
    ({"resident_id": "kim"}, "intake.refused.no_such_resident"),  # another grid's resident
    ({"resident_id": 99999}, "intake.refused.no_such_resident"),
    ({"person_name": "someone"}, "intake.refused.resident_and_person"),
    ({"resolved": True}, "case.refused.resolution_note_needed"),
    ({"resolution_note": "fixed"}, "intake.refused.note_without_resolved"),
    ({"grid": "B2"}, "intake.refused.other_grid"),
    ({"resident_id": None, "person_name": "x", "person_phone": "12345"}, "intake.refused.phone"),
    ({"upload": Upload("photo.jpg", b"not a photo at all")}, "intake.refused.file_type"),
    ({"upload": Upload("photo.jpg", b"")}, "intake.refused.file_empty"),
    ({"upload": Upload("huge.jpg", JPEG + b"\x00" * (1024 * 1024))}, "intake.refused.file_too_big"),
]


@pytest.mark.parametrize(("fields", "key"), BAD, ids=[key for _, key in BAD])
def test_bad_input_is_refused_and_nothing_is_made(
    app: Flask, people: dict[str, int], fields: dict[str, Any], key: str
) -> None:
    with app.app_context():
        values = {"resident_id": people["zhang"], **fields}
        if values["resident_id"] == "kim":
            values["resident_id"] = people["kim"]
        with pytest.raises(Refused) as refused:
            _record(people["worker"], **values)
        assert refused.value.message.key == key
        assert (_count(Case), _count(CaseEvent), _count(Attachment)) == (0, 0, 0)
        assert (_count(OutboundMessage), _count(FollowUp)) == (0, 0)
        assert _files() == []


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        (HEIC, "image/heic"),
        (IPHONE_HEIC, "image/heic"),
        (AVIF, None),
        (MP4, None),
        (b"GIF89a" + b"\x00" * 64, None),
        (b"<html><script>alert(1)</script>", None),
    ],
)
def test_a_file_is_known_by_its_first_bytes(data: bytes, kind: str | None) -> None:
    assert content_type_of(data) == kind


def test_the_file_is_kept_under_the_data_folder_whatever_its_name(
    app: Flask, people: dict[str, int]
) -> None:
    with app.app_context():
        case = _record(
            people["staff"],
            resident_id=people["kim"],
            text="계단 난간이 흔들려요",
            upload=Upload("../../etc/passwd.pdf", PDF),
        )
        [attachment] = db.session.scalars(select(Attachment)).all()
        assert attachment.case_id == case.id and attachment.content_type == "application/pdf"
        assert attachment.file_name == "passwd.pdf" and attachment.size_bytes == len(PDF)
        [path] = _files()
        assert path.read_bytes() == PDF
        assert path.parent == current_settings().data_dir / "attachments" / str(case.id)
        assert EventKind.ATTACHMENT_ADDED in [event.kind for event in case.events]
        assert case.locale == "ko-KR" and case.category == "building_safety"


def test_a_commit_that_fails_leaves_no_file_behind(
    app: Flask, people: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():

        def fail() -> None:
            raise RuntimeError("the database went away")

        monkeypatch.setattr(db.session, "commit", fail)
        with pytest.raises(RuntimeError):
            _record(people["staff"], resident_id=people["zhang"], upload=Upload("a.png", PNG))
        monkeypatch.undo()
        assert _files() == []
        assert _count(Case) == 0
