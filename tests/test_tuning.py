"""Tuning helpers: measured keyword suggestions, and dry runs over past mail."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import run
from classifiers.tuning import Example, suggest

MINIMAL = """language = "en"
[negation]
words = ["not"]
[cancellation.words]
"cancel*" = 3
[logistics.phrases]
"where is my" = 3
[other.words]
"invoice" = 3
"""


def keywords(tmp_path: Path, text: str = MINIMAL, name: str = "kw") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "en.toml").write_text(text, encoding="utf-8")
    return folder


def test_suggest_finds_the_word_that_fixes_examples_and_measures_it(tmp_path):
    examples = [
        Example("please halt my purchase right away", "cancellation", "en", "row 2"),
        Example("halt the order, I bought the wrong one", "cancellation", "en", "row 3"),
        Example("where is my parcel", "logistics", "en", "row 4"),
        Example("I need an invoice", "other", "en", "row 5"),
    ]
    found = suggest(examples, keywords(tmp_path), ["en"], 0.35)
    best = found[0]
    assert '"halt"' in best.change and "[cancellation" in best.change
    assert set(best.fixes) == {"row 2", "row 3"} and best.breaks == ()
    assert best.gain == 2


def test_suggest_reports_what_a_change_would_break(tmp_path):
    examples = [
        Example("where is my refund for the broken lamp", "dissatisfaction", "en", "row 2"),
        Example("where is my parcel", "logistics", "en", "row 3"),
    ]
    found = suggest(examples, keywords(tmp_path, MINIMAL + '[dissatisfaction.words]\n"broken" = 1\n'), ["en"], 0.35, limit=50)
    assert found, "some change fixes row 2"
    assert all(s.gain > 0 for s in found)
    assert not any("remove [logistics.phrases]" in s.change for s in found), "removing 'where is my' breaks row 3 as much as it fixes"


def test_suggest_command_prints_change_gain_and_rows(tmp_path, capsys):
    csv = tmp_path / "e.csv"
    csv.write_text("text,label\nplease halt my purchase,cancellation\nhalt the order now,cancellation\nwhere is my parcel,logistics\n")
    config = tmp_path / "a.toml"
    config.write_text(f'[seller]\nname="S"\naddress="s@shop.example"\n[mailbox]\nkind="maildir"\npath="M"\n[store]\npath="st"\n[classifier]\nkeywords_dir="{keywords(tmp_path)}"\n')
    assert run.main(["--config", str(config), "suggest", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "1. in en.toml:" in out and "halt" in out and "gain +2" in out


def test_dry_run_folder_shows_which_messages_a_second_keyword_directory_changes(tmp_path, capsys):
    maildir = tmp_path / "Old"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for number, text in enumerate(["Please halt my purchase", "Where is my parcel?"]):
        msg = EmailMessage()
        msg["From"] = f"b{number}@example.net"
        msg["Subject"] = text
        msg["Message-ID"] = f"<d{number}@example.net>"
        msg.set_content(text)
        (maildir / "cur" / f"{number}.old:2,S").write_bytes(bytes(msg))
    first = keywords(tmp_path)
    second = keywords(tmp_path, MINIMAL.replace('"cancel*" = 3', '"cancel*" = 3\n"halt" = 3'), "kw2")
    config = tmp_path / "a.toml"
    config.write_text(f'[seller]\nname="S"\naddress="s@shop.example"\n[mailbox]\nkind="maildir"\npath="Old"\n[store]\npath="st"\n[classifier]\nkeywords_dir="{first}"\n')
    before = sorted(p.name for p in (maildir / "cur").iterdir())
    assert run.main(["--config", str(config), "dry-run", "--folder", str(maildir), "--compare", str(second)]) == 0
    out = capsys.readouterr().out
    assert "2 messages" in out and "1 messages change label" in out and "cancellation" in out
    assert sorted(p.name for p in (maildir / "cur").iterdir()) == before
    assert not (tmp_path / "st").exists() or not any((tmp_path / "st").rglob("tickets/*")), "a dry run drafts and records nothing"
