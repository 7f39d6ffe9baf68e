"""The weekly ledger (台账): a period's cases as CSV and XLSX, with handler, outcome, dates
and satisfaction, in the reader's language and the centre's time zone.

The phone column shows only the last four digits, for everyone. The ledger is an internal
document, but it leaves the system: it is mailed to the street office, printed for the weekly
meeting, kept in shared folders. Four digits tell two callers apart in a meeting; the case
number leads to the full record, and whoever may call the resident back finds the number there.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import select

from accounts.models import Role, User
from cases.models import Case
from cases.permissions import case_scope
from cases.reports import (
    LEDGER_COLUMNS,
    Period,
    ProblemCount,
    last_full_week,
    ledger_cases,
    ledger_record,
    ledger_reports,
    problem_count,
    spreadsheet_safe,
    week_of,
)
from hotline.clock import now
from hotline.db import db
from workspace import formatting
from workspace.i18n import t
from workspace.views import add_to_nav

bp = Blueprint("ledger", __name__)

READERS = (Role.ADMIN, Role.STAFF, Role.GRID_WORKER)
add_to_nav("ledger.index", "common.ledger", READERS)

MAX_DAYS = 366
NUMBERS = ("number", "problem", "reporters")  # whole numbers in the workbook, to add up
PREVIEW_ROWS = 100
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
WIDTHS = {
    "summary": 40,
    "outcome": 40,
    "closed_as": 24,
    "close_reason": 40,
    "opened_at": 17,
    "resolved_at": 17,
    "closed_at": 17,
}
LABELS = {
    "category": formatting.category_label,
    "urgency": formatting.urgency_label,
    "status": formatting.status_label,
    "satisfaction": formatting.satisfaction_label,
    "phone": formatting.masked_phone,
}


class BadPeriod(ValueError):
    """The dates asked for make no period; str(error) says why, in the reader's language."""


def _reader() -> User:
    user: User = current_user
    if user.role not in READERS:
        abort(403)
    return user


def _day(name: str) -> date:
    text = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadPeriod(t("ledger.bad_date", field=t(f"ledger.{name}"), value=text[:20])) from None


def centre_today() -> date:
    return now().astimezone(formatting.centre_zone()).date()


def requested_period(default: Period | None = None) -> Period:
    """From ?start=YYYY-MM-DD&end=YYYY-MM-DD (both days included); by default, this week."""
    if not request.args.get("start") and not request.args.get("end"):
        return default or week_of(centre_today())
    period = Period(_day("start"), _day("end"))
    if period.last < period.first:
        raise BadPeriod(t("ledger.end_before_start"))
    if period.days > MAX_DAYS:
        raise BadPeriod(t("ledger.too_long", days=MAX_DAYS))
    return period


def _grid(user: User) -> str | None:
    """The grid asked for; a grid worker's ledger is their grid's already (case_scope)."""
    if user.role == Role.GRID_WORKER:
        return None
    return request.args.get("grid", "").strip()[:50] or None


def _cases(user: User, period: Period) -> list[dict[str, Any]]:
    return _ledger(user, period)[0]


def _ledger(user: User, period: Period) -> tuple[list[dict[str, Any]], ProblemCount]:
    """The period's ledger lines, and how many problems and reporters they hold."""
    start, end = period.bounds(formatting.centre_zone())
    moment = now()
    cases = ledger_cases(case_scope(user), start, end, _grid(user))
    reports = ledger_reports(cases)
    return [ledger_record(case, moment, reports) for case in cases], problem_count(cases)


def problems_text(count: ProblemCount) -> str:
    """ "1 problem, 5 reporters": a problem reported by several residents counts once."""
    problems = t(f"ledger.problems.{'one' if count.problems == 1 else 'other'}", n=count.problems)
    reporters = t(
        f"ledger.reporters.{'one' if count.reporters == 1 else 'other'}", n=count.reporters
    )
    return t("ledger.problems_and_reporters", problems=problems, reporters=reporters)


def cell_text(column: str, value: Any) -> str:
    """A ledger value as the reader sees it: local times, translated codes, masked phone.
    Nothing (a case not yet resolved has no date) is an empty cell."""
    if value is None:
        return ""
    if column == "closed_as":
        return formatting.closed_as_label(*value)
    if column in LABELS:
        return LABELS[column](value)
    if isinstance(value, datetime):
        return formatting.local_time(value)
    if column == "source":
        return t(f"ledger.source.{value.value}")
    if column == "overdue":
        return t("ledger.yes") if value else t("ledger.no")
    return str(value)


