"""The voicemail player's source: authenticated, seekable, and only ever the recording's file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from accounts.models import Role
from cases.models import Case, CaseStatus, Recording, RecordingPurpose, RecordingStatus
from hotline.db import db
from hotline.settings import EXTENSION_KEY
from tests.workspace.conftest import make_case, make_user

AUDIO = b"RIFF" + bytes(range(256)) * 4  # 1028 bytes; any bytes do: the page only serves them
SECRET = b"root:x:0:0:secret"


def fetch(client: FlaskClient, path: str, **headers: str) -> TestResponse:
    """GET and read the whole body, which closes the served file as a real server would."""
    return client.get(path, headers=headers, buffered=True)


def data_dir(app: Flask) -> Path:
    path: Path = app.extensions[EXTENSION_KEY].data_dir
    return path


def recordings_dir(app: Flask) -> Path:
    folder = data_dir(app) / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def case_with_recording(app: Flask, file_path: str, content_type: str = "audio/x-wav") -> int:
    with app.app_context():
        case = make_case(grid="A1")
        db.session.add(
            Recording(
                recording_sid="RE" + uuid.uuid4().hex,
                case=case,
                status=RecordingStatus.TRANSCRIBED,
                available=True,
                file_path=file_path,
                content_type=content_type,
            )
        )
        db.session.commit()
        return case.id


@pytest.fixture
def stored(app: Flask) -> int:
    """A case whose voicemail was downloaded the way tasks.voicemail stores it."""
    path = recordings_dir(app) / "RE0001.wav"
    path.write_bytes(AUDIO)
    return case_with_recording(app, str(path))


def test_the_whole_recording_plays(app: Flask, staff: FlaskClient, stored: int) -> None:
    response = fetch(staff, f"/cases/{stored}/recording")
    assert response.status_code == 200
    assert response.data == AUDIO
    assert response.mimetype == "audio/x-wav"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.cache_control.private and not response.cache_control.public


def test_a_range_request_gets_that_part_so_seeking_works(
    app: Flask, staff: FlaskClient, stored: int
) -> None:
    first = fetch(staff, f"/cases/{stored}/recording", Range="bytes=0-99")
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-99/{len(AUDIO)}"
    assert first.data == AUDIO[:100] and len(first.data) == 100
    tail = fetch(staff, f"/cases/{stored}/recording", Range="bytes=1000-")
    assert tail.status_code == 206 and tail.data == AUDIO[1000:]
    beyond = fetch(staff, f"/cases/{stored}/recording", Range="bytes=5000-6000")
    assert beyond.status_code == 416


def test_the_page_has_a_player_for_the_recording(
    app: Flask, staff: FlaskClient, stored: int
) -> None:
    page = staff.get(f"/cases/{stored}").get_data(as_text=True)
    assert '<audio id="recording" controls' in page
    assert f'src="/cases/{stored}/recording"' in page
    assert 'aria-label="Play recording"' in page


def test_the_stored_content_type_is_used_but_only_for_audio(app: Flask, staff: FlaskClient) -> None:
    folder = recordings_dir(app)
    (folder / "RE0002.mp3").write_bytes(AUDIO)
    (folder / "RE0003.html").write_bytes(b"<script>alert(1)</script>")
    mp3 = case_with_recording(app, str(folder / "RE0002.mp3"), "audio/mpeg")
    html = case_with_recording(app, str(folder / "RE0003.html"), "text/html")
    assert fetch(staff, f"/cases/{mp3}/recording").mimetype == "audio/mpeg"
    response = fetch(staff, f"/cases/{html}/recording")
    assert response.mimetype == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_name_relative_to_the_recordings_folder_plays(
    app: Flask, staff: FlaskClient
) -> None:
    (recordings_dir(app) / "RE0004.wav").write_bytes(AUDIO)
    case_id = case_with_recording(app, "RE0004.wav")
    assert fetch(staff, f"/cases/{case_id}/recording").data == AUDIO


def outside_paths(app: Flask, tmp_path: Path) -> list[str]:
    """Files outside the recordings folder that a careless server would hand out."""
    folder = recordings_dir(app)
    secrets = [
        data_dir(app).parent / "etc" / "passwd",  # where ../../etc/passwd leads from the folder
        data_dir(app) / "secret.txt",  # the data dir itself: the database lives there
        data_dir(app) / "recordings-old" / "RE9.wav",  # shares the folder's name as a prefix
    ]
    for secret in secrets:
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_bytes(SECRET)
    os.symlink(secrets[1], folder / "RE0005.wav")
    return [
        "../../etc/passwd",
        "/etc/passwd",
        str(secrets[1]),
        str(secrets[2]),
        str(folder / ".." / "secret.txt"),
        str(folder / "RE0005.wav"),  # a link inside pointing outside
        str(folder),  # the folder itself
        str(folder / "RE-missing.wav"),
        "",
    ]


def test_a_recording_path_outside_the_recordings_folder_is_not_served(
    app: Flask, staff: FlaskClient, tmp_path: Path
) -> None:
    for file_path in outside_paths(app, tmp_path):
        case_id = case_with_recording(app, file_path)
        response = fetch(staff, f"/cases/{case_id}/recording")
        assert response.status_code == 404, file_path
        assert SECRET not in response.data
        assert '<audio id="recording"' not in staff.get(f"/cases/{case_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/cases/{id}/recording/../../etc/passwd",
        "/cases/{id}/recording/%2e%2e/%2e%2e/etc/passwd",
        "/cases/{id}/recording%2f..%2f..%2fetc%2fpasswd",
        "/cases/{id}/recording?file=../../etc/passwd",
        "/cases/{id}/..%2f..%2fetc%2fpasswd/recording",
    ],
)
def test_url_tricks_do_not_reach_other_files(
    app: Flask, staff: FlaskClient, stored: int, path: str
) -> None:
    response = fetch(staff, path.format(id=stored))
    assert SECRET not in response.data
    assert b"root:" not in response.data
    if "?" in path:  # the query string is ignored: it is still this case's recording
        assert response.data == AUDIO
    else:
        assert response.status_code == 404


def test_no_recording_is_a_404(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        case = make_case()
        db.session.commit()
        case_id = case.id
    assert fetch(staff, f"/cases/{case_id}/recording").status_code == 404


def test_only_those_who_may_see_the_case_hear_it(
    app: Flask, login: Callable[[str], FlaskClient], stored: int
) -> None:
    with app.app_context():
        make_user("gw_b", Role.GRID_WORKER, grid="B2")
        make_user("gw_a", Role.GRID_WORKER, grid="A1")
        dept = make_user("dept", Role.DEPARTMENT)
        make_user("other_dept", Role.DEPARTMENT)
    assert fetch(login("gw_b"), f"/cases/{stored}/recording").status_code == 404
    assert fetch(login("other_dept"), f"/cases/{stored}/recording").status_code == 404
    assert fetch(login("gw_a"), f"/cases/{stored}/recording").data == AUDIO
    with app.app_context():
        case = db.session.get(Case, stored)
        assert case is not None
        case.assignee_id, case.status = dept, CaseStatus.ACCEPTED
        db.session.commit()
    assert fetch(login("dept"), f"/cases/{stored}/recording").data == AUDIO
    anonymous = fetch(app.test_client(), f"/cases/{stored}/recording")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_survey_comment_plays_on_the_case_page_with_its_transcript(
    app: Flask, staff: FlaskClient, stored: int, login: Callable[..., FlaskClient]
) -> None:
    path = recordings_dir(app) / "RE0009.wav"
    path.write_bytes(AUDIO)
    with app.app_context():
        comment = Recording(
            recording_sid="RE" + uuid.uuid4().hex,
            case_id=stored,
            purpose=RecordingPurpose.SURVEY_COMMENT,
            status=RecordingStatus.TRANSCRIBED,
            available=True,
            file_path=str(path),
            content_type="audio/x-wav",
            transcript="灯还是不亮",
        )
        db.session.add(comment)
        db.session.commit()
        comment_id = comment.id
    page = staff.get(f"/cases/{stored}").get_data(as_text=True)
    url = f"/cases/{stored}/recordings/{comment_id}"
    assert "Survey comments" in page and f'src="{url}"' in page and "灯还是不亮" in page
    assert f'src="/cases/{stored}/recording"' in page  # the voicemail keeps its own player
    played = fetch(staff, url, Range="bytes=0-9")
    assert played.status_code == 206 and played.data == AUDIO[:10]
    assert fetch(staff, f"/cases/{stored}/recordings/{comment_id + 1}").status_code == 404
    with app.app_context():
        make_user("gw_b2", Role.GRID_WORKER, grid="B2")
    assert fetch(login("gw_b2"), url).status_code == 404  # another grid's case
