"""The residents directory as staff use it: search, profile, contacts, CSV in and out."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from accounts.models import Role
from cases.models import FamilyContact, Resident
from hotline.db import db
from outreach.outbox import opt_out
from tests.workspace.conftest import csrf_token, make_case, make_resident, make_user

Login = Callable[[str], FlaskClient]
GOOD_CSV = (
    "phone,name,address,building,grid,language,family_contacts,preferred_call_hours,do_not_call\n"
    "+8613800000011,王秀英,幸福路1号,3号楼,A1,zh-CN,王明:+8613900000001,09:00-17:00,no\n"
    "13800000012,김영희,행복로 2,2동,B2,ko-KR,,,yes\n"
)


def _resident(phone: str) -> Resident | None:
    return db.session.scalar(select(Resident).where(Resident.phone == phone))


def _count() -> int:
    return db.session.scalar(select(func.count(Resident.id))) or 0


def _seed(app: Flask) -> dict[str, int]:
    with app.app_context():
        zhang = make_resident(phone="+8613800000001", name="张阿姨", grid="A1", building="3号楼")
        li = make_resident(phone="+8613912345678", name="李大爷", grid="B2", address="幸福路 8 号")
        db.session.commit()
        return {"zhang": zhang.id, "li": li.id}


def _post(client: FlaskClient, path: str, data: dict[str, object]) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/residents"), **data})


def test_search_by_name_by_partial_phone_and_by_address(app: Flask, staff: FlaskClient) -> None:
    _seed(app)
    page = staff.get("/residents?q=张").get_data(as_text=True)
    assert "张阿姨" in page and "李大爷" not in page
    for typed in ("5678", "139-1234-5678", "+86 139 1234 5678", "幸福路"):
        page = staff.get("/residents", query_string={"q": typed}).get_data(as_text=True)
        assert "李大爷" in page and "张阿姨" not in page, typed
    # The list shows only the end of each number, like every list in the workspace.
    assert "+8613912345678" not in page and "5678" in page


def test_a_grid_worker_sees_only_their_grid(app: Flask, login: Login) -> None:
    ids = _seed(app)
    with app.app_context():
        make_user("grid_a", Role.GRID_WORKER, grid="A1", language="en-US")
    client = login("grid_a")
    page = client.get("/residents").get_data(as_text=True)
    assert "张阿姨" in page and "李大爷" not in page
    assert client.get(f"/residents/{ids['zhang']}").status_code == 200
    assert client.get(f"/residents/{ids['li']}").status_code == 404
    response = _post(client, f"/residents/{ids['li']}", {"name": "改名"})
    assert response.status_code == 404
    assert client.get("/residents/export.csv").status_code == 403


def test_a_department_has_no_directory(app: Flask, login: Login) -> None:
    ids = _seed(app)
    with app.app_context():
        make_user("water", Role.DEPARTMENT, department="Water", language="en-US")
    client = login("water")
    assert client.get("/residents").status_code == 403
    assert client.get(f"/residents/{ids['zhang']}").status_code == 403
    menu = client.get("/login").get_data(as_text=True).split("<main>")[0]
    assert 'href="/residents"' not in menu


def _profile(**changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "name": "张阿姨",
        "address": "幸福路1号",
        "building": "3号楼",
        "grid": "A1",
        "language": "zh-CN",
        "preferred_call_hours": "",
    }
    form.update(changes)
    return form


def test_profile_edit_refuses_bad_hours_and_saves_nothing(app: Flask, staff: FlaskClient) -> None:
    ids = _seed(app)
    path = f"/residents/{ids['zhang']}"
    response = _post(staff, path, _profile(name="张秀英", preferred_call_hours="25:00-26:00"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "call hours must look like 09:00-17:00, not “25:00-26:00”" in page
    with app.app_context():
        zhang = db.session.get(Resident, ids["zhang"])
        assert zhang is not None
        assert (zhang.name, zhang.preferred_call_hours) == ("张阿姨", None)


def test_profile_edit_saves_and_logs_who_without_numbers(
    app: Flask, staff: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _seed(app)
    form = _profile(
        name="张秀英",
        preferred_call_hours="9:00 - 17:30",
        language="ko-KR",
        do_not_call="yes",
        sms_opt_out="yes",
    )
    with caplog.at_level(logging.INFO, logger="workspace.residents"):
        response = _post(staff, f"/residents/{ids['zhang']}", form)
    assert response.status_code == 302
    with app.app_context():
        zhang = db.session.get(Resident, ids["zhang"])
        assert zhang is not None
        assert zhang.name == "张秀英" and zhang.preferred_call_hours == "09:00-17:30"
        assert zhang.language == "ko-KR" and zhang.do_not_call and zhang.sms_opt_out
    assert "updated by staff1" in caplog.text
    assert "13800000001" not in caplog.text


def test_family_contacts_are_added_checked_and_removed(app: Flask, staff: FlaskClient) -> None:
    ids = _seed(app)
    path = f"/residents/{ids['zhang']}/contacts"
    bad = _post(staff, path, {"name": "张明", "phone": "12", "relation": "儿子"})
    assert bad.status_code == 400
    assert "“12” is not a number a phone can have" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(FamilyContact.id))) == 0
    good = {"name": "张明", "phone": "139 0000 0002", "relation": "儿子", "receives_updates": "yes"}
    assert _post(staff, path, good).status_code == 302
    page = staff.get(f"/residents/{ids['zhang']}").get_data(as_text=True)
    assert "张明" in page and "+8613900000002" in page and "儿子" in page
    with app.app_context():
        contact = db.session.scalars(select(FamilyContact)).one()
        assert (contact.phone, contact.receives_updates) == ("+8613900000002", True)
        contact_id = contact.id
    removed = _post(staff, f"{path}/{contact_id}/delete", {})
    assert removed.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(FamilyContact.id))) == 0


def test_new_resident_needs_a_real_number_and_lists_their_cases(
    app: Flask, staff: FlaskClient
) -> None:
    bad = _post(staff, "/residents/new", _profile(phone="abc", name="赵奶奶"))
    assert bad.status_code == 400
    assert "“abc” is not a phone number" in bad.get_data(as_text=True)
    created = _post(staff, "/residents/new", _profile(phone="13700000003", name="赵奶奶"))
    assert created.status_code == 302
    with app.app_context():
        resident = _resident("+8613700000003")
        assert resident is not None and resident.name == "赵奶奶"
        case = make_case(resident=resident, phone=resident.phone, grid="A1")
        db.session.commit()
        case_id, resident_id, number = case.id, resident.id, case.number
    page = staff.get(f"/residents/{resident_id}").get_data(as_text=True)
    assert f'href="/cases/{case_id}">{number}</a>' in page


def _upload(
    client: FlaskClient, text: str | bytes, name: str = "residents.csv", **form: str
) -> TestResponse:
    data = text.encode("utf-8") if isinstance(text, str) else text
    # Encoded here, in memory: the test client would spool a big body to a file it never closes.
    boundary, body = encode_multipart(
        MultiDict(
            {
                "csrf_token": csrf_token(client, "/residents"),
                "file": FileStorage(io.BytesIO(data), name),
                **form,
            }
        )
    )
    return client.post(
        "/residents/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_import_through_the_page(app: Flask, staff: FlaskClient) -> None:
    response = _upload(staff, GOOD_CSV)
    assert response.status_code == 302
    assert "Imported 2 new residents" in staff.get("/residents").get_data(as_text=True)
    with app.app_context():
        kim = _resident("+8613800000012")
        assert kim is not None and kim.do_not_call and kim.language == "ko-KR"


def _record(phone: str) -> tuple[object, ...]:
    resident = _resident(phone)
    assert resident is not None
    contacts = [(c.name, c.phone) for c in resident.family_contacts]
    return (resident.name, resident.address, resident.grid, resident.preferred_call_hours, contacts)


def test_an_update_file_keeps_what_it_leaves_out_unless_replace_is_ticked(
    app: Flask, staff: FlaskClient
) -> None:
    assert _upload(staff, GOOD_CSV).status_code == 302
    page = staff.get("/residents").get_data(as_text=True)
    assert 'name="replace"' in page and "Replace: the file is the whole record" in page
    header = GOOD_CSV.splitlines()[0]
    renamed = f"{header}\n+8613800000011,王秀英奶奶,,,,,,,\n"
    assert _upload(staff, renamed).status_code == 302
    with app.app_context():
        assert _record("+8613800000011") == (
            "王秀英奶奶",
            "幸福路1号",
            "A1",
            "09:00-17:00",
            [("王明", "+8613900000001")],
        )
    assert _upload(staff, renamed, replace="yes").status_code == 302
    with app.app_context():
        assert _record("+8613800000011") == ("王秀英奶奶", "", "", None, [])


def test_a_file_with_one_bad_row_imports_nothing_and_names_the_line(
    app: Flask, staff: FlaskClient
) -> None:
    broken = GOOD_CSV + "+8613800000013,赵六,,,,zh-CN,,7点到9点,no\n"
    response = _upload(staff, broken)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Line 4: call hours must look like 09:00-17:00, not “7点到9点”" in page
    assert "Nothing was imported: 1 problem(s)" in page
    with app.app_context():
        assert _count() == 0


def test_only_the_office_imports(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("grid_a", Role.GRID_WORKER, grid="A1")
    assert _upload(login("grid_a"), GOOD_CSV).status_code == 403


def _snapshot(contact_details: bool = True) -> list[tuple[object, ...]]:
    """Every resident as comparable values; contacts' relation and wishes only if asked."""
    residents = db.session.scalars(select(Resident).order_by(Resident.phone)).all()
    return [
        (
            r.phone,
            r.name,
            r.address,
            r.building,
            r.grid,
            r.language,
            r.preferred_call_hours,
            r.do_not_call,
            sorted(
                (c.name, c.phone, *((c.relation, c.receives_updates) if contact_details else ()))
                for c in r.family_contacts
            ),
        )
        for r in residents
    ]


