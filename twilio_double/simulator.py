"""A call simulator that plays Twilio against a Flask (or any WSGI/HTTP) app.

:class:`CallSimulator` drives the app's voice webhooks exactly as Twilio
would: it requests the call's URL, runs the returned TwiML verb by verb,
answers input points from a caller script (:mod:`twilio_double.script`),
requests ``action``/``<Redirect>`` URLs, registers recordings in the
:class:`~twilio_double.rest.TwilioRestDouble` so the app can download them,
and sends recording and call status callbacks. Every request is signed with
``X-Twilio-Signature`` over the *public* URL. It also sends inbound texts
(:meth:`CallSimulator.send_sms`) and message status callbacks.

The documented Twilio behaviours each rule follows (twilio.com/docs/voice/
twiml/<verb>, also served at the older twilio.com/docs/api/twiml/<verb>):

* Requests — "Twilio's request to your application": form-encoded POST (or
  GET with parameters in the query string) carrying CallSid, AccountSid,
  From, To, Caller, Called, CallStatus, Direction, ApiVersion and the
  From/To/Caller/Called City/State/Zip/Country fields. CallStatus is
  ``ringing`` on the first request of an inbound call, ``in-progress`` after.
* Signature — docs/usage/webhooks/webhooks-security: HMAC-SHA1 with the auth
  token over the full URL Twilio requested plus, for POST, every parameter
  name and value sorted by name; computed with ``RequestValidator``.
* ``<Gather>`` — default action is the current document URL, method POST,
  timeout 5 s, finishOnKey ``#``, input dtmf. "If the timeout is reached
  before the caller enters any digits, or if the caller enters the
  finishOnKey value before entering any other digits, Twilio will not make a
  request to the action URL but instead continue processing the current TwiML
  document with the verb immediately following the <Gather>", unless
  ``actionOnEmptyResult="true"`` forces the request. Nested Say/Play/Pause run
  before the wait. The action request carries Digits and FinishedOnKey.
* ``<Record>`` — default action the current document URL, timeout 5 s,
  finishOnKey ``1234567890*#``, maxLength 3600, trim ``trim-silence``. "If
  Twilio receives an empty recording, it will not make a request to the
  action URL. The current call flow will continue with the next verb";
  ``trim-silence`` removes leading/trailing silence, so a silent caller gives
  an empty recording, while with ``do-not-trim`` the ``timeout`` seconds of
  silence stay in it and the action is requested (our inference from the two
  rules). Action parameters: RecordingUrl, RecordingSid, RecordingDuration
  and Digits, "the key (if any) pressed to end the recording or 'hangup' if
  the caller hung up". The recording "may not yet be accessible when the
  action callback is sent"; recordingStatusCallback announces it (parameters
  as Twilio sends them for RecordVerb: RecordingSource, RecordingSid,
  RecordingUrl, RecordingStatus, RecordingChannels, ErrorCode, CallSid,
  RecordingStartTime, AccountSid, RecordingDuration).
* ``<Dial>`` — "If no action is provided, <Dial> will finish and Twilio will
  move on to the next TwiML verb"; with an action, DialCallStatus,
  DialCallSid and DialCallDuration are posted and verbs after it are
  unreachable.
* ``<Redirect>`` — method default POST; ``<Pause>`` length default 1;
  ``<Hangup>`` ends the call; ``<Reject>`` as the first verb ends it unanswered
  "with a status of busy or no-answer, depending on the reason attribute".
* Application errors — a non-2xx answer, a body that is not TwiML or an
  unknown verb make Twilio say "an application error has occurred" and end
  the call; recorded as :attr:`CallResult.application_error`.
"""

from __future__ import annotations

import math
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import phonenumbers
from twilio.request_validator import RequestValidator

