"""The REST double with the real twilio client (and plain requests for media)."""

from __future__ import annotations

import io
import threading
import wave
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.twilio_double.conftest import ACCOUNT_SID, AUTH_TOKEN
from twilio_double.rest import TwilioRestDouble, close_client, make_client
from twilio_double.segments import num_segments


def silent_wav(seconds: float, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return buf.getvalue()


def get(url: str, auth: tuple[str, str] | None = (ACCOUNT_SID, AUTH_TOKEN)) -> requests.Response:
    with requests.Session() as session:
        session.trust_env = False
        return session.get(url, auth=auth, timeout=5)


def test_client_creates_fetches_and_lists_calls(client: Client, rest: TwilioRestDouble) -> None:
    call = client.calls.create(
        to="+8613800000001",
        from_="+8610123456",
        url="https://hotline.example.org/outbound",
        status_callback="https://hotline.example.org/status",
        status_callback_event=["initiated", "answered", "completed"],
        machine_detection="Enable",
        timeout=20,
    )
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert call.status == "queued" and call.to == "+8613800000001" and call.date_created
    assert client.calls(call.sid).fetch().direction == "outbound-api"
    (stored,) = rest.calls
    assert stored["status_callback_event"] == ["initiated", "answered", "completed"]
    assert (
        stored["request"]["MachineDetection"] == "Enable" and stored["request"]["Timeout"] == "20"
    )
    for _ in range(4):
        client.calls.create(to="+1", from_="+2", twiml="<Response/>")
    assert len(client.calls.list(page_size=2)) == 5
    assert [c.to for c in client.calls.list(to="+8613800000001")] == ["+8613800000001"]


def test_missing_parameters_give_twilio_400s(client: Client) -> None:
    with pytest.raises(TwilioRestException) as no_url:
        client.calls.create(to="+1", from_="+2")
    assert no_url.value.status == 400 and no_url.value.code == 21205
    with pytest.raises(TwilioRestException) as no_body:
        client.messages.create(to="+1", from_="+2")
    assert no_body.value.code == 21602


def test_every_endpoint_requires_basic_auth(rest: TwilioRestDouble) -> None:
    url = f"{rest.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    for auth in (None, (ACCOUNT_SID, "wrong"), ("ACother", AUTH_TOKEN)):
        response = get(url, auth)
        assert response.status_code == 401
        assert response.json() == {
            "code": 20003,
            "message": "Authenticate",
            "more_info": "https://www.twilio.com/docs/errors/20003",
            "status": 401,
        }
    wrong = make_client(rest.base_url, ACCOUNT_SID, "wrong")
    try:
        with pytest.raises(TwilioRestException) as caught:
            wrong.messages.create(to="+1", from_="+2", body="x")
    finally:
        close_client(wrong)
    assert caught.value.status == 401 and caught.value.code == 20003
    assert [r["authorized"] for r in rest.requests] == [False] * 4


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("{" * 80, 1),
        ("a" * 159 + "€", 2),
        ("a" * 152 + "€" + "a" * 152, 3),
        ("é" * 160, 1),
        ("안" * 70, 1),
        ("안" * 71, 2),
        ("😀" * 35, 1),
        ("a" * 69 + "😀", 2),
        ("a" * 66 + "😀" + "a" * 66, 3),
    ],
)
def test_num_segments(body: str, segments: int) -> None:
    assert num_segments(body) == segments


def test_messages_create_fetch_and_page(client: Client, rest: TwilioRestDouble) -> None:
    message = client.messages.create(to="+8613800000001", from_="+8610123456", body="안" * 71)
    assert message.sid.startswith("SM") and message.status == "queued"
    assert message.num_segments == "2"
    assert client.messages(message.sid).fetch().body == "안" * 71
    service = client.messages.create(to="+1", messaging_service_sid="MG" + "0" * 32, body="x")
    assert service.status == "accepted"
    for _ in range(3):
        client.messages.create(to="+1", from_="+2", body="hi")
    assert len(list(client.messages.stream(page_size=2))) == 5
    assert rest.messages[0]["request"]["Body"] == "안" * 71


