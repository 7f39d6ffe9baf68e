from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role, User
from hotline.db import db

PASSWORD = "correct horse battery"


def make_user(username: str, role: Role, **fields: str) -> int:
    user = User(username=username, role=role, **fields)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user.id


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


@pytest.fixture
def login(app: Flask) -> Callable[[str], FlaskClient]:
    """A browser-like client signed in as `username` (CSRF token and all)."""

    def sign_in(username: str, password: str = PASSWORD) -> FlaskClient:
        client = app.test_client()
        token = csrf_token(client)
        response = client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in
