"""How fast the keyword classifier is, next to the fastest thing it could be.

The baseline is ONE compiled alternation of every word and phrase of every keyword file, run with
findall: no folding, no negation, no scoring, no evidence. The ratio says what the explanations
cost. Run: python bench/bench_classifier.py [--messages 5000]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.evaluation import read_labelled_csv  # noqa: E402
from classifiers.keyword import KeywordClassifier, KeywordSet, load_keyword_file  # noqa: E402
from classifiers.textnorm import fold  # noqa: E402

KEYWORDS_DIR = ROOT / "classifiers" / "keywords"
EVAL_DIR = ROOT / "tests" / "data"


def load_all_keyword_sets() -> tuple[KeywordSet, ...]:
    return tuple(load_keyword_file(path) for path in sorted(KEYWORDS_DIR.glob("*.toml")))


def bare_alternation(keyword_sets: tuple[KeywordSet, ...]) -> re.Pattern[str]:
    """Every word and phrase, escaped, longest first, in one regex."""
    literals = {
        fold(pattern.text).replace("*", "")
        for keyword_set in keyword_sets
        for pattern in keyword_set.patterns
        if pattern.kind in ("words", "phrases")
    }
    ordered = sorted((text for text in literals if text.strip()), key=len, reverse=True)
    return re.compile("|".join(re.escape(text) for text in ordered))


def build_messages(count: int) -> list[tuple[str, str]]:
    """(text, language) pairs: the eval CSV rows repeated up to `count`."""
    rows = [row for path in sorted(EVAL_DIR.glob("eval_*.csv")) for row in read_labelled_csv(path)]
    if not rows:
        raise SystemExit(f"no eval_*.csv in {EVAL_DIR}")
    return [(rows[i % len(rows)].text, rows[i % len(rows)].language) for i in range(count)]


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="how many messages to classify (default 5000)")
    args = parser.parse_args()

    started = time.perf_counter()
    keyword_sets = load_all_keyword_sets()
    classifier = KeywordClassifier(keyword_sets, min_confidence=0.35)
    baseline = bare_alternation(keyword_sets)
    setup = time.perf_counter() - started
    messages = build_messages(args.messages)
    patterns = sum(len(s.patterns) for s in keyword_sets)
    print(f"keyword files: {', '.join(s.source for s in keyword_sets)} ({patterns} patterns), loaded and compiled in {setup:.2f} s")
    print(f"messages: {len(messages)} (eval rows repeated), {sum(len(t) for t, _ in messages) / len(messages):.0f} characters on average")

    for text, language in messages[:50]:  # warm caches (regex compile, folding) outside the timing
        classifier.classify(text, language or None)

    started = time.perf_counter()
    for text, language in messages:
        classifier.classify(text, language or None)
    keyword_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for text, language in messages:
        classifier.classify(text, None)
    combined_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for text, _ in messages:
        baseline.findall(text.lower())
    bare_seconds = time.perf_counter() - started

    keyword_rate = rate(len(messages), keyword_seconds)
    combined_rate = rate(len(messages), combined_seconds)
    bare_rate = rate(len(messages), bare_seconds)
    print(f"KeywordClassifier.classify (language given): {keyword_rate:10.0f} messages/s")
    print(f"KeywordClassifier.classify (all languages):  {combined_rate:10.0f} messages/s")
    print(f"bare alternation findall:                    {bare_rate:10.0f} messages/s")
    print(f"ratio bare / classifier: {bare_rate / keyword_rate:.2f}x (language given), {bare_rate / combined_rate:.2f}x (all languages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
