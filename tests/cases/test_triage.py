from cases.models import Urgency
from cases.triage import CATEGORIES, load_lexicon, triage


def test_every_lexicon_uses_known_categories() -> None:
    for locale in ("zh-CN", "ko-KR", "en-US"):
        assert set(load_lexicon(locale).categories) <= set(CATEGORIES)


def test_mandarin_blocked_sewer_is_drainage_and_urgent() -> None:
    guess = triage("我家楼下的下水道堵了，污水倒灌进屋里", "zh-CN")
    assert guess.category == "drainage"
    assert guess.urgency == Urgency.URGENT


def test_korean_with_vosk_morpheme_spaces_still_matches() -> None:
    guess = triage("할머니 가 넘어졌 어요 가스 냄새 도 나요", "ko-KR")
    assert guess.urgency == Urgency.EMERGENCY
    assert "가스" in guess.matched


def test_english_matches_whole_words_only() -> None:
    assert triage("the firewood is stacked by the wall", "en-US").urgency == Urgency.NORMAL
    assert triage("there is a fire in the stairwell", "en-US").urgency == Urgency.EMERGENCY


def test_nothing_recognisable_is_other_and_normal() -> None:
    guess = triage("谢谢", "zh-CN")
    assert (guess.category, guess.urgency) == ("other", Urgency.NORMAL)


def test_unknown_locale_falls_back_to_mandarin_lexicon() -> None:
    assert triage("路灯不亮了", "fr-FR").category == "facilities"
