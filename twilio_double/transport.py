"""How the simulator's webhooks reach the app under test.

Twilio requests the app's *public* URL (``https://hotline.example.org/...``),
which a proxy forwards to the app. A transport does that forwarding in a test:

* :class:`WsgiTransport` calls a WSGI app in-process through werkzeug's test
  client (fast, for unit tests). By default the request keeps the public
  scheme and host, like a correctly configured proxy (``request.url`` in the
  app equals the public URL); give ``base_url`` to simulate a proxy that
  rewrites the host.
* :class:`HttpTransport` POSTs with ``requests`` to a live server at
  ``target_base_url``, keeping the public path and query. ``forwarded_headers``
  adds ``X-Forwarded-Proto``/``X-Forwarded-Host`` naming the public origin.
* :class:`LosingTransport` wraps another and loses the requests whose path matches a
  pattern (Twilio got 503 and gave up): callbacks that never reached the app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from werkzeug.test import Client


@dataclass(frozen=True)
class WireResponse:
    """What the app answered: status code, body bytes and headers.

    ``status`` 0 means no HTTP answer at all (connection refused, timeout);
    ``body`` then describes the failure.
    """

    status: int
    body: bytes
    headers: dict[str, str]


class Transport(Protocol):
    """Delivers one webhook request for the public URL ``url`` to the app."""

    def request(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> WireResponse: ...

    def close(self) -> None: ...


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class WsgiTransport:
    """Deliver webhooks to a WSGI app in-process (werkzeug test client)."""

    def __init__(self, app: Any, base_url: str | None = None) -> None:
        self._client = Client(app)
        self._base_url = base_url

    def request(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> WireResponse:
        target = (
            url if self._base_url is None else self._base_url.rstrip("/") + _path_and_query(url)
        )
        data = dict(params) if method == "POST" else None
        response = self._client.open(target, method=method, data=data, headers=dict(headers))
        try:
            return WireResponse(response.status_code, response.get_data(), dict(response.headers))
        finally:
            response.close()

    def close(self) -> None:
        return None


class HttpTransport:
    """Deliver webhooks over HTTP to a live server at ``target_base_url``."""

    def __init__(
        self, target_base_url: str, *, timeout: float = 15.0, forwarded_headers: bool = False
    ) -> None:
        self._target = target_base_url.rstrip("/")
        self._timeout = timeout
        self._forwarded = forwarded_headers
        self._session = requests.Session()
        self._session.trust_env = False

    def request(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> WireResponse:
        all_headers = dict(headers)
        if self._forwarded:
            public = urlsplit(url)
            all_headers.update(
                {"X-Forwarded-Proto": public.scheme, "X-Forwarded-Host": public.netloc}
            )
        try:
            response = self._session.request(
                method,
                self._target + _path_and_query(url),
                data=dict(params) if method == "POST" else None,
                headers=all_headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:  # Twilio: 11200 HTTP retrieval failure
            return WireResponse(0, f"{type(exc).__name__}: {exc}".encode(), {})
        return WireResponse(response.status_code, response.content, dict(response.headers))

    def close(self) -> None:
        self._session.close()


class LosingTransport:
    """Deliver webhooks through `inner`, except those whose path matches `lost`: they get 503
    without reaching the app. `dropped` lists their URLs."""

    def __init__(self, inner: Transport, lost: str) -> None:
        self.inner = inner
        self.lost = re.compile(lost)
        self.dropped: list[str] = []

    def request(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> WireResponse:
        if self.lost.search(urlsplit(url).path):
            self.dropped.append(url)
            return WireResponse(503, b"", {})
        return self.inner.request(method, url, params, headers)

    def close(self) -> None:
        self.inner.close()
