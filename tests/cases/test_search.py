"""Full-text search over cases: the tokeniser, the kept-current columns, the database index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import create_engine, insert, select, text

from accounts.models import Role, User
from cases import actions, search
from cases.models import Case, CaseSource, Urgency
from cases.search import search_condition, tokenize
from hotline import migrate
from hotline.db import db
from tests.conftest import new_postgres_database
from tests.workspace.conftest import make_case, make_user


def test_chinese_becomes_overlapping_pairs() -> None:
    assert tokenize("楼道的灯坏了") == ["楼道", "道的", "的灯", "灯坏", "坏了"]


def test_korean_becomes_overlapping_pairs() -> None:
    assert tokenize("엘리베이터가 고장") == ["엘리", "리베", "베이", "이터", "터가", "고장"]


def test_words_and_numbers_are_lower_cased_and_punctuation_dropped() -> None:
    assert tokenize("The LIFT, in 3号楼! (again)") == ["the", "lift", "in", "3", "号楼", "again"]


def test_a_lone_cjk_character_stays_whole() -> None:
    assert tokenize("灯 light") == ["灯", "light"]


def test_full_width_letters_and_digits_are_the_plain_ones() -> None:
    assert tokenize("Ｌｉｇｈｔ１２") == ["light12"]


def test_a_query_without_letters_or_digits_searches_nothing(app: Flask) -> None:
    with app.app_context():
        assert search_condition("?! …", db.session.connection()) is None


def found(query: str) -> set[str]:
    """The transcripts of the cases that `query` finds."""
    condition = search_condition(query, db.session.connection())
    assert condition is not None
    return set(db.session.scalars(select(Case.transcript).where(condition)))


def case_saying(words: str, **fields: Any) -> Case:
    return make_case(transcript=words, machine_transcript=words, **fields)


@pytest.fixture
def some_cases(app: Flask) -> None:
    with app.app_context():
        case_saying("楼道的灯坏了，晚上看不见")
        case_saying("엘리베이터가 고장났어요", locale="ko-KR")
        case_saying("The elevator in building 3 is broken", locale="en-US")
        case_saying("下水道堵了")
        db.session.commit()


@pytest.mark.usefixtures("some_cases")
def test_chinese_search_finds_words_inside_a_sentence(app: Flask) -> None:
    with app.app_context():
        assert found("灯坏") == {"楼道的灯坏了，晚上看不见"}
        assert found("楼道") == {"楼道的灯坏了，晚上看不见"}
        assert found("楼道的灯") == {"楼道的灯坏了，晚上看不见"}
        assert found("灯泡") == set()


@pytest.mark.usefixtures("some_cases")
def test_korean_search_finds_a_word_glued_to_its_ending(app: Flask) -> None:
    with app.app_context():
        assert found("고장") == {"엘리베이터가 고장났어요"}
        assert found("엘리베이터") == {"엘리베이터가 고장났어요"}


@pytest.mark.usefixtures("some_cases")
def test_english_search_matches_whole_words_in_any_case(app: Flask) -> None:
    with app.app_context():
        assert found("Elevator") == {"The elevator in building 3 is broken"}
        assert found("elevator BROKEN") == {"The elevator in building 3 is broken"}
        assert found("elev") == set()


@pytest.mark.usefixtures("some_cases")
def test_many_hits_find_the_same_cases(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past FEW_HITS, SQLite walks the inbox order instead of the hit list: same answer."""
    with app.app_context():
        case_saying("楼道里又有灯坏了")
        db.session.commit()
        few = found("灯坏")
        monkeypatch.setattr(search, "FEW_HITS", 1)
        assert found("灯坏") == few == {"楼道的灯坏了，晚上看不见", "楼道里又有灯坏了"}
        assert found("楼道 看不见") == {"楼道的灯坏了，晚上看不见"}


@pytest.mark.usefixtures("some_cases")
def test_every_word_of_the_query_must_match(app: Flask) -> None:
    with app.app_context():
        assert found("灯坏 elevator") == set()
        assert found("楼道 看不见") == {"楼道的灯坏了，晚上看不见"}


@pytest.mark.usefixtures("some_cases")
def test_a_single_chinese_character_still_finds_the_case(app: Flask) -> None:
    with app.app_context():
        assert found("灯") == {"楼道的灯坏了，晚上看不见"}
        assert found("堵 下水") == {"下水道堵了"}


@pytest.mark.usefixtures("some_cases")
@pytest.mark.parametrize(
    "query",
    ['灯坏" OR "elevator', "灯坏' | 'elevator", "NEAR(灯坏 elevator)", "elev*", "灯坏\\' & !x"],
)
def test_query_syntax_in_user_text_is_just_words(app: Flask, query: str) -> None:
    """FTS5 and tsquery operators typed by staff are searched for as words, never obeyed."""
    with app.app_context():
        assert found(query) == set()


