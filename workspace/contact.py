"""The case page's "Contact the resident": text them (through the outbox, in their language)
and record a call made to them. The rules are outreach.contact's; whoever may change the case
may do both, and a refusal changes nothing and says why (a refused text is kept in the form,
so that it can be shortened rather than typed again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from accounts.models import User
from cases.errors import Refused
from cases.models import Case, CaseStatus
from cases.permissions import can_view
from hotline.db import db
from outreach.contact import (
    MAX_TEXT,
    TEXT_TEMPLATE,
    CallOutcome,
    may_contact,
    record_call,
    text_resident,
    text_room,
)
from outreach.outbox import texted_stop
from outreach.schedule import contact_of
from workspace.formatting import local_time
from workspace.i18n import say, t

bp = Blueprint("contact", __name__)
DRAFT_KEY = "text_draft"  # a refused text, given back to the form once


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


@dataclass(frozen=True)
class ContactPanel:
    """What the case page offers a reader who may change the case."""

    to_whom: str  # who is reached, and in which language (never the number)
    language: str  # the resident's language, in words
    locale: str
    heading: str  # how the text begins, as the resident reads it
    limit: int  # about how many characters of the resident's language fit
    cannot_text: str  # why no text can go, or ""
    can_call: bool
    draft: str  # a refused text, to shorten


def contact_panel(case: Case) -> ContactPanel | None:
    if not may_contact(_me(), case):
        return None
    contact = contact_of(case)
    language = t(f"case.language.{contact.locale}")
    if contact.resident is not None:
        to_whom = t("contact.to_whom", name=contact.resident.name, language=language)
    else:
        to_whom = t("contact.to_caller", language=language)
    return ContactPanel(
        to_whom=to_whom,
        language=language,
        locale=contact.locale,
        heading=contact.texts.text(TEXT_TEMPLATE, number=case.number, text="").strip(),
        limit=text_room(case, contact),
        cannot_text=_cannot_text(contact.phone, contact.can_text),
        can_call=bool(contact.phone),
        draft=_draft(case),
    )


def _cannot_text(phone: str, can_text: bool) -> str:
    if not phone:
        return t("contact.cannot.no_phone")
    if can_text:
        return ""
    stopped = texted_stop([phone])
    return t("contact.cannot.texted_stop" if stopped else "contact.cannot.no_texts_mark")


def _draft(case: Case) -> str:
    kept = session.get(DRAFT_KEY)
    if not isinstance(kept, dict) or kept.get("case") != case.id:
        return ""
    session.pop(DRAFT_KEY, None)
    return str(kept.get("text", ""))


@bp.app_context_processor
def _contact_helpers() -> dict[str, Any]:
    return {
        "contact_panel": contact_panel,
        "call_outcomes": [outcome.value for outcome in CallOutcome],
        "max_text": MAX_TEXT,
    }


# ---- the forms -------------------------------------------------------------------------------


def _case_to_contact(case_id: int) -> Case:
    """404 for a case the reader may not see (hiding that it exists), 403 for one they see
    but may not change: as every form of the case page."""
    case = db.session.get(Case, case_id)
    if case is None:
        abort(404)
    if not may_contact(_me(), case):
        abort(403 if can_view(_me(), case) else 404)
    return case


def _back(case: Case) -> Response:
    return redirect(url_for("case_page.show", case_id=case.id, _anchor="contact"), code=303)


@bp.post("/cases/<int:case_id>/texts")
@login_required
def text(case_id: int) -> ResponseReturnValue:
    """Queue a text to the resident."""
    case = _case_to_contact(case_id)
    words = request.form.get("text", "").replace("\r\n", "\n")
    try:
        texted = text_resident(case, words, _me())
        db.session.commit()
    except Refused as refusal:
        db.session.rollback()
        flash(say(refusal.message), "error")
        session[DRAFT_KEY] = {"case": case.id, "text": words[:MAX_TEXT]}
        return _back(case)
    if texted.later:
        flash(t("contact.done.texted_later", when=local_time(texted.message.due_at)), "success")
    else:
        flash(t("contact.done.texted", number=case.number), "success")
    return _back(case)


@bp.post("/cases/<int:case_id>/calls")
@login_required
def call(case_id: int) -> ResponseReturnValue:
    """Record a call made to the resident, and what came of it."""
    case = _case_to_contact(case_id)
    was_new = case.status == CaseStatus.NEW
    outcome = request.form.get("outcome", "")
    try:
        record_call(case, outcome, request.form.get("note", "").replace("\r\n", "\n"), _me())
        db.session.commit()
    except Refused as refusal:
        db.session.rollback()
        flash(say(refusal.message), "error")
        return _back(case)
    if outcome == CallOutcome.WRONG_NUMBER:
        flash(t("contact.done.wrong_number"), "success")
    elif was_new and case.status == CaseStatus.ACCEPTED:
        flash(t("contact.done.called_accepted", number=case.number), "success")
    else:
        flash(t("contact.done.called"), "success")
    return _back(case)
