"""Words out of a message, the same way for a resident's text, a pattern and a Vosk transcript.

Each language has its own analyser, so that an alarm word matches only a whole word: Chinese is
cut into words by jieba, Korean into morphemes by Kiwi (이불이 is 이불 + 이, never 불이), and
English words are reduced to their Snowball stems (drains, drained -> drain). Before that, every
text is normalised: full-width forms folded (NFKC), curly apostrophes and quotes made straight,
lower case.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CLAUSE_END = "。！？!?；;，,、.:：\n…"
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'})
_SPACE_BETWEEN_HAN = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
# English contractions Vosk writes without their apostrophe ("i cant get up").
_SPOKEN_CONTRACTIONS = {
    "cant": "can't",
    "wont": "won't",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "isnt": "isn't",
    "aint": "ain't",
    "wasnt": "wasn't",
    "couldnt": "couldn't",
    "im": "i'm",
    "ive": "i've",
    "shes": "she's",
    "hes": "he's",
    "theres": "there's",
    "whats": "what's",
    "havent": "haven't",
    "hasnt": "hasn't",
    "hadnt": "hadn't",
    "arent": "aren't",
    "werent": "weren't",
    "wouldnt": "wouldn't",
    "shouldnt": "shouldn't",
    "mustnt": "mustn't",
    "theyre": "they're",
    "youre": "you're",
    "thats": "that's",
    "theyve": "they've",
    "youve": "you've",
}


@dataclass(frozen=True)
class Token:
    """One word (Chinese, English) or morpheme (Korean) of a message."""

    norm: str  # what patterns and the model compare: the word, the morpheme, the stem
    start: int  # where it stands in the normalised text, to quote it back to staff
    end: int
    clause: int  # tokens of one clause share it; negation and "last year" stay in their clause


def normalise(text: str) -> str:
    """Fold the ways one message may be typed or transcribed into one."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    return _SPACE_BETWEEN_HAN.sub("", text)  # Vosk writes Chinese with spaces between words


def language(locale: str) -> str:
    return locale.split("-")[0].lower()


def analyse(text: str, locale: str) -> tuple[str, list[Token]]:
    """The normalised text and its tokens, for the language of `locale` (Chinese by default)."""
    normalised = normalise(text)
    analyser = _ANALYSERS.get(language(locale), _chinese)
    return normalised, analyser(normalised)


def _with_clauses(pieces: list[tuple[str, int, int]]) -> list[Token]:
    tokens: list[Token] = []
    clause = 0
    for norm, start, end in pieces:
        if norm and all(char in CLAUSE_END for char in norm):
            clause += 1
            continue
        if norm.strip() and any(char.isalnum() for char in norm):
            tokens.append(Token(norm, start, end, clause))
    return tokens


# ------------------------------------------------------------------ Chinese
@functools.cache
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def add_chinese_words(words: list[str]) -> None:
    """Keep the rules' phrases whole when jieba cuts (倒地不起 stays one word)."""
    tokenizer = _jieba()
    for word in words:
        tokenizer.add_word(word)  # type: ignore[attr-defined]


def _chinese(text: str) -> list[Token]:
    # Dictionary words only: jieba's HMM guesses new words from characters it cannot place,
    # and its guesses (腰动, 手肿, 我头, 人直) swallowed the words the rules look for (动不了, 肿).
    tokenizer = _jieba()
    pieces = tokenizer.tokenize(text, HMM=False)  # type: ignore[attr-defined]
    return _with_clauses([(word, start, end) for word, start, end in pieces])


# ------------------------------------------------------------------ Korean
# Words Kiwi's model cuts wrongly, or one way here and another there, in residents' messages
# (이불이 as 이 + 불 + 이; 비밀번호 whole or in two): kept whole in messages and rules alike.
# fmt: off
_KOREAN_WORDS = (
    "이불", "난간", "비밀번호", "똥물", "결로", "요양보호사", "가스레인지", "안전계좌",
    "생활지원사", "층간소음", "담배꽁초", "소화기", "수도관", "석고보드", "주민등록증", "강제집행",
    "간병인", "호흡곤란", "연탄가스", "불길", "탄내", "수면제", "독거노인", "물바다", "말벌",
    "도어락", "한쪽",
)
# Words Kiwi tags as a noun in one sentence and an adverb in the next: always the noun.
_KOREAN_NOUN_OR_ADVERB = frozenset({
    "혼자", "오늘", "어제", "내일", "모레", "지금", "이제", "요즘", "아까", "매일", "평소", "당장",
    "서로", "조금",
})
# fmt: on
# Endings that say nothing but "this is a sentence" (나요 is 나 + 어요); 넘어질까 keeps its ᆯ까.
_KOREAN_PLAIN_ENDINGS = frozenset({"어", "아", "여", "어요", "아요", "여요", "다", "지"})
# Letters: a rule's part is one short word; a message, even unspaced, is longer.
_KOREAN_PART = 8
# 한 쪽 팔, 왼 쪽: Vosk's space splits the word, Kiwi reads a determiner and a noun.
_KOREAN_SIDES = {"한/M": "한쪽/N", "왼/M": "왼쪽/N", "오른/M": "오른쪽/N"}


@functools.cache
def _kiwi() -> object:
    from kiwipiepy import Kiwi

    kiwi = Kiwi()
    # Vosk puts spaces inside Korean words ("쓰러 졌어요", "할 매"): let a morpheme span up to two.
    config = getattr(kiwi, "global_config", kiwi)
    config.space_tolerance = 2
    for word in _KOREAN_WORDS:
        kiwi.add_user_word(word, "NNG", 0.0)
    return kiwi


