"""A local HTTP double of Twilio's REST API (version 2010-04-01).

Tests and benchmarks point the real ``twilio`` client (or plain ``requests``)
at :class:`TwilioRestDouble` instead of ``https://api.twilio.com``. It keeps
what was created (calls, messages, recordings) in memory, serves recording
media the way Twilio does, checks HTTP basic auth on every request, and can be
told to fail (``fail_next``), to answer slowly after acting (``delay_next``: the
request took effect but the client may give up or die before the answer comes, as
with any slow API), or to serve broken media (recording faults).

Pointing the twilio client at it: ``twilio.base.domain.Domain.absolute_url``
builds every URL from ``self.base_url``, and ``Client.api`` is created once and
cached, so ``client.api.base_url = double.base_url`` redirects every 2010-04-01
call. ``Client.get_hostname`` rewrites the host when an edge or region is set
(also from ``TWILIO_EDGE``/``TWILIO_REGION``), so those must be cleared;
:func:`make_client` does both.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from twilio.rest import Client
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from twilio_double.audio import read_audio_bytes, wav_duration
from twilio_double.segments import num_segments
from twilio_double.server import ServerThread

API_VERSION = "2010-04-01"
TWILIO_API_BASE = "https://api.twilio.com"
RecordingFault = Literal["zero-bytes", "truncated", "short-read", "not-found"]
CallHook = Callable[[dict[str, Any]], None]

_ERROR_CODES = {400: 20001, 401: 20003, 403: 20403, 404: 20404, 405: 20004, 429: 20429, 503: 20503}


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two-letter prefix and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def rfc2822_now() -> str:
    """Now, as Twilio formats dates in JSON: ``Tue, 31 Aug 2010 20:36:28 +0000``."""
    return format_datetime(datetime.now(UTC).replace(microsecond=0))


def twilio_error(status: int, message: str, code: int | None = None) -> Response:
    """A JSON error response shaped like Twilio's (code, message, more_info, status)."""
    code = code or _ERROR_CODES.get(status, 20500)
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    response = _json(body, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def make_client(base_url: str, account_sid: str, auth_token: str) -> Client:
    """A real ``twilio.rest.Client`` whose 2010-04-01 API calls go to ``base_url``.

    Meant for tests; close its connection pool with :func:`close_client`.
    """
    client = Client(account_sid, auth_token)
    client.edge = None
    client.region = None
    client.api.base_url = base_url
    session = getattr(client.http_client, "session", None)
    if session is not None:
        session.trust_env = False  # no proxy from the environment for 127.0.0.1
    return client


def close_client(client: Client) -> None:
    """Close the HTTP session of a client made by :func:`make_client`."""
    session = getattr(client.http_client, "session", None)
    if session is not None:
        session.close()


@dataclass
class _Recording:
    """A stored recording: its media and the JSON Twilio serves for it."""

    sid: str
    call_sid: str
    wav: bytes
    content_type: str
    mp3: bytes | None
    fault: RecordingFault | None
    resource: dict[str, Any]


@dataclass
class _FaultRule:
    pattern: re.Pattern[str]
    status: int
    remaining: int
    method: str | None


@dataclass
class _DelayRule:
    pattern: re.Pattern[str]
    seconds: float
    remaining: int
    method: str | None


@dataclass
class _Route:
    pattern: re.Pattern[str]
    handlers: dict[str, Callable[..., Response]]
    auth: bool = True


def _first_values(form: MultiDict[str, str]) -> dict[str, str]:
    return {key: form.get(key, "") for key in form}


def _split_events(values: Iterable[str]) -> list[str]:
    return [event for value in values for event in re.split(r"[\s,]+", value) if event]


@dataclass
class _State:
    """Everything the double remembers; guarded by ``TwilioRestDouble._lock``."""

    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    recordings: dict[str, _Recording] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[_FaultRule] = field(default_factory=list)
    delays: list[_DelayRule] = field(default_factory=list)
    pending_hooks: int = 0
    hook_errors: list[BaseException] = field(default_factory=list)


class TwilioRestDouble:
    """In-memory stand-in for ``api.twilio.com`` served over local HTTP.

    Create it with the account SID and auth token the code under test uses,
    ``start()`` it (or use ``with``), and give ``base_url`` to that code. The
    test-control methods (``add_recording``, ``fail_next``, ``update_call``,
    ...) are plain Python calls; all state is guarded by one lock, so the
    double can be used from the server threads, hooks and the test at once.

    Endpoints: the account itself (``/2010-04-01/Accounts/{AccountSid}.json``, GET),
    and under ``/2010-04-01/Accounts/{AccountSid}``: ``Calls.json``
    (GET list, POST create), ``Calls/{CA}.json`` (GET, POST update),
    ``Calls/{CA}/Recordings.json``, ``Messages.json`` (GET, POST),
    ``Messages/{SM}.json``, ``Recordings.json``, ``Recordings/{RE}`` with no
    extension (WAV, as Twilio), ``.wav``, ``.mp3``, ``.json`` (GET; DELETE).

    ``media_requires_auth``: Twilio only enforces basic auth on recording media
    when the account enables it; the default (True) is the stricter setting.
    ``media_redirect``: when True, media URLs answer ``302`` to an unauthenticated
    ``/media/...`` URL on the double, as Twilio redirects media to storage.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        media_requires_auth: bool = True,
        media_redirect: bool = False,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.media_requires_auth = media_requires_auth
        self.media_redirect = media_redirect
        self.on_call_created: CallHook | None = None
        self.on_message_created: CallHook | None = None
        self._lock = threading.RLock()
        self._hooks_done = threading.Condition(self._lock)
        self._state = _State()
        self._server = ServerThread(self)
        self._routes = self._build_routes()

    # ----------------------------------------------------------- lifecycle
    @property
    def base_url(self) -> str:
        """Where the double listens, e.g. ``http://127.0.0.1:54321``."""
        return self._server.base_url

    def start(self) -> TwilioRestDouble:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> TwilioRestDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------- test control
    @property
    def calls(self) -> list[dict[str, Any]]:
        """Calls created through Calls.json, oldest first (copies).

        Each dict is the JSON resource plus ``request`` (the form parameters,
        first values) and ``status_callback_event`` (list of events).
        """
        with self._lock:
            return [copy.deepcopy(call) for call in self._state.calls.values()]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Messages created through Messages.json (or added by the simulator), oldest first."""
        with self._lock:
            return [copy.deepcopy(message) for message in self._state.messages.values()]

    @property
    def recordings(self) -> list[dict[str, Any]]:
        """JSON resources of the stored recordings, oldest first."""
        with self._lock:
            return [dict(rec.resource) for rec in self._state.recordings.values()]

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every HTTP request the double answered, oldest first.

        Each entry has ``method``, ``path``, ``query``, ``form`` (first values),
        ``form_multi`` (all values), ``authorized`` and ``status``.
        """
        with self._lock:
            return list(self._state.requests)

    @property
    def hook_errors(self) -> list[BaseException]:
        """Exceptions raised by ``on_call_created``/``on_message_created`` hooks."""
        with self._lock:
            return list(self._state.hook_errors)

    def get_call(self, sid: str) -> dict[str, Any]:
        """A copy of one call (resource plus ``request`` and ``status_callback_event``)."""
        with self._lock:
            return copy.deepcopy(self._state.calls[sid])

    def update_call(self, sid: str, **fields: Any) -> dict[str, Any]:
        """Change fields of a call resource (status, duration, answered_by, ...)."""
        with self._lock:
            call = self._state.calls[sid]
            call.update(fields)
            call["date_updated"] = rfc2822_now()
            return dict(call)

    def add_call(
        self, to: str, from_: str, *, sid: str | None = None, direction: str = "inbound"
    ) -> dict[str, Any]:
        """Store a call Twilio received (inbound) so the app can fetch or update it."""
        form = MultiDict({"To": to, "From": from_})
        call = self._call_resource(form, sid)
        call.update(
            {
                "direction": direction,
                "status": "ringing",
                "request": {},
                "status_callback_event": [],
            }
        )
        with self._lock:
            self._state.calls[call["sid"]] = call
        return dict(call)

    def add_message(self, **fields: Any) -> dict[str, Any]:
        """Store a message resource directly (inbound texts, TwiML ``<Message>`` replies)."""
        message = self._message_resource(
            to=fields.pop("to", ""),
            from_=fields.pop("from_", None),
            body=fields.pop("body", ""),
            sid=fields.pop("sid", None),
        )
        message.update(fields)
        with self._lock:
            self._state.messages[message["sid"]] = message
        return dict(message)

    def update_message(self, sid: str, **fields: Any) -> dict[str, Any]:
        """Change fields of a message resource (status, error_code, ...)."""
        with self._lock:
            message = self._state.messages[sid]
            message.update(fields)
            message["date_updated"] = rfc2822_now()
            return dict(message)

    def add_recording(
        self,
        call_sid: str,
        audio: bytes | Path,
        *,
        content_type: str = "audio/x-wav",
        mp3: bytes | None = None,
        sid: str | None = None,
        duration: int | None = None,
        fault: RecordingFault | None = None,
        source: str = "RecordVerb",
        status: str = "completed",
    ) -> str:
        """Store a recording for ``call_sid`` and return its RE sid.

        ``duration`` (seconds) defaults to the WAV header's length, rounded.
        ``fault`` makes the media misbehave: ``zero-bytes`` (200, empty body),
        ``truncated`` (200, first half of the bytes), ``short-read`` (headers
        announce the full length, the connection closes after half) or
        ``not-found`` (404). ``.mp3`` is served only when ``mp3`` is given.
        ``status`` is what the list and the resource say (``in-progress`` while
        the caller still speaks: Twilio then gives the duration as -1).
        """
        data = read_audio_bytes(audio)
        sid = sid or new_sid("RE")
        if duration is None:
            seconds = wav_duration(data)
            duration = round(seconds) if seconds is not None else 0
        resource = self._recording_resource(sid, call_sid, duration, source)
        resource["status"] = status
        if status == "in-progress":
            resource["duration"] = "-1"
        with self._lock:
            self._state.recordings[sid] = _Recording(
                sid, call_sid, data, content_type, mp3, fault, resource
            )
        return sid

    def set_recording_status(self, sid: str, status: str, duration: int | None = None) -> None:
        """Change a stored recording's status (``completed`` once the caller hung up)."""
        with self._lock:
            resource = self._state.recordings[sid].resource
            resource["status"] = status
            resource["date_updated"] = rfc2822_now()
            if duration is not None:
                resource["duration"] = str(duration)

    def set_recording_fault(self, sid: str, fault: RecordingFault | None) -> None:
        """Change (or clear, with ``None``) the media fault of a stored recording."""
        with self._lock:
            self._state.recordings[sid].fault = fault

    def recording_media(self, sid: str) -> bytes:
        """The stored WAV bytes of a recording."""
        with self._lock:
            return self._state.recordings[sid].wav

    def recording_url(self, sid: str, base: str = TWILIO_API_BASE) -> str:
        """The media URL of a recording (no extension), on ``base``."""
        return f"{base.rstrip('/')}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"

    def fail_next(
        self, path_pattern: str, status: int = 500, times: int = 1, *, method: str | None = None
    ) -> None:
        """Answer the next ``times`` authorized requests whose path matches with ``status``.

        ``path_pattern`` is a regular expression searched in the request path
        (e.g. ``r"/Calls\\.json$"``, ``"Recordings/RE"``); ``method`` limits it
        to one HTTP method. The body is Twilio's error JSON.
        """
        rule = _FaultRule(re.compile(path_pattern), status, times, method)
        with self._lock:
            self._state.faults.append(rule)

    def delay_next(
        self, path_pattern: str, seconds: float, times: int = 1, *, method: str | None = None
    ) -> None:
        """Hold the answer to the next ``times`` matching requests for ``seconds``.

        The request is carried out first (a call or message is created at once), then the
        response waits: what a client sees when Twilio acted but answered late, or when the
        client gave up or died before the answer arrived. Matching as in :meth:`fail_next`.
        """
        rule = _DelayRule(re.compile(path_pattern), seconds, times, method)
        with self._lock:
            self._state.delays.append(rule)

    def wait_for_hooks(self, timeout: float = 5.0) -> None:
        """Block until every started ``on_*_created`` hook has returned."""
        with self._hooks_done:
            if not self._hooks_done.wait_for(lambda: self._state.pending_hooks == 0, timeout):
                raise TimeoutError("on_call_created hooks still running")

    # ------------------------------------------------------------- WSGI app
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        authorized = self._authorized(request)
        response = self._dispatch(request, authorized)
        self._log(request, authorized, response.status_code)
        delay = self._take_delay(request) if authorized else None
        if delay:
            time.sleep(delay)
        return response(environ, start_response)

    def _dispatch(self, request: Request, authorized: bool) -> Response:
        route, match = self._match(request.path)
        if route is None or match is None:
            return twilio_error(404, f"The requested resource {request.path} was not found")
        needs_auth = route.auth and (self.media_requires_auth or not _is_media(match))
        if needs_auth and not authorized:
            return twilio_error(401, "Authenticate")
        injected = self._take_fault(request)
        if injected is not None:
            return twilio_error(injected, "Injected failure")
        account = match.groupdict().get("account")
        if account is not None and account != self.account_sid:
            return twilio_error(404, f"The requested resource {request.path} was not found")
        handler = route.handlers.get(request.method)
        if handler is None:
            return twilio_error(405, "Method not allowed")
        kwargs = {k: v for k, v in match.groupdict().items() if k != "account"}
        return handler(request, **kwargs)

    def _match(self, path: str) -> tuple[_Route | None, re.Match[str] | None]:
        for route in self._routes:
            match = route.pattern.match(path)
            if match:
                return route, match
        return None, None

    def _authorized(self, request: Request) -> bool:
        auth = request.authorization
        return (
            auth is not None
            and auth.type == "basic"
            and auth.username == self.account_sid
            and auth.password == self.auth_token
        )

    def _take_fault(self, request: Request) -> int | None:
        with self._lock:
            for rule in self._state.faults:
                if rule.remaining <= 0 or (rule.method and rule.method != request.method):
                    continue
                if rule.pattern.search(request.path):
                    rule.remaining -= 1
                    return rule.status
        return None

    def _take_delay(self, request: Request) -> float | None:
        with self._lock:
            for rule in self._state.delays:
                if rule.remaining <= 0 or (rule.method and rule.method != request.method):
                    continue
                if rule.pattern.search(request.path):
                    rule.remaining -= 1
                    return rule.seconds
        return None

    def _log(self, request: Request, authorized: bool, status: int) -> None:
        entry = {
            "method": request.method,
            "path": request.path,
            "query": _first_values(request.args),
            "form": _first_values(request.form),
            "form_multi": request.form.to_dict(flat=False),
            "authorized": authorized,
            "status": status,
        }
        with self._lock:
            self._state.requests.append(entry)

    def _build_routes(self) -> list[_Route]:
        acct = rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)"
        media = r"/Recordings/(?P<sid>RE[0-9a-fA-F]+)(?P<ext>\.json|\.wav|\.mp3)?$"
        table: list[tuple[str, dict[str, Callable[..., Response]], bool]] = [
            (acct + r"\.json$", {"GET": self._fetch_account}, True),
            (acct + r"/Calls\.json$", {"GET": self._list_calls, "POST": self._create_call}, True),
            (
                acct + r"/Calls/(?P<sid>CA[0-9a-fA-F]+)\.json$",
                {"GET": self._fetch_call, "POST": self._update_call},
                True,
            ),
            (
                acct + r"/Calls/(?P<call_sid>CA[0-9a-fA-F]+)/Recordings\.json$",
                {"GET": self._list_recordings},
                True,
            ),
            (
                acct + r"/Messages\.json$",
                {"GET": self._list_messages, "POST": self._create_message},
                True,
            ),
            (
                acct + r"/Messages/(?P<sid>(SM|MM)[0-9a-fA-F]+)\.json$",
                {"GET": self._fetch_message},
                True,
            ),
            (acct + r"/Recordings\.json$", {"GET": self._list_recordings}, True),
            (acct + media, {"GET": self._recording, "DELETE": self._delete_recording}, True),
            (r"^/media" + media[len("/Recordings") :], {"GET": self._redirected_media}, False),
        ]
        return [_Route(re.compile(p), handlers, auth) for p, handlers, auth in table]

    # --------------------------------------------------------------- account
    def _fetch_account(self, request: Request) -> Response:
        """Our own account, as the set-up check fetches it to prove the credentials."""
        return _json(
            {
                "sid": self.account_sid,
                "friendly_name": "Hotline test account",
                "status": "active",
                "type": "Full",
                "uri": f"/{API_VERSION}/Accounts/{self.account_sid}.json",
            }
        )

    # --------------------------------------------------------------- calls
    def _create_call(self, request: Request) -> Response:
        form = request.form
        missing = _missing_call_param(form)
        if missing is not None:
            return twilio_error(400, missing[1], missing[0])
        call = self._call_resource(form)
        with self._lock:
            self._state.calls[call["sid"]] = call
        response = _json(_public(call), 201)
        self._schedule_hook(response, self.on_call_created, call)
        return response

    def _call_resource(self, form: MultiDict[str, str], sid: str | None = None) -> dict[str, Any]:
        sid, now = sid or new_sid("CA"), rfc2822_now()
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}"
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": form["From"],
            "from_formatted": form["From"],
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {
                "recordings": f"{base}/Recordings.json",
                "notifications": f"{base}/Notifications.json",
            },
            "to": form["To"],
            "to_formatted": form["To"],
            "trunk_sid": None,
            "uri": f"{base}.json",
            "request": _first_values(form),
            "status_callback_event": _split_events(form.getlist("StatusCallbackEvent")),
        }

    def _fetch_call(self, request: Request, sid: str) -> Response:
        with self._lock:
            call = self._state.calls.get(sid)
            body = None if call is None else _public(call)
        if body is None:
            return twilio_error(404, f"The requested resource {request.path} was not found")
        return _json(body)

    def _update_call(self, request: Request, sid: str) -> Response:
        updates = {"status": request.form.get("Status")}
        with self._lock:
            call = self._state.calls.get(sid)
            if call is None:
                return twilio_error(404, f"The requested resource {request.path} was not found")
            call["request"].update(_first_values(request.form))
            call.update({k: v for k, v in updates.items() if v})
            call["date_updated"] = rfc2822_now()
            return _json(_public(call))

    def _list_calls(self, request: Request) -> Response:
        filters = {"to": request.args.get("To"), "from": request.args.get("From")}
        filters["status"] = request.args.get("Status")
        with self._lock:
            items = [_public(c) for c in self._state.calls.values() if _matches(c, filters)]
        return _json(_page(request, "calls", items))

    # ------------------------------------------------------------ messages
    def _create_message(self, request: Request) -> Response:
        form = request.form
        missing = _missing_message_param(form)
        if missing is not None:
            return twilio_error(400, missing[1], missing[0])
        message = self._message_resource(form["To"], form.get("From"), form.get("Body", ""))
        message["messaging_service_sid"] = form.get("MessagingServiceSid")
        message["num_media"] = str(len(form.getlist("MediaUrl")))
        if not form.get("From"):
            message["status"] = "accepted"
        message["request"] = _first_values(form)
        with self._lock:
            self._state.messages[message["sid"]] = message
        response = _json(_public(message), 201)
        self._schedule_hook(response, self.on_message_created, message)
        return response

    def _message_resource(
        self, to: str, from_: str | None, body: str, sid: str | None = None
    ) -> dict[str, Any]:
        sid, now = sid or new_sid("SM"), rfc2822_now()
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(num_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": to,
            "uri": f"{base}.json",
        }

    def _fetch_message(self, request: Request, sid: str) -> Response:
        with self._lock:
            message = self._state.messages.get(sid)
            body = None if message is None else _public(message)
        if body is None:
            return twilio_error(404, f"The requested resource {request.path} was not found")
        return _json(body)

    def _list_messages(self, request: Request) -> Response:
        filters = {"to": request.args.get("To"), "from": request.args.get("From")}
        with self._lock:
            items = [_public(m) for m in self._state.messages.values() if _matches(m, filters)]
        return _json(_page(request, "messages", items))

    # ---------------------------------------------------------- recordings
    def _recording_resource(
        self, sid: str, call_sid: str, duration: int, source: str
    ) -> dict[str, Any]:
        now = rfc2822_now()
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": call_sid,
            "channels": 1,
            "conference_sid": None,
            "date_created": now,
            "date_updated": now,
            "duration": str(duration),
            "encryption_details": None,
            "error_code": None,
            "media_url": f"{TWILIO_API_BASE}{base}",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "source": source,
            "start_time": now,
            "status": "completed",
            "subresource_uris": {
                "add_on_results": f"{base}/AddOnResults.json",
                "transcriptions": f"{base}/Transcriptions.json",
            },
            "uri": f"{base}.json",
        }

    def _list_recordings(self, request: Request, call_sid: str | None = None) -> Response:
        """Filtered by CallSid and by creation time (``DateCreated>``, ``DateCreated<``: on
        or after, on or before; a date or an ISO 8601 time in GMT), as Twilio filters."""
        wanted = call_sid or request.args.get("CallSid")
        after = _time_filter(request.args.get("DateCreated>"))
        before = _time_filter(request.args.get("DateCreated<"))
        with self._lock:
            items = [
                dict(r.resource)
                for r in self._state.recordings.values()
                if (wanted is None or r.call_sid == wanted)
                and _created_within(r.resource, after, before)
            ]
        return _json(_page(request, "recordings", items))

    def _recording(self, request: Request, sid: str, ext: str | None) -> Response:
        with self._lock:
            rec = self._state.recordings.get(sid)
        if rec is None:
            return twilio_error(404, f"The requested resource {request.path} was not found")
        if ext == ".json":
            return _json(dict(rec.resource))
        if self.media_redirect:
            return Response(
                status=302, headers={"Location": f"{self.base_url}/media/{sid}{ext or ''}"}
            )
        return _media_response(request, rec, ext)

    def _redirected_media(self, request: Request, sid: str, ext: str | None) -> Response:
        with self._lock:
            rec = self._state.recordings.get(sid)
        if rec is None or ext == ".json":
            return twilio_error(404, f"The requested resource {request.path} was not found")
        return _media_response(request, rec, ext)

    def _delete_recording(self, request: Request, sid: str, ext: str | None) -> Response:
        with self._lock:
            removed = self._state.recordings.pop(sid, None)
        if removed is None or ext not in (None, ".json"):
            return twilio_error(404, f"The requested resource {request.path} was not found")
        return Response(status=204)

    # --------------------------------------------------------------- hooks
    def _schedule_hook(
        self, response: Response, hook: CallHook | None, resource: dict[str, Any]
    ) -> None:
        """Run ``hook`` once the response has been sent, as Twilio acts after answering 201."""
        if hook is None:
            return
        with self._lock:
            self._state.pending_hooks += 1
            snapshot = copy.deepcopy(resource)
        response.call_on_close(lambda: self._run_hook(hook, snapshot))

    def _run_hook(self, hook: CallHook, resource: dict[str, Any]) -> None:
        try:
            hook(resource)
        except BaseException as exc:  # reported through hook_errors
            with self._lock:
                self._state.hook_errors.append(exc)
        finally:
            with self._hooks_done:
                self._state.pending_hooks -= 1
                self._hooks_done.notify_all()


