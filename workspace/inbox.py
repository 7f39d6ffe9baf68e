"""Inbox: new and open cases, most urgent and oldest first; filters, search, paging.

Pages are walked with a keyset ("after this case"), never OFFSET, and nothing counts the whole
table, so the 2,000th page costs what the first does, at 100,000 cases or more.

The reader's own open cases come first, above the list. The page asks `/cases/live` every
30 s (static/inbox.js) for the list as it is now and for the cases opened since it was shown,
emergencies first, for a banner. Several cases can be assigned or closed as opened by mistake
at once (cases.bulk: all of them or none).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.orm import defer, joinedload
from werkzeug.datastructures import MultiDict

from accounts.models import User
from cases import bulk
from cases.errors import Refused
from cases.lifecycle import is_overdue
from cases.models import MISTAKES, OPEN_STATUS_VALUES, Case, CaseSource, CaseStatus, Urgency
from cases.permissions import can_edit, case_scope, may_record_requests
from cases.search import MAX_QUERY_LENGTH, query_tokens, search_condition
from hotline.clock import now
from hotline.db import UTCDateTime, db
from triage import CATEGORIES
from workspace.formatting import centre_zone, masked_phone, urgency_label
from workspace.i18n import say, t
from workspace.views import EVERYONE, add_to_nav

bp = Blueprint("inbox", __name__)

add_to_nav("inbox.index", "common.inbox", EVERYONE)

PAGE_SIZE = 50
EXCERPT_LENGTH = 60  # characters: about two lines of Chinese in the table
STATUS_CHOICES = ("open", "all", *(status.value for status in CaseStatus))
ASSIGNEE_CHOICES = ("", "mine", "unassigned")  # or a user's id
TEXT_LIMIT = 50  # grid and building names are at most 50 characters
MAX_ID_DIGITS = 9  # ids fit a 32-bit integer column
QUEUE_SIZE = 20  # the reader's own open cases shown above the list
BANNER_CASES = 10  # new cases named in the banner; the count says how many more
REFRESH_SECONDS = 30


@dataclass
class Filters:
    """What the filter form asked for, as valid values; `problems` says what was ignored."""

    status: str = "open"
    category: str = ""
    urgency: str = ""
    source: str = ""
    grid: str = ""
    building: str = ""
    assignee: str = ""
    overdue: bool = False
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""
    problems: list[str] = field(default_factory=list)

    def query_args(self) -> dict[str, str]:
        """The non-default filters as URL parameters, for the paging links."""
        args = {
            "status": self.status if self.status != "open" else "",
            "category": self.category,
            "urgency": self.urgency,
            "source": self.source,
            "grid": self.grid,
            "building": self.building,
            "assignee": self.assignee,
            "overdue": "1" if self.overdue else "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "q": self.query,
        }
        return {key: value for key, value in args.items() if value}


def _choice(
    args: MultiDict[str, str], name: str, allowed: tuple[str, ...], filters: Filters
) -> str:
    value = args.get(name, "").strip()
    if value and value not in allowed:
        filters.problems.append(t(f"inbox.bad_{name}", value=value[:40]))
        return ""
    return value


def _date(args: MultiDict[str, str], name: str, filters: Filters) -> date | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        filters.problems.append(t("inbox.bad_date", value=value[:40]))
        return None


def _assignee(args: MultiDict[str, str], filters: Filters) -> str:
    value = args.get("assignee", "").strip()
    if value in ASSIGNEE_CHOICES or (
        value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS
    ):
        return value
    filters.problems.append(t("inbox.bad_assignee", value=value[:40]))
    return ""


def _text(args: MultiDict[str, str], name: str) -> str:
    # PostgreSQL refuses NUL characters in a string: never let one reach a query.
    return args.get(name, "").replace("\x00", "").strip()[:TEXT_LIMIT]


def parse_filters(args: MultiDict[str, str]) -> Filters:
    filters = Filters()
    filters.status = _choice(args, "status", STATUS_CHOICES, filters) or "open"
    filters.category = _choice(args, "category", CATEGORIES, filters)
    filters.urgency = _choice(args, "urgency", tuple(level.value for level in Urgency), filters)
    filters.source = _choice(args, "source", tuple(source.value for source in CaseSource), filters)
    filters.grid = _text(args, "grid")
    filters.building = _text(args, "building")
    filters.assignee = _assignee(args, filters)
    filters.overdue = args.get("overdue", "") not in ("", "0")
    filters.date_from = _date(args, "from", filters)
    filters.date_to = _date(args, "to", filters)
    filters.query = args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    if filters.query and not query_tokens(filters.query):
        filters.problems.append(t("inbox.empty_search"))
        filters.query = ""
    return filters


# ---------------------------------------------------------------- the keyset cursor


def encode_cursor(case: Case) -> str:
    """The last row's sort key, opaque in the URL: "after (priority, opened, id)"."""
    key = f"{case.priority}|{case.created_at.astimezone(UTC).isoformat()}|{case.id}"
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[int, datetime, int]:
    """Raises ValueError for anything encode_cursor did not make."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        priority, opened, case_id = raw.split("|")
        moment = datetime.fromisoformat(opened).astimezone(UTC)
    except (binascii.Error, UnicodeDecodeError, OverflowError) as error:
        raise ValueError("not a cursor") from error
    if priority not in ("0", "1", "2") or not (case_id.isascii() and case_id.isdigit()):
        raise ValueError("not a cursor")
    if not opened.endswith("+00:00") or len(case_id) > MAX_ID_DIGITS:
        raise ValueError("not a cursor")
    return int(priority), moment, int(case_id)


def _after(key: tuple[int, datetime, int]) -> ColumnElement[bool]:
    priority, opened, case_id = key
    return tuple_(Case.priority, Case.created_at, Case.id) > tuple_(
        literal(priority, Integer()), literal(opened, UTCDateTime()), literal(case_id, Integer())
    )


# ---------------------------------------------------------------- the query


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=centre_zone()).astimezone(UTC)


def open_cases() -> ColumnElement[bool]:
    """Open cases, with the values written into the SQL: so SQLite (and PostgreSQL's
    prepared statements) can prove the partial index of open cases applies."""
    values: BindParameter[list[str]] = bindparam(
        "open", list(OPEN_STATUS_VALUES), expanding=True, literal_execute=True
    )
    return Case.status.in_(values)


def _assignee_condition(assignee: str, user: User) -> ColumnElement[bool]:
    if assignee == "mine":
        return Case.assignee_id == user.id
    if assignee == "unassigned":
        return Case.assignee_id.is_(None)
    return Case.assignee_id == int(assignee)


def filter_conditions(filters: Filters, user: User, moment: datetime) -> list[ColumnElement[bool]]:
    conditions = [case_scope(user)]
    if filters.status == "open":
        conditions.append(open_cases())
    elif filters.status != "all":
        conditions.append(Case.status == CaseStatus(filters.status))
    if filters.category:
        conditions.append(Case.category == filters.category)
    if filters.urgency:
        conditions.append(Case.urgency == Urgency(filters.urgency))
    if filters.source:
        conditions.append(Case.source == CaseSource(filters.source))
    if filters.grid:
        conditions.append(Case.grid == filters.grid)
    if filters.building:
        conditions.append(Case.building == filters.building)
    if filters.assignee:
        conditions.append(_assignee_condition(filters.assignee, user))
    if filters.overdue:  # the same rule as cases.lifecycle.is_overdue, in SQL
        conditions.append(Case.deadline_at < moment)
        if filters.status != "open":
            conditions.append(open_cases())
    if filters.date_from:
        conditions.append(Case.created_at >= _local_midnight(filters.date_from))
    if filters.date_to:
        conditions.append(Case.created_at < _local_midnight(filters.date_to + timedelta(days=1)))
    return conditions


def inbox_query(
    filters: Filters, user: User, moment: datetime, after: tuple[int, datetime, int] | None
) -> Select[Case]:
    """One page and one row more (to know whether there is a next page)."""
    statement = select(Case).where(*filter_conditions(filters, user, moment))
    matching = search_condition(filters.query, db.session.connection())
    if matching is not None:
        statement = statement.where(matching)
    if after is not None:
        statement = statement.where(_after(after))
    return (
        statement.options(
            joinedload(Case.resident),
            joinedload(Case.assignee),
            # A page needs none of these, and transcript_words can be long.
            defer(Case.transcript_words),
            defer(Case.machine_transcript),
            defer(Case.search_text),
        )
        .order_by(Case.priority, Case.created_at, Case.id)
        .limit(PAGE_SIZE + 1)
    )


# ---------------------------------------------------------------- the page


@dataclass(frozen=True)
class Row:
    case: Case
    overdue: bool
    caller: str
    excerpt: str
    editable: bool = False  # the reader may change it: it can be chosen for a bulk action


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[:length].rstrip() + "…"


def row_of(case: Case, moment: datetime, user: User | None = None) -> Row:
    caller = case.resident.name if case.resident else case.person_name or masked_phone(case.phone)
    editable = user is not None and can_edit(user, case)
    return Row(case, is_overdue(case, moment), caller, excerpt(case.transcript), editable)


def _cursor_from(args: MultiDict[str, str], filters: Filters) -> tuple[int, datetime, int] | None:
    token = args.get("after", "").strip()
    if not token:
        return None
    try:
        return decode_cursor(token)
    except ValueError:
        filters.problems.append(t("inbox.bad_cursor"))
        return None


def _assignee_choices() -> list[tuple[int, str]]:
    users = db.session.scalars(select(User).where(User.active)).all()
    return sorted(((user.id, user.name) for user in users), key=lambda choice: choice[1])


def my_queue(user: User) -> Select[Case]:
    """The reader's own open cases, most urgent and oldest first: what they work on first."""
    return (
        select(Case)
        .where(Case.assignee_id == user.id, open_cases(), case_scope(user))
        .options(joinedload(Case.resident), joinedload(Case.assignee))
        .order_by(Case.priority, Case.created_at, Case.id)
        .limit(QUEUE_SIZE)
    )


