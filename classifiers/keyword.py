"""Weighted keyword classifier: every label is chosen for reasons a seller can read and change.

Sellers edit `classifiers/keywords/<lang>.toml` (the format is documented at the top of en.toml).
Each label's words and phrases are compiled into ONE alternation, and its regexes into another, so
a message costs a handful of regex scans whatever the number of patterns. The word alternation
tries longer patterns first, so "cancel my order" wins over "cancel" on the same words (a stretch
of text counts once per label); regexes scan on their own, as their length is unknown in advance.
Different labels scan independently and may all use the same words.
"""

from __future__ import annotations

import difflib
import functools
import logging
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.language import LanguageDetector
from classifiers.textnorm import CJK_RANGES, LATIN_WORD, FoldedText, fold, fold_han, fold_text, has_cjk, is_cjk_char, is_latin_word_char
from daemon.errors import ClassifierError
from daemon.models import LABELS, Classification, Evidence

log = logging.getLogger(__name__)

PATTERN_KINDS: tuple[str, ...] = ("words", "phrases", "regexes", "negative")
LABEL_KEYS: tuple[str, ...] = (*PATTERN_KINDS, "negate")
NEGATION_KEYS: tuple[str, ...] = ("words", "window", "stop", "after")

DECAY = 0.6
"""A label's strongest match counts fully, the next 0.6 of its weight, the next 0.36, ...: one
strong phrase (weight 3) outweighs any pile of weak words (weight 1 sums to at most 2.5)."""
SMOOTHING = 2.0
"""confidence = top / (top + second + SMOOTHING): a lone hint (weight 1) stays at 0.33, a strong
phrase alone (3) reaches 0.6, and two labels with equal strong scores fall near 0.37."""
SECONDARY_SHARE = 0.6
SECONDARY_FLOOR = 2.0
SECONDARY_CLEAR = 3.0
"""A second label is reported when it scores at least 60% of the winner (and 2.0), or 3.0 on
its own: one clear signal (a damaged item under a 1-star threat) is worth telling the seller."""
MAX_CHARS = 20_000
"""Only this much of a message is read: a buyer's request is in its first pages, and a hostile
megabyte of text must not hold the mailbox up for seconds."""
NEGATOR_LOOKBACK = 160
"""Characters before a match searched for its clause start (negation never reaches further)."""

_CLAUSE_BREAK = re.compile(r"[.!?;:,\u3002\u3001\uff61\uff64]|\n\s*\n")
_TOKEN = re.compile(rf"[{CJK_RANGES}]|[^\W{CJK_RANGES}]+(?:'[^\W{CJK_RANGES}]+)*")


# -- the keyword files ------------------------------------------------------------------------


@dataclass(frozen=True)
class Negation:
    """How one language says "not": negators before (or after) a pattern cancel its weight."""

    words: tuple[str, ...] = ()
    """Folded negators. `*n't` matches a word's end, `kein*` a word's start; CJK ones match
    anywhere in the window."""
    window: int = 3
    stop: tuple[str, ...] = ()
    """Words that end a negation's reach ("but"): in "not broken but I want to cancel" the "not"
    stops at "but"."""
    after: tuple[str, ...] = ()
    """Negators that follow what they negate (Japanese: キャンセルしない)."""


@dataclass(frozen=True)
class Pattern:
    label: str
    text: str
    """As the keyword file writes it (shown in evidence)."""
    kind: str
    """words, phrases, regexes or negative."""
    weight: float
    """Negative for `negative` patterns."""
    regex: str
    """The regex source matched against folded text."""
    source: str
    language: str


@dataclass(frozen=True)
class KeywordSet:
    """One language's keyword file, checked and ready to compile."""

    language: str
    source: str
    """The file name shown in evidence, e.g. `en.toml`."""
    path: str
    patterns: tuple[Pattern, ...]
    negation: Negation
    unnegated_labels: frozenset[str] = frozenset()
    """Labels whose patterns ignore negators (`negate = false`)."""


