"""Metrics on hand-computed examples, and the labelled-CSV reader's handling of real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.evaluation import (
    LabelScore,
    evaluate,
    evaluate_by_group,
    format_breakdown,
    format_report,
    read_labelled_csv,
    report_to_json,
)
from daemon.errors import UsageError
from daemon.models import LABELS

ROOT = Path(__file__).resolve().parent.parent

# true -> predicted, five messages:
#   cancellation: 1 right, 1 called logistics   -> precision 1/2, recall 1/2, F1 1/2
#   logistics:    2 right                        -> precision 2/3, recall 1,   F1 0.8
#   other:        1 called cancellation          -> precision 0,   recall 0,   F1 0
PAIRS = [
    ("cancellation", "cancellation"),
    ("cancellation", "logistics"),
    ("logistics", "logistics"),
    ("logistics", "logistics"),
    ("other", "cancellation"),
]


def test_metrics_match_the_hand_computed_example() -> None:
    report = evaluate(PAIRS)

    assert report.n == 5
    assert report.accuracy == pytest.approx(3 / 5)
    assert report.per_label["cancellation"] == LabelScore(precision=0.5, recall=0.5, f1=0.5, support=2)
    assert report.per_label["logistics"].precision == pytest.approx(2 / 3)
    assert report.per_label["logistics"].recall == 1.0
    assert report.per_label["logistics"].f1 == pytest.approx(0.8)
    assert report.per_label["other"] == LabelScore(precision=0.0, recall=0.0, f1=0.0, support=1)


def test_macro_f1_leaves_out_labels_nobody_wrote_and_nothing_predicted() -> None:
    report = evaluate(PAIRS)

    # address_change, dissatisfaction and review_complaint never occur: they are not averaged.
    assert report.macro_f1 == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert report.per_label["address_change"] == LabelScore(0.0, 0.0, 0.0, 0)


def test_confusion_is_a_full_table_of_true_against_predicted() -> None:
    report = evaluate(PAIRS)

    assert list(report.confusion) == list(LABELS)
    assert all(list(row) == list(LABELS) for row in report.confusion.values())
    assert report.confusion["cancellation"]["logistics"] == 1
    assert report.confusion["logistics"]["logistics"] == 2
    assert report.confusion["other"]["cancellation"] == 1
    assert sum(sum(row.values()) for row in report.confusion.values()) == 5


def test_perfect_predictions_score_one() -> None:
    report = evaluate([(label, label) for label in LABELS])
    assert (report.accuracy, report.macro_f1) == (1.0, 1.0)


def test_no_pairs_give_an_empty_report() -> None:
    report = evaluate([])
    assert (report.n, report.accuracy, report.macro_f1) == (0, 0.0, 0.0)


def test_an_unknown_label_in_the_pairs_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="cancel"):
        evaluate([("cancel", "other")])


def test_json_has_exactly_the_documented_shape() -> None:
    document = report_to_json(evaluate(PAIRS))

    assert set(document) == {"n", "accuracy", "macro_f1", "per_label", "confusion"}
    assert document["n"] == 5
    assert set(document["per_label"]) == set(LABELS)
    assert document["per_label"]["cancellation"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert document["confusion"]["cancellation"]["logistics"] == 1


def test_format_report_shows_the_scores_and_the_confusion_matrix() -> None:
    text = format_report(evaluate(PAIRS))

    assert "accuracy: 0.600" in text
    assert "macro-F1: 0.433" in text
    assert "confusion" in text
    logistics_row = next(line for line in text.splitlines() if line.startswith("logistics ") and "1.000" not in line)
    assert logistics_row.split()[1:] == ["0", "0", "2", "0", "0", "0"]


def test_breakdown_reports_each_language_apart() -> None:
    reports = evaluate_by_group([("en", "other", "other"), ("de", "logistics", "other"), ("en", "logistics", "logistics")])

    assert list(reports) == ["de", "en"]
    assert reports["en"].accuracy == 1.0
    assert reports["de"].accuracy == 0.0
    assert "de" in format_breakdown(reports) and "en" in format_breakdown(reports)


# -- the CSV reader ---------------------------------------------------------------------------


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "labelled.csv"
    path.write_bytes(content)
    return path


def test_reads_a_spreadsheet_export_with_bom_crlf_and_extra_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeffid,Text,Label,Language,split,notes\r\n"
        '1,"Where is it?\r\nStill waiting",logistics,EN,holdout,x\r\n'
        "2,Cancel please, Cancellation ,,,\r\n".encode("utf-8"),
    )

    rows = read_labelled_csv(path)

    assert [(r.text, r.label, r.language, r.split, r.row) for r in rows] == [
        ("Where is it?\r\nStill waiting", "logistics", "en", "holdout", 2),
        ("Cancel please", "cancellation", "", "", 3),
    ]


def test_language_and_split_columns_are_optional(tmp_path: Path) -> None:
    rows = read_labelled_csv(write(tmp_path, b"text,label\nthanks!,other\n"))
    assert [(r.text, r.label, r.language, r.split) for r in rows] == [("thanks!", "other", "", "")]


def test_unknown_label_names_file_and_row(tmp_path: Path) -> None:
    path = write(tmp_path, b'text,label\nok,other\n"two\nlines",logistics\nstop it,cancel\n')

    with pytest.raises(UsageError) as caught:
        read_labelled_csv(path)

    assert str(caught.value) == (
        f'{path}: row 4: unknown label "cancel" (expected one of address_change, cancellation, logistics, '
        "dissatisfaction, review_complaint, other)"
    )


def test_missing_column_names_what_was_found(tmp_path: Path) -> None:
    path = write(tmp_path, b"text,category,language\nhello,other,en\n")

    with pytest.raises(UsageError) as caught:
        read_labelled_csv(path)

    assert str(caught.value) == f'{path}: missing column "label" (found: text, category, language)'


def test_empty_file_and_missing_file_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="empty file"):
        read_labelled_csv(write(tmp_path, b""))
    with pytest.raises(UsageError, match="no such file"):
        read_labelled_csv(tmp_path / "absent.csv")


def test_non_utf8_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not UTF-8"):
        read_labelled_csv(write(tmp_path, "text,label\nbeschädigt,dissatisfaction\n".encode("latin-1")))


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    rows = read_labelled_csv(write(tmp_path, b"text,label\n\nhello,other\n\n"))
    assert [r.text for r in rows] == ["hello"]


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "it", "ja", "zh"])
def test_each_eval_set_has_40_per_label_and_20_per_label_held_aside(language: str) -> None:
    rows = read_labelled_csv(ROOT / "tests" / "data" / f"eval_{language}.csv")

    for label in LABELS:
        mine = [row for row in rows if row.label == label]
        assert len(mine) >= 40, label
        holdout = sum(row.split == "holdout" for row in mine)
        assert holdout >= 20, f"{label}: only {holdout} of {len(mine)} held aside"
    assert {row.language for row in rows} == {language}
    assert {row.split for row in rows} == {"tune", "holdout"}
