"""The call simulator against the toy app, over both transports (WSGI and HTTP)."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest
from flask import Flask
from twilio.rest import Client

from tests.twilio_double.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC
from twilio_double.rest import TwilioRestDouble, close_client, make_client
from twilio_double.server import ServerThread
from twilio_double.simulator import (
    ApplicationErrorRaised,
    CallSimulator,
    Hangup,
    HttpTransport,
    Press,
    RunawayCallError,
    Silence,
    Speak,
    SpeakThenHangup,
    WsgiTransport,
)
from twilio_double.transport import Transport

CALLER, HOTLINE = "+8613800000001", "+8610123456"


def tone_wav(seconds: float, rate: int = 16000) -> bytes:
    """A 440 Hz tone, 16-bit mono, at ``rate`` (not the 8 kHz Twilio records at)."""
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def wav_info(data: bytes) -> tuple[int, float]:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getframerate(), w.getnframes() / w.getframerate()


def test_gather_falls_through_on_silence(sim: CallSimulator, app: Flask) -> None:
    result = sim.call(CALLER, HOTLINE, [Silence()], url="/voice")

    assert result.said == ["Press one to record", "We did not receive any input"]
    assert result.says[0].voice == "Polly.Seoyeon" and result.says[0].language == "ko-KR"
    assert result.played == [f"{PUBLIC}/prompts/beep.wav"]
    assert [g.outcome for g in result.gathers] == ["timeout"]
    assert [r.kind for r in result.requests] == ["voice"]
    assert result.hung_up_by == "app" and result.final_status == "completed"


def test_the_timeline_tells_prompts_a_key_cuts_short_from_the_others(
    sim: CallSimulator, app: Flask
) -> None:
    result = sim.call(CALLER, HOTLINE, [Silence()], url="/voice")

    [inside, after] = result.says
    assert inside.in_gather and not after.in_gather
    assert result.gathers[0].timeout == 3
    assert result.timeline == [inside, result.gathers[0], after]


def test_digits_posted_to_relative_action_with_valid_signatures(
    sim: CallSimulator, app: Flask
) -> None:
    result = sim.call(CALLER, HOTLINE, [Press("3")], url="/voice")

    hits = app.config["HITS"]
    assert [h.path for h in hits] == ["/voice", "/menu"]
    assert hits[1].url == f"{PUBLIC}/menu?lang=ko"
    assert hits[1].form["Digits"] == "3" and hits[1].query == {"lang": "ko"}
    assert all(h.signature_valid for h in hits)
    assert [h.form["CallStatus"] for h in hits] == ["ringing", "in-progress"]
    first = hits[0].form
    assert first["Direction"] == "inbound" and first["ApiVersion"] == "2010-04-01"
    assert first["From"] == first["Caller"] == CALLER and first["FromCountry"] == "CN"
    assert first["AccountSid"] == ACCOUNT_SID and first["CallSid"] == result.call_sid
    assert result.said[-1] == "After dial"


def test_parent_relative_action_and_finish_key_alone_falls_through(
    sim: CallSimulator, app: Flask
) -> None:
    result = sim.call(CALLER, HOTLINE, [Press("*")], url="/ivr/start")
    assert [g.outcome for g in result.gathers] == ["finish-key"]
    assert result.gathers[0].action == f"{PUBLIC}/menu"
    assert len(app.config["HITS"]) == 1

    sim.call(CALLER, HOTLINE, [Press("12*")], url="/ivr/start")
    (posted,) = [h for h in app.config["HITS"] if h.path == "/menu"]
    assert posted.form["Digits"] == "12" and posted.form["FinishedOnKey"] == "*"


def test_action_on_empty_result_posts_without_digits(sim: CallSimulator, app: Flask) -> None:
    result = sim.call(CALLER, HOTLINE, [], url="/empty-ok")
    assert "Digits" not in app.config["HITS"][-1].form
    assert result.said == ["Unknown choice", "Press one to record", "We did not receive any input"]


def test_get_method_carries_params_in_signed_query(sim: CallSimulator, app: Flask) -> None:
    result = sim.call(CALLER, HOTLINE, [Press("42")], url="/by-get")
    hit = app.config["HITS"][-1]
    assert hit.query["step"] == "2" and hit.query["Digits"] == "42" and hit.form == {}
    assert hit.signature_valid
    assert result.said == ["GET digits 42"]


def test_record_posts_action_and_status_callback_with_downloadable_media(
    sim: CallSimulator, app: Flask, rest: TwilioRestDouble
) -> None:
    clip = tone_wav(3.0)
    result = sim.call(CALLER, HOTLINE, [Press("1"), Speak(clip), Press("#")], url="/voice")

    (sid,) = result.recordings
    action = result.requests_of("record")[0].params
    assert action["RecordingSid"] == sid and action["Digits"] == "#"
    assert (
        action["RecordingUrl"]
        == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}"
    )
    assert action["RecordingDuration"] == "3"
    status = result.requests_of("recording-status")[0].params
    assert status["RecordingStatus"] == "completed" and status["RecordingSource"] == "RecordVerb"
    assert status["RecordingSid"] == sid and status["CallSid"] == result.call_sid
    kinds = [r.kind for r in result.requests]
    assert kinds == ["voice", "gather", "record", "recording-status"]
    assert result.said[-1] == "Recorded 3 seconds"
    (download,) = app.config["DOWNLOADS"]
    assert download[1] == 200
    assert wav_info(download[2]) == (8000, 3.0)
    assert download[2] == rest.recording_media(sid)


def test_record_silence_with_trim_skips_action_but_do_not_trim_keeps_it(
    sim: CallSimulator, app: Flask
) -> None:
    trimmed = sim.call(CALLER, HOTLINE, [Press("4"), Silence()], url="/voice")
    assert trimmed.record_events[0].empty and trimmed.recordings == []
    assert trimmed.said[-1] == "Silence was trimmed"
    assert "record" not in [r.kind for r in trimmed.requests]

    kept = sim.call(CALLER, HOTLINE, [Press("1"), Silence()], url="/voice")
    assert (
        kept.record_events[0].duration == 2 and "Digits" not in kept.requests_of("record")[0].params
    )
    assert kept.said[-1] == "Recorded 2 seconds"


def test_caller_hangs_up_during_record(sim: CallSimulator, app: Flask) -> None:
    result = sim.call(CALLER, HOTLINE, [Press("1"), SpeakThenHangup(tone_wav(1.0))], url="/voice")
    action = result.requests_of("record")[0].params
    assert action["Digits"] == "hangup" and action["CallStatus"] == "completed"
    assert result.requests_of("recording-status")
    assert result.hung_up_by == "caller" and result.said[-1] == "Leave a message after the beep"

    early = sim.call(CALLER, HOTLINE, [Press("1"), Hangup()], url="/voice")
    assert early.record_events[0].empty and not early.requests_of("record")


def test_duplicate_and_early_recording_status_callbacks(
    transport: Transport, rest: TwilioRestDouble, app: Flask
) -> None:
    sim = CallSimulator(
        transport,
        public_base_url=PUBLIC,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
        recording_status_repeats=3,
        recording_status_first=True,
    )
    result = sim.call(CALLER, HOTLINE, [Press("1"), Speak(tone_wav(1.0)), Press("#")], url="/voice")
    kinds = [r.kind for r in result.requests]
    assert kinds == ["voice", "gather"] + ["recording-status"] * 3 + ["record"]
    tokens = {h.headers["I-Twilio-Idempotency-Token"] for h in app.config["HITS"][2:5]}
    assert len(tokens) == 1
    assert len(app.config["DOWNLOADS"]) == 3


def test_recording_not_ready_until_status_callback(
    transport: Transport, rest: TwilioRestDouble, app: Flask
) -> None:
    app.config["DOWNLOAD_IN_ACTION"] = True
    sim = CallSimulator(
        transport,
        public_base_url=PUBLIC,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
        recording_ready="at-status-callback",
    )
    sim.call(CALLER, HOTLINE, [Press("1"), Speak(tone_wav(1.0)), Press("#")], url="/voice")
    assert [(path, status) for path, status, _ in app.config["DOWNLOADS"]] == [
        ("/recorded", 404),
        ("/recording-status", 200),
    ]


def test_dial_outcomes(sim: CallSimulator, app: Flask) -> None:
    sim.dial_outcomes = {"+8613911111111": "busy"}
    busy = sim.call(CALLER, HOTLINE, [Press("2")], url="/voice")
    assert busy.dials[0].status == "busy" and busy.dials[0].caller_id == HOTLINE
    assert app.config["HITS"][-1].form["DialCallStatus"] == "busy"
    assert busy.said[-1] == "Dial busy"

    answered = sim.call(CALLER, HOTLINE, [Press("3")], url="/voice")
    assert answered.dialed == ["+8613922222222"] and answered.said[-1] == "After dial"


def test_runaway_loop_is_capped(sim: CallSimulator) -> None:
    sim.max_documents = 8
    with pytest.raises(RunawayCallError) as caught:
        sim.call(CALLER, HOTLINE, [Press("9")], url="/voice")
    assert caught.value.result.documents == 9


@pytest.mark.parametrize(
    ("digit", "status", "reason"),
    [("5", 500, "HTTP 500"), ("6", 200, "document parse failure"), ("7", None, "unknown verb")],
)
def test_application_errors_end_the_call(
    sim: CallSimulator, digit: str, status: int | None, reason: str
) -> None:
    result = sim.call(CALLER, HOTLINE, [Press(digit)], url="/voice")
    error = result.application_error
    assert error is not None and error.status == status and error.reason.startswith(reason)
    assert result.hung_up_by == "app" and result.final_status == "completed"
    with pytest.raises(ApplicationErrorRaised):
        result.raise_for_error()


@pytest.mark.parametrize("forge", [False, True])
def test_bad_signatures_are_rejected_by_a_strict_app(
    sim: CallSimulator, app: Flask, forge: bool
) -> None:
    app.config["STRICT"] = True
    sim.signing = "forged" if forge else "omit"
    result = sim.call(CALLER, HOTLINE, [], url="/voice")
    assert result.application_error is not None and result.application_error.status == 403
    assert not app.config["HITS"][0].signature_valid


def test_reject_as_first_verb_is_busy(sim: CallSimulator, rest: TwilioRestDouble) -> None:
    result = sim.call(CALLER, HOTLINE, [], url="/blocked", status_callback="/status")
    assert result.final_status == "busy" and result.said == []
    status = result.requests_of("status")[0].params
    assert status["CallStatus"] == "busy" and "CallDuration" not in status
    assert rest.get_call(result.call_sid)["status"] == "busy"


def test_status_callback_reports_duration(sim: CallSimulator, rest: TwilioRestDouble) -> None:
    result = sim.call(CALLER, HOTLINE, [Silence()], url="/voice", status_callback="/status")
    status = result.requests_of("status")[0].params
    assert status["CallStatus"] == "completed"
    assert status["CallDuration"] == str(result.duration) and result.duration >= 3
    assert rest.get_call(result.call_sid)["duration"] == str(result.duration)


def test_outbound_call_answered_through_hook(
    sim: CallSimulator, rest: TwilioRestDouble, app: Flask
) -> None:
    results = []
    rest.on_call_created = lambda call: results.append(
        sim.answer(call, [Press("3")], answered_by="machine_start")
    )
    client = make_client(rest.base_url, ACCOUNT_SID, AUTH_TOKEN)
    try:
        call = client.calls.create(
            to=CALLER,
            from_=HOTLINE,
            url=f"{PUBLIC}/outbound",
            status_callback=f"{PUBLIC}/status",
            status_callback_event=["answered", "completed"],
            machine_detection="Enable",
        )
    finally:
        close_client(client)
    rest.wait_for_hooks()

    assert rest.hook_errors == []
    (result,) = results
    assert result.call_sid == call.sid and result.said == ["Hello machine_start", "After dial"]
    first = app.config["HITS"][0].form
    assert first["Direction"] == "outbound-api" and first["CallStatus"] == "in-progress"
    statuses = [r.params["CallStatus"] for r in result.requests_of("status")]
    assert statuses == ["in-progress", "completed"]
    assert rest.get_call(call.sid)["status"] == "completed"
    assert rest.get_call(call.sid)["answered_by"] == "machine_start"


def test_outbound_no_answer_sends_only_status(
    sim: CallSimulator, client: Client, rest: TwilioRestDouble
) -> None:
    call = client.calls.create(
        to=CALLER, from_=HOTLINE, url=f"{PUBLIC}/outbound", status_callback=f"{PUBLIC}/status"
    )
    result = sim.answer(rest.get_call(call.sid), outcome="no-answer")
    assert [r.params["CallStatus"] for r in result.requests] == ["no-answer"]
    assert rest.get_call(call.sid)["status"] == "no-answer"


def test_sms_reply_and_message_status(
    sim: CallSimulator, client: Client, rest: TwilioRestDouble, app: Flask
) -> None:
    result = sim.send_sms(CALLER, HOTLINE, "안녕하세요", url="/sms")
    assert [r.body for r in result.replies] == ["Echo: 안녕하세요", "bye"]
    hit = app.config["HITS"][-1]
    assert (
        hit.signature_valid
        and hit.form["NumSegments"] == "1"
        and hit.form["SmsStatus"] == "received"
    )
    replies = [m for m in rest.messages if m["direction"] == "outbound-reply"]
    assert [m["to"] for m in replies] == [CALLER, CALLER]

    sent = client.messages.create(
        to=CALLER, from_=HOTLINE, body="hi", status_callback=f"{PUBLIC}/status"
    )
    (message,) = [m for m in rest.messages if m["sid"] == sent.sid]
    delivered = sim.deliver_message_status(message, "delivered")
    assert delivered is not None and delivered.status == 204
    assert app.config["HITS"][-1].form["MessageStatus"] == "delivered"
    assert client.messages(sent.sid).fetch().status == "delivered"


def test_wsgi_proxy_rewriting_host_still_validates_public_url(
    app: Flask, rest: TwilioRestDouble
) -> None:
    sim = CallSimulator(
        WsgiTransport(app, base_url="http://app.internal:8080"),
        public_base_url=PUBLIC,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )
    sim.call(CALLER, HOTLINE, [Press("3")], url="/voice")
    assert all(h.signature_valid for h in app.config["HITS"])


def test_caller_hangs_up_at_a_gather(sim: CallSimulator, app: Flask) -> None:
    result = sim.call(CALLER, HOTLINE, [Hangup()], url="/voice", status_callback="/status")
    assert result.hung_up_by == "caller" and result.gathers[0].outcome == "hangup"
    assert [r.kind for r in result.requests] == ["voice", "status"]
    assert result.said == ["Press one to record"]


def test_inline_twiml_call_with_max_length_cut(
    sim: CallSimulator, client: Client, rest: TwilioRestDouble, app: Flask
) -> None:
    twiml = (
        '<Response><Record maxLength="2" action="/recorded" trim="do-not-trim"/>'
        "<Say>unreachable</Say></Response>"
    )
    call = client.calls.create(to=CALLER, from_=HOTLINE, twiml=twiml)
    result = sim.answer(rest.get_call(call.sid), [Speak(tone_wav(5.0)), Press("#")])
    action = result.requests_of("record")[0].params
    assert action["RecordingDuration"] == "2" and "Digits" not in action
    assert result.said == ["Recorded 2 seconds"]
    assert wav_info(rest.recording_media(result.recordings[0])) == (8000, 2.0)


def test_unreachable_app_is_an_application_error(rest: TwilioRestDouble) -> None:
    with ServerThread(Flask("gone")) as server:
        target = server.base_url
    sim = CallSimulator(
        HttpTransport(target, timeout=2),
        public_base_url=PUBLIC,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        raise_on_app_error=True,
    )
    try:
        with pytest.raises(ApplicationErrorRaised, match="no HTTP response"):
            sim.call(CALLER, HOTLINE, [], url="/voice")
    finally:
        sim.close()
