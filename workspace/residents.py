"""Residents directory: search, profile, family contacts, CSV import and export.

Admins and staff see and edit every resident, and import and export the directory; a grid
worker sees and edits the residents of their own grid; departments have no directory (403).
A resident outside the reader's grid answers 404, so its existence is not revealed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from accounts.models import Role, User
from cases.models import Case, FamilyContact, Resident
from cases.permissions import case_scope
from cases.residents_export import residents_csv
from cases.residents_import import (
    Problem,
    RowError,
    check_fields,
    import_bytes,
    parse_phone,
)
from hotline.db import db
from hotline.i18n import LOCALES
from hotline.phones import NotAPhoneNumber, normalise_phone
from outreach.outbox import texted_stop
from workspace.i18n import t
from workspace.leaders import resident_leadership
from workspace.views import add_to_nav

bp = Blueprint("residents", __name__)
log = logging.getLogger(__name__)

OFFICE = (Role.ADMIN, Role.STAFF)  # the whole directory, import and export
DIRECTORY = (*OFFICE, Role.GRID_WORKER)
PAGE_SIZE = 50
CASES_SHOWN = 50
CONTACT_LIMITS = {"name": 100, "relation": 50}
PROFILE_FIELDS = ("name", "address", "building", "grid", "language", "preferred_call_hours")
PHONE_LIKE = re.compile(r"^[\d\s+\-().]+$")

add_to_nav("residents.index", "common.residents", DIRECTORY)


# ---- who may see what -------------------------------------------------------------------------


def _me() -> User:
    """The signed-in user; departments have no directory at all."""
    user: User = current_user
    if user.role not in DIRECTORY:
        abort(403)
    return user


def _office_only() -> User:
    user = _me()
    if user.role not in OFFICE:
        abort(403)
    return user


def resident_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause limiting residents to the ones `user` may see (as case_scope for cases)."""
    if user.role in OFFICE:
        return true()
    if user.role == Role.GRID_WORKER and user.grid:
        return Resident.grid == user.grid
    return false()


def _resident_or_404(resident_id: int, user: User) -> Resident:
    resident = db.session.scalar(
        select(Resident).where(Resident.id == resident_id, resident_scope(user))
    )
    if resident is None:
        abort(404)
    return resident


# ---- the directory ----------------------------------------------------------------------------


def phone_fragments(text: str) -> list[str]:
    """Digits to look for in stored E.164 numbers: what was typed (spaces, dashes dropped),
    and the typed number in international form when it is a whole number, so "010 1234 5678"
    finds +861012345678 and "138-0000-0001" or "0001" find +8613800000001."""
    if not PHONE_LIKE.match(text):
        return []
    digits = re.sub(r"\D", "", text)
    if len(digits) < 3:
        return []
    try:
        return [digits, normalise_phone(text).lstrip("+")]
    except NotAPhoneNumber:
        return [digits]


def search_filter(text: str) -> ColumnElement[bool]:
    """Name, address, building or grid containing the words, or a phone containing the digits."""
    words = [Resident.name, Resident.address, Resident.building, Resident.grid]
    conditions = [column.icontains(text, autoescape=True) for column in words]
    conditions += [Resident.phone.contains(part) for part in phone_fragments(text)]
    return or_(*conditions)


@bp.get("/residents")
@login_required
def index() -> ResponseReturnValue:
    """Find a resident by name, any part of their number, address or building."""
    user = _me()
    query_text = request.args.get("q", "").strip()[:100]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    query = select(Resident).where(resident_scope(user)).order_by(Resident.name, Resident.id)
    if query_text:
        query = query.where(search_filter(query_text))
    found = db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return _render_index(
        user, found[:PAGE_SIZE], q=query_text, page=page, has_next=len(found) > PAGE_SIZE
    )


def _render_index(
    user: User,
    residents: Sequence[Resident],
    *,
    q: str = "",
    page: int = 1,
    has_next: bool = False,
    new_resident: dict[str, Any] | None = None,
) -> str:
    """The directory page; `new_resident` reopens the "add" form with what was typed."""
    return render_template(
        "residents.html",
        residents=residents,
        texted_stop=texted_stop([resident.phone for resident in residents]),
        q=q,
        page=page,
        has_next=has_next,
        office=user.role in OFFICE,
        can_create=_can_create(user),
        grid_editable=user.role in OFFICE,
        locales=LOCALES,
        form=new_resident or {},
        open_create=new_resident is not None,
    )


