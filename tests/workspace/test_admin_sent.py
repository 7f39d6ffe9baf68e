"""What the hotline sent: the local line's calls and texts, for admins only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role
from hotline.db import db
from hotline.telephony.models import EntryKind, LocalLineEntry
from tests.workspace.conftest import make_user

Login = Callable[..., FlaskClient]


def keep(kind: EntryKind, to: str, minute: int, **fields: str) -> None:
    status = "sent" if kind == EntryKind.TEXT else "no-answer"
    prefix = "SM" if kind == EntryKind.TEXT else "CA"
    db.session.add(
        LocalLineEntry(
            kind=kind,
            sid=f"{prefix}{minute:032x}",
            to_phone=to,
            from_phone="+8610123456",
            status=status,
            created_at=datetime(2026, 3, 2, 2, minute, tzinfo=UTC),
            **fields,
        )
    )


@pytest.fixture
def admin(app: Flask, login: Login) -> FlaskClient:
    with app.app_context():
        make_user("boss", Role.ADMIN, language="en-US")
    return login("boss")


def test_the_page_lists_calls_and_texts_newest_first_with_masked_numbers(
    app: Flask, admin: FlaskClient
) -> None:
    with app.app_context():
        keep(EntryKind.TEXT, "+8613800001234", 1, body="Your case number is 0042.")
        keep(EntryKind.CALL, "+8613800005678", 2, url="https://h.example/ivr/survey/1")
        db.session.commit()
    page = admin.get("/admin/sent").get_data(as_text=True)
    assert "What the hotline sent" in page
    assert "Your case number is 0042." in page
    assert "…1234" in page and "…5678" in page
    assert "+8613800001234" not in page and "+8613800005678" not in page
    assert "SM" + f"{1:032x}" not in page and "/ivr/survey/1" not in page  # no internal ids
    assert page.index("…5678") < page.index("…1234"), "newest first"
    assert "Not answered: nobody picks up on the local line" in page
    assert "10:02:00" in page  # the centre's time (Shanghai)
    assert 'href="/admin/sent" aria-current="page"' in page
    assert 'href="/admin/sent"' in admin.get("/admin/users").get_data(as_text=True)


def test_the_page_says_when_the_hotline_uses_twilio_and_nothing_was_kept(
    admin: FlaskClient,
) -> None:
    page = admin.get("/admin/sent").get_data(as_text=True)
    assert "The hotline sends through Twilio." in page and "Nothing sent yet." in page


def test_the_page_speaks_the_admins_language(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("guanliyuan", Role.ADMIN, language="zh-CN")
        keep(EntryKind.TEXT, "+8613800001234", 1, body="您的诉求编号是 0042")
        db.session.commit()
    page = login("guanliyuan").get("/admin/sent").get_data(as_text=True)
    assert "热线发出的内容" in page and "短信" in page and "您的诉求编号是 0042" in page


@pytest.mark.parametrize("role", [Role.STAFF, Role.GRID_WORKER, Role.DEPARTMENT])
def test_only_admins_may_look(app: Flask, login: Login, role: Role) -> None:
    with app.app_context():
        make_user("someone", role, grid="A1", department="D")
    client = login("someone")
    assert client.get("/admin/sent").status_code == 403


def test_signed_out_visitors_are_sent_to_log_in(app: Flask) -> None:
    response = app.test_client().get("/admin/sent")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
