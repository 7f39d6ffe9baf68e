"""Import residents from a CSV file: all rows or none, with every bad row named by its line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from sqlalchemy import select

from cases.models import FamilyContact, Resident
from hotline.config import HoursWindow
from hotline.db import db
from ivr.prompts import LOCALES

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
)
REQUIRED = ("phone", "name")
TRUE_WORDS = {"1", "true", "yes", "y", "是"}
FALSE_WORDS = {"", "0", "false", "no", "n", "否"}


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


class RowError(ValueError):
    pass


def normalise_phone(text: str, region: str) -> str:
    """A phone number in E.164 form, or RowError saying why it is not one."""
    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException as error:
        raise RowError(f"phone {text!r} is not a phone number") from error
    if not phonenumbers.is_possible_number(number):
        raise RowError(f"phone {text!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _contacts(text: str, region: str) -> list[FamilyContact]:
    """'李明:+8613900000001;王芳:13900000002' -> contacts who receive updates."""
    contacts = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, sep, phone = item.rpartition(":")
        if not sep or not name.strip():
            raise RowError(f"family contact {item!r} should look like Name:+8613900000000")
        contacts.append(FamilyContact(name=name.strip(), phone=normalise_phone(phone, region)))
    return contacts


def _flag(text: str, column: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise RowError(f"{column} should be yes or no, got {text!r}")


def _resident_fields(row: dict[str, str], region: str) -> dict[str, object]:
    missing = [column for column in REQUIRED if not (row.get(column) or "").strip()]
    if missing:
        raise RowError(f"missing {', '.join(missing)}")
    language = (row.get("language") or "zh-CN").strip() or "zh-CN"
    if language not in LOCALES:
        raise RowError(f"language {language!r} is not one of {', '.join(LOCALES)}")
    hours = (row.get("preferred_call_hours") or "").strip()
    if hours:
        try:
            HoursWindow.parse(hours)
        except ValueError as error:
            raise RowError(str(error)) from error
    return {
        "phone": normalise_phone(row["phone"], region),
        "name": row["name"].strip()[:100],
        "address": (row.get("address") or "").strip()[:200],
        "building": (row.get("building") or "").strip()[:50],
        "grid": (row.get("grid") or "").strip()[:50],
        "language": language,
        "preferred_call_hours": hours or None,
        "do_not_call": _flag(row.get("do_not_call") or "", "do_not_call"),
        "family_contacts": _contacts(row.get("family_contacts") or "", region),
    }


def parse_rows(text: str, region: str) -> tuple[list[dict[str, object]], list[str]]:
    reader = csv.DictReader(io.StringIO(text))
    unknown = set(reader.fieldnames or ()) - set(COLUMNS)
    if not reader.fieldnames or not set(REQUIRED) <= set(reader.fieldnames):
        return [], [f"line 1: the header must name at least {', '.join(REQUIRED)}"]
    errors = [f"line 1: unknown columns {', '.join(sorted(unknown))}"] if unknown else []
    rows: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            errors.append(f"line {line}: more fields than the header has")
            continue
        try:
            fields = _resident_fields(row, region)
        except RowError as error:
            errors.append(f"line {line}: {error}")
            continue
        phone = str(fields["phone"])
        if phone in seen:
            errors.append(f"line {line}: phone already given on line {seen[phone]}")
            continue
        seen[phone] = line
        rows.append(fields)
    return rows, errors


def import_residents(path: Path, region: str = "CN") -> ImportReport:
    """Validate every row first; write only if all are good, in one transaction."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return ImportReport(errors=["the file is not UTF-8 text (save the CSV as UTF-8)"])
    rows, errors = parse_rows(text, region)
    report = ImportReport(errors=errors)
    if errors:
        return report
    for fields in rows:
        existing = db.session.scalar(select(Resident).where(Resident.phone == fields["phone"]))
        if existing is None:
            db.session.add(Resident(**fields))
            report.imported += 1
        else:
            for key, value in fields.items():
                setattr(existing, key, value)
            report.updated += 1
    db.session.commit()
    return report
