"""A grid worker on a 390 px phone and staff at a desk, in real Chromium against `hotline run`.

Cases come in as texts (signed webhooks, as Twilio sends them), so no speech model is needed.
On the phone: nothing scrolls sideways, the inbox shows cards with the worker's own cases first,
the case's actions are within the first screen and a half, and the search box in the header
finds a case by the caller's number. At the desk: the inbox's banner appears when an emergency
case comes in while the page is open, and two cases are assigned at once.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import Screenshots
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER
from tests.e2e.conftest import (
    BIN,
    RunningHotline,
    embedded_env,
    free_port,
    hotline_run,
    running_hotline,
)
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator
from twilio_double.transport import HttpTransport

# Starting `hotline run` and a browser takes a while on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

PASSWORD = "a long enough password"
PHONE = ViewportSize(width=390, height=844)
DESK = ViewportSize(width=1280, height=900)
AUNTIE = "+8613800000001"  # grid A1
UNCLE = "+8613800000002"  # grid B2: not the grid worker's
NEIGHBOUR = "+8613800000004"  # grid A1
RESIDENTS = (
    "phone,name,address,building,grid,language,family_contacts,preferred_call_hours,do_not_call\n"
    f"{AUNTIE},张阿姨,幸福路12号,3号楼,A1,zh-CN,,,no\n"
    f"{UNCLE},李大爷,和平街5号,7号楼,B2,zh-CN,,,no\n"
    f"{NEIGHBOUR},王伯伯,幸福路14号,4号楼,A1,zh-CN,,,no\n"
)
# A message as residents leave them: long, and told twice over.
LONG_MESSAGE = (
    "你好，我是三号楼的张阿姨。楼道的灯坏了好几天了，晚上黑漆漆的什么都看不见，"
    "我上下楼梯很害怕，前天还差点摔了一跤。麻烦你们派人来修一下，谢谢。"
) * 2


# Residents, accounts and API tokens in one process: each `hotline` command is a Python start,
# slow on a busy machine.
SET_UP = """
import json, sys
from accounts.editing import AccountChanges, new_account
from cases.api_tokens import create_token
from cases.residents_import import import_text
from hotline.app import create_app
from hotline.db import db

given = json.load(sys.stdin)
with create_app().app_context():
    assert not import_text(given["residents"]).problems
    tokens = {"": create_token("test")}
    for username, role, name, grid in given["accounts"]:
        changes = AccountChanges(
            display_name=name, role=role, grid=grid, language="en-US", password=given["password"]
        )
        user = new_account(username, changes)
        db.session.add(user)
        db.session.commit()
        tokens[username] = create_token(username, user.id)
    print(json.dumps(tokens))
