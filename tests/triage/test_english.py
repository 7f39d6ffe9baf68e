"""What the English (en-US) rules must catch and must leave alone.

Every sentence here is our own (none is in the labelled set), and every one was read wrongly by
the old keyword triage: it paged nobody for a drooping face, and paged someone for a gas bill.
"""

import pytest

from triage import triage


def check(text: str, urgency: str, category: str | None = None, words: tuple[str, ...] = ()):
    guess = triage(text, "en-US")
    assert guess.urgency == urgency, (text, guess)
    if category is not None:
        assert guess.category == category, (text, guess)
    for word in words:  # the alarm is quoted from the message itself, for the on-duty person
        assert word in guess.urgency_words, (text, word, guess.urgency_words)
    return guess


# 1. Symptoms and situations, not the alarm's name.
@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        (
            "Dad's face is drooping on one side and his words come out slurred",
            "health",
            ("slurred",),
        ),
        ("my wife is clutching her chest and sweating buckets", "health", ("clutching her chest",)),
        ("Mum is on the kitchen floor and can't get up", "health", ("can't get up",)),
        ("the man next door isn't responding when I shake him", "health", ("isn't responding",)),
        (
            "uh my husband took too many of his pills and i cant wake him",
            "health",
            ("took too many",),
        ),
        # The category is read as sanitation (smells): a known weakness; the page is right.
        ("It smells like rotten eggs all over the third floor hallway", None, ("rotten eggs",)),
        ("the lady upstairs is gasping and her lips are turning blue", "health", ("gasping",)),
    ],
)
def test_symptoms_and_situations_page_someone(text: str, category: str, words: tuple[str, ...]):
    check(text, "emergency", category, words)


# 2. Alarm words inside compounds, across hyphens, and as Vosk splits a compound in two.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("the kids set off fire works in the lot every night", "noise"),
        ("my grandson is a fire fighter now, can he give a talk at the center", None),
        ("can we get fire wood for the fire place in the community room", None),
        ("Where are the smoke-free building rules posted?", None),
        ("gas-powered leaf blowers at 7am every Sunday", "noise"),
    ],
)
def test_alarm_words_inside_other_words_are_not_alarms(text: str, category: str | None):
    check(text, "normal", category)


# 3. Past, negated, figurative, unrelated uses, and asking about.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I fell behind on my rent, can someone help me with the forms", None),  # figurative
        ("My husband had a stroke two years ago, we need a ramp at the side door", None),  # past
        ("No smell of gas, I just want someone to look at the old stove", "safety"),  # negated
        ("Where do I get a free smoke detector for my kitchen?", "safety"),  # asking
        ("I nearly had a heart attack when I saw the water bill", None),  # figurative
        ("We had a small fire in the kitchen last year, can I get an extinguisher", "safety"),
        ("I used to smoke but I quit, is there a support group for my husband", None),
    ],
)
def test_past_negated_figurative_and_asking_are_normal(text: str, category: str | None):
    guess = check(text, "normal", category)
    assert guess.urgency_words == ()


def test_a_silenced_alarm_says_why():
    guess = check("No smell of gas, I just want someone to look at the old stove", "normal")
    assert any("gas" in str(reason) for reason in guess.silenced)


# 4. Word forms: stems, curly apostrophes, and Vosk's contractions without apostrophes.
@pytest.mark.parametrize(
    ("text", "urgency", "category", "words"),
    [
        ("the radiator pipe leaks all over the bedroom floor", "urgent", "drainage", ("leaks",)),
        ("both bathroom drains gurgle and back up into the tub", "urgent", "drainage", ()),
        ("I got scammed on the phone last month, how do I report it", "normal", "legal", ()),
        ("her cut bleeds heavily through the towel", "emergency", "health", ("bleeds heavily",)),
        ("My husband can’t breathe", "emergency", "health", ("can't breathe",)),
        ("She won’t wake up", "emergency", "health", ("won't wake",)),
        ("i cant get up off the floor", "emergency", "health", ("cant get up",)),
        ("my wife cant breathe please hurry", "emergency", "health", ("cant breathe",)),
        ("i havent eaten since tuesday theres nothing in the fridge", "urgent", "hardship", ()),
        # Vosk writes no commas: "but" closes the clause, so "didnt" does not silence the rest
        ("she didnt fall but she cant get off the floor", "emergency", "health", ()),
    ],
)
def test_word_forms_and_spoken_forms(
    text: str, urgency: str, category: str, words: tuple[str, ...]
):
    check(text, urgency, category, words)


# 5. Urgent needs that are not utilities; a knife, sparks and a burning smell are emergencies.
@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        (
            "There's no food in the house and my check doesn't come till Friday",
            "hardship",
            ("no food",),
        ),
        (
            "My mother's carer didn't come this morning and she can't get out of bed",
            "health",
            ("carer didn't",),
        ),
        (
            "I'm at the bank right now, a man on the phone says I must wire money today",
            "legal",
            ("at the bank right now",),
        ),
        ("The marshal is coming Thursday to evict us", "legal", ("evict",)),
    ],
)
def test_urgent_needs_that_are_not_utilities(text: str, category: str, words: tuple[str, ...]):
    check(text, "urgent", category, words)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("My son is threatening me with a knife", ("knife",)),
        (
            "sparks are coming out of the socket and there's a burning smell",
            ("sparks", "burning smell"),
        ),
    ],
)
def test_a_knife_and_sparks_with_a_burning_smell_page_someone(text: str, words: tuple[str, ...]):
    check(text, "emergency", "safety", words)
