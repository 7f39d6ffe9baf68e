"""Staff accounts made and changed from the command line, with the admin pages' rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select

from accounts.models import Role, User
from cases.models import CaseStatus
from hotline.cli import main
from hotline.clock import CLOCK_KEY
from hotline.db import db
from tests.accounts.conftest import PASSWORD, make_user
from tests.workspace.conftest import make_case
from twilio_double.rest import TwilioRestDouble

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
BOSS_PHONE = "+8613800138000"


def _hotline(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=input)


def _account(app: Flask, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None
        db.session.expunge(user)
        return user


def test_the_first_admin_made_with_a_phone_gets_escalation_texts(
    app: Flask, env: dict[str, str], rest: TwilioRestDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _hotline(
        env,
        *("users", "create", "boss", "--role", "admin", "--language", "en-US"),
        *("--phone", "138 0013 8000", "--password", PASSWORD),
    )
    assert made.exit_code == 0, made.output
    assert _account(app, "boss").phone == BOSS_PHONE
    # This test's app's own tasks: the command built an app of its own, now the current one.
    tasks = app.extensions["celery"].tasks
    send_text = tasks["tasks.followups.send_text"]
    published: list[int] = []
    monkeypatch.setattr(send_text, "delay", published.append)
    app.extensions[CLOCK_KEY] = lambda: NOW
    with app.app_context():
        case = make_case(status=CaseStatus.ACCEPTED, deadline_at=NOW - timedelta(hours=3))
        db.session.commit()
        tasks["tasks.escalation.escalate_overdue_cases"].apply()
        for message_id in published:
            send_text.apply(args=[message_id])
        assert [(m["to"], m["body"]) for m in rest.messages] == [
            (
                BOSS_PHONE,
                f"Hotline: case {case.number} (Other) is 3 h past its deadline. Handler: nobody.",
            )
        ]


def test_users_edit_changes_only_what_is_given(app: Flask, env: dict[str, str]) -> None:
    with app.app_context():
        make_user("li", Role.STAFF, display_name="Li", language="zh-CN")
    edited = _hotline(
        env,
        *("users", "edit", "li", "--phone", "+8613800138000", "--name", "Li Ming"),
        *("--role", "grid_worker", "--grid", "A1"),
    )
    assert edited.exit_code == 0, edited.output
    assert edited.output.strip() == "updated li: display_name, grid, phone, role"
    li = _account(app, "li")
    assert (li.phone, li.display_name, li.role, li.grid, li.language) == (
        BOSS_PHONE,
        "Li Ming",
        Role.GRID_WORKER,
        "A1",
        "zh-CN",
    )
    assert li.check_password(PASSWORD)
    new_password = "a brand new password"
    prompted = _hotline(
        env, "users", "edit", "li", "--password", input=f"{new_password}\n{new_password}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert _account(app, "li").check_password(new_password)
    cleared = _hotline(env, "users", "edit", "li", "--phone", "", "--inactive")
    assert cleared.exit_code == 0, cleared.output
    assert (_account(app, "li").phone, _account(app, "li").active) == ("", False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "elevenchars"], "Error: The password needs at least 12 characters."),
        (["--phone", "12345"], "Error: That phone number is not valid"),
        (["--phone", "1380000000"], "Error: That phone number is not valid"),
        (["--role", "grid_worker"], "Error: A grid worker needs a grid."),
    ],
)
def test_users_edit_refuses_what_the_admin_page_refuses(
    app: Flask, env: dict[str, str], args: list[str], message: str
) -> None:
    with app.app_context():
        make_user("li", Role.STAFF, phone=BOSS_PHONE)
    refused = _hotline(env, "users", "edit", "li", *args)
    assert refused.exit_code == 1 and refused.output.startswith(message), refused.output
    li = _account(app, "li")
    assert (li.role, li.phone) == (Role.STAFF, BOSS_PHONE) and li.check_password(PASSWORD)


def test_users_create_refuses_an_impossible_phone_and_an_unknown_user_is_named(
    app: Flask, env: dict[str, str]
) -> None:
    refused = _hotline(
        env, "users", "create", "x", "--role", "admin", "--phone", "12345", "--password", PASSWORD
    )
    assert refused.exit_code == 1 and "That phone number is not valid" in refused.output
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []
    missing = _hotline(env, "users", "edit", "nobody", "--name", "X")
    assert missing.exit_code == 1 and "no user nobody" in missing.output
