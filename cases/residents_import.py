"""Import residents from a CSV file: all rows or none, with every bad row named by its line.

One code path for the `hotline residents import` command and the directory's upload form.
A file updates what it says and nothing else: for a resident already in the directory, a
column the file does not have, or an empty cell, leaves that value as it is (a file of just
`phone,name` renames, it does not erase addresses or family contacts). With `replace`, the
file is the whole truth: absent columns and empty cells clear the value.
Each problem is a `Problem` with a key and values, so the command prints it in English and
the staff pages show it in the reader's language; the field checks are shared with the
profile form, so a value refused on import is refused when typed in too. `leader_of` makes the
resident a building leader (楼栋长) of exactly the buildings it names, each one that a resident
of the directory or of the file lives in.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cases.leaders import set_buildings
from cases.models import FamilyContact, Resident
from cases.reports import FORMULA_STARTS
from hotline.config import HoursWindow
from hotline.db import db
from hotline.i18n import LOCALES
from hotline.phones import DEFAULT_REGION, NotAPhoneNumber, normalise_phone

COLUMNS = (
    "phone",
    "name",
    "address",
    "building",
    "grid",
    "language",
    "family_contacts",
    "preferred_call_hours",
    "do_not_call",
    "leader_of",  # the buildings the resident leads (楼栋长): "3号楼;5号楼"
)
REQUIRED = ("phone", "name")
TRUE_WORDS = {"1", "true", "yes", "y", "是"}
FALSE_WORDS = {"", "0", "false", "no", "n", "否"}
# Full-width colons and other dashes, as typed with a Chinese input method.
HOURS_PUNCTUATION = str.maketrans({"：": ":", "～": "-", "~": "-", "－": "-", "–": "-", "—": "-"})
LIMITS = {"name": 100, "address": 200, "building": 50, "grid": 50}

# English wording of each problem, for the command line (the pages translate the keys).
MESSAGES = {
    "not_utf8": "the file is not UTF-8 text (save the CSV as UTF-8)",
    "bad_header": "the header must name at least {columns}",
    "unknown_columns": "unknown columns {columns}",
    "too_many_fields": "more fields than the header has",
    "missing": "missing {columns}",
    "too_long": "{column} is too long: at most {limit} characters",
    "bad_language": "language {value!r} is not one of {choices}",
    "bad_hours": "hours must look like 07:00-20:00, got {value!r}",
    "bad_phone": "phone {value!r} is not a phone number",
    "invalid_phone": "phone {value!r} is not a valid phone number",
    "bad_contact": "family contact {value!r} should look like Name:+8613900000000",
    "bad_flag": "{column} should be yes or no, got {value!r}",
    "duplicate_phone": "phone already given on line {first}",
    "phone_taken": "a resident with this phone number exists already",
    "contact_semicolon": "a family contact's name cannot contain ;",
    "unknown_building": "no resident lives in building {value!r}: leader_of must name buildings"
    " as residents' records do",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: `line` 0 when it is not about a line of a file."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)
    line: int = 0

    def message(self) -> str:
        return MESSAGES[self.key].format(**self.values)

    def __str__(self) -> str:
        return f"line {self.line}: {self.message()}" if self.line else self.message()


class RowError(ValueError):
    def __init__(self, key: str, **values: Any) -> None:
        self.problem = Problem(key, values)
        super().__init__(self.problem.message())


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [str(problem) for problem in self.problems]


def unescape_cell(text: str) -> str:
    """Undo the export's formula guard: "'=x" was written for "=x" (see residents_export)."""
    if text.startswith("'") and text[1:2] in FORMULA_STARTS:
        return text[1:]
    return text


def parse_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """A phone number in E.164 form, or RowError saying why it is not one."""
    try:
        return normalise_phone(text, region)
    except NotAPhoneNumber as error:
        raise RowError("bad_phone" if error.unreadable else "invalid_phone", value=text) from None


def parse_contacts(text: str, region: str = DEFAULT_REGION) -> list[FamilyContact]:
    """'李明:+8613900000001;王芳:13900000002' -> contacts who receive updates."""
    contacts = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, sep, phone = item.rpartition(":")
        if not sep or not name.strip():
            raise RowError("bad_contact", value=item)
        contacts.append(FamilyContact(name=name.strip(), phone=parse_phone(phone, region)))
    return contacts


