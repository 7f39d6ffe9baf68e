"""Admin → Set-up check: the same findings as `hotline check`, in the admin's language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role
from tests.accounts.conftest import PASSWORD, csrf_token
from tests.conftest import hotline_app, make_env
from tests.setup_check.test_checks import PublicAddress
from tests.speech.conftest import write_fake_model
from tests.workspace.conftest import make_user
from twilio_double.rest import TwilioRestDouble

Login = Callable[..., FlaskClient]


@pytest.fixture(autouse=True)
def no_speech_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Speech models are looked up from the process's environment: an empty models folder."""
    for name in ("VOSK_MODEL_PATH", "VOSK_MODEL_PATH_ZH_CN", "HOTLINE_DEFAULT_LOCALE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def env(tmp_path: Path, database_url: str, rest: TwilioRestDouble) -> dict[str, Any]:
    """A centre's first week: a wrong auth token, nobody on duty, the public URL still local."""
    return make_env(
        tmp_path,
        database_url,
        TWILIO_API_BASE_URL=rest.base_url,
        TWILIO_AUTH_TOKEN="a-wrong-token",
        HOTLINE_ON_DUTY_NUMBERS="",
        HOTLINE_PUBLIC_URL="http://127.0.0.1:9",
    )


def test_an_admin_sees_what_blocks_calls_and_what_to_do_in_their_language(
    app: Flask, login: Login
) -> None:
    with app.app_context():
        make_user("boss", Role.ADMIN, language="zh-CN")
    page = login("boss").get("/admin/setup").get_data(as_text=True)
    assert "<h1>设置检查</h1>" in page
    assert "<strong>影响接听</strong> Twilio 拒绝了账号 SID/Auth Token" in page
    assert "Twilio 无法连到热线：HOTLINE_PUBLIC_URL 是 http://127.0.0.1:9" in page
    assert "<strong>提醒</strong> 来电者遇到紧急情况时，没有人会收到提醒" in page
    assert "默认语言 zh-CN 的留言无法转成文字" in page
    assert "安装命令：hotline speech install zh-CN" in page
    assert "没有一个在用的管理员账号填写了手机号码" in page
    assert page.index("影响接听") < page.index("提醒"), "what blocks calls comes first"
    assert 'href="/admin/setup" aria-current="page"' in page


def test_only_admins_see_it(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("clerk", Role.STAFF)
    assert login("clerk").get("/admin/setup").status_code == 403
    assert app.test_client().get("/admin/setup").status_code == 302  # to the login page


def test_a_ready_install_says_there_is_nothing_to_fix(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOSK_MODEL_PATH_ZH_CN", str(write_fake_model(tmp_path / "zh-model")))
    with PublicAddress() as public:
        ready = make_env(
            tmp_path, database_url, HOTLINE_TELEPHONY="local", HOTLINE_PUBLIC_URL=public.url
        )
        with hotline_app(ready) as app:
            with app.app_context():
                make_user("boss", Role.ADMIN, language="en-US", phone="+8613900000001")
            client = app.test_client()
            token = csrf_token(client)
            signed_in = {"username": "boss", "password": PASSWORD, "csrf_token": token}
            assert client.post("/login", data=signed_in).status_code == 302
            page = client.get("/admin/setup").get_data(as_text=True)
    assert "Nothing to fix: the hotline can take calls." in page
    assert "Blocks calls" not in page and "Warning" not in page
