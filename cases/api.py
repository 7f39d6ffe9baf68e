"""The JSON API for other tools: read, search and work on cases with a bearer token.

A token made for a user acts with that user's permissions (the same functions the staff
pages ask); a token without a user reads everything and changes nothing. Every change goes
through cases.actions, so the timeline records the token's user as the one who acted.
The JSON answered, with the schema of each reply, is in cases.api_json; cases.openapi builds
the document from those schemas.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, NoReturn
from urllib.parse import urlencode

import phonenumbers
from flask import Blueprint, abort, g, jsonify, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, Select, and_, or_, select, true
from sqlalchemy.orm import selectinload

from accounts.models import User
from cases import actions, attachments
from cases.api_json import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    assignee_json,
    call_back_json,
    case_detail_json,
    case_json,
    event_json,
)
from cases.api_tokens import token_required
from cases.attachments import Upload
from cases.callbacks import ALREADY_DONE, call_backs_for, mark_done, visible_call_back
from cases.errors import Refused
from cases.events import EventKind
from cases.lifecycle import InvalidTransition
from cases.models import (
    Attachment,
    CallBackStatus,
    Case,
    CaseSource,
    CaseStatus,
    Urgency,
)
from cases.openapi import document
from cases.permissions import (
    can_be_assigned,
    can_edit,
    can_view,
    case_scope,
    may_record_requests,
)
from cases.services import add_event
from cases.staff_intake import StaffRequest, record_request
from hotline.clock import now
from hotline.db import db
from triage import CATEGORIES

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_LOCATION = 50  # the width of the grid and building columns
MAX_ID = 2**31 - 1  # larger numbers are no id, and would overflow PostgreSQL's integer
OPEN_STATUSES = [status for status in CaseStatus if status.is_open]

# ---- who is asking -----------------------------------------------------------------------------


def _token_user() -> User | None:
    user: User | None = g.api_token.user
    if user is not None and not user.active:
        abort(403, "the account this token acts for is deactivated")
    return user


def _scope() -> ColumnElement[bool]:
    """A token acts with its user's permissions; a token without a user reads everything."""
    user = _token_user()
    return case_scope(user) if user is not None else true()


def _visible_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    user = _token_user()
    if case is None or (user is not None and not can_view(user, case)):
        abort(404)  # another grid's case is as invisible as a missing one
    return case


def _editable_case(case_id: int) -> tuple[Case, User]:
    """The case and the user changing it; 403 when they may see it but not change it."""
    case = _visible_case(case_id)
    user = _token_user()
    if user is None:
        abort(403, "this token is read-only: make one for a user (--user) to change cases")
    if not can_edit(user, case):
        abort(403, f"you may see case {case.number} but not change it: it is not assigned to you")
    return case, user


# ---- reading -----------------------------------------------------------------------------------


def _e164(text: str) -> str:
    try:
        number = phonenumbers.parse(text)
    except phonenumbers.NumberParseException:
        abort(400, "phone must be an E.164 number such as +8613800000000")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _choice(name: str, allowed: list[str]) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in allowed:
        abort(400, f"{name} must be one of: {', '.join(allowed)}")
    return value


def _integer(name: str, high: int = MAX_ID) -> int | None:
    text = request.args.get(name)
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= high:
        abort(400, f"{name} must be a whole number from 1 to {high}")
    return int(text)


def _boolean(name: str) -> bool | None:
    text = request.args.get(name)
    if text is None:
        return None
    if text.lower() not in ("true", "false", "1", "0"):
        abort(400, f"{name} must be true or false")
    return text.lower() in ("true", "1")


def _overdue_clause(overdue: bool) -> ColumnElement[bool]:
    late = and_(
        Case.status.in_(OPEN_STATUSES), Case.deadline_at.is_not(None), Case.deadline_at < now()
    )
    return late if overdue else ~late


def _filters() -> list[ColumnElement[bool]]:
    """The WHERE clauses asked for in the query string; a bad value is a clear 400."""
    clauses = [_scope()]
    if "q" in request.args:
        # TODO(search): filter with cases.search once it exists; refused rather than ignored,
        # so a client never mistakes an unfiltered list for search results.
        abort(400, "full-text search (q) is not available in the API yet")
    if (status := _choice("status", [s.value for s in CaseStatus])) is not None:
        clauses.append(Case.status == CaseStatus(status))
    if (category := _choice("category", list(CATEGORIES))) is not None:
        clauses.append(Case.category == category)
    if (urgency := _choice("urgency", [u.value for u in Urgency])) is not None:
        clauses.append(Case.urgency == Urgency(urgency))
    if (source := _choice("source", [s.value for s in CaseSource])) is not None:
        clauses.append(Case.source == CaseSource(source))
    if (grid := request.args.get("grid")) is not None:
        clauses.append(Case.grid == grid)
    if (assignee_id := _integer("assignee_id")) is not None:
        clauses.append(Case.assignee_id == assignee_id)
    if (phone := request.args.get("phone")) is not None:
        clauses.append(Case.phone == _e164(phone))
    if (overdue := _boolean("overdue")) is not None:
        clauses.append(_overdue_clause(overdue))
    return clauses


