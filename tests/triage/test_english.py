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


# 5. Urgent needs that are not utilities; a knife in a threat, sparks and a burning smell are
# emergencies.
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
        ("My son is threatening me with a knife", ("with a knife",)),
        (
            "sparks are coming out of the socket and there's a burning smell",
            ("sparks", "burning smell"),
        ),
    ],
)
def test_a_knife_and_sparks_with_a_burning_smell_page_someone(text: str, words: tuple[str, ...]):
    check(text, "emergency", "safety", words)


# 6. Held-out lessons: harmless uses of alarm words that old rules paged someone for.
@pytest.mark.parametrize(
    "text",
    [
        # a floor of the building, not a person on the floor
        "the lady upstairs on the fourth floor bangs her cabinets late at night",
        "the man on the second floor leaves his recycling in the stairwell",
        # someone else's smoke, a fireplace, a compound word with the danger in it
        "smell of cigar smoke drifting into my bathroom vent from next door",
        "smoke from the neighbors wood stove comes in my window every evening",
        "Is the collapsible shopping cart from the loan closet free this week?",
        # weapon words that are no threat
        "the knife drawer in the community kitchen is stuck",
        "my late father's gun licence came in the mail, where do I send it",
        "broken bottles all over the side path again, can someone sweep",
        "can the van take us to the gun show at the fairgrounds",
        "my son got fired and needs help with his resume",
        # the past, far from the alarm or said another way
        "He had a small stroke 3 yrs ago, doing great now, is the balance class still on?",
        "she was mugged outside the pharmacy a while back, can we get a light there",
        "my husband collapsed at church last sunday, now he needs rides to the heart doctor",
        "the furnace exploded in the old building we lived in, can you check ours",
        # asking, a condition, a plan, a warning
        "what should i do if my husband falls and i cant lift him by myself",
        "what should we do during a gas leak, do we open the windows",
        "how long can someone lie on the floor before it is dangerous",
        "my doctor says I'm at risk of a heart attack, is there a cooking class",
        "my son warned me the old wiring could start a fire someday, can someone look",
        "the ice on the back steps is going to make someone fall, please salt them",
        # figurative
        "my grandsons drums are so loud its going to kill me",
        "she's going to kill me if I forget her birthday, can I still add her to the trip",
        "i nearly fainted when i saw the electric bill",
        "this humidity is killing me, is the cooling room open",
        "our bingo caller is on fire tonight lol",
        "the landlord is bleeding us dry with these fees",
        "my dad doesnt want to live in a nursing home, what are the options",
        # objects that fell, not people
        "the smoke detector fell off the ceiling, can the handyman put it back",
        "the pool table in the rec room has a broken leg",
    ],
)
def test_harmless_uses_do_not_page_anyone(text: str):
    guess = triage(text, "en-US")
    assert guess.urgency != "emergency", (text, guess)


# 7. Emergencies in words the old rules did not know, and ones a cue must not silence.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("dad went down in the bathroom and hes too heavy for me to lift", "health"),
        ("mr ortiz is on his kitchen floor and says he has been there all night", "health"),
        ("he cant talk all of a sudden and his right side wont work", "health"),
        ("my wife is having trouble speaking and her face looks weird on one side", "health"),
        ("Theres a hissing noise behind the stove and it smells like sulfur", "safety"),
        ("the CO alarm is beeping and we all have headaches", "safety"),
        ("the porch above us is sagging and people are standing under it", None),
        ("somebody is trying to force my door open", "safety"),
        ("a man is hitting an old lady in the parking lot", "safety"),
        ("my neighbor broke in and is still in the apartment", "safety"),
        ("my brother is on the roof and says hell jump", "health"),
        ("my friend texted me goodbye and said she took a bunch of pills", "health"),
        # a past cue cut off by "now", "since" and "started"
        ("she fell last night and has been on the floor since", "health"),
        ("my husband had a stroke last year and now his face is drooping again", "health"),
        ("the gas smell started yesterday and now its really strong", "safety"),
        # "not feeling well" negates the feeling, not the chest pain; negation stops at "and"
        ("im not feeling well, my chest hurts and im sweating", "health"),
        ("dad isnt making sense and one side of his face is drooping", "health"),
        # a cue's words stand together: no "is there a" in "is sparking and there's a"
        ("the outlet is sparking and theres a burning smell", "safety"),
    ],
)
def test_new_wordings_of_emergencies_page_someone(text: str, category: str | None):
    check(text, "emergency", category)


# 8. Urgent needs said other ways.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("the tap water is brown and smells, we cant drink it since this morning", "facilities"),
        ("a caller says his social security number is suspended and he'll be arrested", "legal"),
        ("the new owner told them to be out in 3 days or he puts their stuff on the street", None),
        ("a big chunk of plaster came down in the hall and more is hanging", "building_safety"),
        ("i am out of my seizure medicine and the pharmacy is closed", "health"),
        ("we aint got no heat and its freezing in here", "facilities"),
    ],
)
def test_urgent_needs_said_other_ways(text: str, category: str | None):
    check(text, "urgent", category)


def test_a_weapon_in_a_hand_still_pages_someone():
    check("a guy in the lobby is waving a kitchen knife at people", "emergency", "safety")
    check("he pulled out a gun in the parking lot", "emergency", "safety")


def test_an_alarm_is_quoted_once():
    guess = triage("he pulled out a gun and pointed it at me", "en-US")
    assert len(guess.urgency_words) == len(set(guess.urgency_words))
