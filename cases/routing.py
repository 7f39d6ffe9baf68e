"""Routing rules: category x grid (or building) -> who gets a new case by default.

The most specific rule wins: a building beats a grid, a grid beats "any", and a rule naming
the category beats one that takes every category. Ties go to the oldest rule.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from cases.events import EventKind
from cases.models import Case, RoutingRule
from cases.permissions import can_be_assigned
from cases.services import add_event
from hotline.db import db


def _specificity(rule: RoutingRule) -> tuple[int, int, int, int]:
    return (bool(rule.building), bool(rule.grid), bool(rule.category), -rule.id)


def matching_rule(case: Case) -> RoutingRule | None:
    candidates = db.session.scalars(
        select(RoutingRule).where(
            or_(RoutingRule.category == "", RoutingRule.category == case.category),
            or_(RoutingRule.grid == "", RoutingRule.grid == case.grid),
            or_(RoutingRule.building == "", RoutingRule.building == case.building),
        )
    ).all()
    # A rule's handler who could not see this case (a grid worker of another grid) is skipped.
    live = [rule for rule in candidates if can_be_assigned(rule.assignee, case)]
    return max(live, key=_specificity, default=None)


def route_new_case(case: Case) -> bool:
    """Give an unassigned case to its default handler; staff reassign by hand afterwards."""
    if case.assignee_id is not None:
        return False
    rule = matching_rule(case)
    if rule is None:
        return False
    case.assignee = rule.assignee
    add_event(
        case,
        EventKind.ASSIGNED,
        "routing",
        to=rule.assignee.name,
        to_user_id=rule.assignee_id,
        rule_id=rule.id,
    )
    return True
