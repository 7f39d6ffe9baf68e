"""Phone numbers: the one place a typed number becomes E.164, or is refused.

Residents (import and forms), family contacts, staff accounts and the on-duty numbers all go
through `normalise_phone`. It asks whether the number can exist (`is_valid_number`: a real
country code, area code and length), not merely whether its length is plausible, so `12345`
or a ten-digit Chinese mobile is refused instead of being texted for ever.
"""

from __future__ import annotations

import re

import phonenumbers

DEFAULT_REGION = "CN"
E164 = re.compile(r"\+[1-9][0-9]{3,14}")


class NotAPhoneNumber(ValueError):
    """`unreadable`: not a number at all; otherwise a number no phone can have."""

    def __init__(self, text: str, *, unreadable: bool) -> None:
        self.unreadable = unreadable
        super().__init__(f"not a valid phone number (ending in {last_digits(text)})")


def normalise_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """`text` in E.164 form; numbers without +country are read in `region`."""
    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException as error:
        raise NotAPhoneNumber(text, unreadable=True) from error
    if not phonenumbers.is_valid_number(number):
        raise NotAPhoneNumber(text, unreadable=False)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_e164(text: str) -> bool:
    """Written as E.164 (+country and number): a number that can be texted or called back,
    as a caller ID may not be (a SIP address, "Anonymous")."""
    return E164.fullmatch(text) is not None


def region_of_locale(locale: str) -> str:
    """The country of a locale such as zh-CN: where a number without +country is read."""
    country = locale.rpartition("-")[2].upper()
    return country if len(country) == 2 and country.isalpha() else DEFAULT_REGION


def last_digits(text: str) -> str:
    """Enough of a number for an operator to find it in their list; logs carry no more."""
    digits = "".join(char for char in text if char.isdigit())
    return "…" + digits[-2:]
