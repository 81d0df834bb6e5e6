#!/usr/bin/env python3
"""Aftersale's command line: argument parsing and wiring only (the work is in daemon/commands.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_CONFIG = "aftersale.toml"
NEW_STATUS = {"resolve": "resolved", "close": "closed", "reopen": "new"}


def ticket_id(text: str) -> int:
    """Accept `42` and `#42`, as tickets are shown."""
    try:
        return int(text.lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a ticket number: {text!r}") from None


def raise_usage(text: str) -> None:
    from daemon.errors import UsageError

    raise UsageError(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Aftersale: sorts a seller's after-sales mail and drafts the replies.",
    )
    parser.add_argument("--config", default=None, help=f"settings file (default: {DEFAULT_CONFIG})")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every decision to the terminal")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="write a starter config and a sample Maildir")
    init.add_argument("directory", nargs="?", default=".", help="where to write them (default: here)")
    init.add_argument("--force", action="store_true", help="overwrite an existing aftersale.toml")

    commands.add_parser("check-config", help="validate the settings, connect, and print what will be used")

    once = commands.add_parser("once", help="handle everything new, print a summary, exit")
    once.add_argument("--dry-run", action="store_true", help="decide everything, write no draft, send nothing")

    run = commands.add_parser("run", help="keep handling new mail until SIGTERM/SIGINT")
    run.add_argument("--dry-run", action="store_true", help="decide everything, write no draft, send nothing")

    classify = commands.add_parser("classify", help="classify one message (a file, or - for stdin)")
    classify.add_argument("source", help="a raw email file, or - to read standard input")
    classify.add_argument("--text", action="store_true", help="the input is plain body text, not a raw email")
    classify.add_argument("--explain", action="store_true", help="show every matched pattern and each label's score")
    classify.add_argument("--json", action="store_true", help="print the result as JSON")

    tickets = commands.add_parser("tickets", help="list open tickets with the time left on the response clock")
    tickets.add_argument("--overdue", action="store_true", help="only tickets past the response deadline")
    tickets.add_argument("--json", action="store_true", help="print as JSON")

    ticket = commands.add_parser("ticket", help="show one ticket's whole history")
    ticket.add_argument("id", type=ticket_id)
    ticket.add_argument("--json", action="store_true", help="print as JSON")

    for name, text in (("resolve", "mark solved (schedules the satisfaction check)"), ("close", "close for good (cancels pending follow-ups)"), ("reopen", "open again")):
        change = commands.add_parser(name, help=text)
        change.add_argument("id", type=ticket_id)

    relabel = commands.add_parser("relabel", help="correct a ticket's label (kept as keyword-tuning data)")
    relabel.add_argument("id", type=ticket_id)
    relabel.add_argument("label")

    orders = commands.add_parser("orders", help="Amazon order data")
    order_commands = orders.add_subparsers(dest="orders_command", required=True, metavar="ACTION")
    order_import = order_commands.add_parser("import", help="load Amazon's All Orders report (tab-separated)")
    order_import.add_argument("files", nargs="+", type=Path)

    lint = commands.add_parser("lint-templates", help="check every template against Amazon's messaging rules")
    lint.add_argument("directory", nargs="?", type=Path, help="templates folder (default: [templates] dir)")

    commands.add_parser("report", help="which products fail and why (from dissatisfaction tickets)")

    suggest = commands.add_parser("suggest", help="keyword changes that would fix misclassified examples")
    suggest.add_argument("csv", nargs="?", type=Path, help="labelled CSV (text,label[,language])")
    suggest.add_argument("--relabels", action="store_true", help="also use the labels corrected with `relabel`")
    suggest.add_argument("--limit", type=int, default=10, help="how many suggestions (default 10)")

    dry = commands.add_parser("dry-run", help="classify past mail in a folder without drafting anything")
    dry.add_argument("--folder", required=True, help="a Maildir path, or a folder of the IMAP mailbox")
    dry.add_argument("--compare", type=Path, help="a second keyword directory: show which messages change label")

    evaluate = commands.add_parser("eval", help="score the classifier on a labelled CSV (text,label[,language])")
    evaluate.add_argument("csv", type=Path)
    evaluate.add_argument("--split", help="only rows whose split column has this value (e.g. holdout)")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Imports after parsing: `--help` stays instant and works even with a broken install.
    from daemon import commands
    from daemon.errors import AftersaleError
    from daemon.logsetup import setup_console_logging

    setup_console_logging(verbose=args.verbose)
    out = commands.Out()
    config = Path(args.config or DEFAULT_CONFIG)
    explicit = args.config is not None
    try:
        if args.command == "init":
            return commands.cmd_init(Path(args.directory), args.force, out)
        if args.command == "check-config":
            return commands.cmd_check_config(config, out)
        if args.command == "once":
            return commands.cmd_once(config, args.dry_run, out)
        if args.command == "run":
            return commands.cmd_run(config, args.dry_run, out)
        if args.command == "classify":
            return commands.cmd_classify(config, explicit, args.source, args.text, args.explain, args.json, out)
        if args.command in {"tickets", "ticket", "relabel", *NEW_STATUS}:
            from daemon import ticket_commands

            if args.command == "tickets":
                return ticket_commands.cmd_tickets(config, args.overdue, args.json, out)
            if args.command == "ticket":
                return ticket_commands.cmd_ticket(config, args.id, args.json, out)
            if args.command == "relabel":
                return ticket_commands.cmd_relabel(config, args.id, args.label, out)
            return ticket_commands.cmd_set_status(config, args.id, NEW_STATUS[args.command], out)
        if args.command in {"orders", "lint-templates", "report"}:
            from daemon import amazon_commands

            if args.command == "orders":
                return amazon_commands.cmd_orders_import(config, args.files, out)
            if args.command == "lint-templates":
                return amazon_commands.cmd_lint_templates(config, explicit, args.directory, out)
            return amazon_commands.cmd_report(config, out)
        if args.command in {"suggest", "dry-run"}:
            from daemon import tuning_commands

            if args.command == "suggest":
                if args.csv is None and not args.relabels:
                    raise_usage("suggest: give a CSV file, or --relabels")
                return tuning_commands.cmd_suggest(config, explicit, args.csv, args.relabels, args.limit, out)
            return tuning_commands.cmd_dry_run_folder(config, args.folder, args.compare, out)
        if args.command == "eval":
            return commands.cmd_eval(config, explicit, args.csv, args.split, args.json, out)
    except AftersaleError as error:
        commands.print_error(error, out)
        return error.exit_status
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
