"""Task fixtures: a signed-in client, to read what a task left on a case's page."""

from __future__ import annotations

from tests.accounts.conftest import login

__all__ = ["login"]
