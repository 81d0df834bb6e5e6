"""The held-aside evaluation: make test fails when classification quality drops.

Each tests/data/eval_<language>.csv has rows marked split=holdout that no keyword was tuned on.
They go through the product's own path (clean_text, language detection over all seven
languages, the keyword classifier) and must reach macro-F1 0.85 (English 0.90).
Run with -s to see the table for the closing note.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.evaluation import evaluate, read_labelled_csv
from classifiers.keyword import KeywordClassifier
from classifiers.language import LanguageDetector
from config.settings import ClassifierSettings
from daemon.parser import clean_text

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "de", "fr", "es", "it", "ja", "zh")
FLOOR = {"en": 0.90}
DEFAULT_FLOOR = 0.85


@pytest.fixture(scope="module")
def classifier() -> KeywordClassifier:
    return KeywordClassifier.build(ROOT / "classifiers" / "keywords", LANGUAGES, ClassifierSettings.min_confidence)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_holdout_macro_f1_meets_the_floor(language, classifier, detector):
    rows = [row for row in read_labelled_csv(ROOT / "tests" / "data" / f"eval_{language}.csv") if row.split == "holdout"]
    assert len(rows) >= 6 * 20, "at least 20 held-aside messages per label"
    pairs = []
    detected_right = 0
    for row in rows:
        text = clean_text(row.text)[0]
        found = detector.detect(text)
        detected_right += found == language
        pairs.append((row.label, classifier.classify(text, found).label))
    report = evaluate(pairs)
    floor = FLOOR.get(language, DEFAULT_FLOOR)
    per_label = "  ".join(f"{label} {score.f1:.2f}" for label, score in report.per_label.items())
    print(f"\n{language}: n={report.n} macro-F1 {report.macro_f1:.3f} accuracy {report.accuracy:.3f} "
          f"language detected right {detected_right}/{len(rows)} | {per_label}")
    assert report.macro_f1 >= floor, f"{language} holdout macro-F1 {report.macro_f1:.3f} < {floor}"
