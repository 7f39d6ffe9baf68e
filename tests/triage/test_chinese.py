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


# 6. Signs told in words the labelled set does not use: each a kind the rules once missed.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我爸在浴室滑了一下摔了，现在腰动不了", "health"),  # jieba guessed 腰动 a word
        ("老伴儿倒在沙发上，怎么推都推不醒", "health"),
        ("俺 娘 突然 嘴 斜 了 半边 身子 不 听 使唤", "health"),
        ("我心口像压了块石头，左胳膊发麻", "health"),
        ("孩子把奶奶的降压药当糖吃了半瓶", "health"),
        ("屋里生着炉子，我跟老伴儿都头晕想吐", "safety"),  # a stove, then who feels it
        ("厨房燃气报警器一直在响，满屋子都是味", "safety"),
        ("楼道里的电动车电瓶炸了，冒着白烟", "safety"),
        ("有个人用砖头砸一个老太太的头", "safety"),
        ("我妈留了张纸条说对不起我们，电话也关机了", "safety"),
        ("院子里窜出来一条蛇，我老伴儿被咬了，腿上两个牙印", "animals"),
    ],
)
def test_new_wordings_of_an_emergency_page_someone(text: str, category: str) -> None:
    guess = triage(text, LOCALE)
    assert guess.urgency == "emergency"
    assert guess.category == category


@pytest.mark.parametrize(
    "text",
    [
        "有个老太太掉进河里了，在水里扑腾",
        "小孩爬到窗台外面去了，这是六楼",
        "电梯坏在半空了，里面有个孕妇说肚子疼",
    ],
)
def test_someone_in_water_at_a_height_or_shut_in_a_lift_is_an_emergency(text: str) -> None:
    assert triage(text, LOCALE).urgency == "emergency"


def test_a_sign_told_in_two_clauses_is_quoted_in_its_pieces() -> None:
    guess = triage("院子里窜出来一条蛇，我老伴儿被咬了，腿上两个牙印", LOCALE)
    assert "蛇…咬" in guess.urgency_words


# 7. Alarm words in everyday Mandarin that are not alarms: things, not people; figures of
# speech; a word cut across two others; a pet's vet.
@pytest.mark.parametrize(
    "text",
    [
        "她们晚上要跳广场舞，音响太响了",
        "这个表格我都看晕了，谁能教教我",
        "高龄补贴一直下不来，都半年了",
        "孙子早上总起不来，上学老迟到",
        "楼下服装店喇叭天天喊跳楼价",
        "邻居在楼道里杀鸡，弄得一地血",
        "他打电话给我说下午来修水管",  # 打 … 我, words apart: not a beating
        "我明天要赶着火车去看闺女",  # 赶着|火车 holds 着火
        "救护车一晚上来回鸣笛，吵得睡不着",
        "我家的狗吃了老鼠药，口吐白沫，附近有宠物医院吗",
        "想死你们了，下周回来看你们",
    ],
)
def test_everyday_uses_of_alarm_words_do_not_page(text: str) -> None:
    assert triage(text, LOCALE).urgency != "emergency"


# 8. What a message says of itself anywhere in it: not urgent, only talk, only a rumour.
@pytest.mark.parametrize(
    "text",
    [
        "暖气片有点漏水，接个盆就行，不急，这周有空来看看",
        "邻居说要弄死他，其实就是嘴上说说，想找人调解",
        "群里有人说小区着火了，是真的吗",
    ],
)
def test_a_message_that_says_it_is_no_emergency_is_normal(text: str) -> None:
    guess = triage(text, LOCALE)
    assert guess.urgency == "normal"
    assert guess.silenced