def _can_create(user: User) -> bool:
    return user.role in OFFICE or (user.role == Role.GRID_WORKER and bool(user.grid))


# ---- problems shown to people -----------------------------------------------------------------


def field_label(column: str) -> str:
    return t(f"residents.field.{column}")


def problem_text(problem: Problem, *, file_columns: bool = False) -> str:
    """A problem in the reader's language; a file's problems name its columns as written."""
    values = dict(problem.values)
    if not file_columns:
        if "column" in values:
            values["column"] = field_label(values["column"])
        if "columns" in values:
            values["columns"] = ", ".join(field_label(c) for c in values["columns"].split(", "))
    message = t(f"residents.problem.{problem.key}", **values)
    return t("residents.on_line", line=problem.line, message=message) if problem.line else message


def _refuse(problems: list[Problem]) -> None:
    for problem in problems:
        flash(problem_text(problem), "error")


# ---- creating and editing ---------------------------------------------------------------------


def _form_row(user: User, columns: tuple[str, ...]) -> dict[str, str]:
    """The submitted profile fields; a grid worker's residents stay in their grid."""
    row = {column: request.form.get(column, "") for column in columns}
    row["do_not_call"] = "yes" if request.form.get("do_not_call") else "no"
    if user.role == Role.GRID_WORKER:
        row.pop("grid", None)
    return row


@bp.post("/residents/new")
@login_required
def create() -> ResponseReturnValue:
    """Add a resident by hand: number and name at least; a grid worker adds to their grid."""
    user = _me()
    if not _can_create(user):
        abort(403)
    row = _form_row(user, ("phone", *PROFILE_FIELDS))
    fields, problems = check_fields(row)
    if not problems and _phone_taken(fields["phone"]):
        problems.append(Problem("phone_taken"))
    if problems:
        return _refuse_new_resident(user, row, problems)
    if user.role == Role.GRID_WORKER:
        fields["grid"] = user.grid
    resident = Resident(**fields, sms_opt_out=bool(request.form.get("sms_opt_out")))
    db.session.add(resident)
    try:
        db.session.commit()
    except IntegrityError:  # the same number was added a moment ago, from another desk
        db.session.rollback()
        return _refuse_new_resident(user, row, [Problem("phone_taken")])
    log.info("resident %s created by %s", resident.id, user.username)
    flash(t("residents.created", name=resident.name), "info")
    return redirect(url_for("residents.show", resident_id=resident.id))


def _refuse_new_resident(
    user: User, row: dict[str, str], problems: list[Problem]
) -> ResponseReturnValue:
    _refuse(problems)
    entered: dict[str, Any] = {**row, "do_not_call": row["do_not_call"] == "yes"}
    entered["sms_opt_out"] = bool(request.form.get("sms_opt_out"))
    return _render_index(user, [], new_resident=entered), 400


def _phone_taken(phone: str) -> bool:
    return db.session.scalar(select(Resident.id).where(Resident.phone == phone)) is not None


@bp.get("/residents/<int:resident_id>")
@login_required
def show(resident_id: int) -> ResponseReturnValue:
    """A resident's profile, family contacts and cases."""
    user = _me()
    return _render_profile(_resident_or_404(resident_id, user), user)


def _render_profile(
    resident: Resident,
    user: User,
    form: dict[str, Any] | None = None,
    contact_form: dict[str, Any] | None = None,
) -> str:
    cases = db.session.scalars(
        select(Case)
        .where(Case.resident_id == resident.id, case_scope(user))
        .order_by(Case.created_at.desc())
        .limit(CASES_SHOWN)
    ).all()
    return render_template(
        "residents_profile.html",
        resident=resident,
        texted_stop=texted_stop([resident.phone]).get(resident.phone),
        cases=cases,
        form=form or _profile_values(resident),
        contact_form=contact_form or {"receives_updates": True},
        grid_editable=user.role in OFFICE,
        locales=LOCALES,
        leadership=resident_leadership(resident, user),
    )


def _profile_values(resident: Resident) -> dict[str, Any]:
    values: dict[str, Any] = {column: getattr(resident, column) or "" for column in PROFILE_FIELDS}
    values["do_not_call"] = resident.do_not_call
    values["sms_opt_out"] = resident.sms_opt_out
    return values