def _korean(text: str) -> list[Token]:
    # Kiwi reads across Vosk's spaces: "넘어졌 어요" is 넘어지+었+어요.
    tokens = list(_kiwi().tokenize(text))  # type: ignore[attr-defined]
    if len(text.strip()) <= _KOREAN_PART and not any(char.isspace() for char in text.strip()):
        tokens = _korean_stem(tokens)
    pieces = []
    for token in tokens:
        end = token.start + token.len
        if token.form == "못하" and token.tag.startswith("V"):  # 움직이질 못하세요: 못 + 하
            pieces += [("못/M", token.start, end), ("하/V", token.start, end)]
            continue
        if token.form == "쪽" and pieces and pieces[-1][0] in _KOREAN_SIDES:  # 한 쪽 is 한쪽
            pieces[-1] = (_KOREAN_SIDES[pieces[-1][0]], pieces[-1][1], end)
            continue
        pieces.append((_korean_norm(token.form, token.tag), token.start, end))
        if token.tag == "EF":  # a sentence's final ending closes its clause, stop or none (Vosk)
            pieces.append((".", end, end))
    return _with_clauses(pieces)


def _korean_stem(tokens: list[Any]) -> list[Any]:
    """One word's trailing ending that Kiwi supplied, not the writer, left off.

    A rule's part is one word: 나요, 쓰러졌, 튀어 or 타다 stand for the verb (나, 쓰러지, 튀, 타)
    whatever ending a message gives it, so a plain final ending (어, 어요, 다; 나요 is 나 + 어요
    on the same letters) or a past tense's bare final consonant is not part of what must match,
    while one that means something stays (넘어질까 is 넘어지 + ᆯ까). A message of one short word
    loses at most that ending.
    """
    while len(tokens) > 1:
        last, before = tokens[-1], tokens[-2]
        plain = last.tag.startswith("E") and last.form in _KOREAN_PLAIN_ENDINGS
        if last.tag == "Z_CODA" or (plain and before.tag[0] in "VXE"):
            tokens = tokens[:-1]
        else:
            break
    return tokens


def _korean_norm(form: str, tag: str) -> str:
    """The morpheme with its part of speech: 불/N (fire) is not 불/V (to blow)."""
    if tag in {"SF", "SP", "SE"}:
        return "."
    if tag.startswith("S") and tag not in {"SL", "SH", "SN"}:
        return ""  # quotes, brackets, symbols
    if tag == "Z_CODA":  # a final consonant Kiwi could not join to a syllable: 쓰러졌 ends in 었
        return "었/E" if form == "ᆻ" else ""
    if tag in {"XSV", "XSA"}:  # 못해 and 못 해, 이상해 and 이상 해: Kiwi tags 하 either way
        return f"{form}/V"
    if form in _KOREAN_NOUN_OR_ADVERB and tag in {"NNG", "MAG"}:  # 혼자, 오늘: tagged either way
        return f"{form}/N"
    if form == "나" and tag == "VX":  # 검사하고 나서 ("after"), not 나다: 피가 나, 불이 나
        return "나/X"
    return f"{form}/{tag[0]}"


# ------------------------------------------------------------------ English
_ENGLISH_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.!?;,:]")


@functools.cache
def _stemmer() -> object:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


# Words that are two words as far as meaning goes ("i cannot breathe" is "i can't breathe").
_ENGLISH_SPLIT = {
    "cannot": ("can", "not"),
    "ain't": ("is", "not"),
    "gonna": ("going", "to"),
    "wanna": ("want", "to"),
    "gotta": ("got", "to"),
}
# A new clause starts at "but": "no fire, but ..." and "it didn't hurt but now he can't get up"
# keep a negation on its own side, as a comma would (Vosk writes no commas).
_ENGLISH_CLAUSE_WORDS = {"but"}
# Words a language's rules keep whole, where the stem would join two senses: "fired" (from a job)
# is not "fire", "collapsible" not "collapsed", "trapped" not a "trap".
_ENGLISH_WHOLE: set[str] = set()


def keep_english_words(words: list[str]) -> None:
    _ENGLISH_WHOLE.update(word.lower() for word in words)


def _english(text: str) -> list[Token]:
    stem = _stemmer().stemWord  # type: ignore[attr-defined]
    pieces = []
    for match in _ENGLISH_WORD.finditer(text):
        word = _SPOKEN_CONTRACTIONS.get(match.group(), match.group())
        if word in CLAUSE_END:
            pieces.append((word, match.start(), match.end()))
            continue
        if word in _ENGLISH_CLAUSE_WORDS:
            pieces.append((",", match.start(), match.start()))
        if word in _ENGLISH_SPLIT:
            pieces += [(stem(part), match.start(), match.end()) for part in _ENGLISH_SPLIT[word]]
            continue
        base, _, ending = word.partition("'")
        if ending == "t" and base.endswith("n"):  # can't, won't, didn't: the verb, then "not"
            verb = {"ca": "can", "wo": "will", "sha": "shall"}.get(base[:-1], base[:-1])
            pieces.append((stem(verb), match.start(), match.end()))
            pieces.append(("not", match.start(), match.end()))
        elif word in _ENGLISH_WHOLE:
            pieces.append((word, match.start(), match.end()))
        else:
            pieces.append((stem(base), match.start(), match.end()))
    return _with_clauses(pieces)


_ANALYSERS: dict[str, Callable[[str], list[Token]]] = {
    "zh": _chinese,
    "ko": _korean,
    "en": _english,
}