def _after(query: Select[Case]) -> Select[Case]:
    """Keyset pagination: the cases that come after the cursor case in the list's order."""
    after = _integer("after")
    if after is None:
        return query
    cursor = db.session.get(Case, after)
    if cursor is None:
        abort(400, "after must be a case id from the previous page's Link header")
    return query.where(
        or_(
            Case.created_at < cursor.created_at,
            and_(Case.created_at == cursor.created_at, Case.id < cursor.id),
        )
    )


def _next_link(last: Case) -> str:
    """RFC 8288 Link to the next page: the same query, continuing after the last case shown."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "after"]
    target = url_for("api.list_cases") + "?" + urlencode([*args, ("after", str(last.id))])
    return f'<{target}>; rel="next"'


@bp.get("/cases")
@token_required
def list_cases() -> ResponseReturnValue:
    """The cases the token may see, newest first, filtered; a Link header leads to more."""
    limit = _integer("limit", MAX_LIMIT) or DEFAULT_LIMIT
    query = (
        select(Case)
        .where(*_filters())
        .options(selectinload(Case.assignee))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit + 1)  # one more than shown tells whether there is a next page
    )
    cases = db.session.scalars(_after(query)).all()
    response = jsonify([case_json(case) for case in cases[:limit]])
    if len(cases) > limit:
        response.headers["Link"] = _next_link(cases[limit - 1])
    return response


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@token_required
def get_attachment(case_id: int, attachment_id: int) -> ResponseReturnValue:
    """A photo or document of a case the token may see, with the type read from its content."""
    case = _visible_case(case_id)
    attachment = db.session.get(Attachment, attachment_id)
    path = attachments.attachment_file(attachment) if attachment is not None else None
    if attachment is None or attachment.case_id != case.id or path is None:
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.file_name or path.name,
        max_age=0,
    )
    response.cache_control.private = True
    return response


@bp.get("/cases/<int:case_id>")
@token_required
def get_case(case_id: int) -> ResponseReturnValue:
    """One case with its joint-case departments; its timeline too with ?include=events."""
    case = _visible_case(case_id)
    includes = {part.strip() for part in request.args.get("include", "").split(",") if part}
    return jsonify(case_detail_json(case, with_events="events" in includes))


# ---- changing ----------------------------------------------------------------------------------


NEW_CASE_TEXTS = (
    "source",
    "text",
    "person_name",
    "person_phone",
    "person_locale",
    "address",
    "building",
    "grid",
    "category",
    "urgency",
    "resolution_note",
)
NEW_CASE_FIELDS = {*NEW_CASE_TEXTS, "resident_id", "resolved", "attachment"}


@bp.post("/cases")
@token_required
def create_case() -> ResponseReturnValue:
    """Record a request on someone's behalf, as the form "New case" does: the same checks,
    the same permissions, the same case (routing, deadline, triage, alerts, survey)."""
    user = _token_user()
    if user is None:
        abort(403, "this token is read-only: make one for a user (--user) to record requests")
    if not may_record_requests(user):
        abort(403, "this account does not record requests (staff, admins and grid workers do)")
    body = _json_body(NEW_CASE_FIELDS)
    try:
        case = record_request(_staff_request(body), user)
    except Refused as error:
        _refused(error)
    return jsonify(case_detail_json(case)), 201


def _staff_request(body: dict[str, Any]) -> StaffRequest:
    texts = {name: _text(body, name) or "" for name in NEW_CASE_TEXTS}
    resident_id = body.get("resident_id")
    if resident_id is not None and (type(resident_id) is not int or not 0 < resident_id <= MAX_ID):
        abort(400, "resident_id must be a resident's id (an integer) or null")
    resolved = body.get("resolved", False)
    if not isinstance(resolved, bool):
        abort(400, "resolved must be true or false")
    return StaffRequest(
        channel=texts.pop("source"),
        resident_id=resident_id,
        resolved=resolved,
        upload=_attachment(body.get("attachment")),
        **texts,
    )


def _attachment(value: Any) -> Upload | None:
    """{"file_name": "...", "content_base64": "..."}: the file, decoded; its type is checked
    from its content by cases.attachments, whatever the name says."""
    if value is None:
        return None
    shape = 'attachment must be {"file_name": "...", "content_base64": "..."}'
    if not isinstance(value, dict) or set(value) - {"file_name", "content_base64"}:
        abort(400, shape)
    name, content = value.get("file_name", ""), value.get("content_base64")
    if not isinstance(name, str) or not isinstance(content, str):
        abort(400, shape)
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        abort(400, "attachment.content_base64 is not base64")
    return Upload(name, data)


def _json_body(allowed: set[str]) -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if body is None:
        abort(400, "the body is not valid JSON: send a JSON object")
    if not isinstance(body, dict):
        abort(400, "the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        abort(400, f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return body


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        abort(400, f"{name} must be a string")
    return value


def _refused(error: Refused) -> NoReturn:
    """Nothing changes: the session's pending changes are dropped and the reason is sent."""
    db.session.rollback()
    if isinstance(error, InvalidTransition):
        abort(409, str(error))
    abort(422, str(error))


