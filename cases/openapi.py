"""The OpenAPI 3.1 document of /api, served at /api/openapi.json.

Written by hand, but the response schemas come from cases.api_json, where each sits beside
the serialiser it describes; a test checks real responses against them and that every route
under /api is listed here.
"""

from __future__ import annotations

from typing import Any

from cases.actions import MAX_NOTE, MAX_TRANSCRIPT
from cases.api_json import DEFAULT_LIMIT, MAX_LIMIT, SCHEMAS
from cases.models import STAFF_CHANNELS, CallBackStatus, CaseSource, CaseStatus, Urgency
from hotline.i18n import LOCALES
from triage import CATEGORIES

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


CASE_ID = {
    "name": "case_id",
    "in": "path",
    "required": True,
    "description": "the case's id (not its number)",
    "schema": {"type": "integer"},
}
READ_ERRORS = {
    "401": _error("no token, or an unknown one"),
    "404": _error("no such case, or one the token's user may not see"),
}
WRITE_ERRORS = {
    **READ_ERRORS,
    "400": _error("the body is not JSON, has unknown fields or values of the wrong type"),
    "403": _error("a read-only token, or a case the user may see but not change"),
    "422": _error("refused (an empty or too long text, an unknown value); nothing changed"),
}
LIST_PARAMETERS = [
    _query("status", "only cases in this status", {"enum": [s.value for s in CaseStatus]}),
    _query("category", "only cases of this category", {"enum": list(CATEGORIES)}),
    _query("urgency", "only cases of this urgency", {"enum": [u.value for u in Urgency]}),
    _query("source", "only cases that came this way", {"enum": [s.value for s in CaseSource]}),
    _query("grid", "only cases in this grid", {"type": "string"}),
    _query("assignee_id", "only cases assigned to this user", {"type": "integer"}),
    _query("phone", "only cases from this caller (E.164)", {"type": "string"}),
    _query(
        "overdue", "true: open cases past their deadline; false: the others", {"type": "boolean"}
    ),
    _query(
        "limit",
        f"how many cases per page (default {DEFAULT_LIMIT})",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    ),
    _query(
        "after",
        "continue after this case id; follow the Link header rather than building it",
        {"type": "integer"},
    ),
]
LINK_HEADER = {
    "Link": {
        "description": 'RFC 8288 link to the next page, `<URL>; rel="next"`, with a URL relative '
        "to this server; absent on the last page",
        "schema": {"type": "string"},
    }
}


def _body(properties: dict[str, Any], required: list[str], example: dict[str, Any]) -> Any:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
    }
    return {"required": True, "content": {JSON: {"schema": schema, "example": example}}}


