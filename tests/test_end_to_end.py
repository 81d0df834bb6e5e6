"""The walking skeleton end to end: init a sample Maildir, run once, look at what it left."""

from __future__ import annotations

import json
import tomllib
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

import run
from daemon.commands import SAMPLES

EXPECTED = tomllib.loads((SAMPLES / "expected.toml").read_text(encoding="utf-8"))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    status = run.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def demo(tmp_path, capsys):
    status, _, _ = run_cli(capsys, "init", str(tmp_path))
    assert status == 0
    return tmp_path


def drafts(maildir: Path) -> list:
    folder = maildir / ".Drafts"
    return [message_from_bytes(p.read_bytes(), policy=default) for sub in ("cur", "new") for p in sorted((folder / sub).iterdir())]


def sample_message_ids() -> dict[str, str]:
    """Sample file name -> its Message-ID (for the readable ones)."""
    ids = {}
    for path in SAMPLES.glob("*.eml"):
        data = path.read_bytes()
        if not data:
            continue
        try:
            ids[path.name] = str(message_from_bytes(data, policy=default)["Message-ID"] or "").strip()
        except Exception:  # noqa: BLE001 - broken samples are broken on purpose
            continue
    return ids


def test_init_writes_a_config_and_at_least_30_sample_messages(demo):
    assert (demo / "aftersale.toml").is_file()
    assert len(list((demo / "Maildir" / "new").iterdir())) >= 30
    labels = {entry["label"] for entry in EXPECTED.values() if entry["kind"] == "customer"}
    assert labels == {"address_change", "cancellation", "logistics", "dissatisfaction", "review_complaint", "other"}


def test_init_refuses_to_overwrite_a_config(demo, capsys):
    status, _, err = run_cli(capsys, "init", str(demo))
    assert status == 2
    assert "already exists" in err and err.count("\n") == 1


def test_once_labels_samples_drafts_replies_and_second_run_is_a_no_op(demo, capsys):
    config = str(demo / "aftersale.toml")
    status, out, err = run_cli(capsys, "--config", config, "once")
    assert status == 0, err
    assert "drafted" in out

    tickets = json.loads(run_cli(capsys, "--config", config, "tickets", "--json")[1])
    assert tickets, "every customer message should open a ticket"

    ids = sample_message_ids()
    replies = drafts(demo / "Maildir")
    answered = {str(reply["In-Reply-To"]).strip() for reply in replies}
    for name, entry in EXPECTED.items():
        if entry["kind"] == "customer":
            assert ids[name] in answered, f"{name}: no draft answers it"
        elif entry["kind"] == "robot" and name in ids:
            assert ids[name] not in answered, f"{name}: a robot got a reply"
    for reply in replies:
        assert str(reply["Subject"]).startswith("Re: ")
        assert str(reply["From"]).endswith("<support@northwind-home.example>")
        assert reply["References"] and str(reply["In-Reply-To"]) in str(reply["References"])
        assert reply["To"]
    assert len({str(reply["Message-ID"]) for reply in replies}) == len(replies)

    status, out, _ = run_cli(capsys, "--config", config, "once")
    assert status == 0
    assert "nothing new" in out
    assert len(drafts(demo / "Maildir")) == len(replies)


def test_sample_labels_match_the_manifest(demo, capsys):
    config = str(demo / "aftersale.toml")
    run_cli(capsys, "--config", config, "once")
    tickets = json.loads(run_cli(capsys, "--config", config, "tickets", "--json")[1])
    ids = sample_message_ids()
    by_message = {}
    for summary in tickets:
        detail = json.loads(run_cli(capsys, "--config", config, "ticket", str(summary["id"]), "--json")[1])
        for event in detail["events"]:
            if event["kind"] == "message":
                by_message[event["data"]["key"]] = detail["label"]
    wrong = []
    for name, entry in EXPECTED.items():
        if entry["kind"] == "customer" and by_message.get(ids[name]) != entry["label"]:
            wrong.append(f"{name}: expected {entry['label']}, got {by_message.get(ids[name])}")
    assert not wrong, "\n".join(wrong)


def test_broken_mail_is_kept_flagged_and_reported(demo, capsys):
    config = str(demo / "aftersale.toml")
    before = {p.name.partition(":")[0] for p in (demo / "Maildir" / "new").iterdir()}
    status, out, _ = run_cli(capsys, "--config", config, "once")
    assert status == 0
    assert "flagged" in out
    after = {p.name.partition(":")[0] for sub in ("new", "cur") for p in (demo / "Maildir" / sub).iterdir()}
    assert before == after, "no message may be lost or rewritten"
    tickets = json.loads(run_cli(capsys, "--config", config, "tickets", "--json")[1])
    broken = sum(1 for entry in EXPECTED.values() if entry["kind"] == "broken")
    flagged = [t for t in tickets if t["status"] == "flagged"]
    assert 1 <= len(flagged) <= broken


