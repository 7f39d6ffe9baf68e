"""One case: recording, transcript, triage, routing, lifecycle and timeline.

The page shows everything staff need to handle a case; each form posts to a small view that
calls the shared action in cases.actions, commits, and comes back here (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.exc import IntegrityError

from accounts.models import Role, User
from cases import actions
from cases.errors import Refused
from cases.leaders import leaders_of
from cases.lifecycle import MISTAKE_FROM, allowed_next, is_overdue, satisfied_since_resolved
from cases.linked import SUGGESTION_WINDOW, likely_duplicates, linked_cases, main_of
from cases.models import (
    MISTAKES,
    Case,
    CaseEvent,
    CaseStatus,
    ClosedAs,
    Recording,
    RecordingPurpose,
    Resident,
    Urgency,
)
from cases.permissions import (
    can_be_assigned,
    can_close_unanswered,
    can_edit,
    can_view,
    case_scope,
)
from cases.recordings import problem_key
from hotline.clock import now
from hotline.db import db
from hotline.i18n import LOCALES
from hotline.settings import current_settings
from outreach.schedule import contact_of
from triage import CATEGORIES
from workspace.formatting import (
    category_label,
    closed_as_label,
    local_time,
    satisfaction_label,
    status_label,
    urgency_label,
)
from workspace.i18n import say, t

bp = Blueprint("case_page", __name__)

LOW_CONFIDENCE = 0.6  # below this Vosk is guessing: staff should listen to that word
RESIDENT_MATCHES = 20
MAX_ID_DIGITS = 9  # larger numbers cannot be ids, and would overflow PostgreSQL's integer
MAX_MERGE = 50  # cases merged in one go: more is a mistake, not a problem's reporters


# -- who may do what ---------------------------------------------------------------------


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _load_case(case_id: int, *, edit: bool) -> Case:
    """The case if the signed-in user may see it (404 otherwise, hiding that it exists);
    403 when they see it but `edit` is asked and they may not change it."""
    case = db.session.get(Case, case_id)
    if case is None or not can_view(_me(), case):
        abort(404)
    if edit and not can_edit(_me(), case):
        abort(403)
    return case


# -- the page ----------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> ResponseReturnValue:
    """Everything about one case for the person handling it, and the forms to act on it."""
    case = _load_case(case_id, edit=False)
    me = _me()
    editable = can_edit(me, case)
    query = request.args.get("resident_q", "").strip()[: actions.MAX_FIELD]
    users = _active_users() if editable else []
    assignees = [user for user in users if can_be_assigned(user, case)]
    closing = closing_choices(case, me) if editable else None
    return render_template(
        "case.html",
        case=case,
        editable=editable,
        overdue=is_overdue(case),
        next_statuses=_offered_statuses(case, closing),
        has_recording=recording_file(case.recording) is not None,
        comments=_survey_comments(case),
        words=machine_words(case),
        timeline=timeline(case),
        my_part=next((p for p in case.participants if p.user_id == me.id), None),
        closing=closing,
        problem=problem_text(case),
        reading=triage_reading(case),
        closed_as=closed_as_text(case),
        categories=CATEGORIES,
        urgencies=list(Urgency),
        assignees=assignees,
        departments=_departments_to_add(case, users),
        caller_resident=_caller_resident(case) if editable else None,
        building_leaders=leaders_of(case.building),
        resident_query=query,
        resident_matches=_search_residents(query, me) if editable and query else [],
        same_problem=same_problem(case, me, editable),
    )


@dataclass(frozen=True)
class TriageReading:
    """What the case's words were read as, and the words that decided it: staff judge the
    guess by them (and the on-duty person an emergency alert)."""

    category: str
    urgency: str
    urgency_words: list[str]
    category_words: list[str]
    silenced: list[tuple[str, str]]  # (words, why): harmless, negation, past, asking


def triage_reading(case: Case) -> TriageReading | None:
    """The latest reading of the case's words (opening, transcript or a later text)."""
    for event in reversed(case.events):
        detail = event.detail if isinstance(event.detail, dict) else {}
        read_as = detail.get("read_as")
        if isinstance(read_as, list) and len(read_as) == 2:
            return TriageReading(
                category=_s(read_as[0]),
                urgency=_s(read_as[1]),
                urgency_words=[_s(w) for w in detail.get("urgency_words") or []],
                category_words=[_s(w) for w in detail.get("category_words") or []],
                silenced=[
                    (_s(pair[0]), _s(pair[1]))
                    for pair in detail.get("silenced") or []
                    if isinstance(pair, list) and len(pair) == 2
                ],
            )
    return None


