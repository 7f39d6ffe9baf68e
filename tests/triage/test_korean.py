"""What the Korean rules must catch and must leave alone.

Every sentence here is one the old keyword triage got wrong (it matched 가스, 불이, 피가, 연기 as
letters, anywhere, and knew no symptom), and none is in the labelled set.
"""

import pytest

from triage import triage

KO = "ko-KR"


# 1. Symptoms and situations, not the alarm's name: an emergency, in the right category.
@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("아버지가 갑자기 말이 어눌해지고 오른팔에 힘이 안 들어가요", "health", "말이 어눌"),
        ("할머니 입술이 새파래지고 숨을 헐떡거리세요", "health", "입술이 새파래"),
        ("엄마가 가슴을 부여잡고 식은땀을 흘리세요", "health", "식은땀"),
        ("할아버지가 떡을 드시다 목에 걸려 캑캑거리세요", "health", "목에 걸려"),
        ("옆집 할머니가 문 앞에 누워 계신데 불러도 대답이 없어요", "health", "불러도 대답"),
        ("욕실에서 미끄러지셔서 혼자 못 일어나세요", "health", "못 일어나"),
        ("멀티탭에서 매캐한 냄새가 나고 까맣게 그을렸어요", "safety", "그을렸"),
        ("부엌에서 계란 썩은 냄새 같은 게 계속 나요", "safety", "계란 썩은 냄새"),
    ],
)
def test_symptoms_and_situations_are_emergencies(text: str, category: str, words: str) -> None:
    guess = triage(text, KO)
    assert (guess.urgency, guess.category) == ("emergency", category)
    assert any(words in word for word in guess.urgency_words)


def test_a_stroke_in_a_vosk_transcript_with_spaces_inside_words() -> None:
    guess = triage("엄 마 가 말 을 못 하 고 입 이 돌아 갔 어 요", KO)
    assert (guess.urgency, guess.category) == ("emergency", "health")
    assert any("말 을 못 하" in word for word in guess.urgency_words)


# 2. Alarm letters inside other words, across word boundaries, or spread by Vosk's spaces.
@pytest.mark.parametrize(
    "text",
    [
        "겨울 이불이 얇아서 새 이불 받을 수 있나요",  # 불이 inside 이불이
        "가스비 감면 신청은 어디서 해요",  # a gas bill
        "경로당 커피가 다 떨어졌어요",  # 피가 inside 커피가
        "공연 기간이 언제까지예요",  # 연기 across 공연 기간
        "운동회가 비 때문에 연기됐대요",  # postponed, not smoke
        "의식주 지원 받을 수 있나요",  # 의식 inside 의식주
        "먹고 살려고 폐지 주워요 허리가 아파요",  # 살려 inside 살려고
        "경로당에 구급상자 하나 놔 주세요",  # a first-aid box
        "이 불 이 너무 얇 아 요 두꺼운 거 있 어 요",  # Vosk's 이불이
    ],
)
def test_alarm_letters_inside_other_words_are_normal(text: str) -> None:
    guess = triage(text, KO)
    assert guess.urgency == "normal"
    assert guess.urgency_words == ()


# 3. Past, denied, figurative, unrelated and asked about: not an emergency, nothing raised.
@pytest.mark.parametrize(
    "text",
    [
        "작년 겨울에 화장실에서 넘어졌었는데 지금은 잘 걸어요",  # past
        "지난달에 쓰러졌던 남편 재활 치료 받을 데 있어요",  # past
        "가스 냄새는 안 나는데 가스레인지 불이 약해요",  # denied
        "자식들 생각하면 가슴이 아파요 말벗 서비스 있나요",  # figurative
        "연탄가스 경보기 설치 신청하고 싶어요",  # unrelated: a request for an alarm
        "불이 나면 어디로 대피해야 하나요",  # asking
    ],
)
def test_past_denied_figurative_and_asking_are_not_emergencies(text: str) -> None:
    guess = triage(text, KO)
    assert guess.urgency == "normal"
    assert guess.urgency_words == ()


# 5. Urgent needs that are not utilities; and threats, sparks and burning that are emergencies.
@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("할머니 집에 쌀이 떨어져서 오늘 드실 게 하나도 없어요", "hardship", "쌀이 떨어져"),
        ("요양보호사 선생님이 오늘 안 오셔서 아버지가 점심도 못 드셨어요", "health", "안 오"),
        ("지금 은행 창구인데 검찰이라면서 돈을 안전계좌로 보내래요", "legal", "안전계좌"),
        ("집주인이 이번 주 토요일까지 방을 빼라고 해요 갈 데가 없어요", "legal", "방을 빼"),
    ],
)
def test_urgent_needs_are_urgent_not_emergencies(text: str, category: str, words: str) -> None:
    guess = triage(text, KO)
    assert (guess.urgency, guess.category) == ("urgent", category)
    assert any(words in word for word in guess.urgency_words)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("아들이 술 먹고 칼을 들고 위협해요", "칼을 들고"),
        ("콘센트에서 스파크가 튀고 타는 냄새가 나요", "스파크"),
    ],
)
def test_a_knife_threat_and_sparks_from_a_socket_are_emergencies(text: str, words: str) -> None:
    guess = triage(text, KO)
    assert (guess.urgency, guess.category) == ("emergency", "safety")
    assert words in guess.urgency_words


