"""The emergency numbers a caller is told to ring when nobody on duty answers.

They belong to the country the centre (and so the caller's phone) is in, not to the language
spoken: an English-speaking resident of a Chinese centre must be told 120, a Korean speaker in
an American one 911. HOTLINE_EMERGENCY_NUMBERS sets them; otherwise the country of
HOTLINE_NUMBER, else of HOTLINE_DEFAULT_LOCALE, picks them from EMERGENCY_NUMBERS_BY_COUNTRY.
The texts name them through their {emergency} placeholder (hotline.i18n fills it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from hotline.phones import region_of_locale


@dataclass(frozen=True)
class EmergencyNumbers:
    """The number for an ambulance, and the one for a fire (often the same)."""

    ambulance: str
    fire: str

    @property
    def one_number(self) -> bool:
        return self.ambulance == self.fire


# Ambulance, then fire, by country (ISO 3166). Only numbers we are sure of; a centre elsewhere
# sets HOTLINE_EMERGENCY_NUMBERS. Where one number serves both, it is written once. Police
# numbers (110 in CN and TW) are left out on purpose: the caller needs help for a life or a fire.
EMERGENCY_NUMBERS_BY_COUNTRY: dict[str, EmergencyNumbers] = {
    "CN": EmergencyNumbers("120", "119"),
    "HK": EmergencyNumbers("999", "999"),
    "MO": EmergencyNumbers("999", "999"),
    "TW": EmergencyNumbers("119", "119"),
    "KR": EmergencyNumbers("119", "119"),
    "JP": EmergencyNumbers("119", "119"),
    "US": EmergencyNumbers("911", "911"),
    "CA": EmergencyNumbers("911", "911"),
    "GB": EmergencyNumbers("999", "999"),
    "AU": EmergencyNumbers("000", "000"),
    "NZ": EmergencyNumbers("111", "111"),
    "SG": EmergencyNumbers("995", "995"),
    "DE": EmergencyNumbers("112", "112"),
}

_NUMBER = re.compile(r"^\d{2,6}$")
SETTING = "HOTLINE_EMERGENCY_NUMBERS"


def parse_emergency_numbers(text: str) -> EmergencyNumbers:
    """`"120,119"` (ambulance, then fire) or `"911"` (both); anything else stops the start-up:
    a caller in danger must never be told a wrong number."""
    entries = [entry.strip() for entry in text.split(",")]
    if not 1 <= len(entries) <= 2 or not all(_NUMBER.match(entry) for entry in entries):
        raise ValueError(f"{SETTING} must look like 120,119 (ambulance, then fire) or 911")
    return EmergencyNumbers(entries[0], entries[-1])


def centre_country(hotline_number: str, default_locale: str) -> str:
    """The country of the hotline's own number if it has +country, else the default locale's."""
    try:
        number = phonenumbers.parse(hotline_number.strip(), None)
    except phonenumbers.NumberParseException:
        return region_of_locale(default_locale)
    # A number that is not (yet) valid, such as a test number, still has its country code.
    region = phonenumbers.region_code_for_number(number) or (
        phonenumbers.region_code_for_country_code(number.country_code or 0)
    )
    return region if region != phonenumbers.UNKNOWN_REGION else region_of_locale(default_locale)


def emergency_numbers(setting: str, hotline_number: str, default_locale: str) -> EmergencyNumbers:
    """HOTLINE_EMERGENCY_NUMBERS if set, else the numbers of the centre's country."""
    if setting.strip():
        return parse_emergency_numbers(setting)
    country = centre_country(hotline_number, default_locale)
    if country not in EMERGENCY_NUMBERS_BY_COUNTRY:
        raise ValueError(
            f"the hotline does not know the emergency numbers of {country} (the country of "
            f"HOTLINE_NUMBER or HOTLINE_DEFAULT_LOCALE): set {SETTING}, e.g. 112"
        )
    return EMERGENCY_NUMBERS_BY_COUNTRY[country]