@dataclass(frozen=True)
class Closing:
    """What the page offers for closing the case and for writing the resolution note."""

    needs_reason: bool  # closing now is a supervisor's decision without the resident's answer
    held_back: bool  # the resident has not answered, and this reader may not close without it
    mistakes: tuple[ClosedAs, ...]  # "opened by mistake" kinds, while that is still possible
    locales: tuple[str, ...]  # the languages a resolution note may be written in
    note_locale: str  # the writer's language, preselected
    resident_locale: str  # the resident's language: a second note in it is offered


def closing_choices(case: Case, me: User) -> Closing:
    unanswered = case.status == CaseStatus.RESOLVED and not satisfied_since_resolved(case)
    return Closing(
        needs_reason=unanswered and can_close_unanswered(me),
        held_back=unanswered and not can_close_unanswered(me),
        mistakes=MISTAKES if case.status in MISTAKE_FROM and not _in_a_problem(case) else (),
        locales=LOCALES,
        note_locale=me.language if me.language in LOCALES else LOCALES[0],
        resident_locale=contact_of(case).locale,
    )


def _offered_statuses(case: Case, closing: Closing | None) -> tuple[CaseStatus, ...]:
    """The next steps, without closing when the reader would only be refused, nor resolving
    a report of a problem (it is resolved with its main case)."""
    held_back = closing is not None and closing.held_back
    refused = {CaseStatus.CLOSED} if held_back else set()
    if case.main_case_id is not None:
        refused.add(CaseStatus.RESOLVED)
    return tuple(s for s in allowed_next(case) if s not in refused)


def _in_a_problem(case: Case) -> bool:
    return case.main_case_id is not None or bool(linked_cases(case))


@dataclass(frozen=True)
class SameProblem:
    """One problem, many reporters (cases.linked): what the case page shows and offers."""

    main: Case | None  # the main case this case is a report of
    reports: list[Case]  # the reports linked to this case, when it is a main case
    count: int  # how many residents reported the problem
    # Likely duplicates, for one click, each with whether it came first: the first report
    # is the main case (the one staff have been working on), the later one joins it.
    suggestions: list[tuple[Case, bool]]
    weeks: int


def same_problem(case: Case, me: User, editable: bool) -> SameProblem:
    main = main_of(case)
    reports = linked_cases(main)
    suggestions: list[tuple[Case, bool]] = []
    if editable:
        found = likely_duplicates(case, case_scope(me), now())
        suggestions = [
            (other, (other.created_at, other.id) < (case.created_at, case.id))
            for other in found
            if can_edit(me, other)
        ]
    return SameProblem(
        main=main if main is not case else None,
        reports=reports if main is case else [],
        count=1 + len(reports),
        suggestions=suggestions,
        weeks=SUGGESTION_WINDOW.days // 7,
    )


def problem_text(case: Case) -> str:
    """What went wrong with the transcript, as a sentence for staff; the technical detail
    (which model to install, Twilio's answer) is in the log and the API for operators."""
    key = problem_key(case)
    return t(key) if key else ""


def closed_as_text(case: Case) -> str:
    """How a case was closed when not after a satisfied answer; empty otherwise."""
    return closed_as_label(case.closed_as, case.duplicate_of_number)


