"""Outreach in the JSON API: home visits (list the open ones, record what a visit found,
schedule one), and staff reaching the resident by hand (a text, a call made).

The same rules as the "My visits" pages (outreach.visits) and the case page's "Contact the
resident" (outreach.contact), with the same bearer tokens and
checks as the rest of /api (cases.api): a token made for a user acts with that user's
permissions; a read-only token lists the visits and records nothing. The routes describe
themselves in the OpenAPI document (cases.openapi.describe).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from accounts.models import User
from cases.actions import MAX_NOTE
from cases.api import _editable_case, _json_body, _refused, _text, _token_user
from cases.api_json import TIME, event_json, user_ref
from cases.api_tokens import token_required
from cases.errors import Refused
from cases.models import CASE_NUMBER_OFFSET, Case, CaseStatus, Satisfaction
from cases.openapi import CASE_ID, READ_ERRORS, WRITE_ERRORS, _body, _error, _json, _ref, describe
from hotline.db import db
from hotline.i18n import LOCALES
from outreach.contact import MAX_SEGMENTS, MAX_TEXT, CallOutcome, Texted, record_call, text_resident
from outreach.models import FollowUp, FollowUpStatus, OutboundStatus, VisitRecord
from outreach.visits import (
    MAX_DAYS_AHEAD,
    Outcome,
    is_open,
    may_record_visits,
    may_visit,
    not_met_count,
    open_visits,
    record_visit,
    schedule_visit,
)

bp = Blueprint("outreach_api", __name__, url_prefix="/api")
ANSWERS = [answer.value for answer in Satisfaction]

# ---- the JSON ----------------------------------------------------------------------------------

VISIT_RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "met", "answer", "note", "recorded_by", "recorded_at"],
    "properties": {
        "id": {"type": "integer"},
        "met": {"type": "boolean", "description": "the worker met the resident"},
        "answer": {
            "enum": [*ANSWERS, None],
            "description": "the resident's answer, asked in person; null when not met",
        },
        "note": {"type": "string"},
        "recorded_by": {"$ref": "#/components/schemas/UserRef"},
        "recorded_at": TIME,
    },
}


def visit_record_json(record: VisitRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "met": record.met,
        "answer": record.answer.value if record.answer else None,
        "note": record.note,
        "recorded_by": user_ref(record.recorded_by),
        "recorded_at": record.recorded_at.isoformat(),
    }


VISIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "case_id",
        "case_number",
        "case_status",
        "status",
        "due_at",
        "grid",
        "building",
        "resident_name",
        "address",
        "phone",
        "scheduled_by",
        "not_met",
        "records",
        "created_at",
    ],
    "properties": {
        "id": {"type": "integer"},
        "case_id": {"type": "integer"},
        "case_number": {"type": "string"},
        "case_status": {
            "enum": [status.value for status in CaseStatus],
            "description": "after a visit's answer: closed (satisfied) or reopened (not)",
        },
        "status": {
            "enum": ["open", "done", "cancelled"],
            "description": "open until recorded; done once the resident answered; cancelled "
            "when the case left resolved otherwise (closed by a supervisor, reopened)",
        },
        "due_at": {
            **TIME,
            "description": "when to go; after a visit that did not meet the "
            "resident, the next morning",
        },
        "grid": {"type": "string"},
        "building": {"type": "string"},
        "resident_name": {"type": "string"},
        "address": {"type": "string"},
        "phone": {"type": "string", "description": "the resident's number, E.164 (or empty)"},
        "scheduled_by": {
            "oneOf": [{"$ref": "#/components/schemas/UserRef"}, {"type": "null"}],
            "description": "who asked for the visit; null: the hotline, after calls and texts "
            "did not reach the resident",
        },
        "not_met": {"type": "integer", "description": "visits that did not meet the resident"},
        "records": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/VisitRecord"},
            "description": "what each visit found, oldest first",
        },
        "created_at": TIME,
    },
}


def _status(visit: FollowUp) -> str:
    if is_open(visit):
        return "open"
    return "cancelled" if visit.status == FollowUpStatus.CANCELLED else "done"


def visit_json(visit: FollowUp) -> dict[str, Any]:
    case = visit.case
    resident = case.resident
    return {
        "id": visit.id,
        "case_id": case.id,
        "case_number": case.number,
        "case_status": case.status.value,
        "status": _status(visit),
        "due_at": visit.due_at.isoformat(),
        "grid": case.grid,
        "building": case.building,
        "resident_name": resident.name if resident else "",
        "address": resident.address if resident else "",
        "phone": resident.phone if resident else case.phone,
        "scheduled_by": user_ref(visit.scheduled_by),
        "not_met": not_met_count(visit),
        "records": [visit_record_json(record) for record in visit.records],
        "created_at": visit.created_at.isoformat(),
    }


# ---- who is asking -----------------------------------------------------------------------------


def _visitor() -> User:
    user = _token_user()
    if user is None:
        abort(403, "this token is read-only: make one for a user (--user) to record visits")
    if not may_record_visits(user):
        abort(403, "only grid workers, staff and admins record and schedule visits")
    return user


def _case_to_visit(case_id: int, user: User) -> Case:
    """The case, if `user` may visit it; otherwise a 404 that says why, the same whether or not
    the case exists (another grid's case is as invisible as a missing one)."""
    case = db.session.get(Case, case_id)
    if case is None or not may_visit(user, case):
        abort(
            404,
            f"no case {CASE_NUMBER_OFFSET + case_id} among the cases you may visit: a grid worker "
            "records visits for their own grid's cases only; nothing was recorded",
        )
    return case


# ---- the routes --------------------------------------------------------------------------------


@bp.get("/visits")
@token_required
def list_visits() -> ResponseReturnValue:
    """The visits waiting to be recorded that the token's user may record, newest due first."""
    user = _token_user()
    if user is not None and not may_record_visits(user):
        abort(403, "only grid workers, staff and admins have visits")
    grid = request.args.get("grid")
    return jsonify([visit_json(visit) for visit in open_visits(user, grid)])


def _outcome(body: dict[str, Any]) -> Outcome:
    met = body.get("met")
    if type(met) is not bool:
        abort(400, "met is required: true (the resident was met) or false")
    answer = body.get("answer")
    if answer is not None and answer not in ANSWERS:
        abort(400, f"answer must be one of: {', '.join(ANSWERS)} (or null when not met)")
    return Outcome(met, Satisfaction(answer) if answer else None, _text(body, "note"))


@bp.post("/cases/<int:case_id>/visits")
@token_required
def record(case_id: int) -> ResponseReturnValue:
    """What a visit found: the case's open visit, or one made now when none was scheduled."""
    user = _visitor()
    case = _case_to_visit(case_id, user)
    outcome = _outcome(_json_body({"met", "answer", "note"}))
    try:
        done = record_visit(case, user, outcome)
    except Refused as error:
        _refused(error)
    db.session.commit()
    return jsonify(visit_json(done.follow_up)), 201


@bp.post("/cases/<int:case_id>/visits/schedule")
@token_required
def schedule(case_id: int) -> ResponseReturnValue:
    """Ask the grid's workers to visit on a day (due_on, the centre's calendar)."""
    user = _visitor()
    case = _case_to_visit(case_id, user)
    body = _json_body({"due_on"})
    raw = _text(body, "due_on") or ""
    try:
        day = date.fromisoformat(raw) if len(raw) == len("2026-01-01") else None
    except ValueError:
        day = None
    if day is None:
        abort(400, "due_on is required: a day as YYYY-MM-DD")
    try:
        visit = schedule_visit(case, user, day)
    except Refused as error:
        _refused(error)
    db.session.commit()
    return jsonify(visit_json(visit)), 201


# ---- staff reaching the resident (outreach.contact) --------------------------------------------

RESIDENT_TEXT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "case_id", "status", "due_at", "locale", "text", "body", "event"],
    "properties": {
        "id": {"type": "integer", "description": "the text's row in the outbox"},
        "case_id": {"type": "integer"},
        "status": {
            "enum": [status.value for status in OutboundStatus],
            "description": "queued (waiting for the calling hours) or sending (goes now); the "
            "case's timeline says when it was sent, or that it failed",
        },
        "due_at": {**TIME, "description": "when it goes: now, or the next calling hours"},
        "locale": {"enum": list(LOCALES), "description": "the resident's language"},
        "text": {"type": "string", "description": "the words as written"},
        "body": {
            "type": "string",
            "description": "what the resident reads: the hotline's heading, in their "
            "language, with the case number, then the words",
        },
        "event": {"$ref": "#/components/schemas/Event"},
    },
}


