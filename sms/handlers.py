"""What each kind of text does: open or add to a case, report a status, answer the survey, opt out.

Every handler runs inside the transaction that stored the text (sms/inbound.py) and returns what
it did; none commits. The reply is chosen here, in the sender's language; whether it is sent at
all (not after STOP) is decided by the caller.

Several texts, one case: elderly residents often send one message in several texts ("电梯坏了",
then "三号楼", then "快来人"). A text from the same number within CONTINUATION_WINDOW of their
previous text to an SMS case that is still new (nobody has picked it up) is added to that case,
its transcript and its triage, instead of opening another.

A building leader's text (cases.leaders) opens their building's case, about the neighbour it
names; the reply says for whom it was taken, and the leader hears its progress and resolution.

Opting out: STOP (and Twilio's other opt-out words, and 退订/TD/수신거부) records the number
as opted out (outreach.outbox, which checks it for every text, when it is queued and when it is
sent), whether or not we know who it belongs to. Like Twilio, an opted-out number gets one
confirmation and then no reply to anything (HELP included) until it texts START; what it
writes is still acted on (a case opens, an answer counts).

Too many texts: each number's texts are counted in a window by one atomic upsert
(`count_text`), done first thing in a text's transaction; on PostgreSQL it also makes the
number's texts take turns, so texts arriving at once still join one case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import literal, or_, select, update

from cases.events import EventKind
from cases.intake import Intake, apply_triage, open_case
from cases.models import (
    Case,
    CaseSource,
    CaseStatus,
    Resident,
    Satisfaction,
    Urgency,
)
from cases.permissions import phone_may_hear
from cases.services import add_event, case_by_number, latest_open_case
from hotline.db import UTCDateTime, db, moved_one_row, upsert
from hotline.i18n import Catalogue, catalogue
from hotline.settings import current_settings
from outreach.models import (
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    InboundMessage,
    SmsRateWindow,
)
from outreach.notices import status_report, text_status
from outreach.outbox import opt_in, opt_out, opted_out
from outreach.survey import KEYPAD_ANSWERS, record_answer
from sms.reading import Intent, Reading, is_latin, script_locale

CONTINUATION_WINDOW = timedelta(minutes=30)
# A stuck phone or a flood must not open case after case; a resident never writes this much.
RATE_LIMIT_TEXTS = 10
RATE_LIMIT_WINDOW = timedelta(minutes=10)
SURVEY_KINDS = (FollowUpKind.SURVEY_SMS, FollowUpKind.SURVEY_CALL)
PENDING = (FollowUpStatus.AWAITING, FollowUpStatus.SCHEDULED)


@dataclass(frozen=True)
class IncomingText:
    """One text as Twilio posted it, cleaned (sms/reading.py) and cut to a storable length."""

    message_sid: str
    from_phone: str
    to_phone: str
    body: str
    received_chars: int  # the length Twilio sent, before cutting
    # When it came, if it was kept in the spool while the database did not answer (else None):
    # it is handled as of then, and answered by a queued text (sms.inbound).
    spooled_at: datetime | None = None


@dataclass
class Context:
    text: IncomingText
    message: InboundMessage
    resident: Resident | None
    locale: str
    reading: Reading
    moment: datetime
    place: int  # among the number's texts in the rate limit's window (count_text)

    @property
    def replies(self) -> Catalogue:
        return catalogue(self.locale, "sms")


@dataclass
class Handled:
    """What a text did: the outcome stored with it, the case it joins, the reply."""

    outcome: str
    reply: str | None = None
    case: Case | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # more for its sms_received event


def handle(context: Context) -> Handled:
    intent = context.reading.intent
    if intent in KEYWORD_HANDLERS:  # opting out must work however many texts came before
        return KEYWORD_HANDLERS[intent](context)
    if intent == Intent.SURVEY:  # and so must an answer (不满意不销账): it is taken only once
        follow_up = _claim_pending_survey(context)
        if follow_up is not None:
            return _survey_answer(context, follow_up)
    if _over_rate_limit(context):
        return _rate_limited(context)
    return HANDLERS[intent](context)


# ---------------------------------------------------------------- STOP, START, HELP


def _stop(context: Context) -> Handled:
    """Opt the number out, known to us or not."""
    phone = context.text.from_phone
    already = opted_out(phone)
    opt_out(phone, context.moment)
    # Like Twilio: one confirmation, then silence (a second STOP is not answered either).
    return Handled("stop", None if already else context.replies.text("stop"))


def _start(context: Context) -> Handled:
    opt_in(context.text.from_phone)
    return Handled("start", context.replies.text("start"))


def _help(context: Context) -> Handled:
    return Handled("help", context.replies.text("help"))


# ---------------------------------------------------------------- too many texts


def count_text(phone: str, moment: datetime) -> int:
    """This text's place among its number's texts in the current window (1: the first).

    One statement, so texts arriving at once each get their own place in every web process;
    a window older than RATE_LIMIT_WINDOW starts again with this text. The caller commits.
    """
    window = SmsRateWindow.__table__.c
    expired = window.window_start <= moment - RATE_LIMIT_WINDOW
    statement = (
        upsert(SmsRateWindow)
        .values(phone=phone, window_start=moment, texts=1)
        .on_conflict_do_update(
            index_elements=[window.phone],
            set_={
                "texts": sql_case((expired, 1), else_=window.texts + 1),
                "window_start": sql_case(
                    (expired, literal(moment, UTCDateTime)), else_=window.window_start
                ),
            },
        )
        .returning(window.texts)
    )
    return int(db.session.execute(statement).scalar_one())


def _over_rate_limit(context: Context) -> bool:
    return context.place > RATE_LIMIT_TEXTS


def _rate_limited(context: Context) -> Handled:
    """Kept on the open case for staff to read, but no new case and one notice per window."""
    case = latest_open_case(context.text.from_phone)
    detail = {"rate_limited": True}
    if context.place > RATE_LIMIT_TEXTS + 1:  # the first text over the limit had the notice
        return Handled("rate_limited_quiet", None, case, detail)
    return Handled("rate_limited", context.replies.text("rate_limited"), case, detail)


# ---------------------------------------------------------------- survey answers


def _survey_answer(context: Context, follow_up: FollowUp) -> Handled:
    """1, 2 or 3: the answer to the pending satisfaction survey of one of the sender's cases."""
    case = follow_up.case
    answer = KEYPAD_ANSWERS[context.reading.number]
    record_answer(case, answer, "sms", follow_up)
    if answer == Satisfaction.NOT_SATISFIED:  # record_answer has queued the staff's texts
        reply = context.replies.text("survey_not_satisfied", number=case.number)
    elif case.status == CaseStatus.CLOSED:
        reply = context.replies.text("survey_closed", number=case.number)
    else:
        reply = context.replies.text("survey_thanks")
    return Handled("survey_answer", reply, case)