def _selected(args: MultiDict[str, str]) -> set[int]:
    """Cases to show ticked again after a refused bulk action (`selected=3,5,8`)."""
    values = args.get("selected", "").split(",")[: bulk.MAX_CASES]
    return {
        int(value)
        for value in values
        if value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS
    }


def _list_context(filters: Filters, after: tuple[int, datetime, int] | None) -> dict[str, Any]:
    """The queue, the list and its paging links: what the page shows and /cases/live renews."""
    moment, me = now(), current_user._get_current_object()
    cases = db.session.scalars(inbox_query(filters, me, moment, after)).unique().all()
    page = cases[:PAGE_SIZE]
    first_view = after is None and not filters.query_args()
    queue = db.session.scalars(my_queue(me)).unique().all() if first_view else []
    return {
        "filters": filters,
        "queue": [row_of(case, moment, me) for case in queue],
        "rows": [row_of(case, moment, me) for case in page],
        "next_args": (
            {**filters.query_args(), "after": encode_cursor(page[-1])}
            if len(cases) > PAGE_SIZE
            else None
        ),
        "first_args": filters.query_args() if after is not None else None,
        "selected": _selected(request.args),
    }


def _live_args(filters: Filters, after: tuple[int, datetime, int] | None) -> dict[str, str]:
    """What /cases/live needs to render the same list: the filters, and the page."""
    return {**filters.query_args(), **({"after": request.args["after"]} if after else {})}


