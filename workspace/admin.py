"""Administration, for admins only: routing rules, staff accounts, what the local line sent,
the set-up check.

Every form posts to a small view that checks the input, changes one thing, and comes back to
its page (post/redirect/get); a refusal is flashed and nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select

import setup_check
from accounts.editing import (
    ENDS_SESSIONS,
    MIN_PASSWORD,
    AccountChanges,
    AccountRefused,
    apply_changes,
    new_account,
)
from accounts.models import ROLES_BY_POWER, Role, User
from accounts.permissions import can_manage
from accounts.sessions import renew_key
from cases.errors import Refused
from cases.models import RoutingRule
from hotline.db import db
from hotline.i18n import LOCALES, Message
from hotline.settings import current_settings
from hotline.telephony.models import LocalLineEntry
from triage import CATEGORIES
from workspace.i18n import say, t
from workspace.leaders import account_leadership
from workspace.views import add_to_nav

bp = Blueprint("admin", __name__)
log = logging.getLogger(__name__)

add_to_nav("admin.routing", "common.admin", (Role.ADMIN,))

MAX_PLACE = 50  # the width of the grid and building columns
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


def _carry_out(change: Callable[[], str], page: str, **page_args: Any) -> ResponseReturnValue:
    """Make one change and go back to the page: flash what was done, or why not."""
    try:
        done = change()
        db.session.commit()
    except (Refused, AccountRefused) as refusal:
        db.session.rollback()
        flash(say(refusal.message), "error")
    else:
        flash(done, "success")
    return redirect(url_for(page, **page_args), code=303)


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
        "admin_users.html",
        users=everyone,
        roles=ROLES_BY_POWER,
        locales=LOCALES,
        minimum=MIN_PASSWORD,
    )


def _typed(name: str) -> str | None:
    """A form field as typed, None when the form has no such field."""
    value = request.form.get(name)
    return value if value is None else value.strip()


def _account_form(*, with_active: bool) -> AccountChanges:
    """The account fields of a form; an empty password field means "keep the password"."""
    return AccountChanges(
        display_name=_typed("display_name"),
        role=_typed("role") or "",
        grid=_typed("grid"),
        department=_typed("department"),
        language=_typed("language") or "",
        phone=_typed("phone"),
        active=bool(request.form.get("active")) if with_active else None,
        password=request.form.get("password") or None,
    )


@bp.post("/admin/users")
@login_required
def create_user() -> ResponseReturnValue:
    """Make a staff account with an initial password, to be handed to its owner."""

    def create() -> str:
        user = new_account(request.form.get("username", ""), _account_form(with_active=False))
        db.session.add(user)
        return t("admin.user_created", username=user.username)

    return _carry_out(create, ".users")


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/admin/users/<int:user_id>")
@login_required
def user(user_id: int) -> ResponseReturnValue:
    """One account's form: name, role, grid or department, language, phone, active, password."""
    account = _user_or_404(user_id)
    return render_template(
        "admin_user.html",
        account=account,
        roles=ROLES_BY_POWER,
        locales=LOCALES,
        minimum=MIN_PASSWORD,
        leadership=account_leadership(account, _me()),
    )


def _keep_my_own_access(account: User, changes: AccountChanges) -> None:
    """An admin who locked themselves out would leave the centre without one."""
    if account.id != _me().id:
        return
    if changes.active is False:
        raise Refused("admin.error.not_yourself")
    if changes.role != Role.ADMIN.value:
        raise Refused("admin.error.own_role")


@bp.post("/admin/users/<int:user_id>")
@login_required
def edit_user(user_id: int) -> ResponseReturnValue:
    """Save an account; a new password, role or a deactivation signs it out everywhere."""
    account = _user_or_404(user_id)

    def save() -> str:
        changes = _account_form(with_active=True)
        _keep_my_own_access(account, changes)
        changed = apply_changes(account, changes)
        if account.id == _me().id and ENDS_SESSIONS.intersection(changed):
            renew_key()  # signed out everywhere else; this browser goes on under a new key
        # Which fields, never their values: the log must not carry phone numbers.
        log.info(
            "account %s changed by %s: %s", account.username, _me().username, ", ".join(changed)
        )
        return t("admin.user_saved", username=account.username)

    return _carry_out(save, ".user", user_id=user_id)


@bp.post("/admin/users/<int:user_id>/deactivate")
@login_required
def deactivate_user(user_id: int) -> ResponseReturnValue:
    """Close an account: it can no longer sign in, its API tokens stop, rules skip it."""
    account = _user_or_404(user_id)

    def deactivate() -> str:
        if account.id == _me().id:
            raise Refused("admin.error.not_yourself")
        apply_changes(account, AccountChanges(active=False))
        return t("admin.user_deactivated", username=account.username)

    return _carry_out(deactivate, ".users")


@bp.post("/admin/users/<int:user_id>/reactivate")
@login_required
def reactivate_user(user_id: int) -> ResponseReturnValue:
    """Open a closed account again: it signs in with the password it had (or reset it on its
    page); its API tokens work again."""
    account = _user_or_404(user_id)

    def reactivate() -> str:
        apply_changes(account, AccountChanges(active=True))
        return t("admin.user_reactivated", username=account.username)

    return _carry_out(reactivate, ".users")


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


# -- the set-up check ------------------------------------------------------------------------


@bp.get("/admin/setup")
@login_required
def setup() -> ResponseReturnValue:
    """What keeps the hotline from taking calls, and what to do: checked as the page opens
    (asking Twilio and the public URL takes a few seconds at most)."""
    found = [(finding.severity.value, say(finding.message)) for finding in setup_check.findings()]
    return render_template("admin_setup.html", findings=found)
