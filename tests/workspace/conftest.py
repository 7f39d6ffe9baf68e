"""Workspace fixtures: signed-in clients by role, and cases to work on."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role
from cases.models import (
    CallBack,
    CallBackReason,
    Case,
    CaseSource,
    Recording,
    RecordingStatus,
    Resident,
    Urgency,
)
from hotline.db import db, utcnow
from hotline.settings import current_settings
from tests.accounts.conftest import PASSWORD, csrf_token, login, make_user

__all__ = [
    "PASSWORD",
    "csrf_token",
    "login",
    "make_call_back",
    "make_case",
    "make_resident",
    "make_user",
]


def make_case(**fields: Any) -> Case:
    """A case as the phone line would have opened it; commit is the caller's."""
    values: dict[str, Any] = {
        "source": CaseSource.VOICEMAIL,
        "phone": "+8613800000001",
        "locale": "zh-CN",
        "urgency": Urgency.NORMAL,
        "transcript": "楼道灯坏了",
        "machine_transcript": "楼道灯坏了",
    }
    values.update(fields)
    case = Case(**values)
    db.session.add(case)
    return case


def make_call_back(
    phone: str = "+8613900000077",
    resident: Resident | None = None,
    reason: CallBackReason = CallBackReason.SILENCE,
    created_at: datetime | None = None,
    audio: bytes = b"",
) -> CallBack:
    """A voicemail that held no speech, as the transcription task leaves it (with its file
    when `audio` is given); commit is the caller's."""
    sid = "RE" + uuid.uuid4().hex
    recording = Recording(
        recording_sid=sid,
        call_sid="CA" + uuid.uuid4().hex,
        locale="zh-CN",
        status=RecordingStatus.TRANSCRIBED,
        available=True,
        duration_s=10.0,
    )
    if audio:
        folder = current_settings().data_dir / "recordings"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{sid}.wav").write_bytes(audio)
        recording.file_path, recording.content_type = str(folder / f"{sid}.wav"), "audio/x-wav"
    call_back = CallBack(
        recording=recording,
        phone=phone,
        resident=resident,
        urgent=resident is not None,
        reason=reason,
        created_at=created_at or utcnow(),
    )
    db.session.add(call_back)
    return call_back


def make_resident(**fields: Any) -> Resident:
    values: dict[str, Any] = {"phone": "+8613800000001", "name": "张阿姨", "grid": "A1"}
    values.update(fields)
    resident = Resident(**values)
    db.session.add(resident)
    return resident


@pytest.fixture
def staff(app: Flask, login: Callable[..., FlaskClient]) -> FlaskClient:
    """A signed-in staff member (sees every case)."""
    with app.app_context():
        make_user("staff1", Role.STAFF, display_name="Wang Staff", language="en-US")
    return login("staff1")