def test_dry_run_writes_nothing(demo, capsys):
    config = str(demo / "aftersale.toml")
    new_before = sorted(p.name for p in (demo / "Maildir" / "new").iterdir())
    status, out, _ = run_cli(capsys, "--config", config, "once", "--dry-run")
    assert status == 0
    assert "dry-run" in out
    assert sorted(p.name for p in (demo / "Maildir" / "new").iterdir()) == new_before
    assert drafts(demo / "Maildir") == []
    status, out, _ = run_cli(capsys, "--config", config, "once")
    assert "drafted" in out, "after a dry run the real run still sees every message"


def test_a_config_mistake_is_one_line_naming_file_and_key(tmp_path, capsys):
    config = tmp_path / "aftersale.toml"
    config.write_text('[seller]\nname = "Shop"\naddress = "s@shop.example"\ncolour = "red"\n[mailbox]\nkind = "maildir"\npath = "M"\n[store]\npath = "s"\n')
    status, _, err = run_cli(capsys, "--config", str(config), "once")
    assert status == 2
    assert err.count("\n") == 1 and "aftersale.toml" in err and "colour" in err
    assert "Traceback" not in err


def test_a_missing_config_says_how_to_make_one(tmp_path, capsys):
    status, _, err = run_cli(capsys, "--config", str(tmp_path / "nope.toml"), "once")
    assert status == 2 and "nope.toml" in err and err.count("\n") == 1


def test_classify_json_has_the_documented_shape(tmp_path, capsys):
    message = tmp_path / "m.txt"
    message.write_text("Hi, please cancel my order, I ordered it by mistake.")
    status, out, _ = run_cli(capsys, "classify", "--text", "--json", str(message))
    assert status == 0
    document = json.loads(out)
    assert document["label"] == "cancellation"
    assert 0 <= document["confidence"] <= 1
    assert document["language"] == "en"
    assert document["evidence"] and all({"pattern", "matched", "weight"} <= set(e) for e in document["evidence"])


def test_classify_explain_shows_matched_words(tmp_path, capsys):
    message = tmp_path / "m.txt"
    message.write_text("The mug arrived smashed and the handle is broken.")
    status, out, _ = run_cli(capsys, "classify", "--text", "--explain", str(message))
    assert status == 0
    assert out.startswith("dissatisfaction")
    assert "matched" in out


def test_classify_a_missing_file_is_a_usage_error(tmp_path, capsys):
    status, _, err = run_cli(capsys, "classify", str(tmp_path / "none.eml"))
    assert status == 2 and "none.eml" in err


def test_eval_json_report_shape(tmp_path, capsys):
    csv = tmp_path / "e.csv"
    csv.write_text(
        "text,label\n"
        '"please cancel my order",cancellation\n'
        '"where is my parcel? tracking has not moved",logistics\n'
        '"the lamp arrived broken",dissatisfaction\n'
    )
    status, out, _ = run_cli(capsys, "eval", "--json", str(csv))
    assert status == 0
    document = json.loads(out)
    assert set(document) >= {"n", "accuracy", "macro_f1", "per_label", "confusion"}
    assert document["n"] == 3
    assert set(document["per_label"]["cancellation"]) == {"precision", "recall", "f1", "support"}


def test_eval_names_the_bad_row(tmp_path, capsys):
    csv = tmp_path / "e.csv"
    csv.write_text("text,label\nhello,other\nplease cancel,cancel\n")
    status, _, err = run_cli(capsys, "eval", str(csv))
    assert status == 2 and "row" in err and "cancel" in err and err.count("\n") == 1


def test_report_lists_why_products_fail_after_a_run(demo, capsys):
    config = str(demo / "aftersale.toml")
    status, out, _ = run_cli(capsys, "--config", config, "report")
    assert (status, out.strip()) == (0, "no dissatisfaction reasons recorded yet")

    run_cli(capsys, "--config", config, "once")
    status, out, _ = run_cli(capsys, "--config", config, "report")

    assert status == 0
    rows = {line.split("│")[3].strip(): int(line.split("│")[4]) for line in out.splitlines() if line.count("│") == 5}
    expected_dissatisfied = sum(1 for entry in EXPECTED.values() if entry.get("label") == "dissatisfaction")
    assert rows.get("damaged", 0) >= 1 and "missing_part" in rows and "wrong_size_colour" in rows, out
    assert sum(rows.values()) == expected_dissatisfied, out