from twilio_double.recording import Take, compose, recording_duration, take_recording
from twilio_double.rest import API_VERSION, TWILIO_API_BASE, TwilioRestDouble, new_sid, rfc2822_now
from twilio_double.results import (
    ApplicationError,
    ApplicationErrorRaised,
    CallResult,
    DialEvent,
    DialOutcome,
    GatherEvent,
    MessageReply,
    RecordEvent,
    RunawayCallError,
    SayEvent,
    SimulationError,
    SmsResult,
    UnsupportedTwimlError,
    WebhookRequest,
)
from twilio_double.script import CallerAction, Hangup, Press, Silence, Speak, SpeakThenHangup
from twilio_double.segments import num_segments
from twilio_double.transport import HttpTransport, Transport, WireResponse, WsgiTransport
from twilio_double.twiml import (
    GATHER_CHILDREN,
    UNSUPPORTED_VERBS,
    TwimlError,
    attr_float,
    attr_int,
    attr_method,
    attr_true,
    origin,
    parse_document,
    resolve,
    text_of,
    with_query,
)

__all__ = [
    "ApplicationError",
    "ApplicationErrorRaised",
    "CallResult",
    "CallSimulator",
    "CallerAction",
    "DialEvent",
    "DialOutcome",
    "GatherEvent",
    "Hangup",
    "HttpTransport",
    "MessageReply",
    "Press",
    "RecordEvent",
    "RunawayCallError",
    "SayEvent",
    "Silence",
    "SimulationError",
    "SmsResult",
    "Speak",
    "SpeakThenHangup",
    "UnsupportedTwimlError",
    "WebhookRequest",
    "WsgiTransport",
]

Signing = Literal["valid", "omit", "forged"]
RecordingReady = Literal["before-action", "at-status-callback"]
AnsweredBy = Literal["human", "machine_start", "machine_end_beep", "fax", "unknown"]
DEFAULT_RECORD_FINISH = "1234567890*#"


@dataclass(frozen=True)
class _Goto:
    """Request ``url`` and continue with the TwiML it returns."""

    url: str
    method: str
    params: dict[str, str]
    kind: str
    after: Callable[[], None] | None = None


class _End:
    """The call is over."""


END = _End()
Step = _Goto | _End | None


@dataclass(frozen=True)
class _Document:
    url: str
    root: ET.Element


@dataclass
class _StatusCallback:
    """A call's StatusCallback subscription."""

    url: str | None
    method: str = "POST"
    events: frozenset[str] = frozenset({"completed"})
    sequence: int = 0


@dataclass
class _RecordingCallback:
    """A ``<Record>``'s recordingStatusCallback subscription."""

    url: str | None
    method: str
    events: frozenset[str]
    sid: str
    start_time: str


@dataclass
class _Call:
    """The running state of one simulated call."""

    result: CallResult
    script: deque[CallerAction]
    params: dict[str, str]
    status: str
    dial_outcomes: Mapping[str, DialOutcome]
    verbs_run: int = 0
    elapsed: float = 0.0
    in_gather: bool = False  # running the prompts nested in a <Gather>
    callback: _StatusCallback = field(default_factory=lambda: _StatusCallback(None))

    def next_action(self) -> CallerAction:
        return self.script.popleft() if self.script else Silence()

    def event(self, kind: str, detail: str = "") -> None:
        self.result.events.append((kind, detail))


def _geo_params(from_: str, to: str) -> dict[str, str]:
    """The City/State/Zip/Country fields Twilio adds (country from the number)."""
    params: dict[str, str] = {}
    for prefix, number in (("From", from_), ("Caller", from_), ("To", to), ("Called", to)):
        params.update({f"{prefix}City": "", f"{prefix}State": "", f"{prefix}Zip": ""})
        params[f"{prefix}Country"] = _country(number)
    return params


