"""Hands work to Celery after the request's data is committed.

Publishing can fail (broker down); nothing is lost then: every job here has its state in the
database, and a beat job re-sends transcriptions that were never picked up.
"""

from __future__ import annotations

import logging

from sqlalchemy import update

from cases.models import Recording
from hotline.clock import now
from hotline.db import db, moved_one_row

log = logging.getLogger(__name__)


def transcription(recording_id: int) -> bool:
    """Enqueue the transcription once, however many times Twilio repeats its callback."""
    from tasks.voicemail import transcribe_recording

    claimed = moved_one_row(
        update(Recording)
        .where(
            Recording.id == recording_id,
            Recording.available.is_(True),
            Recording.enqueued_at.is_(None),
        )
        .values(enqueued_at=now())
    )
    db.session.commit()
    if not claimed:
        return False
    try:
        transcribe_recording.delay(recording_id)
    except Exception:
        log.exception(
            "could not enqueue transcription of recording %s; beat will retry", recording_id
        )
        db.session.execute(
            update(Recording).where(Recording.id == recording_id).values(enqueued_at=None)
        )
        db.session.commit()
        return False
    return True