def test_export_is_excel_friendly_injection_safe_and_imports_back_the_same(
    app: Flask, staff: FlaskClient
) -> None:
    with app.app_context():
        wang = make_resident(
            phone="+8613800000001",
            name='=HYPERLINK("http://evil.example","点我")',
            address="-1+1",
            preferred_call_hours="08:00-12:00",
            do_not_call=True,
        )
        wang.family_contacts.append(
            FamilyContact(name="@王明", phone="+8613900000001", relation="儿子")
        )
        make_resident(phone="+821012345678", name="김영희", grid="B2", language="ko-KR")
        db.session.commit()
        before = _snapshot(contact_details=False)
    response = staff.get("/residents/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # Excel reads the names as UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:2] == ["phone", "name"]
    wang_row = next(row for row in rows if "HYPERLINK" in row[1])
    assert wang_row[1].startswith("'=") and wang_row[2] == "'-1+1"
    assert wang_row[6] == "'@王明:+8613900000001"
    assert wang_row[0] == "'+8613800000001"  # stays text in Excel; the importer takes the ' off
    with app.app_context():
        db.session.execute(delete(FamilyContact))
        db.session.execute(delete(Resident))
        db.session.commit()
    assert _upload(staff, body).status_code == 302
    with app.app_context():
        # A contact's relation is not a CSV column: into an empty directory it comes back blank.
        assert _snapshot(contact_details=False) == before


def test_reimport_keeps_what_staff_set_on_known_contacts(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        resident = make_resident(phone="+8613800000001", name="张阿姨")
        resident.family_contacts.append(
            FamilyContact(
                name="张明", phone="+8613900000001", relation="儿子", receives_updates=False
            )
        )
        db.session.commit()
        before = _snapshot()
    body = staff.get("/residents/export.csv").get_data()
    assert _upload(staff, body).status_code == 302
    with app.app_context():
        assert _snapshot() == before


def test_a_grid_worker_adds_residents_to_their_own_grid(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("grid_a", Role.GRID_WORKER, grid="A1", language="en-US")
    client = login("grid_a")
    form = _profile(phone="13700000004", name="钱奶奶", grid="B2")
    assert _post(client, "/residents/new", form).status_code == 302
    with app.app_context():
        resident = _resident("+8613700000004")
        assert resident is not None and resident.grid == "A1"


def test_a_whole_centre_list_larger_than_a_form_may_be_is_imported(
    app: Flask, staff: FlaskClient
) -> None:
    """Forms and webhooks are capped at 1 MB; the residents import alone takes more."""
    header = GOOD_CSV.splitlines()[0]
    address = "幸福路" + "一" * 60  # about 200 bytes a row, as real addresses can be
    rows = [f"+86139{n:08d},居民{n},{address},1号楼,A1,zh-CN,,,no" for n in range(6000)]
    body = "\n".join([header, *rows]) + "\n"
    assert len(body.encode()) > 1024 * 1024
    response = _upload(staff, body)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with app.app_context():
        assert _count() == 6000


def test_staff_see_that_a_residents_number_texted_stop(app: Flask, staff: FlaskClient) -> None:
    """The opt-out is the number's: the profile says so, whatever the resident's own mark."""
    ids = _seed(app)
    with app.app_context():
        opt_out("+8613800000001", datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
        db.session.commit()
    listed = staff.get("/residents?q=张").get_data(as_text=True)
    assert 'class="flag">No text messages' in listed
    profile = staff.get(f"/residents/{ids['zhang']}").get_data(as_text=True)
    assert "This number texted STOP on 2026-03-02 10:00" in profile
    assert "texted STOP" not in staff.get(f"/residents/{ids['li']}").get_data(as_text=True)
