"""Callers on the line while a fault strikes, and what each of them heard.

Twilio is played by the call simulator over HTTP, one simulator per caller, each call in a
thread of its own. A call "in progress" when the fault strikes is held before its second
request (the menu choice) until the test releases it, after the fault.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, ON_DUTY, PUBLIC_URL
from twilio_double.rest import TwilioRestDouble
from twilio_double.results import CallResult
from twilio_double.script import CallerAction, Press, Speak
from twilio_double.simulator import CallSimulator
from twilio_double.transport import HttpTransport, WireResponse

# Requests after which Twilio only notes the answer (a 5xx loses what they carried); every
# other request fetches TwiML, which the caller hears.
CALLBACK_KINDS = ("recording-status", "status")
TWILIO_SAY_DEFAULT = "en-US"  # what Twilio speaks in a <Say> without a language
HOLD_TIMEOUT_S = 120


@dataclass(frozen=True)
class Answer:
    """What the hotline answered one webhook."""

    path: str
    status: int
    content_type: str
    body: bytes


class ObservedTransport:
    """HTTP to the hotline, keeping every answer. With `release`, the call waits before its
    request after the first `hold_after` until `release` is set: the fault strikes mid-call."""

    def __init__(
        self, base_url: str, release: threading.Event | None = None, hold_after: int = 0
    ) -> None:
        self.inner = HttpTransport(base_url)
        self.release = release
        self.hold_after = hold_after
        self.holding = threading.Event()
        self.answers: list[Answer] = []

    def request(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> WireResponse:
        if self.release is not None and len(self.answers) >= self.hold_after:
            self.holding.set()
            if not self.release.wait(HOLD_TIMEOUT_S):
                raise TimeoutError("the held call was never released")
        response = self.inner.request(method, url, params, headers)
        content_type = response.headers.get("Content-Type", "")
        path = url.removeprefix(PUBLIC_URL)
        self.answers.append(Answer(path, response.status, content_type, response.body))
        return response

    def close(self) -> None:
        self.inner.close()


@dataclass(frozen=True)
class Caller:
    """Who calls, what they want, and the language they should hear (their own as a known
    resident, else the centre's)."""

    label: str
    phone: str
    language: str
    wants: Literal["voicemail", "emergency"]
    speech: Path | bytes = b""

    def script(self) -> list[CallerAction]:
        if self.wants == "emergency":
            return [Press("9")]
        return [Press("1"), Speak(self.speech), Press("#")]


@dataclass
class PlacedCall:
    caller: Caller
    transport: ObservedTransport
    thread: threading.Thread | None = None
    result: CallResult | None = None
    error: BaseException | None = None
    during_fault_from: int = 0  # the first answer given while the fault lasted

    def wait(self, timeout: float = HOLD_TIMEOUT_S) -> None:
        assert self.thread is not None
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TimeoutError(f"{self.caller.label}: the call did not end")


def place_call(
    base_url: str,
    rest: TwilioRestDouble,
    caller: Caller,
    release: threading.Event | None = None,
) -> PlacedCall:
    """Start the call in a thread; with `release`, it is held after its first answer."""
    transport = ObservedTransport(base_url, release, hold_after=1)
    placed = PlacedCall(caller, transport, during_fault_from=1 if release else 0)
    simulator = CallSimulator(
        transport,
        public_base_url=PUBLIC_URL,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )

    def run() -> None:
        try:
            placed.result = simulator.call(
                from_=caller.phone, to=HOTLINE_NUMBER, script=caller.script(), url="/ivr/incoming"
            )
        except BaseException as error:  # reported with the caller's other problems
            placed.error = error
        finally:
            simulator.close()

    placed.thread = threading.Thread(target=run, name=caller.label, daemon=True)
    placed.thread.start()
    return placed


def recordings_of(call: PlacedCall) -> list[str]:
    """The SIDs of the recordings the caller made."""
    return call.result.recordings if call.result is not None else []


def what_went_wrong(call: PlacedCall, default_locale: str) -> list[str]:
    """Everything this caller should not have met during the fault, in words."""
    label = call.caller.label
    if call.error is not None or call.result is None:
        return [f"{label}: the simulated call broke: {call.error!r}"]
    result = call.result
    problems = [f"{label}: {p}" for p in _bad_answers(call, result)]
    allowed = {call.caller.language, default_locale}
    heard = _say_languages(call.transport.answers[call.during_fault_from :])
    if not heard and result.application_error is None:
        problems.append(f"{label}: heard no <Say> at all while the fault lasted")
    for language in sorted(set(heard) - allowed):
        problems.append(f"{label}: heard a <Say> in {language}, not in {sorted(allowed)}")
    if result.application_error is not None:
        error = result.application_error
        problems.append(
            f"{label}: Twilio says 'an application error has occurred' "
            f"({error.url.removeprefix(PUBLIC_URL)}: {error.reason})"
        )
    if call.caller.wants == "emergency" and ON_DUTY not in result.dialed:
        problems.append(f"{label}: pressed 9 and nobody was dialled (dialled {result.dialed})")
    if call.caller.wants == "voicemail" and len(result.recordings) != 1:
        problems.append(f"{label}: could not leave the message ({len(result.recordings)} made)")
    return problems


def _bad_answers(call: PlacedCall, result: CallResult) -> list[str]:
    answers = call.transport.answers
    delivered = [r for r in result.requests if r.status != 0 or r.body != "not delivered"]
    if len(delivered) != len(answers):
        return [f"{len(result.requests)} requests but {len(answers)} answers"]
    problems = []
    for request, answer in list(zip(delivered, answers, strict=True))[call.during_fault_from :]:
        if request.kind in CALLBACK_KINDS:
            if not 200 <= answer.status < 300:
                problems.append(f"{answer.path} ({request.kind}) answered {answer.status}")
        elif answer.status != 200 or "xml" not in answer.content_type:
            shown = answer.body[:80].decode("utf-8", "replace")
            problems.append(
                f"{answer.path} answered {answer.status} {answer.content_type}: {shown!r}"
            )
    return problems


def _say_languages(answers: list[Answer]) -> list[str]:
    """The language of every <Say> in the TwiML of these answers."""
    languages = []
    for answer in answers:
        if answer.status != 200 or "xml" not in answer.content_type:
            continue
        try:
            root = ET.fromstring(answer.body)
        except ET.ParseError:
            continue
        languages += [say.get("language") or TWILIO_SAY_DEFAULT for say in root.iter("Say")]
    return languages


def leaves_message(label: str, phone: str, speech: Path | bytes, language: str) -> Caller:
    return Caller(label, phone, language, "voicemail", speech)


def presses_nine(label: str, phone: str, language: str) -> Caller:
    return Caller(label, phone, language, "emergency")
