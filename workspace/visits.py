"""Home visits: a grid worker's open visits as cards ("My visits"), one visit's page, and the
forms that record what the worker found or schedule a visit (also on the case page).

Made for a phone held in one hand on a doorstep: cards rather than a table, one choice of
four big options (met and satisfied, basically satisfied, not satisfied; or not met), a
note, one button. The rules are outreach.visits'; a refusal changes nothing and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from accounts.models import Role, User
from cases.errors import Refused
from cases.models import CASE_NUMBER_OFFSET, Case, CaseStatus, Satisfaction
from hotline.db import db
from outreach.models import FollowUp, VisitRecord
from outreach.schedule import open_visit
from outreach.visits import (
    MAX_DAYS_AHEAD,
    Outcome,
    is_open,
    local_today,
    may_record_visits,
    may_visit,
    not_met_count,
    open_visits,
    record_visit,
    schedule_visit,
    visible_visit,
)
from workspace.formatting import local_time, satisfaction_label
from workspace.i18n import say, t
from workspace.views import add_to_nav

bp = Blueprint("visits", __name__)

add_to_nav("visits.index", "common.visits", (Role.ADMIN, Role.STAFF, Role.GRID_WORKER))

# The page's one choice: what the worker found.
RESULTS: dict[str, Outcome] = {
    "satisfied": Outcome(met=True, answer=Satisfaction.SATISFIED),
    "basically_satisfied": Outcome(met=True, answer=Satisfaction.BASICALLY_SATISFIED),
    "not_satisfied": Outcome(met=True, answer=Satisfaction.NOT_SATISFIED),
    "not_met": Outcome(met=False),
}


def _me() -> User:
    user: User = current_user._get_current_object()
    if not may_record_visits(user):
        abort(403)
    return user


@dataclass(frozen=True)
class VisitPanel:
    """What the case page offers about visits to this reader, for a resolved case."""

    visit: FollowUp | None  # the open visit, if one is scheduled
    today: date
    last_day: date

    @property
    def why(self) -> str:
        return why(self.visit) if self.visit is not None else ""


def visit_panel(case: Case) -> VisitPanel | None:
    """The case page's visit section: only for a resolved case, and for whoever may visit."""
    user: User = current_user._get_current_object()
    if case.status != CaseStatus.RESOLVED or not may_visit(user, case):
        return None
    today = local_today()
    return VisitPanel(open_visit(case), today, today + timedelta(days=MAX_DAYS_AHEAD))


def why(visit: FollowUp) -> str:
    """Why this visit: who asked for it, or the unanswered calls; and earlier tries."""
    if visit.scheduled_by is not None:
        reason = t("visits.why.scheduled", name=visit.scheduled_by.name)
    else:
        reason = t("visits.why.unanswered")
    tries = not_met_count(visit)
    return t("visits.why.not_met", reason=reason, count=tries) if tries else reason


def record_text(record: VisitRecord) -> str:
    """One earlier visit, as a line: when, who, what they found."""
    found = (
        t("visits.found.met", answer=satisfaction_label(record.answer))
        if record.met
        else t("visits.found.not_met")
    )
    return t(
        "visits.record_line",
        time=local_time(record.recorded_at),
        name=record.recorded_by.name,
        found=found,
    )


@bp.app_context_processor
def _visit_helpers() -> dict[str, Any]:
    return {"visit_panel": visit_panel, "visit_results": list(RESULTS)}


# ---- pages -----------------------------------------------------------------------------------


@bp.get("/visits")
@login_required
def index() -> ResponseReturnValue:
    """The visits waiting to be recorded: a grid worker's grid, or every grid for staff."""
    me = _me()
    visits = open_visits(me)
    return render_template("visits.html", visits=visits, why=why, mine=me.role == Role.GRID_WORKER)


@bp.get("/visits/<int:visit_id>")
@login_required
def show(visit_id: int) -> ResponseReturnValue:
    """One visit: whom to see, where, what was done, and the form to record it."""
    visit = visible_visit(_me(), visit_id)
    if visit is None:
        abort(404)  # another grid's is as invisible as a missing one
    recordable = is_open(visit) and visit.case.status == CaseStatus.RESOLVED
    return render_template(
        "visit.html",
        visit=visit,
        case=visit.case,
        recordable=recordable,
        why=why(visit),
        records=[record_text(record) for record in visit.records],
    )


@bp.post("/cases/<int:case_id>/visits")
@login_required
def record(case_id: int) -> ResponseReturnValue:
    """Record what the worker found on a visit to the case's resident."""
    me = _me()
    case = _case_to_visit(me, case_id)
    if case is None:
        return _refused_here(case_id)
    result = request.form.get("result", "")
    outcome = RESULTS.get(result)
    visit = open_visit(case)
    try:
        if outcome is None:
            raise Refused("visits.refused.choose_result")
        outcome = Outcome(outcome.met, outcome.answer, request.form.get("note", ""))
        done = record_visit(case, me, outcome)
        db.session.commit()
    except Refused as refusal:
        db.session.rollback()
        flash(say(refusal.message), "error")
        return _back(case, stay_on=visit)
    flash(_recorded_text(case, done), "success")
    return _back(case)


@bp.post("/cases/<int:case_id>/visits/schedule")
@login_required
def schedule(case_id: int) -> ResponseReturnValue:
    """Staff (or the grid worker) ask for a visit on a day."""
    me = _me()
    case = _case_to_visit(me, case_id)
    if case is None:
        return _refused_here(case_id)
    try:
        visit = schedule_visit(case, me, _form_day("due_on"))
        db.session.commit()
    except Refused as refusal:
        db.session.rollback()
        flash(say(refusal.message), "error")
    else:
        flash(t("visits.done.scheduled", when=local_time(visit.due_at)), "success")
    return redirect(url_for("case_page.show", case_id=case_id, _anchor="visit"), code=303)


# ---- helpers ---------------------------------------------------------------------------------


def _case_to_visit(me: User, case_id: int) -> Case | None:
    case = db.session.get(Case, case_id)
    return case if case is not None and may_visit(me, case) else None


def _refused_here(case_id: int) -> Response:
    """Not a case this reader may visit (another grid's, or none): said plainly, and the
    same whether or not it exists; nothing is changed."""
    flash(t("visits.refused.not_yours", number=str(CASE_NUMBER_OFFSET + case_id)), "error")
    return redirect(url_for(".index"), code=303)


def _form_day(name: str) -> date:
    """A date field (YYYY-MM-DD, as a date input sends it), or a refusal that quotes it."""
    raw = request.form.get(name, "").strip()
    try:
        if len(raw) == len("2026-01-01"):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise Refused("visits.refused.bad_day", value=raw[:20])


def _back(case: Case, stay_on: FollowUp | None = None) -> Response:
    """Back to where the form was: the case page; or, from a visit's page, that page again
    (`stay_on`, after a refusal) or the list of visits (once it is recorded)."""
    if request.form.get("back") != "visit":
        return redirect(url_for("case_page.show", case_id=case.id), code=303)
    if stay_on is not None:
        return redirect(url_for(".show", visit_id=stay_on.id), code=303)
    return redirect(url_for(".index"), code=303)


def _recorded_text(case: Case, record: VisitRecord) -> str:
    if not record.met:
        return t("visits.done.not_met", when=local_time(record.follow_up.due_at))
    if case.status == CaseStatus.REOPENED:
        return t("visits.done.reopened", number=case.number)
    return t("visits.done.closed", number=case.number)
