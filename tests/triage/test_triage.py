"""The triage engine itself: rule files, matching, and what a message with no words gets.

What each language's rules must catch and must leave alone is in test_<language>.py.
"""

from dataclasses import replace

import pytest

from triage import CATEGORIES, triage
from triage.model import labelled
from triage.rules import Cue, _pattern, alarms, find_all, load_rules
from triage.text import analyse

LOCALES = ("zh-CN", "ko-KR", "en-US")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_rule_file_uses_known_categories(locale: str) -> None:
    assert set(load_rules(locale).categories) <= set(CATEGORIES)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_pattern_has_words_the_analyser_keeps(locale: str) -> None:
    rules = load_rules(locale)
    patterns = [*rules.emergency, *rules.urgent, *rules.harmless]
    patterns += [cue.pattern for cue in rules.cues]
    patterns += [p for group in rules.categories.values() for p in group]
    assert [p.text for p in patterns if not p.parts] == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_labelled_set_uses_known_labels_and_keeps_a_held_out_part(locale: str) -> None:
    examples = labelled(locale)
    assert len(examples) >= 150
    assert {e.category for e in examples} <= set(CATEGORIES)
    assert {e.urgency for e in examples} <= {"emergency", "urgent", "normal"}
    assert {e.split for e in examples} == {"tune", "held_out"}
    assert len({e.text for e in examples}) == len(examples)


def test_nothing_recognisable_is_other_and_normal() -> None:
    guess = triage("谢谢", "zh-CN")
    assert (guess.category, guess.urgency) == ("other", "normal")
    assert guess.matched == ()


def test_an_empty_message_is_other_and_normal() -> None:
    assert triage("  ", "ko-KR").urgency == "normal"


def test_unknown_locale_falls_back_to_mandarin_rules() -> None:
    assert load_rules("fr-FR").locale == "zh-CN"
    assert triage("路灯不亮了", "fr-FR").category == "facilities"


def test_text_is_normalised_for_width_apostrophes_and_case() -> None:
    normalised, tokens = analyse("I CAN’T ｇｅｔ up", "en-US")
    assert normalised == "i can't get up"
    assert [t.norm for t in tokens] == ["i", "can", "not", "get", "up"]


def test_vosk_spaces_between_chinese_words_are_dropped() -> None:
    normalised, _ = analyse("我 家 楼下 的 下水道 堵 了", "zh-CN")
    assert normalised == "我家楼下的下水道堵了"


def test_the_deciding_words_are_quoted_from_the_message() -> None:
    guess = triage("There is SMOKE coming from the kitchen", "en-US")
    assert guess.urgency == "emergency"
    assert any("smoke" in word for word in guess.urgency_words)


def test_dots_let_the_next_part_come_in_a_later_clause_and_quote_the_pieces() -> None:
    rules = load_rules("en-US")
    text, tokens = analyse("A snake got into the kitchen. It bit my husband", "en-US")
    near, far = _pattern("snake bit", "en-US"), _pattern("snake ... bit", "en-US")
    assert find_all([near], tokens, text, rules) == []
    assert [m.quote for m in find_all([far], tokens, text, rules)] == ["snake…bit"]


def test_a_message_cue_silences_an_alarm_in_another_clause() -> None:
    calm = _pattern("no hurry", "en-US")
    text, tokens = analyse("The radiator is leaking. No hurry, any day this week", "en-US")
    leak = [_pattern("leaking", "en-US")]
    clause_only = replace(load_rules("en-US"), harmless=(), cues=(Cue("negation", calm, 9, 9),))
    anywhere = replace(clause_only, cues=(Cue("negation", calm, 9, 9, anywhere=True),))
    assert [a.silenced_by for a in alarms(leak, tokens, text, clause_only)] == [""]
    assert [a.silenced_by for a in alarms(leak, tokens, text, anywhere)] == ["negation"]
