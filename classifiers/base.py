"""What a classifier is, and how one is chosen by name from the settings.

The registry is a function, not a dict filled in at import time: adding a classifier means
adding one line to `available_classifiers`, and importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from daemon.errors import ClassifierError
from daemon.models import Classification


@runtime_checkable
class Classifier(Protocol):
    """Gives a customer message one of the six labels, with the evidence for it."""

    name: str

    def classify(self, text: str, language: str | None = None) -> Classification:
        """`text` is ALREADY only the customer's new words: no quoted history, signature or
        Amazon relay boilerplate (those mention orders and reviews and would sway any label).
        `language` is the detected language code, or None when unknown."""
        ...


def available_classifiers() -> dict[str, type]:
    """Classifier classes by the name the settings use. Each has a `build(keywords_dir,
    languages, min_confidence)` class method."""
    from classifiers.keyword import KeywordClassifier

    return {"keyword": KeywordClassifier}


def build_classifier(name: str, keywords_dir: Path, languages: Sequence[str], min_confidence: float) -> Classifier:
    """The configured classifier, ready to use; ClassifierError names what is wrong."""
    classes = available_classifiers()
    if name not in classes:
        raise ClassifierError(f'[classifier] name: unknown classifier "{name}" (available: {", ".join(sorted(classes))})')
    classifier: Classifier = classes[name].build(Path(keywords_dir), languages, min_confidence)
    return classifier
