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


def clock_check(store, now: datetime, sla_hours: float, warn_hours: float, auto_close_days: int) -> tuple[list[ClockReading], list[int]]:
    """Tickets nearing or past the response deadline, and resolved tickets closed for age.

    Closing takes a resolved ticket out of the open list, which keeps every periodic check
    proportional to the open tickets, not to history.
    """
    readings = []
    closed = []
    for summary in store.open_tickets():
        if summary.status == "resolved" and now - summary.updated_at > timedelta(days=auto_close_days):
            closed.append(summary.id)
            continue
        readings.append(read_clock(summary, now, sla_hours))
    return nearing(readings, warn_hours), closed


def digest_text(readings: list[ClockReading], sla_hours: float) -> str:
    lines = [f"{len(readings)} ticket(s) near or past the {sla_hours:g}-hour response deadline:", ""]
    for r in readings:
        lines.append(f"  #{r.ticket_id:<6} {format_left(r.left):<16} {r.label:<17} {r.customer}  {r.subject[:60]}")
    lines += ["", "Answer them in your mail client; `python run.py tickets --overdue` lists them too."]
    return "\n".join(lines) + "\n"
