"""Issue 12's must-show, at desktop size, in real Chromium: five texts about one drain from five
numbers; staff merge them into one problem in the browser; resolving it texts all five and
places five survey calls; the ledger shows one problem with five reporters.

The hotline runs in this process (a threaded server over the test's app) so that the test
holds its clock and plays beat and the worker by hand, as tests/outreach do: the texts come
through the signed SMS webhook from Twilio's double, the calls and texts go to its REST API.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from accounts.models import Role
from cases.models import Case, Resident
from hotline.clock import CLOCK_KEY
from hotline.db import db
from tests.accounts.conftest import PASSWORD, make_user
from tests.browser.conftest import Screenshots
from tests.outreach.conftest import WORKER_TASKS, Beat, Clock, local
from tests.sms.helpers import text
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator

pytestmark = [pytest.mark.slow]

NEIGHBOURS = {
    "+8613800000101": ("王秀英", "3号楼门口的下水道堵了，污水冒出来了"),
    "+8613800000102": ("李建国", "我们楼下下水道又堵了，臭得很"),
    "+8613800000103": ("张桂兰", "3号楼下水道堵住了，请派人来疏通"),
    "+8613800000104": ("刘志强", "下水道堵塞，污水漫到楼道里了"),
    "+8613800000105": ("陈淑芬", "3号楼门口下水井冒水，下水道堵了"),
}
NOTE = "Cleared the drain in front of building 3."


@pytest.fixture
def centre(app: Flask, monkeypatch: pytest.MonkeyPatch) -> tuple[Clock, Beat]:
    """The centre's clock (Monday 2 March 2026, 10:00 in Shanghai) and beat played by hand."""
    clock = Clock(local(2, 10))
    app.extensions[CLOCK_KEY] = clock
    played = Beat()
    for name, task in WORKER_TASKS.items():

        def publish(row_id: int, name: str = name) -> None:
            played.published.append((name, row_id))

        monkeypatch.setattr(task, "delay", publish)
    return clock, played


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app over plain http on a free local port, for the browser."""
    app.config["SESSION_COOKIE_SECURE"] = False  # http://127.0.0.1: no TLS in the test
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_five_texts_about_one_drain_become_one_problem_with_five_reporters(
    app: Flask,
    centre: tuple[Clock, Beat],
    served: str,
    phone: CallSimulator,
    rest: TwilioRestDouble,
    page: Page,
    shots: Screenshots,
) -> None:
    clock, beat = centre
    with app.app_context():
        make_user("mei", Role.STAFF, language="en-US", display_name="Mei")
        for number, (name, _) in NEIGHBOURS.items():
            db.session.add(
                Resident(phone=number, name=name, language="zh-CN", grid="A1", building="3号楼")
            )
        db.session.commit()

    # Five neighbours text about the same drain, each from their own phone.
    for number, (_, words) in NEIGHBOURS.items():
        assert "事项编号" in text(phone, words, from_=number)  # each is told their case number
        clock.advance(minutes=3)
    with app.app_context():
        cases = list(db.session.scalars(select(Case).order_by(Case.id)))
        assert [case.phone for case in cases] == list(NEIGHBOURS)
        assert {case.category for case in cases} == {"drainage"}
        numbers = [case.number for case in cases]
    first, *others = numbers

    # Staff sign in and open the first report from the inbox.
    page.goto(f"{served}/")
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("tr", has_text=first).get_by_role("link", name=first).click()
    suggestions = page.locator("#suggestions")
    for number in others:
        expect(suggestions).to_contain_text(number)
    shots.take("likely-duplicates")

    # One click each: the later reports join the first one's problem.
    for number in others:
        page.get_by_role("button", name=f"Merge {number} into this case").click()
        expect(page.locator("#reports")).to_contain_text(number)
    expect(page.locator("#reports-count")).to_contain_text("Reported by 5 residents.")
    expect(page.locator("#no-suggestions")).to_be_visible()
    shots.take("merged")

    # Resolve the problem once, on its main case.
    page.get_by_role("button", name="Accept", exact=True).click()
    page.get_by_label("Resolution note").fill(NOTE)
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#timeline")).to_contain_text(NOTE)
    expect(page.locator("#reports")).to_contain_text("Resolved")
    shots.take("resolved")

    # Every reporter is texted, on their own case number.
    with app.app_context():
        beat.run()
    resolved_texts = {m["to"]: m["body"] for m in rest.messages if m["to"] in NEIGHBOURS}
    assert sorted(resolved_texts) == sorted(NEIGHBOURS)
    for number, case_number in zip(NEIGHBOURS, numbers, strict=True):
        assert f"您和邻居们反映的事项{case_number}已处理完成" in resolved_texts[number]

    # The ledger counts one problem and five reporters.
    page.goto(f"{served}/ledger")
    expect(page.locator("#problem-count")).to_have_text("1 problem, 5 reporters")
    ledger = page.locator("table.ledger")
    for case_number in numbers:
        expect(ledger).to_contain_text(case_number)
    shots.take("ledger")

    # A report's own page says which problem it belongs to.
    page.goto(f"{served}/cases/{int(others[0]) - 10000}")
    expect(page.locator("#main-case")).to_contain_text(f"handled on case {first}")
    shots.take("a-report")

    # Each is called the next morning for their own satisfaction survey.
    assert rest.calls == []
    clock.moment = local(3, 9)
    with app.app_context():
        beat.run()
    assert sorted(call["to"] for call in rest.calls) == sorted(NEIGHBOURS)