@dataclass(frozen=True)
class SpokenWord:
    """One word of the machine transcript, with how sure the recogniser was."""

    text: str
    conf: float | None
    start: float | None

    @property
    def low(self) -> bool:
        return self.conf is not None and self.conf < LOW_CONFIDENCE

    @property
    def conf_text(self) -> str:
        return f"{self.conf:.2f}" if self.conf is not None else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def machine_words(case: Case) -> list[SpokenWord]:
    """The recogniser's words; stored JSON is read defensively (old rows, partial data)."""
    return [
        SpokenWord(str(item.get("word", "")), _number(item.get("conf")), _number(item.get("start")))
        for item in case.transcript_words or []
        if isinstance(item, dict) and str(item.get("word", ""))
    ]


def _active_users() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True))
            .order_by(User.role, User.display_name, User.username)
        )
    )


def _departments_to_add(case: Case, users: list[User]) -> list[User]:
    taking_part = {p.user_id for p in case.participants}
    return [user for user in users if user.role == Role.DEPARTMENT and user.id not in taking_part]


def _caller_resident(case: Case) -> Resident | None:
    if not case.phone:
        return None
    return db.session.scalar(select(Resident).where(Resident.phone == case.phone))


def _resident_scope(user: User) -> ColumnElement[bool]:
    """Whose records a user may look up: a grid worker their grid's, a department nobody's
    (they still see the resident whose number called)."""
    if user.role in (Role.ADMIN, Role.STAFF):
        return true()
    if user.role == Role.GRID_WORKER:
        return Resident.grid == user.grid
    return false()


def _search_residents(query: str, user: User) -> list[Resident]:
    return list(
        db.session.scalars(
            select(Resident)
            .where(
                _resident_scope(user),
                or_(
                    Resident.name.icontains(query, autoescape=True),
                    Resident.phone.contains(query, autoescape=True),
                ),
            )
            .order_by(Resident.name, Resident.id)
            .limit(RESIDENT_MATCHES)
        )
    )


# -- the recording -----------------------------------------------------------------------

AUDIO_FALLBACK_TYPE = "application/octet-stream"


def recording_file(recording: Recording | None) -> Path | None:
    """A recording's file on disk, only if it lies inside the recordings folder.

    The path comes from the Recording row alone; a relative one is read against the folder,
    and anything that resolves (symlinks too) outside it is treated as missing.
    """
    if recording is None or not recording.file_path:
        return None
    folder = (current_settings().data_dir / "recordings").resolve()
    try:
        path = (folder / recording.file_path).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(folder) or path == folder or not path.is_file():
        return None
    return path


@bp.get("/cases/<int:case_id>/recording")
@login_required
def recording(case_id: int) -> ResponseReturnValue:
    """The voicemail for the page's audio player, with range requests so seeking works."""
    return send_recording(_load_case(case_id, edit=False).recording)


@bp.get("/cases/<int:case_id>/recordings/<int:recording_id>")
@login_required
def any_recording(case_id: int, recording_id: int) -> ResponseReturnValue:
    """Any recording of the case (a survey comment too), for whoever may see the case."""
    case = _load_case(case_id, edit=False)
    return send_recording(next((r for r in case.recordings if r.id == recording_id), None))


def send_recording(recording: Recording | None) -> ResponseReturnValue:
    path = recording_file(recording)
    if path is None or recording is None:
        abort(404)
    declared = recording.content_type.strip().lower()
    # Only audio types: a stored type must never make the browser treat the file as a page.
    mimetype = declared if declared.startswith("audio/") else AUDIO_FALLBACK_TYPE
    response = send_file(path, mimetype=mimetype, conditional=True, max_age=0)
    response.cache_control.private = True  # a resident's voice: no shared caches
    return response


def _survey_comments(case: Case) -> list[tuple[Recording, bool]]:
    """The residents' survey comments, each with whether its audio can be played."""
    comments = [r for r in case.recordings if r.purpose == RecordingPurpose.SURVEY_COMMENT]
    return [(comment, recording_file(comment) is not None) for comment in comments]


# -- acting on the case ------------------------------------------------------------------

Action = Callable[[Case, User], object]


