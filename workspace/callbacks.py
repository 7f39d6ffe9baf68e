"""The call-back list: calls whose message held no speech, for staff to call back.

Silence or noise at the beep opens no case (the caller may not be able to speak). Staff see
the waiting calls, urgent (known residents) first, listen to each recording, call the number,
and mark it done with a note of what came of it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from accounts.models import Role, User
from cases.callbacks import call_backs_for, mark_done, visible_call_back
from cases.errors import Refused
from cases.models import CallBack, CallBackStatus
from cases.permissions import may_call_back
from hotline.db import db
from workspace.case_page import recording_file, send_recording
from workspace.i18n import say, t
from workspace.views import add_to_nav

bp = Blueprint("callbacks", __name__)

DONE_SHOWN = 20  # the latest ones done, for the team to see what came of them

add_to_nav("callbacks.index", "common.callbacks", (Role.ADMIN, Role.STAFF, Role.GRID_WORKER))


def _me() -> User:
    user: User = current_user._get_current_object()
    if not may_call_back(user):
        abort(403)
    return user


def _call_back_or_404(call_back_id: int) -> CallBack:
    call_back = visible_call_back(_me(), call_back_id)
    if call_back is None:
        abort(404)  # another grid's is as invisible as a missing one
    return call_back


@bp.get("/callbacks")
@login_required
def index() -> ResponseReturnValue:
    """Who is waiting for a call back, urgent first; and the latest done."""
    me = _me()
    return render_template(
        "callbacks.html",
        waiting=call_backs_for(me),
        done=call_backs_for(me, CallBackStatus.DONE, limit=DONE_SHOWN),
    )


@bp.get("/callbacks/<int:call_back_id>")
@login_required
def show(call_back_id: int) -> ResponseReturnValue:
    """One call: the number to dial, the resident, the recording, and the form to close it."""
    call_back = _call_back_or_404(call_back_id)
    return render_template(
        "callback.html",
        call_back=call_back,
        has_recording=recording_file(call_back.recording) is not None,
    )


@bp.get("/callbacks/<int:call_back_id>/recording")
@login_required
def recording(call_back_id: int) -> ResponseReturnValue:
    """The recording for the page's audio player (range requests, so seeking works)."""
    return send_recording(_call_back_or_404(call_back_id).recording)


@bp.post("/callbacks/<int:call_back_id>/done")
@login_required
def done(call_back_id: int) -> ResponseReturnValue:
    """Called back: what came of it, in a note; a refusal changes nothing and says why."""
    call_back = _call_back_or_404(call_back_id)
    note = request.form.get("note", "").replace("\r\n", "\n")
    try:
        mark_done(call_back, _me(), note)
        db.session.commit()
    except Refused as refusal:
        db.session.rollback()
        flash(say(refusal.message), "error")
        return redirect(url_for(".show", call_back_id=call_back_id), code=303)
    flash(t("callbacks.done"), "success")
    return redirect(url_for(".index"), code=303)
