"""Scoring transcripts against reference text: character error rate (CER).

Used by the speech tests and ``benchmarks/transcription_bare.py`` to compare ways of feeding
audio to Vosk. Scoring follows ``shared/speech/README.md``: spaces and punctuation are
removed before comparing (Zeroth-Korean references are segmented into morphemes, so word
boundaries differ from Vosk's), and Vosk's Korean number notation is normalised first:

* ``[17]`` (digits in square brackets) is read out as Sino-Korean (``십칠``), which is how
  the Zeroth references spell numbers (``이천 십 팔 년``);
* ``(천)`` (a number word in round brackets) loses its brackets.

Plain digit runs (``17``, as :func:`speech.recognizer.display_text` shows numbers) are read the
same way, so a display transcript scores exactly like Vosk's raw text.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["cer", "corpus_cer", "edit_distance", "normalise_for_scoring", "sino_korean_number"]

_DIGITS = "영일이삼사오육칠팔구"
_SMALL_UNITS = ("", "십", "백", "천")
_BIG_UNITS = ("", "만", "억", "조", "경")
_DIGIT_RUN = re.compile(r"\d+")


def sino_korean_number(n: int) -> str:
    """Read a non-negative integer the Sino-Korean way: 17 → 십칠, 2018 → 이천십팔.

    A leading 일 is dropped before 십/백/천 and before 만 (만 not 일만), as in speech.
    Numbers beyond the 경 range are read digit by digit.
    """
    if n < 0:
        raise ValueError("negative numbers are not supported")
    if n == 0:
        return "영"
    if n >= 10 ** (4 * len(_BIG_UNITS)):
        return "".join(_DIGITS[int(d)] for d in str(n))
    groups: list[str] = []
    group_index = 0
    while n:
        n, group = divmod(n, 10_000)
        if group:
            text = ""
            for pos in range(3, -1, -1):
                digit = (group // 10**pos) % 10
                if digit == 0:
                    continue
                if digit == 1 and pos > 0:
                    text += _SMALL_UNITS[pos]
                else:
                    text += _DIGITS[digit] + _SMALL_UNITS[pos]
            if group_index == 1 and text == "일":
                text = ""
            groups.append(text + _BIG_UNITS[group_index])
        group_index += 1
    return "".join(reversed(groups))


def normalise_for_scoring(text: str, *, read_digits_korean: bool = True) -> str:
    """Reduce a transcript to the characters CER is computed on.

    Removes whitespace, punctuation, symbols and brackets (so ``[17]`` → ``17`` and
    ``(천)`` → ``천``), lower-cases, and — when ``read_digits_korean`` — spells digit runs
    as Sino-Korean (``17`` → ``십칠``).
    """
    text = unicodedata.normalize("NFC", text)
    if read_digits_korean:
        text = _DIGIT_RUN.sub(lambda m: sino_korean_number(int(m.group())), text)
    kept = [
        ch
        for ch in text
        if not ch.isspace() and unicodedata.category(ch)[0] not in ("P", "S", "Z", "C")
    ]
    return "".join(kept).lower()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (unit-cost insert/delete/substitute)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ca != cb),  # substitution
                )
            )
        previous = current
    return previous[-1]


def cer(reference: str, hypothesis: str, *, read_digits_korean: bool = True) -> float:
    """Character error rate of ``hypothesis`` against ``reference``.

    Both are normalised with :func:`normalise_for_scoring`; the result is the edit distance
    divided by the normalised reference length (it can exceed 1.0 for long hypotheses).
    An empty reference scores 0.0 against an empty hypothesis and 1.0 otherwise.
    """
    ref = normalise_for_scoring(reference, read_digits_korean=read_digits_korean)
    hyp = normalise_for_scoring(hypothesis, read_digits_korean=read_digits_korean)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def corpus_cer(pairs: list[tuple[str, str]], *, read_digits_korean: bool = True) -> float:
    """Corpus-level CER: total edits over total reference characters of (ref, hyp) pairs."""
    edits = 0
    length = 0
    for reference, hypothesis in pairs:
        ref = normalise_for_scoring(reference, read_digits_korean=read_digits_korean)
        hyp = normalise_for_scoring(hypothesis, read_digits_korean=read_digits_korean)
        edits += edit_distance(ref, hyp)
        length += len(ref)
    return edits / length if length else 0.0
