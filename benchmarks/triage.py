"""How well triage reads residents' messages: `python benchmarks/triage.py`.

Per language, on the labelled set's `held_out` part (the model fitted on `tune`, as the hotline
runs it): category accuracy, emergency recall, the false-emergency rate, urgent recall, each also
for typed texts and Vosk-style transcripts, and the confusion between categories.

`--split tune` reports five-fold cross-validation on the `tune` part instead: that is the figure
to tune rules on, so that the held-out part stays unseen. `--mistakes` lists every miss.
Goals (issue 11): emergency recall >= 0.95, false emergencies <= 2%, category accuracy >= 0.85.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triage import CATEGORIES, Triage, decide
from triage.model import Example, fit, labelled
from triage.rules import load_rules

LOCALES = ("zh-CN", "ko-KR", "en-US")
FOLDS = 5


@dataclass(frozen=True)
class Outcome:
    example: Example
    guess: Triage


def held_out(locale: str) -> list[Outcome]:
    model = fit(locale, labelled(locale, "tune"))
    rules = load_rules(locale)
    return [Outcome(e, decide(e.text, rules, model)) for e in labelled(locale, "held_out")]


def cross_validated(locale: str) -> list[Outcome]:
    examples = labelled(locale, "tune")
    random.Random(11).shuffle(examples)
    rules = load_rules(locale)
    outcomes = []
    for fold in range(FOLDS):
        test = examples[fold::FOLDS]
        train = [e for i, e in enumerate(examples) if i % FOLDS != fold]
        model = fit(locale, train)
        outcomes += [Outcome(e, decide(e.text, rules, model)) for e in test]
    return outcomes


def ratio(hits: int, total: int) -> str:
    return f"{hits / total:.3f} ({hits}/{total})" if total else "n/a"


def figures(outcomes: Sequence[Outcome]) -> dict[str, str]:
    emergencies = [o for o in outcomes if o.example.urgency == "emergency"]
    others = [o for o in outcomes if o.example.urgency != "emergency"]
    urgent = [o for o in outcomes if o.example.urgency == "urgent"]
    return {
        "messages": str(len(outcomes)),
        "category accuracy": ratio(
            sum(o.guess.category == o.example.category for o in outcomes), len(outcomes)
        ),
        "emergency recall": ratio(
            sum(o.guess.urgency == "emergency" for o in emergencies), len(emergencies)
        ),
        "false emergencies": ratio(
            sum(o.guess.urgency == "emergency" for o in others), len(others)
        ),
        "urgent recall": ratio(
            sum(o.guess.urgency in {"urgent", "emergency"} for o in urgent), len(urgent)
        ),
    }


def confusion(outcomes: Sequence[Outcome]) -> str:
    used = [c for c in CATEGORIES if any(o.example.category == c for o in outcomes)]
    counts = Counter((o.example.category, o.guess.category) for o in outcomes)
    width = max(len(c) for c in used)
    short = [c[:5] for c in CATEGORIES]
    lines = [" " * width + "  " + " ".join(f"{s:>5}" for s in short) + "   (rows: labelled)"]
    for actual in used:
        cells = " ".join(f"{counts[(actual, guessed)] or '.':>5}" for guessed in CATEGORIES)
        lines.append(f"{actual:<{width}}  {cells}")
    return "\n".join(lines)


def mistakes(outcomes: Sequence[Outcome]) -> list[str]:
    lines = []
    for o in outcomes:
        e, g = o.example, o.guess
        if (e.category, e.urgency) != (g.category, g.urgency):
            lines.append(
                f"  {e.id} [{e.kind}] {e.category}/{e.urgency} -> {g.category}/{g.urgency}"
                f" {list(g.matched)} {list(g.silenced)}: {e.text}"
            )
    return lines


def report(locale: str, outcomes: Sequence[Outcome], show_mistakes: bool) -> None:
    print(f"\n## {locale}")
    for form in ("all", "typed", "spoken"):
        part = [o for o in outcomes if form == "all" or o.example.form == form]
        print(f"  {form:<7}" + "  ".join(f"{k}: {v}" for k, v in figures(part).items()))
    print(confusion(outcomes))
    if show_mistakes:
        print("\n".join(mistakes(outcomes)) or "  no mistakes")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("held_out", "tune"), default="held_out")
    parser.add_argument("--locale", choices=LOCALES, action="append")
    parser.add_argument("--mistakes", action="store_true")
    args = parser.parse_args(argv)
    what = "five-fold cross-validation on tune" if args.split == "tune" else "held_out"
    print(f"# Triage on {what}")
    for locale in args.locale or LOCALES:
        if not labelled(locale):
            print(f"\n## {locale}\n  no labelled set")
            continue
        outcomes = held_out(locale) if args.split == "held_out" else cross_validated(locale)
        report(locale, outcomes, args.mistakes)


if __name__ == "__main__":
    main()