def load_keyword_file(path: Path) -> KeywordSet:
    """Reads and checks one keyword file; every mistake is a one-line ClassifierError."""
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ClassifierError(f"{where}: no keyword file for language {path.stem!r}") from exc
    except OSError as exc:
        raise ClassifierError(f"{where}: cannot read: {exc.strerror}") from exc
    try:
        document = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ClassifierError(f"{where}: not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ClassifierError(f"{where}: invalid TOML: {exc}") from exc
    return parse_keyword_document(document, where, path.stem, path.name)


def parse_keyword_document(document: Mapping[str, object], where: str, language: str, source: str) -> KeywordSet:
    """Checks a parsed keyword file. `where` names the file in error messages."""
    declared = document.get("language", language)
    if not isinstance(declared, str) or declared.strip().lower() != language.lower():
        raise ClassifierError(f"{where}: language = {declared!r} does not match the file name ({language!r})")
    negation = Negation()
    patterns: list[Pattern] = []
    unnegated: set[str] = set()
    for key, value in document.items():
        if key == "language":
            continue
        if key == "negation":
            negation = _parse_negation(value, where)
            continue
        if key not in LABELS:
            raise ClassifierError(f"{where}: [{key}]: unknown label{_did_you_mean(key, LABELS)} (labels: {', '.join(LABELS)})")
        if not isinstance(value, dict):
            raise ClassifierError(f"{where}: [{key}]: expected a section of words, phrases, regexes, negative")
        for section_key in value:
            if section_key not in LABEL_KEYS:
                raise ClassifierError(
                    f"{where}: [{key}] {section_key}: unknown key{_did_you_mean(section_key, LABEL_KEYS)} (expected {', '.join(LABEL_KEYS)})"
                )
        negate = value.get("negate", True)
        if not isinstance(negate, bool):
            raise ClassifierError(f"{where}: [{key}] negate: expected true or false, got {negate!r}")
        if not negate:
            unnegated.add(key)
        for kind in PATTERN_KINDS:
            entries = value.get(kind, {})
            if not isinstance(entries, dict):
                raise ClassifierError(f"{where}: [{key}] {kind}: expected a table of pattern = weight, e.g. {{ refund = 2 }}")
            for text, weight in entries.items():
                patterns.append(_parse_pattern(key, kind, text, weight, where, source, language))
    return KeywordSet(language, source, where, tuple(patterns), negation, frozenset(unnegated))


def load_keyword_sets(keywords_dir: Path, languages: Sequence[str]) -> tuple[KeywordSet, ...]:
    if not languages:
        raise ClassifierError("[classifier] languages: empty, name at least one language with a keyword file")
    seen: dict[str, KeywordSet] = {}
    for language in languages:
        code = normalize_language(language)
        if code and code not in seen:
            seen[code] = load_keyword_file(keywords_dir / f"{code}.toml")
    return tuple(seen.values())


def _parse_negation(value: object, where: str) -> Negation:
    if not isinstance(value, dict):
        raise ClassifierError(f"{where}: [negation]: expected a section with words = [...] and window = 3")
    for key in value:
        if key not in NEGATION_KEYS:
            raise ClassifierError(f"{where}: [negation] {key}: unknown key (expected {', '.join(NEGATION_KEYS)})")
    window = value.get("window", 3)
    if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 20:
        raise ClassifierError(f"{where}: [negation] window: expected a whole number of words from 0 to 20, got {window!r}")
    lists = {}
    for key in ("words", "stop", "after"):
        items = value.get(key, [])
        if not isinstance(items, list) or not all(isinstance(item, str) and item.strip(" *") for item in items):
            raise ClassifierError(f"{where}: [negation] {key}: expected a list of words, e.g. [\"not\", \"never\"]")
        lists[key] = tuple(fold(item).strip() for item in items)
    return Negation(words=lists["words"], window=window, stop=lists["stop"], after=lists["after"])


def _parse_pattern(label: str, kind: str, text: object, weight: object, where: str, source: str, language: str) -> Pattern:
    place = f"{where}: [{label}] {kind}"
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
        raise ClassifierError(f"{place}: {text!r}: weight must be a number, got {weight!r}")
    if kind == "negative":
        weight = -abs(float(weight))  # the section already says "subtract": -4 and 4 mean the same
    elif weight <= 0:
        raise ClassifierError(f"{place}: {text!r}: weight must be above 0, got {weight!r} (put patterns that subtract under negative)")
    assert isinstance(text, str)  # TOML keys are always strings
    if kind == "regexes":
        regex = _checked_regex(fold_han(text), place)  # it reads folded text: 訂單 is 订单 there
    else:
        try:
            regex = literal_regex(text)
        except ValueError as exc:
            raise ClassifierError(f"{place}: {text!r}: {exc}") from exc
    return Pattern(label, text, kind, float(weight), regex, source, language)


def _checked_regex(text: str, place: str) -> str:
    if not text.strip():
        raise ClassifierError(f"{place}: empty regex")
    try:
        compiled = re.compile(text)
    except re.error as exc:
        raise ClassifierError(f"{place}: bad regex {text!r}: {exc}") from exc
    if compiled.match(""):
        raise ClassifierError(f"{place}: bad regex {text!r}: it matches empty text")
    try:
        # It must also work as one branch of the label's alternation (no global flags, no
        # references to its own group numbers, which shift once combined).
        re.compile(f"(?P<outer>(?i:{text}))")
    except re.error as exc:
        raise ClassifierError(f"{place}: bad regex {text!r}: {exc} (write flags as (?i:...) around a part, not at the start)") from exc
    if compiled.groupindex or re.search(r"\\[1-9]", text):
        raise ClassifierError(f"{place}: bad regex {text!r}: named groups and back-references are not supported")
    # The text it reads is already lower case; only a regex that spells capitals (outside escapes
    # such as \W or \D) needs to ignore case, and ignoring case makes every scan slower.
    return f"(?i:{text})" if re.search(r"[A-Z]", re.sub(r"\\.", "", text)) else f"(?:{text})"


def literal_regex(pattern: str) -> str:
    """A word or phrase as a regex over folded text.

    Words are whole words (`cancel` does not match `cancelled`); `cancel*` matches any word that
    starts with cancel, `*n't` any word that ends with n't. An apostrophe may be left out by the
    buyer (`don't` matches `dont`), spaces match any run of spaces or a hyphen. Patterns in CJK
    scripts match anywhere, as those scripts put no spaces between words.
    """
    return "".join(literal_atoms(pattern))


def literal_atoms(pattern: str) -> list[str]:
    """The pattern as a list of small regexes, one per character or joint, so that patterns
    sharing a beginning can share one branch of a trie-shaped alternation."""
    tokens = fold(pattern).split()
    if not tokens:
        raise ValueError("empty pattern")
    atoms: list[str] = []
    for position, token in enumerate(tokens):
        core = token.strip("*")
        if not core:
            raise ValueError(f"{token!r} has no letters")
        if "*" in core:
            raise ValueError("* may only start or end a word")
        if position:
            joins_cjk = is_cjk_char(tokens[position - 1].strip("*")[-1]) and is_cjk_char(core[0])
            atoms.append(r"\s*" if joins_cjk else r"[\s\-]+")
        if token.startswith("*"):
            # "*schaden" is a whole word that ends in schaden: starting the match only at a word
            # start keeps the scan linear and shows the buyer's whole word ("Transportschaden").
            atoms.append(f"(?<!{LATIN_WORD}){LATIN_WORD}*" if position == 0 else f"{LATIN_WORD}*")
        chars = [_char_regex(char) for char in core]
        if position == 0 and not token.startswith("*") and is_latin_word_char(core[0]):
            # The word boundary goes AFTER the first letter, as a lookbehind over two characters:
            # the alternation then starts with plain letters, which the regex engine can skip
            # through quickly, instead of with a lookbehind it must try at every position.
            chars.insert(1, f"(?<!{LATIN_WORD}.)")
        atoms.extend(chars)
        last = position == len(tokens) - 1
        if token.endswith("*"):
            atoms.append(f"{LATIN_WORD}*")
        elif last and is_latin_word_char(core[-1]):
            atoms.append(f"(?!{LATIN_WORD})")
    return atoms


class _TrieNode:
    """One step of the trie the literal patterns are merged into (only used while compiling)."""

    def __init__(self) -> None:
        self.children: dict[str, _TrieNode] = {}
        self.leaf: int | None = None
        self.depth = 0

    def insert(self, atoms: Sequence[str], leaf: int) -> bool:
        node = self
        for atom in atoms:
            node.depth = max(node.depth, len(atoms))
            node = node.children.setdefault(atom, _TrieNode())
        if node.leaf is not None:
            return False
        node.leaf = leaf
        return True

    def regex(self) -> str:
        # Deeper branches first: at one position the longest pattern wins ("cancel my order"
        # before "cancel"), and the engine backtracks to shorter ones when it fails.
        branches = [atom + child.regex() for atom, child in sorted(self.children.items(), key=lambda item: -item[1].depth)]
        if self.leaf is not None:
            branches.append(f"(?P<p{self.leaf}>)")  # an empty group: lastgroup names the pattern
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"


def _char_regex(char: str) -> str:
    if char == "'":
        return "'?"
    if char == "-":
        return r"[\-\s]?"
    return re.escape(char)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def normalize_language(language: str | None) -> str:
    """`en-GB`, `EN_us` and `en` all mean the `en` keyword file."""
    if not language:
        return ""
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]


