"""The "New case" page: staff record a request someone brought them, on a phone or at the desk."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from accounts.models import Role
from cases.models import Attachment, Case, CaseSource, CaseStatus
from hotline.db import db
from hotline.settings import current_settings
from outreach.models import FollowUp
from tests.cases.test_staff_intake import JPEG, PDF
from tests.conftest import make_env
from tests.workspace.conftest import csrf_token, make_case, make_resident, make_user
from twilio_double.rest import TwilioRestDouble

Login = Callable[[str], FlaskClient]


@pytest.fixture
def env(tmp_path: Path, database_url: str, rest: TwilioRestDouble) -> dict[str, str]:
    """Files limited to 1 MB, so that a file too big stays small."""
    return make_env(
        tmp_path, database_url, TWILIO_API_BASE_URL=rest.base_url, HOTLINE_MAX_ATTACHMENT_MB="1"
    )


@pytest.fixture
def ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        people = {
            "li": make_user(
                "li", Role.GRID_WORKER, grid="A1", display_name="Li Grid", language="en-US"
            ),
            "park": make_user("park", Role.GRID_WORKER, grid="B2", language="en-US"),
            "mei": make_user("mei", Role.STAFF, display_name="Mei Desk", language="en-US"),
            "water": make_user("water", Role.DEPARTMENT, department="Water", language="en-US"),
        }
        zhang = make_resident(
            name="Zhang Xiuying", address="12 River Road", building="B3", grid="A1"
        )
        kim = make_resident(
            phone="+8613800000002", name="Kim Young-ja", building="C1", grid="B2", language="ko-KR"
        )
        db.session.commit()
        return people | {"zhang": zhang.id, "kim": kim.id}


def post(client: FlaskClient, **fields: Any) -> TestResponse:
    """The form as a browser sends it; the body made in memory (the test client would spool
    a large one to a temporary file that a refused request leaves open)."""
    data = {"csrf_token": csrf_token(client, "/cases"), **fields}
    if "attachment" in data:
        stream, name = data["attachment"]
        data["attachment"] = FileStorage(stream, filename=name)
    boundary, body = encode_multipart(data)
    return client.post(
        "/cases/new", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def page_text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashed_errors(response: TestResponse) -> list[str]:
    return re.findall(r'<p class="flash error" role="status">(.*?)</p>', page_text(response), re.S)


def cases(app: Flask) -> list[Case]:
    with app.app_context():
        found = list(db.session.scalars(select(Case).order_by(Case.id)))
        for case in found:
            _ = (case.events, case.resident)
        db.session.expunge_all()
        return found


def stored_files(app: Flask) -> list[Path]:
    with app.app_context():
        folder = current_settings().data_dir / "attachments"
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_the_form_is_reached_from_the_menu_and_the_inbox_by_those_who_record(
    app: Flask, ids: dict[str, int], login: Login
) -> None:
    for username in ("li", "mei"):
        client = login(username)
        inbox = page_text(client.get("/cases"))
        assert 'id="new-case-link" href="/cases/new"' in inbox
        assert '<a href="/cases/new">New case</a>' in inbox  # the menu
        form = page_text(client.get("/cases/new"))
        assert "How it came" in form and 'name="attachment" type="file"' in form
    water = login("water")
    assert "/cases/new" not in page_text(water.get("/cases"))
    assert water.get("/cases/new").status_code == 403
    assert post(water, channel="desk", text="x", person_name="y").status_code == 403
    assert cases(app) == []


def test_a_grid_worker_finds_a_resident_of_their_grid_and_the_place_follows(
    app: Flask, ids: dict[str, int], login: Login
) -> None:
    client = login("li")
    for query in ("Zhang", "0000 0001", "River", "B3"):
        found = page_text(post(client, action="find", resident_q=query, text="typed first"))
        assert f'name="choose" value="{ids["zhang"]}"' in found, query
        assert "typed first" in found  # what was typed is kept
    # Kim lives in another grid: not offered, and not to be chosen by id either.
    assert "Kim Young-ja" not in page_text(post(client, action="find", resident_q="Kim"))
    chosen = page_text(post(client, choose=str(ids["zhang"]), text="typed first"))
    assert 'id="chosen-resident"' in chosen and "Zhang Xiuying" in chosen
    assert 'value="12 River Road"' in chosen and 'value="B3"' in chosen
    assert "typed first" in chosen
    # From the resident's page, the form starts with them.
    profile = page_text(client.get(f"/residents/{ids['zhang']}"))
    assert f'id="new-case-for" href="/cases/new?resident_id={ids["zhang"]}"' in profile
    started = page_text(client.get(f"/cases/new?resident_id={ids['zhang']}"))
    assert 'id="chosen-resident"' in started and 'value="12 River Road"' in started
    assert 'id="chosen-resident"' not in page_text(
        client.get(f"/cases/new?resident_id={ids['kim']}")
    )
    refused = page_text(post(client, choose=str(ids["kim"])))
    assert "Kim Young-ja" not in refused and 'id="chosen-resident"' not in refused
    assert cases(app) == []


def test_suggest_fills_category_and_urgency_from_the_words_and_records_nothing(
    app: Flask, ids: dict[str, int], login: Login
) -> None:
    client = login("mei")
    response = post(client, action="suggest", text="下水道堵了，污水倒灌")
    page = page_text(response)
    assert response.status_code == 200
    assert 'id="suggestion"' in page and "“下水道”" in page
    assert '<option value="drainage" selected>' in page
    assert '<option value="urgent" selected>' in page
    assert cases(app) == []
    empty = post(client, action="suggest", text="  ")
    assert "Write what they ask for first" in page_text(empty)


def test_a_request_with_a_photo_opens_a_case_whose_page_shows_it(
    app: Flask, ids: dict[str, int], login: Login
) -> None:
    client = login("li")
    response = post(
        client,
        channel="home_visit",
        resident_id=str(ids["zhang"]),
        text="楼道的路灯坏了",
        address="12 River Road, stairwell",
        attachment=(io.BytesIO(JPEG), "stairs.jpg"),
    )
    assert response.status_code == 303, flashed_errors(response)
    [case] = cases(app)
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert (case.source, case.resident_id, case.grid) == (CaseSource.HOME_VISIT, ids["zhang"], "A1")
    assert case.address == "12 River Road, stairwell" and case.category == "facilities"
    page = page_text(client.get(f"/cases/{case.id}"))
    assert f"Case {case.number} recorded." in page
    assert "home visit" in page and "attached stairs.jpg" in page
    assert 'id="case-address">12 River Road, stairwell<' in page
    # Staff wrote it: no recording to wait for, no machine transcript.
    assert "no recording file" not in page and "Machine transcript" not in page
    assert 'id="transcript"' in page and "楼道的路灯坏了" in page
    [url] = re.findall(r'<img src="(/cases/\d+/attachments/\d+)"', page)
    photo = client.get(url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.get_data() == JPEG and "sandbox" in photo.headers["Content-Security-Policy"]
    photo.close()
    # Only those who may see the case see the photo.
    assert login("park").get(url).status_code == 404
    seen = login("mei").get(url)
    assert seen.status_code == 200
    seen.close()


def test_a_pdf_is_downloaded_not_shown(app: Flask, ids: dict[str, int], login: Login) -> None:
    client = login("mei")
    response = post(
        client,
        channel="desk",
        person_name="Wang Dawei",
        person_phone="13800000099",
        text="需要开居住证明",
        attachment=(io.BytesIO(PDF), "证明.pdf"),
    )
    assert response.status_code == 303, flashed_errors(response)
    [case] = cases(app)
    assert (case.person_name, case.phone, case.resident_id) == (
        "Wang Dawei",
        "+8613800000099",
        None,
    )
    page = page_text(client.get(f"/cases/{case.id}"))
    assert 'id="case-person">Wang Dawei<' in page and "<img" not in page
    [url] = re.findall(r'<a href="(/cases/\d+/attachments/\d+)">证明.pdf', page)
    download = client.get(url)
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    # The inbox names the person, though they have no record.
    assert "Wang Dawei" in page_text(client.get("/cases"))


def test_resolved_on_the_spot_from_the_form(app: Flask, ids: dict[str, int], login: Login) -> None:
    client = login("li")
    response = post(
        client,
        channel="grid_patrol",
        resident_id=str(ids["zhang"]),
        text="楼道的路灯坏了",
        resolved="1",
        resolution_note="Changed the bulb on the spot.",
    )
    assert response.status_code == 303, flashed_errors(response)
    [case] = cases(app)
    assert case.status == CaseStatus.RESOLVED and case.assignee_id == ids["li"]
    page = page_text(client.get(f"/cases/{case.id}"))
    assert "recorded and resolved" in page and "Changed the bulb on the spot." in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 1


BAD = [
    ({"text": "a lamp is out"}, "say who is affected"),
    ({"person_name": "Wang", "text": "  "}, "what the request is is empty"),
    ({"person_name": "Wang", "category": "weather"}, "unknown category 'weather'"),
    (
        {"person_name": "Wang", "attachment": (io.BytesIO(b"MZ\x90\x00 an exe"), "photo.jpg")},
        "not a JPEG, PNG, WebP or HEIC photo or a PDF",
    ),
    (
        {"person_name": "Wang", "attachment": (io.BytesIO(JPEG + b"\0" * 1024 * 1024), "big.jpg")},
        "the file is too big: at most 1 MB",
    ),
    ({"person_name": "Wang", "resolved": "1"}, "a resolution note is needed"),
]


@pytest.mark.parametrize(("fields", "words"), BAD, ids=[words for _, words in BAD])
def test_bad_input_says_why_keeps_what_was_typed_and_makes_nothing(
    app: Flask, ids: dict[str, int], login: Login, fields: dict[str, Any], words: str
) -> None:
    client = login("mei")
    values = {"channel": "desk", "text": "a lamp is out", **fields}
    response = post(client, **values)
    assert response.status_code == 400
    [error] = flashed_errors(response)
    assert words in error
    if values["text"].strip():
        assert values["text"] in page_text(response)
    assert cases(app) == []
    assert stored_files(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_chosen_resident_who_is_gone_or_not_the_workers_is_named_in_the_refusal(
    app: Flask, ids: dict[str, int], login: Login
) -> None:
    """The form held a resident's id, but they are not there for this worker (deleted since,
    moved to another grid, or never theirs): the refusal says which, and keeps what was typed."""
    client = login("li")
    for resident_id in (str(ids["kim"]), "99999", "12x"):
        response = post(
            client, channel="grid_patrol", resident_id=resident_id, text="the lamp is out"
        )
        assert response.status_code == 400
        assert flashed_errors(response) == [
            f"there is no resident {resident_id} that you may record a request for"
        ]
        page = page_text(response)
        assert "the lamp is out" in page and 'id="chosen-resident"' not in page
    assert cases(app) == [] and stored_files(app) == []


def test_a_file_far_beyond_the_limit_is_refused_in_words(
    app: Flask, ids: dict[str, int], login: Login
) -> None:
    client = login("mei")
    huge = io.BytesIO(JPEG + b"\0" * 3 * 1024 * 1024)  # beyond what the request may carry
    response = post(
        client, channel="desk", person_name="Wang", text="x", attachment=(huge, "a.jpg")
    )
    assert response.status_code == 413
    assert "the file is too big: at most 1 MB" in page_text(response)
    assert cases(app) == [] and stored_files(app) == []


def test_the_inbox_filters_by_how_a_case_came(
    app: Flask, ids: dict[str, int], login: Login
) -> None:
    with app.app_context():
        voicemail = make_case(grid="A1")
        desk = make_case(grid="A1", source=CaseSource.DESK, person_name="Wang")
        db.session.commit()
        voicemail_id, desk_id = voicemail.id, desk.id
    client = login("li")
    page = page_text(client.get("/cases?source=desk"))
    assert f'href="/cases/{desk_id}"' in page and f'href="/cases/{voicemail_id}"' not in page
    assert '<option value="desk" selected>Service desk</option>' in page
    bad = client.get("/cases?source=carrier-pigeon")
    assert bad.status_code == 400 and "Unknown way in" in page_text(bad)
