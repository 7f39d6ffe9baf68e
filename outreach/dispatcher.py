"""The beat-driven dispatcher: due follow-ups and texts are read from the database and placed.

Nothing waits in the broker for later (no far-future ETA tasks), so restarts of workers, beat
or the broker lose nothing; and every step is a conditional UPDATE, so nothing is done twice.

    SCHEDULED --dispatch_due (beat)--> CLAIMED --place (worker)--> PLACING --Twilio--> AWAITING
        ^                                  |                            |                  |
        |  out of hours, retry             |  republished when stale    |  lease expired:  |
        +----------------------------------+----------------------------+  reconcile with  |
                                                                           Twilio, adopt   v
                                                          status callback (one outcome) DONE

* `dispatch_due` claims due SCHEDULED rows in batches (SCHEDULED -> CLAIMED with a conditional
  UPDATE; FOR UPDATE SKIP LOCKED on PostgreSQL), commits, then publishes one task per row. If
  publishing fails the rows go back to SCHEDULED; a CLAIMED row whose task never ran (broker
  restart) is published again after CLAIM_STALE.
* `place` (the worker task) moves CLAIMED -> PLACING (only one worker wins), re-checks the
  case, the resident's wishes and the calling window, places the call and stores its SID.
  PLACING is a lease: a worker killed inside `calls.create` leaves the row PLACING, and after
  PLACING_LEASE the next task asks Twilio for calls to that number since the claim, adopting
  the one it finds instead of calling the resident a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update

from accounts.directory import grid_workers, supervisors
from accounts.models import User
from cases.events import EventKind
from cases.models import Case, CaseStatus
from cases.services import add_event
from hotline.clock import now
from hotline.db import db, moved_one_row
from hotline.i18n import catalogue, supported_locale
from hotline.jobs import publish
from hotline.redaction import mask_phone
from hotline.settings import current_settings
from hotline.telephony import TelephonyNotConfigured, TelephonyRefused, current_telephony
from outreach import schedule
from outreach.models import (
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    OutboundMessage,
    OutboundStatus,
    SurveyResponse,
)
from outreach.outbox import SEND_TEXT_TASK, queue_sms
from outreach.schedule import Contact, contact_of, next_window

log = logging.getLogger(__name__)
TASKS = "tasks.followups"  # where the worker's tasks live (named, not imported: see hotline.jobs)
K = FollowUpKind
S = FollowUpStatus
BATCH = 500
# At most this many claimed rows wait in the broker at once; the rest wait in the database,
# where they cost nothing. A bounded queue also means that a claim older than CLAIM_STALE was
# really lost (at the embedded broker's ~2 tasks/s, 300 drain in 2.5 minutes), so
# republishing never floods a busy queue with duplicates (and a duplicate does nothing: the
# task's conditional UPDATE or lease decides). Each 15 s run tops the queue up, which caps
# dispatch at 20 follow-ups or texts a second, above what Twilio accepts from one number
# (1 call a second by default, about 1 text a second from a long code).
MAX_IN_FLIGHT = 300
CLAIM_STALE = timedelta(minutes=3)  # a claimed row whose task never ran is published again
PLACING_LEASE = timedelta(seconds=60)  # > the Twilio client's timeout: a live worker keeps it
# A claimed text whose task never ran, or whose send lease (outreach.outbox) lapsed this long
# ago, is published again: its worker or the broker lost it.
SEND_STALE = timedelta(minutes=2)
# A placed call whose final status callback has not come after this is looked up at Twilio.
AWAITING_CHECK = timedelta(minutes=30)
RECONCILE_SLACK = timedelta(minutes=2)  # our clock and Twilio's may disagree a little
CALL_KINDS = (K.SURVEY_CALL, K.PROGRESS)
FINAL_CALL_STATUSES = {"completed", "no-answer", "busy", "failed", "canceled"}
MACHINE = {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}


@dataclass
class DispatchReport:
    follow_ups: int = 0
    texts: int = 0
    republished: int = 0
    sms_surveys_expired: int = 0


# ------------------------------------------------------------------ dispatch (beat)
def dispatch_due(moment: datetime | None = None) -> DispatchReport:
    """Beat, every 15 s: claim and publish everything due; re-publish what got lost."""
    moment = moment or now()
    report = DispatchReport()
    claimed_follow_ups = select(func.count()).where(FollowUp.status == S.CLAIMED)
    report.follow_ups = _drain(
        claimed_follow_ups, lambda room: _claim_follow_ups(moment, room), _publish_follow_ups
    )
    claimed_texts = select(func.count()).where(OutboundMessage.status == OutboundStatus.SENDING)
    report.texts = _drain(claimed_texts, lambda room: _claim_texts(moment, room), _publish_texts)
    report.republished = _republish_stale(moment)
    report.sms_surveys_expired = expire_sms_surveys(moment)
    return report


def _drain(
    in_flight: Select[Any],
    claim: Callable[[int], list[int]],
    publish: Callable[[list[int]], Select[Any]],
) -> int:
    """Claim and publish batch after batch while fewer than MAX_IN_FLIGHT wait in the broker.

    Each batch's tasks are published when its claim commits; a batch the broker refused was
    given back (`publish` returns how to count those), and the next tick tries again.
    """
    total = 0
    while (room := min(BATCH, MAX_IN_FLIGHT - (db.session.scalar(in_flight) or 0))) > 0:
        ids = claim(room)
        given_back = publish(ids)
        db.session.commit()
        refused = db.session.scalar(given_back) or 0 if ids else 0
        total += len(ids) - refused
        if len(ids) < room or refused:
            break
    return total


def _locked(query: Select[Any]) -> Select[Any]:
    """On PostgreSQL, two dispatchers skip each other's rows instead of waiting on them."""
    if db.engine.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query  # SQLite has one writer at a time; the conditional UPDATE decides


