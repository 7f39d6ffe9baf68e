"""What the Mandarin rules (triage/rules/zh-CN.toml) must catch and must leave alone.

Every sentence here was read wrongly by the old keyword triage: an emergency told by its signs
and not by its name, an alarm word inside another word, an alarm word said of the past, denied,
meant figuratively or asked about, and urgent needs that are not a broken supply.
"""

import pytest

from triage import triage

LOCALE = "zh-CN"


def _quoted(phrase: str, words: tuple[str, ...]) -> bool:
    return any(phrase in word for word in words)


# 1. The signs of an emergency, in the resident's words, without its name.
@pytest.mark.parametrize(
    ("text", "phrase", "category"),
    [
        ("我爸坐在地上起不来了，一直喊腰疼", "起不来", "health"),
        ("老伴儿叫了半天也叫不醒，手脚冰凉", "叫不醒", "health"),
        ("我妈突然嘴歪了，说话也含糊不清", "嘴歪", "health"),
        ("老头子胸口闷得厉害，满头冷汗", "胸口闷", "health"),
        ("我 喘 不 过 气 来 了 快 来 人", "喘不过气", "health"),
        ("我外婆吃汤圆噎住了，脸都憋紫了", "噎住", "health"),
        ("厨房里一股臭鸡蛋的味道，越来越重", "臭鸡蛋", "safety"),
        ("插座冒火星了，还有一股烧焦的味儿", "火星", "safety"),
    ],
)
def test_signs_of_an_emergency_page_someone(text: str, phrase: str, category: str) -> None:
    guess = triage(text, LOCALE)
    assert guess.urgency == "emergency"
    assert _quoted(phrase, guess.urgency_words)
    assert guess.category == category


# 2. An alarm word inside a longer word, or spaced out by Vosk, is not an alarm.
@pytest.mark.parametrize(
    "text",
    [
        "燃气费在哪交？",
        "燃 气 费 怎么 交",
        "社区发的急救箱能换个新的吗",
        "心脏内科门诊几点开门",
        "天 然 气 费 能 不 能 代 缴",
    ],
)
def test_alarm_words_inside_other_words_are_normal(text: str) -> None:
    assert triage(text, LOCALE).urgency == "normal"


# 3. Said of the past, denied, meant figuratively or asked about: no page.
@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("去年冬天我在冰上摔倒过，现在想报名防跌倒的课", "past"),
        ("前年我老伴儿中风过，现在恢复得挺好", "past"),
        ("家里没有煤气味，就是想换个新灶台", "negation"),
        ("这个月房租愁得我喘不上气了", "harmless"),
        ("请问社区什么时候组织急救培训", "harmless"),
    ],
)
def test_past_denied_figurative_and_asked_alarms_are_normal(text: str, why: str) -> None:
    guess = triage(text, LOCALE)
    assert guess.urgency == "normal"
    assert why in {reason for _, reason in guess.silenced}


def test_a_heart_operation_years_ago_is_not_an_emergency() -> None:
    assert triage("我爸前些年心脏搭了桥，想问问复查的事", LOCALE).urgency == "normal"


# 5. Urgent needs that are not a broken supply, and threats that are emergencies.
@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("家里一点吃的都没了，我腿不好下不了楼", "吃的都没"),
        ("照顾我妈的护工今天没来，我一个人弄不动她", "没来"),
        ("我爸现在在银行，要给一个自称公安的人转账，劝不住", "转账"),
        ("房东让我这周就搬走，不搬就换锁", "搬走"),
        ("我出门扔垃圾门被风关上了，钥匙锁在屋里了", "钥匙锁在"),
    ],
)
def test_urgent_needs_are_urgent_not_emergencies(text: str, phrase: str) -> None:
    guess = triage(text, LOCALE)
    assert guess.urgency == "urgent"
    assert _quoted(phrase, guess.urgency_words)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("我女婿喝醉了拿着刀说要砍我", "拿着刀"),
        ("楼下那个人拿着菜刀在砸门", "拿着菜刀"),
        ("插座冒火花，一股烧焦的味儿", "烧焦"),
    ],
)
def test_a_knife_and_sparks_from_a_socket_are_emergencies(text: str, phrase: str) -> None:
    guess = triage(text, LOCALE)
    assert guess.urgency == "emergency"
    assert guess.category == "safety"
    assert _quoted(phrase, guess.urgency_words)
