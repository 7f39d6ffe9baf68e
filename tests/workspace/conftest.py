"""Workspace fixtures: signed-in clients by role, and cases to work on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role
from cases.models import Case, CaseSource, Resident, Urgency
from hotline.db import db
from tests.accounts.conftest import PASSWORD, csrf_token, login, make_user

__all__ = ["PASSWORD", "csrf_token", "login", "make_case", "make_resident", "make_user"]


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