# -- matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    pattern: Pattern
    negation: Negation
    negatable: bool


@dataclass(frozen=True)
class _LabelMatcher:
    """One label's patterns as one compiled alternation; group `p<i>` names entry i."""

    label: str
    regex: re.Pattern[str] | None
    entries: tuple[_Entry, ...]


@dataclass(frozen=True)
class _Matcher:
    """Everything needed to scan a message for one language (or for all languages at once)."""

    languages: tuple[str, ...]
    labels: tuple[_LabelMatcher, ...]
    """Per label, its words and phrases, then (separately) its regexes."""
    negative: _LabelMatcher
    """All labels' negative patterns in one alternation: they rarely overlap."""


def _compile_alternation(label: str, entries: Sequence[_Entry]) -> _LabelMatcher:
    """Regexes as one plain alternation; words and phrases merged into a trie, which the regex
    engine walks in one pass instead of trying hundreds of branches at every position."""
    if not entries:
        return _LabelMatcher(label, None, ())
    entries = tuple(entries)
    if all(entry.pattern.kind == "regexes" for entry in entries):
        source = "|".join(f"(?P<p{index}>{entry.pattern.regex})" for index, entry in enumerate(entries))
        return _LabelMatcher(label, re.compile(source), entries)
    root = _TrieNode()
    for index, entry in enumerate(entries):
        if not root.insert(literal_atoms(entry.pattern.text), index):
            log.debug("%s: %r matches the same text as an earlier pattern", entry.pattern.source, entry.pattern.text)
    return _LabelMatcher(label, re.compile(root.regex()), entries)


