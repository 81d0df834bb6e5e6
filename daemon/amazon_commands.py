"""Amazon seller commands: import order reports, lint templates, report failing products."""

from __future__ import annotations

import os
from pathlib import Path

from rich.table import Table

from config.settings import Settings, load_settings
from daemon.commands import Out, settings_or_defaults
from daemon.order_import import import_report
from daemon.policy import lint_templates
from daemon.state import Store


def cmd_orders_import(config: Path, files: list[Path], out: Out) -> int:
    settings = load_settings(config, os.environ)
    store = Store(Path(settings.store.path), fsync=settings.store.fsync)
    status = 0
    for path in files:
        result, new, updated = import_report(store, path)
        print(f"{path}: {result.rows} rows, {len(result.orders)} orders: {new} new, {updated} updated, "
              f"{len(result.orders) - new - updated} unchanged, {len(result.rejected)} rows rejected", file=out.stdout)
        for rejected in result.rejected:
            print(f"  {path}: line {rejected.line}: {rejected.reason}", file=out.stdout)
        if result.rejected:
            status = 1
    return status


def cmd_lint_templates(config: Path, explicit: bool, directory: Path | None, out: Out) -> int:
    settings: Settings = settings_or_defaults(config, explicit)
    folder = directory or settings.templates.dir
    violations = lint_templates(folder)
    for violation in violations:
        print(str(violation), file=out.stdout)
    count = len(list(Path(folder).glob("*/*.txt.j2")))
    print(f"{count} templates checked in {folder}: {len(violations) or 'no'} violation{'s' if len(violations) != 1 else ''}", file=out.stdout)
    return 1 if violations else 0


def cmd_report(config: Path, out: Out) -> int:
    """Which products fail, and why: the seeds' sellers use this to fix the product."""
    settings = load_settings(config, os.environ)
    store = Store(Path(settings.store.path), fsync=settings.store.fsync)
    failures = store.failures()
    if not failures:
        print("no dissatisfaction reasons recorded yet", file=out.stdout)
        return 0
    table = Table(title="why products fail (dissatisfaction tickets)")
    for column in ("sku", "product", "reason", "tickets"):
        table.add_column(column, overflow="fold")
    for record in failures:
        table.add_row(record["sku"], record.get("product", "")[:50], record["reason"], str(record["count"]))
    out.console().print(table)
    return 0
