"""The issue's must-show: `hotline run` with no Twilio settings at all, a call simulated against
it with `hotline simulate call`, a voicemail transcribed by real Vosk, and the case-number text
on the local line's admin page."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import make_env
from tests.e2e.conftest import BIN, KOREAN_CENTRE, RunningHotline, free_port, hotline_run
from tests.e2e.conftest import running_hotline as start_hotline
from tests.e2e.test_voicemail_e2e import wait_for_transcripts
from tests.speech_data import load_korean_clips

pytestmark = [pytest.mark.slow, pytest.mark.speech]

CALLER = "+821055550042"
PASSWORD = "local-line-admin-password"


def no_twilio_env(tmp_path: Path, port: int) -> dict[str, str]:
    """A new user's first run: SQLite, the embedded broker, and no TWILIO_* variable at all;
    served over plain HTTP on this machine (so the login cookie is not HTTPS-only)."""
    env = make_env(tmp_path, "", HOTLINE_PUBLIC_URL=f"http://127.0.0.1:{port}", **KOREAN_CENTRE)
    for name in ("HOTLINE_DATABASE_URL", "HOTLINE_BROKER_URL", "HOTLINE_NUMBER"):
        del env[name]
    return {name: value for name, value in env.items() if not name.startswith("TWILIO_")}


def hotline_command(hotline: RunningHotline, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "hotline"), *args], env=hotline.env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def admin_session(hotline: RunningHotline) -> requests.Session:
    hotline_command(hotline, "users", "create", "boss", "--role", "admin", "--password", PASSWORD)
    session = requests.Session()
    session.trust_env = False
    login_page = session.get(f"{hotline.base_url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    assert token is not None
    form = {"username": "boss", "password": PASSWORD, "csrf_token": token.group(1)}
    signed_in = session.post(f"{hotline.base_url}/login", data=form, allow_redirects=False)
    assert signed_in.status_code == 302 and "/login" not in signed_in.headers["Location"]
    return session


def wait_for_page_with(session: requests.Session, url: str, words: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    page = ""
    while time.monotonic() < deadline:
        page = session.get(url, timeout=10).text
        if words in page:
            break
        time.sleep(1)
    return page


def test_a_hotline_without_twilio_shows_the_whole_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)  # inherited by the processes otherwise
    clip = load_korean_clips()[0].path_8k
    port = free_port()
    with start_hotline(tmp_path, no_twilio_env(tmp_path, port), port, hotline_run(port)) as hotline:
        assert not any(name.startswith("TWILIO_") for name in hotline.env)
        said = hotline_command(
            hotline,
            "simulate",
            "call",
            "--audio",
            str(clip),
            "--from",
            CALLER,
        )  # fmt: skip - no --url: the command finds the hotline at HOTLINE_PUBLIC_URL
        assert "left recording RE" in said

        [case] = wait_for_transcripts(hotline, hotline.api_token(), [CALLER]).values()
        assert case["error"] == "" and case["transcript"], case

        session = admin_session(hotline)
        sent_page = f"{hotline.base_url}/admin/sent"
        page = wait_for_page_with(session, sent_page, case["number"], timeout=120)
        assert "热线正在使用本地线路" in page, page[:3000]  # the admin reads Chinese (default)
        assert case["number"] in page and "…0042" in page
        assert CALLER not in page  # numbers are masked in lists
