"""The JSON API for other tools: read cases by the resident's phone number."""

from __future__ import annotations

from typing import Any

import phonenumbers
from flask import Blueprint, abort, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, select, true

from accounts.permissions import can_view, case_scope
from cases.models import Case
from hotline.api_tokens import token_required
from hotline.db import db

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_CASES = 200


def case_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "number": case.number,
        "status": case.status.value,
        "phone": case.phone,
        "resident_id": case.resident_id,
        "source": case.source.value,
        "transcript": case.transcript,
        "machine_transcript": case.machine_transcript,
        "words": case.transcript_words,
        "no_speech": case.no_speech,
        "error": case.error,
        "category": case.category,
        "urgency": case.urgency.value,
        "locale": case.locale,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }


def _e164(text: str) -> str:
    try:
        number = phonenumbers.parse(text)
    except phonenumbers.NumberParseException:
        abort(400, "phone must be an E.164 number such as +8613800000000")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@bp.get("/cases")
@token_required
def list_cases() -> ResponseReturnValue:
    query = (
        select(Case)
        .where(_scope())
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(MAX_CASES)
    )
    phone = request.args.get("phone")
    if phone is not None:
        query = query.where(Case.phone == _e164(phone))
    return jsonify([case_json(case) for case in db.session.scalars(query)])


@bp.get("/cases/<int:case_id>")
@token_required
def get_case(case_id: int) -> ResponseReturnValue:
    case = db.session.get(Case, case_id)
    user = g.api_token.user
    if case is None or (user is not None and not can_view(user, case)):
        abort(404)  # another grid's case is as invisible as a missing one
    return jsonify(case_json(case))


def _scope() -> ColumnElement[bool]:
    """A token acts with its user's permissions; a token without a user reads everything."""
    user = g.api_token.user
    return case_scope(user) if user is not None else true()