def _build_matcher(keyword_sets: Sequence[KeywordSet]) -> _Matcher:
    by_label: dict[str, list[_Entry]] = {label: [] for label in LABELS}
    negative: list[_Entry] = []
    for keyword_set in keyword_sets:
        for pattern in keyword_set.patterns:
            entry = _Entry(pattern, keyword_set.negation, pattern.label not in keyword_set.unnegated_labels)
            (negative if pattern.kind == "negative" else by_label[pattern.label]).append(entry)
    # Words and phrases: one trie per label. Regexes: each on its own, because in one
    # alternation the first regex to match at a position consumes the text and hides a
    # stronger one listed later (sellers write regexes in no particular order); scanning them
    # separately also proved faster than the alternation of complex regexes.
    labels = tuple(
        matcher
        for label in LABELS
        for matcher in (
            _compile_alternation(label, [e for e in by_label[label] if e.pattern.kind != "regexes"]),
            *(_compile_alternation(label, [e]) for e in by_label[label] if e.pattern.kind == "regexes"),
        )
    )
    return _Matcher(tuple(s.language for s in keyword_sets), labels, _compile_alternation("negative", negative))


@dataclass(frozen=True)
class _Hit:
    entry: _Entry
    start: int
    end: int
    matched: str
    negated_by: str = ""


def _scan(matcher: _Matcher, folded: FoldedText) -> list[_Hit]:
    hits: list[_Hit] = []
    text = folded.text
    for label_matcher in (*matcher.labels, matcher.negative):
        if label_matcher.regex is None:
            continue
        settled: set[int] = set()  # patterns already seen un-negated: later repeats change nothing
        for match in label_matcher.regex.finditer(text):
            index = int(match.lastgroup[1:])  # type: ignore[index]
            start, end = match.span()
            if start == end or index in settled:
                continue  # a regex that can match nothing (`\b` alone) is no evidence
            entry = label_matcher.entries[index]
            negator = ""
            if entry.negatable or entry.pattern.kind == "negative":
                negator = find_negator(text, start, end, entry.negation, entry.pattern.regex)
            if not negator:
                settled.add(index)
            hits.append(_Hit(entry, start, end, folded.original_span(start, end), negator))
    hits.sort(key=lambda hit: (hit.start, hit.end))
    return hits