"""
ACCOUNTS = [("li", "grid_worker", "Li Grid", "A1"), ("mei", "staff", "Mei Staff", "")]


@dataclass
class Centre(RunningHotline):
    """The running hotline, its Twilio, and API tokens: "" read-only, else by username."""

    rest: TwilioRestDouble | None = None
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    """One `hotline run` (SQLite, a Chinese centre) with residents and accounts for the module."""
    tmp_path = tmp_path_factory.mktemp("phone")
    with TwilioRestDouble(ACCOUNT_SID, AUTH_TOKEN) as rest:
        port = free_port()
        env = embedded_env(
            tmp_path,
            rest,
            HOTLINE_PUBLIC_URL=f"http://127.0.0.1:{port}",
            HOTLINE_DEFAULT_LOCALE="zh-CN",
        )
        with running_hotline(tmp_path, env, port, hotline_run(port)) as running:
            given = {"residents": RESIDENTS, "accounts": ACCOUNTS, "password": PASSWORD}
            done = subprocess.run(
                [str(BIN / "python"), "-c", SET_UP],
                env=running.env,
                input=json.dumps(given),
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr
            tokens = json.loads(done.stdout.strip().splitlines()[-1])
            yield Centre(running.base_url, running.env, running.processes, rest, tokens)


def text_in(hotline: Centre, sender: str, body: str) -> dict:
    """A resident's text reaches the hotline as Twilio would post it; the case it opened.

    On a busy machine the first texts can outlast the web worker's timeout while triage loads
    (jieba, the model): sent again with the same MessageSid, as the hotline stores it once.
    """
    phone = CallSimulator(
        HttpTransport(hotline.base_url, timeout=120),
        public_base_url=hotline.base_url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=hotline.rest,
    )
    sid = "SM" + uuid.uuid4().hex
    for _attempt in range(5):
        result = phone.send_sms(from_=sender, to=HOTLINE_NUMBER, body=body, message_sid=sid)
        if result.application_error is None:
            break
        time.sleep(2)
    assert result.application_error is None, result.application_error
    return latest_case(hotline, sender)


def api(hotline: RunningHotline, token: str, method: str, path: str, **body: object) -> dict:
    response = requests.request(
        method,
        f"{hotline.base_url}/api{path}",
        headers={"Authorization": f"Bearer {token}"},
        json=body or None,
        timeout=120,  # a web worker still loading triage on a busy machine
    )
    assert response.ok, response.text
    return response.json()


def latest_case(hotline: Centre, phone: str) -> dict:
    cases = api(hotline, hotline.tokens[""], "GET", f"/cases?phone={quote(phone)}")
    assert cases, f"no case from {phone}"
    return max(cases, key=lambda case: case["id"])


def sign_in(page: Page, hotline: RunningHotline, username: str) -> None:
    page.goto(f"{hotline.base_url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def scroll_width(page: Page) -> int:
    """How wide the page is, once loaded: its text is there before its stylesheets (on a busy
    machine the search page was once measured without workspace.css, as wide as its table)."""
    page.wait_for_load_state("load")
    return int(page.evaluate("() => document.scrollingElement.scrollWidth"))


def top_of(page: Page, selector: str) -> float:
    """Where an element starts, in px from the top of the page."""
    return float(
        page.evaluate(
            "(s) => document.querySelector(s).getBoundingClientRect().top + window.scrollY",
            selector,
        )
    )


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="en-US", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_a_grid_worker_works_a_case_on_a_390_px_phone(
    hotline: Centre, phone_page: Page, request: pytest.FixtureRequest
) -> None:
    page = phone_page
    shots = Screenshots(page, request.node.name)
    case = text_in(hotline, AUNTIE, LONG_MESSAGE)
    other_grid = text_in(hotline, UNCLE, "和平街的路灯不亮了")
    # A case worked on for a while: its timeline is long.
    li_token = hotline.tokens["li"]
    for visit in range(1, 11):
        api(hotline, li_token, "POST", f"/cases/{case['id']}/notes", text=f"第{visit}次上门查看")
    li = api(hotline, li_token, "GET", f"/cases/{case['id']}/assignees")
    li_id = next(user["id"] for user in li if user["name"] == "Li Grid")
    api(hotline, li_token, "POST", f"/cases/{case['id']}/assign", assignee_id=li_id)

    page.goto(f"{hotline.base_url}/")
    assert scroll_width(page) <= PHONE["width"]  # the login page
    sign_in(page, hotline, "li")
    shots.take("inbox")
    # Her own case first, as a card; nobody else's grid; nothing wider than the screen.
    queue = page.locator("#my-queue")
    expect(queue).to_contain_text(case["number"])
    expect(page.locator("#inbox-table")).not_to_contain_text(other_grid["number"])
    expect(page.locator("#inbox-table thead")).to_be_hidden()
    expect(page.locator("#inbox-filter-box")).not_to_have_attribute("open", "")  # folded away
    assert scroll_width(page) <= PHONE["width"]
    card = queue.locator("tr", has_text=case["number"])
    assert card.bounding_box()["width"] <= PHONE["width"]  # type: ignore[index]

    queue.get_by_role("link", name=case["number"]).click()
    expect(page.get_by_role("heading", name=f"Case {case['number']}")).to_be_visible()
    shots.take("case")
    assert scroll_width(page) <= PHONE["width"]
    # The actions: the status form within the first screen and a half, the bar always at hand.
    assert top_of(page, "#status-form") <= 1.5 * PHONE["height"]
    bar = page.locator("#case-bar")
    expect(bar).to_be_in_viewport()
    expect(bar.get_by_role("link", name="Call")).to_have_attribute("href", f"tel:{AUNTIE}")
    # The long timeline is folded: the latest events show, the earlier ones one tap away.
    expect(page.locator(".timeline-earlier")).not_to_have_attribute("open", "")
    expect(page.locator("#timeline")).to_contain_text("第10次上门查看")
    for button in page.locator("#status-form button").all():
        assert button.bounding_box()["height"] >= 44  # type: ignore[index]

    # Resolve it from the phone.
    bar.get_by_role("link", name="Status").click()
    page.get_by_label("Resolution note").fill("换了新灯泡，楼道亮了。")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#case-status")).to_have_text("Resolved")
    shots.take("resolved")

    # The search box in the header finds the case by the caller's number, however written.
    page.get_by_role("searchbox", name="Search cases and residents").fill("138-0000-0001")
    page.get_by_role("searchbox", name="Search cases and residents").press("Enter")
    expect(page.get_by_role("heading", name="Search")).to_be_visible()
    expect(page.locator("#found-cases")).to_contain_text(case["number"])
    expect(page.locator("#found-residents")).to_contain_text("张阿姨")
    assert scroll_width(page) <= PHONE["width"]
    shots.take("search")
    page.locator("#found-residents").get_by_role("link", name="张阿姨").click()
    expect(page.get_by_role("heading", name="张阿姨")).to_be_visible()
    assert scroll_width(page) <= PHONE["width"]  # her record, contacts and cases
    # ...and not another grid's.
    page.goto(f"{hotline.base_url}/search?q=0002")
    expect(page.locator("#nothing-found")).to_be_visible()

    # The other pages she uses fit the screen too.
    for path in ("/residents", "/callbacks", f"/residents?q={'幸福路'}"):
        page.goto(f"{hotline.base_url}{path}")
        assert scroll_width(page) <= PHONE["width"], path
    shots.take("residents")


def test_at_the_desk_an_emergency_arrives_on_the_open_inbox_and_cases_go_out_together(
    hotline: Centre, page: Page, shots: Screenshots
) -> None:
    first = text_in(hotline, NEIGHBOUR, "4号楼门口的垃圾好几天没人清理了")
    second = text_in(hotline, UNCLE, "7号楼电梯按钮坏了")
    page.clock.install()  # the inbox's 30 s timer runs when the test says so
    sign_in(page, hotline, "mei")
    expect(page.locator("#inbox-table thead")).to_be_visible()  # a table at the desk
    expect(page.locator("#inbox-banner")).to_be_hidden()
    page.locator("#inbox-table").scroll_into_view_if_needed()

    emergency = text_in(hotline, "+8613800000009", "厨房着火了，烟很大，快来人")
    assert emergency["urgency"] == "emergency"
    page.clock.run_for(31_000)
    banner = page.locator("#inbox-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_class("banner emergency")
    expect(banner).to_contain_text("Emergencies among them: 1")
    expect(banner.locator("li").first).to_contain_text(emergency["number"])
    # The list renewed itself in place: the emergency is on top.
    expect(page.locator("#inbox-table tbody tr").first).to_contain_text(emergency["number"])
    shots.take("banner")
    banner.get_by_role("button", name="Seen").click()
    expect(banner).to_be_hidden()

    # Assign two cases to Mei at once.
    page.locator(".bulk-box summary").click()
    for case in (first, second):
        page.get_by_label(f"Tick case {case['number']}").check()
    expect(page.locator("#bulk-count")).to_have_text("(2 ticked)")
    page.get_by_label("Assign the ticked cases to").select_option(label="Mei Staff")
    page.get_by_role("button", name="Assign ticked cases").click()
    expect(page.get_by_role("status").first).to_contain_text("Cases assigned: 2.")
    for case in (first, second):
        row = page.locator("#inbox-table tr", has_text=case["number"])
        expect(row).to_contain_text("Mei Staff")
    shots.take("assigned")

    # From the header, a phone number's last digits find the case.
    page.get_by_role("searchbox", name="Search cases and residents").fill("0009")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#found-cases")).to_contain_text(emergency["number"])
    # A case number opens the case.
    page.get_by_role("searchbox", name="Search cases and residents").fill(second["number"])
    page.get_by_role("searchbox", name="Search cases and residents").press("Enter")
    expect(page.get_by_role("heading", name=f"Case {second['number']}")).to_be_visible()
    assert scroll_width(page) <= DESK["width"]
