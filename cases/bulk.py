"""One staff action on several cases at once (the inbox's bulk assign and close): all or none.

Each case goes through the single action of cases.actions, with the same permission and reason
rules as on its own page. If any case is refused, none is changed: every refusal is reported
with its case number, so staff can take those out of the selection and try again, and nothing
is left half-done without anyone noticing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cases import actions
from cases.errors import Refused
from cases.models import CASE_NUMBER_OFFSET, MISTAKES, Case, ClosedAs
from cases.permissions import can_edit, can_view
from hotline.db import db
from hotline.i18n import Message

if TYPE_CHECKING:
    from accounts.models import User

MAX_CASES = 100  # two pages of the inbox; a bigger batch is more likely a slip than a plan


@dataclass(frozen=True)
class Refusal:
    """Why one case of the batch was refused, worded by cases.errors.Refused's catalogue."""

    number: str
    message: Message


class BulkRefused(Refused):
    """At least one case was refused, so none was changed (the caller rolls back)."""

    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__("bulk.refused", count=len(refusals))
        self.refusals = refusals


def chosen(case_ids: Iterable[int]) -> list[int]:
    """The ticked cases, each once; refused when there are none or too many."""
    unique = list(dict.fromkeys(case_ids))
    if not unique:
        raise Refused("bulk.none_selected")
    if len(unique) > MAX_CASES:
        raise Refused("bulk.too_many", count=len(unique), limit=MAX_CASES)
    return unique


def apply_to_all(case_ids: Iterable[int], by: User, action: Callable[[Case], object]) -> int:
    """Do `action` to every case, or raise BulkRefused listing every case that was refused.

    Cases `by` may not see are refused as unknown (as their page would answer 404), cases they
    see but may not change as not theirs to change. The caller commits on success and rolls
    back on BulkRefused: the cases done before a refusal must not stay done.
    """
    ids = chosen(case_ids)
    refusals: list[Refusal] = []
    for case_id in ids:
        case = db.session.get(Case, case_id)
        number = str(CASE_NUMBER_OFFSET + case_id)
        if case is None or not can_view(by, case):
            refusals.append(
                Refusal(number, Message("case.refused.no_such_case", {"value": number}))
            )
        elif not can_edit(by, case):
            refusals.append(Refusal(number, Message("bulk.not_yours")))
        else:
            try:
                action(case)
            except Refused as refusal:
                refusals.append(Refusal(number, refusal.message))
    if refusals:
        raise BulkRefused(refusals)
    return len(ids)


def assign_all(case_ids: Iterable[int], assignee: User | None, by: User) -> int:
    """Hand every case to one person, each checked as cases.actions.assign checks one."""
    ids = chosen(case_ids)  # "tick a case" comes before "choose a person"
    if assignee is None:
        raise Refused("bulk.choose_assignee")
    if not assignee.active:  # said once, not once per case
        raise Refused("case.refused.inactive_account", name=assignee.name)
    return apply_to_all(ids, by, lambda case: actions.assign(case, assignee, by))


def close_all_as_mistake(
    case_ids: Iterable[int], how: str | None, by: User, note: str | None, duplicate_of: str = ""
) -> int:
    """Close every case as opened by mistake (junk, or duplicates of one case), each by the
    rules of cases.actions.close_as_mistake; what is wrong with the form is said once."""
    ids = chosen(case_ids)
    if how not in {kind.value for kind in MISTAKES}:
        raise Refused("case.refused.unknown_mistake", value=repr((how or "")[:40]))
    if how == ClosedAs.DUPLICATE and not duplicate_of.strip():
        raise Refused("case.refused.duplicate_of_needed")
    return apply_to_all(
        ids,
        by,
        lambda case: actions.close_as_mistake(case, how, by, note, duplicate_of),
    )
