"""A grid worker on a 390 px phone: resolves a resident's request, goes round, and records
the resident's answer "not satisfied" in a few taps; the case reopens and a supervisor is
texted (不满意不销账). Real Chromium against a real `hotline run` (web, worker, beat)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from accounts.models import Role, User
from cases.lifecycle import transition
from cases.models import CaseSource, CaseStatus, Resident
from hotline.db import db
from tests.browser.conftest import Screenshots
from tests.browser.test_staff_workspace import PASSWORD
from tests.conftest import hotline_app
from tests.e2e.conftest import (
    RunningHotline,
)
from tests.workspace.conftest import make_case
from twilio_double.rest import TwilioRestDouble

# A whole `hotline run` and a browser on a machine that may be busy: more than the usual 300 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
RESIDENT = "+8613800000011"
WORKER = "+8613900000003"
SUPERVISOR = "+8613900000001"
PHONE_WIDTH = 390
WAIT = 90_000  # ms: on a busy machine (and while triage warms up) pages can take long


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    """A phone's screen: 390 x 844 CSS pixels, touch. Not Chromium's mobile emulation
    (is_mobile), which widens the layout to the widest element: the top menu is wider than a
    phone until the grid workers' pages are made for phones (issue 12, item 2)."""
    context = browser.new_context(
        locale="en-US",
        viewport={"width": PHONE_WIDTH, "height": 844},
        has_touch=True,
        device_scale_factor=2,
    )
    page = context.new_page()
    page.set_default_timeout(WAIT)
    yield page
    context.close()


@pytest.fixture
def shots(phone_page: Page, request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(phone_page, request.node.name)


def seed(hotline: RunningHotline) -> str:
    """The supervisor, the grid worker of grid A1, and a new request from a registered
    resident of A1 (written straight into the running hotline's database: on a loaded machine
    each `hotline` command takes seconds, and the request's channel does not matter here)."""
    with hotline_app(hotline.env) as app, app.app_context():
        boss = User(username="boss", role=Role.ADMIN, language="en-US", phone=SUPERVISOR)
        zhao = User(
            username="zhao",
            role=Role.GRID_WORKER,
            grid="A1",
            display_name="Zhao Grid",
            language="en-US",
            phone=WORKER,
        )
        for user in (boss, zhao):
            user.set_password(PASSWORD)
            db.session.add(user)
        resident = Resident(
            phone=RESIDENT,
            name="Wang Xiuying",
            address="3 Happiness Lane, flat 501",
            building="B3",
            grid="A1",
            language="en-US",
        )
        case = make_case(
            source=CaseSource.SMS,
            phone=RESIDENT,
            resident=resident,
            locale="en-US",
            grid="A1",
            building="B3",
            transcript="The street light by building 3 is broken",
            status=CaseStatus.ACCEPTED,
        )
        # Resolved on the spot by the worker (the lifecycle forms are the case page's own
        # tests; this one is about the visit that follows).
        transition(case, CaseStatus.RESOLVED, zhao.name, "Bulb replaced on my round.")
        db.session.commit()
        return case.number


def within_the_phone(element: Locator) -> None:
    """Visible, and not wider than the screen: nothing to scroll sideways for."""
    expect(element).to_be_visible(timeout=WAIT)
    box = element.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, box


def texts_to(rest: TwilioRestDouble, number: str, timeout: float = 60) -> list[str]:
    """The texts the worker sent to `number`, waiting for the first (beat runs every 15 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = [m["body"] for m in rest.messages if m["to"] == number]
        if sent:
            return sent
        time.sleep(0.5)
    return []


def test_a_grid_worker_records_not_satisfied_on_a_phone_and_the_case_reopens(
    hotline: RunningHotline,
    rest: TwilioRestDouble,
    phone_page: Page,
    shots: Screenshots,
) -> None:
    page = phone_page
    number = seed(hotline)

    page.goto(f"{hotline.base_url}/")
    page.get_by_label("Username").fill("zhao")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The request the worker resolved on the spot: its page, as its text links to it.
    case_url = f"{hotline.base_url}/cases/{int(number) - 10000}"
    page.goto(case_url)
    expect(page.locator("#case-status")).to_have_text("Resolved", timeout=WAIT)

    # The visit section is near the top, within reach; schedule the visit for today.
    within_the_phone(page.locator("#visit"))
    page.get_by_text("Schedule a visit").click()
    page.get_by_role("button", name="Schedule the visit").click()
    expect(page.get_by_role("status")).to_contain_text("Visit scheduled for", timeout=WAIT)
    shots.take("case-resolved-visit-scheduled")

    # My visits: a card with a big button.
    page.get_by_role("link", name="My visits").click()
    card = page.locator(".visit-card").first
    within_the_phone(card)
    expect(card).to_contain_text("Wang Xiuying", timeout=WAIT)
    expect(card).to_contain_text("Asked for by Zhao Grid.", timeout=WAIT)
    shots.take("my-visits")
    card.get_by_role("link", name="Record this visit").tap()

    # Two taps and a note: met, not satisfied.
    choice = page.get_by_label("Met: 3 not satisfied")
    within_the_phone(page.locator(".visit-choice.result-not_satisfied"))
    choice.tap()
    page.get_by_label("Note (optional)").fill("The light flickers again at night.")
    button = page.get_by_role("button", name="Record the visit")
    within_the_phone(button)
    shots.take("visit-answer-chosen")
    button.tap()

    expect(page.get_by_role("status")).to_contain_text("is reopened", timeout=WAIT)
    expect(page.locator(".visit-card")).to_have_count(0, timeout=WAIT)
    shots.take("visit-recorded")

    page.goto(case_url)
    expect(page.locator("#case-status")).to_have_text("Reopened", timeout=WAIT)
    expect(page.locator("#timeline")).to_contain_text("Not satisfied (by home visit)", timeout=WAIT)
    expect(page.locator("#timeline")).to_contain_text(
        "The light flickers again at night.", timeout=WAIT
    )
    shots.take("case-reopened")

    [alert] = texts_to(rest, SUPERVISOR)
    assert "NOT SATISFIED" in alert and RESIDENT not in alert
