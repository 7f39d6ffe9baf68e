"""The case page's "Contact the resident": a text through the outbox in the resident's language,
and a call made to them; the timeline says what was said, never the number."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accounts.models import Role, User
from cases.models import Case, CaseEvent, CaseParticipant, CaseStatus
from hotline.clock import CLOCK_KEY
from hotline.db import db
from outreach.models import OutboundMessage, OutboundStatus, SmsOptOut
from tests.workspace.conftest import csrf_token, make_case, make_resident, make_user
from tests.workspace.test_dashboard import table

Login = Callable[[str], FlaskClient]
PHONE = "+8613800000001"
TUESDAY_10 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: calling hours
TUESDAY_22 = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 22:00: outside them
WEDNESDAY_08 = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)


@pytest.fixture
def people(app: Flask) -> None:
    app.extensions[CLOCK_KEY] = lambda: TUESDAY_10
    with app.app_context():
        make_user("li", Role.STAFF, display_name="Li Staff", language="en-US")
        make_user("zhao", Role.GRID_WORKER, grid="A1", display_name="Zhao", language="en-US")
        make_user("qian", Role.GRID_WORKER, grid="B2", language="en-US")
        make_user("water", Role.DEPARTMENT, department="Water company", language="en-US")


def a_case(app: Flask, *, resident: dict[str, Any] | None = None, **fields: Any) -> int:
    """A case in grid A1 from PHONE, with a resident record unless `resident` is {}."""
    with app.app_context():
        record = None
        if resident != {}:
            values = {"phone": PHONE, "name": "김영희", "grid": "A1", "language": "ko-KR"}
            record = make_resident(**(values | (resident or {})))
        case = make_case(grid="A1", resident=record, **fields)
        db.session.commit()
        return case.id


def post(client: FlaskClient, path: str, **form: str) -> str:
    """Post a case page form as the browser would; the page it comes back to."""
    case_page = path.rsplit("/", 1)[0]
    data = {"csrf_token": csrf_token(client, case_page), **form}
    response = client.post(path, data=data)
    assert response.status_code == 303, response.status_code
    assert response.headers["Location"].endswith("#contact")
    return client.get(response.headers["Location"]).get_data(as_text=True)


def timeline(page: str) -> str:
    start = page.index('id="timeline"')
    return re.sub(r"\s+", " ", page[start : page.index("</ol>", start)])


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash (?:error|success)" role="status">(.*?)</p>', page)


def texts(app: Flask, case_id: int) -> list[OutboundMessage]:
    with app.app_context():
        rows = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.case_id == case_id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def kinds(app: Flask, case_id: int) -> list[str]:
    with app.app_context():
        query = select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        return list(db.session.scalars(query))


def status(app: Flask, case_id: int) -> CaseStatus:
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        return case.status


# ---- a text ------------------------------------------------------------------------------------


def test_staff_text_the_resident_in_their_language(app: Flask, people: None, login: Login) -> None:
    case_id = a_case(app)
    client = login("li")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="text-form"' in page and "To 김영희, in Korean" in page
    assert "“주민센터 민원 전화(민원 10001):”" in page  # how the resident's text begins
    words = "내일 오전 9시에 기사님이 전등을 고치러 갑니다."
    shown = post(client, f"/cases/{case_id}/texts", text=words)
    assert flashes(shown) == ["Text queued for the resident of case 10001."]
    [sent] = texts(app, case_id)
    assert (sent.to_phone, sent.purpose, sent.status) == (PHONE, "staff_text", "sending")
    assert sent.body == f"주민센터 민원 전화(민원 10001): {words}"
    line = timeline(shown)
    assert "Li Staff" in line and "texted the resident (in Korean):" in line and words in line
    assert "13800000001" not in line  # the number is in the caller section, not the timeline


def test_outside_calling_hours_the_text_waits_for_them(
    app: Flask, people: None, login: Login
) -> None:
    app.extensions[CLOCK_KEY] = lambda: TUESDAY_22
    case_id = a_case(app, resident={"language": "zh-CN", "name": "张阿姨"})
    shown = post(login("li"), f"/cases/{case_id}/texts", text="师傅明天上午来修灯。")
    assert flashes(shown) == ["Text written: it goes 2026-03-04 08:00, in calling hours."]
    [waiting] = texts(app, case_id)
    assert waiting.status == OutboundStatus.QUEUED and waiting.due_at == WEDNESDAY_08
    assert waiting.body == "社区服务热线（事项10001）：师傅明天上午来修灯。"
    assert "it goes 2026-03-04 08:00, in calling hours:" in timeline(shown)


@pytest.mark.parametrize(
    ("words", "refusal"),
    [
        ("   ", "the text message is empty"),
        (
            "楼" * 150,
            "The text is too long for two text messages: 150 characters, at most 118 here. "
            "Nothing was sent.",
        ),
        ("x" * 1001, "the text message is too long: 1001 characters, at most 1000"),
    ],
)
def test_an_empty_or_too_long_text_is_refused_and_kept_to_shorten(
    app: Flask, people: None, login: Login, words: str, refusal: str
) -> None:
    case_id = a_case(app, resident={"language": "zh-CN", "name": "张阿姨"})
    before = kinds(app, case_id)
    shown = post(login("li"), f"/cases/{case_id}/texts", text=words)
    assert flashes(shown) == [refusal]
    assert texts(app, case_id) == [] and kinds(app, case_id) == before
    if words.strip():
        assert f">{words[:1000]}</textarea>" in shown  # given back, to shorten
    assert f">{words[:1000]}</textarea>" not in login("li").get(f"/cases/{case_id}").text


def test_what_fits_depends_on_the_words(app: Flask, people: None, login: Login) -> None:
    """An English resident's text holds 306 GSM-7 characters, heading included; one Chinese
    letter makes the whole text UCS-2, which holds 134."""
    case_id = a_case(app, resident={"language": "en-US", "name": "Mrs Smith"})
    client = login("li")
    assert "about 275 characters" in client.get(f"/cases/{case_id}").text
    shown = post(client, f"/cases/{case_id}/texts", text="a" * 276)
    assert "276 characters, at most 275 here" in flashes(shown)[0]
    shown = post(client, f"/cases/{case_id}/texts", text="a" * 275)
    assert flashes(shown) == ["Text queued for the resident of case 10001."]
    shown = post(client, f"/cases/{case_id}/texts", text="a" * 120 + "楼")
    assert "121 characters, at most 103 here" in flashes(shown)[0]
    assert len(texts(app, case_id)) == 1


@pytest.mark.parametrize(
    ("how", "refusal", "warning"),
    [
        (
            "no phone",
            "Case 10001 has no phone number to text: link the resident first. Nothing was sent.",
            "There is no phone number on this case to text or call: link the resident first.",
        ),
        (
            "STOP",
            "This number texted STOP: no text goes to it until it texts START. Nothing was "
            "sent; call instead.",
            "This number texted STOP: no text goes to it until it texts START. Call instead.",
        ),
        (
            "marked",
            "The resident&#39;s record says “No text messages”. Nothing was sent; call instead.",
            "The resident&#39;s record says “No text messages”. Call instead.",
        ),
    ],
)
def test_no_text_without_a_number_or_to_a_number_that_opted_out(
    app: Flask, people: None, login: Login, how: str, refusal: str, warning: str
) -> None:
    if how == "no phone":
        case_id = a_case(app, resident={}, phone="")
    else:
        case_id = a_case(app, resident={"sms_opt_out": how == "marked"})
    if how == "STOP":
        with app.app_context():
            db.session.add(SmsOptOut(phone=PHONE))
            db.session.commit()
    client = login("li")
    page = client.get(f"/cases/{case_id}").text
    assert warning in page and 'id="text-form"' not in page  # said before anyone types
    before = kinds(app, case_id)
    shown = post(client, f"/cases/{case_id}/texts", text="师傅明天上午来修灯。")
    assert flashes(shown) == [refusal]
    assert texts(app, case_id) == [] and kinds(app, case_id) == before


def test_only_who_may_change_the_case_contacts_the_resident(
    app: Flask, people: None, login: Login
) -> None:
    case_id = a_case(app)
    with app.app_context():
        water = db.session.scalar(select(User.id).where(User.username == "water"))
        assert water is not None
        db.session.add(CaseParticipant(case_id=case_id, user_id=water))  # sees, may not change
        db.session.commit()
    zhao, qian, water_client = login("zhao"), login("qian"), login("water")
    assert 'id="contact"' not in water_client.get(f"/cases/{case_id}").text
    form = {"csrf_token": csrf_token(water_client, "/cases"), "text": "x", "outcome": "answered"}
    assert water_client.post(f"/cases/{case_id}/texts", data=form).status_code == 403
    assert water_client.post(f"/cases/{case_id}/calls", data=form).status_code == 403
    form["csrf_token"] = csrf_token(qian, "/cases")
    assert qian.post(f"/cases/{case_id}/texts", data=form).status_code == 404  # another grid
    assert qian.post(f"/cases/{case_id}/calls", data=form).status_code == 404
    assert texts(app, case_id) == [] and "resident_called" not in kinds(app, case_id)
    shown = post(zhao, f"/cases/{case_id}/texts", text="내일 갑니다.")  # the grid's worker
    assert flashes(shown) == ["Text queued for the resident of case 10001."]


# ---- a call ------------------------------------------------------------------------------------


def test_an_answered_call_takes_up_a_new_case(app: Flask, people: None, login: Login) -> None:
    case_id = a_case(app)
    client = login("zhao")
    page = client.get(f"/cases/{case_id}").text
    assert 'id="call-form"' in page and page.index('id="call-form"') < page.index("notes-heading")
    shown = post(client, f"/cases/{case_id}/calls", outcome="answered", note="明天上午去看")
    assert flashes(shown) == [
        "Call recorded. Case 10001 is accepted: the resident has had a first response."
    ]
    assert status(app, case_id) == CaseStatus.ACCEPTED
    line = timeline(shown)
    assert "called the resident: answered" in line and "明天上午去看" in line
    assert "from New to Accepted: staff talked to the resident on the phone" in line
    assert "13800000001" not in line


@pytest.mark.parametrize(
    ("outcome", "flash", "words"),
    [
        ("no_answer", "Call recorded.", "called the resident: no answer"),
        (
            "wrong_number",
            "Call recorded: wrong number. Check the number on the resident&#39;s record.",
            "called the resident: wrong number",
        ),
    ],
)
def test_a_call_that_reached_nobody_leaves_the_case_new(
    app: Flask, people: None, login: Login, outcome: str, flash: str, words: str
) -> None:
    case_id = a_case(app)
    shown = post(login("li"), f"/cases/{case_id}/calls", outcome=outcome)
    assert flashes(shown) == [flash]
    assert words in timeline(shown) and status(app, case_id) == CaseStatus.NEW


@pytest.mark.parametrize(
    ("form", "refusal"),
    [
        ({}, "Choose what came of the call: answered, no answer, wrong number."),
        ({"outcome": "busy"}, "Choose what came of the call: answered, no answer, wrong number."),
        (
            {"outcome": "answered", "note": "x" * 4001},
            "the note is too long: 4001 characters, at most 4000",
        ),
    ],
)
def test_a_bad_call_record_is_refused_and_nothing_changes(
    app: Flask, people: None, login: Login, form: dict[str, str], refusal: str
) -> None:
    case_id = a_case(app)
    before = kinds(app, case_id)
    shown = post(login("li"), f"/cases/{case_id}/calls", **form)
    assert flashes(shown) == [refusal]
    assert kinds(app, case_id) == before and status(app, case_id) == CaseStatus.NEW


def test_no_call_to_record_without_a_number(app: Flask, people: None, login: Login) -> None:
    case_id = a_case(app, resident={}, phone="")
    client = login("li")
    assert 'id="call-form"' not in client.get(f"/cases/{case_id}").text
    shown = post(client, f"/cases/{case_id}/calls", outcome="answered")
    assert flashes(shown) == [
        "Case 10001 has no phone number: link the resident first. Nothing was recorded."
    ]
    assert status(app, case_id) == CaseStatus.NEW and "resident_called" not in kinds(app, case_id)


def test_the_dashboard_counts_an_answered_call_as_the_response(
    app: Flask, people: None, login: Login
) -> None:
    """Real time here: the timeline's moments are the database's, as the dashboard reads them."""
    del app.extensions[CLOCK_KEY]
    moment = datetime.now(UTC)
    called = a_case(app, created_at=moment - timedelta(hours=2))
    unanswered = a_case(
        app, created_at=moment - timedelta(hours=2), phone="+8613800000002", resident={}
    )
    waited = a_case(
        app, created_at=moment - timedelta(hours=30), phone="+8613800000003", resident={}
    )
    client = login("li")
    post(client, f"/cases/{called}/calls", outcome="answered")
    post(client, f"/cases/{unanswered}/calls", outcome="no_answer")
    assert [status(app, case) for case in (called, unanswered, waited)] == [
        CaseStatus.ACCEPTED,
        CaseStatus.NEW,
        CaseStatus.NEW,
    ]
    start = (moment - timedelta(days=3)).date().isoformat()
    end = (moment + timedelta(days=1)).date().isoformat()
    page = client.get(f"/dashboard?start={start}&end={end}").text
    # Cases, reporters, then the response rate: the answered call within 24 h of one case
    # that had 24 h; the unanswered one has not had them yet, so it counts on neither side.
    assert table(page, "rates-table")["A1"][:3] == ["3", "3", "50.0% (1/2)"]
