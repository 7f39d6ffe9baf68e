"""Who may see and change which case. Pages and the API ask the same functions; the phone
line and the text line ask `phone_may_hear`."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, select, true

from accounts.models import Role, User
from cases.models import CallBack, Case, CaseParticipant, Resident
from cases.services import find_resident


def case_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause limiting cases to the ones `user` may see."""
    if user.role in (Role.ADMIN, Role.STAFF):
        return true()
    if user.role == Role.GRID_WORKER:
        return Case.grid == user.grid if user.grid else false()  # no grid yet: nothing
    joint = exists(
        select(CaseParticipant.id).where(
            CaseParticipant.case_id == Case.id, CaseParticipant.user_id == user.id
        )
    )
    return or_(Case.assignee_id == user.id, joint)


def can_view(user: User, case: Case) -> bool:
    if user.role in (Role.ADMIN, Role.STAFF):
        return True
    if user.role == Role.GRID_WORKER:
        return bool(user.grid) and case.grid == user.grid
    return case.assignee_id == user.id or any(p.user_id == user.id for p in case.participants)


def can_be_assigned(user: User, case: Case) -> bool:
    """Whether `user` could work on `case` once it is theirs: an active account that sees it.

    A department sees what is assigned to it, so the assignment itself gives it the case; a
    grid worker sees only their own grid's cases, so another grid's case is not theirs to take.
    """
    if not user.active:
        return False
    return user.role == Role.DEPARTMENT or can_view(user, case)


def can_edit(user: User, case: Case) -> bool:
    """Staff and grid workers edit what they see; a department only what is assigned to it.

    A department taking part in a joint case sees it and reports on its part (report_part),
    but does not change the case itself.
    """
    if user.role == Role.DEPARTMENT:
        return case.assignee_id == user.id
    return can_view(user, case)


def phone_may_hear(phone: str, case: Case) -> bool:
    """Whether someone calling or texting from `phone` may be told this case's status: the
    phone the case came from, its resident's phone, or one of the resident's family contacts.
    Case numbers are sequential, so knowing one proves nothing."""
    if not phone:
        return False
    resident = case.resident or find_resident(case.phone)
    phones = {case.phone}
    if resident is not None:
        phones |= {resident.phone, *(contact.phone for contact in resident.family_contacts)}
    return phone in phones


def can_close_unanswered(user: User) -> bool:
    """不满意不销账: closing a resolved case the resident has not answered for is a
    supervisor's decision. The hotline's supervisors are its admins (they also receive the
    escalations and the "not satisfied" alerts: accounts.directory.supervisors)."""
    return user.role == Role.ADMIN


def call_back_scope(user: User) -> ColumnElement[bool]:
    """Call-backs `user` may see and work: staff and admins all of them, a grid worker those
    of the residents of their grid; departments, whose work is assigned cases, none."""
    if user.role in (Role.ADMIN, Role.STAFF):
        return true()
    if user.role == Role.GRID_WORKER and user.grid:
        in_grid = select(Resident.id).where(Resident.grid == user.grid)
        return CallBack.resident_id.in_(in_grid)
    return false()


def may_call_back(user: User) -> bool:
    """Whether the call-back list is for `user` at all (the menu, the page)."""
    return user.role in (Role.ADMIN, Role.STAFF, Role.GRID_WORKER)


def may_record_requests(user: User) -> bool:
    """Whether `user` records requests on residents' behalf at all (the form, POST /api/cases):
    staff and admins, and grid workers once they have a grid; departments do not."""
    if user.role in (Role.ADMIN, Role.STAFF):
        return True
    return user.role == Role.GRID_WORKER and bool(user.grid)


def may_record_for(user: User, resident: Resident | None) -> bool:
    """Staff and admins record a request for anyone; a grid worker for the residents of their
    grid, and for a person with no resident record (the case is then in their grid)."""
    if not may_record_requests(user):
        return False
    if user.role == Role.GRID_WORKER:
        return resident is None or resident.grid == user.grid
    return True