def _no_survey(context: Context) -> Handled:
    """1, 2 or 3 with no survey waiting: say what the line does instead."""
    return Handled("no_survey", context.replies.text("no_survey"))


def _claim_pending_survey(context: Context) -> FollowUp | None:
    """The newest pending survey for this number, marked done by a conditional UPDATE.

    The dispatcher claims follow-ups the same way, so a survey call about to be placed and
    an answer by text never both go ahead; a survey call already under way finds its
    follow-up done when its status callback comes, and records nothing more.
    """
    phone = context.text.from_phone
    candidates = db.session.scalars(
        select(FollowUp)
        .join(Case, FollowUp.case_id == Case.id)
        .outerjoin(Resident, Case.resident_id == Resident.id)
        .where(
            FollowUp.kind.in_(SURVEY_KINDS),
            FollowUp.status.in_(PENDING),
            or_(Case.phone == phone, Resident.phone == phone),
        )
        .order_by(FollowUp.id.desc())
        .limit(3)
    ).all()
    for follow_up in candidates:
        claimed = moved_one_row(
            update(FollowUp)
            .where(FollowUp.id == follow_up.id, FollowUp.status.in_(PENDING))
            .values(
                status=FollowUpStatus.DONE, outcome="answered_by_sms", updated_at=context.moment
            )
            .execution_options(synchronize_session=False)
        )
        if claimed:
            db.session.refresh(follow_up)
            return follow_up
    return None


# ---------------------------------------------------------------- status


def _status(context: Context) -> Handled:
    """A case number, or "status" alone for the sender's latest case."""
    number = context.reading.number
    if number:
        case = case_by_number(number)
        if case is None:
            return Handled("status", context.replies.text("status_not_found", number=number))
    else:
        case = latest_open_case(context.text.from_phone) or _latest_case(context.text.from_phone)
        if case is None:
            return Handled("status", context.replies.text("status_none"))
    if not phone_may_hear(context.text.from_phone, case):
        return _status_for_someone_else(context, case)
    reply = status_report(context.replies, case.number, case.status.value)
    # Only the resident's own text goes on their case's timeline (not a family member's).
    return Handled("status", reply, case if _is_own(case, context) else None)