def _carry_out(
    case_id: int, action: Action, done_key: str, *, edit: bool = True
) -> ResponseReturnValue:
    """Do one staff action and come back to the case; a refusal changes nothing and says why."""
    case = _load_case(case_id, edit=edit)
    try:
        action(case, _me())
        db.session.commit()
    except Refused as refusal:
        db.session.rollback()
        flash(say(refusal.message), "error")
    except IntegrityError:
        # Two people did the same thing at once (a participant added twice): theirs stands.
        db.session.rollback()
        flash(t("case.refused.conflict"), "error")
    else:
        flash(t(done_key), "success")
    return redirect(url_for(".show", case_id=case_id), code=303)


def _form_text(name: str) -> str:
    """A form field as typed; browsers send CRLF line breaks, stored text has LF."""
    return request.form.get(name, "").replace("\r\n", "\n")


def _form_id(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_ID_DIGITS:
        raise Refused("case.refused.bad_number", value=raw[:20])
    return int(raw)


def _user_from_form(name: str) -> User | None:
    user_id = _form_id(name)
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None:
        raise Refused("case.refused.no_such_user")
    return user


@bp.post("/cases/<int:case_id>/transcript")
@login_required
def save_transcript(case_id: int) -> ResponseReturnValue:
    """Correct the transcript; the machine's version and every correction are kept."""
    text = _form_text("transcript")
    return _carry_out(
        case_id, lambda case, me: actions.edit_transcript(case, text, me), "case.done.transcript"
    )


@bp.post("/cases/<int:case_id>/triage")
@login_required
def save_triage(case_id: int) -> ResponseReturnValue:
    """Confirm or correct the guessed category and urgency (urgency moves the deadline)."""
    category, urgency = request.form.get("category"), request.form.get("urgency")
    return _carry_out(
        case_id,
        lambda case, me: actions.set_triage(case, category, urgency, me),
        "case.done.triage",
    )


@bp.post("/cases/<int:case_id>/assign")
@login_required
def assign(case_id: int) -> ResponseReturnValue:
    """Route the case by hand to someone who can see it, or to nobody (an empty choice)."""

    def hand_over(case: Case, me: User) -> None:
        actions.assign(case, _user_from_form("assignee_id"), me)

    return _carry_out(case_id, hand_over, "case.done.assigned")


@bp.post("/cases/<int:case_id>/participants")
@login_required
def add_participant(case_id: int) -> ResponseReturnValue:
    """Make the case a joint case: a department takes a part and reports back on it."""

    def add(case: Case, me: User) -> None:
        department = _user_from_form("user_id")
        if department is None or department.role != Role.DEPARTMENT or not department.active:
            raise Refused("case.refused.not_a_department")
        actions.add_participant(case, department, me)

    return _carry_out(case_id, add, "case.done.participant")


@bp.post("/cases/<int:case_id>/report")
@login_required
def report(case_id: int) -> ResponseReturnValue:
    """A department taking part says what it did; it may not otherwise change the case."""
    text = _form_text("report")
    return _carry_out(
        case_id,
        lambda case, me: actions.report_part(case, text, me),
        "case.done.report",
        edit=False,
    )


@bp.post("/cases/<int:case_id>/status")
@login_required
def change_status(case_id: int) -> ResponseReturnValue:
    """Move the case along its lifecycle; resolving needs a note saying what was done (with
    its language, and the same note in the resident's language if staff write one)."""
    target, note = request.form.get("to", ""), _form_text("note")
    if target != CaseStatus.RESOLVED:
        return _carry_out(
            case_id,
            lambda case, me: actions.change_status(case, target, me, note),
            "case.done.status",
        )
    locale = request.form.get("note_locale") or None
    translations = {request.form.get("resident_locale", ""): _form_text("resident_note")}
    return _carry_out(
        case_id,
        lambda case, me: actions.resolve(case, note, me, locale, translations),
        "case.done.status",
    )


@bp.post("/cases/<int:case_id>/mistake")
@login_required
def close_as_mistake(case_id: int) -> ResponseReturnValue:
    """Close a case opened by mistake (junk, a duplicate of another case, no message)."""
    how, note = request.form.get("closed_as"), _form_text("note")
    duplicate_of = request.form.get("duplicate_of", "")
    return _carry_out(
        case_id,
        lambda case, me: actions.close_as_mistake(case, how, me, note, duplicate_of),
        "case.done.closed_by_mistake",
    )


@bp.post("/cases/<int:case_id>/link")
@login_required
def link(case_id: int) -> ResponseReturnValue:
    """This case is one report of the problem handled on another (by its number)."""
    number = request.form.get("main", "")

    def join(case: Case, me: User) -> None:
        actions.link_to_main(case, actions.case_by_number(number, me), me)

    return _carry_out(case_id, join, "linked.done.linked")


@bp.post("/cases/<int:case_id>/merge")
@login_required
def merge(case_id: int) -> ResponseReturnValue:
    """Other cases (their numbers, separated by spaces or commas) become reports of this
    case's problem; all of them or, if one is refused, none."""
    numbers = request.form.get("cases", "").replace(",", " ").replace("，", " ").split()

    def gather(case: Case, me: User) -> None:
        others = [actions.case_by_number(number, me) for number in numbers[:MAX_MERGE]]
        actions.merge_into(case, others, me)

    return _carry_out(case_id, gather, "linked.done.merged")


@bp.post("/cases/<int:case_id>/unlink")
@login_required
def unlink(case_id: int) -> ResponseReturnValue:
    """This case is a problem of its own again."""
    return _carry_out(case_id, lambda case, me: actions.unlink(case, me), "linked.done.unlinked")


@bp.post("/cases/<int:case_id>/notes")
@login_required
def add_note(case_id: int) -> ResponseReturnValue:
    """A note on the timeline: what was said, tried, or promised."""
    text = _form_text("text")
    return _carry_out(case_id, lambda case, me: actions.add_note(case, text, me), "case.done.note")


@bp.post("/cases/<int:case_id>/resident")
@login_required
def resident(case_id: int) -> ResponseReturnValue:
    """Link the case to a known resident, or make a resident record from the caller."""
    if request.form.get("resident_id", "").strip():
        return _carry_out(case_id, _link_resident, "case.done.resident_linked")
    return _carry_out(case_id, _create_resident, "case.done.resident_created")


def _link_resident(case: Case, me: User) -> None:
    resident_id = _form_id("resident_id")
    found = db.session.scalar(
        select(Resident).where(
            Resident.id == resident_id,
            or_(_resident_scope(me), Resident.phone == case.phone),
        )
    )
    if found is None:
        raise Refused("case.refused.no_such_resident")
    actions.link_resident(case, found, me)


def _create_resident(case: Case, me: User) -> None:
    fields = {key: request.form.get(key, "") for key in ("address", "building", "grid")}
    actions.resident_from_case(case, request.form.get("name"), me, **fields)


# -- the timeline ------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One event as a sentence in the reader's language, plus any text someone wrote."""

    when: datetime
    actor: str
    kind: str
    sentence: str
    text: str = ""


# A description is (key under case.event, values for the sentence, free text to show as is).
Description = tuple[str, dict[str, Any], str]
Describer = Callable[[dict[str, Any], dict[int, str]], Description]


def _s(value: Any) -> str:
    return "" if value is None else str(value)


# Rows written before reasons were codes carry the English words instead.
LEGACY_REASONS = {"the resident is not satisfied": "not_satisfied"}


def _status_changed(detail: dict[str, Any], _: dict[int, str]) -> Description:
    values = {"from": status_label(_s(detail["from"])), "to": status_label(_s(detail["to"]))}
    note = _s(detail.get("note"))
    if detail.get("with_case"):  # carried from another case of the same problem
        return "status_changed_with", {**values, "number": _s(detail["with_case"])}, note
    closed_as = detail.get("closed_as")
    if closed_as == ClosedAs.WITHOUT_ANSWER:
        return "closed_without_answer", {}, _s(detail.get("reason"))
    if closed_as in MISTAKES:
        why = closed_as_label(_s(closed_as), _s(detail.get("duplicate_of")))
        return "closed_by_mistake", {"why": why}, note
    reason = detail.get("reason") or LEGACY_REASONS.get(note)
    if reason:
        why = _code_word("reason", reason)
        return (
            "status_changed_because",
            {**values, "why": why},
            "" if note in LEGACY_REASONS else note,
        )
    return "status_changed", values, note


def _assigned(detail: dict[str, Any], _: dict[int, str]) -> Description:
    if not detail.get("to"):
        return "unassigned", {}, ""
    return "assigned", {"to": _s(detail["to"])}, ""


def _triage_changed(detail: dict[str, Any], _: dict[int, str]) -> Description:
    changes = []
    if "category" in detail:
        changes.append(t("case.event.new_category", value=category_label(_s(detail["category"]))))
    if "urgency" in detail:
        changes.append(t("case.event.new_urgency", value=urgency_label(_s(detail["urgency"]))))
    return "triage_changed", {"changes": t("case.event.separator").join(changes)}, ""


def _resident_linked(detail: dict[str, Any], names: dict[int, str]) -> Description:
    resident_id = detail.get("resident_id")
    if resident_id is None:
        return "resident_unlinked", {}, ""
    return "resident_linked", {"name": names.get(resident_id, f"#{resident_id}")}, ""


def _case_opened(detail: dict[str, Any], _: dict[int, str]) -> Description:
    source = _s(detail.get("source"))
    label = t(f"case.source.{source}") if source else ""
    return "case_opened", {"source": label}, ""


def _recording_received(detail: dict[str, Any], _: dict[int, str]) -> Description:
    seconds = _number(detail.get("duration_s"))
    if seconds is None:
        return "recording_received", {}, ""
    return "recording_received_seconds", {"seconds": f"{seconds:.0f}"}, ""


def _transcribed(detail: dict[str, Any], _: dict[int, str]) -> Description:
    values = {
        "words": _s(detail.get("words", 0)),
        "category": category_label(_s(detail.get("category", "other"))),
        "urgency": urgency_label(_s(detail.get("urgency", "normal"))),
    }
    matched = detail.get("matched") or []
    text = t("case.event.keywords", words=", ".join(map(str, matched))) if matched else ""
    return "transcribed", values, text


def _transcription_failed(detail: dict[str, Any], _: dict[int, str]) -> Description:
    """What staff can do about it, in words; the error itself is for operators (the log)."""
    problem = _s(detail.get("problem")) or "other"
    key = f"case.problem.{problem}"
    return "transcription_failed", {}, t(key) if t(key) != key else t("case.problem.other")


def _with_text(key: str, field: str) -> Describer:
    """Events whose substance is text someone wrote (a note, a report, an error)."""
    return lambda detail, _: (key, {}, _s(detail.get(field)))


def _with_values(key: str, *fields: str) -> Describer:
    return lambda detail, _: (key, {name: _s(detail[name]) for name in fields}, "")


def _local(iso: Any) -> str:
    """An ISO time from an event's detail, as the centre's clock shows it."""
    try:
        return local_time(datetime.fromisoformat(_s(iso)))
    except ValueError:
        return _s(iso)


def _follow_up_scheduled(detail: dict[str, Any], _: dict[int, str]) -> Description:
    kind = t(f"case.follow_up.{_s(detail.get('follow_up_kind'))}")
    return "follow_up_scheduled", {"what": kind, "when": _local(detail.get("due_at"))}, ""


def _survey_sms_queued(detail: dict[str, Any], _: dict[int, str]) -> Description:
    return "survey_sms_queued", {"when": _local(detail.get("reply_by"))}, ""


def _survey_answered(detail: dict[str, Any], _: dict[int, str]) -> Description:
    values = {
        "answer": satisfaction_label(_s(detail.get("answer"))),
        "channel": t(f"case.channel.{_s(detail.get('channel')) or 'call'}"),
    }
    return "survey_answered", values, ""


def _visit_recorded(detail: dict[str, Any], _: dict[int, str]) -> Description:
    """What the worker found on a home visit (the answer itself is survey_answered's)."""
    if detail.get("met"):
        return "visit_met", {}, _s(detail.get("note"))
    return "visit_not_met", {"when": _local(detail.get("next_at"))}, _s(detail.get("note"))


def _resident_texted(detail: dict[str, Any], _: dict[int, str]) -> Description:
    """A text staff wrote to the resident: the words and the language, never the number."""
    values = {"language": _code_word("language", detail.get("locale"), "zh-CN")}
    if detail.get("later"):
        values["when"] = _local(detail.get("due_at"))
        return "resident_texted_later", values, _s(detail.get("text"))
    return "resident_texted", values, _s(detail.get("text"))


def _resident_called(detail: dict[str, Any], _: dict[int, str]) -> Description:
    key = f"contact.outcome.{_s(detail.get('outcome'))}"
    outcome = t(key) if t(key) != key else _code_word("call_outcome", None)
    return "resident_called", {"outcome": outcome}, _s(detail.get("note"))


def _code_word(table: str, code: Any, otherwise: str = "other") -> str:
    """A stored code (an outcome, a reason, a purpose) in words; never the code itself."""
    key = f"case.{table}.{_s(code)}"
    return t(key) if t(key) != key else t(f"case.{table}.{otherwise}")


def _call_outcome(key: str) -> Describer:
    def describe(detail: dict[str, Any], _: dict[int, str]) -> Description:
        # What happens next, when there is more to say than "done".
        after = f"case.after_call.{_s(detail.get('next'))}"
        next_step = t(after, when=_local(detail.get("retry_at")))
        next_step = "" if next_step == after else next_step
        values = {"outcome": _code_word("call_outcome", detail.get("outcome")), "next": next_step}
        return key, values, ""

    return describe


def _escalated(detail: dict[str, Any], _: dict[int, str]) -> Description:
    if detail.get("reason") == "not_satisfied":
        return "escalated_not_satisfied", {}, ""
    minutes = detail.get("overdue_minutes")
    if isinstance(minutes, int):
        return "escalated_overdue", {"minutes": minutes}, ""
    return "escalated", {}, ""


def _follow_up_cancelled(detail: dict[str, Any], _: dict[int, str]) -> Description:
    kind = detail.get("follow_up_kind")
    values = {
        "what": t(f"case.follow_up.{kind}") if kind else t("case.follow_up.surveys"),
        "why": _code_word("reason", detail.get("reason") or detail.get("outcome")),
    }
    instead = detail.get("instead")
    if instead:
        return (
            "follow_up_cancelled_instead",
            {**values, "instead": t(f"case.follow_up.{instead}")},
            "",
        )
    return "follow_up_cancelled", values, ""


def _progress_update(detail: dict[str, Any], _: dict[int, str]) -> Description:
    outcome = detail.get("outcome")
    if outcome in ("texted", "unreachable"):
        return f"progress_update_{outcome}", {}, ""
    return "progress_update", {}, ""


def _text_message(key: str) -> Describer:
    """A text the hotline sent (or did not): what it was for, never its SID."""
    return lambda detail, _: (key, {"purpose": _code_word("purpose", detail.get("purpose"))}, "")


def _location_changed(detail: dict[str, Any], _: dict[int, str]) -> Description:
    changes = [
        t(f"case.event.new_{place}", value=_s(detail[place]) or t("case.event.nowhere"))
        for place in ("grid", "building")
        if place in detail
    ]
    return "location_changed", {"changes": t("case.event.separator").join(changes)}, ""


DESCRIBERS: dict[str, Describer] = {
    "case_opened": _case_opened,
    "unknown_call": _with_values("unknown_call"),
    "recording_received": _recording_received,
    "recording_absent": _with_values("recording_absent"),
    "transcribed": _transcribed,
    "transcription_failed": _transcription_failed,
    "transcript_late": _with_values("transcript_late"),
    "recording_credentials_rejected": _with_values("recording_credentials_rejected"),
    "retranscribe_requested": _with_values("retranscribe_requested"),
    "case_number_sms": _with_values("case_number_sms"),
    "leader_report": _with_values("leader_report", "leader", "building"),
    "on_duty_alerted": _with_values("on_duty_alerted", "recipients"),
    "status_changed": _status_changed,
    "assigned": _assigned,
    "note": _with_text("note", "text"),
    "transcript_edited": _with_values("transcript_edited", "length"),
    "triage_changed": _triage_changed,
    "resident_linked": _resident_linked,
    "participant_added": _with_values("participant_added", "department"),
    "part_reported": _with_text("part_reported", "report"),
    "linked_to_main": _with_values("linked_to_main", "main"),
    "report_linked": _with_values("report_linked", "number"),
    "unlinked_from_main": _with_values("unlinked_from_main", "main"),
    "report_unlinked": _with_values("report_unlinked", "number"),
    "location_changed": _location_changed,
    "escalated": _escalated,
    "supervisors_notified": _with_values("supervisors_notified", "recipients"),
    # Closing the loop (outreach/): follow-ups, calls and texts.
    "follow_up_scheduled": _follow_up_scheduled,
    "follow_up_waiting": _with_values("follow_up_waiting"),
    "follow_up_cancelled": _follow_up_cancelled,
    "follow_up_done": _with_values("follow_up_done"),
    "survey_call_placed": _with_values("survey_call_placed", "attempt"),
    "survey_call_outcome": _call_outcome("survey_call_outcome"),
    "progress_call_placed": _with_values("progress_call_placed", "attempt"),
    "progress_call_outcome": _call_outcome("progress_call_outcome"),
    "progress_update": _progress_update,
    "survey_sms_queued": _survey_sms_queued,
    "survey_sms_no_reply": _with_values("survey_sms_no_reply"),
    "survey_answered": _survey_answered,
    "survey_comment": _with_text("survey_comment", "transcript"),
    "visit_task": _with_values("visit_task"),
    "visit_recorded": _visit_recorded,
    "resident_texted": _resident_texted,
    "resident_called": _resident_called,
    "sms_sent": _text_message("sms_sent"),
    "sms_suppressed": _text_message("sms_suppressed"),
    "sms_failed": _text_message("sms_failed"),
    "sms_received": _with_text("sms_received", "text"),
    "sms_replied": _with_text("sms_replied", "text"),
}


def _detail_summary(detail: dict[str, Any]) -> str:
    """Only for a kind this page does not know (an old or foreign row): its data as stored."""
    return "; ".join(f"{key}: {_s(value)[:200]}" for key, value in sorted(detail.items()))


def _actor_name(actor: str) -> str:
    if actor in ("system", "routing", "resident"):
        return t(f"case.actor.{actor}")
    return actor


def describe(event: CaseEvent, resident_names: dict[int, str]) -> TimelineEntry:
    """A readable sentence for the event; an unknown or malformed one shows its kind and data."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    describer = DESCRIBERS.get(event.kind)
    try:
        if describer is None:
            raise LookupError(event.kind)
        key, values, text = describer(detail, resident_names)
        sentence = t(f"case.event.{key}", **values)
    except (LookupError, TypeError, ValueError):
        sentence = t("case.event.other", kind=event.kind)
        text = _detail_summary(detail)
    return TimelineEntry(event.created_at, _actor_name(event.actor), event.kind, sentence, text)


def timeline(case: Case) -> list[TimelineEntry]:
    """Everything that happened to the case, oldest first."""
    linked = {
        event.detail.get("resident_id")
        for event in case.events
        if event.kind == "resident_linked" and isinstance(event.detail, dict)
    }
    ids = [value for value in linked if isinstance(value, int)]
    rows = db.session.execute(select(Resident.id, Resident.name).where(Resident.id.in_(ids)))
    names = {resident_id: name for resident_id, name in rows} if ids else {}
    return [describe(event, names) for event in case.events]
