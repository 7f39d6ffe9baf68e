"""The JSON the API answers with: each serialiser with the JSON Schema that describes it.

cases.openapi builds the OpenAPI document from these schemas; cases.api serves the JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.models import Role, User
from cases.attachments import attachments_of
from cases.lifecycle import is_overdue
from cases.linked import linked_cases
from cases.models import (
    Attachment,
    CallBack,
    CallBackReason,
    CallBackStatus,
    Case,
    CaseEvent,
    CaseParticipant,
    CaseSource,
    CaseStatus,
    ClosedAs,
    Satisfaction,
    TranscriptProblem,
    Urgency,
)
from cases.recordings import problem_key
from hotline.i18n import LOCALES, staff_text
from triage import CATEGORIES

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

# ---- serialisers, each with the JSON Schema that describes it ---------------------------------

TIME = {"type": "string", "format": "date-time"}
TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
USER_REF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}


def user_ref(user: User | None) -> dict[str, Any] | None:
    return {"id": user.id, "name": user.name} if user is not None else None


ASSIGNEE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "role", "grid", "department"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "role": {"enum": [role.value for role in Role]},
        "grid": {"type": "string", "description": "a grid worker's grid"},
        "department": {"type": "string"},
    },
}


def assignee_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role.value,
        "grid": user.grid,
        "department": user.department,
    }


CASE_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"},
    "number": {"type": "string", "description": "the case number read to the caller"},
    "status": {"enum": [status.value for status in CaseStatus]},
    "phone": {"type": "string", "description": "the caller's number, E.164"},
    "resident_id": {"type": ["integer", "null"]},
    "source": {
        "enum": [source.value for source in CaseSource],
        "description": "how the request came: voicemail, emergency_call or sms on the lines; "
        "staff (older cases) or, when staff recorded it, desk, phone_conversation, home_visit, "
        "grid_patrol, collection_station, building_leader, meeting, group_chat",
    },
    "person_name": {
        "type": "string",
        "description": "who is affected, when they have no resident record (resident_id null)",
    },
    "address": {"type": "string", "description": "where, in words, when staff recorded it"},
    "transcript": {"type": "string", "description": "as corrected by staff"},
    "machine_transcript": {"type": "string"},
    "words": {"type": "array", "items": {"type": "object"}},
    "no_speech": {"type": "boolean"},
    "error": {"type": "string", "description": "for operators: the technical detail"},
    "problem": {
        "enum": [*(problem.value for problem in TranscriptProblem), None],
        "description": "what went wrong with the transcript (unclear: no clear speech, listen "
        "to the recording); null when it can be relied on",
    },
    "problem_notes": {
        "type": "object",
        "propertyNames": {"enum": list(LOCALES)},
        "additionalProperties": {"type": "string"},
        "description": "what staff are told about the transcript, in each language; empty "
        "when nothing is wrong",
    },
    "speech_confidence": {
        "type": ["number", "null"],
        "description": "the recognised words' mean confidence, 0-1; null without words",
    },
    "category": {"enum": list(CATEGORIES)},
    "urgency": {"enum": [level.value for level in Urgency]},
    "locale": {"type": "string"},
    "created_at": TIME,
    "updated_at": TIME,
    "grid": {"type": "string"},
    "building": {"type": "string"},
    "assignee_id": {"type": ["integer", "null"]},
    "assignee": {"oneOf": [{"$ref": "#/components/schemas/UserRef"}, {"type": "null"}]},
    "deadline_at": TIME_OR_NULL,
    "overdue": {"type": "boolean", "description": "open and past its deadline"},
    "escalated_at": TIME_OR_NULL,
    "resolution_note": {"type": "string"},
    "resolution_locale": {
        "type": "string",
        "description": "the language of resolution_note; empty: the centre's default language",
    },
    "resolution_translations": {
        "type": "object",
        "propertyNames": {"enum": list(LOCALES)},
        "additionalProperties": {"type": "string"},
        "description": "the note in other languages, for residents who speak them",
    },
    "resolved_at": TIME_OR_NULL,
    "closed_at": TIME_OR_NULL,
    "closed_as": {
        "enum": [*(how.value for how in ClosedAs), None],
        "description": "null when closed after a satisfied answer (or not closed); "
        "without_answer: by a supervisor, with close_reason; junk, duplicate, no_message: "
        "opened by mistake, in no rate",
    },
    "close_reason": {"type": "string", "description": "why, when closed as closed_as says"},
    "duplicate_of": {
        "type": ["string", "null"],
        "description": "the number of the case a duplicate repeats",
    },
    "main_case_id": {
        "type": ["integer", "null"],
        "description": "one problem, many reporters: the id of the problem's main case when "
        "this case is one report of it (its status follows that case); null otherwise",
    },
    "main_case": {
        "type": ["string", "null"],
        "description": "the number of that main case",
    },
    "satisfaction": {
        "enum": [*(answer.value for answer in Satisfaction), None],
        "description": "the resident's latest survey answer",
    },
}
CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": list(CASE_PROPERTIES),  # every field is always there, null when unknown
    "properties": CASE_PROPERTIES,
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def problem_notes(case: Case) -> dict[str, str]:
    """The case page's note about the transcript, in every staff language."""
    key = problem_key(case)
    return {locale: staff_text(locale, key) for locale in LOCALES} if key else {}


