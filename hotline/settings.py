"""Access to the running app's settings."""

from __future__ import annotations

from flask import current_app

from hotline.config import Settings

EXTENSION_KEY = "hotline.settings"


def current_settings() -> Settings:
    settings: Settings = current_app.extensions[EXTENSION_KEY]
    return settings