def _country(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""


class CallSimulator:
    """Plays Twilio's side of calls and texts against an app.

    ``transport`` delivers requests (:class:`WsgiTransport` or
    :class:`HttpTransport`); ``public_base_url`` is the app's URL as configured
    in Twilio, the one signatures are computed over. ``rest`` (optional) is the
    REST double where calls, recordings and messages are registered.

    Options: ``signing`` (``valid``, ``omit`` or ``forged`` signatures);
    ``max_documents`` (TwiML documents per call before
    :class:`RunawayCallError`); ``dial_outcomes`` (per dialled number) and
    ``dial_duration`` (seconds of an answered ``<Dial>``);
    ``recording_url_base`` (origin of RecordingUrl, Twilio's by default);
    ``recording_status_repeats`` (deliver each recording status callback N
    times with one idempotency token, like Twilio's retries);
    ``recording_status_first`` (deliver it before the Record action);
    ``recording_ready`` (``at-status-callback``: media answers 404 until the
    callback is sent); ``raise_on_app_error``.

    One simulator may run calls from several threads if its transport can.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        public_base_url: str,
        account_sid: str,
        auth_token: str,
        rest: TwilioRestDouble | None = None,
        signing: Signing = "valid",
        max_documents: int = 60,
        dial_outcomes: Mapping[str, DialOutcome] | None = None,
        dial_duration: int = 10,
        recording_url_base: str = TWILIO_API_BASE,
        recording_status_repeats: int = 1,
        recording_status_first: bool = False,
        recording_ready: RecordingReady = "before-action",
        raise_on_app_error: bool = False,
    ) -> None:
        self.transport = transport
        self.public_base_url = public_base_url.rstrip("/")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.rest = rest
        self.signing: Signing = signing
        self.max_documents = max_documents
        self.dial_outcomes = dict(dial_outcomes or {})
        self.dial_duration = dial_duration
        self.recording_url_base = recording_url_base.rstrip("/")
        self.recording_status_repeats = recording_status_repeats
        self.recording_status_first = recording_status_first
        self.recording_ready: RecordingReady = recording_ready
        self.raise_on_app_error = raise_on_app_error
        self._validator = RequestValidator(auth_token)
        self._verbs: dict[str, Callable[[_Call, _Document, ET.Element], Step]] = {
            "Say": self._say,
            "Play": self._play,
            "Pause": self._pause,
            "Gather": self._gather,
            "Record": self._record,
            "Redirect": self._redirect,
            "Dial": self._dial,
            "Hangup": self._hangup,
            "Reject": self._reject,
        }

    def close(self) -> None:
        """Close the transport."""
        self.transport.close()

    def public_url(self, path_or_url: str) -> str:
        """An absolute public URL for a path (absolute URLs are returned as given)."""
        if "://" in path_or_url:
            return path_or_url
        return f"{self.public_base_url}/{path_or_url.lstrip('/')}"

    # ------------------------------------------------------------ inbound
    def call(
        self,
        from_: str,
        to: str,
        script: Iterable[CallerAction] = (),
        *,
        url: str = "/voice",
        method: str = "POST",
        status_callback: str | None = None,
        status_callback_method: str = "POST",
        extra_params: Mapping[str, str] | None = None,
        dial_outcomes: Mapping[str, DialOutcome] | None = None,
        call_sid: str | None = None,
    ) -> CallResult:
        """Place an inbound call from ``from_`` to ``to`` whose voice URL is ``url``.

        ``status_callback`` (path or URL) receives the final call status, as
        configured on a Twilio number. ``extra_params`` are added to every
        request. Raises :class:`RunawayCallError` past ``max_documents``.
        """
        sid = call_sid or new_sid("CA")
        if self.rest is not None:
            self.rest.add_call(to, from_, sid=sid)
        call = self._new_call(sid, from_, to, "inbound", script, extra_params, dial_outcomes)
        call.status = "ringing"
        if status_callback:
            call.callback = _StatusCallback(
                self.public_url(status_callback), status_callback_method.upper()
            )
        self._follow(call, _Goto(self.public_url(url), method.upper(), {}, "voice"))
        return self._finish(call)

    # ----------------------------------------------------------- outbound
    def answer(
        self,
        call: Mapping[str, Any],
        script: Iterable[CallerAction] = (),
        *,
        outcome: DialOutcome = "completed",
        answered_by: AnsweredBy | None = None,
        dial_outcomes: Mapping[str, DialOutcome] | None = None,
    ) -> CallResult:
        """Play a call the app created through Calls.json (a dict from ``rest.calls``).

        ``outcome`` other than ``completed`` means the callee never answered
        (``no-answer``, ``busy``, ``failed``): only status callbacks are sent.
        When the call asked for MachineDetection, ``AnsweredBy`` is sent
        (``answered_by``, default ``human``).
        """
        request = dict(call.get("request") or {})
        state = self._new_call(
            call["sid"], call["from"], call["to"], "outbound-api", script, None, dial_outcomes
        )
        state.callback = _outbound_callback(request, call.get("status_callback_event") or [])
        self._progress(state, "initiated", "initiated")
        self._progress(state, "ringing", "ringing")
        if outcome != "completed":
            state.result.final_status = outcome
            return self._finish(state)
        self._answer_outbound(state, request, answered_by)
        return self._finish(state)

    def _answer_outbound(
        self, call: _Call, request: dict[str, str], answered_by: AnsweredBy | None
    ) -> None:
        if request.get("MachineDetection"):
            call.params["AnsweredBy"] = answered_by or "human"
        if self.rest is not None:
            self.rest.update_call(
                call.result.call_sid,
                status="in-progress",
                start_time=rfc2822_now(),
                answered_by=call.params.get("AnsweredBy"),
            )
        self._progress(call, "answered", "in-progress")
        if request.get("Twiml"):
            self._run_inline(call, request["Twiml"])
            return
        method = (request.get("Method") or "POST").upper()
        self._follow(call, _Goto(request["Url"], method, {}, "voice"))

    def _run_inline(self, call: _Call, twiml: str) -> None:
        try:
            root = parse_document(twiml.encode())
        except TwimlError as exc:
            self._app_error(call, "Twiml", None, str(exc))
            return
        call.result.documents += 1
        self._follow(call, self._run_document(call, _Document(self.public_url("/"), root)))

    # ---------------------------------------------------------------- SMS
    def send_sms(
        self,
        from_: str,
        to: str,
        body: str,
        *,
        url: str = "/sms/incoming",
        method: str = "POST",
        message_sid: str | None = None,
        media: Sequence[tuple[str, str]] = (),
        extra_params: Mapping[str, str] | None = None,
    ) -> SmsResult:
        """Deliver an inbound text to the app and parse its ``<Message>`` replies.

        ``media`` is a list of (url, content type). Replies are stored in the
        REST double as ``outbound-reply`` messages, as Twilio sends them.
        """
        sid = message_sid or new_sid("MM" if media else "SM")
        params = self._sms_params(sid, from_, to, body, media)
        params.update(extra_params or {})
        if self.rest is not None:
            self.rest.add_message(
                sid=sid, to=to, from_=from_, body=body, direction="inbound", status="received"
            )
        log: list[WebhookRequest] = []
        response = self._send(log, "sms", method.upper(), self.public_url(url), params)
        replies, error = _sms_replies(response, log[0].url)
        for reply in replies:
            self._store_reply(reply, from_, to)
        return SmsResult(sid, replies, log[0], error)

    def _sms_params(
        self, sid: str, from_: str, to: str, body: str, media: Sequence[tuple[str, str]]
    ) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": from_,
            "FromCountry": _country(from_),
            "MessageSid": sid,
            "NumMedia": str(len(media)),
            "NumSegments": str(num_segments(body)),
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
            "ToCountry": _country(to),
        }
        for index, (media_url, content_type) in enumerate(media):
            params[f"MediaUrl{index}"] = media_url
            params[f"MediaContentType{index}"] = content_type
        return params

    def _store_reply(self, reply: MessageReply, from_: str, to: str) -> None:
        if self.rest is not None:
            self.rest.add_message(
                to=reply.to or from_,
                from_=reply.from_ or to,
                body=reply.body,
                direction="outbound-reply",
                status="sent",
            )

    def deliver_message_status(
        self,
        message: Mapping[str, Any],
        status: str = "delivered",
        *,
        error_code: str | None = None,
    ) -> WebhookRequest | None:
        """POST a message status callback for a message the app sent (from ``rest.messages``)."""
        url = (message.get("request") or {}).get("StatusCallback")
        if self.rest is not None:
            self.rest.update_message(message["sid"], status=status, error_code=error_code)
        if not url:
            return None
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.get("from") or "",
            "MessageSid": message["sid"],
            "MessageStatus": status,
            "SmsSid": message["sid"],
            "SmsStatus": status,
            "To": message["to"],
        }
        if error_code:
            params["ErrorCode"] = error_code
        log: list[WebhookRequest] = []
        self._send(log, "message-status", "POST", url, params)
        return log[0]

    # -------------------------------------------------------- call engine
    def _new_call(
        self,
        sid: str,
        from_: str,
        to: str,
        direction: str,
        script: Iterable[CallerAction],
        extra_params: Mapping[str, str] | None,
        dial_outcomes: Mapping[str, DialOutcome] | None,
    ) -> _Call:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": sid,
            "Called": to,
            "Caller": from_,
            "Direction": direction,
            "From": from_,
            "To": to,
            **_geo_params(from_, to),
            **(extra_params or {}),
        }
        result = CallResult(sid, from_, to, direction)
        outcomes = {**self.dial_outcomes, **(dial_outcomes or {})}
        return _Call(result, deque(script), params, "in-progress", outcomes)

    def _follow(self, call: _Call, step: Step) -> None:
        """Fetch and run documents until the call ends."""
        while isinstance(step, _Goto):
            document = self._fetch_document(call, step)
            if step.after is not None:
                step.after()
            if document is None:
                return
            step = self._run_document(call, document)

    def _fetch_document(self, call: _Call, step: _Goto) -> _Document | None:
        call.result.documents += 1
        if call.result.documents > self.max_documents:
            raise RunawayCallError(
                f"more than {self.max_documents} TwiML documents; last {step.url}", call.result
            )
        response = self._call_webhook(call, step.kind, step.method, step.url, step.params)
        if call.status == "ringing":
            call.status = "in-progress"
        if response is None:
            self._app_error(call, step.url, None, "URL is outside public_base_url")
            return None
        try:
            return _Document(step.url, _twiml_of(response))
        except TwimlError as exc:
            self._app_error(call, step.url, response.status, str(exc))
            return None

    def _run_document(self, call: _Call, document: _Document) -> Step:
        for verb in document.root:
            step = self._run_verb(call, document, verb)
            call.verbs_run += 1
            if step is not None:
                return step
        self._end(call, "app")
        return END

    def _run_verb(self, call: _Call, document: _Document, verb: ET.Element) -> Step:
        handler = self._verbs.get(str(verb.tag))
        if handler is None:
            if verb.tag in UNSUPPORTED_VERBS:
                raise UnsupportedTwimlError(f"<{verb.tag}> is not simulated")
            self._app_error(call, document.url, None, f"unknown verb <{verb.tag}>")
            return END
        try:
            return handler(call, document, verb)
        except TwimlError as exc:
            self._app_error(call, document.url, None, str(exc))
            return END

    def _app_error(self, call: _Call, url: str, status: int | None, reason: str) -> None:
        if call.result.application_error is None:
            call.result.application_error = ApplicationError(url, status, reason)
        call.event("application-error", reason)
        self._end(call, "app")

    def _end(self, call: _Call, by: Literal["caller", "app"]) -> None:
        if call.result.hung_up_by is None:
            call.result.hung_up_by = by
            call.event("hangup", by)
        if call.result.final_status == "in-progress":
            call.result.final_status = "completed"

    def _finish(self, call: _Call) -> CallResult:
        result = call.result
        if result.final_status == "in-progress":
            self._end(call, "app")
        result.duration = round(call.elapsed)
        if self.rest is not None:
            self.rest.update_call(
                result.call_sid,
                status=result.final_status,
                duration=str(result.duration),
                end_time=rfc2822_now(),
            )
        call.status = result.final_status
        self._progress(call, "completed", result.final_status)
        if self.raise_on_app_error:
            result.raise_for_error()
        return result

    def _progress(self, call: _Call, event: str, call_status: str) -> None:
        """Send a call progress status callback if subscribed to ``event``."""
        callback = call.callback
        if callback.url is None or event not in callback.events:
            return
        params = {**call.params, "CallStatus": call_status}
        params.update(
            {
                "CallbackSource": "call-progress-events",
                "SequenceNumber": str(callback.sequence),
                "Timestamp": rfc2822_now(),
            }
        )
        if event == "completed" and call_status == "completed":
            params["CallDuration"] = str(call.result.duration)
            params["Duration"] = str(math.ceil(call.result.duration / 60))
        callback.sequence += 1
        self._send(call.result.requests, "status", callback.method, callback.url, params)

    # ----------------------------------------------------------- requests
    def _call_webhook(
        self, call: _Call, kind: str, method: str, url: str, extra: Mapping[str, str]
    ) -> WireResponse | None:
        params = {**call.params, "CallStatus": call.status, **extra}
        return self._send(call.result.requests, kind, method, url, params)

    def _send(
        self,
        log: list[WebhookRequest],
        kind: str,
        method: str,
        url: str,
        params: Mapping[str, str],
        token: str | None = None,
    ) -> WireResponse | None:
        """Sign and deliver one request; log it. ``None`` if the URL is not the app's."""
        if origin(url) != origin(self.public_base_url):
            log.append(WebhookRequest(kind, method, url, dict(params), 0, "not delivered"))
            return None
        full_url = url if method == "POST" else with_query(url, params)
        body = dict(params) if method == "POST" else {}
        headers = self._headers(full_url, body, token)
        response = self.transport.request(method, full_url, body, headers)
        text = response.body.decode("utf-8", "replace")
        log.append(WebhookRequest(kind, method, full_url, dict(params), response.status, text))
        return response

    def _headers(self, url: str, body: Mapping[str, str], token: str | None) -> dict[str, str]:
        headers = {
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": token or str(uuid.uuid4()),
        }
        if self.signing == "valid":
            headers["X-Twilio-Signature"] = self._validator.compute_signature(url, body)
        elif self.signing == "forged":
            forger = RequestValidator(self.auth_token + "-forged")
            headers["X-Twilio-Signature"] = forger.compute_signature(url, body)
        return headers

    # -------------------------------------------------------------- verbs
    def _say(self, call: _Call, document: _Document, verb: ET.Element) -> Step:
        text = text_of(verb)
        loop = attr_int(verb, "loop", 1)
        voice, language = verb.get("voice"), verb.get("language")
        call.result.note(SayEvent(text, voice, language, loop, call.in_gather))
        call.elapsed += max(1.0, len(text) / 15) * max(loop, 1)
        call.event("say", text)
        return None

    def _play(self, call: _Call, document: _Document, verb: ET.Element) -> Step:
        digits = verb.get("digits")
        if digits:
            call.result.played_digits.append(digits)
            call.event("play-digits", digits)
        source = (verb.text or "").strip()
        if source:
            played = resolve(document.url, source)
            call.result.played.append(played)
            call.event("play", played)
        call.elapsed += max(attr_int(verb, "loop", 1), 1)
        return None

    def _pause(self, call: _Call, document: _Document, verb: ET.Element) -> Step:
        length = attr_float(verb, "length", 1)
        call.result.pauses.append(length)
        call.elapsed += length
        call.event("pause", f"{length:g}")
        return None

    def _redirect(self, call: _Call, document: _Document, verb: ET.Element) -> Step:
        target = text_of(verb)
        if not target:
            raise TwimlError("<Redirect> has no URL")
        call.event("redirect", target)
        return _Goto(resolve(document.url, target), attr_method(verb), {}, "redirect")

    def _hangup(self, call: _Call, document: _Document, verb: ET.Element) -> Step:
        self._end(call, "app")
        return END

    def _reject(self, call: _Call, document: _Document, verb: ET.Element) -> Step:
        if call.verbs_run == 0 and call.result.documents == 1:
            busy = verb.get("reason") == "busy"
            call.result.final_status = "busy" if busy else "no-answer"
        call.event("reject", verb.get("reason") or "rejected")
        self._end(call, "app")
        return END

    # ------------------------------------------------------------- Gather
    def _gather(self, call: _Call, document: _Document, verb: ET.Element) -> Step:
        action = resolve(document.url, verb.get("action"))
        method = attr_method(verb)
        timeout = attr_float(verb, "timeout", 5)
        call.in_gather = True
        try:
            for child in verb:
                if child.tag not in GATHER_CHILDREN:
                    raise TwimlError(f"<{child.tag}> cannot be nested in <Gather>")
                self._run_verb(call, document, child)
        finally:
            call.in_gather = False
        caller = call.next_action()
        if isinstance(caller, Hangup | SpeakThenHangup):
            call.result.note(GatherEvent(action, "", "hangup", timeout))
            self._end(call, "caller")
            return END
        digits, outcome, key = _collect_digits(caller, verb)
        if outcome == "timeout":
            call.elapsed += timeout
        call.result.note(GatherEvent(action, digits, outcome, timeout))
        call.event("gather", f"{outcome}:{digits}")
        if digits:
            return _Goto(action, method, {"Digits": digits, "FinishedOnKey": key}, "gather")
        if attr_true(verb, "actionOnEmptyResult", False):
            return _Goto(action, method, {"FinishedOnKey": key}, "gather")
        return None

    # ------------------------------------------------------------- Record
    def _record(self, call: _Call, document: _Document, verb: ET.Element) -> Step:
        action = resolve(document.url, verb.get("action"))
        method = attr_method(verb)
        max_length = attr_float(verb, "maxLength", 3600) or 3600
        if attr_true(verb, "playBeep", True):
            call.event("beep")
        callback = self._recording_callback(document, verb)
        self._recording_status(call, callback, "in-progress", None)
        take = take_recording(
            call.script, verb.get("finishOnKey", DEFAULT_RECORD_FINISH), max_length
        )
        trim = verb.get("trim", "trim-silence") != "do-not-trim"
        wav = compose(take, trim, attr_float(verb, "timeout", 5), max_length)
        if wav is None:
            return self._empty_recording(call, take, callback)
        duration = recording_duration(wav)
        self._store_recording(call, callback.sid, wav, duration)
        digits = "hangup" if take.hangup else take.key
        call.result.recordings.append(callback.sid)
        call.result.note(RecordEvent(callback.sid, duration, digits, False))
        call.elapsed += duration
        call.event("record", callback.sid)
        params = {
            "RecordingDuration": str(duration),
            "RecordingSid": callback.sid,
            "RecordingUrl": self._recording_url(callback.sid),
        }
        if digits:
            params["Digits"] = digits
        return self._after_recording(call, action, method, params, callback, duration, take.hangup)

    def _after_recording(
        self,
        call: _Call,
        action: str,
        method: str,
        params: dict[str, str],
        callback: _RecordingCallback,
        duration: int,
        hangup: bool,
    ) -> Step:
        """Request the action (then the status callback, unless it is to come first)."""

        def status() -> None:
            self._make_available(callback.sid)
            self._recording_status(call, callback, "completed", duration)

        if self.recording_status_first:
            status()
        after = None if self.recording_status_first else status
        if not hangup:
            return _Goto(action, method, params, "record", after)
        call.status = "completed"
        self._call_webhook(call, "record", method, action, params)
        if after is not None:
            after()
        self._end(call, "caller")
        return END

    def _empty_recording(self, call: _Call, take: Take, callback: _RecordingCallback) -> Step:
        """No audio: Twilio skips the action and goes on with the next verb."""
        digits = "hangup" if take.hangup else take.key
        call.result.note(RecordEvent(None, 0, digits, True))
        call.event("record", "empty")
        self._recording_status(call, callback, "absent", 0)
        if take.hangup:
            self._end(call, "caller")
            return END
        return None

    def _recording_callback(self, document: _Document, verb: ET.Element) -> _RecordingCallback:
        url = verb.get("recordingStatusCallback")
        events = (verb.get("recordingStatusCallbackEvent") or "completed").replace(",", " ")
        return _RecordingCallback(
            resolve(document.url, url) if url else None,
            attr_method(verb, "recordingStatusCallbackMethod"),
            frozenset(events.split()),
            new_sid("RE"),
            rfc2822_now(),
        )

    def _recording_status(
        self, call: _Call, callback: _RecordingCallback, status: str, duration: int | None
    ) -> None:
        if callback.url is None or status not in callback.events:
            return
        params = {
            "AccountSid": self.account_sid,
            "CallSid": call.result.call_sid,
            "ErrorCode": "16101" if status == "absent" else "0",
            "RecordingChannels": "1",
            "RecordingSid": callback.sid,
            "RecordingSource": "RecordVerb",
            "RecordingStartTime": callback.start_time,
            "RecordingStatus": status,
            "RecordingUrl": self._recording_url(callback.sid),
        }
        if duration is not None:
            params["RecordingDuration"] = str(duration)
        token = str(uuid.uuid4())
        for _ in range(max(1, self.recording_status_repeats)):
            log = call.result.requests
            self._send(log, "recording-status", callback.method, callback.url, params, token)

    def _store_recording(self, call: _Call, sid: str, wav: bytes, duration: int) -> None:
        if self.rest is None:
            return
        pending = self.recording_ready == "at-status-callback"
        self.rest.add_recording(
            call.result.call_sid,
            wav,
            sid=sid,
            duration=duration,
            fault="not-found" if pending else None,
        )

    def _make_available(self, sid: str) -> None:
        if self.rest is not None and self.recording_ready == "at-status-callback":
            self.rest.set_recording_fault(sid, None)

    def _recording_url(self, sid: str) -> str:
        return (
            f"{self.recording_url_base}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"
        )

    # --------------------------------------------------------------- Dial
    def _dial(self, call: _Call, document: _Document, verb: ET.Element) -> Step:
        numbers = _dial_targets(verb)
        if not numbers:
            raise TwimlError("<Dial> has nothing to dial")
        status = _dial_status([call.dial_outcomes.get(n, "completed") for n in numbers])
        call.result.dialed.extend(numbers)
        call.result.dials.append(DialEvent(tuple(numbers), status, verb.get("callerId")))
        call.event("dial", f"{','.join(numbers)}:{status}")
        answered = status == "completed"
        duration = self.dial_duration if answered else 0
        call.elapsed += duration if answered else attr_float(verb, "timeout", 30)
        if verb.get("action") is None:
            return None
        params = {
            "DialCallDuration": str(duration),
            "DialCallSid": new_sid("CA"),
            "DialCallStatus": status,
        }
        return _Goto(resolve(document.url, verb.get("action")), attr_method(verb), params, "dial")


# ------------------------------------------------------------------- helpers
def _twiml_of(response: WireResponse) -> ET.Element:
    if response.status == 0:
        raise TwimlError(f"no HTTP response: {response.body.decode('utf-8', 'replace')}")
    if not 200 <= response.status < 300:
        raise TwimlError(f"HTTP {response.status}")
    return parse_document(response.body)


def _outbound_callback(request: Mapping[str, str], events: Sequence[str]) -> _StatusCallback:
    return _StatusCallback(
        request.get("StatusCallback") or None,
        (request.get("StatusCallbackMethod") or "POST").upper(),
        frozenset(events) or frozenset({"completed"}),
    )


def _collect_digits(caller: CallerAction, verb: ET.Element) -> tuple[str, str, str]:
    """Digits a ``<Gather>`` collects from one action: (digits, outcome, finish key)."""
    if not isinstance(caller, Press) or "dtmf" not in (verb.get("input") or "dtmf"):
        return "", "timeout", ""
    finish = verb.get("finishOnKey", "#")
    num_digits = attr_int(verb, "numDigits", 0)
    collected = ""
    for key in caller.digits:
        if finish and key in finish:
            return collected, "finish-key", key
        collected += key
        if num_digits and len(collected) >= num_digits:
            return collected, "digits", ""
    return collected, "timeout", ""


def _dial_targets(verb: ET.Element) -> list[str]:
    targets: list[str] = []
    for noun in verb:
        if noun.tag in ("Conference", "Queue", "Application", "WhatsApp"):
            raise UnsupportedTwimlError(f"<Dial><{noun.tag}> is not simulated")
        prefix = "" if noun.tag in ("Number", "Sip") else f"{str(noun.tag).lower()}:"
        targets.append(prefix + text_of(noun))
    if not targets and text_of(verb):
        targets.append(text_of(verb))
    return targets


def _dial_status(outcomes: Sequence[DialOutcome]) -> DialOutcome:
    """Numbers are dialled at once: the first to answer wins, else the likeliest failure."""
    preference: tuple[DialOutcome, ...] = ("completed", "no-answer", "busy")
    for status in preference:
        if status in outcomes:
            return status
    return "failed"


def _sms_replies(
    response: WireResponse | None, url: str
) -> tuple[list[MessageReply], ApplicationError | None]:
    if response is None:
        return [], ApplicationError(url, None, "URL is outside public_base_url")
    if not 200 <= response.status < 300:
        return [], ApplicationError(url, response.status, f"HTTP {response.status}")
    if not response.body.strip():
        return [], None
    try:
        root = parse_document(response.body)
    except TwimlError as exc:
        return [], ApplicationError(url, response.status, str(exc))
    return [_message_reply(element) for element in root.iter("Message")], None


def _message_reply(element: ET.Element) -> MessageReply:
    body_element = element.find("Body")
    if body_element is not None:
        body = text_of(body_element)
    else:
        body = " ".join((element.text or "").split())
    media = tuple(text_of(m) for m in element.findall("Media"))
    return MessageReply(body, element.get("to"), element.get("from"), media)
