"""The inbox as staff use it: order, filters, search, paging, and what each role may see."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from accounts.models import Role, User
from cases import actions, search
from cases.models import CASE_NUMBER_OFFSET, Case, CaseStatus, Urgency
from hotline.db import db
from tests.workspace.conftest import make_case, make_resident, make_user

NOW = datetime.now(UTC)
Login = Callable[[str], FlaskClient]


def add_case(app: Flask, words: str = "楼道灯坏了", **fields: Any) -> int:
    with app.app_context():
        case = make_case(transcript=words, machine_transcript=words, **fields)
        db.session.commit()
        return case.id


def listed(response: TestResponse) -> list[int]:
    """The case ids in the list, top to bottom (not the reader's own cases shown above it)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    start = page.find('id="inbox-table"')
    table = page[start : page.index("</table>", start)] if start >= 0 else ""
    return [int(n) for n in re.findall(r'<a href="/cases/(\d+)">', table)]


def next_link(response: TestResponse) -> str | None:
    match = re.search(r'rel="next" href="([^"]+)"', response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else None


# ---------------------------------------------------------------- order and display


def test_most_urgent_first_then_oldest_first(app: Flask, staff: FlaskClient) -> None:
    normal_last_week = add_case(app, created_at=NOW - timedelta(days=7))
    normal_yesterday = add_case(app, created_at=NOW - timedelta(days=1))
    emergency_today = add_case(app, urgency=Urgency.EMERGENCY, created_at=NOW)
    urgent_old = add_case(app, urgency=Urgency.URGENT, created_at=NOW - timedelta(days=3))
    urgent_older = add_case(app, urgency=Urgency.URGENT, created_at=NOW - timedelta(days=5))
    assert listed(staff.get("/cases")) == [
        emergency_today,
        urgent_older,
        urgent_old,
        normal_last_week,
        normal_yesterday,
    ]


def test_a_row_shows_what_staff_need_at_a_glance(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        worker = make_user("li", Role.GRID_WORKER, display_name="Li Grid", grid="A1")
    case_id = add_case(
        app,
        "楼道的灯坏了，晚上看不见路，老人容易摔倒。" * 3 + "请尽快派人来修理一下，谢谢你们",
        urgency=Urgency.URGENT,
        category="facilities",
        grid="A1",
        building="3号楼",
        phone="+8613812340001",
        assignee_id=worker,
        created_at=datetime(2025, 3, 1, 1, 30, tzinfo=UTC),
        deadline_at=NOW + timedelta(days=1),
    )
    page = staff.get("/cases").get_data(as_text=True)
    assert f'href="/cases/{case_id}">{CASE_NUMBER_OFFSET + case_id}</a>' in page
    assert "2025-03-01 09:30" in page  # Asia/Shanghai, not UTC
    assert 'class="urgency-urgent">Urgent<' in page
    assert "Public facilities" in page and "A1 / 3号楼" in page and "Li Grid" in page
    assert "…0001" in page and "+8613812340001" not in page
    assert "楼道的灯坏了" in page and "请尽快派人来修理一下，谢谢你们" not in page  # an excerpt


def test_a_known_resident_is_shown_by_name(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        resident = make_resident(name="张阿姨")
        db.session.flush()
        resident_id = resident.id
        db.session.commit()
    add_case(app, resident_id=resident_id)
    page = staff.get("/cases").get_data(as_text=True)
    assert "张阿姨" in page and "…0001" not in page


def test_overdue_cases_are_highlighted(app: Flask, staff: FlaskClient) -> None:
    late = add_case(app, deadline_at=NOW - timedelta(hours=1))
    in_time = add_case(app, deadline_at=NOW + timedelta(hours=1))
    page = staff.get("/cases").get_data(as_text=True)
    rows = re.findall(r'<tr class="([^"]*)">\s*<td><a href="/cases/(\d+)"', page)
    assert {int(case_id): "overdue" in classes.split() for classes, case_id in rows} == {
        late: True,
        in_time: False,
    }


def test_html_in_a_transcript_is_shown_as_text(app: Flask, staff: FlaskClient) -> None:
    add_case(app, '<script>alert("x")</script><b>灯</b>')
    page = staff.get("/cases").get_data(as_text=True)
    assert "<script>alert" not in page and "<b>灯" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;灯" in page


def test_the_inbox_speaks_the_users_language(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("wang", Role.STAFF, language="zh-CN")
    add_case(app, urgency=Urgency.EMERGENCY)
    page = login("wang").get("/cases").get_data(as_text=True)
    assert "诉求收件箱" in page and ">紧急<" in page


def test_signed_out_visitors_are_sent_to_log_in(app: Flask) -> None:
    response = app.test_client().get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---------------------------------------------------------------- filters


def test_open_cases_by_default_and_all_on_request(app: Flask, staff: FlaskClient) -> None:
    open_ids = [add_case(app, status=status) for status in CaseStatus if status.is_open]
    resolved = add_case(app, status=CaseStatus.RESOLVED)
    closed = add_case(app, status=CaseStatus.CLOSED)
    assert sorted(listed(staff.get("/cases"))) == open_ids
    assert sorted(listed(staff.get("/cases?status=all"))) == [*open_ids, resolved, closed]
    assert listed(staff.get("/cases?status=resolved")) == [resolved]


def test_filter_by_category_urgency_grid_and_building(app: Flask, staff: FlaskClient) -> None:
    noise = add_case(app, category="noise", grid="A1", building="1")
    drains = add_case(app, category="drainage", grid="B2", building="7", urgency=Urgency.URGENT)
    assert listed(staff.get("/cases?category=noise")) == [noise]
    assert listed(staff.get("/cases?urgency=urgent")) == [drains]
    assert listed(staff.get("/cases?grid=B2")) == [drains]
    assert listed(staff.get("/cases?building=1")) == [noise]
    assert listed(staff.get("/cases?grid=A1&category=drainage")) == []


def test_filter_by_assignee_mine_and_unassigned(app: Flask, login: Login) -> None:
    with app.app_context():
        me = make_user("me", Role.STAFF, language="en-US")
        other = make_user("other", Role.STAFF)
    mine = add_case(app, assignee_id=me)
    theirs = add_case(app, assignee_id=other)
    nobodys = add_case(app)
    client = login("me")
    assert listed(client.get("/cases?assignee=mine")) == [mine]
    assert listed(client.get("/cases?assignee=unassigned")) == [nobodys]
    assert listed(client.get(f"/cases?assignee={other}")) == [theirs]
    assert sorted(listed(client.get("/cases"))) == [mine, theirs, nobodys]


def test_filter_overdue(app: Flask, staff: FlaskClient) -> None:
    late = add_case(app, deadline_at=NOW - timedelta(minutes=5))
    add_case(app, deadline_at=NOW + timedelta(days=2))
    add_case(app, deadline_at=NOW - timedelta(days=2), status=CaseStatus.RESOLVED)
    assert listed(staff.get("/cases?overdue=1&status=all")) == [late]


def test_filter_by_opening_date_in_the_centres_time_zone(app: Flask, staff: FlaskClient) -> None:
    # 2025-03-01 in Shanghai runs from 2025-02-28 16:00 to 2025-03-01 16:00 UTC.
    before = add_case(app, created_at=datetime(2025, 2, 28, 15, 59, tzinfo=UTC))
    first = add_case(app, created_at=datetime(2025, 2, 28, 16, 0, tzinfo=UTC))
    last = add_case(app, created_at=datetime(2025, 3, 1, 15, 59, tzinfo=UTC))
    after = add_case(app, created_at=datetime(2025, 3, 1, 16, 0, tzinfo=UTC))
    assert listed(staff.get("/cases?from=2025-03-01&to=2025-03-01")) == [first, last]
    assert listed(staff.get("/cases?from=2025-03-02")) == [after]
    assert listed(staff.get("/cases?to=2025-02-28")) == [before]


def test_the_form_keeps_the_chosen_filters(staff: FlaskClient) -> None:
    page = staff.get("/cases?category=noise&overdue=1&q=灯坏&from=2025-03-01").get_data(
        as_text=True
    )
    assert '<option value="noise" selected>' in page
    assert 'name="overdue" value="1" checked' in page
    assert 'value="灯坏"' in page and 'value="2025-03-01"' in page


# ---------------------------------------------------------------- search


def test_search_in_chinese_korean_and_english(app: Flask, staff: FlaskClient) -> None:
    light = add_case(app, "楼道的灯坏了")
    lift = add_case(app, "엘리베이터가 고장났어요", locale="ko-KR")
    leak = add_case(app, "Water is leaking from the ceiling", locale="en-US")
    assert listed(staff.get("/cases?q=灯坏")) == [light]
    assert listed(staff.get("/cases?q=楼道")) == [light]
    assert listed(staff.get("/cases?q=고장")) == [lift]
    assert listed(staff.get("/cases?q=WATER ceiling")) == [leak]
    assert listed(staff.get("/cases?q=漏水")) == []


def test_search_finds_a_notes_text(app: Flask, staff: FlaskClient) -> None:
    case_id = add_case(app, "有人敲门")
    with app.app_context():
        case = db.session.get(Case, case_id)
        user = db.session.scalar(select(User).where(User.username == "staff1"))
        assert case is not None and user is not None
        actions.add_note(case, "已通知派出所", user)
        db.session.commit()
    assert listed(staff.get("/cases?q=派出所")) == [case_id]


def test_search_combines_with_filters(app: Flask, staff: FlaskClient) -> None:
    add_case(app, "楼道的灯坏了", grid="A1")
    in_b2 = add_case(app, "三楼楼道的灯坏了", grid="B2")
    add_case(app, "楼道的灯坏了", grid="B2", status=CaseStatus.CLOSED)
    assert listed(staff.get("/cases?q=灯坏&grid=B2")) == [in_b2]


# ---------------------------------------------------------------- who sees what


def test_a_grid_worker_sees_only_their_grid(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("grid_a", Role.GRID_WORKER, grid="A1", language="en-US")
    own = add_case(app, "楼道的灯坏了", grid="A1")
    add_case(app, "楼道的灯坏了", grid="B2")
    add_case(app, "楼道的灯坏了", grid="")
    client = login("grid_a")
    assert listed(client.get("/cases")) == [own]
    assert listed(client.get("/cases?q=灯坏&status=all")) == [own]
    assert listed(client.get("/cases?grid=B2")) == []


def test_a_department_sees_only_its_cases(app: Flask, login: Login) -> None:
    with app.app_context():
        department = make_user("housing", Role.DEPARTMENT, language="en-US")
    theirs = add_case(app, assignee_id=department)
    add_case(app)
    assert listed(login("housing").get("/cases")) == [theirs]


# ---------------------------------------------------------------- paging


def walk(client: FlaskClient, url: str) -> list[list[int]]:
    pages = []
    while url:
        response = client.get(url)
        pages.append(listed(response))
        url = next_link(response) or ""
        assert len(pages) < 10, "the next links go round in circles"
    return pages


def test_paging_walks_every_case_once_in_order(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        tie = NOW - timedelta(days=2)
        for index in range(120):
            # Forty cases share one opening time: the id must break the tie.
            opened = tie if index % 3 == 0 else NOW - timedelta(minutes=index)
            urgency = (Urgency.NORMAL, Urgency.URGENT, Urgency.EMERGENCY)[index % 4 % 3]
            make_case(created_at=opened, urgency=urgency)
        db.session.commit()
    everything = listed(staff.get("/cases?status=all"))  # the first page, for its order
    pages = walk(staff, "/cases")
    assert [len(page) for page in pages] == [50, 50, 20]
    walked = [case_id for page in pages for case_id in page]
    assert sorted(walked) == list(range(1, 121))
    assert walked[:50] == everything
    with app.app_context():
        cases = {case.id: case for case in db.session.scalars(select(Case))}
        keys = [(cases[i].priority, cases[i].created_at, i) for i in walked]
        assert keys == sorted(keys)


@pytest.mark.parametrize("few_hits", [1000, 1], ids=["few-hits", "many-hits"])
def test_paging_keeps_the_filters_and_search(
    app: Flask, staff: FlaskClient, monkeypatch: pytest.MonkeyPatch, few_hits: int
) -> None:
    """Both ways SQLite may run a search (see cases.search.FEW_HITS) page the same."""
    monkeypatch.setattr(search, "FEW_HITS", few_hits)
    with app.app_context():
        lights = [make_case(grid="A1" if index % 2 else "B2") for index in range(130)]
        drains = [
            make_case(transcript="下水道堵了", machine_transcript="下水道堵了", grid="A1")
            for _ in range(30)
        ]
        db.session.commit()
        lights_in_a1 = {case.id for case in lights if case.grid == "A1"}
        drains_in_a1 = {case.id for case in drains}
    pages = walk(staff, "/cases?q=灯坏&grid=A1")
    assert [len(page) for page in pages] == [50, 15]
    assert {case_id for page in pages for case_id in page} == lights_in_a1
    pages = walk(staff, "/cases?grid=A1")
    assert {case_id for page in pages for case_id in page} == lights_in_a1 | drains_in_a1
    second = staff.get(next_link(staff.get("/cases?grid=A1")) or "").get_data(as_text=True)
    assert 'rel="first" href="/cases?grid=A1"' in second


# ---------------------------------------------------------------- bad parameters


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=lost", "Unknown status"),
        ("category=%3Cb%3E", "Unknown category"),
        ("urgency=9", "Unknown urgency"),
        ("assignee=bob", "Unknown assignee"),
        ("from=yesterday", "is not a date"),
        ("to=2025-02-30", "is not a date"),
        ("after=garbage!!", "page link is damaged"),
        ("after=MXwyMDI1fDM", "page link is damaged"),  # base64 of "1|2025|3"
        ("after=" + cursor("1|2025-01-01T00:00:00+00:00|" + "9" * 30), "page link is damaged"),
        ("after=" + cursor("0|0001-01-01T00:00:00+05:00|1"), "page link is damaged"),
        ("after=" + cursor("0|2025-01-01T00:00:00|١"), "page link is damaged"),
        ("q=%21%3F", "no letters or digits"),
    ],
)
def test_bad_parameters_are_ignored_with_a_message(
    app: Flask, staff: FlaskClient, query: str, message: str
) -> None:
    case_id = add_case(app)
    response = staff.get(f"/cases?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert f'href="/cases/{case_id}"' in page  # the rest of the page still works
    assert "<b>" not in page


def test_control_characters_in_a_filter_are_harmless(app: Flask, staff: FlaskClient) -> None:
    case_id = add_case(app, grid="A1")
    assert listed(staff.get("/cases?grid=A1%00&building=%00&q=%00灯坏")) == [case_id]
