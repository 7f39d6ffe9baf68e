"""Danger signs, urgent needs and category words, written per language in `triage/rules/*.toml`.

A pattern is a phrase as a resident says it; its parts (separated by spaces) are analysed like
the message, and must appear in order, each part whole, with at most `gap` tokens between two
parts in one clause ("胸口 疼" finds 胸口有点疼, "숨 안 쉬" finds 숨이 안 쉬어져요); `...` between
two parts lets the next one come anywhere later in the message, in any clause ("蛇 ... 咬": a
snake, then a bite, told in two clauses). A part never
matches inside a word: 불 is not found in 이불이, fire not in firearm, 火 not in 火车站. (Korean and
English parts are whole morphemes or stems; a Chinese part is its characters, refused where one
longer jieba word holds them; `[settings] words` adds words jieba's dictionary lacks.)

An alarm is not counted where the message says it is not one: a cue of negation ("no smell of
gas"), of the past ("fell last year") or of asking ("how do I get a smoke alarm") in the same
clause, or a harmless phrase that covers it (煤气费, a gas bill). A cue reaches `cue_window`
tokens (`*_long` cues `long_cue_window`), not across a word of `cue_stops` ("fell last year and
now can't get up"); a `*_message` cue counts anywhere in the message ("lol", "he's fine now").
Where a language's rules set `harmless_overlap`, a harmless phrase in which an alarm ends
silences it too ("the man on the first floor" is not "man on the floor"), unless the alarm holds
the whole phrase ("call the fire department" is an alarm though "fire department" is harmless);
an alarm that goes on past the phrase still counts ("a tile fell on her" though "tile fell" is
harmless). `harmless_gap` sets how many words a harmless phrase may skip (`gap` by default).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources

from triage.text import Token, add_chinese_words, analyse, keep_english_words, language

RULES_FOLDER = "rules"
FALLBACK_LOCALE = "zh-CN"
CUE_KINDS = ("negation", "past", "asking")
FAR: tuple[str, ...] = ("...",)  # a part: the next part may come anywhere later in the message


@dataclass(frozen=True)
class Pattern:
    text: str  # as written in the rules, for staff and for tests
    parts: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Cue:
    kind: str  # negation, past, asking
    pattern: Pattern
    before: int  # how many tokens before the alarm the cue may end (0: not before)
    after: int  # how many tokens after the alarm the cue may start (0: not after)
    anywhere: bool = False  # in any clause of the message ("不急", "想报名", "lol", "fine now")
    stops: frozenset[str] = frozenset()  # words it does not reach across ("now", "since")


@dataclass(frozen=True)
class Rules:
    locale: str
    gap: int
    emergency: tuple[Pattern, ...]
    urgent: tuple[Pattern, ...]
    categories: dict[str, tuple[Pattern, ...]]
    harmless: tuple[Pattern, ...]
    cues: tuple[Cue, ...]
    model: dict[str, float] = field(default_factory=dict)
    harmless_overlap: bool = False  # harmless silences an alarm it overlaps, not only covers
    harmless_gap: int | None = None  # words a harmless phrase may skip between two of its parts
    cue_gap: int | None = None  # words a cue may skip between two of its parts


@dataclass(frozen=True)
class Match:
    pattern: Pattern
    first: int  # index of its first token
    last: int  # index of its last token
    quote: str  # the words as the message has them


@dataclass(frozen=True)
class Alarm:
    """A danger sign or urgent need found, and whether it counts."""

    match: Match
    silenced_by: str = ""  # "" when it counts; else "harmless", "negation", "past" or "asking"


def rules_locale(locale: str) -> str:
    folder = resources.files("triage") / RULES_FOLDER
    return locale if (folder / f"{locale}.toml").is_file() else FALLBACK_LOCALE


@functools.cache
def load_rules(locale: str) -> Rules:
    locale = rules_locale(locale)
    path = resources.files("triage") / RULES_FOLDER / f"{locale}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    settings = data.get("settings", {})
    if language(locale) == "zh":  # words jieba's dictionary lacks (a part must be whole words)
        add_chinese_words(list(settings.get("words", [])))
    if language(locale) == "en":  # words kept whole, not reduced to a stem (fired is not fire)
        keep_english_words(list(settings.get("words", [])))
    window = int(settings.get("cue_window", 4))
    long_window = int(settings.get("long_cue_window", 2 * window))

    def patterns(texts: Iterable[str]) -> tuple[Pattern, ...]:
        return tuple(_pattern(text, locale) for text in texts)

    def norms(word: str) -> tuple[str, ...]:
        return tuple(norm for part in _pattern(word, locale).parts for norm in part)

    cues = []
    for kind in CUE_KINDS:
        # a cue stops at `cue_stops`, and at `<kind>_cue_stops` ("no heat and the pipe burst")
        words = [*settings.get("cue_stops", []), *settings.get(f"{kind}_cue_stops", [])]
        stops = frozenset(norm for word in words for norm in norms(word))
        listed = data.get("cues", {})
        for suffix, before, after in (
            ("before", window, 0),
            # cues that reach further: a condition over what follows ("what do i do if ..."), a
            # time at the end of a long clause ("... outside the bus stop a while back")
            ("before_long", long_window, 0),
            ("after_long", 0, long_window),
            ("after", 0, window),
            ("clause", 10_000, 10_000),
        ):
            for text in listed.get(f"{kind}_{suffix}", []):
                cues.append(Cue(kind, _pattern(text, locale), before, after, stops=stops))
        for text in listed.get(f"{kind}_message", []):
            cues.append(Cue(kind, _pattern(text, locale), 10_000, 10_000, anywhere=True))
    return Rules(
        locale=locale,
        gap=int(settings.get("gap", 2)),
        emergency=patterns(_flatten(data.get("emergency", []))),
        urgent=patterns(_flatten(data.get("urgent", []))),
        categories={name: patterns(texts) for name, texts in data.get("categories", {}).items()},
        harmless=patterns(data.get("harmless", [])),
        cues=tuple(cues),
        model={key: float(value) for key, value in data.get("model", {}).items()},
        harmless_overlap=bool(settings.get("harmless_overlap", False)),
        harmless_gap=int(settings["harmless_gap"]) if "harmless_gap" in settings else None,
        cue_gap=int(settings["cue_gap"]) if "cue_gap" in settings else None,
    )


def _flatten(section: list[str] | dict[str, list[str]]) -> list[str]:
    """A list of patterns, or a table of lists grouped by sign (fall = [...], gas = [...])."""
    if isinstance(section, dict):
        return [text for texts in section.values() for text in texts]
    return list(section)


def _pattern(text: str, locale: str) -> Pattern:
    if language(locale) == "zh":  # Chinese parts are matched as strings on word boundaries
        return Pattern(text, tuple((part,) for part in text.split()))
    parts: list[tuple[str, ...]] = []
    for part in text.split():
        if (part,) == FAR:
            parts.append(FAR)
            continue
        _, tokens = analyse(part, locale)
        if tokens:
            parts.append(tuple(token.norm for token in tokens))
    return Pattern(text, tuple(parts))


# ------------------------------------------------------------------ matching
def find(
    pattern: Pattern,
    tokens: list[Token],
    text: str,
    gap: int,
    chinese: str,
    positions: dict[str, list[int]] | None = None,
) -> list[Match]:
    """Every place the pattern occurs, parts in order, each whole, gaps within one clause."""
    spans: Spans
    if chinese:
        spans = _chinese_spans if chinese == "whole" else _chinese_text
    else:
        spans = functools.partial(_token_spans, positions or _positions(tokens))
    found = []
    for first, last in spans(pattern.parts[0], tokens, text):
        rest = _rest(pattern.parts[1:], last, tokens, text, gap, spans)
        if rest is not None:
            end, jumps = rest
            # a pattern with `...` is quoted in pieces ("蛇…咬了一口"), not all that lies between
            edges = [first, *jumps, end]
            pieces = zip(edges[::2], edges[1::2], strict=True)
            quote = "…".join(text[tokens[a].start : tokens[b].end] for a, b in pieces)
            found.append(Match(pattern, first, end, quote))
    return found


Spans = Callable[[tuple[str, ...], list[Token], str], list[tuple[int, int]]]


def _rest(
    parts: tuple[tuple[str, ...], ...],
    last: int,
    tokens: list[Token],
    text: str,
    gap: int,
    spans: Spans,
) -> tuple[int, tuple[int, ...]] | None:
    """The last token of the remaining parts placed after `last`, and where each `...` leapt
    (the token before it, the token after it); None when they are not there."""
    if not parts:
        return last, ()
    if parts[0] == FAR:  # the next part anywhere after this one
        if len(parts) == 1:
            return last, ()
        for first, end in spans(parts[1], tokens, text):
            if first > last:
                rest = _rest(parts[2:], end, tokens, text, gap, spans)
                if rest is not None:
                    return rest[0], (last, first, *rest[1])
        return None
    for first, end in spans(parts[0], tokens, text):
        near = 0 <= first - last - 1 <= gap and tokens[first].clause == tokens[last].clause
        if near:
            rest = _rest(parts[1:], end, tokens, text, gap, spans)
            if rest is not None:
                return rest
    return None


def _token_spans(
    positions: dict[str, list[int]], part: tuple[str, ...], tokens: list[Token], _: str
) -> list[tuple[int, int]]:
    """Korean and English: the part's morphemes or stems, consecutive."""
    width = len(part)
    return [
        (start, start + width - 1)
        for start in positions.get(part[0], ())
        if start + width <= len(tokens)
        and all(tokens[start + i].norm == norm for i, norm in enumerate(part[1:], 1))
    ]


