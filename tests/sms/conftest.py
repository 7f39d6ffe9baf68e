"""Fixtures for the text line: Twilio posting texts to our app in-process, signed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from werkzeug.test import TestResponse

Poster = Callable[..., TestResponse]


@pytest.fixture
def signed_post(signed_post: Callable[..., TestResponse]) -> Poster:
    """The shared hand-made webhook (tests/conftest.py), always to /sms/incoming."""

    def post(params: dict[str, str], signature: str | None = None) -> TestResponse:
        return signed_post("/sms/incoming", params, signature)

    return post