@bp.post("/residents/<int:resident_id>")
@login_required
def update(resident_id: int) -> ResponseReturnValue:
    """Save the profile; with any bad field nothing is saved and every problem is shown."""
    user = _me()
    resident = _resident_or_404(resident_id, user)
    row = _form_row(user, PROFILE_FIELDS)
    fields, problems = check_fields(row)
    if problems:
        _refuse(problems)
        submitted: dict[str, Any] = {**_profile_values(resident), **row}
        submitted["do_not_call"] = row["do_not_call"] == "yes"
        submitted["sms_opt_out"] = bool(request.form.get("sms_opt_out"))
        return _render_profile(resident, user, form=submitted), 400
    fields["sms_opt_out"] = bool(request.form.get("sms_opt_out"))
    changed = sorted(key for key, value in fields.items() if getattr(resident, key) != value)
    for key in changed:
        setattr(resident, key, fields[key])
    db.session.commit()
    # Who changed what, never the values: the log must not carry residents' details.
    log.info("resident %s updated by %s: %s", resident.id, user.username, ", ".join(changed))
    flash(t("residents.saved"), "info")
    return redirect(url_for("residents.show", resident_id=resident.id))


# ---- family contacts --------------------------------------------------------------------------


def _contact_fields() -> tuple[dict[str, Any], list[Problem]]:
    fields: dict[str, Any] = {"receives_updates": bool(request.form.get("receives_updates"))}
    problems = []
    for column, limit in CONTACT_LIMITS.items():
        fields[column] = request.form.get(column, "").strip()
        if len(fields[column]) > limit:
            problems.append(Problem("too_long", {"column": f"contact_{column}", "limit": limit}))
    if not fields["name"]:
        problems.append(Problem("missing", {"columns": "contact_name"}))
    elif ";" in fields["name"]:  # the CSV column separates contacts with ;
        problems.append(Problem("contact_semicolon"))
    try:
        fields["phone"] = parse_phone(request.form.get("phone", ""))
    except RowError as error:
        problems.append(error.problem)
    return fields, problems


@bp.post("/residents/<int:resident_id>/contacts")
@login_required
def add_contact(resident_id: int) -> ResponseReturnValue:
    """A family member to keep informed: name, number, relation, whether to send updates."""
    user = _me()
    resident = _resident_or_404(resident_id, user)
    fields, problems = _contact_fields()
    if problems:
        _refuse(problems)
        entered = {**fields, "phone": request.form.get("phone", "")}
        return _render_profile(resident, user, contact_form=entered), 400
    resident.family_contacts.append(FamilyContact(**fields))
    db.session.commit()
    log.info("resident %s: family contact added by %s", resident.id, user.username)
    flash(t("residents.contact_added", name=fields["name"]), "info")
    return redirect(url_for("residents.show", resident_id=resident.id))


@bp.post("/residents/<int:resident_id>/contacts/<int:contact_id>/delete")
@login_required
def remove_contact(resident_id: int, contact_id: int) -> ResponseReturnValue:
    user = _me()
    resident = _resident_or_404(resident_id, user)
    contact = next((c for c in resident.family_contacts if c.id == contact_id), None)
    if contact is None:
        abort(404)
    resident.family_contacts.remove(contact)
    db.session.commit()
    log.info("resident %s: family contact %s removed by %s", resident.id, contact_id, user.username)
    flash(t("residents.contact_removed", name=contact.name), "info")
    return redirect(url_for("residents.show", resident_id=resident.id))


# ---- import and export ------------------------------------------------------------------------


@bp.post("/residents/import")
@login_required
def import_csv() -> ResponseReturnValue:
    """A CSV file in the command's columns: every row imported, or none and every problem named."""
    user = _office_only()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(t("residents.no_file"), "error")
        return redirect(url_for("residents.index"))
    # Unticked, a file only adds and updates what it says; ticked, it clears what it leaves out.
    report = import_bytes(upload.read(), replace=bool(request.form.get("replace")))
    if report.problems:
        messages = [problem_text(problem, file_columns=True) for problem in report.problems]
        return render_template("residents_import.html", problems=messages), 400
    log.info(
        "residents imported by %s: %d new, %d updated",
        user.username,
        report.imported,
        report.updated,
    )
    flash(t("residents.imported", new=report.imported, updated=report.updated), "info")
    return redirect(url_for("residents.index"))


@bp.get("/residents/export.csv")
@login_required
def export_csv() -> ResponseReturnValue:
    """The directory as CSV that Excel opens and `hotline residents import` reads back."""
    user = _office_only()
    residents = db.session.scalars(
        select(Resident).options(selectinload(Resident.family_contacts)).order_by(Resident.id)
    ).all()
    log.info("residents exported by %s: %d rows", user.username, len(residents))
    return Response(
        residents_csv(residents).encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=residents.csv"},
    )