# 6. Dangers described in words the first rules did not know: a fall with "일어날 수가 없어",
# a break-in under way, a welfare check, low blood sugar, blood brought up, a pedestrian hit.
@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("아버지가 화장실에서 미끄러지셨는데 일어날 수가 없대요", "health", "일어날 수가 없"),
        ("누가 지금 창문을 깨고 들어오려고 해요", "safety", "창문을 깨고"),
        ("옆집 할아버지가 일주일째 안 보이시고 문을 두드려도 기척이 없어요", "health", "기척"),
        ("남편이 당뇨가 있는데 식은땀을 흘리면서 제 말을 못 알아들어요", "health", "못 알아들"),
        ("엄마가 기침을 하다가 피를 한 바가지나 토하셨어요", "health", "토하"),
        ("할머니가 길에서 차에 치였어요", "health", "차에 치였"),
        ("아들이 자살하겠다고 문자를 보냈어요", "health", "자살하겠"),
        ("엄마가 수면제를 통째로 드셨어요", "health", "통째로"),
        ("가슴이 묵직하고 조이는 것처럼 아파요", "health", "가슴이 묵직"),
        ("코피가 한 시간째 안 멎어요", "health", "안 멎"),
        ("할아버지가 사탕을 드시다가 목에 막혀서 켁켁거리세요", "health", "목에 막혀"),
        ("복도에서 달걀 썩는 냄새가 나요", "safety", "달걀 썩"),
        ("연기가 장난 아니에요 복도가 안 보여요", "safety", "장난 아니에요"),
    ],
)
def test_dangers_in_other_words_are_emergencies(text: str, category: str, words: str) -> None:
    guess = triage(text, KO)
    assert (guess.urgency, guess.category) == ("emergency", category)
    assert any(words in word for word in guess.urgency_words)


def test_a_break_in_in_a_vosk_transcript_with_spaces_inside_words() -> None:
    guess = triage("누 가 문 을 억 지 로 열 려 고 해 요", KO)
    assert (guess.urgency, guess.category) == ("emergency", "safety")


# 7. Urgent needs in the forms Kiwi reads three ways (나가래요: 래 + 요, 래요, 라고 + 하).
@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("집주인이 당장 나가래요", "legal", "나가래요"),
        ("아들이라면서 급하게 돈을 보내라고 해요", "legal", "돈을 보내라고"),
        ("천장에서 물이 새서 양동이로 받고 있어요", "drainage", "양동이로 받"),
    ],
)
def test_urgent_needs_in_other_forms_are_urgent(text: str, category: str, words: str) -> None:
    guess = triage(text, KO)
    assert (guess.urgency, guess.category) == ("urgent", category)
    assert any(words in word for word in guess.urgency_words)


# 8. More harmless uses: "하고 나서" (after) is not 나다; a question, a place denied, a habit,
# a figure of speech, an old fall, medicine gathered to throw away, a stove that will not light.
@pytest.mark.parametrize(
    "text",
    [
        "피 검사하고 나서 좀 어지러웠어요",  # 나서 is "after", not blood coming out
        "지진 나면 우리 아파트 무너지는 거 아니에요",  # an if, and a question
        "물 새는 곳은 없는데 수도요금이 많이 나왔어요",  # denied
        "숨 막히게 더운데 경로당 에어컨 좀 고쳐 주세요",  # figurative
        "남편이 코를 골다가 숨이 멎을 때가 있어요 수면 검사 받고 싶어요",  # sometimes
        "식은땀이 가끔 나는데 갱년기인가요",  # now and then
        "엊그제 넘어졌는데 병원 가니까 뼈는 괜찮대요",  # past
        "남은 약을 모아서 어디에 버려요",  # throwing medicine away, not hoarding it
        "가스레인지 불이 잘 안 붙어요",  # a stove that will not light
        "담배 연기가 장난 아니에요",  # somebody's cigarettes
    ],
)
def test_more_harmless_uses_are_normal(text: str) -> None:
    guess = triage(text, KO)
    assert guess.urgency == "normal"
    assert guess.urgency_words == ()
