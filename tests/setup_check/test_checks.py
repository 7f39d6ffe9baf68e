"""The set-up check: `hotline check` says, in plain words, what keeps a new install from taking
calls and what to do; it exits with 1 only when calls are blocked; `hotline worker` and
`hotline web` log the same when they start."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from accounts.models import Role
from hotline import cli
from tests.accounts.conftest import make_user
from tests.conftest import ACCOUNT_SID, make_env
from tests.speech.conftest import write_fake_model
from twilio_double.rest import TwilioRestDouble

CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port


class PublicAddress:
    """The hotline's public URL, played by a server that answers /healthz with `status`."""

    def __init__(self) -> None:
        self.status = 200
        address = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(address.status if self.path == "/healthz" else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> PublicAddress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def public() -> Iterator[PublicAddress]:
    with PublicAddress() as address:
        yield address


@pytest.fixture
def speech_model(tmp_path: Path) -> str:
    """A (structurally) complete model for the default language, zh-CN."""
    return str(write_fake_model(tmp_path / "zh-model"))


def local_line(tmp_path: Path, database_url: str, **overrides: str | None) -> dict[str, Any]:
    """A first user's settings (the local line), with nothing left to fix but `overrides`."""
    env: dict[str, Any] = dict(make_env(tmp_path, database_url))
    env.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None, HOTLINE_TELEPHONY="local")
    env.update(VOSK_MODEL_PATH=None, VOSK_MODEL_PATH_ZH_CN=None, HOTLINE_DEFAULT_LOCALE="zh-CN")
    env.update(overrides)
    return env


def on_twilio(
    tmp_path: Path, database_url: str, rest: TwilioRestDouble, **overrides: str | None
) -> dict[str, Any]:
    """Twilio's settings, against the REST double. The public URL is a local address, which
    Twilio cannot call (a finding of its own): so no test fetches an address on the internet."""
    env: dict[str, Any] = dict(make_env(tmp_path, database_url, TWILIO_API_BASE_URL=rest.base_url))
    env.update(HOTLINE_TELEPHONY=None, VOSK_MODEL_PATH=None, VOSK_MODEL_PATH_ZH_CN=None)
    env.update(HOTLINE_PUBLIC_URL=CLOSED)
    env.update(overrides)
    return env


def check(env: dict[str, Any], *options: str) -> Result:
    return CliRunner().invoke(cli.main, ["check", *options], env=env)


def lines(result: Result) -> list[str]:
    return result.stdout.splitlines()


@pytest.fixture
def admin_with_phone(app: Flask) -> None:
    with app.app_context():
        make_user("boss", Role.ADMIN, phone="+8613900000001")


def test_a_ready_install_has_nothing_to_fix(
    tmp_path: Path,
    database_url: str,
    admin_with_phone: None,
    public: PublicAddress,
    speech_model: str,
) -> None:
    env = local_line(
        tmp_path, database_url, HOTLINE_PUBLIC_URL=public.url, VOSK_MODEL_PATH_ZH_CN=speech_model
    )
    result = check(env)
    assert result.exit_code == 0, result.output
    assert lines(result) == ["Set-up check: nothing to fix."]


def test_twilio_without_an_auth_token_blocks_calls(
    tmp_path: Path,
    database_url: str,
    rest: TwilioRestDouble,
    admin_with_phone: None,
    speech_model: str,
) -> None:
    env = on_twilio(
        tmp_path, database_url, rest, TWILIO_AUTH_TOKEN="", VOSK_MODEL_PATH_ZH_CN=speech_model
    )
    result = check(env)
    assert result.exit_code == 1, result.output
    assert lines(result)[0] == (
        "[Blocks calls] Twilio's webhooks will be refused, so no call or text gets through: "
        "TWILIO_AUTH_TOKEN is not set. Set it to the auth token shown in the Twilio console, "
        "then restart the hotline."
    )
    assert lines(result)[-1] == "Set-up check: 2 problem(s) block calls, 0 warning(s)."
    assert not [r for r in rest.requests if r["path"].endswith(f"{ACCOUNT_SID}.json")]