def _claim_follow_ups(moment: datetime, room: int) -> list[int]:
    return _claim_due(FollowUp, S.SCHEDULED, moment, room, status=S.CLAIMED, claimed_at=moment)


def _claim_texts(moment: datetime, room: int) -> list[int]:
    # due_at becomes the claim time: the send lease (outreach.outbox) starts from it.
    return _claim_due(
        OutboundMessage,
        OutboundStatus.QUEUED,
        moment,
        room,
        status=OutboundStatus.SENDING,
        due_at=moment,
    )


def _claim_due(
    table: type[FollowUp] | type[OutboundMessage],
    waiting: FollowUpStatus | OutboundStatus,
    moment: datetime,
    room: int,
    **claimed: Any,
) -> list[int]:
    """Move up to `room` due rows out of `waiting`, oldest first; only the rows moved return."""
    due = _locked(
        select(table.id)
        .where(table.status == waiting, table.due_at <= moment)
        .order_by(table.due_at, table.id)
        .limit(room)
    )
    ids = list(db.session.scalars(due))
    if not ids:
        db.session.commit()
        return []
    return _claim(
        update(table)
        .where(table.id.in_(ids), table.status == waiting)
        .values(**claimed)
        .returning(table.id)
    )


def _claim(statement: Any) -> list[int]:
    """Run a conditional UPDATE ... RETURNING: only the rows it moved come back (uncommitted:
    their tasks are published when the caller commits)."""
    return sorted(db.session.scalars(statement.execution_options(synchronize_session=False)))


def _publish_follow_ups(ids: list[int], task: str = "place_follow_up") -> Select[Any]:
    """A task per claimed follow-up; a refused publish gives its row back to SCHEDULED."""
    for row_id in ids:
        give_back = (
            update(FollowUp)
            .where(FollowUp.id == row_id, FollowUp.status == S.CLAIMED)
            .values(status=S.SCHEDULED, claimed_at=None)
        )
        publish(f"{TASKS}.{task}", row_id, undo=give_back)
    return select(func.count()).where(FollowUp.id.in_(ids), FollowUp.status == S.SCHEDULED)


