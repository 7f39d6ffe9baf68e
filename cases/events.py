"""Every kind of event a case's timeline records, in one enumeration.

A StrEnum: the stored `case_events.kind` values are these strings, unchanged. Each kind has a
sentence under `case.event.<kind>` in every language (tests/cases/test_events.py).
"""

from __future__ import annotations

import enum


class EventKind(enum.StrEnum):
    # Opening and transcribing (cases/services.py, sms/handlers.py, tasks/voicemail.py)
    CASE_OPENED = "case_opened"
    UNKNOWN_CALL = "unknown_call"
    RECORDING_RECEIVED = "recording_received"
    RECORDING_ABSENT = "recording_absent"
    TRANSCRIBED = "transcribed"
    TRANSCRIPTION_FAILED = "transcription_failed"
    TRANSCRIPT_LATE = "transcript_late"  # opened without it, so that no message waits unseen
    # Twilio refused the account's credentials (401/403): an operator must correct them.
    RECORDING_CREDENTIALS_REJECTED = "recording_credentials_rejected"
    RETRANSCRIBE_REQUESTED = "retranscribe_requested"
    CASE_NUMBER_SMS = "case_number_sms"
    # A building leader reported it for their building (cases/leaders.py)
    LEADER_REPORT = "leader_report"
    ON_DUTY_ALERTED = "on_duty_alerted"
    # What staff do (cases/actions.py, cases/lifecycle.py, cases/routing.py, the JSON API)
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    NOTE = "note"
    TRANSCRIPT_EDITED = "transcript_edited"
    TRIAGE_CHANGED = "triage_changed"
    LOCATION_CHANGED = "location_changed"
    RESIDENT_LINKED = "resident_linked"
    PARTICIPANT_ADDED = "participant_added"
    PART_REPORTED = "part_reported"
    # One problem, many reporters (cases/actions.py: link_to_main, merge_into, unlink)
    LINKED_TO_MAIN = "linked_to_main"  # on the report: {main, merged}
    REPORT_LINKED = "report_linked"  # on the main case: {number}
    UNLINKED_FROM_MAIN = "unlinked_from_main"  # on the report: {main}
    REPORT_UNLINKED = "report_unlinked"  # on the main case: {number}
    # Deadlines (tasks/escalation.py, outreach/survey.py)
    ESCALATED = "escalated"
    SUPERVISORS_NOTIFIED = "supervisors_notified"
    # Closing the loop (outreach/): follow-ups, calls, surveys
    FOLLOW_UP_SCHEDULED = "follow_up_scheduled"
    FOLLOW_UP_WAITING = "follow_up_waiting"
    FOLLOW_UP_CANCELLED = "follow_up_cancelled"
    FOLLOW_UP_DONE = "follow_up_done"
    SURVEY_CALL_PLACED = "survey_call_placed"
    SURVEY_CALL_OUTCOME = "survey_call_outcome"
    PROGRESS_CALL_PLACED = "progress_call_placed"
    PROGRESS_CALL_OUTCOME = "progress_call_outcome"
    PROGRESS_UPDATE = "progress_update"
    SURVEY_SMS_QUEUED = "survey_sms_queued"
    SURVEY_SMS_NO_REPLY = "survey_sms_no_reply"
    SURVEY_ANSWERED = "survey_answered"
    SURVEY_COMMENT = "survey_comment"
    VISIT_TASK = "visit_task"
    VISIT_RECORDED = "visit_recorded"  # what the grid worker found (outreach.visits)
    # Staff reaching the resident by hand from the case page (outreach.contact): never the
    # number on the timeline, only what was said and what came of it.
    RESIDENT_TEXTED = "resident_texted"  # {text, locale, due_at, message}
    RESIDENT_CALLED = "resident_called"  # {outcome, note}
    # Texts (outreach/outbox.py, sms/inbound.py)
    SMS_SENT = "sms_sent"
    SMS_SUPPRESSED = "sms_suppressed"
    SMS_FAILED = "sms_failed"
    SMS_RECEIVED = "sms_received"
    SMS_REPLIED = "sms_replied"
