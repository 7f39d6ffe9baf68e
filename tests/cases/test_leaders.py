"""Building leaders: who may lead what, how a leader's words name a building and a neighbour,
and the residents' CSV column `leader_of`."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from accounts.models import Role
from cases.errors import Refused
from cases.leaders import (
    appoint,
    find_neighbour,
    fold,
    led_by,
    mentions,
    named_building,
    room_of,
    rooms_in,
)
from cases.models import BuildingLeader, Resident
from cases.residents_export import residents_csv
from cases.residents_import import import_text
from hotline.db import db
from tests.accounts.conftest import make_user


def _people(*rows: tuple[str, str, str]) -> list[Resident]:
    """Residents (not stored) of (name, building, address)."""
    return [
        Resident(id=index, phone=f"+86138000001{index:02d}", name=name, building=b, address=a)
        for index, (name, b, a) in enumerate(rows, start=1)
    ]


def test_words_are_compared_as_a_resident_writes_them_and_as_vosk_hears_them() -> None:
    assert fold("三 号 楼 三零二 室") == "3号楼302室"
    assert fold("三百零二") == "302" and fold("十二号楼") == "12号楼"
    assert fold("Building  3，Room 302") == "building 3,room 302"
    assert mentions(fold("13号楼漏水"), "3号楼") is False
    assert mentions(fold("building 30"), fold("Building 3")) is False
    assert mentions(fold("Building 3, unit 2"), fold("Building 3")) is True
    assert rooms_in(fold("3号楼302室和5号楼1201号")) == {"302", "1201"}
    assert rooms_in(fold("5号楼")) == set()  # a building's 号 is no room
    assert rooms_in(fold("room 302")) == {"302"} and rooms_in("302호") == {"302"}
    assert room_of("幸福里3号楼2单元302室") == "302" and room_of("幸福里3号楼2单元501") == "501"
    assert named_building(fold("十三号楼"), ["3号楼", "13号楼"]) == "13号楼"


def test_a_neighbour_is_named_by_name_room_or_surname_only_when_it_is_one_person() -> None:
    li, wang, wang2, kim, smith = _people(
        ("李秀兰", "3号楼", "3号楼302室"),
        ("王桂芳", "3号楼", "3号楼501室"),
        ("王建军", "3号楼", "3号楼601室"),
        ("김영희", "3号楼", "3号楼 701호"),
        ("Mary Smith", "3号楼", "Room 801"),
    )
    everyone = [li, wang, wang2, kim, smith]
    assert find_neighbour(fold("李秀兰家漏水"), everyone) is li
    assert find_neighbour(fold("302室漏水"), everyone) is li
    assert find_neighbour(fold("李奶奶家漏水"), everyone) is li  # the only 李
    assert find_neighbour(fold("王阿姨家漏水"), everyone) is None  # two 王: nobody named
    assert find_neighbour(fold("501的王阿姨家"), everyone) is wang
    assert find_neighbour(fold("김 할머니 댁에 물이 새요"), everyone) is kim
    assert find_neighbour(fold("Mrs. Smith has no heating"), everyone) is smith
    assert find_neighbour(fold("楼道灯坏了"), everyone) is None
    assert find_neighbour(fold("李师傅修过了还是漏"), everyone) is None  # the plumber


def test_only_a_building_a_resident_lives_in_can_have_a_leader(app: Flask) -> None:
    with app.app_context():
        zhang = Resident(phone="+8613800000101", name="张建国", building="3号楼")
        db.session.add(zhang)
        db.session.commit()
        with pytest.raises(Refused) as unknown:
            appoint("3号搂", resident_id=zhang.id)  # a typo
        assert "3号搂" in str(unknown.value) and "No resident lives in" in str(unknown.value)
        with pytest.raises(Refused, match="no resident or account 999"):
            appoint("3号楼", resident_id=999)
        with pytest.raises(Refused, match="Type the building"):
            appoint("  ", resident_id=zhang.id)
        appoint("3号楼", resident_id=zhang.id)
        db.session.commit()
        with pytest.raises(Refused, match="already leads 3号楼"):
            appoint("3号楼", resident_id=zhang.id)
        user_id = make_user("zhou", Role.STAFF, display_name="周主任")
        appoint("3号楼", user_id=user_id)  # a staff member may lead it too
        db.session.commit()
        assert db.session.scalar(select(func.count(BuildingLeader.id))) == 2


CSV = (
    "phone,name,building,grid,leader_of\n"
    "+8613800000101,张建国,3号楼,G1,3号楼;5号楼\n"
    "+8613800000105,王桂芳,5号楼,G2,\n"
)


def test_the_csv_import_makes_leaders_and_the_export_writes_them_back(app: Flask) -> None:
    with app.app_context():
        report = import_text(CSV)
        assert report.problems == []
        zhang = db.session.scalar(select(Resident).where(Resident.name == "张建国"))
        assert zhang is not None
        assert [lead.building for lead in led_by(resident=zhang)] == ["3号楼", "5号楼"]
        exported = residents_csv(db.session.scalars(select(Resident).order_by(Resident.id)))
        assert exported.splitlines()[1].endswith(",3号楼;5号楼")
        # Without "replace", an empty cell keeps the leaderships; a cell is the new list.
        import_text("phone,name,leader_of\n+8613800000101,张建国,\n")
        assert len(led_by(resident=zhang)) == 2
        import_text("phone,name,leader_of\n+8613800000101,张建国,5号楼\n")
        assert [lead.building for lead in led_by(resident=zhang)] == ["5号楼"]
        import_text("phone,name,leader_of\n+8613800000101,张建国,\n", replace=True)
        assert led_by(resident=zhang) == []


def test_a_csv_leader_of_a_building_nobody_lives_in_imports_nothing(app: Flask) -> None:
    with app.app_context():
        report = import_text(CSV.replace("3号楼;5号楼", "3号楼;9号楼"))
        assert [str(problem) for problem in report.problems] == [
            "line 2: no resident lives in building '9号楼': leader_of must name buildings as "
            "residents' records do"
        ]
        assert db.session.scalar(select(func.count(Resident.id))) == 0
        assert db.session.scalar(select(func.count(BuildingLeader.id))) == 0