def _status_for_someone_else(context: Context, case: Case) -> Handled:
    """Numbers are sequential: a stranger's question is answered by a text to the case's own
    phone (as on the phone line), and kept off the case's timeline."""
    if not text_status(case):
        return Handled("status", context.replies.text("status_not_found", number=case.number))
    return Handled("status", context.replies.text("status_texted", number=case.number))


def _latest_case(phone: str) -> Case | None:
    return db.session.scalar(
        select(Case).where(Case.phone == phone).order_by(Case.id.desc()).limit(1)
    )


def _is_own(case: Case, context: Context) -> bool:
    phone = context.text.from_phone
    return case.phone == phone or (case.resident is not None and case.resident.phone == phone)


# ---------------------------------------------------------------- a problem, in words


def _empty(context: Context) -> Handled:
    """Nothing to read (an emoji, a photo alone): kept with the case just opened, if any."""
    return Handled("empty", context.replies.text("empty"), _continuing_case(context))


def _words(context: Context) -> Handled:
    case = _continuing_case(context)
    if case is not None:
        return _add_to_case(context, case)
    return _open_case(context)


def _continuing_case(context: Context) -> Case | None:
    """The sender's SMS case, still new, to which they texted within the continuation window."""
    return db.session.scalar(
        select(Case)
        .join(InboundMessage, InboundMessage.case_id == Case.id)
        .where(
            Case.phone == context.text.from_phone,
            Case.source == CaseSource.SMS,
            Case.status == CaseStatus.NEW,
            InboundMessage.received_at >= context.moment - CONTINUATION_WINDOW,
            InboundMessage.id != context.message.id,
        )
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(1)
    )


def triage_locale(text: str, reply_locale: str) -> str:
    """The lexicon of the script the text is written in; the reply language otherwise."""
    return script_locale(text) or ("en-US" if is_latin(text) else reply_locale)


def _emergency_reply_key() -> str:
    """Claim the on-duty staff were alerted only when there is someone to alert."""
    if current_settings().on_duty_numbers:
        return "case_opened_emergency"
    return "case_opened_emergency_unstaffed"


def _open_case(context: Context) -> Handled:
    text = context.text.body
    case = open_case(
        Intake(
            CaseSource.SMS,
            context.locale,
            phone=context.text.from_phone,
            resident=context.resident,
            text=text,
            triage_locale=triage_locale(text, context.locale),
            opened_at=context.moment,
            detail={"message_sid": context.text.message_sid},
        )
    )
    if case.urgency == Urgency.EMERGENCY:
        reply = context.replies.text(_emergency_reply_key(), number=case.number)
    elif case.reporters and case.resident is not None:  # a building leader, for a neighbour
        reply = context.replies.text(
            "leader_case_opened", number=case.number, name=case.resident.name
        )
    else:
        reply = context.replies.text("case_opened", number=case.number)
    return Handled("new_case", reply, case)


def _add_to_case(context: Context, case: Case) -> Handled:
    """More words for the case: appended to its transcript; triage may only sharpen."""
    case.transcript = f"{case.transcript}\n{context.text.body}".strip()
    case.machine_transcript = f"{case.machine_transcript}\n{context.text.body}".strip()
    locale = triage_locale(case.machine_transcript, context.locale)
    triaged = apply_triage(case, case.machine_transcript, locale)
    if triaged.changes:
        add_event(case, EventKind.TRIAGE_CHANGED, **triaged.changes, **triaged.reasons)
    key = _emergency_reply_key() if triaged.raised_to_emergency else "added_to_case"
    return Handled("added_to_case", context.replies.text(key, number=case.number), case)


Handler = Callable[[Context], Handled]
KEYWORD_HANDLERS: dict[Intent, Handler] = {
    Intent.STOP: _stop,
    Intent.START: _start,
    Intent.HELP: _help,
}
HANDLERS: dict[Intent, Handler] = {
    Intent.SURVEY: _no_survey,
    Intent.STATUS: _status,
    Intent.EMPTY: _empty,
    Intent.TEXT: _words,
}
