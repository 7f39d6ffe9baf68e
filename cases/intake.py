"""One way to open a case, and one way to triage it, whatever the channel.

Every channel (voicemail, emergency key, text; next: the desk, broadcast replies, check-in
calls) opens its case with `open_case`, and every new word about it (a transcript, another
text) goes through `apply_triage`. Both run inside the caller's transaction and commit
nothing; the rules live here once:

* category: filled in when still unknown ("other"), never overwritten (staff may have set it);
* urgency: only ever raised, never lowered (a calm message never downgrades an emergency);
* deadline: from the case's opening, by urgency and category, whenever either changes;
* routing: the default handler for the category, grid and building, once the category is known;
* a building leader's text or voicemail is their building's case, about the neighbour its words
  name, with the leader as its reporter (cases.leaders), before it is routed;
* an emergency (opened as one, or raised to one) sends `emergency_raised`, inside the same
  transaction: outreach queues the texts to the on-duty staff, committed with the case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from blinker import Namespace
from sqlalchemy import select, update

from cases.deadlines import deadline_for
from cases.events import EventKind
from cases.leaders import name_from_new_words, take_leader_report
from cases.models import (
    URGENCY_PRIORITY,
    Call,
    Case,
    CaseSource,
    Recording,
    RecordingPurpose,
    RecordingStatus,
    Resident,
    Urgency,
)
from cases.routing import route_new_case
from cases.services import add_event, find_call, insert_or_get
from hotline.clock import now
from hotline.db import db, moved_one_row
from triage import OTHER, Triage, triage

# Receivers get the case and the words that made it one (none for the emergency key).
emergency_raised = Namespace().signal("case-emergency-raised")
# A voicemail opened (or joined) this case: sent once per recording, inside its transaction.
voicemail_received = Namespace().signal("case-voicemail-received")
ALERT_WORDS = 3  # the words quoted to the on-duty staff
# The channels a building leader reports by (the emergency key stays the caller's own case).
LEADER_CHANNELS = (CaseSource.SMS, CaseSource.VOICEMAIL)


@dataclass(frozen=True)
class Intake:
    """What a channel knows when a resident first reaches the centre."""

    source: CaseSource
    locale: str  # the resident's language: replies, prompts, survey
    phone: str = ""
    resident: Resident | None = None
    call: Call | None = None
    text: str = ""  # what they said or wrote, if known already
    triage_locale: str = ""  # the lexicon for `text`, when it differs from `locale`
    urgency: Urgency = Urgency.NORMAL  # the least it is (the emergency key: EMERGENCY)
    opened_at: datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # more for the case_opened event
    # Set when a person records the request (cases.staff_intake):
    category: str = OTHER  # the words fill it in only while it is "other"
    # What staff decided ("category", "urgency"): the words' reading is kept for the page,
    # but does not change these.
    decided: frozenset[str] = frozenset()
    grid: str | None = None  # where the problem is, when not the resident's grid and building
    building: str | None = None
    actor: str = "system"  # who opened it, on the timeline


class TriageReasons(TypedDict, total=False):
    matched: list[str]
    read_as: list[str]  # [category, urgency] as the words read, before what the case already had
    urgency_words: list[str]
    category_words: list[str]
    silenced: list[list[str]]  # [quote, why]: harmless, negation, past, asking


@dataclass(frozen=True)
class TriageResult:
    changes: dict[str, str]  # category and/or urgency, where they changed
    guess: Triage | None  # None when there were no words to read
    raised_to_emergency: bool

    @property
    def matched(self) -> tuple[str, ...]:
        return self.guess.matched if self.guess else ()

    @property
    def alert_words(self) -> list[str]:
        """The words that made it an emergency, for the on-duty staff to judge at once."""
        if self.guess is None or self.guess.urgency != Urgency.EMERGENCY.value:
            return []
        return list(self.guess.urgency_words[:ALERT_WORDS])

    @property
    def reasons(self) -> TriageReasons:
        """For the case's event, hence its page: what decided urgency and category, and the
        alarm words read but not counted (negated, past, asked about, harmless)."""
        guess = self.guess
        if guess is None:
            return {"matched": []}
        return {
            "matched": list(guess.matched),
            "read_as": [guess.category, guess.urgency],
            "urgency_words": list(guess.urgency_words),
            "category_words": list(guess.category_words),
            "silenced": [list(pair) for pair in guess.silenced],
        }


def open_case(intake: Intake) -> Case:
    """Add the case with its triage, deadline and default handler; the caller commits."""
    resident = intake.resident
    opened_at = intake.opened_at or now()
    case = Case(
        source=intake.source,
        phone=intake.phone,
        locale=intake.locale,
        resident=resident,
        call=intake.call,
        transcript=intake.text,
        machine_transcript=intake.text,
        category=intake.category,
        urgency=intake.urgency,
        deadline_at=deadline_for(intake.urgency, opened_at, intake.category),
        grid=_place(intake.grid, resident.grid if resident else ""),
        building=_place(intake.building, resident.building if resident else ""),
        created_at=opened_at,
    )
    db.session.add(case)
    result = _triage(case, intake.text, intake.triage_locale or intake.locale, intake.decided)
    add_event(
        case,
        EventKind.CASE_OPENED,
        intake.actor,
        source=intake.source.value,
        **intake.detail,
        category=case.category,
        urgency=case.urgency.value,
        **result.reasons,
    )
    if intake.source in LEADER_CHANNELS:
        take_leader_report(case, intake.phone, intake.text)
    route_new_case(case)
    db.session.flush()  # the case number is its id; receivers may need it
    if case.urgency == Urgency.EMERGENCY:  # opened as one, or its words made it one
        emergency_raised.send(case, words=result.alert_words)
    return case


def _place(given: str | None, residents: str) -> str:
    return residents if given is None else given


def apply_triage(case: Case, text: str, locale: str) -> TriageResult:
    """New words about a case (a transcript, another text): sharpen its triage, never blunt it."""
    name_from_new_words(case, text)  # a leader's neighbour, before routing looks at the place
    result = _triage(case, text, locale)
    if "category" in result.changes:
        route_new_case(case)  # unassigned for want of a category until now
    if result.raised_to_emergency:
        emergency_raised.send(case, words=result.alert_words)
    return result


def _triage(
    case: Case, text: str, locale: str, decided: frozenset[str] = frozenset()
) -> TriageResult:
    guess = triage(text, locale) if text.strip() else None
    if guess is None:
        return TriageResult({}, None, False)
    changes: dict[str, str] = {}
    if "category" not in decided and case.category == OTHER and guess.category != OTHER:
        case.category = changes["category"] = guess.category
    was = case.urgency
    guessed = Urgency(guess.urgency)
    # Words only ever raise it, unless a person decided it.
    if "urgency" not in decided and URGENCY_PRIORITY[guessed] < URGENCY_PRIORITY[was]:
        case.urgency = guessed
        changes["urgency"] = guessed.value
    if changes:
        opened_at = case.created_at or now()
        case.deadline_at = deadline_for(case.urgency, opened_at, case.category)
    raised = case.urgency == Urgency.EMERGENCY and was != Urgency.EMERGENCY
    return TriageResult(changes, guess, raised)


# ------------------------------------------------------------------ the phone line
def note_voicemail(
    recording_sid: str, call_sid: str, default_locale: str
) -> tuple[Recording, bool]:
    """The voicemail's recording, noted on first sight: idempotent on the RecordingSid.

    It opens no case yet: a voicemail becomes a case once its transcript holds speech
    (`open_voicemail_case`), and silence or noise goes on the call-back list instead. A message
    left after an unanswered emergency call joins that emergency's case at once.
    """

    def lookup() -> Recording | None:
        return db.session.scalar(select(Recording).where(Recording.recording_sid == recording_sid))

    def make() -> Recording:
        call = find_call(call_sid)
        emergency = _emergency_case_without_recording(call)
        recording = Recording(
            recording_sid=recording_sid,
            call_sid=call_sid,
            case=emergency,
            locale=call.locale if call else default_locale,
        )
        db.session.add(recording)
        if emergency is not None:
            add_event(
                emergency, EventKind.CASE_OPENED, source="voicemail", recording_sid=recording_sid
            )
            voicemail_received.send(emergency)
        return recording

    return insert_or_get(make, lookup)


def open_voicemail_case(recording: Recording) -> bool:
    """Open the case a voicemail asks for, once (True: opened now); the caller commits.

    Opened when its transcript holds speech, or without one when transcription failed or is
    late, so that no message is lost; `recording.case` is the case afterwards. The
    transcription task and beat's sweep may try at the same moment: a conditional UPDATE
    decides, and the loser's case is rolled back (so call this before changing anything else
    in the transaction); `recording.case` is then the winner's, or None if the task put the
    recording on the call-back list (cases.callbacks).
    """
    if recording.case is not None or recording.status != RecordingStatus.PENDING:
        return False
    call = find_call(recording.call_sid)
    case = open_case(
        Intake(
            CaseSource.VOICEMAIL,
            recording.locale,
            phone=call.phone if call else "",
            resident=call.resident if call else None,
            call=call,
            detail={"recording_sid": recording.recording_sid},
        )
    )
    claimed = moved_one_row(
        update(Recording)
        .where(
            Recording.id == recording.id,
            Recording.case_id.is_(None),
            Recording.status == RecordingStatus.PENDING,
        )
        .values(case_id=case.id)
        .execution_options(synchronize_session=False)
    )
    if not claimed:
        db.session.rollback()
        db.session.refresh(recording)
        return False
    db.session.refresh(recording)
    if call is None:
        add_event(case, EventKind.UNKNOWN_CALL, call_sid=recording.call_sid)
    if recording.available:
        add_event(case, EventKind.RECORDING_RECEIVED, duration_s=recording.duration_s)
    voicemail_received.send(case)
    return True


def _emergency_case_without_recording(call: Call | None) -> Case | None:
    if call is None:
        return None
    return db.session.scalar(
        select(Case)
        .outerjoin(
            Recording,
            (Recording.case_id == Case.id) & (Recording.purpose == RecordingPurpose.VOICEMAIL),
        )
        .where(
            Case.call_id == call.id,
            Case.source == CaseSource.EMERGENCY_CALL,
            Recording.id.is_(None),
        )
    )


def open_emergency_case(call: Call) -> tuple[Case, bool]:
    """One emergency case per call, however many times the caller presses 9 or Twilio delivers
    it at once: a unique index (uq_cases_emergency_call) decides between racing deliveries.

    Commits; a delivery that loses the race rolls back (its case and its alerts with it) and
    gets the winner's case, so the on-duty staff are alerted once. Call it with nothing else
    pending in the session.
    """

    def make() -> Case:
        return open_case(
            Intake(
                CaseSource.EMERGENCY_CALL,
                call.locale,
                phone=call.phone,
                resident=call.resident,
                call=call,
                urgency=Urgency.EMERGENCY,
            )
        )

    call_id = call.id  # read now: a lost race expires `call`

    def lookup() -> Case | None:
        return db.session.scalar(
            select(Case).where(Case.call_id == call_id, Case.source == CaseSource.EMERGENCY_CALL)
        )

    return insert_or_get(make, lookup)
