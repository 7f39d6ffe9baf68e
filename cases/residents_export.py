"""The residents directory as CSV, in the columns `hotline residents import` reads back.

Excel opens the file correctly: UTF-8 with a byte-order mark (without it, Excel on a Chinese
Windows reads the names as GBK and shows garbage), and no cell a spreadsheet would run.

CSV injection: a cell starting with = + - @ (or a tab or carriage return) is written with a
leading ' so a spreadsheet shows it as text instead of evaluating it. The phone column gets
the same guard, on purpose: a number like +8613800000001 is harmless, but Excel reads it as
the number 8.61E+12 and writes it back that way, losing the number. Written as
'+8613800000001 it stays text in Excel, and the importer removes exactly that one ' before a
formula character (cases.residents_import.unescape_cell), so a file exported here, opened
and saved in a spreadsheet or not, imports again unchanged.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from cases.models import BuildingLeader, FamilyContact, Resident
from cases.reports import spreadsheet_safe
from cases.residents_import import COLUMNS
from hotline.db import db

BYTE_ORDER_MARK = "\ufeff"


def contacts_cell(contacts: Iterable[FamilyContact]) -> str:
    """'李明:+8613900000001;王芳:+8613900000002', the import's format."""
    return ";".join(f"{contact.name}:{contact.phone}" for contact in contacts)


def resident_row(resident: Resident, leader_of: Iterable[str] = ()) -> dict[str, str]:
    return {
        "phone": resident.phone,
        "name": resident.name,
        "address": resident.address,
        "building": resident.building,
        "grid": resident.grid,
        "language": resident.language,
        "family_contacts": contacts_cell(resident.family_contacts),
        "preferred_call_hours": resident.preferred_call_hours or "",
        "do_not_call": "yes" if resident.do_not_call else "no",
        "leader_of": ";".join(leader_of),
    }


def _buildings_led() -> dict[int, list[str]]:
    """Every resident leader's buildings, in one query."""
    leads: dict[int, list[str]] = defaultdict(list)
    rows = db.session.execute(
        select(BuildingLeader.resident_id, BuildingLeader.building)
        .where(BuildingLeader.resident_id.is_not(None))
        .order_by(BuildingLeader.building)
    )
    for resident_id, building in rows:
        if resident_id is not None:
            leads[resident_id].append(building)
    return leads


def residents_csv(residents: Iterable[Resident]) -> str:
    """The whole file as text, byte-order mark first; every cell guarded against formulas."""
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    leads = _buildings_led()
    for resident in residents:
        row = resident_row(resident, leads.get(resident.id, ()))
        writer.writerow([spreadsheet_safe(row[column]) for column in COLUMNS])
    return buffer.getvalue()