def _positions(tokens: list[Token]) -> dict[str, list[int]]:
    """Where each morpheme or stem stands in the message."""
    positions: dict[str, list[int]] = {}
    for index, token in enumerate(tokens):
        positions.setdefault(token.norm, []).append(index)
    return positions


def _chinese_spans(part: tuple[str, ...], tokens: list[Token], text: str) -> list[tuple[int, int]]:
    """Chinese: the part's characters, unless a longer word of the message holds them.

    jieba's cut decides only what is inside a word: 火 is not found in 火车站, 煤气 not in 煤气费,
    血 not in 血压计; a part that spans words (路灯 where jieba cut 路 / 灯不亮) still counts.
    """
    owner = _owners(tokens)
    found = []
    start = text.find(part[0])
    while start != -1:
        end = start + len(part[0])
        first, last = owner.get(start), owner.get(end - 1)
        if (
            first is not None
            and last is not None
            and not _inside_a_word(tokens, first, last, start, end)
        ):
            found.append((first, last))
        start = text.find(part[0], start + 1)
    return found


def _chinese_text(part: tuple[str, ...], tokens: list[Token], text: str) -> list[tuple[int, int]]:
    """Chinese, inside words too: the tokens that hold the part's characters."""
    owner = _owners(tokens)
    found = []
    start = text.find(part[0])
    while start != -1:
        first, last = owner.get(start), owner.get(start + len(part[0]) - 1)
        if first is not None and last is not None:
            found.append((first, last))
        start = text.find(part[0], start + 1)
    return found


