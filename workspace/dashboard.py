"""Dashboard: cases per week by category, open against overdue, rates per grid.

The charts are SVG drawn on the server: no script, no chart library, nothing to build. The
geometry is worked out here and the template writes the elements; colours come from classes
in reports.css (the Content-Security-Policy forbids style=""). Every bar carries a <title>
with its number, and every chart has a table with the same numbers beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from accounts.models import Role, User
from cases.permissions import case_scope
from cases.reports import (
    RESPONSE_HOURS,
    GridLoad,
    Period,
    WeekCounts,
    all_grids,
    grid_rates,
    open_and_overdue,
    recent_weeks,
    weekly_counts,
)
from hotline.clock import now
from triage import CATEGORIES
from workspace.formatting import category_label, centre_zone
from workspace.i18n import t
from workspace.ledger import BadPeriod, centre_today, requested_period
from workspace.views import add_to_nav

bp = Blueprint("dashboard", __name__)

READERS = (Role.ADMIN, Role.STAFF, Role.GRID_WORKER)
add_to_nav("dashboard.index", "common.dashboard", READERS)

WEEKS = 12
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 36  # room for the axis labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class Chart:
    """What the template draws: bars, labels under them and the value axis."""

    bars: list[Bar] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)  # (x of the centre, text)
    ticks: list[tuple[float, int]] = field(default_factory=list)  # (y, value)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: int = HEIGHT - BOTTOM


def axis_top(largest: int) -> tuple[int, int]:
    """A round top for the value axis and a whole-number step giving at most five ticks."""
    rough = max(largest, 1) / 4
    magnitude = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return max(step, math.ceil(max(largest, 1) / step) * step), step


def _frame(largest: int, columns: int) -> tuple[Chart, float, float]:
    """An empty chart scaled for `largest`; returns it, the column width and pixels per unit."""
    top, step = axis_top(largest)
    chart = Chart()
    plot_height = chart.baseline - TOP
    scale = plot_height / top
    chart.ticks = [(chart.baseline - value * scale, value) for value in range(0, top + 1, step)]
    return chart, (WIDTH - LEFT - RIGHT) / max(columns, 1), scale


def week_chart(weeks: list[WeekCounts]) -> Chart:
    """Stacked bars: one per week, one segment per category, in the categories' order."""
    chart, column, scale = _frame(max((week.total for week in weeks), default=0), len(weeks))
    for index, week in enumerate(weeks):
        x = LEFT + index * column + column * 0.15
        y = float(chart.baseline)
        label = week.monday.strftime("%m-%d")
        chart.labels.append((LEFT + (index + 0.5) * column, label))
        for category in CATEGORIES:
            count = week.by_category.get(category, 0)
            if not count:
                continue
            y -= count * scale
            title = t("dashboard.bar_week", week=label, category=category_label(category), n=count)
            chart.bars.append(Bar(x, y, column * 0.7, count * scale, f"cat-{category}", title))
    return chart


def grid_name(grid: str | None) -> str:
    return grid or t("dashboard.no_grid")


def load_chart(loads: list[GridLoad]) -> Chart:
    """Two bars per grid: its open cases and, beside them, the overdue ones among them."""
    chart, column, scale = _frame(max((load.open for load in loads), default=0), len(loads))
    for index, load in enumerate(loads):
        name = grid_name(load.grid)
        chart.labels.append((LEFT + (index + 0.5) * column, name))
        for offset, (kind, count) in enumerate((("open", load.open), ("overdue", load.overdue))):
            x = LEFT + index * column + column * (0.1 + 0.4 * offset)
            title = t(f"dashboard.bar_{kind}", grid=name, n=count)
            chart.bars.append(
                Bar(
                    x,
                    chart.baseline - count * scale,
                    column * 0.38,
                    count * scale,
                    f"bar-{kind}",
                    title,
                )
            )
    return chart


def percent(part: int, whole: int) -> str:
    """'66.7% (2/3)', or a dash when there is nothing to divide by."""
    if not whole:
        return "—"
    return f"{100 * part / whole:.1f}% ({part}/{whole})"


def _reader() -> User:
    user: User = current_user
    if user.role not in READERS:
        abort(403)
    return user


@bp.get("/dashboard")
@login_required
def index() -> ResponseReturnValue:
    """The last twelve weeks at a glance, and each grid's rates for a period (?start=&end=)."""
    user = _reader()
    scope, zone, moment = case_scope(user), centre_zone(), now()
    mondays = recent_weeks(centre_today(), WEEKS)
    status = 200
    default = Period(mondays[0], centre_today())
    try:
        period = requested_period(default)
    except BadPeriod as error:
        flash(str(error), "error")
        period, status = default, 400
    weeks = weekly_counts(scope, mondays, zone)
    loads = open_and_overdue(scope, moment)
    rates = grid_rates(scope, *period.bounds(zone), moment)
    used = [c for c in CATEGORIES if any(week.by_category.get(c) for week in weeks)]
    return render_template(
        "dashboard.html",
        weeks=weeks,
        week_chart=week_chart(weeks),
        categories=used,
        loads=loads,
        load_total=GridLoad("", sum(x.open for x in loads), sum(x.overdue for x in loads)),
        load_chart=load_chart(loads),
        rates=rates,
        rates_total=all_grids(rates),
        period=period,
        response_hours=RESPONSE_HOURS,
        percent=percent,
        grid_name=grid_name,
        own_grid=user.grid if user.role == Role.GRID_WORKER else None,
    ), status
