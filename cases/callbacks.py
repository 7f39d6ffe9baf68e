"""The call-back list: voicemails with no speech in them, which staff call back.

Silence or noise at the beep is no request, so it opens no case and no case number is texted;
but it may be someone who cannot speak. The call goes on this list with its recording, urgent
when the number is a known resident's; staff (the workspace page, the JSON API) call back and
mark it done with a note of what came of it.
"""

from __future__ import annotations

from sqlalchemy import case, select, update

from accounts.models import User
from cases.actions import MAX_NOTE, clean_text
from cases.errors import Refused
from cases.models import CallBack, CallBackReason, CallBackStatus, Recording, RecordingStatus
from cases.permissions import call_back_scope
from cases.services import find_call
from hotline.clock import now
from hotline.db import db, moved_one_row

ALREADY_DONE = "callbacks.refused.already_done"


def call_back_instead(recording: Recording, reason: CallBackReason, transcript: str = "") -> bool:
    """Put a voicemail without speech on the list instead of opening its case; commits.

    False when its case was opened meanwhile (beat's sweep opens a case whose transcript is
    late): then the case stands, and the transcript fills it in. The conditional UPDATE makes
    the list and the sweep exclusive, and makes one call-back per recording.
    """
    claimed = moved_one_row(
        update(Recording)
        .where(
            Recording.id == recording.id,
            Recording.case_id.is_(None),
            Recording.status == RecordingStatus.PENDING,
        )
        .values(status=RecordingStatus.TRANSCRIBED, transcribed_at=now(), transcript=transcript)
        .execution_options(synchronize_session=False)
    )
    if claimed:
        call = find_call(recording.call_sid)
        resident = call.resident if call else None
        db.session.add(
            CallBack(
                recording=recording,
                call=call,
                phone=call.phone if call else "",
                resident=resident,
                urgent=resident is not None,
                reason=reason,
            )
        )
    db.session.commit()
    db.session.refresh(recording)
    return claimed


def call_backs_for(
    user: User | None, status: CallBackStatus = CallBackStatus.OPEN, limit: int = 200
) -> list[CallBack]:
    """What `user` may see (everything for None: a read-all API token), in working order:
    open ones urgent first, then the longest waiting; done ones the latest first."""
    query = select(CallBack).where(CallBack.status == status).limit(limit)
    if status == CallBackStatus.OPEN:
        urgent_first = case((CallBack.urgent.is_(True), 0), else_=1)
        query = query.order_by(urgent_first, CallBack.created_at, CallBack.id)
    else:
        query = query.order_by(CallBack.done_at.desc(), CallBack.id.desc())
    if user is not None:
        query = query.where(call_back_scope(user))
    return list(db.session.scalars(query))


def visible_call_back(user: User | None, call_back_id: int) -> CallBack | None:
    """The call-back if `user` may see it; None hides whether it exists."""
    query = select(CallBack).where(CallBack.id == call_back_id)
    if user is not None:
        query = query.where(call_back_scope(user))
    return db.session.scalar(query)


def mark_done(call_back: CallBack, by: User, note: str | None) -> None:
    """Called back: who, when, and what came of it (required). The caller commits.

    Two people marking it at once: the first one's note stands, the second is refused.
    """
    if call_back.status == CallBackStatus.DONE:
        raise Refused(ALREADY_DONE)
    text = clean_text(note, MAX_NOTE, "note")
    done = moved_one_row(
        update(CallBack)
        .where(CallBack.id == call_back.id, CallBack.status == CallBackStatus.OPEN)
        .values(status=CallBackStatus.DONE, done_by_id=by.id, done_at=now(), note=text)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(call_back)
    if not done:
        raise Refused(ALREADY_DONE)