_last_owners: tuple[list[Token], dict[int, int]] = ([], {})


def _owners(tokens: list[Token]) -> dict[int, int]:
    """Which token holds each character: worked out once per message, not once per pattern."""
    global _last_owners
    last = _last_owners  # one read: another thread may replace it meanwhile
    if last[0] is tokens:
        return last[1]
    owner: dict[int, int] = {}
    for index, token in enumerate(tokens):
        owner.update(dict.fromkeys(range(token.start, token.end), index))
    _last_owners = (tokens, owner)
    return owner


def _inside_a_word(tokens: list[Token], first: int, last: int, start: int, end: int) -> bool:
    if first != last:
        return False
    token = tokens[first]
    return (token.start, token.end) != (start, end)


def find_all(
    patterns: Iterable[Pattern],
    tokens: list[Token],
    text: str,
    rules: Rules,
    whole: bool = True,
    gap: int | None = None,
) -> list[Match]:
    """`whole=False` lets a Chinese part sit inside a longer word: a harmless phrase (急救 培训)
    must still find 急救培训班, where jieba keeps 培训班 one word."""
    chinese = "" if language(rules.locale) != "zh" else "whole" if whole else "text"
    # Only patterns whose first word is in the message can match: a lookup spares the
    # thousands of others their scan (fitting the model reads every tune message this way).
    gap = rules.gap if gap is None else gap
    if chinese:
        candidates = [p for p in patterns if p.parts and p.parts[0][0] in text]
        return [m for p in candidates for m in find(p, tokens, text, gap, chinese)]
    positions = _positions(tokens)
    by_first = _by_first_word(patterns)
    found = sorted((place, p) for norm in positions for place, p in by_first.get(norm, ()))
    return [m for _, p in found for m in find(p, tokens, text, gap, chinese, positions)]


_FIRST_WORDS: dict[int, tuple[object, dict[str, list[tuple[int, Pattern]]]]] = {}


