"""Administration, for admins only: routing rules, staff accounts, what the local line sent.

Every form posts to a small view that checks the input, changes one thing, and comes back to
its page (post/redirect/get); a refusal is flashed and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.models import Role, User
from accounts.permissions import can_manage
from cases.errors import Refused
from cases.models import RoutingRule
from cases.triage import CATEGORIES
from hotline.db import db
from hotline.i18n import LOCALES, Message
from hotline.settings import current_settings
from hotline.telephony.models import LocalLineEntry
from workspace.i18n import say, t
from workspace.views import add_to_nav

bp = Blueprint("admin", __name__)

add_to_nav("admin.routing", "common.admin", (Role.ADMIN,))

MAX_PLACE = 50  # the width of the grid and building columns
MIN_PASSWORD = 12
MAX_ID_DIGITS = 9
SENT_SHOWN = 200  # the newest calls and texts of the local line on its page


@bp.before_request
def _admins_only() -> None:
    """Accounts and routing decide who sees what: nobody but an admin may even look.

    Signed-out visitors pass here and are sent to the login page by @login_required.
    """
    if current_user.is_authenticated and not can_manage(current_user):
        abort(403)


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _field(name: str, limit: int, label_key: str) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > limit:
        raise Refused("admin.error.too_long", field=Message(label_key), limit=limit)
    return value


def _carry_out(change: Callable[[], str], page: str) -> ResponseReturnValue:
    """Make one change and go back to the page: flash what was done, or why not."""
    try:
        done = change()
        db.session.commit()
    except Refused as refusal:
        db.session.rollback()
        flash(say(refusal.message), "error")
    else:
        flash(done, "success")
    return redirect(url_for(page), code=303)


def _active_users() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.display_name, User.username)
        )
    )


# -- routing rules -------------------------------------------------------------------------


@bp.get("/admin/routing")
@login_required
def routing() -> ResponseReturnValue:
    """The rules that hand new cases to their default handler, and a form to add one."""
    rules = db.session.scalars(
        select(RoutingRule).order_by(
            RoutingRule.category, RoutingRule.grid, RoutingRule.building, RoutingRule.id
        )
    ).all()
    return render_template(
        "admin_routing.html", rules=rules, categories=CATEGORIES, assignees=_active_users()
    )


def _rule_assignee() -> User:
    raw = request.form.get("assignee_id", "").strip()
    # Longer numbers cannot be ids, and would overflow PostgreSQL's integer.
    is_id = raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS
    user = db.session.get(User, int(raw)) if is_id else None
    if user is None or not user.active:
        raise Refused("admin.error.no_assignee")
    return user


def _add_rule() -> str:
    category = request.form.get("category", "").strip()
    if category and category not in CATEGORIES:
        raise Refused("admin.error.unknown_category")
    grid = _field("grid", MAX_PLACE, "admin.grid")
    building = _field("building", MAX_PLACE, "admin.building")
    assignee = _rule_assignee()
    if assignee.role == Role.GRID_WORKER and grid != assignee.grid:
        # They would be handed cases they cannot open; routing would skip the rule anyway.
        raise Refused("admin.error.rule_outside_grid", name=assignee.name, grid=assignee.grid)
    same_place = db.session.scalar(
        select(RoutingRule).where(
            RoutingRule.category == category,
            RoutingRule.grid == grid,
            RoutingRule.building == building,
        )
    )
    if same_place is not None and same_place.assignee_id == assignee.id:
        raise Refused("admin.error.duplicate_rule")
    if same_place is not None:
        # The older rule would always win the tie, so the new one could never take effect.
        raise Refused("admin.error.conflicting_rule", name=same_place.assignee.name)
    db.session.add(
        RoutingRule(category=category, grid=grid, building=building, assignee_id=assignee.id)
    )
    return t("admin.rule_added")


@bp.post("/admin/routing")
@login_required
def add_rule() -> ResponseReturnValue:
    """Add a rule: category (or any) x grid and/or building (blank = any) -> an active user."""
    return _carry_out(_add_rule, ".routing")


@bp.post("/admin/routing/<int:rule_id>/delete")
@login_required
def delete_rule(rule_id: int) -> ResponseReturnValue:
    """Remove a rule; cases it already routed keep their handler."""
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        abort(404)

    def delete() -> str:
        db.session.delete(rule)
        return t("admin.rule_deleted")

    return _carry_out(delete, ".routing")


# -- staff accounts ------------------------------------------------------------------------


@bp.get("/admin/users")
@login_required
def users() -> ResponseReturnValue:
    """Every staff account, and a form to make a new one."""
    everyone = db.session.scalars(select(User).order_by(User.active.desc(), User.username)).all()
    return render_template(
        "admin_users.html", users=everyone, roles=list(Role), locales=LOCALES, minimum=MIN_PASSWORD
    )


def _phone() -> str:
    raw = request.form.get("phone", "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw)
    except phonenumbers.NumberParseException:
        raise Refused("admin.error.bad_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise Refused("admin.error.bad_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _new_user() -> User:
    """An account from the form, checked field by field; nothing is saved on a refusal."""
    username = _field("username", 50, "admin.username")
    if not username or any(char.isspace() for char in username):
        raise Refused("admin.error.username_required")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Refused("admin.error.username_taken", username=username)
    role_value = request.form.get("role", "")
    if role_value not in {role.value for role in Role}:
        raise Refused("admin.error.bad_role")
    user = User(
        username=username,
        display_name=_field("display_name", 100, "admin.display_name"),
        role=Role(role_value),
        grid=_field("grid", MAX_PLACE, "admin.grid"),
        department=_field("department", 100, "admin.department"),
        language=request.form.get("language", ""),
        phone=_phone(),
    )
    if user.role == Role.GRID_WORKER and not user.grid:
        raise Refused("admin.error.grid_required")
    if user.role == Role.DEPARTMENT and not user.department:
        raise Refused("admin.error.department_required")
    if user.language not in LOCALES:
        raise Refused("admin.error.bad_language")
    password = request.form.get("password", "")
    if len(password) < MIN_PASSWORD:
        raise Refused("admin.error.short_password", minimum=MIN_PASSWORD)
    user.set_password(password)
    return user


@bp.post("/admin/users")
@login_required
def create_user() -> ResponseReturnValue:
    """Make a staff account with an initial password, to be handed to its owner."""

    def create() -> str:
        user = _new_user()
        db.session.add(user)
        return t("admin.user_created", username=user.username)

    return _carry_out(create, ".users")


@bp.post("/admin/users/<int:user_id>/deactivate")
@login_required
def deactivate_user(user_id: int) -> ResponseReturnValue:
    """Close an account: it can no longer sign in, its API tokens stop, rules skip it."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)

    def deactivate() -> str:
        if user.id == _me().id:
            raise Refused("admin.error.not_yourself")
        user.active = False
        return t("admin.user_deactivated", username=user.username)

    return _carry_out(deactivate, ".users")


# -- what the hotline sent (the local line) ------------------------------------------------


@bp.get("/admin/sent")
@login_required
def sent() -> ResponseReturnValue:
    """Every call and text the local line kept instead of reaching a phone, newest first."""
    entries = db.session.scalars(
        select(LocalLineEntry)
        .order_by(LocalLineEntry.created_at.desc(), LocalLineEntry.id.desc())
        .limit(SENT_SHOWN)
    ).all()
    on_local_line = current_settings().telephony == "local"
    return render_template(
        "admin_sent.html", entries=entries, on_local_line=on_local_line, shown=SENT_SHOWN
    )
