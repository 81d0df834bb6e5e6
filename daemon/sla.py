"""Amazon's 24-hour response clock: counted in plain hours, weekends and holidays included.

Automatic acknowledgements do not stop Amazon's clock, so only a real answer (seller's reply in
Sent, or a reply Aftersale sent) does; a draft waiting for review does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from daemon.lifecycle import AWAITING_SELLER


@dataclass(frozen=True)
class ClockReading:
    ticket_id: int
    status: str
    label: str
    customer: str
    subject: str
    age: timedelta
    left: timedelta | None
    """Time left before the response is late; None when the clock is not running."""

    @property
    def overdue(self) -> bool:
        return self.left is not None and self.left <= timedelta(0)


def read_clock(summary, now: datetime, sla_hours: float) -> ClockReading:
    started = summary.last_customer_at or summary.created_at
    running = summary.status in AWAITING_SELLER and not (summary.answered_at and summary.answered_at >= started)
    left = started + timedelta(hours=sla_hours) - now if running else None
    return ClockReading(
        ticket_id=summary.id, status=summary.status, label=summary.label, customer=summary.customer,
        subject=summary.subject, age=now - summary.created_at, left=left,
    )


def nearing(readings: Iterable[ClockReading], warn_hours: float) -> list[ClockReading]:
    limit = timedelta(hours=warn_hours)
    return sorted((r for r in readings if r.left is not None and r.left <= limit), key=lambda r: r.left)


def format_left(left: timedelta | None) -> str:
    if left is None:
        return "-"
    minutes = int(left.total_seconds() // 60)
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    return f"{sign}{minutes // 60}h{minutes % 60:02d}m" + (" OVERDUE" if sign else "")


def format_age(age: timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    return f"{hours // 24}d{hours % 24:02d}h" if hours >= 24 else f"{hours}h"


QUIET_STATUSES = frozenset({"answered", "waiting_customer"})
"""Answered tickets the customer never came back to are solved, as help desks do with
'pending' tickets; otherwise the open list would grow for years."""


@dataclass(frozen=True)
class Housekeeping:
    near: list[ClockReading]
    to_resolve: list[int]
    to_close: list[int]


def clock_check(store, now: datetime, sla_hours: float, warn_hours: float, auto_close_days: int) -> tuple[list[ClockReading], list[int]]:
    """Tickets nearing or past the response deadline, and resolved tickets to close for age."""
    result = housekeeping(store, now, sla_hours, warn_hours, auto_close_days)
    return result.near, result.to_close


def housekeeping(store, now: datetime, sla_hours: float, warn_hours: float, auto_close_days: int) -> Housekeeping:
    """One pass over the open tickets: the response clock, and what has been quiet too long.

    Closing takes a ticket out of the open list, which keeps every periodic check proportional
    to the open tickets, not to history.
    """
    quiet = timedelta(days=auto_close_days)
    readings, to_resolve, to_close = [], [], []
    for summary in store.open_tickets():
        if summary.status == "resolved" and now - summary.updated_at > quiet:
            to_close.append(summary.id)
            continue
        if summary.status in QUIET_STATUSES and now - (summary.last_customer_at or summary.updated_at) > quiet and now - summary.updated_at > quiet:
            to_resolve.append(summary.id)
        readings.append(read_clock(summary, now, sla_hours))
    return Housekeeping(nearing(readings, warn_hours), to_resolve, to_close)


def digest_text(readings: list[ClockReading], sla_hours: float) -> str:
    lines = [f"{len(readings)} ticket(s) near or past the {sla_hours:g}-hour response deadline:", ""]
    for r in readings:
        lines.append(f"  #{r.ticket_id:<6} {format_left(r.left):<16} {r.label:<17} {r.customer}  {r.subject[:60]}")
    lines += ["", "Answer them in your mail client; `python run.py tickets --overdue` lists them too."]
    return "\n".join(lines) + "\n"