def _by_first_word(patterns: Iterable[Pattern]) -> dict[str, list[tuple[int, Pattern]]]:
    """The patterns by their first morpheme or stem, with their place in the list; kept for the
    rules' own tuples, which live as long as the process."""
    cached = _FIRST_WORDS.get(id(patterns))
    if cached is not None and cached[0] is patterns:
        return cached[1]
    index: dict[str, list[tuple[int, Pattern]]] = {}
    for place, pattern in enumerate(patterns):
        if pattern.parts:
            index.setdefault(pattern.parts[0][0], []).append((place, pattern))
    if isinstance(patterns, tuple):
        _FIRST_WORDS[id(patterns)] = (patterns, index)
    return index


Disarming = tuple[list[Match], list[tuple[Cue, Match]]]


def disarming(tokens: list[Token], text: str, rules: Rules) -> Disarming:
    """The message's harmless phrases and cues, found once for every level of alarm."""
    harmless = find_all(rules.harmless, tokens, text, rules, whole=False, gap=rules.harmless_gap)
    patterns, kinds = _cue_kinds(rules.cues)
    found = find_all(patterns, tokens, text, rules, gap=rules.cue_gap)
    cues = [(cue, m) for m in found for cue in kinds[m.pattern]]
    return harmless, cues


_CUE_KINDS: dict[int, tuple[object, tuple[Pattern, ...], dict[Pattern, list[Cue]]]] = {}


def _cue_kinds(cues: tuple[Cue, ...]) -> tuple[tuple[Pattern, ...], dict[Pattern, list[Cue]]]:
    """Each cue pattern once, with the cues written with it (a rules' tuple: kept)."""
    cached = _CUE_KINDS.get(id(cues))
    if cached is not None and cached[0] is cues:
        return cached[1], cached[2]
    kinds: dict[Pattern, list[Cue]] = {}
    for cue in cues:
        kinds.setdefault(cue.pattern, []).append(cue)
    patterns = tuple(kinds)
    _CUE_KINDS[id(cues)] = (cues, patterns, kinds)
    return patterns, kinds


def alarms(
    patterns: Iterable[Pattern],
    tokens: list[Token],
    text: str,
    rules: Rules,
    disarmed: Disarming | None = None,
) -> list[Alarm]:
    """Each alarm pattern found, with what silences it, if anything."""
    harmless, cues = disarmed or disarming(tokens, text, rules)
    return [
        Alarm(match, _silenced_by(match, harmless, cues, tokens, rules))
        for match in find_all(patterns, tokens, text, rules)
    ]


def _covers(harmless: Match, match: Match, overlap: bool) -> bool:
    if harmless.first <= match.first and match.last <= harmless.last:
        return not _holds(match.pattern, harmless.pattern)  # the same words twice: an alarm
    if not overlap or match.last < harmless.first or match.last > harmless.last:
        return False
    # the alarm ends inside the phrase: the harmless reading wins unless the alarm is written
    # with all of it ("call the fire department" holds "fire department"; "man on the floor",
    # found in "man on the second floor", does not hold "on the second floor")
    return not (match.first <= harmless.first and _holds(match.pattern, harmless.pattern))


def _holds(alarm: Pattern, phrase: Pattern) -> bool:
    words = [norm for part in alarm.parts for norm in part]
    inner = [norm for part in phrase.parts for norm in part]
    return any(words[i : i + len(inner)] == inner for i in range(len(words) - len(inner) + 1))


def _silenced_by(
    match: Match,
    harmless: list[Match],
    cues: list[tuple[Cue, Match]],
    tokens: list[Token],
    rules: Rules,
) -> str:
    if any(_covers(h, match, rules.harmless_overlap) for h in harmless):
        return "harmless"
    clause = tokens[match.first].clause
    for cue, found in cues:
        if match.first <= found.first <= match.last:
            continue
        if tokens[found.first].clause != clause and not cue.anywhere:
            continue
        before = 0 <= match.first - found.last - 1 < cue.before
        after = 0 <= found.first - match.last - 1 < cue.after
        if (before or after) and not _stopped(match, found, tokens, cue.stops):
            return cue.kind
    return ""


def _stopped(match: Match, cue: Match, tokens: list[Token], stops: frozenset[str]) -> bool:
    """A stop word between the cue and the alarm, or just before a cue that follows it, cuts
    the cue off: "fell last year and now can't get up", "not answering since last week"."""
    if not stops:
        return False
    if cue.last < match.first:
        between = range(cue.last + 1, match.first)
    else:
        between = range(match.last + 1, cue.first)
        if cue.first > 0 and tokens[cue.first - 1].norm in stops:
            return True
    return any(tokens[index].norm in stops for index in between)
