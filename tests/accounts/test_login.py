from __future__ import annotations

import threading
from collections.abc import Callable

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from accounts.logins import MAX_FAILURES
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


def test_wrong_passwords_at_once_are_counted_and_lock_the_account(app: Flask) -> None:
    """Thirty guesses in parallel: each failure counts, so at most the limit are ever checked."""
    with app.app_context():
        make_user("sun", Role.STAFF)
    guesses = 30
    clients = [app.test_client() for _ in range(guesses)]
    tokens = [csrf_token(client) for client in clients]
    statuses: list[int] = []
    start = threading.Barrier(guesses)

    def guess(client: FlaskClient, token: str) -> None:
        start.wait()
        form = {"username": "sun", "password": "wrong guess", "csrf_token": token}
        statuses.append(client.post("/login", data=form).status_code)

    threads = [
        threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(statuses) == guesses and set(statuses) <= {401, 429}
    assert statuses.count(401) <= MAX_FAILURES  # the rest were refused as locked, unchecked
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "sun"))
        assert user is not None and user.locked_until is not None
    right = {"username": "sun", "password": PASSWORD, "csrf_token": tokens[0]}
    assert clients[0].post("/login", data=right).status_code == 429  # locked, even now


def test_a_session_key_planted_before_login_is_worthless_after_it(app: Flask) -> None:
    """Session fixation: someone who gave the browser a key of theirs must not share its login."""
    with app.app_context():
        make_user("zhou", Role.STAFF)
    victim = app.test_client()
    token = csrf_token(victim)  # the login page made a session: a key anyone could have planted
    planted = victim.get_cookie("hotline_session")
    assert planted is not None
    form = {"username": "zhou", "password": PASSWORD, "csrf_token": token}
    assert victim.post("/login", data=form).status_code == 302
    signed_in = victim.get_cookie("hotline_session")
    assert signed_in is not None and signed_in.value != planted.value
    assert victim.get("/cases").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(WebSession.id))) == 1  # the old row is gone
    attacker = app.test_client()
    attacker.set_cookie("hotline_session", planted.value)
    refused = attacker.get("/cases")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
