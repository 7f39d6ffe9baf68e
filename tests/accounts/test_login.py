from __future__ import annotations

from collections.abc import Callable

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from accounts.models import Role, User, WebSession
from hotline.cli import main
from hotline.db import db
from tests.accounts.conftest import PASSWORD, csrf_token, make_user


def test_pages_need_a_login(app: Flask) -> None:
    response = app.test_client().get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_and_logout_with_a_server_side_session(
    app: Flask, login: Callable[..., FlaskClient]
) -> None:
    with app.app_context():
        make_user("wang", Role.STAFF)
    client = login("wang")
    cookie = client.get_cookie("hotline_session")
    assert cookie is not None and cookie.http_only
    assert client.get("/").status_code in (200, 302)
    with app.app_context():
        assert db.session.scalar(select(func.count(WebSession.id))) == 1
        # Only a random key is in the cookie; the session itself is on the server.
        assert "wang" not in cookie.value
    token = csrf_token(client)
    client.post("/logout", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(select(func.count(WebSession.id))) == 0
    # The old cookie is worthless now.
    stale = app.test_client()
    stale.set_cookie("hotline_session", cookie.value)
    assert stale.get("/").status_code == 302


def test_wrong_password_and_lockout(app: Flask) -> None:
    with app.app_context():
        make_user("li", Role.STAFF)
    client = app.test_client()
    token = csrf_token(client)
    for _ in range(5):
        response = client.post(
            "/login", data={"username": "li", "password": "nope", "csrf_token": token}
        )
        assert response.status_code == 401
    # Locked now, even with the right password.
    response = client.post(
        "/login", data={"username": "li", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "li"))
        assert user is not None and user.locked_until is not None


def test_login_form_without_csrf_token_is_refused(app: Flask) -> None:
    with app.app_context():
        make_user("zhao", Role.STAFF)
    response = app.test_client().post("/login", data={"username": "zhao", "password": PASSWORD})
    assert response.status_code == 400


def test_next_parameter_cannot_leave_the_site(app: Flask) -> None:
    with app.app_context():
        make_user("qian", Role.STAFF)
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login?next=//evil.example.org/x",
        data={"username": "qian", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_users_create_command(app: Flask, env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main,
        ["users", "create", "admin1", "--role", "admin"],
        env=env,
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "admin1"))
        assert user is not None and user.role == Role.ADMIN
        assert user.check_password(PASSWORD) and PASSWORD not in user.password_hash
    short = CliRunner().invoke(
        main, ["users", "create", "x", "--role", "staff", "--password", "short"], env=env
    )
    assert short.exit_code != 0 and "at least 12 characters" in short.output