def _move(case: Case, grid: str | None, building: str | None, by: User) -> None:
    """Staff correct where the problem is; the timeline keeps both places."""
    changes: dict[str, str] = {}
    if grid is not None:
        changes["grid"] = actions.clean_text(grid, MAX_LOCATION, "grid", required=False)
    if building is not None:
        changes["building"] = actions.clean_text(building, MAX_LOCATION, "building", required=False)
    changes = {key: value for key, value in changes.items() if value != getattr(case, key)}
    if not changes:
        return
    before = {f"from_{key}": getattr(case, key) for key in changes}
    for key, value in changes.items():
        setattr(case, key, value)
    add_event(case, EventKind.LOCATION_CHANGED, by.name, **changes, **before)


PATCH_FIELDS = {"transcript", "category", "urgency", "status", "note", "grid", "building"}


def _apply_patch(case: Case, body: dict[str, Any], by: User) -> None:
    fields = {name: _text(body, name) for name in PATCH_FIELDS}
    if fields["note"] is not None and fields["status"] is None:
        abort(400, "note goes with status: it explains the status change")
    if fields["transcript"] is not None:
        actions.edit_transcript(case, fields["transcript"], by)
    actions.set_triage(case, fields["category"], fields["urgency"], by)
    _move(case, fields["grid"], fields["building"], by)
    status, note = fields["status"], fields["note"]
    if status == case.status.value and note is None:
        return  # a client sending back the status it read is not asking for a change
    if status == CaseStatus.RESOLVED.value:
        actions.clean_text(note, actions.MAX_NOTE, "resolution_note")
    if status is not None:
        actions.change_status(case, status, by, note)


@bp.patch("/cases/<int:case_id>")
@token_required
def update_case(case_id: int) -> ResponseReturnValue:
    """Correct the transcript, triage or place, or move the case on; all or nothing."""
    case, user = _editable_case(case_id)
    body = _json_body(PATCH_FIELDS)
    try:
        _apply_patch(case, body, user)
    except Refused as error:
        _refused(error)
    db.session.commit()
    return jsonify(case_detail_json(case))


@bp.post("/cases/<int:case_id>/notes")
@token_required
def add_note(case_id: int) -> ResponseReturnValue:
    """A note on the timeline, signed with the token's user."""
    case, user = _editable_case(case_id)
    body = _json_body({"text"})
    try:
        actions.add_note(case, _text(body, "text"), user)
    except Refused as error:
        _refused(error)
    db.session.commit()
    return jsonify(event_json(case.events[-1])), 201


@bp.get("/cases/<int:case_id>/assignees")
@token_required
def list_assignees(case_id: int) -> ResponseReturnValue:
    """The active accounts that could be handed the case: the ones assign accepts."""
    case, _ = _editable_case(case_id)
    users = db.session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.role, User.display_name, User.id)
    )
    return jsonify([assignee_json(user) for user in users if can_be_assigned(user, case)])


@bp.post("/cases/<int:case_id>/assign")
@token_required
def assign(case_id: int) -> ResponseReturnValue:
    """Hand the case to a user who can see it (assignee_id), or to nobody (null)."""
    case, user = _editable_case(case_id)
    body = _json_body({"assignee_id"})
    if "assignee_id" not in body:
        abort(400, "assignee_id is required (a user id, or null for nobody)")
    assignee_id = body["assignee_id"]
    if assignee_id is not None and type(assignee_id) is not int:  # true/false are ints too
        abort(400, "assignee_id must be a user id (an integer) or null")
    possible_id = assignee_id is not None and 0 < assignee_id <= MAX_ID
    assignee = db.session.get(User, assignee_id) if possible_id else None
    try:
        if assignee_id is not None and assignee is None:
            raise Refused("case.refused.no_user_with_id", id=assignee_id)
        actions.assign(case, assignee, user)
    except Refused as error:
        _refused(error)
    db.session.commit()
    return jsonify(case_detail_json(case))


