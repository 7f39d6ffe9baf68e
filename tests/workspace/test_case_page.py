"""The case page: what staff see about one case, and every form on it."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from accounts.models import Role, User
from cases.models import (
    Case,
    CaseEvent,
    CaseParticipant,
    CaseStatus,
    FamilyContact,
    Resident,
    TranscriptProblem,
    Urgency,
)
from cases.services import add_event
from hotline.db import db
from tests.workspace.conftest import csrf_token, make_case, make_resident, make_user

Login = Callable[[str], FlaskClient]
OPENED = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # 10:00 at the centre (Asia/Shanghai)
WORDS = [
    {"word": "楼道", "conf": 0.97, "start": 0.4, "end": 0.9},
    {"word": "灯", "conf": 0.42, "start": 1.0, "end": 1.2},
    {"word": "坏了", "conf": 0.88, "start": 1.3, "end": 1.8},
]
ALL_POSTS = {
    "transcript": {"transcript": "changed"},
    "triage": {"category": "noise", "urgency": "urgent"},
    "assign": {"assignee_id": ""},
    "participants": {"user_id": "1"},
    "report": {"report": "done"},
    "status": {"to": "accepted", "note": ""},
    "notes": {"text": "a note"},
    "resident": {"name": "Somebody"},
}


def new_case(app: Flask, **fields: Any) -> int:
    with app.app_context():
        values: dict[str, Any] = {
            "grid": "A1",
            "created_at": OPENED,
            "deadline_at": OPENED + timedelta(days=7),
        }
        values.update(fields)
        case = make_case(**values)
        db.session.commit()
        return case.id


def submit(client: FlaskClient, case_id: int, action: str, **data: str) -> TestResponse:
    """Post one of the case page's forms as the browser would, token included."""
    return client.post(
        f"/cases/{case_id}/{action}", data={**data, "csrf_token": csrf_token(client)}
    )


def submit_and_read(client: FlaskClient, case_id: int, action: str, **data: str) -> str:
    """Post a form, check it comes back to the case page, and return that page."""
    response = submit(client, case_id, action, **data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{case_id}")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def flashed_errors(page: str) -> list[str]:
    return re.findall(r'<p class="flash error" role="status">(.*?)</p>', page, re.S)


def load(app: Flask, case_id: int) -> Case:
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        db.session.expunge(case)
        return case


def event_count(app: Flask, case_id: int) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case_id)
        )
        return int(count or 0)


# -- what the page shows -----------------------------------------------------------------


def test_page_marks_the_words_the_recogniser_was_unsure_of(app: Flask, staff: FlaskClient) -> None:
    case_id = new_case(app, transcript_words=WORDS, machine_transcript="楼道 灯 坏了")
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    [low] = re.findall(r'<mark class="low-confidence[^"]*"[^>]*>([^<]*)</mark>', page)
    assert low == "灯"
    assert re.search(r'<mark[^>]*title="confidence 0.42"[^>]*data-start="1.0"', page)
    assert f"Case {10000 + case_id}" in page
    assert 'id="recording"' not in page  # no file yet: no player that cannot play
    assert "There is no recording file for this case yet." in page