def find_negator(text: str, start: int, end: int, negation: Negation, pattern_regex: str = "") -> str:
    """The negator that cancels the match text[start:end], or "".

    A pattern that itself contains a negator ("didn't receive", "not happy") is never negated:
    it was written to match the negated form. A negator that a regex merely let through in one
    of its gaps ("want (\\w+ ){0,3}return" over "want no return") is not the pattern's own, so the
    words before the match still decide.
    """
    if not negation.words and not negation.after:
        return ""
    matched = text[start:end]
    own = _tokens(matched)
    own_negator = _negator_in(own, negation.words + negation.after, negation.stop, reverse=False, whole=True)
    if own_negator and _pattern_needs(pattern_regex, matched, own_negator):
        return ""
    if own and own[0] in negation.stop:
        return ""  # "...without permission, please cancel": the match opens a new clause itself
    if negation.window <= 0:
        return ""
    before = text[max(0, start - NEGATOR_LOOKBACK) : start]
    clause_start = 0
    for brk in _CLAUSE_BREAK.finditer(before):
        clause_start = brk.end()
    before = before[clause_start:]
    for stop in _cjk_phrases(negation.stop):
        # "不过" / "でも" are one stop word but several tokens: the clause starts after them.
        at = before.rfind(stop)
        if at >= 0:
            before = before[at + len(stop) :]
    window = _tokens(before)[-negation.window :]
    found = _negator_in(window, negation.words, negation.stop, reverse=True)
    if found or not negation.after:
        return found
    after = text[end : end + NEGATOR_LOOKBACK]
    brk = _CLAUSE_BREAK.search(after)
    after = after[: brk.start()] if brk else after
    for stop in _cjk_phrases(negation.stop):
        at = after.find(stop)
        if at >= 0:
            after = after[:at]
    window = _tokens(after)[: negation.window]
    return _negator_in(window, negation.after, negation.stop, reverse=False)


def _pattern_needs(pattern_regex: str, matched: str, negator: str) -> bool:
    """Whether the pattern stops matching when its negator is swapped for a neutral word: true
    for "not happy", false for a regex gap that happened to swallow a "no"."""
    if not pattern_regex:
        return True
    if has_cjk(negator):
        neutral = matched.replace(negator, "\u3007" * len(negator), 1)
    else:
        neutral = re.sub(rf"(?<!\w){re.escape(negator)}(?!\w)", "zzz", matched, count=1)
    if neutral == matched:
        return True  # a negator written as a word part ("*n't"): the pattern spells it out
    return _compiled(pattern_regex).search(neutral) is None


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> re.Pattern[str]:
    return re.compile(source)


def _cjk_phrases(words: Sequence[str]) -> list[str]:
    """Stop words of two or more CJK characters: tokens are single CJK characters, so these are
    found in the text itself rather than among the tokens."""
    return [word for word in words if len(word) > 1 and has_cjk(word)]


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _negator_in(tokens: list[str], negators: Sequence[str], stop: Sequence[str], reverse: bool, whole: bool = False) -> str:
    """The first negator met walking the window from the match outwards, up to a stop word."""
    if not whole:
        ordered = list(reversed(tokens)) if reverse else list(tokens)
        kept: list[str] = []
        for token in ordered:
            if token in stop:
                break
            kept.append(token)
        tokens = list(reversed(kept)) if reverse else kept
    if not tokens:
        return ""
    spaced = f" {' '.join(tokens)} "
    packed = "".join(tokens)
    for negator in negators:
        if has_cjk(negator):
            if negator in packed:
                return negator
        elif negator.startswith("*"):
            for token in tokens:
                if token.endswith(negator[1:]):
                    return token
        elif negator.endswith("*"):
            for token in tokens:
                if token.startswith(negator[:-1]):
                    return token
        elif f" {negator} " in spaced:
            return negator
    return ""