@bp.post("/cases/<int:case_id>/resolve")
@token_required
def resolve(case_id: int) -> ResponseReturnValue:
    """Resolved, with a note saying what was done (in `locale`, by default the user's
    language, and in other languages in `translations`); a new case is accepted on the way."""
    case, user = _editable_case(case_id)
    body = _json_body({"note", "locale", "translations"})
    translations = body.get("translations") or {}
    if not isinstance(translations, dict) or not all(
        isinstance(text, str) for text in translations.values()
    ):
        abort(400, 'translations must be an object of texts by language, such as {"ko-KR": "..."}')
    try:
        actions.resolve(case, _text(body, "note"), user, _text(body, "locale"), translations)
    except Refused as error:
        _refused(error)
    db.session.commit()
    return jsonify(case_detail_json(case))


# ---- one problem, many reporters (cases.linked) ------------------------------------------------


def _case_ids(body: dict[str, Any], name: str) -> list[int]:
    value = body.get(name)
    if not isinstance(value, list) or not all(type(item) is int for item in value):
        abort(400, f"{name} must be a list of case ids (integers)")
    return value


def _other_case(case_id: Any, user: User) -> Case:
    """A case named in the body: one the user may not see is as unknown as a missing one."""
    if type(case_id) is not int:  # true/false are ints too
        abort(400, "a case id must be an integer")
    found = db.session.get(Case, case_id) if 0 < case_id <= MAX_ID else None
    if found is None or not can_view(user, found):
        _refused(Refused("linked.refused.no_case_with_id", id=case_id))
    return found


def _refused_link(error: Refused) -> NoReturn:
    """As _refused; a case the user may see but not change is a 403, as in the path."""
    if error.message.key == "linked.refused.cannot_change":
        db.session.rollback()
        abort(403, str(error))
    _refused(error)


@bp.post("/cases/<int:case_id>/link")
@token_required
def link(case_id: int) -> ResponseReturnValue:
    """The case is one report of the problem handled on main_id: it keeps its number, its
    reporter is texted and surveyed, and its status follows the main case."""
    case, user = _editable_case(case_id)
    body = _json_body({"main_id"})
    if "main_id" not in body:
        abort(400, "main_id is required: the id of the problem's main case")
    main = _other_case(body["main_id"], user)
    try:
        actions.link_to_main(case, main, user)
    except Refused as error:
        _refused_link(error)
    db.session.commit()
    return jsonify(case_detail_json(case))


@bp.post("/cases/<int:case_id>/merge")
@token_required
def merge(case_id: int) -> ResponseReturnValue:
    """The cases of case_ids become reports of this case's problem: all of them, or none."""
    main, user = _editable_case(case_id)
    body = _json_body({"case_ids"})
    others = [_other_case(other_id, user) for other_id in _case_ids(body, "case_ids")]
    try:
        actions.merge_into(main, others, user)
    except Refused as error:
        _refused_link(error)
    db.session.commit()
    return jsonify(case_detail_json(main))


@bp.post("/cases/<int:case_id>/unlink")
@token_required
def unlink(case_id: int) -> ResponseReturnValue:
    """The case is a problem of its own again (its status stays as it is)."""
    case, user = _editable_case(case_id)
    if request.get_data():
        _json_body(set())
    try:
        actions.unlink(case, user)
    except Refused as error:
        _refused(error)
    db.session.commit()
    return jsonify(case_detail_json(case))


# ---- the call-back list ------------------------------------------------------------------------


@bp.get("/callbacks")
@token_required
def list_call_backs() -> ResponseReturnValue:
    """Calls whose message held no speech: open ones urgent first, then the longest waiting."""
    status = _choice("status", [s.value for s in CallBackStatus]) or CallBackStatus.OPEN.value
    limit = _integer("limit", MAX_LIMIT) or MAX_LIMIT
    found = call_backs_for(_token_user(), CallBackStatus(status), limit)
    return jsonify([call_back_json(call_back) for call_back in found])


@bp.post("/callbacks/<int:call_back_id>/done")
@token_required
def call_back_done(call_back_id: int) -> ResponseReturnValue:
    """Called back, with a note of what came of it, signed with the token's user."""
    user = _token_user()
    call_back = visible_call_back(user, call_back_id)
    if call_back is None:
        abort(404)
    if user is None:
        abort(403, "this token is read-only: make one for a user (--user) to mark call backs")
    body = _json_body({"note"})
    try:
        mark_done(call_back, user, _text(body, "note"))
    except Refused as error:
        db.session.rollback()
        abort(409 if error.message.key == ALREADY_DONE else 422, str(error))
    db.session.commit()
    return jsonify(call_back_json(call_back))


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this API; public, like any API's reference."""
    return jsonify(document())
