"""How well a classifier labels messages a human has already labelled.

Pure functions over plain values: reading the labelled CSV, computing the metrics, and printing
them. The `eval` command wires them to a classifier; tests feed them hand-made pairs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from daemon.errors import UsageError
from daemon.models import LABELS

REQUIRED_COLUMNS = ("text", "label")


@dataclass(frozen=True)
class LabelledText:
    text: str
    label: str
    language: str = ""
    split: str = ""
    """Free text, e.g. `tune` (rows the keywords were tuned on) or `holdout` (never looked at)."""
    row: int = 0
    """Spreadsheet row number: the header is row 1."""


@dataclass(frozen=True)
class LabelScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    n: int
    accuracy: float
    macro_f1: float
    """Mean F1 over the labels that occur in the data or in the predictions: a label nobody
    wrote and nothing predicted says nothing about the classifier."""
    per_label: dict[str, LabelScore]
    """Every one of the six labels, in LABELS order."""
    confusion: dict[str, dict[str, int]]
    """confusion[true][predicted] = count, a full 6 x 6 table in LABELS order."""


def read_labelled_csv(path: Path) -> list[LabelledText]:
    """Rows of a CSV with at least `text` and `label` columns (`language` and `split` optional,
    other columns ignored). A mistake raises UsageError naming the file and row."""
    where = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(f"{where}: no such file") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"{where}: is a directory, not a CSV file") from exc
    except OSError as exc:
        raise UsageError(f"{where}: cannot read: {exc.strerror}") from exc
    try:
        content = raw.decode("utf-8-sig")  # spreadsheets like to start with a BOM
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: not UTF-8 text (byte {exc.start}); save the CSV as UTF-8") from exc
    return parse_labelled_csv(content, where)


def parse_labelled_csv(content: str, where: str) -> list[LabelledText]:
    # newline="" semantics: the csv module itself handles \r\n and line breaks inside quotes.
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError(f"{where}: empty file, expected a header row with text,label") from None
    except csv.Error as exc:
        raise UsageError(f"{where}: row 1: {exc}") from exc
    columns = [name.strip().lower() for name in header]
    for required in REQUIRED_COLUMNS:
        if required not in columns:
            found = ", ".join(name for name in columns if name) or "nothing"
            raise UsageError(f'{where}: missing column "{required}" (found: {found})')
    index = {name: columns.index(name) for name in ("text", "label", "language", "split") if name in columns}
    rows: list[LabelledText] = []
    row_number = 1
    while True:
        row_number += 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise UsageError(f"{where}: row {row_number}: {exc}") from exc
        if not any(cell.strip() for cell in record):
            continue

        def cell(name: str, record: list[str] = record) -> str:
            position = index.get(name)
            return record[position] if position is not None and position < len(record) else ""

        label = cell("label").strip().lower()
        if label not in LABELS:
            shown = cell("label").strip()
            raise UsageError(f'{where}: row {row_number}: unknown label "{shown}" (expected one of {", ".join(LABELS)})')
        rows.append(LabelledText(cell("text"), label, cell("language").strip().lower(), cell("split").strip().lower(), row_number))
    return rows


def evaluate(pairs: Iterable[tuple[str, str]]) -> Report:
    """Metrics for (true label, predicted label) pairs."""
    confusion = {true: {predicted: 0 for predicted in LABELS} for true in LABELS}
    n = 0
    for true, predicted in pairs:
        for label in (true, predicted):
            if label not in LABELS:
                raise ValueError(f"unknown label {label!r} (expected one of {', '.join(LABELS)})")
        confusion[true][predicted] += 1
        n += 1
    correct = sum(confusion[label][label] for label in LABELS)
    per_label: dict[str, LabelScore] = {}
    counted: list[float] = []
    for label in LABELS:
        support = sum(confusion[label].values())
        predicted = sum(confusion[true][label] for true in LABELS)
        hits = confusion[label][label]
        precision = hits / predicted if predicted else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = LabelScore(precision, recall, f1, support)
        if support or predicted:
            counted.append(f1)
    macro_f1 = sum(counted) / len(counted) if counted else 0.0
    return Report(n, correct / n if n else 0.0, macro_f1, per_label, confusion)


def report_to_json(report: Report) -> dict[str, object]:
    return {
        "n": report.n,
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "per_label": {
            label: {"precision": score.precision, "recall": score.recall, "f1": score.f1, "support": score.support}
            for label, score in report.per_label.items()
        },
        "confusion": {true: dict(row) for true, row in report.confusion.items()},
    }


_SHORT = {
    "address_change": "addr",
    "cancellation": "cancel",
    "logistics": "logist",
    "dissatisfaction": "dissat",
    "review_complaint": "review",
    "other": "other",
}


def format_report(report: Report) -> str:
    """A table a seller can read in a terminal: per-label scores, then the confusion matrix
    (rows: the true label, columns: what the classifier said)."""
    lines = [f"messages: {report.n}   accuracy: {report.accuracy:.3f}   macro-F1: {report.macro_f1:.3f}", ""]
    lines.append(f"{'label':<18}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for label, score in report.per_label.items():
        lines.append(f"{label:<18}{score.precision:>10.3f}{score.recall:>10.3f}{score.f1:>10.3f}{score.support:>9}")
    lines += ["", "confusion (rows: true label, columns: predicted)"]
    lines.append(f"{'':<18}" + "".join(f"{_SHORT.get(label, label[:6]):>8}" for label in LABELS))
    for true in LABELS:
        lines.append(f"{true:<18}" + "".join(f"{report.confusion[true][predicted]:>8}" for predicted in LABELS))
    return "\n".join(lines)


def evaluate_by_group(items: Iterable[tuple[str, str, str]]) -> dict[str, Report]:
    """One report per group (a language, a split...) from (group, true, predicted) triples."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for group, true, predicted in items:
        grouped.setdefault(group or "unknown", []).append((true, predicted))
    return {group: evaluate(pairs) for group, pairs in sorted(grouped.items())}


def format_breakdown(reports: Mapping[str, Report], title: str = "language") -> str:
    """One line per group: how many messages, accuracy and macro-F1."""
    lines = [f"{title:<10}{'n':>6}{'accuracy':>10}{'macro-F1':>10}"]
    for group, report in reports.items():
        lines.append(f"{group:<10}{report.n:>6}{report.accuracy:>10.3f}{report.macro_f1:>10.3f}")
    return "\n".join(lines)