# -- scoring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tally:
    scores: dict[str, float]
    strongest: dict[str, float]
    evidence: tuple[Evidence, ...]


def _tally(hits: Sequence[_Hit]) -> _Tally:
    """Scores per label: each pattern counts once, strongest first with diminishing returns."""
    chosen: dict[tuple[str, str, str, str], _Hit] = {}
    for hit in hits:
        key = (hit.entry.pattern.label, hit.entry.pattern.kind, hit.entry.pattern.text, hit.entry.pattern.language)
        previous = chosen.get(key)
        if previous is None or (previous.negated_by and not hit.negated_by):
            chosen[key] = hit
    positives: dict[str, list[_Hit]] = {label: [] for label in LABELS}
    overlapped: dict[int, str] = {}
    strongest_first = sorted(chosen.values(), key=lambda hit: (-hit.entry.pattern.weight, hit.start))
    for hit in strongest_first:
        if hit.entry.pattern.kind == "negative" or hit.negated_by:
            continue
        label_hits = positives[hit.entry.pattern.label]
        covering = next((h for h in label_hits if h.start < hit.end and hit.start < h.end), None)
        if covering is None:
            label_hits.append(hit)
        else:  # a regex and a phrase on the same words: the words count once, at the stronger
            overlapped[id(hit)] = covering.entry.pattern.text
    contribution: dict[int, tuple[float, str]] = {}
    scores = {label: 0.0 for label in LABELS}
    strongest = {label: 0.0 for label in LABELS}
    for label, label_hits in positives.items():
        label_hits.sort(key=lambda hit: (-hit.entry.pattern.weight, hit.start))
        for rank, hit in enumerate(label_hits):
            factor = DECAY**rank
            weight = hit.entry.pattern.weight * factor
            scores[label] += weight
            note = f"x{factor:.2f}: match {rank + 1} for {label}, diminishing returns" if rank else ""
            contribution[id(hit)] = (weight, note)
        if label_hits:
            strongest[label] = label_hits[0].entry.pattern.weight
    evidence = []
    for hit in sorted(chosen.values(), key=lambda h: (h.start, h.end)):
        pattern = hit.entry.pattern
        if pattern.kind == "negative":
            if hit.negated_by:
                weight, note = 0.0, f'negated by "{hit.negated_by}"'
            else:
                weight, note = pattern.weight, "negative pattern"
                scores[pattern.label] += weight
        elif hit.negated_by:
            weight, note = 0.0, f'negated by "{hit.negated_by}"'
        elif id(hit) in overlapped:
            weight, note = 0.0, f'same words as "{overlapped[id(hit)]}", counted once'
        else:
            weight, note = contribution[id(hit)]
        evidence.append(Evidence(pattern.label, pattern.text, hit.matched, round(weight, 4), pattern.source, note))
    scores = {label: max(0.0, score) for label, score in scores.items()}
    return _Tally(scores, strongest, tuple(evidence))


REVIEW_CLEAR = 4.0
REVIEW_SHARE = 0.5
"""A review pattern this strong ("1 star", "negative review") makes the message a review
complaint when its score reaches half the winner's: buyers who threaten a review describe the
problem at length, and the problem's words must not bury the urgent part."""


def _review_outranks(scores: Mapping[str, float], strongest: Mapping[str, float], leader: str) -> bool:
    review = scores["review_complaint"]
    return (
        leader not in ("review_complaint", "other")
        and strongest["review_complaint"] >= REVIEW_CLEAR
        and review > 0
        and review >= REVIEW_SHARE * scores[leader]
    )


TIE_ORDER: tuple[str, ...] = ("review_complaint", "address_change", "cancellation", "logistics", "dissatisfaction", "other")
"""Equal scores go to the more specific request; a review threat first, as it is the urgent part."""


def _confidence(top: float, second: float) -> float:
    if top <= 0:
        return 0.0
    return top / (top + second + SMOOTHING)


# -- the classifier ---------------------------------------------------------------------------


