"""Follow-ups, texts in and out, and survey answers: the database is the schedule.

Nothing waits in the broker for later: a beat-driven dispatcher reads what is due from these
tables and claims each row atomically before it acts, so restarts lose nothing and nothing is
done twice.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from cases.models import Case, Recording, Satisfaction
from hotline.db import Base, UTCDateTime, enum_column, utcnow


class FollowUpKind(enum.StrEnum):
    SURVEY_CALL = "survey_call"  # the satisfaction survey, by phone
    SURVEY_SMS = "survey_sms"  # the same by text, after the calls went unanswered
    PROGRESS = "progress"  # the weekly "still working on it" for a case open over a week
    VISIT = "visit"  # a home visit for the grid worker: no call or text reached the resident


class FollowUpStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # waiting for due_at
    CLAIMED = "claimed"  # a dispatcher took it; a worker task is on its way
    PLACING = "placing"  # a worker is calling Twilio right now
    AWAITING = "awaiting"  # call placed or text sent; waiting for the outcome or the answer
    DONE = "done"
    CANCELLED = "cancelled"  # no longer needed (reopened, resolved, do-not-call...)


class FollowUp(Base):
    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FollowUpKind] = mapped_column(enum_column(FollowUpKind))
    status: Mapped[FollowUpStatus] = mapped_column(
        enum_column(FollowUpStatus), default=FollowUpStatus.SCHEDULED
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)  # calls or texts actually placed
    max_attempts: Mapped[int] = mapped_column(default=3)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Twilio's id of the latest call placed for it: status callbacks find the follow-up by it.
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    outcome: Mapped[str] = mapped_column(String(40), default="")  # completed, no-answer, ...
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # A visit staff asked for by hand (outreach.visits); None: the hotline's own follow-up.
    # No foreign key: adding one would make SQLite rebuild the table; accounts are never
    # deleted (only closed).
    scheduled_by_id: Mapped[int | None] = mapped_column()

    case: Mapped[Case] = relationship()
    scheduled_by: Mapped[User | None] = relationship(
        primaryjoin="foreign(FollowUp.scheduled_by_id) == User.id", viewonly=True
    )
    # What the worker recorded on each visit of a VISIT follow-up, oldest first.
    records: Mapped[list[VisitRecord]] = relationship(order_by="VisitRecord.id", viewonly=True)


class OutboundStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    FAILED = "failed"  # gave up after retries; on the case's timeline
    SUPPRESSED = "suppressed"  # the resident opted out: kept, never sent


class OutboundMessage(Base):
    """The text outbox: written in the same transaction as what caused it, sent by a worker."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    to_phone: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(40))  # case_number, progress, survey, ...
    status: Mapped[OutboundStatus] = mapped_column(
        enum_column(OutboundStatus), default=OutboundStatus.QUEUED
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    message_sid: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundMessage(Base):
    """Every text a resident sent, kept whatever it said; MessageSid makes replays harmless."""

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_messages_from_received", "from_phone", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(String(32))
    to_phone: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    # What the line made of it: new_case, added_to_case, status, survey_answer, stop, start,
    # help, rate_limited, empty.
    outcome: Mapped[str] = mapped_column(String(30), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyResponse(Base):
    """One answer to the satisfaction survey; the case keeps the latest in Case.satisfaction."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id"))
    answer: Mapped[Satisfaction] = mapped_column(enum_column(Satisfaction))
    channel: Mapped[str] = mapped_column(String(10))  # call or sms
    # The comment after "not satisfied": a Recording (purpose survey_comment) with this SID.
    comment_recording_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship()
    comment: Mapped[Recording | None] = relationship(
        primaryjoin="foreign(SurveyResponse.comment_recording_sid) == Recording.recording_sid",
        viewonly=True,
    )


class SmsOptOut(Base):
    """A number that texted STOP: no text goes to it until it texts START (outreach.outbox).

    Kept by number, not on a resident: an unknown caller has no resident record, and a
    record's number may change while the person who said STOP keeps theirs.
    """

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SmsRateWindow(Base):
    """How many texts a number sent in its current window (the text line's rate limit).

    One row per number, counted by one atomic upsert; on PostgreSQL that upsert also holds the
    row until the text's transaction ends, so one number's texts are handled in turn.
    """

    __tablename__ = "sms_rate_windows"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    texts: Mapped[int] = mapped_column(default=0)


class VisitRecord(Base):
    """What a grid worker (or staff) recorded after going round: met the resident or not,
    their answer asked in person, a note. One row per visit made; an answer also becomes a
    SurveyResponse (channel "visit"), so it counts like one given on the phone."""

    __tablename__ = "visit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(
        ForeignKey("follow_ups.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    met: Mapped[bool] = mapped_column()
    answer: Mapped[Satisfaction | None] = mapped_column(enum_column(Satisfaction))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    follow_up: Mapped[FollowUp] = relationship()
    case: Mapped[Case] = relationship()
    recorded_by: Mapped[User] = relationship()