def headers() -> list[str]:
    return [t(f"ledger.column.{column}") for column in LEDGER_COLUMNS]


def _grids(user: User) -> list[str]:
    if user.role == Role.GRID_WORKER:
        return []
    query = select(Case.grid).where(Case.grid != "").distinct().order_by(Case.grid)
    return list(db.session.scalars(query))


def _week_links(user: User) -> list[tuple[str, str]]:
    """This week and last week, one click each, for the grid being looked at."""
    today = centre_today()
    grid = _grid(user)
    links = []
    for name, week in (("this_week", week_of(today)), ("last_week", last_full_week(today))):
        args: dict[str, Any] = {"start": week.first.isoformat(), "end": week.last.isoformat()}
        if grid:
            args["grid"] = grid
        links.append((t(f"ledger.{name}"), url_for("ledger.index", **args)))
    return links


def _page(user: User, period: Period | None, status: int = 200) -> ResponseReturnValue:
    rows, counted = _ledger(user, period) if period else ([], ProblemCount(0, 0))
    return render_template(
        "ledger.html",
        period=period,
        start=request.args.get("start", period.first.isoformat() if period else ""),
        end=request.args.get("end", period.last.isoformat() if period else ""),
        grid=_grid(user) or "",
        grids=_grids(user),
        own_grid=user.grid if user.role == Role.GRID_WORKER else None,
        week_links=_week_links(user),
        count=len(rows),
        problems=problems_text(counted),
        headers=headers(),
        preview=[[cell_text(c, row[c]) for c in LEDGER_COLUMNS] for row in rows[:PREVIEW_ROWS]],
    ), status


@bp.get("/ledger")
@login_required
def index() -> ResponseReturnValue:
    """Choose a period (this week by default, last week a click away) and a grid; see the
    cases; download the ledger."""
    user = _reader()
    period = _period_or_page(user)
    if not isinstance(period, Period):
        return period
    return _page(user, period)


def _download(body: bytes, content_type: str, period: Period, extension: str) -> Response:
    name = f"ledger_{period.first.isoformat()}_{period.last.isoformat()}.{extension}"
    return Response(
        body,
        content_type=content_type,
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


def _period_or_page(user: User) -> Period | ResponseReturnValue:
    try:
        return requested_period()
    except BadPeriod as error:
        flash(str(error), "error")
        return _page(user, None, 400)


@bp.get("/ledger.csv")
@login_required
def csv_file() -> ResponseReturnValue:
    """The ledger as CSV: UTF-8 with a byte-order mark for Excel; formulas neutralised."""
    user = _reader()
    period = _period_or_page(user)
    if not isinstance(period, Period):
        return period
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(headers())
    for row in _cases(user, period):
        writer.writerow([spreadsheet_safe(cell_text(c, row[c])) for c in LEDGER_COLUMNS])
    return _download(buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8", period, "csv")


def _xlsx_cell(sheet: WriteOnlyWorksheet, column: str, value: Any) -> WriteOnlyCell:
    """Times as real dates (sortable, in local time); everything else as typed text.

    Text cells are typed as strings, so "=..." from a transcript is shown, never calculated:
    the XLSX form of the CSV's formula guard, without a visible apostrophe. Nothing is an
    empty cell, not a text."""
    if value is None:
        return WriteOnlyCell(sheet, value=None)
    if isinstance(value, datetime):
        local = value.astimezone(formatting.centre_zone()).replace(tzinfo=None)
        cell = WriteOnlyCell(sheet, value=local)
        cell.number_format = DATE_FORMAT
        return cell
    if column in NUMBERS:
        return WriteOnlyCell(sheet, value=int(value))
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", cell_text(column, value)))
    cell.data_type = "s"
    return cell


def ledger_workbook(user: User, period: Period) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(t("ledger.sheet"))
    for index, column in enumerate(LEDGER_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column, 12)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = [WriteOnlyCell(sheet, value=text) for text in headers()]
    for cell in header_cells:
        cell.font = bold
    sheet.append(header_cells)
    for row in _cases(user, period):
        sheet.append([_xlsx_cell(sheet, c, row[c]) for c in LEDGER_COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@bp.get("/ledger.xlsx")
@login_required
def xlsx_file() -> ResponseReturnValue:
    """The ledger as an Excel workbook, one row per case, dates as dates."""
    user = _reader()
    period = _period_or_page(user)
    if not isinstance(period, Period):
        return period
    return _download(ledger_workbook(user, period), XLSX_TYPE, period, "xlsx")