def resident_text_json(case: Case, texted: Texted) -> dict[str, Any]:
    message = texted.message
    detail = texted.event.detail
    return {
        "id": message.id,
        "case_id": case.id,
        "status": message.status.value,
        "due_at": message.due_at.isoformat(),
        "locale": detail["locale"],
        "text": detail["text"],
        "body": message.body,
        "event": event_json(texted.event),
    }


RESIDENT_CALL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["case_id", "outcome", "note", "case_status", "event"],
    "properties": {
        "case_id": {"type": "integer"},
        "outcome": {"enum": [outcome.value for outcome in CallOutcome]},
        "note": {"type": "string"},
        "case_status": {
            "enum": [status.value for status in CaseStatus],
            "description": "after the call: a new case the resident answered for is accepted",
        },
        "event": {"$ref": "#/components/schemas/Event"},
    },
}


@bp.post("/cases/<int:case_id>/texts")
@token_required
def text(case_id: int) -> ResponseReturnValue:
    """A text to the case's resident, through the outbox, in their language."""
    case, user = _editable_case(case_id)
    body = _json_body({"text"})
    if "text" not in body:
        abort(400, "text is required: what to tell the resident")
    try:
        texted = text_resident(case, _text(body, "text"), user)
    except Refused as error:
        _refused(error)
    db.session.commit()
    return jsonify(resident_text_json(case, texted)), 201


