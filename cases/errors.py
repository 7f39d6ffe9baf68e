"""The one error staff actions raise: refused, with a message a person can act on."""

from __future__ import annotations

from typing import Any

from hotline.i18n import FALLBACK, Message, staff_message


class Refused(ValueError):
    """The action was refused and nothing was changed.

    `message` (a key under messages/<locale>/staff/, and its values) says why in any language:
    the staff pages word it in the reader's; str(error) is the English, for the API and logs.
    """

    def __init__(self, key: str, **values: Any) -> None:
        self.message = Message(key, values)
        super().__init__(staff_message(FALLBACK, self.message))