def test_recording_media_and_metadata(client: Client, rest: TwilioRestDouble) -> None:
    wav = silent_wav(2.6)
    sid = rest.add_recording("CA" + "2" * 32, wav, mp3=b"ID3fake")
    base = rest.recording_url(sid, rest.base_url)
    assert rest.recording_url(sid).startswith("https://api.twilio.com/2010-04-01/Accounts/")
    for suffix in ("", ".wav"):
        response = get(base + suffix)
        assert response.status_code == 200 and response.content == wav
        assert response.headers["Content-Type"] == "audio/x-wav"
    assert get(base + ".mp3").content == b"ID3fake"
    assert get(base, auth=None).status_code == 401
    fetched = client.recordings(sid).fetch()
    assert fetched.duration == "3" and fetched.call_sid == "CA" + "2" * 32
    assert get(base + ".json").json()["sid"] == sid
    assert [r.sid for r in client.recordings.list(call_sid="CA" + "2" * 32)] == [sid]
    assert client.recordings(sid).delete() is True
    assert get(base).status_code == 404


def test_recordings_are_listed_by_creation_time_with_their_status(
    client: Client, rest: TwilioRestDouble
) -> None:
    done = rest.add_recording("CA" + "1" * 32, silent_wav(2))
    making = rest.add_recording("CA" + "2" * 32, silent_wav(2), status="in-progress")
    listed = {r.sid: (r.status, r.duration) for r in client.recordings.list()}
    assert listed == {done: ("completed", "2"), making: ("in-progress", "-1")}
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert len(client.recordings.list(date_created_after=an_hour_ago)) == 2
    assert client.recordings.list(date_created_before=an_hour_ago) == []
    assert client.recordings.list(date_created_after=an_hour_ago + timedelta(hours=2)) == []
    rest.set_recording_status(making, "completed", duration=5)
    assert client.recordings(making).fetch().duration == "5"


def test_mp3_missing_is_404(rest: TwilioRestDouble) -> None:
    sid = rest.add_recording("CA" + "2" * 32, silent_wav(1))
    assert get(rest.recording_url(sid, rest.base_url) + ".mp3").status_code == 404


def test_recording_faults(rest: TwilioRestDouble) -> None:
    wav = silent_wav(1)
    urls = {
        fault: rest.recording_url(
            rest.add_recording("CA" + "3" * 32, wav, fault=fault), rest.base_url
        )
        for fault in ("zero-bytes", "truncated", "short-read", "not-found")
    }
    assert get(urls["zero-bytes"]).content == b""
    assert get(urls["truncated"]).content == wav[: len(wav) // 2]
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(urls["short-read"])
    assert get(urls["not-found"]).status_code == 404


def test_media_redirect_to_unauthenticated_storage(rest: TwilioRestDouble) -> None:
    rest.media_redirect = True
    sid = rest.add_recording("CA" + "4" * 32, silent_wav(1))
    url = rest.recording_url(sid, rest.base_url)
    with requests.Session() as session:
        session.trust_env = False
        first = session.get(url, auth=(ACCOUNT_SID, AUTH_TOKEN), allow_redirects=False, timeout=5)
        followed = session.get(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert first.status_code == 302 and "/media/" in first.headers["Location"]
    assert followed.status_code == 200 and followed.content == rest.recording_media(sid)


def test_fail_next_injects_errors(client: Client, rest: TwilioRestDouble) -> None:
    rest.fail_next(r"/Calls\.json$", status=503, times=2, method="POST")
    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            client.calls.create(to="+1", from_="+2", url="https://x.example/")
        assert caught.value.status == 503
    assert client.calls.list() == []  # GET was not affected
    assert client.calls.create(to="+1", from_="+2", url="https://x.example/").status == "queued"


def test_call_hook_runs_after_the_response(client: Client, rest: TwilioRestDouble) -> None:
    seen: list[dict[str, Any]] = []
    started = threading.Event()

    def hook(call: dict[str, Any]) -> None:
        started.set()
        seen.append(call)
        rest.update_call(call["sid"], status="in-progress")

    rest.on_call_created = hook
    call = client.calls.create(to="+1", from_="+2", url="https://x.example/")
    rest.wait_for_hooks()
    assert started.is_set() and seen[0]["sid"] == call.sid and seen[0]["request"]["Url"]
    assert client.calls(call.sid).fetch().status == "in-progress"


def test_hook_errors_are_collected(client: Client, rest: TwilioRestDouble) -> None:
    def hook(call: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    rest.on_call_created = hook
    client.calls.create(to="+1", from_="+2", url="https://x.example/")
    rest.wait_for_hooks()
    assert [str(e) for e in rest.hook_errors] == ["boom"]


def test_client_hangs_up_a_call(client: Client, rest: TwilioRestDouble) -> None:
    call = rest.add_call("+8610123456", "+8613800000001")
    assert client.calls(call["sid"]).update(status="completed").status == "completed"
    assert rest.get_call(call["sid"])["status"] == "completed"
