"""Every Twilio webhook proves it comes from Twilio, or is refused with 403.

The secret is the carrier's (current_telephony().webhook_auth_token): Twilio's auth token, or
the local line's own, with which `hotline simulate` signs.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, request
from twilio.request_validator import RequestValidator

from hotline.settings import current_settings
from hotline.telephony import current_telephony

log = logging.getLogger(__name__)
View = TypeVar("View", bound=Callable[..., Any])


def public_request_url() -> str:
    """The URL Twilio signed: our public base URL, not whatever host a proxy forwarded to."""
    query = request.query_string.decode()
    return current_settings().public_url + request.path + (f"?{query}" if query else "")


def twilio_signed(view: View) -> View:
    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        token = current_telephony().webhook_auth_token
        signature = request.headers.get("X-Twilio-Signature", "")
        if not token:
            log.error("TWILIO_AUTH_TOKEN is not set: refusing webhook %s", request.path)
            abort(403)
        validator = RequestValidator(token)
        if not signature or not validator.validate(public_request_url(), request.form, signature):
            log.warning("refused a webhook with a bad or missing signature: %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return checked  # type: ignore[return-value]
