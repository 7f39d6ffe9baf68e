"""A staff member works a new voicemail case in real Chromium, start to finish.

The case is real: a simulated call leaves one of the Korean recordings with `hotline run`,
whose worker transcribes it with Vosk. Then, in the browser: log in, open the case from the
inbox, play and seek its audio, correct the transcript, assign it, resolve it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import Screenshots
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER
from tests.e2e.conftest import (
    BIN,
    RunningHotline,
)
from tests.e2e.test_voicemail_e2e import wait_for_transcripts
from tests.speech_data import load_korean_clips
from twilio_double.rest import TwilioRestDouble
from twilio_double.script import Press, Speak
from twilio_double.simulator import CallSimulator
from twilio_double.transport import HttpTransport

pytestmark = [pytest.mark.slow, pytest.mark.speech]
PASSWORD = "a long enough password"
CALLER = "+821055550001"


def hotline_command(hotline: RunningHotline, *args: str, stdin: str = "") -> str:
    return subprocess.run(
        [str(BIN / "hotline"), *args],
        env=hotline.env,
        input=stdin,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def leave_voicemail(hotline: RunningHotline, rest: TwilioRestDouble) -> dict:
    clip = load_korean_clips()[0]
    phone = CallSimulator(
        HttpTransport(hotline.base_url),
        public_base_url=hotline.base_url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        rest=rest,
    )
    result = phone.call(
        from_=CALLER,
        to=HOTLINE_NUMBER,
        script=[Press("1"), Speak(clip.path_8k), Press("#")],
        url="/ivr/incoming",
    )
    assert result.application_error is None
    token = hotline.api_token()
    return wait_for_transcripts(hotline, token, [CALLER])[CALLER]


def test_staff_work_a_new_case_from_login_to_resolution(
    hotline: RunningHotline, rest: TwilioRestDouble, page: Page, shots: Screenshots, tmp_path: Path
) -> None:
    residents = tmp_path / "residents.csv"
    residents.write_text(
        "phone,name,address,building,grid,language,family_contacts,preferred_call_hours,do_not_call\n"
        f"{CALLER},Kim Young-ja,12 River Road,B3,A1,ko-KR,,,no\n",
        encoding="utf-8",
    )
    hotline_command(hotline, "residents", "import", str(residents))
    for username, role, extra in (
        ("mei", "staff", []),
        ("li", "grid_worker", ["--grid", "A1", "--name", "Li Grid"]),
    ):
        hotline_command(
            hotline,
            "users",
            "create",
            username,
            "--role",
            role,
            "--language",
            "en-US",
            "--password",
            PASSWORD,
            *extra,
        )
    case = leave_voicemail(hotline, rest)
    machine_transcript = case["transcript"]
    assert machine_transcript, "the recording must have been transcribed"

    # Log in.
    page.goto(f"{hotline.base_url}/")
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password").fill(PASSWORD)
    shots.take("login")
    page.get_by_role("button", name="Log in").click()

    # The inbox lists the new case; open it.
    row = page.locator("tr", has_text=case["number"])
    expect(row).to_be_visible()
    shots.take("inbox")
    row.get_by_role("link", name=case["number"]).click()
    # Visible somewhere (on a desk the case's words are in the transcript section; the summary
    # above the actions is for phones and hidden here).
    expect(page.get_by_text(machine_transcript[:10]).filter(visible=True).first).to_be_visible()

    # Play the recording, then seek: seeking works only if the server honours Range requests.
    audio = page.locator("audio#recording")
    expect(audio).to_be_visible()
    # Functions, not expression strings: the page's CSP (no eval) applies to Playwright too.
    page.wait_for_function("() => document.querySelector('audio#recording').readyState >= 1")
    duration = page.evaluate("document.querySelector('audio#recording').duration")
    assert duration > 1
    page.evaluate("document.querySelector('audio#recording').play()")
    page.wait_for_function("() => document.querySelector('audio#recording').currentTime > 0.2")
    page.evaluate(f"document.querySelector('audio#recording').currentTime = {duration - 0.5}")
    page.wait_for_function(
        f"() => document.querySelector('audio#recording').currentTime >= {duration - 0.6}"
    )
    seekable_end = page.evaluate(
        "(() => { const a = document.querySelector('audio#recording');"
        " return a.seekable.length ? a.seekable.end(0) : 0; })()"
    )
    assert seekable_end >= duration - 0.1, "the whole recording must be seekable"
    shots.take("case-playing")

    # Correct the transcript.
    corrected = "엘리베이터가 고장났어요. 3층에 살아요."
    page.get_by_label("Transcript", exact=True).fill(corrected)
    page.get_by_role("button", name="Save transcript").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_label("Transcript", exact=True)).to_have_value(corrected)
    shots.take("transcript-corrected")

    # Assign it to the grid worker.
    grid_worker = page.locator("#assignee option", has_text="Li Grid").get_attribute("value")
    page.get_by_label("Assign to").select_option(value=grid_worker)
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator("#timeline")).to_contain_text("Li Grid")
    shots.take("assigned")

    # Resolve it with a note.
    page.get_by_label("Resolution note").fill("Lift repaired by the building office.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#timeline")).to_contain_text("Lift repaired by the building office.")
    shots.take("resolved")

    # What the centre's other tools now read through the API.
    token = hotline.api_token()
    stored = requests.get(
        f"{hotline.base_url}/api/cases/{case['id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert stored["status"] == "resolved"
    assert stored["transcript"] == corrected
    assert stored["machine_transcript"] == machine_transcript
    assert len(list(shots.folder.glob("*.png"))) == 6
