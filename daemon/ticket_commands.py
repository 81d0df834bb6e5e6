"""The ticket commands: list, show one ticket's story, and change its status or label."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from rich.table import Table

from config.settings import load_settings
from daemon.commands import Out
from daemon.lifecycle import Lifecycle
from daemon.models import Ticket
from daemon.sla import format_age, format_left, read_clock
from daemon.state import Store


def _store(config: Path) -> tuple[Store, object]:
    settings = load_settings(config, os.environ)
    return Store(Path(settings.store.path), fsync=settings.store.fsync), settings


def cmd_tickets(config: Path, overdue: bool, as_json: bool, out: Out, now: datetime | None = None) -> int:
    store, settings = _store(config)
    now = now or datetime.now(timezone.utc)
    readings = [read_clock(summary, now, settings.tickets.sla_hours) for summary in store.open_tickets()]
    if overdue:
        readings = [r for r in readings if r.overdue]
    readings.sort(key=lambda r: (r.left is None, r.left if r.left is not None else r.age))
    if as_json:
        document = [
            {
                "id": r.ticket_id, "status": r.status, "label": r.label, "customer": r.customer, "subject": r.subject,
                "age_hours": round(r.age.total_seconds() / 3600, 2),
                "hours_left": None if r.left is None else round(r.left.total_seconds() / 3600, 2),
                "overdue": r.overdue,
            }
            for r in readings
        ]
        print(json.dumps(document, ensure_ascii=False, indent=2), file=out.stdout)
        return 0
    if not readings:
        print("no overdue tickets" if overdue else "no open tickets", file=out.stdout)
        return 0
    table = Table(title=f"open tickets ({len(readings)})" + (": overdue only" if overdue else ""))
    for column in ("ticket", "status", "label", "age", f"left of {settings.tickets.sla_hours:g}h", "customer", "subject"):
        table.add_column(column, overflow="fold")
    for r in readings:
        table.add_row(f"#{r.ticket_id}", r.status, r.label, format_age(r.age), format_left(r.left), r.customer[:32], r.subject[:50])
    out.console().print(table)
    return 0


def cmd_ticket(config: Path, ticket_id: int, as_json: bool, out: Out) -> int:
    store, _ = _store(config)
    ticket = Lifecycle(store, {}, lambda: datetime.now(timezone.utc)).ticket(ticket_id)
    if as_json:
        print(json.dumps(ticket_json(ticket), ensure_ascii=False, indent=2), file=out.stdout)
        return 0
    print(describe_ticket(ticket), file=out.stdout)
    return 0


def describe_ticket(ticket: Ticket) -> str:
    """A ticket's whole story, oldest first: every message, decision, draft, send and change."""
    lines = [
        f"ticket #{ticket.id}  {ticket.status}  {ticket.label}  language {ticket.language}",
        f"customer: {ticket.customer_name + ' ' if ticket.customer_name else ''}<{ticket.customer}>",
        f"subject:  {ticket.subject}",
    ]
    if ticket.order_id:
        lines.append(f"order:    {ticket.order_id}")
    for key, value in ticket.facts:
        if key != "comm_token":
            lines.append(f"{key + ':':<9} {value}")
    lines.append("history:")
    for event in ticket.events:
        lines.append(f"  {event.at:%Y-%m-%d %H:%M} {event.kind:<20} {event.detail}")
        if event.kind == "classified":
            for pattern, matched in event.data:
                lines.append(f"      {pattern}: {matched}")
    return "\n".join(lines)


def ticket_json(ticket: Ticket) -> dict[str, object]:
    return {
        "id": ticket.id, "status": ticket.status, "label": ticket.label, "language": ticket.language,
        "customer": ticket.customer, "customer_name": ticket.customer_name, "subject": ticket.subject,
        "order_id": ticket.order_id, "created_at": ticket.created_at.isoformat(), "updated_at": ticket.updated_at.isoformat(),
        "facts": dict(ticket.facts),
        "events": [{"at": e.at.isoformat(), "kind": e.kind, "detail": e.detail, "data": dict(e.data)} for e in ticket.events],
    }


def cmd_set_status(config: Path, ticket_id: int, status: str, out: Out) -> int:
    store, settings = _store(config)
    lifecycle = Lifecycle(store, settings.followups, lambda: datetime.now(timezone.utc))
    ticket = lifecycle.set_status(ticket_id, status)
    print(f"ticket #{ticket.id}: {ticket.status}", file=out.stdout)
    return 0


def cmd_relabel(config: Path, ticket_id: int, label: str, out: Out) -> int:
    store, _ = _store(config)
    ticket = Lifecycle(store, {}, lambda: datetime.now(timezone.utc)).relabel(ticket_id, label)
    print(f"ticket #{ticket.id}: relabelled {ticket.label} (kept as tuning data)", file=out.stdout)
    return 0
