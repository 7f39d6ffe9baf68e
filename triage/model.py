"""A small linear model per language, fitted on the labelled set's `tune` part when first used.

Its features are the message's words and word pairs, and the rules' findings (a category's
words, a danger sign counted or silenced), so that it learns how far to trust each. Logistic
regression, because its reasons can be read back: the features that pushed a message into its
category are the words staff see. Fitting takes well under a second; nothing is downloaded or
stored, and the `held_out` part never reaches the model (benchmarks/triage.py reports on it).
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from triage.rules import Rules, alarms, disarming, find_all, load_rules, rules_locale
from triage.text import analyse

DATA_FOLDER = "data"


@dataclass(frozen=True)
class Example:
    id: str
    split: str
    form: str
    text: str
    category: str
    urgency: str
    kind: str


@dataclass(frozen=True)
class Features:
    """What the model reads of one message, and where each feature stands in it."""

    counts: dict[str, float]
    quotes: dict[str, list[str]]
    emergency: list[str]  # danger signs counted, quoted
    urgent: list[str]  # urgent needs counted, quoted
    silenced: tuple[tuple[str, str], ...]  # (quote, why) for alarms read but not counted


def labelled(locale: str, split: str | None = None) -> list[Example]:
    path = resources.files("triage") / DATA_FOLDER / f"{locale}.jsonl"
    if not path.is_file():
        return []
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            examples.append(Example(**{key: row.get(key, "") for key in Example.__annotations__}))
    return [e for e in examples if split is None or e.split == split]


def features(text: str, rules: Rules) -> Features:
    normalised, tokens = analyse(text, rules.locale)
    counts: dict[str, float] = {}
    quotes: dict[str, list[str]] = {}

    def add(name: str, quote: str) -> None:
        counts[name] = counts.get(name, 0.0) + 1.0
        quotes.setdefault(name, []).append(quote)

    for token in tokens:
        add(f"w:{token.norm}", normalised[token.start : token.end])
    for left, right in itertools.pairwise(tokens):
        if left.clause == right.clause:
            add(f"p:{left.norm} {right.norm}", normalised[left.start : right.end])
    for category, patterns in rules.categories.items():
        for match in find_all(patterns, tokens, normalised, rules):
            add(f"c:{category}", match.quote)
    disarmed = disarming(tokens, normalised, rules)
    emergency: list[str] = []
    urgent: list[str] = []
    silenced: list[tuple[str, str]] = []
    for level, patterns, counted in (
        ("emergency", rules.emergency, emergency),
        ("urgent", rules.urgent, urgent),
    ):
        for alarm in alarms(patterns, tokens, normalised, rules, disarmed):
            if alarm.silenced_by:
                add(f"s:{level}", alarm.match.quote)
                if (alarm.match.quote, alarm.silenced_by) not in silenced:
                    silenced.append((alarm.match.quote, alarm.silenced_by))
            else:
                add(f"a:{level}", alarm.match.quote)
                if alarm.match.quote not in counted:  # quoted once, however many patterns
                    counted.append(alarm.match.quote)
    return Features(counts, quotes, emergency, urgent, tuple(silenced))


@dataclass
class Model:
    """Two classifiers over the same features: category, and urgency."""

    locale: str
    category: Pipeline
    urgency: Pipeline

    def predict(self, found: Features) -> tuple[dict[str, float], dict[str, float]]:
        return (
            _probabilities(self.category, found.counts),
            _probabilities(self.urgency, found.counts),
        )

    def reasons(self, found: Features, label: str, which: str, limit: int = 4) -> list[str]:
        """The message's own words that pushed it most towards `label`."""
        pipeline = self.category if which == "category" else self.urgency
        vectoriser: DictVectorizer = pipeline.named_steps["features"]
        weights = pipeline.named_steps["weights"]
        classifier: LogisticRegression = pipeline.named_steps["classifier"]
        classes = list(classifier.classes_)
        if label not in classes:
            return []
        row = weights.transform(vectoriser.transform([found.counts])).toarray()[0]
        coefficients = classifier.coef_[classes.index(label) if len(classes) > 2 else 0]
        if len(classes) == 2 and classes.index(label) == 0:
            coefficients = -coefficients
        contribution = row * coefficients
        names = vectoriser.get_feature_names_out()
        words: list[str] = []
        for index in np.argsort(-contribution):
            if contribution[index] <= 0 or len(words) >= limit:
                break
            for quote in found.quotes.get(str(names[index]), []):
                if quote not in words and not any(quote in word for word in words):
                    words.append(quote)
        return words[:limit]


def _probabilities(pipeline: Pipeline, counts: dict[str, float]) -> dict[str, float]:
    classifier = pipeline.named_steps["classifier"]
    probabilities = pipeline.predict_proba([counts])[0]
    return {
        str(label): float(p) for label, p in zip(classifier.classes_, probabilities, strict=True)
    }


def fit(locale: str, examples: Sequence[Example]) -> Model | None:
    """The model for `locale` fitted on `examples`; None when there are too few to learn from."""
    if len({e.category for e in examples}) < 2 or len({e.urgency for e in examples}) < 2:
        return None
    rules = load_rules(locale)
    found = [features(e.text, rules).counts for e in examples]
    strength = rules.model.get("C", 10.0)
    return Model(
        locale,
        _fitted(found, [e.category for e in examples], strength),
        _fitted(found, [e.urgency for e in examples], strength),
    )


def _fitted(rows: list[dict[str, float]], labels: Iterable[str], strength: float) -> Pipeline:
    pipeline = Pipeline(
        [
            ("features", DictVectorizer()),
            ("weights", TfidfTransformer(sublinear_tf=True)),
            ("classifier", LogisticRegression(C=strength, max_iter=5000, class_weight="balanced")),
        ]
    )
    pipeline.fit(rows, list(labels))
    return pipeline


@functools.cache
def trained(locale: str) -> Model | None:
    """The model the hotline uses: fitted once per process on the `tune` part only."""
    locale = rules_locale(locale)
    return fit(locale, labelled(locale, "tune"))
