"""The phone carrier behind a port: chosen by settings, built once per process, found via the app.

init_app(app, settings)   # in the app factory
current_telephony()       # anywhere with an app context: tasks, webhooks, pages
"""

from __future__ import annotations

from flask import Flask, current_app

from hotline.config import Settings
from hotline.telephony.local import LocalLine
from hotline.telephony.port import (
    CarrierRecording,
    CredentialsRejected,
    DownloadedRecording,
    PlacedCall,
    RecordingCredentialsRejected,
    RecordingDownloadError,
    Telephony,
    TelephonyNotConfigured,
    TelephonyRefused,
)
from hotline.telephony.twilio import TwilioTelephony

__all__ = [
    "CarrierRecording",
    "CredentialsRejected",
    "DownloadedRecording",
    "LocalLine",
    "PlacedCall",
    "RecordingCredentialsRejected",
    "RecordingDownloadError",
    "Telephony",
    "TelephonyNotConfigured",
    "TelephonyRefused",
    "TwilioTelephony",
    "build",
    "current_telephony",
    "init_app",
]
EXTENSION_KEY = "hotline.telephony"


def build(settings: Settings) -> Telephony:
    """The carrier HOTLINE_TELEPHONY names (see hotline.config.choose_telephony)."""
    if settings.telephony == "local":
        return LocalLine(settings)
    return TwilioTelephony(settings)


def init_app(app: Flask, settings: Settings, telephony: Telephony | None = None) -> None:
    """Tests may hand in their own adapter; otherwise the settings choose."""
    app.extensions[EXTENSION_KEY] = telephony or build(settings)


def current_telephony() -> Telephony:
    telephony: Telephony = current_app.extensions[EXTENSION_KEY]
    return telephony
