"""New case: staff record a request someone brought them (the desk, a round, a building leader).

One form, one column, usable on a phone: how it came, who is affected (a registered resident
found on the same page, or a person without a record), what and where, category and urgency
(triage suggests, staff decide), a photo or document, and "resolved on the spot". The form's
own buttons (find, choose, suggest) post back to it and keep what was typed; only "Record"
makes anything, through cases.staff_intake.record_request, which refuses bad input whole.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from accounts.models import Role, User
from cases import attachments
from cases.attachments import Upload
from cases.errors import Refused
from cases.models import STAFF_CHANNELS, Resident, Urgency
from cases.permissions import may_record_for, may_record_requests
from cases.staff_intake import StaffRequest, record_request, text_locale
from hotline.config import MEGABYTE
from hotline.db import db
from hotline.i18n import LOCALES
from hotline.settings import current_settings
from triage import CATEGORIES, Triage, triage
from workspace.i18n import say, t
from workspace.residents import resident_scope, search_filter
from workspace.views import add_to_nav

bp = Blueprint("new_case", __name__)

add_to_nav("new_case.form", "common.new_case", (Role.ADMIN, Role.STAFF, Role.GRID_WORKER))

MATCHES = 10  # residents offered for a search: a name, a number, an address
MAX_ID_DIGITS = 9
FIELDS = (
    "channel",
    "resident_q",
    "person_name",
    "person_phone",
    "person_locale",
    "text",
    "address",
    "building",
    "grid",
    "category",
    "urgency",
    "resolution_note",
)


def _me() -> User:
    """The signed-in user, if they record requests (not a department, not a gridless worker)."""
    user: User = current_user._get_current_object()
    if not may_record_requests(user):
        abort(403)
    return user


@bp.get("/cases/new")
@login_required
def form() -> ResponseReturnValue:
    """The empty form; `?resident_id=N` (from a resident's page) starts with that resident."""
    me = _me()
    values = {"channel": _default_channel(me)}
    resident = _resident_from(request.args.get("resident_id", ""), me)
    if resident is not None:
        values.update(_place_of(resident))
    return _render(me, values, resident)


@bp.post("/cases/new")
@login_required
def submit() -> ResponseReturnValue:
    """Find or choose a resident, ask for triage's suggestion, or record the request."""
    me = _me()
    values = _typed(request.form)
    resident = _resident_from(request.form.get("resident_id", ""), me)
    # The button pressed: "choose" carries the resident's id as its value instead.
    action = request.form.get("action") or ("choose" if request.form.get("choose") else "save")
    if action == "find":
        return _render(me, values, resident, matches=_matches(values["resident_q"], me))
    if action == "choose":
        chosen = _resident_from(request.form.get("choose", ""), me)
        if chosen is not None:
            values.update({key: value for key, value in _place_of(chosen).items() if value})
        return _render(me, values, chosen)
    if action == "forget":
        return _render(me, values, None)
    if action == "suggest":
        return _suggest(me, values, resident)
    return _save(me, values, resident)


def _save(me: User, values: dict[str, str], resident: Resident | None) -> ResponseReturnValue:
    posted = request.form.get("resident_id", "").strip()
    if resident is None and posted:
        # Chosen on the form, but gone since (deleted, moved to another grid) or never this
        # user's to record for: say so, rather than "say who is affected" to whoever chose one.
        flash(t("intake.refused.no_such_resident", id=posted[: MAX_ID_DIGITS + 1]), "error")
        return _render(me, values, None), 400
    try:
        case = record_request(_staff_request(values, resident, me), me)
    except Refused as refusal:
        flash(say(refusal.message), "error")
        return _render(me, values, resident), 400
    key = "intake.recorded_resolved" if values.get("resolved") else "intake.recorded"
    flash(t(key, number=case.number), "success")
    return redirect(url_for("case_page.show", case_id=case.id), code=303)


def _staff_request(values: dict[str, str], resident: Resident | None, me: User) -> StaffRequest:
    registered = resident is not None
    return StaffRequest(
        channel=values["channel"],
        text=values["text"],
        resident_id=resident.id if resident else None,
        person_name="" if registered else values["person_name"],
        person_phone="" if registered else values["person_phone"],
        person_locale="" if registered else values["person_locale"],
        address=values["address"],
        building=values["building"],
        grid="" if me.role == Role.GRID_WORKER else values["grid"],
        category=values["category"],
        urgency=values["urgency"],
        resolved=bool(values.get("resolved")),
        resolution_note=values["resolution_note"],
        upload=_upload(request.files.get("attachment")),
    )


def _upload(file: FileStorage | None) -> Upload | None:
    """The chosen file, read to one byte past the limit (enough to refuse it as too big)."""
    if file is None or not file.filename:
        return None
    return Upload(file.filename, file.stream.read(attachments.max_bytes() + 1))


def _suggest(me: User, values: dict[str, str], resident: Resident | None) -> ResponseReturnValue:
    """Triage's reading of the words, put into the category and urgency for staff to change."""
    text = values["text"].strip()
    if not text:
        flash(t("intake.suggest_needs_text"), "error")
        return _render(me, values, resident)
    guess = triage(text, text_locale(text, me.language))
    values.update(category=guess.category, urgency=guess.urgency)
    return _render(me, values, resident, reading=guess)


# ---- what was typed, and who ---------------------------------------------------------------


def _typed(form: MultiDict[str, str]) -> dict[str, str]:
    """The form's fields as typed (browsers send CRLF line breaks; stored text has LF)."""
    values = {name: form.get(name, "").replace("\r\n", "\n") for name in FIELDS}
    values["resolved"] = "1" if form.get("resolved") else ""
    return values


def _default_channel(me: User) -> str:
    return "grid_patrol" if me.role == Role.GRID_WORKER else "desk"


def _resident_from(raw: str, me: User) -> Resident | None:
    """The resident an id names, if `me` may record for them; none for anything else."""
    raw = raw.strip()
    if not raw or not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_ID_DIGITS:
        return None
    resident = db.session.get(Resident, int(raw))
    return resident if resident is not None and may_record_for(me, resident) else None


def _place_of(resident: Resident) -> dict[str, str]:
    return {"address": resident.address, "building": resident.building, "grid": resident.grid}


def _matches(query: str, me: User) -> list[Resident]:
    query = query.strip()[:100]
    if not query:
        return []
    return list(
        db.session.scalars(
            select(Resident)
            .where(resident_scope(me), search_filter(query))
            .order_by(Resident.name, Resident.id)
            .limit(MATCHES)
        )
    )


def _render(
    me: User,
    values: dict[str, str],
    resident: Resident | None,
    *,
    matches: list[Resident] | None = None,
    reading: Triage | None = None,
) -> str:
    form: dict[str, Any] = {name: "" for name in FIELDS} | values
    if me.role == Role.GRID_WORKER:
        form["grid"] = me.grid  # a grid worker's cases stay in their grid
    return render_template(
        "new_case.html",
        form=form,
        resident=resident,
        matches=matches,
        searched=matches is not None,
        reading=reading,
        channels=[channel.value for channel in STAFF_CHANNELS],
        categories=CATEGORIES,
        urgencies=[level.value for level in Urgency],
        locales=LOCALES,
        default_locale=current_settings().default_locale,
        grid_fixed=me.role == Role.GRID_WORKER,
        max_megabytes=attachments.max_bytes() // MEGABYTE,
        accepted_types=", ".join(attachments.EXTENSIONS),
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A file far beyond the limit is refused before the form can be read: say so plainly."""
    me = _me()
    flash(t("intake.refused.file_too_big", limit=attachments.max_bytes() // MEGABYTE), "error")
    return _render(me, {"channel": _default_channel(me)}, None), 413