NOTE_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_NOTE}
PATCH_BODY = _body(
    {
        "transcript": {"type": "string", "description": "the corrected transcript"},
        "category": {"enum": list(CATEGORIES)},
        "urgency": {"enum": [u.value for u in Urgency], "description": "moves the deadline"},
        "status": {
            "enum": [s.value for s in CaseStatus],
            "description": "a lifecycle step from the current status",
        },
        "note": {
            "type": "string",
            "maxLength": MAX_NOTE,
            "description": "why the status changes; required to resolve, and to close a case "
            "the resident has not answered the survey for (which only a supervisor may do)",
        },
        "grid": {"type": "string", "maxLength": 50},
        "building": {"type": "string", "maxLength": 50},
    },
    [],
    {"urgency": "urgent", "status": "in_progress", "note": "plumber booked for Monday"},
)
OPTIONAL_TEXT = {"type": "string", "description": "empty or absent: see below"}
NEW_CASE_BODY = _body(
    {
        "source": {
            "enum": [channel.value for channel in STAFF_CHANNELS],
            "description": "how the request reached the centre",
        },
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_TRANSCRIPT},
        "resident_id": {
            "type": ["integer", "null"],
            "description": "the registered resident affected; a grid worker's token may name "
            "only residents of their grid. Without it, person_name is required",
        },
        "person_name": {
            "type": "string",
            "maxLength": 100,
            "description": "an unregistered person's name (not with resident_id)",
        },
        "person_phone": {
            "type": "string",
            "description": "their number, if they gave one: "
            "they are texted the case number and asked the survey",
        },
        "person_locale": {
            "enum": ["", *LOCALES],
            "description": "their language; by default the centre's",
        },
        "address": {
            "type": "string",
            "maxLength": 200,
            "description": "where; empty: the resident's address",
        },
        "building": {"type": "string", "maxLength": 50, "description": "empty: the resident's"},
        "grid": {
            "type": "string",
            "maxLength": 50,
            "description": "empty: the resident's; a "
            "grid worker's cases are always in their own grid",
        },
        "category": {"enum": ["", *CATEGORIES], "description": "empty: read from the text"},
        "urgency": {
            "enum": ["", *(u.value for u in Urgency)],
            "description": "empty: read from the text (which may raise it to an emergency and "
            "alert the on-duty staff); given, it stands",
        },
        "resolved": {
            "type": "boolean",
            "description": "handled on the spot (接诉即办): "
            "resolved at once, with resolution_note; the survey follows as for any case",
        },
        "resolution_note": {
            "type": "string",
            "maxLength": MAX_NOTE,
            "description": "what was done; required with resolved, refused without it",
        },
        "attachment": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["content_base64"],
            "properties": {
                "file_name": {"type": "string"},
                "content_base64": {"type": "string", "contentEncoding": "base64"},
            },
            "description": "a JPEG, PNG, WebP or HEIC photo or a PDF (its content is checked, "
            "not its name), up to HOTLINE_MAX_ATTACHMENT_MB (10 MB by default)",
        },
    },
    ["source", "text"],
    {
        "source": "grid_patrol",
        "text": "楼道灯坏了，晚上看不见",
        "resident_id": 42,
        "resolved": True,
        "resolution_note": "当场换了灯泡",
    },
)
PATHS: dict[str, Any] = {
    "/api/cases": {
        "get": {
            "operationId": "listCases",
            "summary": "List the cases the token may see, newest first",
            "description": "Returns a JSON list. Pages are linked with the `Link` header.",
            "parameters": LIST_PARAMETERS,
            "responses": {
                "200": {
                    **_json({"type": "array", "items": _ref("Case")}, "the cases"),
                    "headers": LINK_HEADER,
                },
                "400": _error("a filter has a value it cannot take"),
                "401": READ_ERRORS["401"],
            },
        },
        "post": {
            "operationId": "createCase",
            "summary": "Record a request on someone's behalf (the desk, a round, a meeting...)",
            "description": "The same case as every channel opens: routing, deadline, triage "
            "(category and urgency read from the text unless given) and emergency alerts; the "
            "person is texted the case number. With `resolved` it is resolved at once and the "
            "satisfaction survey follows. Staff and admins record for anyone, grid workers for "
            "the residents of their grid and for unregistered people (in their grid). All or "
            "nothing: a refusal creates no case and keeps no file.",
            "requestBody": NEW_CASE_BODY,
            "responses": {
                "201": _json(_ref("CaseDetail"), "the new case"),
                "400": WRITE_ERRORS["400"],
                "401": READ_ERRORS["401"],
                "403": _error("a read-only token, or an account that does not record requests"),
                "413": _error("the body is larger than the attachment limit allows"),
                "422": _error(
                    "refused, nothing created: no resident and no name, an empty text, a "
                    "resident the user may not record for, a file too big or of another type, "
                    "an unknown category"
                ),
            },
        },
    },
    "/api/cases/{case_id}/attachments/{attachment_id}": {
        "parameters": [
            CASE_ID,
            {
                "name": "attachment_id",
                "in": "path",
                "required": True,
                "description": "the attachment's id, as in the case's `attachments`",
                "schema": {"type": "integer"},
            },
        ],
        "get": {
            "operationId": "getAttachment",
            "summary": "A photo or document of the case",
            "responses": {
                "200": {
                    "description": "the file, as its content_type",
                    "content": {
                        kind: {"schema": {"type": "string", "format": "binary"}}
                        for kind in ("image/jpeg", "image/png", "image/webp", "image/heic")
                    }
                    | {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
                },
                **READ_ERRORS,
            },
        },
    },
    "/api/cases/{case_id}": {
        "parameters": [CASE_ID],
        "get": {
            "operationId": "getCase",
            "summary": "One case, with the departments of a joint case",
            "parameters": [
                _query("include", "`events` adds the case's timeline", {"enum": ["events"]})
            ],
            "responses": {"200": _json(_ref("CaseDetail"), "the case"), **READ_ERRORS},
        },
        "patch": {
            "operationId": "updateCase",
            "summary": "Correct the transcript, triage or place, or change the status",
            "description": "All or nothing: if one change is refused, none is made.",
            "requestBody": PATCH_BODY,
            "responses": {
                "200": _json(_ref("CaseDetail"), "the changed case"),
                **WRITE_ERRORS,
                "409": _error("the status cannot go there from the current one"),
            },
        },
    },
    "/api/cases/{case_id}/notes": {
        "parameters": [CASE_ID],
        "post": {
            "operationId": "addNote",
            "summary": "Add a note to the case's timeline",
            "requestBody": _body({"text": NOTE_TEXT}, ["text"], {"text": "called the resident"}),
            "responses": {"201": _json(_ref("Event"), "the note as recorded"), **WRITE_ERRORS},
        },
    },
    "/api/cases/{case_id}/assign": {
        "parameters": [CASE_ID],
        "post": {
            "operationId": "assignCase",
            "summary": "Hand the case to a user, or to nobody with null",
            "description": "A new case is accepted by being assigned. Only someone who can "
            "see the case may be given it (see the case's assignees); anyone else is refused "
            "with 422.",
            "requestBody": _body(
                {"assignee_id": {"type": ["integer", "null"]}}, ["assignee_id"], {"assignee_id": 7}
            ),
            "responses": {"200": _json(_ref("CaseDetail"), "the case"), **WRITE_ERRORS},
        },
    },
    "/api/cases/{case_id}/assignees": {
        "parameters": [CASE_ID],
        "get": {
            "operationId": "listAssignees",
            "summary": "Who the case may be handed to: the active accounts that can see it",
            "description": "Anyone else is refused by assign (422): a grid worker sees only "
            "their own grid's cases; a department sees the cases assigned to it.",
            "responses": {
                "200": _json({"type": "array", "items": _ref("Assignee")}, "the accounts"),
                **READ_ERRORS,
                "403": WRITE_ERRORS["403"],
            },
        },
    },
    "/api/cases/{case_id}/resolve": {
        "parameters": [CASE_ID],
        "post": {
            "operationId": "resolveCase",
            "summary": "Resolve the case, saying what was done",
            "description": "Sets the status to resolved (accepting a new or reopened case on "
            "the way).",
            "requestBody": _body(
                {
                    "note": NOTE_TEXT,
                    "locale": {
                        "enum": list(LOCALES),
                        "description": "the language of the note; by default the user's",
                    },
                    "translations": {
                        "type": "object",
                        "propertyNames": {"enum": list(LOCALES)},
                        "additionalProperties": NOTE_TEXT,
                        "description": "the note in other languages: a resident hears and "
                        "reads only a note in their language, else a stock sentence",
                    },
                },
                ["note"],
                {
                    "note": "疏通了下水道",
                    "locale": "zh-CN",
                    "translations": {"ko-KR": "하수구를 뚫었습니다"},
                },
            ),
            "responses": {
                "200": _json(_ref("CaseDetail"), "the resolved case"),
                **WRITE_ERRORS,
                "409": _error("the case cannot be resolved from its status (already resolved?)"),
            },
        },
    },
    "/api/callbacks": {
        "get": {
            "operationId": "listCallBacks",
            "summary": "Calls whose message held no speech, to call back",
            "description": "Silence or noise at the beep opens no case: the call waits here. "
            "Open ones come urgent first (the caller is a known resident), then the longest "
            "waiting; done ones the latest first.",
            "parameters": [
                _query(
                    "status",
                    "open (the default) or done",
                    {"enum": [s.value for s in CallBackStatus]},
                ),
                _query(
                    "limit",
                    f"at most this many (default {MAX_LIMIT})",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                ),
            ],
            "responses": {
                "200": _json({"type": "array", "items": _ref("CallBack")}, "the call backs"),
                "400": _error("a filter has a value it cannot take"),
                "401": READ_ERRORS["401"],
            },
        }
    },
    "/api/callbacks/{call_back_id}/done": {
        "parameters": [
            {
                "name": "call_back_id",
                "in": "path",
                "required": True,
                "description": "the call back's id",
                "schema": {"type": "integer"},
            }
        ],
        "post": {
            "operationId": "callBackDone",
            "summary": "Mark a call back done, saying what came of it",
            "requestBody": _body(
                {"note": NOTE_TEXT}, ["note"], {"note": "spoke with her son: all is well"}
            ),
            "responses": {
                "200": _json(_ref("CallBack"), "the call back, done"),
                "400": WRITE_ERRORS["400"],
                "401": READ_ERRORS["401"],
                "403": _error("a read-only token"),
                "404": _error("no such call back, or one the token's user may not see"),
                "409": _error("already marked done by someone"),
                "422": _error("the note is empty or too long"),
            },
        },
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "the OpenAPI document")},
        }
    },
}


