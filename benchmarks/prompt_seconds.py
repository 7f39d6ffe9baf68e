"""Seconds of prompt before the beep, per locale and path, estimated from the real TwiML.

Three callers, in every language: one who presses 1 as soon as a key is taken, one who hears
the whole menu and then presses 1, one who presses nothing. Each prompt's length is estimated
from its text at the configured speaking rate (ivr/speaking_time.py says how).

    python benchmarks/prompt_seconds.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotline.app import create_app
from hotline.config import Settings
from hotline.db import db
from hotline.i18n import LOCALES
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, make_env
from tests.ivr.prompt_paths import measure, table
from tests.speech.fakes import FakeRecognizer
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator
from twilio_double.transport import WsgiTransport


def main() -> None:
    with tempfile.TemporaryDirectory() as temp, TwilioRestDouble(ACCOUNT_SID, AUTH_TOKEN) as rest:
        folder = Path(temp)
        env = make_env(folder, f"sqlite:///{folder / 'hotline.db'}")
        env["TWILIO_API_BASE_URL"] = rest.base_url
        app = create_app(Settings.from_env(env), recognizer=FakeRecognizer())
        with app.app_context():
            db.create_all()
        phone = CallSimulator(
            WsgiTransport(app),
            public_base_url=PUBLIC_URL,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            rest=rest,
        )
        rows = [measure(app, phone, locale) for locale in LOCALES]
        print(table(rows, app.extensions["hotline.settings"].speech_rate))
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
