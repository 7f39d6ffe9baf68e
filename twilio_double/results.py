"""What a simulated call or text produced, as seen from Twilio's side.

:class:`CallResult` is what tests assert on: every prompt the app made Twilio
say or play, every input point and its outcome, recordings, dialled numbers,
who hung up, the final call status, and the log of every webhook request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DialOutcome = Literal["completed", "no-answer", "busy", "failed"]


@dataclass(frozen=True)
class WebhookRequest:
    """One request Twilio made to the app: kind, method, public URL, parameters, answer."""

    kind: str
    method: str
    url: str
    params: dict[str, str]
    status: int
    body: str


@dataclass(frozen=True)
class SayEvent:
    """A ``<Say>``: flattened text and its voice, language and loop attributes.

    ``in_gather``: nested in a ``<Gather>``, so a key press cuts it short.
    """

    text: str
    voice: str | None
    language: str | None
    loop: int
    in_gather: bool = False


@dataclass(frozen=True)
class GatherEvent:
    """A ``<Gather>``: where it would post, what was collected and how it ended.

    ``outcome`` is ``digits`` (numDigits reached), ``finish-key``, ``timeout``
    or ``hangup``; ``timeout`` is the seconds Twilio waits for a key after the
    nested prompts.
    """

    action: str
    digits: str
    outcome: str
    timeout: float = 5.0


@dataclass(frozen=True)
class RecordEvent:
    """A ``<Record>``: the recording SID (None when empty), seconds and ending key."""

    sid: str | None
    duration: int
    digits: str | None
    empty: bool


@dataclass(frozen=True)
class DialEvent:
    """A ``<Dial>``: the numbers dialled and the DialCallStatus reached."""

    numbers: tuple[str, ...]
    status: DialOutcome
    caller_id: str | None


@dataclass(frozen=True)
class ApplicationError:
    """Why Twilio would say "an application error has occurred" and end the call."""

    url: str
    status: int | None
    reason: str


@dataclass
class CallResult:
    """Everything observable about one simulated call."""

    call_sid: str
    from_: str
    to: str
    direction: str
    said: list[str] = field(default_factory=list)
    says: list[SayEvent] = field(default_factory=list)
    played: list[str] = field(default_factory=list)
    played_digits: list[str] = field(default_factory=list)
    pauses: list[float] = field(default_factory=list)
    gathers: list[GatherEvent] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    record_events: list[RecordEvent] = field(default_factory=list)
    dialed: list[str] = field(default_factory=list)
    dials: list[DialEvent] = field(default_factory=list)
    hung_up_by: Literal["caller", "app"] | None = None
    final_status: str = "in-progress"
    application_error: ApplicationError | None = None
    requests: list[WebhookRequest] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    # What the caller met, in order: prompts spoken, input points, recordings (each
    # recording's beep). Plays and pauses are in ``events``.
    timeline: list[SayEvent | GatherEvent | RecordEvent] = field(default_factory=list)
    duration: int = 0
    documents: int = 0

    def note(self, event: SayEvent | GatherEvent | RecordEvent) -> None:
        """Keep an event in its own list and in the timeline."""
        if isinstance(event, SayEvent):
            self.said.append(event.text)
            self.says.append(event)
        elif isinstance(event, GatherEvent):
            self.gathers.append(event)
        else:
            self.record_events.append(event)
        self.timeline.append(event)

    def requests_of(self, kind: str) -> list[WebhookRequest]:
        """The webhook requests of one kind (``voice``, ``gather``, ``record``, ...)."""
        return [r for r in self.requests if r.kind == kind]

    def raise_for_error(self) -> None:
        """Raise :class:`ApplicationErrorRaised` if the app made the call fail."""
        if self.application_error is not None:
            raise ApplicationErrorRaised(self.application_error)


@dataclass(frozen=True)
class MessageReply:
    """A ``<Message>`` of a messaging TwiML reply."""

    body: str
    to: str | None
    from_: str | None
    media: tuple[str, ...]


@dataclass
class SmsResult:
    """What the app answered to an inbound text."""

    message_sid: str
    replies: list[MessageReply]
    request: WebhookRequest
    application_error: ApplicationError | None = None


class SimulationError(Exception):
    """The simulator cannot go on."""


class RunawayCallError(SimulationError):
    """The call fetched more TwiML documents than the simulator's cap."""

    def __init__(self, message: str, result: CallResult) -> None:
        super().__init__(message)
        self.result = result


class UnsupportedTwimlError(SimulationError):
    """A valid Twilio verb the simulator does not implement."""


class ApplicationErrorRaised(SimulationError):
    """Raised by :meth:`CallResult.raise_for_error`."""

    def __init__(self, error: ApplicationError) -> None:
        super().__init__(f"{error.reason} ({error.url}, status {error.status})")
        self.error = error
