"""Staff see why a case was read as it was: the resident's own words that decided urgency and
category, and the alarm words that were read and not counted."""

from __future__ import annotations

import html

from flask import Flask
from flask.testing import FlaskClient

from cases.intake import Intake, open_case
from cases.models import CaseSource
from hotline.db import db


def opened_by_text(app: Flask, text: str, locale: str) -> int:
    with app.app_context():
        case = open_case(Intake(CaseSource.SMS, locale, phone="+8613900000001", text=text))
        db.session.commit()
        return case.id


def page_of(staff: FlaskClient, case_id: int) -> str:
    response = staff.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_an_emergency_shows_the_words_that_raised_it(app: Flask, staff: FlaskClient) -> None:
    case_id = opened_by_text(app, "My neighbour is lying on the floor and won't wake up", "en-US")
    page = page_of(staff, case_id)
    why = page.split('id="why-urgency"', 1)[1].split("</li>", 1)[0]
    assert "Emergency" in why
    assert "wake up" in why or "lying on the floor" in why


def test_a_harmless_alarm_word_is_shown_as_not_counted(app: Flask, staff: FlaskClient) -> None:
    case_id = opened_by_text(
        app, "I fell last year but I am fine now, I need a new walker", "en-US"
    )
    page = page_of(staff, case_id)
    assert 'id="why-urgency"' not in page
    silenced = page.split('id="why-silenced"', 1)[1].split("</li>", 1)[0]
    assert "fell" in silenced and "in the past" in silenced


def test_the_category_shows_its_words_in_the_staff_language(app: Flask, staff: FlaskClient) -> None:
    case_id = opened_by_text(app, "楼下的下水道堵了，污水都漫到院子里了", "zh-CN")
    page = page_of(staff, case_id)
    why = page.split('id="why-category"', 1)[1].split("</li>", 1)[0]
    assert "Drains and water" in why
    assert "下水道" in why