def speech_confidence(words: list[dict[str, Any]] | None) -> float | None:
    """The mean of the stored words' confidences (rows are read defensively)."""
    confidences = [
        float(word["conf"])
        for word in words or []
        if isinstance(word, dict) and isinstance(word.get("conf"), int | float)
    ]
    return round(sum(confidences) / len(confidences), 3) if confidences else None


def case_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "number": case.number,
        "status": case.status.value,
        "phone": case.phone,
        "resident_id": case.resident_id,
        "source": case.source.value,
        "person_name": case.person_name,
        "address": case.address,
        "transcript": case.transcript,
        "machine_transcript": case.machine_transcript,
        "words": case.transcript_words,
        "no_speech": case.no_speech,
        "error": case.error,
        "problem": case.problem.value if case.problem else None,
        "problem_notes": problem_notes(case),
        "speech_confidence": speech_confidence(case.transcript_words),
        "category": case.category,
        "urgency": case.urgency.value,
        "locale": case.locale,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "grid": case.grid,
        "building": case.building,
        "assignee_id": case.assignee_id,
        "assignee": user_ref(case.assignee),
        "deadline_at": _iso(case.deadline_at),
        "overdue": is_overdue(case),
        "escalated_at": _iso(case.escalated_at),
        "resolution_note": case.resolution_note,
        "resolution_locale": case.resolution_locale,
        "resolution_translations": case.resolution_translations,
        "resolved_at": _iso(case.resolved_at),
        "closed_at": _iso(case.closed_at),
        "closed_as": case.closed_as.value if case.closed_as else None,
        "close_reason": case.close_reason,
        "duplicate_of": case.duplicate_of_number,
        "main_case_id": case.main_case_id,
        "main_case": case.main_case_number,
        "satisfaction": case.satisfaction.value if case.satisfaction else None,
    }


PARTICIPANT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["user_id", "department", "report", "reported_at"],
    "properties": {
        "user_id": {"type": "integer"},
        "department": {"type": "string"},
        "report": {"type": "string", "description": "what the department did about its part"},
        "reported_at": TIME_OR_NULL,
    },
}


def participant_json(participant: CaseParticipant) -> dict[str, Any]:
    return {
        "user_id": participant.user_id,
        "department": participant.user.department or participant.user.name,
        "report": participant.report,
        "reported_at": _iso(participant.reported_at),
    }


EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind", "actor", "detail", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "examples": ["note", "assigned", "status_changed"]},
        "actor": {"type": "string", "description": "who acted: a name, or system"},
        "detail": {"type": "object"},
        "created_at": TIME,
    },
}


def event_json(event: CaseEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "actor": event.actor,
        "detail": event.detail,
        "created_at": event.created_at.isoformat(),
    }


LINKED_CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "number", "status"],
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "string"},
        "status": {"enum": [status.value for status in CaseStatus]},
    },
}


ATTACHMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "file_name", "content_type", "size_bytes", "created_at", "url"],
    "properties": {
        "id": {"type": "integer"},
        "file_name": {"type": "string", "description": "as it was uploaded"},
        "content_type": {
            "enum": ["image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf"],
            "description": "read from the file's content, not its name",
        },
        "size_bytes": {"type": "integer"},
        "created_at": TIME,
        "url": {"type": "string", "description": "GET it with the same token"},
    },
}


