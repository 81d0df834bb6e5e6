"""Keyword-tuning suggestions: which one change to a keyword file would fix misclassified
examples, what it would gain on that data, and what it would break.

Sellers tune every day; guessing which word to add is slow, and an added word often breaks
other messages. Each candidate change is tried for real (the keyword file is re-read with the
change and every example classified again), so the gain and the breakage shown are measured,
not estimated.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.keyword import KeywordClassifier, load_keyword_file, parse_keyword_document
from classifiers.textnorm import fold

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[^\W\d_]{3,}(?:'[^\W\d_]+)?")
ADDED_WEIGHT = 3.0
CANDIDATES_TRIED = 40


@dataclass(frozen=True)
class Example:
    text: str
    """Only the customer's words (already cleaned)."""
    label: str
    language: str
    where: str
    """Where the example comes from (`FILE row 12`, `ticket #40`)."""


@dataclass(frozen=True)
class Suggestion:
    change: str
    """The edit as the seller would write it in the keyword file."""
    file: str
    fixes: tuple[str, ...]
    breaks: tuple[str, ...]

    @property
    def gain(self) -> int:
        return len(self.fixes) - len(self.breaks)


@dataclass(frozen=True)
class _Edit:
    language: str
    label: str
    kind: str
    pattern: str
    weight: float | None
    """None removes the pattern."""

    def describe(self) -> str:
        if self.weight is None:
            return f'remove [{self.label}.{self.kind}] "{self.pattern}"'
        return f'[{self.label}.{self.kind}] "{self.pattern}" = {self.weight:g}'


def suggest(
    examples: Sequence[Example],
    keywords_dir: Path,
    languages: Sequence[str],
    min_confidence: float,
    limit: int = 10,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> list[Suggestion]:
    base = KeywordClassifier.build(keywords_dir, languages, min_confidence)
    predicted = [base.classify(e.text, e.language or None) for e in examples]
    wrong = [i for i, (e, p) in enumerate(zip(examples, predicted)) if p.label != e.label]
    if not wrong:
        return []
    documents = {lang: tomllib.loads((Path(keywords_dir) / f"{lang}.toml").read_text(encoding="utf-8-sig")) for lang in languages}
    edits = _candidate_edits(examples, predicted, wrong, documents)
    suggestions = []
    for number, edit in enumerate(edits, 1):
        progress(number, len(edits))
        changed = _classifier_with(edit, documents, keywords_dir, languages, min_confidence)
        if changed is None:
            continue
        fixes, breaks = [], []
        for example, before in zip(examples, predicted):
            after = changed.classify(example.text, example.language or None).label
            if before.label != example.label and after == example.label:
                fixes.append(example.where)
            elif before.label == example.label and after != example.label:
                breaks.append(example.where)
        if fixes:
            suggestions.append(Suggestion(edit.describe(), f"{edit.language}.toml", tuple(fixes), tuple(breaks)))
    suggestions.sort(key=lambda s: (-s.gain, len(s.breaks), s.change.count(" "), s.change))
    return [s for s in suggestions if s.gain > 0][:limit]


def _candidate_edits(examples, predicted, wrong, documents) -> list[_Edit]:
    """Add a phrase from the misclassified texts to the right label, or weaken a pattern that
    pulled them to the wrong one. Only the most promising are tried for real."""
    additions: Counter[tuple[str, str, str]] = Counter()
    weakenings: Counter[tuple[str, str, str, str, float]] = Counter()
    for index in wrong:
        example, result = examples[index], predicted[index]
        language = example.language if example.language in documents else next(iter(documents))
        for gram in set(_grams(example.text)):
            additions[(language, example.label, gram)] += 1
        for evidence in result.evidence:
            if evidence.label == result.label and evidence.weight > 0:
                kind = _kind_of(documents.get(evidence.source.removesuffix(".toml"), {}), evidence.label, evidence.pattern)
                if kind:
                    weakenings[(evidence.source.removesuffix(".toml"), evidence.label, kind, evidence.pattern, evidence.weight)] += 1
    other_texts: dict[str, list[str]] = {}
    for example in examples:
        other_texts.setdefault(example.label, []).append(fold(example.text))

    def purity(item: tuple[tuple[str, str, str], int]) -> tuple[int, int]:
        (language, label, gram), count = item
        elsewhere = sum(gram in text for other, texts in other_texts.items() if other != label for text in texts)
        return (count - elsewhere, count)

    common = _common_words(examples)
    useful = {key: count for key, count in additions.items() if _is_specific(key[2], common)}
    ranked = sorted(useful.items(), key=purity, reverse=True)[:CANDIDATES_TRIED]
    edits = [_Edit(lang, label, "phrases" if (" " in gram or CJK.search(gram)) else "words", gram, ADDED_WEIGHT) for (lang, label, gram), _ in ranked]
    for (lang, label, kind, pattern, _weight), _count in weakenings.most_common(CANDIDATES_TRIED // 2):
        current = documents[lang][label][kind][pattern]
        edits.append(_Edit(lang, label, kind, pattern, round(current / 2, 2)))
        edits.append(_Edit(lang, label, kind, pattern, None))
    return edits


def _common_words(examples) -> set[str]:
    """Words in more than a tenth of all examples ("the", "und", "pour"): a suggestion that
    starts or ends with one is noise, whatever the language."""
    counts: Counter[str] = Counter()
    for example in examples:
        counts.update(set(WORD.findall(fold(example.text))))
    limit = max(3, len(examples) // 10)
    return {word for word, count in counts.items() if count > limit}


def _is_specific(gram: str, common: set[str]) -> bool:
    if CJK.fullmatch(gram):
        return True
    words = gram.split()
    return words[0] not in common and words[-1] not in common


def _grams(text: str) -> list[str]:
    folded = fold(text)
    grams = []
    words = WORD.findall(folded)
    for size in (1, 2, 3):
        for start in range(len(words) - size + 1):
            grams.append(" ".join(words[start : start + size]))
    for run in CJK.findall(folded):
        for size in (2, 3, 4):
            grams.extend(run[i : i + size] for i in range(len(run) - size + 1))
    return grams


def _kind_of(document: dict, label: str, pattern: str) -> str:
    section = document.get(label, {})
    for kind in ("words", "phrases", "regexes"):
        if pattern in section.get(kind, {}):
            return kind
    return ""


def _classifier_with(edit: _Edit, documents, keywords_dir: Path, languages, min_confidence: float) -> KeywordClassifier | None:
    changed = copy.deepcopy(documents[edit.language])
    section = changed.setdefault(edit.label, {}).setdefault(edit.kind, {})
    if edit.weight is None:
        section.pop(edit.pattern, None)
    else:
        section[edit.pattern] = edit.weight
    sets = []
    for language in languages:
        if language == edit.language:
            try:
                sets.append(parse_keyword_document(changed, f"{language}.toml (suggested)", language, f"{language}.toml"))
            except Exception:  # noqa: BLE001 - a candidate the file format refuses is simply not suggested
                return None
        else:
            sets.append(load_keyword_file(Path(keywords_dir) / f"{language}.toml"))
    return KeywordClassifier(tuple(sets), min_confidence)
