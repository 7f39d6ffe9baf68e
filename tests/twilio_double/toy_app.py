"""A throwaway Flask IVR used to exercise the Twilio double and simulator.

It is deliberately small and unlike the hotline: every route returns fixed
TwiML chosen to hit one simulator rule, and every request is checked with
``RequestValidator`` against the *public* URL and logged, so tests can assert
what Twilio sent and whether the signature was right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

TWILIO_API = "https://api.twilio.com"


@dataclass
class Hit:
    """One request the app received."""

    path: str
    url: str
    form: dict[str, str]
    query: dict[str, str]
    signature_valid: bool
    headers: dict[str, str] = field(default_factory=dict)


def twiml(body: str) -> Response:
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
        200,
        {"Content-Type": "text/xml"},
    )


def make_app(public_base_url: str, auth_token: str, account_sid: str) -> Flask:
    """Build the toy app; ``app.config['HITS']`` logs requests, ``['DOWNLOADS']`` media fetches."""
    app = Flask(__name__)
    app.config.update(
        HITS=[], DOWNLOADS=[], STRICT=False, TWILIO_API_BASE=None, ACCOUNT=(account_sid, auth_token)
    )
    validator = RequestValidator(auth_token)

    @app.before_request
    def check_signature() -> Response | None:
        query = request.query_string.decode()
        url = public_base_url + request.path + (f"?{query}" if query else "")
        valid = validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", ""))
        hit = Hit(request.path, url, request.form.to_dict(), request.args.to_dict(), valid)
        hit.headers = dict(request.headers)
        app.config["HITS"].append(hit)
        if app.config["STRICT"] and not valid:
            return Response("bad signature", 403)
        return None

    def download(recording_url: str) -> None:
        base = app.config["TWILIO_API_BASE"]
        url = recording_url.replace(TWILIO_API, base) if base else recording_url
        with requests.Session() as session:
            session.trust_env = False
            got = session.get(url + ".wav", auth=app.config["ACCOUNT"], timeout=5)
        app.config["DOWNLOADS"].append((request.path, got.status_code, got.content))

    @app.post("/voice")
    def voice() -> Response:
        return twiml(
            '<Gather numDigits="1" action="menu?lang=ko" timeout="3">'
            '<Say voice="Polly.Seoyeon" language="ko-KR">Press <break time="1s"/>'
            '<prosody rate="slow">one</prosody> to record</Say><Play>/prompts/beep.wav</Play>'
            "</Gather><Say>We did not receive any input</Say><Hangup/>"
        )

    @app.post("/blocked")
    def blocked() -> Response:
        return twiml('<Reject reason="busy"/><Say>unreachable</Say>')

    @app.post("/ivr/start")
    def ivr_start() -> Response:
        return twiml('<Gather finishOnKey="*" action="../menu"><Pause length="2"/></Gather>')

    @app.post("/menu")
    def menu() -> Response:
        choice = request.form.get("Digits", "")
        if choice == "5":
            return Response("boom", 500)
        if choice == "6":
            return Response("this is not TwiML", 200, {"Content-Type": "text/plain"})
        return twiml(MENU.get(choice, "<Say>Unknown choice</Say><Redirect>/voice</Redirect>"))

    @app.post("/empty-ok")
    def empty_ok() -> Response:
        return twiml('<Gather actionOnEmptyResult="true" action="/menu"/><Say>unreachable</Say>')

    @app.route("/by-get", methods=["GET", "POST"])
    def by_get() -> Response:
        if request.method == "GET":
            return twiml(f"<Say>GET digits {request.args.get('Digits')}</Say>")
        return twiml('<Gather method="GET" action="/by-get?step=2" numDigits="2"/>')

    @app.post("/recorded")
    def recorded() -> Response:
        if app.config.get("DOWNLOAD_IN_ACTION"):
            download(request.form["RecordingUrl"])
        return twiml(f"<Say>Recorded {request.form.get('RecordingDuration')} seconds</Say>")

    @app.post("/recording-status")
    def recording_status() -> Response:
        if request.form.get("RecordingStatus") == "completed":
            download(request.form["RecordingUrl"])
        return Response("", 204)

    @app.post("/dial-done")
    def dial_done() -> Response:
        return twiml(f"<Say>Dial {request.form['DialCallStatus']}</Say>")

    @app.post("/loop")
    def loop() -> Response:
        return twiml("<Pause/><Redirect>loop</Redirect>")

    @app.post("/status")
    def status() -> Response:
        return Response("", 204)

    @app.post("/outbound")
    def outbound() -> Response:
        return twiml(
            f"<Say>Hello {request.form.get('AnsweredBy', 'nobody')}</Say>"
            '<Gather numDigits="1" action="/menu"/>'
        )

    @app.post("/sms")
    def sms() -> Response:
        body = request.form["Body"]
        return twiml(f"<Message>Echo: {body}</Message><Message><Body>bye</Body></Message>")

    return app


MENU = {
    "1": (
        "<Say>Leave a message after the beep</Say>"
        '<Record action="/recorded" finishOnKey="#" trim="do-not-trim" timeout="2" '
        'maxLength="20" recordingStatusCallback="/recording-status"/>'
        "<Say>No message recorded</Say>"
    ),
    "2": (
        '<Dial action="/dial-done" timeout="10" callerId="+8610123456">'
        "<Number>+8613911111111</Number></Dial>"
    ),
    "3": "<Dial>+8613922222222</Dial><Say>After dial</Say>",
    "4": '<Record action="/recorded" timeout="2"/><Say>Silence was trimmed</Say>',
    "7": "<Foo/>",
    "8": '<Reject reason="busy"/>',
    "9": "<Redirect>/loop</Redirect>",
}
