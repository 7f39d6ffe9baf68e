"""Triage: a message's category and urgency, and the words that decided them.

A guess for staff to confirm, shown with its reasons. Urgency is the higher of what the rules
find (danger signs and urgent needs, each whole, not negated, not past, not asked about) and
what the model finds; the model may raise a message to urgent, and to an emergency only where
a language's rules set `model.emergency` (a probability) low enough to trust it. The category
is the model's, read from the words and the rules' category words together.

No database, no Flask: `triage(text, locale)` is a pure function of its input, so the
benchmark, the tests and every channel get the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from triage.model import Features, Model, features, trained
from triage.rules import Rules, load_rules, rules_locale

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
    "health",
    "safety",
    OTHER,
)
URGENCIES = ("emergency", "urgent", "normal")  # most pressing first
NO_MODEL_THRESHOLD = 2.0  # a probability never reaches it: that level is the rules' alone


@dataclass(frozen=True)
class Triage:
    category: str
    urgency: str  # one of URGENCIES
    urgency_words: tuple[str, ...]  # what raised the urgency, quoted from the message
    category_words: tuple[str, ...]  # what decided the category
    # alarm words read and not counted, and why: ("煤气费", "harmless"), ("fell", "past")
    silenced: tuple[tuple[str, str], ...] = ()

    @property
    def matched(self) -> tuple[str, ...]:
        """The deciding words, urgency's first: what the alert and the case page quote."""
        return tuple(dict.fromkeys(self.urgency_words + self.category_words))


def triage(text: str, locale: str) -> Triage:
    if not text.strip():
        return Triage(OTHER, "normal", (), ())
    locale = rules_locale(locale)
    return decide(text, load_rules(locale), trained(locale))


def decide(text: str, rules: Rules, model: Model | None) -> Triage:
    """Triage with a given model: the hotline's (`triage`), or one the benchmark fitted."""
    found = features(text, rules)
    rule_level = "emergency" if found.emergency else "urgent" if found.urgent else "normal"
    rule_words = found.emergency or found.urgent
    if model is None:  # a language with no labelled examples: the rules' category words alone
        category, reasons = _rules_category(found)
        return Triage(category, rule_level, tuple(rule_words), reasons, found.silenced)
    categories, urgencies = model.predict(found)
    category = _category(categories, rules.model.get("category_min", 0.0))
    model_level = _model_level(urgencies, rules.model)
    if URGENCIES.index(model_level) < URGENCIES.index(rule_level):
        level, words = model_level, model.reasons(found, model_level, "urgency")
    else:
        level, words = rule_level, rule_words
    category_words = model.reasons(found, category, "category") if category != OTHER else []
    if not category_words:  # no word of the message points there: a prior, not a reading
        category = OTHER
    return Triage(category, level, tuple(words), tuple(category_words), found.silenced)


def _rules_category(found: Features) -> tuple[str, tuple[str, ...]]:
    hits = {name[2:]: quotes for name, quotes in found.quotes.items() if name.startswith("c:")}
    if not hits:
        return OTHER, ()
    best = max(hits, key=lambda name: len(hits[name]))
    return best, tuple(dict.fromkeys(hits[best]))


def warm(locales: Iterable[str]) -> None:
    """Load the analysers and fit the models now (a few seconds), not in a resident's request."""
    for locale in locales:
        triage("warm", locale)


def _category(probabilities: dict[str, float], minimum: float) -> str:
    best = max(probabilities, key=probabilities.__getitem__)
    return best if probabilities[best] >= minimum else OTHER


def _model_level(probabilities: dict[str, float], thresholds: dict[str, float]) -> str:
    emergency = probabilities.get("emergency", 0.0)
    urgent = probabilities.get("urgent", 0.0)
    if emergency >= thresholds.get("emergency", NO_MODEL_THRESHOLD):
        return "emergency"
    if emergency + urgent >= thresholds.get("urgent", NO_MODEL_THRESHOLD):
        return "urgent"
    return "normal"


__all__ = ["CATEGORIES", "OTHER", "URGENCIES", "Features", "Triage", "triage", "warm"]
