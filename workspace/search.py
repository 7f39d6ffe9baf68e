"""Search from every page (the box in the header): a case by its number, phone, resident or
words, and residents by name, phone, address or building; each reader finds only what they may
see (cases.permissions.case_scope, workspace.residents.resident_scope)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.models import User
from cases.models import Case, Resident
from cases.permissions import can_view, case_scope
from cases.search import (
    MAX_QUERY_LENGTH,
    Match,
    case_id_in,
    find_cases,
    phone_query,
    resident_condition,
)
from hotline.clock import now
from hotline.db import db
from hotline.phones import region_of_locale
from hotline.settings import current_settings
from workspace.i18n import t
from workspace.inbox import row_of
from workspace.residents import DIRECTORY, resident_scope

bp = Blueprint("search", __name__)

CASES_SHOWN = 50
RESIDENTS_SHOWN = 20


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _region() -> str:
    """Where a number typed without +country is read: the centre's country."""
    return region_of_locale(current_settings().default_locale)


def _residents(query: str, user: User) -> list[Resident]:
    if user.role not in DIRECTORY:
        return []  # departments have no directory
    condition = resident_condition(query, phone_query(query, _region()))
    if condition is None:
        return []
    statement = (
        select(Resident)
        .where(resident_scope(user), condition)
        .order_by(Resident.name, Resident.id)
        .limit(RESIDENTS_SHOWN)
    )
    return list(db.session.scalars(statement))


def _the_case(query: str, user: User) -> Case | None:
    """The case a query names by number, if this reader may open it."""
    case_id = case_id_in(query)
    case = db.session.get(Case, case_id) if case_id is not None else None
    return case if case is not None and can_view(user, case) else None


@bp.get("/search")
@login_required
def index() -> ResponseReturnValue:
    """A case number opens the case; anything else lists the cases and residents it finds."""
    query = request.args.get("q", "").replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    me = _me()
    if not query:
        return render_template("search.html", search_query="", rows=[], residents=[])
    case = _the_case(query, me)
    if case is not None:
        flash(t("search.opened_case", number=case.number), "success")
        return redirect(url_for("case_page.show", case_id=case.id), code=303)
    found = find_cases(query, case_scope(me), _region(), CASES_SHOWN)
    moment = now()
    return render_template(
        "search.html",
        search_query=query,
        rows=[row_of(case, moment) for case, _ in found],
        matches={case.id: _ways(matches) for case, matches in found},
        residents=_residents(query, me),
        full=len(found) >= CASES_SHOWN,
    )


def _ways(matches: tuple[Match, ...]) -> str:
    return t("common.list_separator").join(t(f"search.match.{match.value}") for match in matches)