OUTCOMES = [outcome.value for outcome in CallOutcome]


@bp.post("/cases/<int:case_id>/calls")
@token_required
def call(case_id: int) -> ResponseReturnValue:
    """A call made to the case's resident: what came of it, and a note."""
    case, user = _editable_case(case_id)
    body = _json_body({"outcome", "note"})
    outcome = body.get("outcome")
    if outcome not in OUTCOMES:
        abort(400, f"outcome is required, one of: {', '.join(OUTCOMES)}")
    try:
        event = record_call(case, outcome, _text(body, "note"), user)
    except Refused as error:
        _refused(error)
    db.session.commit()
    answer = {
        "case_id": case.id,
        "outcome": outcome,
        "note": event.detail["note"],
        "case_status": case.status.value,
        "event": event_json(event),
    }
    return jsonify(answer), 201


# ---- the OpenAPI document ----------------------------------------------------------------------

NOT_YOURS = _error(
    "no such case, or one the token's user may not visit (a grid worker visits their own "
    "grid's cases only); nothing was recorded"
)
VISIT_ERRORS = {
    **WRITE_ERRORS,
    "403": _error("a read-only token, or an account that does not make visits (a department)"),
    "404": NOT_YOURS,
    "409": _error("the case is not resolved: a visit asks about a resolution"),
}
PATHS: dict[str, Any] = {
    "/api/visits": {
        "get": {
            "operationId": "listVisits",
            "summary": "The home visits waiting to be recorded, newest due first",
            "description": "A grid worker's token lists their grid's visits; staff, admins "
            "and read-only tokens every grid's. A visit is waiting from when it is scheduled "
            "until a visit meets the resident (or the case leaves resolved).",
            "parameters": [
                {
                    "name": "grid",
                    "in": "query",
                    "required": False,
                    "description": "only this grid's visits",
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "200": _json({"type": "array", "items": _ref("Visit")}, "the open visits"),
                "401": READ_ERRORS["401"],
                "403": _error("a department's token: departments make no visits"),
            },
        }
    },
    "/api/cases/{case_id}/visits": {
        "parameters": [CASE_ID],
        "post": {
            "operationId": "recordVisit",
            "summary": "Record what a home visit found",
            "description": "Met, with the resident's answer asked in person: the answer counts "
            "as a survey answer (channel visit) in the ledger and the rates; satisfied or "
            "basically satisfied closes the case, not satisfied reopens it and texts the "
            "supervisors. Not met: the visit is due again the next morning. Recorded on the "
            "case's open visit, or on one made now when none was scheduled.",
            "requestBody": _body(
                {
                    "met": {"type": "boolean"},
                    "answer": {
                        "enum": [*ANSWERS, None],
                        "description": "required when met; absent or null when not",
                    },
                    "note": {"type": "string", "maxLength": MAX_NOTE},
                },
                ["met"],
                {"met": True, "answer": "not_satisfied", "note": "the drain smells again"},
            ),
            "responses": {
                "201": _json(_ref("Visit"), "the visit, with what was recorded"),
                **VISIT_ERRORS,
                "422": _error(
                    "refused: met without an answer, an answer without meeting, a note too "
                    "long, or the visit was recorded by someone a moment before"
                ),
            },
        },
    },
    "/api/cases/{case_id}/visits/schedule": {
        "parameters": [CASE_ID],
        "post": {
            "operationId": "scheduleVisit",
            "summary": "Ask the grid's workers to visit the resident on a day",
            "description": "For a resolved case without an open visit. On that day (from the "
            "opening of the calling hours) the grid's workers are texted; the visit waits on "
            f"their list until recorded. A day from today to {MAX_DAYS_AHEAD} days ahead.",
            "requestBody": _body(
                {"due_on": {"type": "string", "format": "date"}},
                ["due_on"],
                {"due_on": "2026-03-05"},
            ),
            "responses": {
                "201": _json(_ref("Visit"), "the visit scheduled"),
                **VISIT_ERRORS,
                "422": _error("refused: a day past or too far ahead, or a visit already open"),
            },
        },
    },
}
PATHS.update(
    {
        "/api/cases/{case_id}/texts": {
            "parameters": [CASE_ID],
            "post": {
                "operationId": "textResident",
                "summary": "Text the case's resident",
                "description": "Through the outbox, to the resident's number (else the "
                "caller's), headed in the resident's language with the hotline's name and the "
                f"case number; the whole text must fit in {MAX_SEGMENTS} SMS segments. It waits "
                "for the calling hours (and the resident's own hours). On the timeline as "
                "resident_texted (the words, never the number). The same permissions as "
                "changing the case.",
                "requestBody": _body(
                    {"text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}},
                    ["text"],
                    {"text": "师傅明天上午9点上门修理楼道灯。"},
                ),
                "responses": {
                    "201": _json(_ref("ResidentText"), "the text, queued"),
                    **WRITE_ERRORS,
                    "422": _error(
                        "refused, nothing queued: an empty text, one that does not fit in "
                        f"{MAX_SEGMENTS} segments, a case without a phone number, a number "
                        "that texted STOP or a resident marked no text messages"
                    ),
                },
            },
        },
        "/api/cases/{case_id}/calls": {
            "parameters": [CASE_ID],
            "post": {
                "operationId": "recordCall",
                "summary": "Record a phone call made to the case's resident",
                "description": "With its outcome and a note, on the timeline as "
                "resident_called. An answered call is the case's first response: a new case "
                "is accepted (a report of another case's problem keeps following it). The "
                "same permissions as changing the case.",
                "requestBody": _body(
                    {
                        "outcome": {"enum": OUTCOMES},
                        "note": {"type": "string", "maxLength": MAX_NOTE},
                    },
                    ["outcome"],
                    {"outcome": "answered", "note": "她说楼道灯又坏了，明天去看"},
                ),
                "responses": {
                    "201": _json(_ref("ResidentCall"), "the call, recorded"),
                    **WRITE_ERRORS,
                    "422": _error(
                        "refused, nothing recorded: a note too long, a case without a phone number"
                    ),
                },
            },
        },
    }
)
describe(
    PATHS,
    {
        "Visit": VISIT_SCHEMA,
        "VisitRecord": VISIT_RECORD_SCHEMA,
        "ResidentText": RESIDENT_TEXT_SCHEMA,
        "ResidentCall": RESIDENT_CALL_SCHEMA,
    },
)