# One problem, many reporters (cases.linked): link, merge and unlink, with the pages' rules.
LINK_ERRORS = {
    **WRITE_ERRORS,
    "403": _error(
        "a read-only token, or a case (in the path or the body) the user may see but not change"
    ),
    "409": _error("a case that is not open: a closed or resolved main case takes no reports"),
    "422": _error(
        "refused, nothing changed: the case itself, one of its own reports (a cycle), a report "
        "of another case, a case already linked elsewhere, or a case the user cannot see"
    ),
}
SAME_PROBLEM_PATHS: dict[str, Any] = {
    "/api/cases/{case_id}/link": {
        "parameters": [CASE_ID],
        "post": {
            "operationId": "linkCase",
            "summary": "This case is one report of the problem handled on another (main_id)",
            "description": "One problem, many reporters: the case keeps its number, its "
            "reporter is texted when the problem is resolved and asked whether they are "
            "satisfied, and its status follows the main case's (it is resolved with it). A "
            "main case linked to another brings its own reports along. Linking again to the "
            "same main case changes nothing.",
            "requestBody": _body(
                {"main_id": {"type": "integer", "description": "the main case's id"}},
                ["main_id"],
                {"main_id": 12},
            ),
            "responses": {"200": _json(_ref("CaseDetail"), "the linked case"), **LINK_ERRORS},
        },
    },
    "/api/cases/{case_id}/merge": {
        "parameters": [CASE_ID],
        "post": {
            "operationId": "mergeCases",
            "summary": "Merge other cases into this one: they become reports of its problem",
            "description": "As link, for several cases at once, from the main case's side: all "
            "of them, or (if one is refused) none.",
            "requestBody": _body(
                {
                    "case_ids": {
                        "type": "array",
                        "items": {"type": "integer"},
                        "minItems": 1,
                        "description": "the ids of the cases to merge into this one",
                    }
                },
                ["case_ids"],
                {"case_ids": [13, 14, 15, 16]},
            ),
            "responses": {
                "200": _json(_ref("CaseDetail"), "the main case, with its linked_cases"),
                **LINK_ERRORS,
            },
        },
    },
    "/api/cases/{case_id}/unlink": {
        "parameters": [CASE_ID],
        "post": {
            "operationId": "unlinkCase",
            "summary": "The case is a problem of its own again",
            "description": "It keeps the status it has and gets its own deadline back. The "
            "body may be empty.",
            "requestBody": {
                "required": False,
                "content": {JSON: {"schema": {"type": "object", "additionalProperties": False}}},
            },
            "responses": {
                "200": _json(_ref("CaseDetail"), "the case, on its own"),
                **WRITE_ERRORS,
                "422": _error("the case is not linked to another case"),
            },
        },
    },
}
PATHS.update(SAME_PROBLEM_PATHS)


def describe(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Routes served under /api by a package above cases (outreach.api: home visits) add
    their paths and schemas here, when their module is imported."""
    PATHS.update(paths)
    SCHEMAS.update(schemas)


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Community hotline API",
            "version": "1",
            "description": "Cases of the community hotline. A token made for a staff account "
            "(`hotline tokens create --name N --user USERNAME`) acts with that account's "
            "permissions; a token without one reads every case and changes none. Errors are "
            "JSON: `{error, message}`.",
        },
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer hl_...` from `hotline tokens create`",
                }
            },
        },
    }
