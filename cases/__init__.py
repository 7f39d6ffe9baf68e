"""The cases domain: residents, calls, cases, recordings, the timeline, and what staff do."""

from __future__ import annotations

from flask import Flask

from cases import search


def init_app(app: Flask) -> None:
    """Derived columns and the full-text index of cases (cases.search), for this process."""
    search.install()