def parse_flag(text: str, column: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise RowError("bad_flag", column=column, value=text)


def parse_language(text: str) -> str:
    language = text.strip() or "zh-CN"
    if language not in LOCALES:
        raise RowError("bad_language", value=language, choices=", ".join(LOCALES))
    return language


def parse_hours(text: str) -> str | None:
    """'9:00 - 17:00' or '9：00～17：00' as the canonical '09:00-17:00'; blank: no preference."""
    if not text.strip():
        return None
    typed = text.strip().translate(HOURS_PUNCTUATION)
    padded = re.sub(r"(?<!\d)(\d):", r"0\1:", typed)
    try:
        return str(HoursWindow.parse(padded))
    except ValueError as error:
        raise RowError("bad_hours", value=text.strip()) from error


def parse_buildings(text: str) -> tuple[str, ...]:
    """'3号楼;5号楼' -> the buildings a leader leads, each once (checked known by parse_rows)."""
    names = (part.strip() for part in text.replace("；", ";").split(";"))
    buildings = tuple(dict.fromkeys(name for name in names if name))
    if any(len(building) > LIMITS["building"] for building in buildings):
        raise RowError("too_long", column="leader_of", limit=LIMITS["building"])
    return buildings


def parse_text(text: str, column: str) -> str:
    value = text.strip()
    if len(value) > LIMITS[column]:
        raise RowError("too_long", column=column, limit=LIMITS[column])
    return value


def check_fields(
    row: dict[str, str], region: str = DEFAULT_REGION
) -> tuple[dict[str, Any], list[Problem]]:
    """Every column of `row` checked: the clean values, and every problem found (in order).

    Only the columns present in `row` come back, so a form can check the fields it shows.
    """
    row = {key: unescape_cell(value or "") for key, value in row.items() if key is not None}
    missing = [column for column in REQUIRED if column in row and not row[column].strip()]
    problems = [Problem("missing", {"columns": ", ".join(missing)})] if missing else []
    parsers: dict[str, Callable[[str], Any]] = {
        "phone": lambda text: parse_phone(text, region),
        "language": parse_language,
        "preferred_call_hours": parse_hours,
        "do_not_call": lambda text: parse_flag(text, "do_not_call"),
        "family_contacts": lambda text: parse_contacts(text, region),
        "leader_of": parse_buildings,
        **{column: partial(parse_text, column=column) for column in LIMITS},
    }
    fields: dict[str, Any] = {}
    for column, parse in parsers.items():
        if column not in row or column in missing:
            continue
        try:
            fields[column] = parse(row[column])
        except RowError as error:
            problems.append(error.problem)
    return fields, problems


def _cells_to_write(row: dict[str, str], replace: bool) -> dict[str, str]:
    """Every column when replacing; otherwise the required ones and those with a value."""
    if replace:
        return {column: row.get(column) or "" for column in COLUMNS}
    return {
        column: value
        for column, value in row.items()
        if column in COLUMNS and (column in REQUIRED or (value or "").strip())
    }


def _resident_fields(row: dict[str, str], region: str, replace: bool) -> dict[str, Any]:
    """A file row as Resident fields; the first problem is the row's error, as it always was."""
    fields, problems = check_fields(_cells_to_write(row, replace), region)
    if problems:
        raise RowError(problems[0].key, **problems[0].values)
    return fields


def parse_rows(
    text: str, region: str, replace: bool = False
) -> tuple[list[dict[str, Any]], list[Problem]]:
    reader = csv.DictReader(io.StringIO(text))
    unknown = set(reader.fieldnames or ()) - set(COLUMNS)
    if not reader.fieldnames or not set(REQUIRED) <= set(reader.fieldnames):
        return [], [Problem("bad_header", {"columns": ", ".join(REQUIRED)}, line=1)]
    problems = []
    if unknown:
        problems.append(Problem("unknown_columns", {"columns": ", ".join(sorted(unknown))}, 1))
    rows: list[dict[str, Any]] = []
    lines: list[int] = []  # each row's line in the file
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(Problem("too_many_fields", line=line))
            continue
        try:
            fields = _resident_fields(row, region, replace)
        except RowError as error:
            problems.append(Problem(error.problem.key, error.problem.values, line))
            continue
        phone = str(fields["phone"])
        if phone in seen:
            problems.append(Problem("duplicate_phone", {"first": seen[phone]}, line))
            continue
        seen[phone] = line
        rows.append(fields)
        lines.append(line)
    problems += _unknown_buildings(rows, lines)
    return rows, problems


def _unknown_buildings(rows: list[dict[str, Any]], lines: list[int]) -> list[Problem]:
    """A leader of a building nobody lives in, in the directory or in the file, is a typo."""
    known = set(db.session.scalars(select(Resident.building).distinct()))
    known |= {str(fields.get("building") or "") for fields in rows}
    return [
        Problem("unknown_building", {"value": building}, line)
        for fields, line in zip(rows, lines, strict=True)
        for building in fields.get("leader_of", ())
        if building not in known
    ]


def _keep_contact_details(resident: Resident, contacts: list[FamilyContact]) -> None:
    """A file names contacts without relation or update wish: keep what staff set for each."""
    known = {contact.phone: contact for contact in resident.family_contacts}
    for contact in contacts:
        if contact.phone in known:
            contact.relation = known[contact.phone].relation
            contact.receives_updates = known[contact.phone].receives_updates


def _write(rows: list[dict[str, Any]], report: ImportReport) -> None:
    for fields in rows:
        leads = fields.pop("leader_of", None)
        existing = db.session.scalar(select(Resident).where(Resident.phone == fields["phone"]))
        if existing is None:
            resident = Resident(**fields)
            db.session.add(resident)
            report.imported += 1
        else:
            if "family_contacts" in fields:
                _keep_contact_details(existing, fields["family_contacts"])
            for key, value in fields.items():
                setattr(existing, key, value)
            resident = existing
            report.updated += 1
        if leads is not None:
            db.session.flush()  # a new resident's id, for its leaderships
            set_buildings(resident, leads)


def import_text(text: str, region: str = DEFAULT_REGION, *, replace: bool = False) -> ImportReport:
    """Validate every row first; write only if all are good, in one transaction."""
    rows, problems = parse_rows(text, region, replace)
    report = ImportReport(problems=problems)
    if problems:
        return report
    _write(rows, report)
    db.session.commit()
    return report


def import_bytes(
    data: bytes, region: str = DEFAULT_REGION, *, replace: bool = False
) -> ImportReport:
    """An uploaded file: UTF-8, with or without the byte-order mark Excel writes."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportReport(problems=[Problem("not_utf8")])
    return import_text(text, region, replace=replace)


def import_residents(
    path: Path, region: str = DEFAULT_REGION, *, replace: bool = False
) -> ImportReport:
    return import_bytes(path.read_bytes(), region, replace=replace)