def _publish_texts(ids: list[int]) -> Select[Any]:
    """A send task per claimed text; a refused publish gives its row back to QUEUED."""
    for row_id in ids:
        give_back = (
            update(OutboundMessage)
            .where(OutboundMessage.id == row_id, OutboundMessage.status == OutboundStatus.SENDING)
            .values(status=OutboundStatus.QUEUED)
        )
        publish(SEND_TEXT_TASK, row_id, undo=give_back)
    waiting = OutboundMessage.status == OutboundStatus.QUEUED
    return select(func.count()).where(OutboundMessage.id.in_(ids), waiting)


def _republish_stale(moment: datetime) -> int:
    """Claimed rows whose task was lost, and placing rows whose worker died, go out again."""
    claimed = _claim(
        update(FollowUp)
        .where(FollowUp.status == S.CLAIMED, FollowUp.claimed_at < moment - CLAIM_STALE)
        .values(claimed_at=moment)
        .returning(FollowUp.id)
    )
    # PLACING keeps its claimed_at: the task takes the expired lease over itself.
    placing = list(
        db.session.scalars(
            select(FollowUp.id)
            .where(FollowUp.status == S.PLACING, FollowUp.claimed_at < moment - PLACING_LEASE)
            .limit(BATCH)
        )
    )
    sending = _claim(
        update(OutboundMessage)
        .where(
            OutboundMessage.status == OutboundStatus.SENDING,
            OutboundMessage.due_at < moment - SEND_STALE,
        )
        .values(due_at=moment)
        .returning(OutboundMessage.id)
    )
    unheard = _claim(
        update(FollowUp)
        .where(
            FollowUp.status == S.AWAITING,
            FollowUp.kind.in_(CALL_KINDS),
            FollowUp.claimed_at < moment - AWAITING_CHECK,
        )
        .values(claimed_at=moment)
        .returning(FollowUp.id)
    )
    _publish_follow_ups(claimed)
    for row_id in placing:  # a lease, not a claim: nothing to give back
        publish(f"{TASKS}.place_follow_up", row_id)
    _publish_texts(sending)
    for row_id in unheard:
        publish(f"{TASKS}.check_call_outcome", row_id)
    db.session.commit()
    count = len(claimed) + len(placing) + len(sending) + len(unheard)
    if count:
        log.warning("republished %d follow-ups and texts whose tasks were lost", count)
    return count


def expire_sms_surveys(moment: datetime) -> int:
    """A survey text without a reply after SMS_REPLY_WAIT: the grid worker visits instead."""
    ids = list(
        db.session.scalars(
            select(FollowUp.id)
            .where(
                FollowUp.kind == K.SURVEY_SMS,
                FollowUp.status == S.AWAITING,
                FollowUp.due_at <= moment,
            )
            .limit(BATCH)
        )
    )
    expired = 0
    for follow_up_id in ids:
        if not _gate(follow_up_id, S.AWAITING, status=S.DONE, outcome="no_reply"):
            continue
        follow_up = _reload(follow_up_id)
        add_event(follow_up.case, EventKind.SURVEY_SMS_NO_REPLY, follow_up=follow_up_id)
        if follow_up.case.status == CaseStatus.RESOLVED:
            schedule.add_visit(follow_up.case, next_window(moment))
        db.session.commit()
        expired += 1
    return expired


