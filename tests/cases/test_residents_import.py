from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from cases.models import Resident
from cases.residents_import import import_residents
from hotline.db import db

GOOD = """phone,name,address,building,grid,language,family_contacts,preferred_call_hours,do_not_call
+8613800000001,王秀英,幸福路1号,3号楼,第一网格,zh-CN,王明:+8613900000001,09:00-17:00,no
13800000002,김영희,행복로 2,2동,grid-2,ko-KR,,,
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "residents.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _count() -> int:
    return db.session.scalar(select(func.count(Resident.id))) or 0


def test_good_file_imports_every_row_with_contacts(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        report = import_residents(_write(tmp_path, GOOD))
        assert report.errors == [] and report.imported == 2
        wang = db.session.scalar(select(Resident).where(Resident.phone == "+8613800000001"))
        assert wang is not None and wang.grid == "第一网格"
        assert [c.phone for c in wang.family_contacts] == ["+8613900000001"]
        # A local number is read in the given region and stored in E.164.
        assert db.session.scalar(select(Resident).where(Resident.phone == "+8613800000002"))


def test_reimport_updates_instead_of_duplicating(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        import_residents(_write(tmp_path, GOOD))
        report = import_residents(_write(tmp_path, GOOD.replace("幸福路1号", "幸福路9号")))
        assert (report.imported, report.updated) == (0, 2)
        assert _count() == 2


def test_broken_rows_are_named_by_line_and_nothing_is_imported(app: Flask, tmp_path: Path) -> None:
    broken = GOOD + (
        "not-a-phone,李四,,,,zh-CN,,,\n"
        "+8613800000005,,,,,zh-CN,,,\n"
        "+8613800000006,赵六,,,,fr-FR,,,\n"
        "+8613800000007,钱七,,,,zh-CN,,25:00-26:00,\n"
        "+8613800000001,重复,,,,zh-CN,,,\n"
        "+8613800000008,孙八,,,,zh-CN,no-colon-contact,,\n"
        "+8613800000009,周九,,,,zh-CN,,,maybe\n"
    )
    with app.app_context():
        report = import_residents(_write(tmp_path, broken))
        assert [error.split(":")[0] for error in report.errors] == [
            "line 4",
            "line 5",
            "line 6",
            "line 7",
            "line 8",
            "line 9",
            "line 10",
        ]
        assert "already given on line 2" in report.errors[4]
        assert _count() == 0


def test_missing_header_and_non_utf8_are_refused(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        assert import_residents(_write(tmp_path, "a,b\n1,2\n")).errors[0].startswith("line 1")
        path = tmp_path / "gbk.csv"
        path.write_bytes("phone,name\n+8613800000001,王秀英\n".encode("gbk"))
        assert "UTF-8" in import_residents(path).errors[0]
        assert _count() == 0


def test_cli_reports_errors_and_exits_nonzero(
    app: Flask, env: dict[str, str], tmp_path: Path
) -> None:
    from hotline.cli import main

    runner = CliRunner()
    result = runner.invoke(
        main, ["residents", "import", str(_write(tmp_path, "phone,name\nxx,y\n"))], env=env
    )
    assert result.exit_code == 1
    assert "line 2" in result.output
    result = runner.invoke(main, ["residents", "import", str(_write(tmp_path, GOOD))], env=env)
    assert result.exit_code == 0, result.output
    assert "imported 2 new" in result.output


def _wang() -> Resident:
    wang = db.session.scalar(select(Resident).where(Resident.phone == "+8613800000001"))
    assert wang is not None
    return wang


def _wang_as_imported_by_good() -> tuple[object, ...]:
    wang = _wang()
    return (
        wang.address,
        wang.building,
        wang.grid,
        wang.preferred_call_hours,
        [(c.name, c.phone) for c in wang.family_contacts],
    )


def test_a_file_of_phone_and_name_renames_and_erases_nothing(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        import_residents(_write(tmp_path, GOOD))
        report = import_residents(_write(tmp_path, "phone,name\n+8613800000001,王秀英奶奶\n"))
        assert report.errors == [] and report.updated == 1
        assert _wang().name == "王秀英奶奶"
        assert _wang_as_imported_by_good() == (
            "幸福路1号",
            "3号楼",
            "第一网格",
            "09:00-17:00",
            [("王明", "+8613900000001")],
        )


def test_empty_cells_keep_values_and_family_contacts(app: Flask, tmp_path: Path) -> None:
    header = GOOD.splitlines()[0]
    with app.app_context():
        import_residents(_write(tmp_path, GOOD))
        report = import_residents(_write(tmp_path, f"{header}\n+8613800000001,王秀英,,,,,,,\n"))
        assert report.errors == []
        assert _wang_as_imported_by_good() == (
            "幸福路1号",
            "3号楼",
            "第一网格",
            "09:00-17:00",
            [("王明", "+8613900000001")],
        )
        # A cell with a value still changes it; a listed contact list is the new list.
        changed = f"{header}\n+8613800000001,王秀英,,5号楼,,,李华:13900000002,,\n"
        import_residents(_write(tmp_path, changed))
        assert _wang().building == "5号楼" and _wang().address == "幸福路1号"
        assert [c.phone for c in _wang().family_contacts] == ["+8613900000002"]


def test_replace_makes_the_file_the_whole_record(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        import_residents(_write(tmp_path, GOOD))
        path = _write(tmp_path, "phone,name\n+8613800000001,王秀英\n")
        report = import_residents(path, replace=True)
        assert report.errors == [] and report.updated == 1
        assert _wang_as_imported_by_good() == ("", "", "", None, [])


@pytest.mark.parametrize(
    "phone",
    [
        "12345",
        "1380000000",  # a Chinese mobile has eleven digits
        "+8623456789",  # no such area code
    ],
)
def test_numbers_no_phone_can_have_are_refused(app: Flask, tmp_path: Path, phone: str) -> None:
    with app.app_context():
        report = import_residents(_write(tmp_path, f"phone,name\n{phone},王秀英\n"))
        assert report.errors == [f"line 2: phone {phone!r} is not a valid phone number"]
        bad_contact = f"phone,name,family_contacts\n+8613800000001,王秀英,王明:{phone}\n"
        report = import_residents(_write(tmp_path, bad_contact))
        assert report.errors == [f"line 2: phone {phone!r} is not a valid phone number"]
        assert _count() == 0


def test_cli_leaves_values_unless_replace_is_given(
    app: Flask, env: dict[str, str], tmp_path: Path
) -> None:
    from hotline.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["residents", "import", str(_write(tmp_path, GOOD))], env=env)
    assert result.exit_code == 0, result.output
    names_only = str(_write(tmp_path, "phone,name\n+8613800000001,王秀英\n"))
    result = runner.invoke(main, ["residents", "import", names_only], env=env)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _wang_as_imported_by_good()[0] == "幸福路1号"
        assert len(_wang().family_contacts) == 1
    result = runner.invoke(main, ["residents", "import", "--replace", names_only], env=env)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _wang_as_imported_by_good() == ("", "", "", None, [])
