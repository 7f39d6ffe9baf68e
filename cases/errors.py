"""The one error staff actions raise: refused, with a message a person can act on."""

from __future__ import annotations


class Refused(ValueError):
    """The action was refused and nothing was changed; str(error) says why, for staff."""