def _gate(follow_up_id: int, expected: FollowUpStatus, *where: Any, **values: Any) -> bool:
    """A conditional UPDATE: True for the one caller that moved the row (not yet committed)."""
    moved = moved_one_row(
        update(FollowUp)
        .where(FollowUp.id == follow_up_id, FollowUp.status == expected, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not moved:
        db.session.rollback()
        return False
    return True


def _reload(follow_up_id: int) -> FollowUp:
    follow_up = db.session.get(FollowUp, follow_up_id, populate_existing=True)
    assert follow_up is not None  # the UPDATE just matched it
    return follow_up


# ------------------------------------------------------------------ place (worker)
def place(follow_up_id: int) -> str:
    """The worker task's body: carry out one claimed follow-up; returns what happened."""
    moment = now()
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None:
        return "missing"
    if follow_up.status == S.CLAIMED:
        if not _gate(follow_up_id, S.CLAIMED, status=S.PLACING, claimed_at=moment):
            return "taken"
        db.session.commit()
        return _carry_out(_reload(follow_up_id), moment)
    if follow_up.status == S.PLACING:
        return _take_over(follow_up, moment)
    return "not_claimed"


def _take_over(follow_up: FollowUp, moment: datetime) -> str:
    """A PLACING row whose worker vanished: adopt the call Twilio already has, or place it."""
    seen = follow_up.claimed_at
    lease_over = FollowUp.claimed_at <= moment - PLACING_LEASE
    if seen is None or not _gate(
        follow_up.id, S.PLACING, FollowUp.claimed_at == seen, lease_over, claimed_at=moment
    ):
        return "busy"  # another worker holds the lease; it will finish, or it will expire
    db.session.commit()
    follow_up = _reload(follow_up.id)
    if follow_up.kind in CALL_KINDS and _adopt_placed_call(follow_up, seen):
        return "adopted"
    return _carry_out(follow_up, moment)


def _adopt_placed_call(follow_up: FollowUp, since: datetime) -> bool:
    contact = contact_of(follow_up.case)
    if not contact.phone:
        return False
    placed = current_telephony().calls_to_since(contact.phone, since - RECONCILE_SLACK)
    sids = [call.sid for call in placed]
    known = set(db.session.scalars(select(FollowUp.call_sid).where(FollowUp.call_sid.in_(sids))))
    fresh = [sid for sid in sids if sid not in known]
    if not fresh:
        return False
    log.info("follow-up %s: adopting call %s placed by a worker that died", follow_up.id, fresh[0])
    _placed(follow_up, fresh[0], adopted=True)
    return True


def _carry_out(follow_up: FollowUp, moment: datetime) -> str:
    """We hold the row (PLACING). Re-check everything, then call, text or hand to a visit."""
    case = follow_up.case
    reason = _not_needed(follow_up, case)
    if reason:
        return _finish(follow_up, S.CANCELLED, reason)
    contact = contact_of(case)
    handler = {
        K.SURVEY_CALL: _survey_call,
        K.SURVEY_SMS: _survey_text,
        K.PROGRESS: _progress,
        K.VISIT: _visit,
    }[follow_up.kind]
    return handler(follow_up, contact, moment)


def _not_needed(follow_up: FollowUp, case: Case) -> str:
    if follow_up.kind == K.PROGRESS:
        return "" if case.status.is_open else "case_not_open"
    return "" if case.status == CaseStatus.RESOLVED else "case_not_resolved"


def _finish(
    follow_up: FollowUp,
    status: FollowUpStatus,
    outcome: str,
    event: EventKind | None = None,
    **detail: Any,
) -> str:
    """Close the follow-up, say so on the timeline (`event`, else follow_up_<status>), commit."""
    follow_up.status = status
    follow_up.outcome = outcome
    add_event(
        follow_up.case,
        event or EventKind(f"follow_up_{status.value}"),
        follow_up=follow_up.id,
        follow_up_kind=follow_up.kind.value,
        outcome=outcome,
        **detail,
    )
    db.session.commit()
    return outcome


def _wait_for_window(follow_up: FollowUp, moment: datetime, contact: Contact | None) -> bool:
    """Outside calling hours: back to SCHEDULED at the window's opening; True if so."""
    opens = next_window(moment, contact)
    if opens == moment:
        return False
    follow_up.status = S.SCHEDULED
    follow_up.due_at = opens
    follow_up.claimed_at = None
    add_event(
        follow_up.case,
        EventKind.FOLLOW_UP_WAITING,
        follow_up=follow_up.id,
        follow_up_kind=follow_up.kind.value,
        reason="out_of_hours",
        until=opens.isoformat(),
    )
    db.session.commit()
    return True


def _survey_call(follow_up: FollowUp, contact: Contact, moment: datetime) -> str:
    if not contact.can_call:
        fallback = schedule.fall_back(follow_up.case, contact)
        return _finish(follow_up, S.CANCELLED, "do_not_call", instead=fallback.kind.value)
    if _wait_for_window(follow_up, moment, contact):
        return "waiting"
    return _place_call(follow_up, contact)


def _place_call(follow_up: FollowUp, contact: Contact) -> str:
    settings = current_settings()
    url = f"{settings.public_url}/ivr/survey/{follow_up.id}"
    try:
        sid = current_telephony().place_call(contact.phone, url, url + "/status")
    except Exception as error:
        follow_up.last_error = str(error)[:500]
        if isinstance(error, TelephonyRefused | TelephonyNotConfigured):
            follow_up.attempts += 1
            return _record_outcome(follow_up, "failed", answered=False)
        # Twilio may or may not have the call: keep the lease; after it, reconcile.
        db.session.commit()
        log.warning(
            "follow-up %s: call to %s uncertain: %s", follow_up.id, mask_phone(contact.phone), error
        )
        return "uncertain"
    _placed(follow_up, sid, adopted=False)
    return "placed"


def _call_event(follow_up: FollowUp, what: str) -> EventKind:
    """survey_call_placed, progress_call_outcome...: timeline kinds of calls."""
    prefix = "survey_call" if follow_up.kind == K.SURVEY_CALL else "progress_call"
    return EventKind(f"{prefix}_{what}")


def _placed(follow_up: FollowUp, call_sid: str, adopted: bool) -> None:
    follow_up.call_sid = call_sid
    follow_up.status = S.AWAITING
    follow_up.attempts += 1
    follow_up.outcome = ""
    follow_up.last_error = ""
    add_event(
        follow_up.case,
        _call_event(follow_up, "placed"),
        follow_up=follow_up.id,
        attempt=follow_up.attempts,
        call_sid=call_sid,
        adopted=adopted,
    )
    db.session.commit()


def _survey_text(follow_up: FollowUp, contact: Contact, moment: datetime) -> str:
    if not contact.can_text:
        schedule.add_visit(follow_up.case, next_window(moment))
        return _finish(follow_up, S.CANCELLED, "sms_opt_out", instead=K.VISIT.value)
    if _wait_for_window(follow_up, moment, None):
        return "waiting"
    case = follow_up.case
    note = schedule.short_note_for(case, contact)
    body = contact.texts.text("survey_sms", number=case.number, note=note)
    queue_sms(contact.phone, body, "survey", case)
    schedule.copy_to_family(case, "family_survey_sms")
    follow_up.status = S.AWAITING
    follow_up.attempts += 1
    follow_up.due_at = moment + schedule.SMS_REPLY_WAIT  # the reply deadline
    add_event(
        case,
        EventKind.SURVEY_SMS_QUEUED,
        follow_up=follow_up.id,
        reply_by=follow_up.due_at.isoformat(),
    )
    db.session.commit()
    return "texted"


def _progress(follow_up: FollowUp, contact: Contact, moment: datetime) -> str:
    """By text unless the resident opted out of texts; then by phone; else nothing can reach."""
    if not (contact.can_text or contact.can_call):
        schedule.tell_reporters(follow_up.case, "progress")  # the reporter still can be
        return _finish(follow_up, S.DONE, "unreachable", event=EventKind.PROGRESS_UPDATE)
    if _wait_for_window(follow_up, moment, None if contact.can_text else contact):
        return "waiting"
    case = follow_up.case
    words = {"status": contact.texts.status(case.status.value)}
    words["next_step"] = contact.texts.next_step(case.status.value)
    if not contact.can_text:
        placed = _place_call(follow_up, contact)
        if placed == "placed":
            schedule.copy_to_family(case, "family_progress_sms", **words)
            schedule.tell_reporters(case, "progress")
            db.session.commit()
        return placed
    body = contact.texts.text("progress_sms", number=case.number, **words)
    queue_sms(contact.phone, body, "progress", case)
    schedule.copy_to_family(case, "family_progress_sms", **words)
    schedule.tell_reporters(case, "progress")
    follow_up.attempts += 1
    return _finish(follow_up, S.DONE, "texted", event=EventKind.PROGRESS_UPDATE, channel="sms")


def _visit(follow_up: FollowUp, contact: Contact, moment: datetime) -> str:
    """No call or text reached the resident, or staff asked for a visit: the grid's workers
    are texted, and the task stays open (AWAITING) until one of them records what happened
    (outreach.visits). A visit recorded while the text was on its way is not texted about."""
    if _wait_for_window(follow_up, moment, None):
        return "waiting"
    if not _gate(follow_up.id, S.PLACING, status=S.AWAITING, outcome="visit_task"):
        return "recorded_meanwhile"
    follow_up = _reload(follow_up.id)
    case = follow_up.case
    workers = grid_workers(case.grid) or supervisors()
    for user in workers:
        queue_sms(user.phone, _visit_text(follow_up, contact, user), "staff_visit", case)
    follow_up.attempts += 1
    add_event(
        case,
        EventKind.VISIT_TASK,
        follow_up=follow_up.id,
        follow_up_kind=follow_up.kind.value,
        outcome="visit_task",
        grid=case.grid,
        assigned_to=[user.name for user in workers],
    )
    db.session.commit()
    return "visit_task"


def _visit_text(follow_up: FollowUp, contact: Contact, user: User) -> str:
    """The text to a grid worker, in their language: why the visit, whom, where."""
    words = catalogue(supported_locale(user.language, current_settings().default_locale), "sms")
    values = {
        "number": follow_up.case.number,
        "name": contact.name or "-",
        "address": contact.resident.address if contact.resident else "-",
    }
    if follow_up.scheduled_by is not None:
        return words.text("staff_visit_planned_sms", by=follow_up.scheduled_by.name, **values)
    return words.text("staff_visit_sms", **values)


# ------------------------------------------------------------------ outcomes (webhook)
def outcome_of(call_status: str, answered_by: str, answered: bool) -> str:
    if answered_by in MACHINE:
        return "machine"
    if call_status == "completed":
        return "answered" if answered else "no_input"
    return call_status


def note_call_outcome(follow_up_id: int, call_sid: str, call_status: str, answered_by: str) -> str:
    """Twilio's final status callback: one outcome per call, however often it is repeated."""
    if call_status not in FINAL_CALL_STATUSES:
        return ""
    if not call_sid or not _gate(
        follow_up_id, S.AWAITING, FollowUp.call_sid == call_sid, status=S.DONE
    ):
        return ""
    follow_up = _reload(follow_up_id)
    if follow_up.kind == K.SURVEY_CALL:
        answered = db.session.scalar(
            select(SurveyResponse.id).where(SurveyResponse.follow_up_id == follow_up_id)
        )
        outcome = outcome_of(call_status, answered_by, answered is not None)
    else:
        outcome = outcome_of(call_status, answered_by, answered=True)
    return _record_outcome(follow_up, outcome, answered=outcome == "answered")


def _record_outcome(follow_up: FollowUp, outcome: str, answered: bool) -> str:
    next_step = schedule.after_call_outcome(follow_up, outcome, answered)
    detail: dict[str, Any] = {"follow_up": follow_up.id, "attempt": follow_up.attempts}
    if next_step == "retry":
        detail["retry_at"] = follow_up.due_at.isoformat()
    add_event(
        follow_up.case,
        _call_event(follow_up, "outcome"),
        outcome=outcome,
        next=next_step,
        **detail,
    )
    db.session.commit()
    return outcome


def check_call_outcome(follow_up_id: int) -> str:
    """No status callback came (lost, or the call was adopted after it was sent): ask Twilio."""
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.status != S.AWAITING or not follow_up.call_sid:
        return ""
    call = current_telephony().fetch_call(follow_up.call_sid)
    return note_call_outcome(follow_up_id, call.sid, call.status, call.answered_by or "")
