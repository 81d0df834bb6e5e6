"""Keyword-tuning commands: `suggest` changes from labelled data, and `dry-run --folder` to see
how past mail would be labelled (and what a second keyword directory would change)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from rich.table import Table

from classifiers.evaluation import read_labelled_csv
from classifiers.keyword import KeywordClassifier
from classifiers.tuning import Example, suggest
from config.settings import load_settings
from daemon.app import build_detector
from daemon.commands import Out, settings_or_defaults
from daemon.errors import UsageError
from daemon.models import LABELS
from daemon.parser import clean_text, parse_message
from daemon.state import Store
from daemon.subjects import classification_text


def cmd_suggest(config: Path, explicit: bool, csv_path: Path | None, from_relabels: bool, limit: int, out: Out) -> int:
    settings = settings_or_defaults(config, explicit)
    detector = build_detector(settings)
    examples: list[Example] = []
    if csv_path is not None:
        for row in read_labelled_csv(csv_path):
            text = clean_text(row.text)[0]
            examples.append(Example(text, row.label, row.language or detector.detect(text) or "", f"{csv_path.name} row {row.row}"))
    if from_relabels:
        store = Store(Path(settings.store.path), fsync=False)
        for record in store.relabels():
            examples.append(Example(record.get("text", ""), record["new"], record.get("language", ""), f"ticket #{record.get('ticket_id')}"))
    if not examples:
        raise UsageError("suggest: no examples (give a CSV of text,label, or --relabels after some `relabel` commands)")
    languages = [lang for lang in settings.classifier.languages if any(e.language == lang for e in examples)] or list(settings.classifier.languages)
    examples = [e if e.language in languages else Example(e.text, e.label, "", e.where) for e in examples]
    found = suggest(examples, settings.classifier.keywords_dir, languages, settings.classifier.min_confidence, limit,
                    progress=lambda done, total: print(f"\rtrying change {done} of {total}", end="", file=out.stderr, flush=True))
    print("", file=out.stderr)
    if not found:
        print("no single keyword change fixes a misclassified example without breaking as many", file=out.stdout)
        return 0
    for number, item in enumerate(found, 1):
        print(f"{number}. in {item.file}: {item.change}", file=out.stdout)
        print(f"   gain {item.gain:+d}: fixes {len(item.fixes)} ({', '.join(item.fixes[:5])}{' ...' if len(item.fixes) > 5 else ''})", file=out.stdout)
        if item.breaks:
            print(f"   breaks {len(item.breaks)} ({', '.join(item.breaks[:5])}{' ...' if len(item.breaks) > 5 else ''})", file=out.stdout)
    return 0


def cmd_dry_run_folder(config: Path, folder: str, compare: Path | None, out: Out) -> int:
    """Classify past mail without drafting anything; with `compare`, show what changes."""
    settings = load_settings(config, os.environ)
    mailbox = _folder_mailbox(settings, folder)
    classify_a = KeywordClassifier.build(settings.classifier.keywords_dir, settings.classifier.languages, settings.classifier.min_confidence)
    classify_b = KeywordClassifier.build(compare, settings.classifier.languages, settings.classifier.min_confidence) if compare else None
    detector = build_detector(settings)
    labels: Counter[str] = Counter()
    changes = []
    total = 0
    try:
        for batch in mailbox.fetch_new("", settings.mailbox.batch_size):
            for raw in batch:
                message = parse_message(raw.data)
                total += 1
                language = detector.detect(message.new_text or message.subject)
                text = classification_text(message.subject, message.new_text)
                first = classify_a.classify(text, language)
                labels[first.label] += 1
                if classify_b is not None:
                    second = classify_b.classify(text, language)
                    if second.label != first.label:
                        changes.append((message.subject or "(no subject)", message.from_address, first, second))
    finally:
        mailbox.close()
    print(f"{total} messages in {folder}: " + ", ".join(f"{labels[label]} {label}" for label in LABELS if labels[label]), file=out.stdout)
    if classify_b is None:
        return 0
    if not changes:
        print(f"no message changes label with the keywords in {compare}", file=out.stdout)
        return 0
    table = Table(title=f"{len(changes)} messages change label with {compare}")
    for column in ("message", "from", "now", "with the other keywords"):
        table.add_column(column, overflow="fold")
    for subject, sender, first, second in changes:
        table.add_row(subject[:50], sender[:32], f"{first.label} {first.confidence:.2f}", f"{second.label} {second.confidence:.2f}")
    out.console().print(table)
    return 0


def _folder_mailbox(settings, folder: str):
    """A Maildir path on disk, else a folder of the configured IMAP mailbox."""
    path = Path(folder).expanduser()
    if (path / "cur").is_dir():
        from daemon.mailbox.maildir import MaildirMailbox

        return MaildirMailbox(path)
    if settings.mailbox.kind == "imap":
        from dataclasses import replace

        from daemon.app import build_mailbox

        return build_mailbox(replace(settings, mailbox=replace(settings.mailbox, folder=folder)), os.environ)
    raise UsageError(f"dry-run --folder {folder}: not a Maildir (no cur/ folder), and [mailbox] is not IMAP")
