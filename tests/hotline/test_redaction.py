import logging

import pytest

from hotline import redaction


def test_phone_numbers_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    redaction.install()
    with caplog.at_level(logging.INFO):
        logging.getLogger("x").info("call from %s to %s", "+8613812345678", "010-1234-5678")
        logging.getLogger("x").info("GET /api/cases?phone=%2B8613812345678 200")
    text = caplog.text
    assert "13812345678" not in text and "1234-5678" not in text
    assert "***78" in text


def test_case_numbers_and_times_are_left_alone() -> None:
    assert redaction.mask_phone("case 10042 at 12:30") == "case 10042 at 12:30"
