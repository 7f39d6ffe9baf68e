"""Settings read from the environment: what a centre writes, and what the hotline makes of it."""

from __future__ import annotations

import logging

import pytest

from hotline.config import Settings


def test_on_duty_numbers_no_phone_can_have_are_left_out_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    written = "+8613900000009, 12345, 13900000008, 1390000000, +12015550123"
    with caplog.at_level(logging.ERROR, logger="hotline.config"):
        settings = Settings.from_env({"HOTLINE_ON_DUTY_NUMBERS": written})
    # Numbers without +country are read in the default locale's country (China here).
    assert settings.on_duty_numbers == ["+8613900000009", "+8613900000008", "+12015550123"]
    assert settings.invalid_on_duty_numbers == ["12345", "1390000000"]
    errors = [record.getMessage() for record in caplog.records]
    assert len(errors) == 2
    assert "HOTLINE_ON_DUTY_NUMBERS entry 2 of 5 (ending in …45)" in errors[0]
    assert "entry 4 of 5 (ending in …00)" in errors[1]
    # Phone numbers stay out of logs, even wrong ones.
    assert "12345" not in caplog.text and "1390000000" not in caplog.text


def test_a_us_centre_writes_its_on_duty_numbers_without_the_country_code() -> None:
    env = {"HOTLINE_DEFAULT_LOCALE": "en-US", "HOTLINE_ON_DUTY_NUMBERS": "(201) 555-0123"}
    settings = Settings.from_env(env)
    assert settings.on_duty_numbers == ["+12015550123"]
    assert settings.invalid_on_duty_numbers == []


@pytest.mark.parametrize(
    ("hotline_number", "locale", "ambulance", "fire"),
    [
        ("+8610123456", "en-US", "120", "119"),  # a Chinese centre, whatever its language
        ("+12015550123", "zh-CN", "911", "911"),  # an American one
        ("+85221234567", "zh-CN", "999", "999"),  # Hong Kong, not the mainland
        ("", "zh-CN", "120", "119"),  # no number yet: the default locale's country
        ("", "ko-KR", "119", "119"),
        ("", "en-US", "911", "911"),
        ("010 1234 5678", "ko-KR", "119", "119"),  # no +country: read as the locale's
    ],
)
def test_the_emergency_numbers_are_those_of_the_centres_country(
    hotline_number: str, locale: str, ambulance: str, fire: str
) -> None:
    env = {"HOTLINE_NUMBER": hotline_number, "HOTLINE_DEFAULT_LOCALE": locale}
    numbers = Settings.from_env(env).emergency_numbers
    assert (numbers.ambulance, numbers.fire) == (ambulance, fire)


@pytest.mark.parametrize(
    ("written", "ambulance", "fire"), [("112", "112", "112"), (" 120 , 119 ", "120", "119")]
)
def test_hotline_emergency_numbers_overrides_the_country(
    written: str, ambulance: str, fire: str
) -> None:
    env = {"HOTLINE_NUMBER": "+12015550123", "HOTLINE_EMERGENCY_NUMBERS": written}
    numbers = Settings.from_env(env).emergency_numbers
    assert (numbers.ambulance, numbers.fire) == (ambulance, fire)


@pytest.mark.parametrize(
    "env",
    [
        {"HOTLINE_EMERGENCY_NUMBERS": "call 911"},
        {"HOTLINE_EMERGENCY_NUMBERS": "120,119,110"},
        {"HOTLINE_EMERGENCY_NUMBERS": "120,"},
        # A country whose numbers the hotline does not know: it must be told, not guess.
        {"HOTLINE_NUMBER": "+33142345678"},
    ],
)
def test_emergency_numbers_that_may_be_wrong_stop_the_start(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="HOTLINE_EMERGENCY_NUMBERS"):
        Settings.from_env(env)


def test_the_largest_attachment_is_set_in_whole_megabytes() -> None:
    assert Settings.from_env({}).max_attachment_bytes == 10 * 1024 * 1024
    assert Settings.from_env({"HOTLINE_MAX_ATTACHMENT_MB": "25"}).max_attachment_bytes == (
        25 * 1024 * 1024
    )
    for wrong in ("0", "2.5", "ten"):
        with pytest.raises(ValueError, match="HOTLINE_MAX_ATTACHMENT_MB must be a whole number"):
            Settings.from_env({"HOTLINE_MAX_ATTACHMENT_MB": wrong})
