"""Issue 12's first must-show, on a 390 px phone, in real Chromium against a real `hotline run`
(web, worker, beat): a grid worker records a request a registered resident of their grid made
on the round, through the New case form, and resolves it on the spot (接诉即办) with a note;
later the worker finds the case again and records the home visit's answer "not satisfied":
the case is reopened (不满意不销账), and the supervisor is texted.

Everything is done through the pages as the worker sees them; the texts are read from the
Twilio double, as the resident's and the supervisor's phones would receive them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import Role, User
from cases.models import Resident
from hotline.db import db
from tests.browser.conftest import Screenshots
from tests.browser.test_new_case_phone import too_wide
from tests.browser.test_staff_workspace import PASSWORD
from tests.browser.test_visit_on_a_phone import texts_to, within_the_phone
from tests.conftest import hotline_app
from tests.e2e.conftest import (
    RunningHotline,
)
from twilio_double.rest import TwilioRestDouble

# A whole `hotline run` and a browser on a machine that may be busy.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
PHONE = {"width": 390, "height": 844}
RESIDENT = "+8613800000021"
WORKER = "+8613900000023"
SUPERVISOR = "+8613900000021"
WAIT = 90_000  # ms: on a busy machine (and while triage warms up) pages can take long
REQUEST = "The street light at the door of building 3 is out; it is dark on the stairs."
DONE = "Replaced the bulb by the door on my round; it works again."
VISIT_NOTE = "The light went out again two days later; she is not satisfied."


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone: 390 x 844 CSS pixels, touch, and Chromium's mobile layout (which widens the
    page to its widest element, so anything too wide shows)."""
    context = browser.new_context(
        locale="en-US", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(WAIT)
    expect.set_options(timeout=WAIT)
    yield page
    expect.set_options(timeout=5_000)  # Playwright's own
    context.close()


def seed(hotline: RunningHotline) -> None:
    """A supervisor (an administrator with a mobile number), the grid worker of A1, and a
    registered resident of A1 (written into the running hotline's database: each `hotline`
    command is a slow Python start on a loaded machine)."""
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
        db.session.add(
            Resident(
                phone=RESIDENT,
                name="Wang Xiuying",
                address="3 Happiness Lane, flat 501",
                building="B3",
                grid="A1",
                language="en-US",
            )
        )
        db.session.commit()


def test_a_request_met_on_a_round_resolved_on_the_spot_then_not_satisfied_on_a_visit(
    hotline: RunningHotline,
    rest: TwilioRestDouble,
    phone: Page,
    request: pytest.FixtureRequest,
) -> None:
    seed(hotline)
    page = phone
    shots = Screenshots(page, request.node.name)

    page.goto(f"{hotline.base_url}/")
    page.get_by_label("Username").fill("zhao")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").tap()

    # On the round: the New case form, the way in already "grid round".
    page.get_by_role("link", name="+ New case").tap()
    expect(page.get_by_role("heading", name="New case")).to_be_visible()
    expect(page.get_by_label("Grid round or inspection")).to_be_checked()

    # Who: the resident of the worker's grid, found by name and chosen with a tap; where
    # follows from her record.
    page.get_by_label("Find a registered resident").fill("Wang")
    page.get_by_role("button", name="Find", exact=True).tap()
    page.get_by_role("button", name="Wang Xiuying").tap()
    expect(page.locator("#chosen-resident")).to_contain_text("Wang Xiuying")
    expect(page.get_by_label("Address")).to_have_value("3 Happiness Lane, flat 501")

    # What, and handled there and then with a note of what was done.
    page.get_by_label("What they ask for").fill(REQUEST)
    page.get_by_label("Resolved on the spot (接诉即办)").check()
    page.get_by_label("What was done").fill(DONE)
    assert too_wide(page) == []
    shots.take("new-case-filled")
    page.get_by_role("button", name="Record the request").tap()

    flash = page.get_by_role("status")
    expect(flash).to_contain_text("recorded and resolved")
    number = re.search(r"Case (\d+) recorded", flash.inner_text())
    assert number is not None, flash.inner_text()
    case_number = number.group(1)
    expect(page.locator("#case-status")).to_have_text("Resolved")
    expect(page.locator("#case-assignee")).to_have_text("Zhao Grid")
    expect(page.locator("#timeline")).to_contain_text(DONE)
    expect(page.locator("#timeline")).to_contain_text("grid round or inspection")
    assert too_wide(page) == []
    shots.take("case-resolved-on-the-spot")

    # The resident's phone: the case number, and that it was resolved.
    resident_texts = texts_to(rest, RESIDENT, timeout=120)
    assert any(case_number in body for body in resident_texts), resident_texts

    # Later: the worker finds the case again with the search box at the top of every page.
    page.goto(f"{hotline.base_url}/cases")
    page.get_by_label("Search cases and residents").fill("Wang Xiuying")
    page.get_by_label("Search cases and residents").press("Enter")
    found = page.locator("#found-cases")
    expect(found).to_contain_text(case_number)
    expect(found).to_contain_text("Resolved")
    assert too_wide(page) == []
    shots.take("search")
    found.get_by_role("link", name=case_number).tap()

    # The visit, near the top of the case page: met, "not satisfied", a note.
    visit = page.locator("#visit")
    within_the_phone(visit)
    expect(visit).to_contain_text("No visit is scheduled. If you met the resident anyway")
    choice = visit.get_by_label("Met: 3 not satisfied")
    within_the_phone(visit.locator(".visit-choice.result-not_satisfied"))
    choice.tap()
    visit.get_by_label("Note (optional)").fill(VISIT_NOTE)
    button = visit.get_by_role("button", name="Record the visit")
    within_the_phone(button)
    shots.take("visit-answer-chosen")
    button.tap()

    expect(page.get_by_role("status")).to_contain_text(
        f"Case {case_number} is reopened and the supervisors are told"
    )
    expect(page.locator("#case-status")).to_have_text("Reopened")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Not satisfied (by home visit)")
    expect(timeline).to_contain_text(VISIT_NOTE)
    assert too_wide(page) == []
    shots.take("case-reopened")

    # Back in the worker's inbox, the case is theirs again, reopened.
    page.goto(f"{hotline.base_url}/cases")
    mine = page.locator("#my-queue")
    expect(mine).to_contain_text(case_number)
    expect(mine).to_contain_text("Reopened")
    shots.take("inbox")

    # The supervisor's phone: the alert, with the case number and not the resident's number.
    [alert] = texts_to(rest, SUPERVISOR, timeout=120)
    assert "NOT SATISFIED" in alert and case_number in alert and RESIDENT not in alert
