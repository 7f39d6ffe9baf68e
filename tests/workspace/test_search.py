"""Search from every page: a case by its number, the caller's or resident's phone in any format,
the resident's name or address, or its words; residents too; each reader only what they may see."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from accounts.models import Role
from cases.models import CASE_NUMBER_OFFSET, CaseParticipant
from hotline.db import db
from tests.workspace.conftest import make_case, make_resident, make_user

Login = Callable[[str], FlaskClient]


def found(response: TestResponse) -> list[int]:
    """The case ids the search lists, newest first."""
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    start = page.find('id="found-cases"')
    table = page[start : page.index("</table>", start)] if start >= 0 else ""
    return [int(n) for n in re.findall(r'<a href="/cases/(\d+)">', table)]


def residents_found(response: TestResponse) -> list[str]:
    page = response.get_data(as_text=True)
    start = page.find('id="found-residents"')
    if start < 0:
        return []
    listing = page[start : page.index("</ul>", start)]
    return [
        html.unescape(name) for name in re.findall(r'<a href="/residents/\d+">([^<]+)</a>', listing)
    ]


@pytest.fixture
def town(app: Flask) -> dict[str, Any]:
    """Two residents of grid A1 and one of B2, and cases from their phones and others."""
    with app.app_context():
        auntie = make_resident(
            phone="+8613800000001", name="张阿姨", address="幸福路12号", building="3号楼", grid="A1"
        )
        uncle = make_resident(
            phone="+8613900000002", name="李大爷", address="和平街5号", building="7号楼", grid="B2"
        )
        db.session.flush()
        cases = {
            "light": make_case(phone=auntie.phone, resident_id=auntie.id, grid="A1",
                               transcript="楼道的灯坏了"),
            # Her daughter called about her: another number, the same resident.
            "daughter": make_case(phone="+8613700000009", resident_id=auntie.id, grid="A1",
                                  transcript="我妈妈家的水管漏水"),
            "stranger": make_case(phone="+8613600001234", grid="A1", transcript="垃圾没人收"),
            "uncle": make_case(phone=uncle.phone, resident_id=uncle.id, grid="B2",
                               transcript="电梯坏了"),
            "korean": make_case(phone="+821055550001", grid="A1", transcript="엘리베이터 고장"),
        }  # fmt: skip
        db.session.commit()
        return {name: case.id for name, case in cases.items()}


def number(case_id: int) -> str:
    return str(CASE_NUMBER_OFFSET + case_id)


def test_a_case_number_opens_the_case(staff: FlaskClient, town: dict[str, int]) -> None:
    for query in (number(town["uncle"]), f"#{number(town['uncle'])}", f" {number(town['uncle'])} "):
        response = staff.get("/search", query_string={"q": query})
        assert response.status_code == 303, query
        assert response.headers["Location"] == f"/cases/{town['uncle']}"
    page = staff.get(f"/cases/{town['uncle']}").get_data(as_text=True)
    assert f"Case {number(town['uncle'])}: the case number you searched for." in page


@pytest.mark.parametrize(
    "typed",
    ["13800000001", "138 0000 0001", "+86 138-0000-0001", "(138) 0000-0001", "0001", "０００１"],
)
def test_a_phone_number_in_any_format_finds_the_residents_cases(
    staff: FlaskClient, town: dict[str, int], typed: str
) -> None:
    response = staff.get("/search", query_string={"q": typed})
    # The case from her phone, and the one her daughter opened for her (linked to her record).
    assert set(found(response)) >= {town["light"], town["daughter"]}
    assert town["uncle"] not in found(response)
    assert residents_found(response) == ["张阿姨"]


def test_the_last_digits_find_a_callers_case_without_a_resident(
    staff: FlaskClient, town: dict[str, int]
) -> None:
    assert found(staff.get("/search?q=1234")) == [town["stranger"]]
    assert found(staff.get("/search", query_string={"q": "136-0000-1234"})) == [town["stranger"]]


def test_a_number_written_with_its_trunk_zero_finds_the_international_one(
    staff: FlaskClient, town: dict[str, int]
) -> None:
    """A Korean mobile written as at home (010-5555-0001) is +82 10 5555 0001."""
    assert found(staff.get("/search", query_string={"q": "010-5555-0001"})) == [town["korean"]]


def test_a_name_or_an_address_finds_the_resident_and_their_cases(
    staff: FlaskClient, town: dict[str, int]
) -> None:
    for query in ("张阿姨", "幸福路", "3号楼"):
        response = staff.get("/search", query_string={"q": query})
        assert residents_found(response) == ["张阿姨"], query
        assert sorted(found(response)) == [town["light"], town["daughter"]], query


def test_words_of_a_message_find_the_case_and_say_why(
    staff: FlaskClient, town: dict[str, int]
) -> None:
    response = staff.get("/search", query_string={"q": "漏水"})
    assert found(response) == [town["daughter"]]
    assert "Found by: words" in response.get_data(as_text=True)
    both = staff.get("/search", query_string={"q": "0001"}).get_data(as_text=True)
    assert "Found by: phone number, resident" in both


def test_nothing_found_says_so_and_an_empty_search_explains_itself(
    staff: FlaskClient, town: dict[str, int]
) -> None:
    page = staff.get("/search", query_string={"q": "烟囱"}).get_data(as_text=True)
    assert 'id="nothing-found"' in page and "烟囱" in page
    empty = staff.get("/search?q=").get_data(as_text=True)
    assert "the last 4 digits are enough" in empty


def test_a_grid_worker_finds_only_their_grids_cases_and_residents(
    app: Flask, login: Login, town: dict[str, int]
) -> None:
    with app.app_context():
        make_user("zhao", Role.GRID_WORKER, grid="A1", language="en-US")
    client = login("zhao")
    other_grid = client.get("/search", query_string={"q": "李大爷"})
    assert found(other_grid) == [] and residents_found(other_grid) == []
    assert found(client.get("/search", query_string={"q": "0002"})) == []
    # A number of another grid's case is not opened, nor said to exist.
    response = client.get("/search", query_string={"q": number(town["uncle"])})
    assert response.status_code == 200 and 'id="nothing-found"' in response.get_data(as_text=True)
    assert set(found(client.get("/search?q=0001"))) == {
        town["light"],
        town["daughter"],
        town["korean"],
    }


def test_a_department_finds_only_its_cases_and_no_residents(
    app: Flask, login: Login, town: dict[str, int]
) -> None:
    with app.app_context():
        housing = make_user("housing", Role.DEPARTMENT, language="en-US")
        db.session.add(CaseParticipant(case_id=town["daughter"], user_id=housing))
        db.session.commit()
    response = login("housing").get("/search", query_string={"q": "张阿姨"})
    assert found(response) == [town["daughter"]]
    assert residents_found(response) == []


def test_the_search_box_is_on_every_page_and_keeps_the_query(
    staff: FlaskClient, town: dict[str, int]
) -> None:
    for path in ("/cases", f"/cases/{town['light']}", "/residents", "/callbacks", "/ledger"):
        page = staff.get(path).get_data(as_text=True)
        assert 'id="top-search-q"' in page and 'action="/search"' in page, path
    page = staff.get("/search", query_string={"q": "幸福路"}).get_data(as_text=True)
    assert 'id="top-search-q" name="q" value="幸福路"' in page


def test_a_query_on_the_home_page_is_kept(staff: FlaskClient, town: dict[str, int]) -> None:
    response = staff.get("/", query_string={"q": "漏水"})
    assert response.status_code == 302
    assert found(staff.get(response.headers["Location"])) == [town["daughter"]]
    assert staff.get("/").headers["Location"] == "/cases"


def test_the_inbox_search_offers_the_wider_search(staff: FlaskClient) -> None:
    page = staff.get("/cases", query_string={"q": "0001"}).get_data(as_text=True)
    assert 'href="/search?q=0001"' in page


def test_signed_out_visitors_are_sent_to_log_in(app: Flask) -> None:
    response = app.test_client().get("/search?q=0001")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
