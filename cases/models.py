"""Residents, calls, cases, recordings and the timeline of what happened to each case."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base, UTCDateTime, enum_column, utcnow
from hotline.phones import is_e164

if TYPE_CHECKING:
    from accounts.models import User

# Case numbers are read aloud and keyed in on a phone: short, all digits, never a leading zero.
CASE_NUMBER_OFFSET = 10000


class CaseStatus(enum.StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"

    @property
    def is_open(self) -> bool:
        return self not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)


class Urgency(enum.StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    NORMAL = "normal"


class CaseSource(enum.StrEnum):
    """How the request reached the centre: the phone line, a text, or a person who recorded it."""

    VOICEMAIL = "voicemail"
    EMERGENCY_CALL = "emergency_call"
    SMS = "sms"
    STAFF = "staff"  # entered by staff, before the ways below were told apart
    # Recorded by staff on the resident's behalf (cases.staff_intake), by how it came:
    DESK = "desk"  # at the service desk
    PHONE_CONVERSATION = "phone_conversation"  # told to a member of staff on the phone
    HOME_VISIT = "home_visit"
    GRID_PATROL = "grid_patrol"  # met on a grid worker's round, or found on an inspection
    COLLECTION_STATION = "collection_station"  # left at a building's collection station
    BUILDING_LEADER = "building_leader"  # passed on by a building leader (楼栋长)
    MEETING = "meeting"  # raised at a residents' meeting
    GROUP_CHAT = "group_chat"  # reported in a neighbours' group chat


# What a member of staff may choose when recording a request (the form and POST /api/cases).
STAFF_CHANNELS = (
    CaseSource.DESK,
    CaseSource.PHONE_CONVERSATION,
    CaseSource.HOME_VISIT,
    CaseSource.GRID_PATROL,
    CaseSource.COLLECTION_STATION,
    CaseSource.BUILDING_LEADER,
    CaseSource.MEETING,
    CaseSource.GROUP_CHAT,
)


class Satisfaction(enum.StrEnum):
    """The resident's answer to the survey (1, 2, 3 on the keypad); 3 reopens the case."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    NOT_SATISFIED = "not_satisfied"


class ClosedAs(enum.StrEnum):
    """How a case was closed other than after the resident's satisfied answer."""

    # 不满意不销账: only a supervisor closes a case the resident never answered for, and
    # says why (close_reason).
    WITHOUT_ANSWER = "without_answer"
    # Opened by mistake: closed without a survey, and counted in no rate.
    JUNK = "junk"  # a prank, a wrong number, an advert: no request at all
    DUPLICATE = "duplicate"  # the same request as another case (duplicate_of)
    NO_MESSAGE = "no_message"  # nobody said anything

    @property
    def by_mistake(self) -> bool:
        return self is not ClosedAs.WITHOUT_ANSWER


MISTAKES = tuple(how for how in ClosedAs if how.by_mistake)


class TranscriptProblem(enum.StrEnum):
    """What staff are told when a recording gave no usable transcript; the technical detail
    (Case.error) goes to the API and the log, for operators."""

    NO_AUDIO = "no_audio"  # Twilio recorded nothing
    NO_SPEECH = "no_speech"  # a recording, but no words in it
    # Words, but none staff can rely on: the sound is noise or silence, or the recogniser was
    # on average unsure of them (speech.clear_speech).
    UNCLEAR = "unclear"
    CUT_SHORT = "cut_short"  # transcribed as far as the file went
    DOWNLOAD_FAILED = "download_failed"
    # Twilio refused the account's credentials (401/403): an operator must correct them.
    CREDENTIALS_REJECTED = "credentials_rejected"
    LATE = "late"  # no transcript yet, minutes after the call: the case opened without it
    UNREADABLE = "unreadable"  # the file is not audio we can read
    NO_MODEL = "no_model"  # no speech model for the language: the operator must install one
    FAILED = "failed"  # any other failure of the recogniser


class RecordingPurpose(enum.StrEnum):
    """Why a resident was recorded: every recording goes through the same pipeline."""

    VOICEMAIL = "voicemail"  # the message that opened (or joined) the case
    SURVEY_COMMENT = "survey_comment"  # why they are not satisfied, after pressing 3


class RecordingStatus(enum.StrEnum):
    PENDING = "pending"  # we know of it; not yet transcribed
    TRANSCRIBED = "transcribed"
    FAILED = "failed"  # gave up; the case carries the error for staff


