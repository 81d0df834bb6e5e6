"""What each command-line command does. run.py only parses arguments and calls these.

Commands print for a person (tables, progress) on the streams they are given; the daemon's
decisions go to the log, with the ticket they belong to.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from classifiers.evaluation import evaluate, format_report, read_labelled_csv, report_to_json
from config.settings import Settings, default_config_text, describe_settings, load_settings
from daemon.app import build_classifier_for, build_detector, build_mailbox, build_runtime
from daemon.errors import UsageError
from daemon.logsetup import setup_file_logging
from daemon.models import LABELS, Classification, Outcome
from daemon.parser import clean_text, parse_message
from daemon.subjects import classification_text

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "config" / "samples"
TABLE_ROWS = 200
"""A backlog of thousands would scroll the terminal for minutes: the table shows this many rows
and the counts cover everything (the log has every message)."""
PROGRESS_FROM = 20
"""Runs shorter than this finish before a progress bar would help."""


@dataclass
class Out:
    """Where a command writes for the user."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    def console(self) -> Console:
        return Console(file=self.stdout, width=max(100, shutil.get_terminal_size((120, 20)).columns), soft_wrap=False)


# -- init ------------------------------------------------------------------------------------


def cmd_init(directory: Path, force: bool, out: Out) -> int:
    directory = Path(directory)
    config_path = directory / "aftersale.toml"
    if config_path.exists() and not force:
        raise UsageError(f"{config_path}: already exists (use --force to overwrite it and refill the sample Maildir)")
    maildir = directory / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for folder in ("Drafts", "Sent"):
        for sub in ("cur", "new", "tmp"):
            (maildir / f".{folder}" / sub).mkdir(parents=True, exist_ok=True)
        (maildir / f".{folder}" / "maildirfolder").touch()
    samples = sorted(SAMPLES.glob("*.eml"))
    host = socket.gethostname().replace("/", "_").replace(":", "_") or "localhost"
    stamp = int(time.time())
    for number, sample in enumerate(samples):
        shutil.copyfile(sample, maildir / "new" / f"{stamp}.M{number:04d}P{os.getpid()}_{sample.stem}.{host}")
    config_path.write_text(default_config_text("Maildir", "state"), encoding="utf-8")
    print(f"wrote {config_path}", file=out.stdout)
    print(f"wrote {len(samples)} sample customer messages to {maildir / 'new'}", file=out.stdout)
    print(f"next: python run.py --config {config_path} once", file=out.stdout)
    return 0


# -- check-config ----------------------------------------------------------------------------


def cmd_check_config(config: Path, out: Out, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    settings = load_settings(config, env)
    print(f"{settings.source}: settings are valid", file=out.stdout)
    width = max(len(key) for key, _ in describe_settings(settings))
    for key, value in describe_settings(settings):
        print(f"  {key.ljust(width)}  {value}", file=out.stdout)
    classifier = build_classifier_for(settings)
    print(f"classifier: {classifier.name} ready for {', '.join(settings.classifier.languages)}", file=out.stdout)
    mailbox = build_mailbox(settings, env)
    try:
        checker = getattr(mailbox, "check", None)
        for line in checker() if checker else []:
            print(f"mailbox: {line}", file=out.stdout)
    finally:
        mailbox.close()
    if settings.outbox.kind == "smtp":
        from daemon.app import build_transport

        transport = build_transport(settings, env)()
        print(f"outbox: {transport.check()}", file=out.stdout)
    return 0


# -- once / run ------------------------------------------------------------------------------


@dataclass
class Summary:
    """Counts over a whole run plus the first rows of the table: bounded, whatever the backlog."""

    rows: list[Outcome] = field(default_factory=list)
    actions: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)
    total: int = 0

    def add(self, outcome: Outcome) -> None:
        self.total += 1
        self.actions[outcome.action] += 1
        if outcome.action not in {"skipped-duplicate", "guarded"}:
            self.labels[outcome.label] += 1
        if len(self.rows) < TABLE_ROWS:
            self.rows.append(outcome)


def cmd_once(config: Path, dry_run: bool, out: Out) -> int:
    settings = load_settings(config, os.environ)
    setup_file_logging(settings.log.file, settings.log.level, settings.log.json)
    runtime = build_runtime(settings, dry_run=dry_run)
    summary = Summary()
    try:
        with runtime.store.claim_daemon():
            for line in runtime.pipeline.reconcile_intents():
                print(line, file=out.stderr)
            _drain(runtime.pipeline, summary, out)
            runtime.lifecycle.scan_sent(runtime.mailbox, settings.mailbox.batch_size)
            for line in runtime.follow_ups.sweep():
                print(line, file=out.stderr)
            _clock_job(runtime)
    finally:
        runtime.close()
    _print_summary(summary, out, dry_run)
    return 0


