"""The inbox keeps itself current: the reader's own cases first, and every 30 s the list as it
is now plus the cases opened since the page was shown, emergencies first, for a banner."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role
from cases.models import CASE_NUMBER_OFFSET, CaseStatus, Urgency
from hotline.db import db
from tests.workspace.conftest import make_case, make_resident, make_user

Login = Callable[[str], FlaskClient]


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            "zhao": make_user("zhao", Role.GRID_WORKER, display_name="Zhao", grid="A1",
                              language="en-US"),
            "desk": make_user("desk", Role.STAFF, display_name="Desk", language="en-US"),
        }  # fmt: skip


def add(app: Flask, **fields: Any) -> int:
    with app.app_context():
        fields.setdefault("grid", "A1")
        case = make_case(**fields)
        db.session.commit()
        return case.id


def seen_on_page(page: str) -> int:
    match = re.search(r'data-seen="(\d+)"', page)
    assert match, "the inbox says which cases it has seen"
    return int(match.group(1))


def live_url(page: str) -> str:
    match = re.search(r'id="inbox-live" data-url="([^"]+)"', page)
    assert match
    return html.unescape(match.group(1))


def test_the_readers_own_open_cases_come_first(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    add(app, transcript="someone else's")
    mine_urgent = add(app, assignee_id=people["zhao"], urgency=Urgency.URGENT)
    mine_normal = add(app, assignee_id=people["zhao"])
    add(app, assignee_id=people["zhao"], status=CaseStatus.RESOLVED, resolution_note="done")
    page = login("zhao").get("/cases").get_data(as_text=True)
    queue = page[page.index('id="my-queue"') : page.index('id="inbox-table"')]
    assert re.findall(r'<a href="/cases/(\d+)">', queue) == [str(mine_urgent), str(mine_normal)]
    assert "Your open cases (2)" in page
    assert page.index('id="my-queue"') < page.index('id="inbox-table"')


def test_the_queue_is_only_on_the_first_unfiltered_page(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    add(app, assignee_id=people["zhao"])
    client = login("zhao")
    assert 'id="my-queue"' not in client.get("/cases?category=noise").get_data(as_text=True)
    assert 'id="my-queue"' not in login("desk").get("/cases").get_data(as_text=True)


def test_new_cases_since_the_page_was_shown_come_emergencies_first(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    add(app, transcript="already there")
    client = login("zhao")
    page = client.get("/cases").get_data(as_text=True)
    seen = seen_on_page(page)
    with app.app_context():
        resident = make_resident(name="王伯伯", phone="+8613800000004")
        db.session.commit()
        resident_id = resident.id
    normal = add(app, transcript="门口垃圾没人清理")
    emergency = add(app, urgency=Urgency.EMERGENCY, transcript="着火了", resident_id=resident_id)
    add(app, grid="B2", urgency=Urgency.EMERGENCY, transcript="another grid's fire")

    url = live_url(page)
    answer = client.get(url + ("&" if "?" in url else "?") + f"seen={seen}")
    assert answer.status_code == 200 and answer.is_json
    data = answer.get_json()
    assert data["new"] == 2 and data["emergencies"] == 1
    assert [case["id"] for case in data["cases"]] == [emergency, normal]
    assert data["cases"][0]["urgency"] == "emergency"
    assert (
        data["cases"][0]["text"]
        == f"{CASE_NUMBER_OFFSET + emergency} · Emergency · 王伯伯 · 着火了"
    )
    assert data["message"] == (
        "New cases since you opened this page: 2. Emergencies among them: 1."
    )
    assert data["latest"] > seen
    # The list as it is now, emergency on top; another grid's case nowhere.
    listed = re.findall(r'<a href="/cases/(\d+)">', data["list"])
    assert listed[0] == str(emergency) and "another grid" not in data["list"]
    # Once seen, nothing is new.
    again = client.get(f"/cases/live?seen={data['latest']}").get_json()
    assert again["new"] == 0 and again["message"] == "" and again["cases"] == []


def test_the_live_list_keeps_the_filters_and_is_not_sent_for_a_later_page(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    noisy = add(app, category="noise")
    add(app, category="facilities")
    client = login("desk")
    page = client.get("/cases?category=noise").get_data(as_text=True)
    assert "category=noise" in live_url(page)
    data = client.get(live_url(page)).get_json()
    assert re.findall(r'<a href="/cases/(\d+)">', data["list"]) == [str(noisy)]
    cursor = re.search(r'rel="next" href="[^"]*after=([^"&]+)', page)
    assert cursor is None  # one page only: ask for a later one by hand
    cursor_token = base64.urlsafe_b64encode(b"2|2025-03-01T00:00:00+00:00|1").decode().rstrip("=")
    later = client.get(f"/cases/live?after={cursor_token}").get_json()
    assert later["list"] is None


def test_the_live_answer_needs_a_signed_in_reader(app: Flask) -> None:
    response = app.test_client().get("/cases/live?seen=0")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_loads_its_script_and_the_banner_waits_hidden(
    app: Flask, login: Login, people: dict[str, int]
) -> None:
    page = login("desk").get("/cases").get_data(as_text=True)
    assert '<script src="/static/workspace/inbox.js"></script>' in page
    assert 'id="inbox-banner" class="banner" role="status" aria-live="polite" hidden' in page
    assert 'data-interval="30000"' in page
