"""Follow-up tasks: thin wrappers; the work lives in outreach/ (dispatcher, outbox, schedule).

Beat runs `dispatch_follow_ups` every 15 seconds and `schedule_progress_updates` hourly. Both
read the database; nothing here is ever published with a far-future ETA. Every task takes an
id, re-reads the world, and is safe to run twice (acks_late redelivers after a worker dies).
"""

from __future__ import annotations

import logging

from celery import shared_task

from hotline.jobs import periodic
from outreach import dispatcher, outbox, schedule

log = logging.getLogger(__name__)


@periodic(15.0)
def dispatch_follow_ups() -> dict[str, int]:
    """Beat: claim what is due (calls, texts, visits), publish it, re-publish what was lost."""
    report = dispatcher.dispatch_due()
    return vars(report)


@shared_task
def place_follow_up(follow_up_id: int) -> str:
    """Carry out one claimed follow-up: place the call, queue the text or the visit."""
    return dispatcher.place(follow_up_id)


@shared_task
def send_text(message_id: int) -> str:
    """Send one claimed text from the outbox."""
    status = outbox.send(message_id)
    return status.value if status else "not_ours"


@shared_task
def check_call_outcome(follow_up_id: int) -> str:
    """A placed call whose status callback never came: ask Twilio how it ended."""
    return dispatcher.check_call_outcome(follow_up_id)


@periodic(3600.0)
def schedule_progress_updates() -> int:
    """Beat, hourly: weekly progress updates for cases open more than a week."""
    return schedule.schedule_progress_updates()