def test_page_shows_the_caller_resident_family_and_place(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        resident = make_resident(
            name="张阿姨", address="幸福路 3 号", building="3", grid="A1", do_not_call=True
        )
        resident.family_contacts.append(
            FamilyContact(name="张小明", phone="+8613900000077", relation="son")
        )
        db.session.commit()
        resident_id = resident.id
    case_id = new_case(app, resident_id=resident_id, building="3")
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "+8613800000001" in page  # the full number, on this page only
    assert "张阿姨" in page and "幸福路 3 号" in page
    assert "张小明" in page and "+8613900000077" in page and "son" in page
    assert "Do not call this resident." in page
    assert "Grid: A1 · Building: 3" in page


def test_transcription_error_is_shown_prominently(app: Flask, staff: FlaskClient) -> None:
    case_id = new_case(
        app,
        error="No speech recognised: listen to the recording.",
        problem=TranscriptProblem.NO_SPEECH,
        transcript="",
    )
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert re.search(
        r'<p class="case-error"[^>]*role="alert">.*No speech was recognised in the recording: '
        r"please listen to it.",
        page,
    )


def test_a_missing_speech_model_is_a_plain_sentence_for_staff_not_install_instructions(
    app: Flask, login: Login
) -> None:
    """What to install is for operators (the log); staff read what they can do meanwhile."""
    hint = "Install one with 'hotline speech install vosk-model-small-cn-0.22 --locale zh-CN'."
    case_id = new_case(app, error=hint, problem=TranscriptProblem.NO_MODEL)
    with app.app_context():
        make_user("li", Role.STAFF, language="zh-CN")
    page = login("li").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "暂时不能自动转写这种语言的录音" in page and "请先收听录音" in page
    assert "install" not in page and "vosk" not in page


def test_overdue_case_is_highlighted_until_it_is_resolved(app: Flask, staff: FlaskClient) -> None:
    overdue_id = new_case(app)  # opened in January 2026 with a week to go: long past
    resolved_id = new_case(app, status=CaseStatus.RESOLVED, resolution_note="fixed")
    upcoming_id = new_case(app, deadline_at=datetime.now(UTC) + timedelta(days=3))
    assert 'id="overdue"' in staff.get(f"/cases/{overdue_id}").get_data(as_text=True)
    assert 'id="overdue"' not in staff.get(f"/cases/{resolved_id}").get_data(as_text=True)
    assert 'id="overdue"' not in staff.get(f"/cases/{upcoming_id}").get_data(as_text=True)


def test_timeline_tells_what_happened_in_the_centres_time(app: Flask, staff: FlaskClient) -> None:
    case_id = new_case(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case is not None
        moment = datetime(2026, 1, 5, 3, 30, tzinfo=UTC)
        for event in (
            add_event(case, "case_opened", source="voicemail"),
            add_event(case, "status_changed", "Li", **{"from": "new", "to": "accepted"}),
            add_event(case, "assigned", "routing", to="Water Dept", to_user_id=9, rule_id=1),
            add_event(case, "triage_changed", "Li", urgency="urgent"),
            add_event(case, "survey_postponed", reason="<b>night</b>"),
        ):
            event.created_at = moment
        db.session.commit()
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"') :]
    assert "2026-01-05 11:30" in timeline  # 03:30 UTC is 11:30 in Asia/Shanghai
    assert "opened the case (by voicemail)" in timeline
    assert "changed the status from New to Accepted" in timeline
    assert "Routing rules" in timeline and "assigned the case to Water Dept" in timeline
    assert "changed the urgency to Urgent" in timeline
    # A kind this page does not know is still shown, with its details escaped.
    assert "recorded “survey_postponed”" in timeline
    assert "reason: &lt;b&gt;night&lt;/b&gt;" in timeline


def test_a_chinese_speaking_user_reads_the_page_in_chinese(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("li", Role.STAFF, language="zh-CN")
    case_id = new_case(app)
    page = login("li").get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"诉求 {10000 + case_id}" in page
    assert "保存文字记录" in page and "分派给" in page and "添加备注" in page


# -- transcript, triage ------------------------------------------------------------------


def test_editing_keeps_the_machine_transcript_and_lists_every_edit(
    app: Flask, staff: FlaskClient, login: Login
) -> None:
    case_id = new_case(app, transcript_words=WORDS, machine_transcript="楼道 灯 坏了")
    with app.app_context():
        make_user("gw", Role.GRID_WORKER, grid="A1", display_name="Zhao Grid", language="en-US")
    submit(staff, case_id, "transcript", transcript="楼道的灯坏了三天")
    page = submit_and_read(login("gw"), case_id, "transcript", transcript="楼道的灯\r\n坏了三天了")
    assert "Transcript saved." in page
    case = load(app, case_id)
    assert case.machine_transcript == "楼道 灯 坏了"
    assert case.transcript == "楼道的灯\n坏了三天了"
    edits = page[page.index('id="transcript-edits"') :]
    assert edits.index("Wang Staff") < edits.index("Zhao Grid")
    assert "楼道的灯坏了三天" in edits
    assert '<p class="machine-words" id="machine-transcript"' in page  # still visible
    assert "transcript-form" in page


def test_setting_the_urgency_moves_the_deadline(app: Flask, staff: FlaskClient) -> None:
    case_id = new_case(app)
    page = submit_and_read(staff, case_id, "triage", category="drainage", urgency="emergency")
    assert "Category and urgency saved." in page
    case = load(app, case_id)
    assert (case.category, case.urgency) == ("drainage", Urgency.EMERGENCY)
    assert case.deadline_at == OPENED + timedelta(hours=2)
    deadline = re.search(r'id="case-deadline">([^<]*)', page)
    assert deadline and "2026-01-05 12:00" in deadline.group(1)  # 10:00 + 2 h, centre time
    assert "Drains and water" in page


def test_unknown_category_is_refused_and_nothing_changes(app: Flask, staff: FlaskClient) -> None:
    case_id = new_case(app)
    page = submit_and_read(staff, case_id, "triage", category="bribes", urgency="emergency")
    assert flashed_errors(page) == ["unknown category &#39;bribes&#39;"]
    case = load(app, case_id)
    assert (case.category, case.urgency) == ("other", Urgency.NORMAL)


# -- routing and lifecycle ---------------------------------------------------------------


def test_assign_then_resolve_with_a_note(app: Flask, staff: FlaskClient) -> None:
    case_id = new_case(app)
    with app.app_context():
        water = make_user("water", Role.DEPARTMENT, display_name="Water Dept", department="Water")
    page = submit_and_read(staff, case_id, "assign", assignee_id=str(water))
    assert "Assignment saved." in page
    case = load(app, case_id)
    assert (case.assignee_id, case.status) == (water, CaseStatus.ACCEPTED)
    assert "Resolution note" in page and ">Resolve</button>" in page

    before = event_count(app, case_id)
    page = submit_and_read(staff, case_id, "status", to="resolved", note="  ")
    assert flashed_errors(page) == [
        "a resolution note is needed to resolve a case: say what was done"
    ]
    assert load(app, case_id).status == CaseStatus.ACCEPTED
    assert event_count(app, case_id) == before

    page = submit_and_read(staff, case_id, "status", to="resolved", note="Pipe cleared.")
    case = load(app, case_id)
    assert (case.status, case.resolution_note) == (CaseStatus.RESOLVED, "Pipe cleared.")
    assert "Status changed." in page and "Pipe cleared." in page
    # Only the transitions allowed now are offered: reopen; closing waits for the resident's
    # answer (不满意不销账), which staff are told.
    buttons = re.findall(r'<button type="submit" name="to" value="(\w+)"', page)
    assert buttons == ["reopened"]
    assert "only a supervisor may close it" in page


def test_unassigning_and_bad_assignees(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        gone = make_user("gone", Role.STAFF)
        retired_id = make_user("off", Role.STAFF, display_name="Retired One")
        retired = db.session.get(User, retired_id)
        assert retired is not None
        retired.active = False
        db.session.commit()
    case_id = new_case(app, assignee_id=gone, status=CaseStatus.ACCEPTED)
    for value, message in (
        ("abc", "“abc” is not a number."),
        ("99999999999", "“99999999999” is not a number."),
        ("424242", "There is no such user."),
        (str(retired_id), "Retired One has no active account"),
    ):
        page = submit_and_read(staff, case_id, "assign", assignee_id=value)
        assert flashed_errors(page) == [message]
        assert load(app, case_id).assignee_id == gone
    page = submit_and_read(staff, case_id, "assign", assignee_id="")
    assert load(app, case_id).assignee_id is None
    assert "left the case unassigned" in page


def _assign_options(page: str) -> list[str]:
    form = page[page.index('id="assignee"') : page.index("</select>", page.index('id="assignee"'))]
    return re.findall(r"<option value=\"\d+\"[^>]*>([^<·]+?) ·", form)


def test_only_people_who_can_see_the_case_are_offered_or_accepted(
    app: Flask, staff: FlaskClient, login: Login
) -> None:
    with app.app_context():
        make_user("grid_a", Role.GRID_WORKER, grid="A1", display_name="Sun A1")
        other_grid = make_user("grid_b", Role.GRID_WORKER, grid="B2", display_name="Zhou B2")
        make_user("water", Role.DEPARTMENT, display_name="Water Dept", department="Water")
    case_id = new_case(app, grid="A1")
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert sorted(_assign_options(page)) == ["Sun A1", "Wang Staff", "Water Dept"]

    page = submit_and_read(staff, case_id, "assign", assignee_id=str(other_grid))
    assert [html.unescape(error) for error in flashed_errors(page)] == [
        "Zhou B2 cannot open this case (a grid worker sees only their own grid's cases): "
        "choose someone who can"
    ]
    assert load(app, case_id).assignee_id is None
    assert login("grid_b").get(f"/cases/{case_id}").status_code == 404


def test_an_invalid_transition_is_refused_and_nothing_changes(
    app: Flask, staff: FlaskClient
) -> None:
    case_id = new_case(app)
    before = event_count(app, case_id)
    page = submit_and_read(staff, case_id, "status", to="closed", note="")
    [message] = flashed_errors(page)
    assert "is new; it can go to: accepted, not closed" in message
    assert load(app, case_id).status == CaseStatus.NEW
    assert event_count(app, case_id) == before
    assert re.findall(r'name="to" value="(\w+)"', page) == ["accepted"]


def test_a_joint_case_department_reports_on_its_part(
    app: Flask, staff: FlaskClient, login: Login
) -> None:
    with app.app_context():
        housing = make_user("housing", Role.DEPARTMENT, display_name="Housing Office")
        make_user("police", Role.DEPARTMENT, display_name="Police Station", language="en-US")
    case_id = new_case(app, assignee_id=housing, status=CaseStatus.ACCEPTED)
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    police_id = re.search(r'<option value="(\d+)">Police Station', page)
    assert police_id, "the department is offered"
    page = submit_and_read(staff, case_id, "participants", user_id=police_id.group(1))
    assert "Department added." in page and "Has not reported yet." in page

    police = login("police")
    own_page = police.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "report-form" in own_page and "assign-form" not in own_page
    page = submit_and_read(police, case_id, "report", report="Spoke to the shop owner.")
    assert "Report saved." in page
    with app.app_context():
        part = db.session.scalar(select(CaseParticipant).where(CaseParticipant.case_id == case_id))
        assert part is not None and part.report == "Spoke to the shop owner."
    staff_page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    participants = staff_page[staff_page.index('id="participants"') :]
    assert "Police Station" in participants and "Spoke to the shop owner." in participants
    assert "reported on their part" in staff_page


def test_a_taking_part_department_may_not_change_the_case(app: Flask, login: Login) -> None:
    with app.app_context():
        housing = make_user("housing", Role.DEPARTMENT)
        police = make_user("police", Role.DEPARTMENT)
        make_user("other", Role.DEPARTMENT)
    case_id = new_case(app, assignee_id=housing, status=CaseStatus.ACCEPTED)
    with app.app_context():
        db.session.add(CaseParticipant(case_id=case_id, user_id=police))
        db.session.commit()
    client = login("police")
    before = event_count(app, case_id)
    for action, data in ALL_POSTS.items():
        if action == "report":
            continue
        assert submit(client, case_id, action, **data).status_code == 403, action
    assert event_count(app, case_id) == before
    case = load(app, case_id)
    assert (case.status, case.transcript, case.assignee_id) == (
        CaseStatus.ACCEPTED,
        "楼道灯坏了",
        housing,
    )
    # A department neither assigned nor taking part is not told the case exists.
    assert login("other").get(f"/cases/{case_id}").status_code == 404


def test_a_department_not_taking_part_cannot_report(app: Flask, staff: FlaskClient) -> None:
    case_id = new_case(app)
    page = submit_and_read(staff, case_id, "report", report="I was not asked")
    assert flashed_errors(page) == ["only a department taking part in this case can report on it"]


# -- residents ---------------------------------------------------------------------------


def test_link_the_resident_whose_number_called(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        resident = make_resident(name="王大爷", grid="A1", building="7")
        db.session.commit()
        resident_id = resident.id
    case_id = new_case(app, grid="")
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "A resident with the caller&#39;s number is on record:" in page
    assert "resident-create-form" not in page  # the number has a record already
    page = submit_and_read(staff, case_id, "resident", resident_id=str(resident_id))
    assert "Case linked to the resident." in page
    case = load(app, case_id)
    assert (case.resident_id, case.grid, case.building) == (resident_id, "A1", "7")
    assert "linked the case to resident 王大爷" in page


def test_search_and_link_another_resident(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        make_resident(phone="+8613700000002", name="刘奶奶", grid="A2")
        make_resident(phone="+8613700000003", name="陈先生", grid="A2")
        db.session.commit()
    case_id = new_case(app)
    page = staff.get(f"/cases/{case_id}", query_string={"resident_q": "刘"})
    text = page.get_data(as_text=True)
    matches = text[text.index('id="resident-matches"') :]
    assert "刘奶奶" in matches and "陈先生" not in matches
    assert "…0002" in matches and "+8613700000002" not in matches
    found = re.search(r'name="resident_id" value="(\d+)">\s*刘奶奶', matches)
    assert found
    submit_and_read(staff, case_id, "resident", resident_id=found.group(1))
    assert load(app, case_id).resident_id == int(found.group(1))
    missing = staff.get(f"/cases/{case_id}", query_string={"resident_q": "%"})
    assert "No resident matches “%”." in missing.get_data(as_text=True)


def test_grid_worker_cannot_link_a_resident_of_another_grid(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("gw", Role.GRID_WORKER, grid="A1", language="en-US")
        elsewhere = make_resident(phone="+8613700000009", name="Far Away", grid="Z9")
        db.session.commit()
        elsewhere_id = elsewhere.id
    case_id = new_case(app)
    client = login("gw")
    search = client.get(f"/cases/{case_id}", query_string={"resident_q": "Far"})
    assert "Far Away" not in search.get_data(as_text=True)
    page = submit_and_read(client, case_id, "resident", resident_id=str(elsewhere_id))
    assert flashed_errors(page) == ["There is no such resident that you may link."]
    assert load(app, case_id).resident_id is None


def test_create_a_resident_from_the_call(app: Flask, staff: FlaskClient) -> None:
    case_id = new_case(app, building="5")
    page = submit_and_read(
        staff, case_id, "resident", name="李奶奶", address="和平里 5 号楼", building="5", grid="A1"
    )
    assert "Resident created and linked to the case." in page
    with app.app_context():
        resident = db.session.scalar(select(Resident).where(Resident.phone == "+8613800000001"))
        assert resident is not None
        assert (resident.name, resident.address, resident.grid) == ("李奶奶", "和平里 5 号楼", "A1")
        assert load(app, case_id).resident_id == resident.id
    again = submit_and_read(staff, case_id, "resident", name="李奶奶")
    assert flashed_errors(again) == [
        "a resident with this number exists already: link the case to them"
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count(Resident.id))) == 1


def test_create_a_resident_needs_a_name(app: Flask, staff: FlaskClient) -> None:
    case_id = new_case(app)
    page = submit_and_read(staff, case_id, "resident", name=" ", address="somewhere")
    assert flashed_errors(page) == ["the name is empty"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Resident.id))) == 0


# -- notes and escaping ------------------------------------------------------------------


def test_notes_and_transcripts_are_shown_escaped(app: Flask, staff: FlaskClient) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    case_id = new_case(app, machine_transcript=attack)
    submit(staff, case_id, "notes", text=attack)
    page = submit_and_read(staff, case_id, "transcript", transcript=attack)
    assert "Transcript saved." in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert") >= 4  # machine text, textarea, edit, note
    assert "added a note" in page


def test_an_oversized_note_is_refused(app: Flask, staff: FlaskClient) -> None:
    case_id = new_case(app)
    before = event_count(app, case_id)
    page = submit_and_read(staff, case_id, "notes", text="x" * 4001)
    assert flashed_errors(page) == ["the note is too long: 4001 characters, at most 4000"]
    assert event_count(app, case_id) == before
    page = submit_and_read(staff, case_id, "notes", text="Called back, no answer.")
    assert "Note added." in page and "Called back, no answer." in page


# -- who may do what ---------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "forged-token"])
def test_forms_without_a_valid_csrf_token_change_nothing(
    app: Flask, staff: FlaskClient, token: str
) -> None:
    case_id = new_case(app)
    before = event_count(app, case_id)
    for action, data in ALL_POSTS.items():
        response = staff.post(f"/cases/{case_id}/{action}", data={**data, "csrf_token": token})
        assert response.status_code == 400, action
    assert event_count(app, case_id) == before
    case = load(app, case_id)
    assert (case.transcript, case.status, case.category) == ("楼道灯坏了", CaseStatus.NEW, "other")


def test_a_grid_worker_of_another_grid_is_not_told_the_case_exists(
    app: Flask, login: Login
) -> None:
    with app.app_context():
        make_user("gw_b", Role.GRID_WORKER, grid="B2")
    case_id = new_case(app)
    client = login("gw_b")
    assert client.get(f"/cases/{case_id}").status_code == 404
    assert client.get(f"/cases/{case_id}/recording").status_code == 404
    for action, data in ALL_POSTS.items():
        assert submit(client, case_id, action, **data).status_code == 404, action
    assert load(app, case_id).transcript == "楼道灯坏了"
    assert client.get("/cases/987654").status_code == 404


def test_a_grid_worker_works_on_the_cases_of_their_grid(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("gw_a", Role.GRID_WORKER, grid="A1", language="en-US")
    case_id = new_case(app)
    client = login("gw_a")
    page = submit_and_read(client, case_id, "notes", text="Visited the building.")
    assert "Note added." in page and "Visited the building." in page


def test_anonymous_visitors_are_sent_to_log_in(app: Flask) -> None:
    case_id = new_case(app)
    client = app.test_client()
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/recording"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_timeline_tells_the_follow_ups_in_words(app: Flask, staff: FlaskClient) -> None:
    """Survey calls, texts and visits read as sentences, not as raw event data."""
    with app.app_context():
        case = make_case()
        db.session.flush()
        add_event(case, "survey_call_placed", follow_up=1, attempt=2, call_sid="CA1")
        add_event(
            case,
            "survey_call_outcome",
            outcome="no-answer",
            next="retry",
            retry_at="2026-01-05T03:30:00+00:00",
        )
        add_event(case, "survey_answered", "resident", answer="not_satisfied", channel="sms")
        add_event(case, "sms_received", "resident", text="灯还是不亮 <b>")
        add_event(case, "visit_task", follow_up=3)
        db.session.commit()
        case_id = case.id
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "placed the survey call (attempt 2)" in page
    assert "survey call ended: nobody answered; will call again at" in page
    assert "answered the survey: Not satisfied (by text)" in page
    assert "灯还是不亮 &lt;b&gt;" in page
    assert "asked the grid worker for a home visit" in page
    assert "recorded “" not in page  # no event fell through to the generic sentence


def test_a_chinese_timeline_has_no_raw_codes_or_ids(app: Flask, login: Login) -> None:
    """Reasons, purposes and outcomes read as Chinese sentences; SIDs and ids stay hidden."""
    with app.app_context():
        make_user("li", Role.STAFF, language="zh-CN")
        case = make_case()
        db.session.flush()
        add_event(case, "escalated", reason="not_satisfied")
        add_event(case, "escalated", deadline="2026-01-05T03:30:00+00:00", overdue_minutes=42)
        sid = "SM" + "f" * 32
        add_event(case, "sms_sent", purpose="family_family_resolved_sms", message_sid=sid)
        add_event(case, "sms_suppressed", purpose="progress", reason="opted_out")
        add_event(case, "sms_failed", purpose="staff_visit", message_sid=None, error="HTTP 400")
        add_event(case, "follow_up_cancelled", reason="case_reopened", count=1)
        add_event(
            case,
            "follow_up_cancelled",
            follow_up=7,
            follow_up_kind="survey_call",
            outcome="do_not_call",
            instead="survey_sms",
        )
        add_event(case, "progress_update", follow_up=8, follow_up_kind="progress", outcome="texted")
        add_event(case, "progress_call_outcome", outcome="busy", next="visit", follow_up=9)
        add_event(case, "location_changed", "li", grid="B2", from_grid="A1")
        db.session.commit()
        case_id = case.id
    page = login("li").get(f"/cases/{case_id}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"') :]
    assert "升级督办了诉求：居民不满意" in timeline
    assert "已超过办结时限 42 分钟" in timeline
    assert "用短信发送了给家属的办结通知" in timeline
    assert "未发送进度告知：该号码已退订短信" in timeline
    assert "给工作人员的上门回访任务发送失败" in timeline
    assert "取消了满意度回访：诉求已重启" in timeline
    assert "取消了满意度回访电话：居民要求不要来电；改为短信满意度调查" in timeline
    assert "用短信向居民告知了办理进度" in timeline
    assert "进度告知电话结束：占线；改为上门回访" in timeline
    assert "修改了问题地点：网格改为B2" in timeline
    shown = " ".join(re.findall(r'<(?:span class="sentence"|p class="written")>(.*?)<', timeline))
    for raw in ("not_satisfied", "SM", "purpose", "message_sid", "follow_up", "opted_out", "7"):
        assert raw not in shown, raw
    assert "记录了“" not in timeline  # every event has its own sentence
