"""Guess a case's category and urgency from its words, with a keyword lexicon per locale.

A guess for staff to confirm, not a verdict: cheap, explainable, and tunable by editing TOML.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

from cases.models import Urgency

OTHER = "other"
CATEGORIES = (
    "drainage",
    "facilities",
    "building_safety",
    "noise",
    "sanitation",
    "animals",
    "dispute",
    "administrative",
    "legal",
    "hardship",
    OTHER,
)


@dataclass(frozen=True)
class Lexicon:
    emergency: tuple[str, ...]
    urgent: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    spaced: bool  # whether words are separated by spaces (English) or not (CJK)


@dataclass(frozen=True)
class Triage:
    category: str
    urgency: Urgency
    matched: tuple[str, ...]


@functools.cache
def load_lexicon(locale: str) -> Lexicon:
    name = f"{locale}.toml"
    folder = resources.files("cases") / "lexicon"
    if not (folder / name).is_file():
        name = "zh-CN.toml"
    data = tomllib.loads((folder / name).read_text(encoding="utf-8"))
    return Lexicon(
        emergency=tuple(data["urgency"]["emergency"]),
        urgent=tuple(data["urgency"]["urgent"]),
        categories={key: tuple(words) for key, words in data["categories"].items()},
        spaced=locale.startswith("en"),
    )


def _hits(text: str, keywords: tuple[str, ...], spaced: bool) -> list[str]:
    if spaced:
        return [w for w in keywords if re.search(rf"\b{re.escape(w)}\b", text)]
    return [w for w in keywords if w in text]


def triage(text: str, locale: str) -> Triage:
    """Category with the most keyword hits (first listed wins a tie); urgency from its own lists."""
    lexicon = load_lexicon(locale)
    # Vosk writes Korean and Chinese with spaces between morphemes; keywords are unspaced.
    normalised = text.lower() if lexicon.spaced else re.sub(r"\s+", "", text)
    emergency = _hits(normalised, lexicon.emergency, lexicon.spaced)
    urgent = _hits(normalised, lexicon.urgent, lexicon.spaced)
    scores = {
        name: _hits(normalised, words, lexicon.spaced) for name, words in lexicon.categories.items()
    }
    best = max(scores, key=lambda name: len(scores[name]), default=OTHER)
    category = best if scores.get(best) else OTHER
    urgency = Urgency.EMERGENCY if emergency else Urgency.URGENT if urgent else Urgency.NORMAL
    return Triage(category, urgency, tuple(emergency + urgent + scores.get(category, [])))