class CallBackReason(enum.StrEnum):
    """Why a voicemail went on the call-back list instead of opening a case."""

    SILENCE = "silence"  # hardly a sound in it
    NOISE = "noise"  # sound, but not one word the recognizer was sure of


class CallBackStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class Resident(Base):
    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    building: Mapped[str] = mapped_column(String(50), default="")
    grid: Mapped[str] = mapped_column(String(50), default="")
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    preferred_call_hours: Mapped[str | None] = mapped_column(String(20))
    do_not_call: Mapped[bool] = mapped_column(default=False)
    sms_opt_out: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    family_contacts: Mapped[list[FamilyContact]] = relationship(
        back_populates="resident", cascade="all, delete-orphan"
    )


class FamilyContact(Base):
    __tablename__ = "family_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))
    relation: Mapped[str] = mapped_column(String(50), default="")
    receives_updates: Mapped[bool] = mapped_column(default=True)

    resident: Mapped[Resident] = relationship(back_populates="family_contacts")


class Call(Base):
    """A phone call Twilio told us about; the anchor for recordings and emergency cases."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(String(32), default="")
    to_phone: Mapped[str] = mapped_column(String(32), default="")
    direction: Mapped[str] = mapped_column(String(20), default="inbound")
    locale: Mapped[str] = mapped_column(String(10))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resident: Mapped[Resident | None] = relationship()

    @property
    def phone(self) -> str:
        """The caller's number, to text and call back; "" when the caller ID is none (a SIP
        caller, "Anonymous"): from_phone keeps it as Twilio sent it."""
        return self.from_phone if is_e164(self.from_phone) else ""


# The inbox's sort key, "most urgent first": kept equal to the urgency by cases.search.
# Open cases, as the SQL of the partial index below. SQLite uses a partial index only for a
# query that repeats this condition with literal values (no bound parameters).
OPEN_STATUS_VALUES = tuple(status.value for status in CaseStatus if status.is_open)
OPEN_CASES_SQL = "status IN ({})".format(", ".join(f"'{value}'" for value in OPEN_STATUS_VALUES))
EMERGENCY_CALL_SQL = f"source = '{CaseSource.EMERGENCY_CALL.value}'"
URGENCY_PRIORITY = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.NORMAL: 2}


def _priority_of_inserted_row(context: Any) -> int:
    """For inserts that bypass the ORM's flush (bulk seeding): derive it from the urgency."""
    urgency = context.get_current_parameters().get("urgency")
    return URGENCY_PRIORITY[Urgency(urgency or Urgency.NORMAL)]


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_phone_created", "phone", "created_at"),
        # The inbox's order and its keyset pagination walk these indexes, for everyone and
        # for one grid (a grid worker's view). The partial ones hold only open cases, so the
        # default view stays fast however many cases have closed over the years.
        Index("ix_cases_priority_created_id", "priority", "created_at", "id"),
        Index("ix_cases_grid_priority_created_id", "grid", "priority", "created_at", "id"),
        Index(
            "ix_cases_open_priority_created_id",
            "priority",
            "created_at",
            "id",
            sqlite_where=text(OPEN_CASES_SQL),
            postgresql_where=text(OPEN_CASES_SQL),
        ),
        Index(
            "ix_cases_open_grid_priority_created_id",
            "grid",
            "priority",
            "created_at",
            "id",
            sqlite_where=text(OPEN_CASES_SQL),
            postgresql_where=text(OPEN_CASES_SQL),
        ),
        # One emergency case per call, however often Twilio delivers the 9 (cases.intake).
        Index(
            "uq_cases_emergency_call",
            "call_id",
            unique=True,
            sqlite_where=text(EMERGENCY_CALL_SQL),
            postgresql_where=text(EMERGENCY_CALL_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.NEW)
    source: Mapped[CaseSource] = mapped_column(enum_column(CaseSource))
    phone: Mapped[str] = mapped_column(String(32), default="")
    locale: Mapped[str] = mapped_column(String(10))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    category: Mapped[str] = mapped_column(String(40), default="other")
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency), default=Urgency.NORMAL)
    transcript: Mapped[str] = mapped_column(Text, default="")
    machine_transcript: Mapped[str] = mapped_column(Text, default="")
    transcript_words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    no_speech: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str] = mapped_column(Text, default="")  # for operators (the API, the log)
    problem: Mapped[TranscriptProblem | None] = mapped_column(enum_column(TranscriptProblem))
    # Where the problem is: copied from the resident, editable by staff; drives routing.
    grid: Mapped[str] = mapped_column(String(50), default="", index=True)
    building: Mapped[str] = mapped_column(String(50), default="")
    # Where, in words, when staff record a request (a street, a flat): cases.staff_intake.
    address: Mapped[str] = mapped_column(String(200), default="")
    # Who is affected when they have no resident record (met at the desk, on a round): the
    # name staff wrote; their number, if they gave one, is `phone`.
    person_name: Mapped[str] = mapped_column(String(100), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    # The language the note is written in ("": the centre's default language, as before).
    resolution_locale: Mapped[str] = mapped_column(String(10), default="")
    # The note in other languages, written by staff for residents who speak them: {locale: text}.
    resolution_translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None when closed after a satisfied answer (or not closed); see ClosedAs.
    closed_as: Mapped[ClosedAs | None] = mapped_column(enum_column(ClosedAs))
    close_reason: Mapped[str] = mapped_column(Text, default="")
    # No foreign key: adding one would make SQLite rebuild the table (migration 0008); cases
    # are never deleted, and actions.close_as_mistake checks the case exists.
    duplicate_of_id: Mapped[int | None] = mapped_column()
    # One problem, many reporters: this case is one report of the problem handled on the main
    # case (cases.linked). It keeps its number, its reporter is texted and surveyed, and its
    # status follows the main case's (cases.lifecycle). No foreign key, for duplicate_of_id's
    # reason; cases.actions checks the main case exists.
    main_case_id: Mapped[int | None] = mapped_column(index=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The latest survey answer: what the ledger and the satisfaction rate report.
    satisfaction: Mapped[Satisfaction | None] = mapped_column(enum_column(Satisfaction))
    priority: Mapped[int] = mapped_column(default=_priority_of_inserted_row)
    # Tokens of the transcripts, resolution note and notes, for full-text search (cases.search).
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    resident: Mapped[Resident | None] = relationship()
    assignee: Mapped[User | None] = relationship()
    participants: Mapped[list[CaseParticipant]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    transcript_edits: Mapped[list[TranscriptEdit]] = relationship(
        back_populates="case", order_by="TranscriptEdit.id", cascade="all, delete-orphan"
    )
    call: Mapped[Call | None] = relationship()
    # The voicemail; a case has at most one (the survey comments are in `recordings` too).
    recording: Mapped[Recording | None] = relationship(
        primaryjoin="and_(Case.id == Recording.case_id, Recording.purpose == 'voicemail')",
        uselist=False,
        viewonly=True,
    )
    recordings: Mapped[list[Recording]] = relationship(
        back_populates="case", order_by="Recording.id", viewonly=True
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    # Who reported it for someone else (a building leader for a neighbour): cases.leaders.
    reporters: Mapped[list[CaseReporter]] = relationship(
        back_populates="case", order_by="CaseReporter.id", cascade="all, delete-orphan"
    )

    @property
    def number(self) -> str:
        return str(CASE_NUMBER_OFFSET + self.id)

    @property
    def duplicate_of_number(self) -> str | None:
        """The case this one repeats, when closed as a duplicate."""
        return (
            None if self.duplicate_of_id is None else str(CASE_NUMBER_OFFSET + self.duplicate_of_id)
        )

    @property
    def main_case_number(self) -> str | None:
        """The problem's main case, when this case is one report of it."""
        return None if self.main_case_id is None else str(CASE_NUMBER_OFFSET + self.main_case_id)

    @staticmethod
    def id_from_number(number: str) -> int | None:
        digits = number.strip()
        # More than 9 digits is no case number of ours, and would overflow the id column.
        if not digits.isdigit() or len(digits) > 9 or int(digits) <= CASE_NUMBER_OFFSET:
            return None
        return int(digits) - CASE_NUMBER_OFFSET


class Recording(Base):
    """A resident's recording (a voicemail, a survey comment): stored the moment Twilio reports
    it, then downloaded and transcribed by one pipeline (tasks.recordings)."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Twilio retries its callbacks: this constraint makes every replay land on the same row.
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), default="")
    # None while a voicemail waits for its transcript: it opens a case only if it holds speech.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    purpose: Mapped[RecordingPurpose] = mapped_column(
        enum_column(RecordingPurpose), default=RecordingPurpose.VOICEMAIL
    )
    locale: Mapped[str] = mapped_column(String(10), default="")  # the speaker's; else the case's
    transcript: Mapped[str] = mapped_column(Text, default="")
    # What staff are told about its transcript (no speech, unclear, cut short); None: clear.
    problem: Mapped[TranscriptProblem | None] = mapped_column(enum_column(TranscriptProblem))
    status: Mapped[RecordingStatus] = mapped_column(
        enum_column(RecordingStatus), default=RecordingStatus.PENDING
    )
    available: Mapped[bool] = mapped_column(default=False)  # Twilio said "completed"
    duration_s: Mapped[float | None] = mapped_column()
    file_path: Mapped[str] = mapped_column(String(300), default="")
    content_type: Mapped[str] = mapped_column(String(50), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A running transcription holds the recording until lease_until and keeps extending it
    # (cases.recordings.take_lease): a lapsed lease means its worker died, and it is re-sent.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_holder: Mapped[str] = mapped_column(String(64), default="")  # the Celery task id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    transcribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case | None] = relationship(back_populates="recordings")


class CallBack(Base):
    """A voicemail with no speech in it (silence, noise): maybe someone who cannot speak.

    No case is opened and no case number texted; staff call the number back and mark it done.
    """

    __tablename__ = "call_backs"
    __table_args__ = (
        Index("ix_call_backs_status_urgent_created", "status", "urgent", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One per recording, however often its transcription is retried.
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), unique=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    phone: Mapped[str] = mapped_column(String(32), default="")
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    urgent: Mapped[bool] = mapped_column(default=False)  # the caller is a known resident
    reason: Mapped[CallBackReason] = mapped_column(enum_column(CallBackReason))
    status: Mapped[CallBackStatus] = mapped_column(
        enum_column(CallBackStatus), default=CallBackStatus.OPEN
    )
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recording: Mapped[Recording] = relationship()
    call: Mapped[Call | None] = relationship()
    resident: Mapped[Resident | None] = relationship()
    done_by: Mapped[User | None] = relationship()


class CaseEvent(Base):
    """One line of a case's timeline: who did what, when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100), default="system")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")


class CaseParticipant(Base):
    """A department taking part in a joint case, reporting back on its own part."""

    __tablename__ = "case_participants"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    report: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()


class TranscriptEdit(Base):
    """Every correction of a transcript, kept with who made it and when."""

    __tablename__ = "transcript_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="transcript_edits")
    user: Mapped[User | None] = relationship()


class BuildingLeader(Base):
    """楼栋长: a resident (or a staff member) who leads a building, hears its problems first
    and passes them on (cases.leaders). Exactly one of resident and user is set."""

    __tablename__ = "building_leaders"
    __table_args__ = (
        UniqueConstraint("building", "resident_id", name="uq_building_leaders_resident"),
        UniqueConstraint("building", "user_id", name="uq_building_leaders_user"),
        CheckConstraint("(resident_id IS NULL) <> (user_id IS NULL)", name="one_resident_or_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building: Mapped[str] = mapped_column(String(50), index=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resident: Mapped[Resident | None] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def name(self) -> str:
        return self.resident.name if self.resident else self.user.name if self.user else ""

    @property
    def phone(self) -> str:
        return self.resident.phone if self.resident else self.user.phone if self.user else ""

    @property
    def language(self) -> str:
        person = self.resident or self.user
        return person.language if person else ""


class CaseReporter(Base):
    """Someone who reported the case for another person: a building leader for a neighbour.

    The case's resident is the person affected; the reporter hears the case number, its
    progress and its resolution too (outreach.schedule.tell_reporters). Name, phone and
    language are kept as they were when reporting, as the texts go to that phone.
    """

    __tablename__ = "case_reporters"
    __table_args__ = (UniqueConstraint("case_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="building_leader")
    building: Mapped[str] = mapped_column(String(50), default="")
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    locale: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="reporters")
    resident: Mapped[Resident | None] = relationship()
    user: Mapped[User | None] = relationship()


class RoutingRule(Base):
    """Category x grid (or building) -> who gets new cases by default. Blank matches any."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(40), default="")
    grid: Mapped[str] = mapped_column(String(50), default="")
    building: Mapped[str] = mapped_column(String(50), default="")
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assignee: Mapped[User] = relationship()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whose permissions the token carries; none means a read-all integration token.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()


class Attachment(Base):
    """A photo or document staff attached to a case (cases.attachments).

    The file lies under $HOTLINE_DATA_DIR/attachments/ at `stored_name`; its type was read
    from its first bytes, never from its name, and it is served only to who may see the case.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    file_name: Mapped[str] = mapped_column(String(200), default="")  # as uploaded, for people
    content_type: Mapped[str] = mapped_column(String(50))
    size_bytes: Mapped[int] = mapped_column()
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