def linked_case_json(case: Case) -> dict[str, Any]:
    return {"id": case.id, "number": case.number, "status": case.status.value}


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "file_name": attachment.file_name,
        "content_type": attachment.content_type,
        "size_bytes": attachment.size_bytes,
        "created_at": attachment.created_at.isoformat(),
        "url": f"/api/cases/{attachment.case_id}/attachments/{attachment.id}",
    }


CASE_DETAIL_SCHEMA: dict[str, Any] = {
    "allOf": [
        {"$ref": "#/components/schemas/Case"},
        {
            "type": "object",
            "required": ["participants", "linked_cases", "attachments"],
            "properties": {
                "participants": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Participant"},
                },
                "linked_cases": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/LinkedCase"},
                    "description": "the reports linked to this case, when it is a problem's "
                    "main case (each reporter's own case, oldest first); empty otherwise",
                },
                "attachments": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Attachment"},
                    "description": "photos and documents staff attached",
                },
                "events": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Event"},
                    "description": "the timeline, oldest first; only with ?include=events",
                },
            },
        },
    ]
}


def case_detail_json(case: Case, with_events: bool = False) -> dict[str, Any]:
    body = case_json(case)
    body["participants"] = [participant_json(p) for p in case.participants]
    body["linked_cases"] = [linked_case_json(report) for report in linked_cases(case)]
    body["attachments"] = [attachment_json(a) for a in attachments_of(case)]
    if with_events:
        body["events"] = [event_json(event) for event in case.events]
    return body


CALL_BACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "status",
        "urgent",
        "reason",
        "phone",
        "resident_id",
        "resident_name",
        "call_sid",
        "recording_sid",
        "duration_s",
        "created_at",
        "done_at",
        "done_by",
        "note",
    ],
    "properties": {
        "id": {"type": "integer"},
        "status": {"enum": [status.value for status in CallBackStatus]},
        "urgent": {"type": "boolean", "description": "the caller is a known resident"},
        "reason": {
            "enum": [reason.value for reason in CallBackReason],
            "description": "silence: hardly a sound; noise: sound but no word recognised",
        },
        "phone": {"type": "string", "description": "the number to call back, E.164 (or empty)"},
        "resident_id": {"type": ["integer", "null"]},
        "resident_name": {"type": ["string", "null"]},
        "call_sid": {"type": "string"},
        "recording_sid": {"type": "string"},
        "duration_s": {"type": ["number", "null"]},
        "created_at": TIME,
        "done_at": TIME_OR_NULL,
        "done_by": {"oneOf": [{"$ref": "#/components/schemas/UserRef"}, {"type": "null"}]},
        "note": {"type": "string", "description": "what came of the call back"},
    },
}


def call_back_json(call_back: CallBack) -> dict[str, Any]:
    resident = call_back.resident
    return {
        "id": call_back.id,
        "status": call_back.status.value,
        "urgent": call_back.urgent,
        "reason": call_back.reason.value,
        "phone": call_back.phone,
        "resident_id": call_back.resident_id,
        "resident_name": resident.name if resident is not None else None,
        "call_sid": call_back.recording.call_sid,
        "recording_sid": call_back.recording.recording_sid,
        "duration_s": call_back.recording.duration_s,
        "created_at": call_back.created_at.isoformat(),
        "done_at": _iso(call_back.done_at),
        "done_by": user_ref(call_back.done_by),
        "note": call_back.note,
    }


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "the HTTP status's name"},
        "message": {"type": "string", "description": "what was wrong, for a person to read"},
    },
}

SCHEMAS = {
    "Case": CASE_SCHEMA,
    "CaseDetail": CASE_DETAIL_SCHEMA,
    "Participant": PARTICIPANT_SCHEMA,
    "LinkedCase": LINKED_CASE_SCHEMA,
    "Attachment": ATTACHMENT_SCHEMA,
    "Event": EVENT_SCHEMA,
    "CallBack": CALL_BACK_SCHEMA,
    "UserRef": USER_REF_SCHEMA,
    "Assignee": ASSIGNEE_SCHEMA,
    "Error": ERROR_SCHEMA,
}
