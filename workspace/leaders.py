"""Building leaders (楼栋长) on the staff pages: who leads which building, set by the office.

A resident's page shows their building's leaders, the buildings they lead and the cases they
reported as a leader; admins and staff make them a leader of a building there, or stop it. A
staff member is made a leader on their account's page (admins). The case page shows the
building's leaders and the leader who reported the case (case_leaders.html).

Every form posts here, changes one thing and goes back to its page; a refusal (an unknown
building or person, a building they lead already) is flashed and nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.models import Role, User
from accounts.permissions import can_manage
from cases.errors import Refused
from cases.leaders import appoint, known_buildings, leaders_of, led_by
from cases.models import BuildingLeader, Case, CaseReporter, Resident
from cases.permissions import case_scope
from hotline.db import db
from workspace.i18n import say, t

bp = Blueprint("leaders", __name__)
log = logging.getLogger(__name__)

OFFICE = (Role.ADMIN, Role.STAFF)  # who makes residents leaders
REPORTED_SHOWN = 20


@dataclass(frozen=True)
class Leadership:
    """What a resident's or an account's page shows about building leaders."""

    owner: str  # "resident" or "account": whose page
    owner_id: int
    building: str  # the resident's own building ("" for an account)
    building_leaders: list[BuildingLeader]  # the leaders of that building
    leads: list[BuildingLeader]  # the buildings they lead
    reported: list[Case]  # cases they reported as a leader, newest first
    can_change: bool
    buildings: list[str]  # known buildings, offered when typing one

    @property
    def appoint_url(self) -> str:
        return url_for(f"leaders.appoint_{self.owner}", owner_id=self.owner_id)

    def release_url(self, leadership_id: int) -> str:
        return url_for(
            f"leaders.release_{self.owner}", owner_id=self.owner_id, leadership_id=leadership_id
        )


def resident_leadership(resident: Resident, reader: User) -> Leadership:
    reported = db.session.scalars(
        select(Case)
        .join(CaseReporter, CaseReporter.case_id == Case.id)
        .where(CaseReporter.resident_id == resident.id, case_scope(reader))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(REPORTED_SHOWN)
    ).all()
    can_change = reader.role in OFFICE
    return Leadership(
        owner="resident",
        owner_id=resident.id,
        building=resident.building,
        building_leaders=leaders_of(resident.building),
        leads=led_by(resident=resident),
        reported=list(reported),
        can_change=can_change,
        buildings=known_buildings() if can_change else [],
    )


def account_leadership(account: User, reader: User) -> Leadership:
    can_change = can_manage(reader)
    return Leadership(
        owner="account",
        owner_id=account.id,
        building="",
        building_leaders=[],
        leads=led_by(user=account),
        reported=[],
        can_change=can_change,
        buildings=known_buildings() if can_change else [],
    )


def _carry_out(change: Callable[[], str], back: str) -> ResponseReturnValue:
    """Make one change and go back: flash what was done, or why not (nothing changed)."""
    try:
        done = change()
        db.session.commit()
    except Refused as refusal:
        db.session.rollback()
        flash(say(refusal.message), "error")
    else:
        flash(done, "success")
    return redirect(back, code=303)


def _office() -> User:
    user: User = current_user._get_current_object()
    if user.role not in OFFICE:
        abort(403)
    return user


def _admin() -> User:
    user: User = current_user._get_current_object()
    if not can_manage(user):
        abort(403)
    return user


def _resident_page(resident_id: int) -> str:
    """Back to the resident's page, or to the directory when there is no such resident."""
    if db.session.get(Resident, resident_id) is None:
        return url_for("residents.index")
    return url_for("residents.show", resident_id=resident_id) + "#leadership"


@bp.post("/residents/<int:owner_id>/leads")
@login_required
def appoint_resident(owner_id: int) -> ResponseReturnValue:
    """Make the resident a leader of the building typed (one some resident lives in)."""
    me = _office()

    def change() -> str:
        leadership = appoint(request.form.get("building"), resident_id=owner_id)
        log.info("resident %s made a building leader by %s", owner_id, me.username)
        return t("leaders.appointed", name=leadership.name, building=leadership.building)

    return _carry_out(change, _resident_page(owner_id))


@bp.post("/residents/<int:owner_id>/leads/<int:leadership_id>/delete")
@login_required
def release_resident(owner_id: int, leadership_id: int) -> ResponseReturnValue:
    me = _office()
    leadership = db.session.get(BuildingLeader, leadership_id)
    if leadership is None or leadership.resident_id != owner_id:
        abort(404)
    return _carry_out(_release(leadership, me), _resident_page(owner_id))


@bp.post("/admin/users/<int:owner_id>/leads")
@login_required
def appoint_account(owner_id: int) -> ResponseReturnValue:
    """Make a staff member a leader of a building (admins, on the account's page)."""
    me = _admin()
    if db.session.get(User, owner_id) is None:
        abort(404)

    def change() -> str:
        leadership = appoint(request.form.get("building"), user_id=owner_id)
        log.info("account %s made a building leader by %s", owner_id, me.username)
        return t("leaders.appointed", name=leadership.name, building=leadership.building)

    return _carry_out(change, _account_page(owner_id))


@bp.post("/admin/users/<int:owner_id>/leads/<int:leadership_id>/delete")
@login_required
def release_account(owner_id: int, leadership_id: int) -> ResponseReturnValue:
    me = _admin()
    leadership = db.session.get(BuildingLeader, leadership_id)
    if leadership is None or leadership.user_id != owner_id:
        abort(404)
    return _carry_out(_release(leadership, me), _account_page(owner_id))


def _account_page(user_id: int) -> str:
    return url_for("admin.user", user_id=user_id) + "#leadership"


def _release(leadership: BuildingLeader, me: User) -> Callable[[], str]:
    def change() -> str:
        name, building = leadership.name, leadership.building
        db.session.delete(leadership)
        log.info("building leader %s released by %s", leadership.id, me.username)
        return t("leaders.released", name=name, building=building)

    return change
