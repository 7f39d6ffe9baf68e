"""The call-back page: calls whose message held no speech, worked by staff, urgent first."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role
from cases.models import CallBack, CallBackReason, CallBackStatus
from hotline.db import db, utcnow
from tests.workspace.conftest import csrf_token, make_call_back, make_resident, make_user

Login = Callable[[str], FlaskClient]
AUDIO = b"RIFF" + bytes(range(256)) * 8


def seed(app: Flask) -> dict[str, int]:
    """A stranger who called first, then a resident of grid A1, then one of grid B2."""
    with app.app_context():
        a1 = make_resident(phone="+8613800000001", name="王秀英", grid="A1")
        b2 = make_resident(phone="+8613800000002", name="李大爷", grid="B2")
        earlier = utcnow() - timedelta(hours=2)
        stranger = make_call_back("+8613900000077", None, CallBackReason.NOISE, earlier)
        resident = make_call_back("+8613800000001", a1, audio=AUDIO)
        other_grid = make_call_back("+8613800000002", b2)
        db.session.commit()
        return {"stranger": stranger.id, "a1": resident.id, "b2": other_grid.id}


def rows(page: str) -> list[str]:
    """The waiting table's rows, as text, top to bottom."""
    waiting = page.split('id="waiting"', 1)[1].split("</table>", 1)[0]
    return [re.sub(r"<[^>]+>|\s+", " ", row) for row in waiting.split("<tr")[2:]]


def test_staff_see_who_waits_urgent_first_and_the_menu_leads_there(
    app: Flask, staff: FlaskClient
) -> None:
    seed(app)
    page = staff.get("/callbacks").get_data(as_text=True)
    assert '<a href="/callbacks">Call back</a>' in page
    waiting = rows(page)
    assert len(waiting) == 3
    assert "Urgent" in waiting[0] and "Urgent" in waiting[1]  # the residents, before
    assert "…0077" in waiting[2] and "noise, no words" in waiting[2]  # the earlier stranger
    assert "王秀英" in " ".join(waiting) and "not a known resident" in waiting[2]
    assert "+8613900000077" not in page  # the list masks numbers; one call's page shows it


def test_a_call_back_page_has_the_number_the_recording_and_marks_done_with_a_note(
    app: Flask, staff: FlaskClient
) -> None:
    ids = seed(app)
    page = staff.get(f"/callbacks/{ids['a1']}").get_data(as_text=True)
    assert 'href="tel:+8613800000001"' in page and "王秀英" in page
    assert f'src="/callbacks/{ids["a1"]}/recording"' in page
    audio = staff.get(f"/callbacks/{ids['a1']}/recording", buffered=True)
    assert audio.status_code == 200 and audio.data == AUDIO
    token = csrf_token(staff, f"/callbacks/{ids['a1']}")

    empty = staff.post(f"/callbacks/{ids['a1']}/done", data={"note": " ", "csrf_token": token})
    assert empty.status_code == 303
    assert "the note is empty" in staff.get(empty.location).get_data(as_text=True)

    note = "Spoke with her daughter: she had a sore throat, all is well."
    done = staff.post(f"/callbacks/{ids['a1']}/done", data={"note": note, "csrf_token": token})
    assert done.status_code == 303 and done.location.endswith("/callbacks")
    page = staff.get("/callbacks").get_data(as_text=True)
    assert "Marked as called back." in page and len(rows(page)) == 2
    assert note in page.split('id="done"', 1)[1] and "Wang Staff" in page
    with app.app_context():
        call_back = db.session.get(CallBack, ids["a1"])
        assert call_back is not None and call_back.status == CallBackStatus.DONE
        assert call_back.note == note and call_back.done_by is not None
        assert call_back.done_by.username == "staff1" and call_back.done_at is not None

    again = staff.post(f"/callbacks/{ids['a1']}/done", data={"note": "x", "csrf_token": token})
    assert "already marked" in staff.get(again.location).get_data(as_text=True)


def test_a_grid_worker_works_their_grids_residents_and_a_department_none(
    app: Flask, login: Login
) -> None:
    ids = seed(app)
    with app.app_context():
        make_user("grid_a", Role.GRID_WORKER, grid="A1", language="zh-CN")
        make_user("water", Role.DEPARTMENT, language="en-US")
    grid_worker = login("grid_a")
    page = grid_worker.get("/callbacks").get_data(as_text=True)
    assert '<a href="/callbacks">回电</a>' in page
    assert len(rows(page)) == 1 and "王秀英" in rows(page)[0]
    assert grid_worker.get(f"/callbacks/{ids['b2']}").status_code == 404
    assert grid_worker.get(f"/callbacks/{ids['stranger']}/recording").status_code == 404
    token = csrf_token(grid_worker, f"/callbacks/{ids['a1']}")
    post = grid_worker.post(f"/callbacks/{ids['b2']}/done", data={"note": "x", "csrf_token": token})
    assert post.status_code == 404

    department = login("water")
    assert department.get("/callbacks").status_code == 403
    assert 'href="/callbacks"' not in department.get("/cases").get_data(as_text=True)


def test_nobody_waiting_is_said_plainly(app: Flask, staff: FlaskClient) -> None:
    page = staff.get("/callbacks").get_data(as_text=True)
    assert "Nobody is waiting for a call back." in page
