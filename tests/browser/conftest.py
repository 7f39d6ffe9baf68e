"""Real headless Chromium (Debian's, never a downloaded browser) driving a real `hotline run`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.conftest import RunningHotline, embedded_env, free_port, hotline_run, running_hotline
from twilio_double.rest import TwilioRestDouble

CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# As the machine's notes advise: no first-run work, no calls home on a closed network.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have Debian's chromium at {CHROMIUM} (scripts/chromium.sh)")
        pytest.skip(f"needs Debian's chromium at {CHROMIUM}: run scripts/chromium.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Screenshots:
    """Numbered screenshots of one test, kept under test-artifacts/ for people to look at."""

    def __init__(self, page: Page, test_name: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def shots(page: Page, request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(page, request.node.name)


@pytest.fixture
def hotline(tmp_path: Path, rest: TwilioRestDouble) -> Iterator[RunningHotline]:
    """`hotline run`, the embedded default a centre starts with."""
    port = free_port()
    # Served over plain http on this machine, so the session cookie must not be Secure-only.
    env = embedded_env(tmp_path, rest, HOTLINE_PUBLIC_URL=f"http://127.0.0.1:{port}")
    with running_hotline(tmp_path, env, port, hotline_run(port)) as running:
        yield running
