"""A grid worker on a round, on a 390 px phone: records a request a resident made in the street
and resolves it on the spot (接诉即办), in real Chromium against a real `hotline run`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Screenshots
from tests.browser.test_staff_workspace import PASSWORD, hotline_command
from tests.e2e.conftest import RunningHotline

pytestmark = [pytest.mark.slow]
PHONE = {"width": 390, "height": 844}
RESIDENT = "+8613800000077"
SLOW_MS = 60_000
EXPECT_DEFAULT_MS = 5_000  # Playwright's own


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="en-US", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    # Generous: on a shared CI machine a page with triage behind it may take many seconds.
    page.set_default_timeout(SLOW_MS)
    expect.set_options(timeout=SLOW_MS)
    yield page
    expect.set_options(timeout=EXPECT_DEFAULT_MS)
    context.close()


def too_wide(page: Page) -> list[str]:
    """What sticks out past the phone's width (nothing, so that no field or button needs
    sideways scrolling), as `tag#id.class right-edge` for the failure message. What is inside
    a box that scrolls sideways on its own (the menu on a phone) does not widen the page.

    Measured once the page has loaded: its text is there before its stylesheets, and a page
    laid out without them is as wide as its widest table."""
    page.wait_for_load_state("load")
    found: list[str] = page.evaluate(
        """(width) => {
            const inScroller = (el) => {
                for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
                    if (getComputedStyle(up).overflowX !== "visible") return true;
                }
                return false;
            };
            return Array.from(document.querySelectorAll("body *"))
                .filter((el) => el.getBoundingClientRect().right > width + 0.5 && !inScroller(el))
                .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className} `
                    + Math.round(el.getBoundingClientRect().right));
        }""",
        PHONE["width"],
    )
    page_width = page.evaluate("() => document.documentElement.scrollWidth")
    return found + ([f"the page is {page_width} px wide"] if page_width > PHONE["width"] else [])


def test_a_grid_worker_records_a_request_met_on_a_round_and_resolves_it_on_the_spot(
    hotline: RunningHotline, phone: Page, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    residents = tmp_path / "residents.csv"
    residents.write_text(
        "phone,name,address,building,grid,language,family_contacts,preferred_call_hours,do_not_call\n"
        f"{RESIDENT},Zhang Xiuying,12 River Road,B3,A1,zh-CN,,,no\n",
        encoding="utf-8",
    )
    hotline_command(hotline, "residents", "import", str(residents))
    hotline_command(
        hotline,
        *("users", "create", "li", "--role", "grid_worker", "--grid", "A1"),
        *("--name", "Li Grid", "--language", "en-US", "--password", PASSWORD),
    )
    shots = Screenshots(phone, request.node.name)

    phone.goto(f"{hotline.base_url}/")
    phone.get_by_label("Username").fill("li")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.get_by_role("link", name="+ New case").click()
    expect(phone.get_by_role("heading", name="New case")).to_be_visible()
    # A grid worker on a round: that way in is chosen already.
    expect(phone.get_by_label("Grid round or inspection")).to_be_checked()
    assert too_wide(phone) == []
    shots.take("form")

    # Who: found by name on the same page, then chosen with one tap.
    phone.get_by_label("Find a registered resident").fill("Zhang")
    phone.get_by_role("button", name="Find", exact=True).click()
    phone.get_by_role("button", name="Zhang Xiuying").click()
    expect(phone.locator("#chosen-resident")).to_contain_text("Zhang Xiuying")
    expect(phone.get_by_label("Address")).to_have_value("12 River Road")

    # What: triage suggests, the worker keeps the suggestion.
    phone.get_by_label("What they ask for").fill("楼道的路灯坏了，晚上看不见")
    phone.get_by_role("button", name="Suggest category and urgency").click()
    expect(phone.locator("#suggestion")).to_contain_text("Public facilities")
    expect(phone.get_by_label("Category")).to_have_value("facilities")
    expect(phone.get_by_label("What they ask for")).to_have_value("楼道的路灯坏了，晚上看不见")

    # Handled there and then.
    phone.get_by_label("Resolved on the spot (接诉即办)").check()
    phone.get_by_label("What was done").fill("Replaced the bulb on the stairs, works again.")
    assert too_wide(phone) == []
    shots.take("filled")
    phone.get_by_role("button", name="Record the request").click()

    expect(phone.get_by_role("status")).to_contain_text("recorded and resolved")
    expect(phone.locator("#case-status")).to_have_text("Resolved")
    expect(phone.locator("#timeline")).to_contain_text("Replaced the bulb on the stairs")
    expect(phone.locator("#timeline")).to_contain_text("grid round or inspection")
    shots.take("case")

    # What the centre's other tools read: the same case as any other, its survey scheduled.
    token = hotline.api_token()
    [case] = requests.get(
        f"{hotline.base_url}/api/cases?source=grid_patrol",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    detail = requests.get(
        f"{hotline.base_url}/api/cases/{case['id']}?include=events",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert (detail["status"], detail["category"], detail["grid"]) == (
        "resolved",
        "facilities",
        "A1",
    )
    assert detail["phone"] == RESIDENT and detail["assignee"]["name"] == "Li Grid"
    kinds = [event["kind"] for event in detail["events"]]
    assert "follow_up_scheduled" in kinds