def _drain(pipeline, summary: Summary, out: Out, should_stop: Callable[[], bool] = lambda: False) -> None:
    """Process everything new, with a progress bar when there is a lot of it."""
    total = pipeline.pending_count()
    interactive = out.stdout.isatty()
    if total and total >= PROGRESS_FROM and interactive:
        columns = (TextColumn("handling mail"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=out.console(), transient=True) as progress:
            task = progress.add_task("mail", total=total)
            for outcome in pipeline.process_new(should_stop):
                summary.add(outcome)
                progress.advance(task)
        return
    for outcome in pipeline.process_new(should_stop):
        summary.add(outcome)
        if total and total >= PROGRESS_FROM and summary.total % 100 == 0:
            print(f"handled {summary.total} of about {total} messages", file=out.stderr, flush=True)


def _print_summary(summary: Summary, out: Out, dry_run: bool) -> None:
    console = out.console()
    if summary.total == 0:
        console.print("nothing new: every message was handled before")
        return
    table = Table(title="Aftersale: what was done" + (" (dry run: nothing written)" if dry_run else ""))
    for column in ("#", "message", "from", "label", "conf.", "ticket", "done"):
        table.add_column(column, overflow="fold")
    for number, row in enumerate(summary.rows, 1):
        done = row.action + (f": {row.detail}" if row.action in {"guarded", "flagged", "recorded", "fell-back-to-draft"} and row.detail else "")
        table.add_row(
            str(number),
            (row.subject or "(no subject)")[:48],
            (row.sender or "?")[:32],
            row.label,
            f"{row.confidence:.2f}" if row.confidence else "",
            f"#{row.ticket_id}" if row.ticket_id else "",
            done[:70],
        )
    console.print(table)
    if summary.total > len(summary.rows):
        console.print(f"... and {summary.total - len(summary.rows)} more (every message is in the log)")
    actions = ", ".join(f"{count} {action}" for action, count in summary.actions.most_common())
    labels = ", ".join(f"{summary.labels[label]} {label}" for label in LABELS if summary.labels[label])
    console.print(f"{summary.total} messages: {actions}")
    if labels:
        console.print(f"labels: {labels}")


def cmd_run(config: Path, dry_run: bool, out: Out) -> int:
    """Run the scheduler until SIGTERM/SIGINT; the message in hand is finished before exiting."""
    from daemon.scheduler import Jobs, run_until_stopped

    settings = load_settings(config, os.environ)
    setup_file_logging(settings.log.file, settings.log.level, settings.log.json)
    runtime = build_runtime(settings, dry_run=dry_run)
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("signal %s: finishing the message in hand, then stopping", signum)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with runtime.store.claim_daemon():
            for line in runtime.pipeline.reconcile_intents():
                log.warning(line)
            log.info("aftersale running on the %s mailbox (dry run: %s)", settings.mailbox.kind, dry_run)
            jobs = Jobs(
                mail=lambda: _mail_job(runtime, stop, out),
                sweep=runtime.follow_ups.sweep,
                clock=lambda: _clock_job(runtime),
                mail_every=1.0,
            )
            run_until_stopped(jobs, stop, settings.seller.timezone)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        runtime.close()
    log.info("aftersale stopped cleanly")
    return 0


WAIT_SLICE = 10.0
"""Longest single wait for new mail: bounds how long a SIGTERM waits for the mail job."""


def _mail_job(runtime, stop: threading.Event, out: Out) -> None:
    summary = Summary()
    _drain(runtime.pipeline, summary, out, stop.is_set)
    if summary.total:
        log.info("handled %d messages: %s", summary.total, dict(summary.actions))
    runtime.lifecycle.scan_sent(runtime.mailbox, runtime.settings.mailbox.batch_size)
    deadline = time.monotonic() + runtime.settings.mailbox.poll_seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0 or runtime.mailbox.wait_for_mail(min(left, WAIT_SLICE)):
            return


def _clock_job(runtime) -> list[str]:
    """Warn about tickets nearing Amazon's response deadline; resolve and close quiet tickets;
    import new order reports from the watched folder."""
    from daemon.order_import import import_order_folder
    from daemon.sla import digest_text, format_left, housekeeping

    import_order_folder(runtime.store, runtime.settings.amazon.orders_dir)
    tickets = runtime.settings.tickets
    result = housekeeping(runtime.store, runtime.clock(), tickets.sla_hours, tickets.sla_warn_hours, tickets.auto_close_days)
    lines = []
    for reading in result.near:
        line = f"ticket #{reading.ticket_id}: response due, {format_left(reading.left)} left ({reading.label}, {reading.customer})"
        log.warning(line)
        lines.append(line)
    for ticket_id in result.to_resolve:
        runtime.lifecycle.set_status(ticket_id, "resolved", f"no word from the customer for {tickets.auto_close_days} days")
    for ticket_id in result.to_close:
        runtime.lifecycle.set_status(ticket_id, "closed", f"resolved more than {tickets.auto_close_days} days ago")
    if result.near and tickets.digest_to:
        _send_digest(runtime, digest_text(result.near, tickets.sla_hours))
    return lines


def _send_digest(runtime, text: str) -> None:
    """One mail to the seller listing what is about to be late (needs the SMTP outbox)."""
    from email.message import EmailMessage

    settings = runtime.settings
    if settings.outbox.kind != "smtp":
        log.info("response digest not mailed: [tickets] digest_to needs [outbox] kind = \"smtp\"")
        return
    from daemon.app import build_transport

    msg = EmailMessage()
    msg["From"] = settings.seller.address
    msg["To"] = settings.tickets.digest_to
    msg["Subject"] = "Aftersale: tickets near the response deadline"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    build_transport(settings, os.environ)().send_with_retry(
        bytes(msg), settings.seller.address, [settings.tickets.digest_to], retries=settings.outbox.retries, base_seconds=settings.outbox.retry_base_seconds
    )


# -- classify / eval -------------------------------------------------------------------------


def settings_or_defaults(config: Path, explicit: bool) -> Settings:
    """The config when there is one; for classify/eval a missing default config is fine."""
    if config.exists() or explicit:
        return load_settings(config, os.environ)
    from config.settings import default_settings

    return default_settings()


def cmd_classify(config: Path, explicit_config: bool, source: str, as_text: bool, explain: bool, as_json: bool, out: Out) -> int:
    settings = settings_or_defaults(config, explicit_config)
    raw = _read_input(source)
    if as_text:
        new_text = clean_text(raw.decode("utf-8", errors="replace"))[0]
    else:
        message = parse_message(raw)
        if message.unreadable:
            print(f"{source}: message could not be read: {'; '.join(message.defects)}", file=out.stderr)
        new_text = message.new_text
    classifier = build_classifier_for(settings)
    language = build_detector(settings).detect(new_text or (message.subject if not as_text else ""))
    result = classifier.classify(new_text if as_text else classification_text(message.subject, new_text), language)
    if as_json:
        print(json.dumps(classification_json(result, language), ensure_ascii=False, indent=2), file=out.stdout)
        return 0
    line = f"{result.label} {result.confidence:.2f} language={language or 'unknown'}"
    if result.secondary:
        line += f" secondary={result.secondary}"
    print(line, file=out.stdout)
    if explain:
        print(explain_text(result), file=out.stdout)
    return 0


def classification_json(result: Classification, language: str | None) -> dict[str, object]:
    return {
        "label": result.label,
        "confidence": round(result.confidence, 4),
        "language": language or result.language or None,
        "secondary": result.secondary or None,
        "scores": {label: round(score, 4) for label, score in result.scores},
        "reason": result.reason,
        "evidence": [
            {"label": e.label, "pattern": e.pattern, "matched": e.matched, "weight": e.weight, "source": e.source, "note": e.note}
            for e in result.evidence
        ],
    }


def explain_text(result: Classification) -> str:
    """Per label: the score and every pattern that matched, with the words it matched."""
    lines = []
    if result.reason:
        lines.append(f"why: {result.reason}")
    scores = dict(result.scores)
    for label in sorted(scores, key=lambda name: -scores[name]):
        lines.append(f"{label}: score {scores[label]:.2f}")
        for e in (e for e in result.evidence if e.label == label):
            note = f"  ({e.note})" if e.note else ""
            lines.append(f"    {e.weight:+.2f}  {e.pattern!s:<32} matched {e.matched!r}  [{e.source}]{note}")
    if not result.evidence:
        lines.append("no pattern matched")
    return "\n".join(lines)


def _read_input(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(f"{source}: no such file") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"{source}: is a directory, not a message file") from exc
    except OSError as exc:
        raise UsageError(f"{source}: cannot read: {exc.strerror}") from exc


def cmd_eval(config: Path, explicit_config: bool, csv_path: Path, split: str | None, as_json: bool, out: Out) -> int:
    settings = settings_or_defaults(config, explicit_config)
    rows = read_labelled_csv(csv_path)
    if split:
        rows = [row for row in rows if row.split == split]
        if not rows:
            raise UsageError(f"{csv_path}: no rows with split = {split!r}")
    classifier = build_classifier_for(settings)
    detector = build_detector(settings)
    pairs = []
    by_language: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        text = clean_text(row.text)[0]
        language = detector.detect(text)
        predicted = classifier.classify(text, language).label
        pairs.append((row.label, predicted))
        by_language.setdefault(row.language or language or "unknown", []).append((row.label, predicted))
    report = evaluate(pairs)
    if as_json:
        document = report_to_json(report)
        if len(by_language) > 1 or any(row.language for row in rows):
            document["per_language"] = {lang: report_to_json(evaluate(items)) for lang, items in sorted(by_language.items())}
        print(json.dumps(document, indent=2), file=out.stdout)
        return 0
    print(format_report(report), file=out.stdout)
    if len(by_language) > 1:
        print("\nper language:", file=out.stdout)
        for lang, items in sorted(by_language.items()):
            sub = evaluate(items)
            print(f"  {lang:<8} n={sub.n:<5} accuracy={sub.accuracy:.3f} macro-F1={sub.macro_f1:.3f}", file=out.stdout)
    return 0


def print_error(error: Exception, out: Out) -> None:
    print(f"aftersale: error: {error}", file=out.stderr)