def test_notes_reports_and_resolution_notes_are_searched(app: Flask) -> None:
    with app.app_context():
        staff = db.session.get(User, make_user("s1", Role.STAFF))
        department = db.session.get(User, make_user("d1", Role.DEPARTMENT))
        assert staff is not None and department is not None
        case = case_saying("有人敲门")
        db.session.commit()
        actions.add_note(case, "已联系物业 water meter", staff)
        actions.add_participant(case, department, staff)
        db.session.commit()
        actions.report_part(case, "更换了门锁", department)
        actions.resolve(case, "派出所已出警", staff)
        db.session.commit()
        db.session.expire_all()
        for query in ("联系物业", "meter", "门锁", "出警", "敲门"):
            assert found(query) == {"有人敲门"}, query


def test_a_corrected_transcript_replaces_the_old_words(app: Flask) -> None:
    with app.app_context():
        staff = db.session.get(User, make_user("s1", Role.STAFF))
        assert staff is not None
        case = make_case(transcript="楼到灯坏了", machine_transcript="楼到灯坏了")
        db.session.commit()
        actions.edit_transcript(case, "楼道灯坏了", staff)
        db.session.commit()
        assert found("楼道") == {"楼道灯坏了"}
        case.machine_transcript = "楼道灯坏了"  # e.g. retranscribed with a better model
        db.session.commit()
        assert found("楼到") == set()


def test_a_deleted_case_leaves_the_index(app: Flask) -> None:
    with app.app_context():
        case = case_saying("下水道堵了")
        db.session.commit()
        db.session.delete(case)
        db.session.commit()
        assert found("下水") == set()


def test_priority_follows_the_urgency_on_every_path(app: Flask) -> None:
    with app.app_context():
        staff = db.session.get(User, make_user("s1", Role.STAFF))
        assert staff is not None
        case = make_case(urgency=Urgency.URGENT)
        default = Case(source=CaseSource.SMS, locale="zh-CN")  # urgency left to the default
        db.session.add(default)
        db.session.commit()
        assert (case.priority, default.priority) == (1, 2)
        actions.set_triage(case, None, "emergency", staff)
        db.session.commit()
        assert case.priority == 0
        case.urgency = Urgency.NORMAL  # as tasks/voicemail.py writes it
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Case, case.id).priority == 2  # type: ignore[union-attr]


def test_rows_inserted_without_the_orm_get_their_priority(app: Flask) -> None:
    with app.app_context():
        rows = [
            {"source": CaseSource.SMS, "locale": "zh-CN", "urgency": Urgency.EMERGENCY},
            {"source": CaseSource.SMS, "locale": "zh-CN", "urgency": Urgency.URGENT},
            {"source": CaseSource.SMS, "locale": "zh-CN"},
        ]
        db.session.execute(insert(Case), rows)
        db.session.commit()
        priorities = db.session.scalars(select(Case.priority).order_by(Case.id)).all()
        assert priorities == [0, 1, 2]


# ---------------------------------------------------------------- the migration's backfill


def _upgrade_with_old_rows(url: str) -> None:
    config = migrate.alembic_config(url)
    command.upgrade(config, "0002")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cases (id, status, source, phone, locale, category, urgency, "
                "transcript, machine_transcript, transcript_words, no_speech, error, grid, "
                "building, resolution_note, created_at, updated_at) VALUES (1, 'new', 'sms', "
                "'', 'zh-CN', 'other', 'emergency', '楼道的灯坏了', '', '[]', false, '', '', "
                "'', '', '2025-01-01 00:00:00+00:00', '2025-01-01 00:00:00+00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO case_events (case_id, kind, actor, detail, created_at) VALUES "
                "(1, 'note', 'x', '{\"text\": \"water meter\"}', '2025-01-01 00:00:00+00:00')"
            )
        )
    engine.dispose()
    migrate.upgrade(url)


def _timeline_rows(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(text("SELECT count(*) FROM case_events"))
    engine.dispose()
    return int(count or 0)


def _search_after_migration(url: str) -> None:
    _upgrade_with_old_rows(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        for query in ("灯坏", "meter"):
            condition = search_condition(query, connection)
            assert condition is not None
            statement = select(Case.id, Case.priority).where(condition)
            assert connection.execute(statement).all() == [(1, 0)], query
    engine.dispose()
    command.downgrade(migrate.alembic_config(url), "0002")
    assert _timeline_rows(url) == 1  # neither direction rebuilds cases and loses timelines


def test_the_migration_fills_search_text_and_priority_on_sqlite(tmp_path: Path) -> None:
    _search_after_migration(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
def test_the_migration_fills_search_text_and_priority_on_postgresql() -> None:
    with new_postgres_database() as url:
        _search_after_migration(url)
