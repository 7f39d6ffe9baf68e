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