# ------------------------------------------------------------------ helpers
def _public(resource: dict[str, Any]) -> dict[str, Any]:
    """The JSON Twilio would return: the resource without the double's own keys."""
    return {k: v for k, v in resource.items() if k not in ("request", "status_callback_event")}


def _time_filter(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _created_within(
    resource: dict[str, Any], after: datetime | None, before: datetime | None
) -> bool:
    created = parsedate_to_datetime(resource["date_created"])
    return (after is None or created >= after) and (before is None or created <= before)


def _matches(resource: dict[str, Any], filters: dict[str, str | None]) -> bool:
    return all(value is None or resource.get(key) == value for key, value in filters.items())


def _page(request: Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of a list, newest first, in Twilio's 2010-04-01 page format."""
    size = max(1, min(1000, int(request.args.get("PageSize", 50))))
    number = max(0, int(request.args.get("Page", 0)))
    items = list(reversed(items))
    start = number * size
    chunk = items[start : start + size]

    def uri(page: int) -> str:
        return f"{request.path}?PageSize={size}&Page={page}"

    return {
        key: chunk,
        "end": start + max(len(chunk) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(number + 1) if start + size < len(items) else None,
        "page": number,
        "page_size": size,
        "previous_page_uri": uri(number - 1) if number > 0 else None,
        "start": start,
        "uri": uri(number),
    }


def _missing_call_param(form: MultiDict[str, str]) -> tuple[int, str] | None:
    if not form.get("To"):
        return 21201, "No 'To' number is specified"
    if not form.get("From"):
        return 21213, "No 'From' number is specified"
    if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
        return 21205, "Url parameter is required."
    return None


def _missing_message_param(form: MultiDict[str, str]) -> tuple[int, str] | None:
    if not form.get("To"):
        return 21604, "A 'To' phone number is required."
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return 21603, "A 'From' phone number is required."
    if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
        return 21602, "Message body is required."
    return None


def _is_media(match: re.Match[str]) -> bool:
    groups = match.groupdict()
    return "ext" in groups and groups["ext"] != ".json"


def _media_response(request: Request, rec: _Recording, ext: str | None) -> Response:
    """The media body of a recording, honouring its fault."""
    if rec.fault == "not-found" or (ext == ".mp3" and rec.mp3 is None):
        return twilio_error(404, f"The requested resource {request.path} was not found")
    body, content_type = (rec.mp3, "audio/mpeg") if ext == ".mp3" else (rec.wav, rec.content_type)
    assert body is not None
    if rec.fault == "zero-bytes":
        return Response(b"", content_type=content_type)
    if rec.fault == "truncated":
        return Response(body[: len(body) // 2], content_type=content_type)
    if rec.fault == "short-read":
        return _short_read(body, content_type)
    return Response(body, content_type=content_type)


def _short_read(body: bytes, content_type: str) -> Response:
    """Announce the full length, send half, then close the connection."""
    headers = {"Content-Length": str(len(body)), "Connection": "close"}
    return Response(
        iter([body[: len(body) // 2]]),
        content_type=content_type,
        headers=headers,
        direct_passthrough=True,
    )