@dataclass
class KeywordClassifier:
    """Classifies with the keyword files of the configured languages.

    A message in a language with a file is matched against that file; a message in an unknown
    language (or one that matches nothing in its own file) against all files at once.
    """

    keyword_sets: tuple[KeywordSet, ...]
    min_confidence: float = 0.2
    detector: LanguageDetector | None = None
    """Used only to name the language when classify() is not told it; built on first use."""
    name: str = "keyword"
    _matchers: dict[str, _Matcher] = field(init=False, repr=False)
    _combined: _Matcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.min_confidence, bool) or not 0.0 <= float(self.min_confidence) <= 1.0:
            raise ClassifierError(f"[classifier] min_confidence: expected a number from 0 to 1, got {self.min_confidence!r}")
        if not self.keyword_sets:
            raise ClassifierError("[classifier] languages: no keyword file loaded")
        self._matchers = {s.language: _build_matcher([s]) for s in self.keyword_sets}
        self._combined = _build_matcher(self.keyword_sets) if len(self.keyword_sets) > 1 else next(iter(self._matchers.values()))

    @classmethod
    def build(cls, keywords_dir: Path, languages: Sequence[str], min_confidence: float) -> KeywordClassifier:
        return cls(load_keyword_sets(Path(keywords_dir), languages), min_confidence)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._matchers)

    def classify(self, text: str, language: str | None = None) -> Classification:
        """`text` is only the customer's new words (no quotes, signature or relay boilerplate)."""
        if len(text or "") > MAX_CHARS:
            log.debug("classifying the first %d of %d characters", MAX_CHARS, len(text))
        text = (text or "")[:MAX_CHARS]
        code = normalize_language(language) or self._detect(text)
        folded = fold_text(text)
        matcher = self._matchers.get(code) if language else None
        note = ""
        hits = _scan(matcher or self._combined, folded)
        if matcher is not None and not hits and len(self._matchers) > 1:
            hits = _scan(self._combined, folded)
            note = f"; nothing matched in {code}.toml, used all languages"
        return self._decide(_tally(hits), code, note)

    def _detect(self, text: str) -> str:
        if self.detector is None:
            self.detector = LanguageDetector(self.languages)
        return self.detector.detect(text) or ""

    def _decide(self, tally: _Tally, language: str, note: str) -> Classification:
        scores = tally.scores
        ranked = sorted(
            LABELS,
            key=lambda label: (-scores[label], -tally.strongest[label], TIE_ORDER.index(label)),
        )
        outranked = ""
        if _review_outranks(scores, tally.strongest, ranked[0]):
            # The label rule: a review threat wins over the problem behind it, which stays
            # visible as the secondary label; the problem's own score is no doubt about that.
            outranked = ranked[0]
            ranked = ["review_complaint", *(label for label in ranked if label != "review_complaint")]
        best, runner_up = ranked[0], ranked[1]
        top, second = scores[best], scores[runner_up]
        if outranked:
            second = max((scores[label] for label in ranked[1:] if label != outranked), default=0.0)
        score_pairs = tuple((label, round(scores[label], 4)) for label in LABELS)
        base = {"language": language, "scores": score_pairs, "evidence": tally.evidence, "classifier": self.name}
        if top <= 0:
            return Classification(label="other", confidence=0.0, reason=f"no pattern matched: other{note}", **base)
        confidence = _confidence(top, second)
        if confidence < self.min_confidence:
            other_conf = _confidence(scores["other"], top) if best != "other" else confidence
            reason = f"best label {best} scored {confidence:.2f} < min_confidence {self.min_confidence:.2f}{note}"
            return Classification(label="other", confidence=round(other_conf, 4), reason=reason, **base)
        secondary = ""
        contender = next(label for label in ranked[1:] if label != "other")
        runner = scores[contender]
        if best != "other" and (runner >= SECONDARY_CLEAR or runner >= max(SECONDARY_FLOOR, SECONDARY_SHARE * top)):
            secondary = contender
        reason = f"{best} scored {confidence:.2f} (score {top:.2f}, next {runner_up} {scores[runner_up]:.2f}){note}"
        if outranked:
            reason = (
                f"review_complaint scored {confidence:.2f}: a clear review mention (weight {tally.strongest[best]:g}) "
                f"outranks the problem behind it, {outranked} {scores[outranked]:.2f}{note}"
            )
        return Classification(label=best, confidence=round(confidence, 4), secondary=secondary, reason=reason, **base)