def test_twilio_rejecting_the_credentials_blocks_calls(
    tmp_path: Path, database_url: str, rest: TwilioRestDouble, admin_with_phone: None
) -> None:
    result = check(on_twilio(tmp_path, database_url, rest, TWILIO_AUTH_TOKEN="a-wrong-token"))
    assert result.exit_code == 1, result.output
    assert (
        "[Blocks calls] Twilio rejected the account SID/auth token: every call placed, text sent "
        "and recording downloaded will fail. Copy both again from the Twilio console into "
        "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, then restart the hotline."
    ) in lines(result)
    asked = [r for r in rest.requests if r["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}.json"]
    assert [r["status"] for r in asked] == [401]


def test_twilio_accepting_the_credentials_is_not_reported(
    tmp_path: Path, database_url: str, rest: TwilioRestDouble, admin_with_phone: None
) -> None:
    result = check(on_twilio(tmp_path, database_url, rest))
    assert "Twilio rejected" not in result.stdout and "Could not ask Twilio" not in result.stdout
    asked = [r for r in rest.requests if r["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}.json"]
    assert [r["status"] for r in asked] == [200]
    offline = check(
        on_twilio(tmp_path, database_url, rest, TWILIO_AUTH_TOKEN="a-wrong-token"), "--offline"
    )
    assert "Twilio rejected" not in offline.stdout  # --offline asks nobody


def test_twilio_without_an_account_sid_or_number_says_what_fails(
    tmp_path: Path, database_url: str, rest: TwilioRestDouble
) -> None:
    env = on_twilio(tmp_path, database_url, rest, HOTLINE_TELEPHONY="twilio", TWILIO_ACCOUNT_SID="")
    result = check({**env, "HOTLINE_NUMBER": ""})
    assert result.exit_code == 1, result.output
    assert (
        "[Blocks calls] Recordings cannot be downloaded and no text can be sent: "
        "TWILIO_ACCOUNT_SID is not set. Set it to the account SID shown in the Twilio console "
        "(it starts with AC), then restart the hotline."
    ) in lines(result)
    assert (
        "[Warning] Texts and survey calls cannot be sent: HOTLINE_NUMBER is not set. Set it to "
        "the hotline's Twilio number with its country code (e.g. +8610…), then restart the "
        "hotline."
    ) in lines(result)


def test_twilio_that_cannot_be_asked_is_a_warning(
    tmp_path: Path, database_url: str, rest: TwilioRestDouble
) -> None:
    unreachable = check(on_twilio(tmp_path, database_url, rest, TWILIO_API_BASE_URL=CLOSED))
    assert (
        "[Warning] Could not ask Twilio whether the account SID and auth token are right "
        "(cannot connect). Check this machine's connection to api.twilio.com (or "
        "TWILIO_API_BASE_URL)."
    ) in lines(unreachable)
    rest.fail_next(rf"/Accounts/{ACCOUNT_SID}\.json$", 503)
    failing = check(on_twilio(tmp_path, database_url, rest))
    assert "auth token are right (it answered HTTP 503)" in failing.stdout


def test_twilio_told_to_call_a_local_address_blocks_calls(
    tmp_path: Path, database_url: str, rest: TwilioRestDouble
) -> None:
    for url in ("http://localhost:5000", "http://192.168.1.20:8000", CLOSED):
        result = check(on_twilio(tmp_path, database_url, rest, HOTLINE_PUBLIC_URL=url))
        assert result.exit_code == 1, result.output
        assert (
            f"[Blocks calls] Twilio cannot reach the hotline: HOTLINE_PUBLIC_URL is {url}, an "
            "address only this machine or its local network can open."
        ) in result.stdout


def test_no_on_duty_number_is_a_warning_with_what_to_set(
    tmp_path: Path,
    database_url: str,
    admin_with_phone: None,
    public: PublicAddress,
    speech_model: str,
) -> None:
    env = local_line(
        tmp_path,
        database_url,
        HOTLINE_ON_DUTY_NUMBERS="",
        HOTLINE_PUBLIC_URL=public.url,
        VOSK_MODEL_PATH_ZH_CN=speech_model,
    )
    result = check(env)
    assert result.exit_code == 0, result.output
    assert lines(result) == [
        "[Warning] Nobody is alerted when a caller has an emergency: HOTLINE_ON_DUTY_NUMBERS is "
        "empty, so such callers are only told to ring the emergency services themselves. Set it "
        "to the on-duty mobile numbers with country code, comma-separated.",
        "Set-up check: 0 problem(s) block calls, 1 warning(s).",
    ]


def test_on_duty_entries_that_are_no_phone_number_are_counted_not_shown(
    tmp_path: Path,
    database_url: str,
    admin_with_phone: None,
    public: PublicAddress,
    speech_model: str,
) -> None:
    env = local_line(
        tmp_path,
        database_url,
        HOTLINE_ON_DUTY_NUMBERS="+8613900000009, 12345, 1390000000",
        HOTLINE_PUBLIC_URL=public.url,
        VOSK_MODEL_PATH_ZH_CN=speech_model,
    )
    result = check(env)
    assert result.exit_code == 0, result.output
    assert lines(result)[0] == (
        "[Warning] 2 entries of HOTLINE_ON_DUTY_NUMBERS are not valid phone numbers and are "
        "ignored. Correct them (mobile numbers with country code, comma-separated), then "
        "restart the hotline."
    )
    assert "12345" not in result.stdout and "1390000000" not in result.stdout


def test_no_speech_model_gives_the_exact_install_command(
    tmp_path: Path, database_url: str, admin_with_phone: None, public: PublicAddress
) -> None:
    env = local_line(tmp_path, database_url, HOTLINE_PUBLIC_URL=public.url)
    assert (
        "[Warning] Messages in zh-CN (the default language) will not be transcribed: no speech "
        "model is installed for it. Install one with: hotline speech install zh-CN"
    ) in lines(check(env))
    english = check({**env, "HOTLINE_DEFAULT_LOCALE": "en-US"})
    assert "Install one with: hotline speech install en-US" in english.stdout
    broken = check({**env, "VOSK_MODEL_PATH_ZH_CN": str(tmp_path / "gone")})
    assert "the speech model set for it cannot be used" in broken.stdout
    korean = check({**env, "HOTLINE_DEFAULT_LOCALE": "ko-KR"})
    assert "speech model" not in korean.stdout  # the bundled Korean model
    assert broken.exit_code == english.exit_code == 0  # messages still reach staff as recordings


def test_no_admin_with_a_phone_is_a_warning(
    tmp_path: Path, database_url: str, app: Flask, public: PublicAddress, speech_model: str
) -> None:
    env = local_line(
        tmp_path, database_url, HOTLINE_PUBLIC_URL=public.url, VOSK_MODEL_PATH_ZH_CN=speech_model
    )
    warning = (
        "[Warning] Nobody is texted when a case is overdue: no active administrator has a mobile "
        "number. Add one to an administrator's account under Admin → Staff accounts, or with: "
        "hotline users edit NAME --phone +86…"
    )
    with app.app_context():
        make_user("boss", Role.ADMIN)
        make_user("staff1", Role.STAFF, phone="+8613900000002")
        make_user("gone", Role.ADMIN, phone="+8613900000003", active=False)  # type: ignore[arg-type]
    assert warning in lines(check(env))
    with app.app_context():
        make_user("boss2", Role.ADMIN, phone="+8613900000001")
    assert warning not in lines(check(env))


def test_a_public_url_that_does_not_answer_is_a_warning(
    tmp_path: Path,
    database_url: str,
    admin_with_phone: None,
    public: PublicAddress,
    speech_model: str,
) -> None:
    env = local_line(tmp_path, database_url, VOSK_MODEL_PATH_ZH_CN=speech_model)
    closed = check({**env, "HOTLINE_PUBLIC_URL": CLOSED})
    assert closed.exit_code == 0
    assert lines(closed)[0] == (
        f"[Warning] The hotline does not answer at its public address {CLOSED} (cannot connect), "
        "where every call is sent. Check HOTLINE_PUBLIC_URL, the TLS proxy and the firewall, "
        "and that 'hotline web' is running."
    )
    public.status = 503
    failing = check({**env, "HOTLINE_PUBLIC_URL": public.url})
    assert f"address {public.url} (it answered HTTP 503)" in failing.stdout


def test_webhooks_set_aside_from_the_spool_are_a_warning_saying_where_they_are(
    tmp_path: Path, database_url: str, admin_with_phone: None, speech_model: str
) -> None:
    env = local_line(tmp_path, database_url, VOSK_MODEL_PATH_ZH_CN=speech_model)
    set_aside = Path(env["HOTLINE_DATA_DIR"]) / "spool" / "set-aside"
    set_aside.mkdir(parents=True)
    for name in ("1-1-a.json", "2-1-b.json"):
        (set_aside / name).write_text("{}")
    result = check(env, "--offline")
    assert result.exit_code == 0, result.output
    [warning] = [line for line in lines(result) if "set aside" in line]
    assert warning.startswith("[Warning] 2 messages from Twilio (recordings, emergency keys")
    assert f"set aside in {set_aside}." in warning and "hotline spool replay" in warning


def test_a_database_that_cannot_be_read_blocks_calls(tmp_path: Path) -> None:
    empty = tmp_path / "never-migrated.db"
    env = local_line(tmp_path, f"sqlite:///{empty}", HOTLINE_PUBLIC_URL=CLOSED)
    result = check(env, "--offline")
    assert result.exit_code == 1, result.output
    assert (
        "[Blocks calls] The database cannot be read (OperationalError): check "
        "HOTLINE_DATABASE_URL, then run: hotline db upgrade"
    ) in lines(result)


def test_the_worker_logs_the_check_when_it_starts(
    tmp_path: Path,
    database_url: str,
    rest: TwilioRestDouble,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(cli.os, "execv", lambda path, args: started.append(args))
    env = on_twilio(tmp_path, database_url, rest, TWILIO_AUTH_TOKEN="a-wrong-token")
    with caplog.at_level(logging.WARNING, logger="hotline.setup_check"):
        result = CliRunner().invoke(cli.main, ["worker"], env=env)
    assert result.exit_code == 0, result.output
    assert started, "the worker still starts"
    logged = [r.getMessage() for r in caplog.records if r.name == "hotline.setup_check"]
    assert any(
        m.startswith("Blocks calls: Twilio rejected the account SID/auth token") for m in logged
    )
    assert any("Nobody is texted when a case is overdue" in m for m in logged)
    assert all(
        r.levelno == logging.WARNING for r in caplog.records if r.name == "hotline.setup_check"
    )


def test_the_web_logs_the_check_and_asks_twilio_once_it_listens(
    tmp_path: Path,
    database_url: str,
    rest: TwilioRestDouble,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    public: PublicAddress,
) -> None:
    listening = public.port  # stands in for the web server's port
    network_logged = threading.Event()

    def serve(host: str, port: int, processes: int, threads: int) -> None:
        assert port == listening
        network_logged.wait(timeout=20)

    monkeypatch.setattr(cli, "serve", serve)
    env = on_twilio(tmp_path, database_url, rest, TWILIO_AUTH_TOKEN="a-wrong-token")

    class Waiter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "Twilio rejected" in record.getMessage():
                network_logged.set()

    waiter = Waiter()
    logging.getLogger("hotline.setup_check").addHandler(waiter)
    try:
        with caplog.at_level(logging.WARNING, logger="hotline.setup_check"):
            result = CliRunner().invoke(cli.main, ["web", "--port", str(listening)], env=env)
    finally:
        logging.getLogger("hotline.setup_check").removeHandler(waiter)
    assert result.exit_code == 0, result.output
    assert network_logged.is_set(), "Twilio was asked once the port listened"
    logged = [r.getMessage() for r in caplog.records if r.name == "hotline.setup_check"]
    assert any("Nobody is texted when a case is overdue" in m for m in logged)
