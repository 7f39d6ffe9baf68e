"""Reading TwiML documents the way Twilio does.

Twilio fetches a document, checks that its root is ``<Response>`` and runs the
verbs in order. Relative URLs in verbs (``action``, ``<Redirect>``) are
resolved against the URL of the document that contains them, like links in
an HTML page (TwiML docs: "relative or absolute URL", default "current
document URL").
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

# Verbs Twilio knows that the simulator does not play.
UNSUPPORTED_VERBS = frozenset(
    {
        "Connect",
        "Echo",
        "Enqueue",
        "Leave",
        "Pay",
        "Prompt",
        "Queue",
        "Refer",
        "Sms",
        "Start",
        "Stop",
    }
)
GATHER_CHILDREN = frozenset({"Say", "Play", "Pause"})


class TwimlError(Exception):
    """The app's answer is not a TwiML document Twilio could run."""


def parse_document(body: bytes) -> ET.Element:
    """Parse a TwiML answer; raise :class:`TwimlError` unless its root is ``<Response>``."""
    if not body.strip():
        raise TwimlError("empty response body")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise TwimlError(f"document parse failure: {exc}") from exc
    if root.tag != "Response":
        raise TwimlError(f"root element is <{root.tag}>, not <Response>")
    return root


def text_of(element: ET.Element) -> str:
    """All text inside ``element`` (SSML children flattened), whitespace collapsed."""
    return " ".join("".join(element.itertext()).split())


def resolve(document_url: str, ref: str | None) -> str:
    """Resolve an optional (relative) URL against the current document URL."""
    if ref is None or not ref.strip():
        return document_url
    return urljoin(document_url, ref.strip())


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended to its query string (how GET webhooks carry them)."""
    if not params:
        return url
    parts = urlsplit(url)
    extra = urlencode(list(params.items()))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def attr_float(element: ET.Element, name: str, default: float) -> float:
    """A numeric attribute; a malformed value raises :class:`TwimlError`."""
    raw = element.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise TwimlError(f"<{element.tag} {name}={raw!r}> is not a number") from exc


def attr_int(element: ET.Element, name: str, default: int) -> int:
    return int(attr_float(element, name, default))


def attr_method(element: ET.Element, name: str = "method") -> str:
    """An HTTP method attribute (GET or POST, default POST)."""
    method = (element.get(name) or "POST").upper()
    if method not in ("GET", "POST"):
        raise TwimlError(f"<{element.tag} {name}={method!r}> must be GET or POST")
    return method


def attr_true(element: ET.Element, name: str, default: bool) -> bool:
    raw = element.get(name)
    return default if raw is None else raw.strip().lower() == "true"
