"""The set-up check: what keeps this install from answering calls, or from doing all its job,
each in plain words with what to do about it.

    findings(checks=EVERY_CHECK) -> list[Finding]   # in an app context
    OFFLINE, NETWORK = (twilio_credentials, public_url_answers)   # the instant ones; the rest
    blocks_calls(findings) -> bool
    in_words(finding, locale="en-US") -> str        # the problem and what to do about it

`hotline check` prints it (exit status 1 when a finding blocks calls), `hotline run`, `web` and
`worker` log it when they start, and admins see it under Admin -> Set-up check. The words are
`setup.*` in messages/<locale>/staff/setup.toml.
"""

from setup_check.checks import (
    EVERY_CHECK,
    NETWORK,
    OFFLINE,
    Finding,
    Severity,
    blocks_calls,
    findings,
    in_words,
    public_url_answers,
    twilio_credentials,
)

__all__ = [
    "EVERY_CHECK",
    "NETWORK",
    "OFFLINE",
    "Finding",
    "Severity",
    "blocks_calls",
    "findings",
    "in_words",
    "public_url_answers",
    "twilio_credentials",
]