def latest_case_id() -> int:
    """The newest case's id: cases opened after the page was shown have larger ones."""
    return db.session.scalar(select(func.max(Case.id))) or 0


@bp.get("/cases")
@login_required
def index() -> ResponseReturnValue:
    """The cases this user may see, filtered and searched, most urgent and oldest first."""
    filters = parse_filters(request.args)
    after = _cursor_from(request.args, filters)
    context: dict[str, Any] = {
        **_list_context(filters, after),
        "categories": CATEGORIES,
        "urgencies": [level.value for level in Urgency],
        "sources": [source.value for source in CaseSource],
        "may_record": may_record_requests(current_user),
        "statuses": [status.value for status in CaseStatus],
        "assignees": _assignee_choices(),
        "mistakes": MISTAKES,
        "query_limit": MAX_QUERY_LENGTH,
        "seen": latest_case_id(),
        "live_args": _live_args(filters, after),
        "refresh_ms": REFRESH_SECONDS * 1000,
        "back": request.query_string.decode("utf-8", "replace"),
    }
    # The page still shows what it could; 400 tells a script the request was not all valid.
    return render_template("inbox.html", **context), 400 if filters.problems else 200


# ---------------------------------------------------------------- kept current by itself


def _seen(args: MultiDict[str, str]) -> int:
    value = args.get("seen", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS else 0


def arrived_since(user: User, seen: int) -> tuple[list[Case], int, int]:
    """Open cases the user may see opened after case id `seen`: the first few, emergencies
    first then newest, with how many there are and how many of them are emergencies."""
    condition = (case_scope(user), open_cases(), Case.id > seen)
    emergency = func.count().filter(Case.urgency == Urgency.EMERGENCY)
    total, emergencies = db.session.execute(
        select(func.count(), emergency).select_from(Case).where(*condition)
    ).one()
    first = db.session.scalars(
        select(Case)
        .where(*condition)
        .options(joinedload(Case.resident))
        .order_by(Case.priority, Case.id.desc())
        .limit(BANNER_CASES)
    ).unique()
    return list(first), int(total), int(emergencies or 0)


def _banner_case(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "number": case.number,
        "url": url_for("case_page.show", case_id=case.id),
        "urgency": case.urgency.value,
        "text": t(
            "live.case",
            number=case.number,
            urgency=urgency_label(case.urgency),
            caller=case.resident.name if case.resident else masked_phone(case.phone),
            excerpt=excerpt(case.transcript, 30),
        ),
    }


@bp.get("/cases/live")
@login_required
def live() -> ResponseReturnValue:
    """What the open inbox needs every 30 s: the cases opened since `seen` (emergencies first)
    and the banner's words; the list as it is now, unless the reader is on a later page."""
    filters = parse_filters(request.args)
    after = _cursor_from(request.args, filters)
    seen = _seen(request.args)
    arrived, total, emergencies = arrived_since(current_user, seen)
    listing = None
    if after is None:
        listing = render_template("inbox_list.html", **_list_context(filters, None))
    message = t("live.new", count=total) if total else ""
    if emergencies:
        message += " " + t("live.emergencies", count=emergencies)
    return jsonify(
        latest=latest_case_id(),
        new=total,
        emergencies=emergencies,
        message=message,
        cases=[_banner_case(case) for case in arrived],
        list=listing,
    )


# ---------------------------------------------------------------- several cases at once


def _chosen_ids() -> list[int]:
    values = request.form.getlist("case_id")[: bulk.MAX_CASES + 1]
    for value in values:
        if not (value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS):
            raise Refused("case.refused.bad_number", value=value[:20])
    return [int(value) for value in values]


def _assignee_from_form() -> User | None:
    raw = request.form.get("assignee_id", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_ID_DIGITS:
        raise Refused("case.refused.bad_number", value=raw[:20])
    user = db.session.get(User, int(raw))
    if user is None:
        raise Refused("case.refused.no_such_user")
    return user


def _do_bulk(action: str, case_ids: list[int]) -> tuple[int, str]:
    me = current_user._get_current_object()
    if action == "assign":
        done = bulk.assign_all(case_ids, _assignee_from_form(), me)
        return done, "bulk.done_assigned"
    if action == "close":
        note = request.form.get("note", "").replace("\r\n", "\n")
        how, duplicate_of = request.form.get("closed_as"), request.form.get("duplicate_of", "")
        done = bulk.close_all_as_mistake(case_ids, how, me, note, duplicate_of)
        return done, "bulk.done_closed"
    raise Refused("bulk.unknown_action")


def _back_to_inbox(refused_ids: list[int]) -> ResponseReturnValue:
    """The inbox as the form was sent from (its filters and page), with the refused batch
    still ticked so that only the refused cases need unticking."""
    args = MultiDict(parse_qsl(request.form.get("back", "")[:2000]))
    filters = parse_filters(args)
    where = filters.query_args()
    if args.get("after") and _cursor_from(args, filters) is not None:
        where["after"] = args["after"]
    if refused_ids:
        where["selected"] = ",".join(map(str, refused_ids))
    return redirect(url_for(".index") + ("?" + urlencode(where) if where else ""), code=303)


@bp.post("/cases/bulk")
@login_required
def bulk_action() -> ResponseReturnValue:
    """Assign the ticked cases to one person, or close them as junk or duplicates: each by the
    rules of its single action; if one is refused, none is changed and each refusal is named."""
    case_ids: list[int] = []
    try:
        case_ids = _chosen_ids()
        done, key = _do_bulk(request.form.get("do", ""), case_ids)
        db.session.commit()
    except bulk.BulkRefused as refused:
        db.session.rollback()
        flash(say(refused.message), "error")
        for refusal in refused.refusals:
            flash(t("bulk.refusal", number=refusal.number, why=say(refusal.message)), "error")
        return _back_to_inbox(case_ids)
    except Refused as refused:
        db.session.rollback()
        flash(say(refused.message), "error")
        return _back_to_inbox(case_ids)
    flash(t(key, count=done), "success")
    return _back_to_inbox([])
