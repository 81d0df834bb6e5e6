"""Status changes a person asks for (resolve, close, reopen, relabel) and the seller's own
replies seen in Sent. Each change is an event on the ticket, so its history explains itself."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from daemon.errors import UsageError
from daemon.followups import Step, schedule_follow_ups
from daemon.mailbox.base import Mailbox
from daemon.models import LABELS, Ticket, TicketEvent
from daemon.parser import parse_message
from daemon.state import Store

log = logging.getLogger(__name__)

_NO_WINDOW = timedelta(0)
"""A seller's reply belongs to a ticket only by its threading headers, never by subject."""

AWAITING_SELLER = frozenset({"new", "drafted", "flagged"})
"""Statuses in which the 24-hour response clock runs."""


class Lifecycle:
    def __init__(self, store: Store, steps: Mapping[str, Sequence[Step]], clock: Callable[[], datetime]) -> None:
        self._store = store
        self._steps = steps
        self._clock = clock

    def ticket(self, ticket_id: int) -> Ticket:
        ticket = self._store.get_ticket(ticket_id)
        if ticket is None:
            raise UsageError(f"ticket #{ticket_id}: no such ticket")
        return ticket

    def set_status(self, ticket_id: int, status: str, why: str = "by hand") -> Ticket:
        with self._store.writer():
            ticket = self.ticket(ticket_id)
            now = self._clock()
            events = [TicketEvent(at=now, kind="status", detail=f"{ticket.status} -> {status} ({why})")]
            if status == "closed":
                for follow_up in self._store.cancel_follow_ups(ticket.id, "ticket closed"):
                    events.append(TicketEvent(at=now, kind="follow_up_cancelled", detail=f"{follow_up.step}: ticket closed"))
            ticket = replace(ticket, status=status, updated_at=now, events=(*ticket.events, *events))
            if status == "resolved":
                ticket = schedule_follow_ups(self._store, self._steps, ticket, "resolved", now)
            self._store.save_ticket(ticket)
        log.info("ticket #%s: status %s (%s)", ticket.id, status, why)
        return ticket

    def relabel(self, ticket_id: int, label: str) -> Ticket:
        """Change the label; the customer's words and both labels are kept as tuning data."""
        if label not in LABELS:
            raise UsageError(f"relabel: unknown label {label!r} (expected one of {', '.join(LABELS)})")
        with self._store.writer():
            ticket = self.ticket(ticket_id)
            now = self._clock()
            text = _first_customer_text(ticket)
            self._store.record_relabel(ticket.id, ticket.label, label, text, ticket.language)
            event = TicketEvent(at=now, kind="relabel", detail=f"{ticket.label} -> {label} (by hand)")
            ticket = replace(ticket, label=label, updated_at=now, events=(*ticket.events, event))
            self._store.save_ticket(ticket)
        log.info("ticket #%s: relabelled %s", ticket.id, label)
        return ticket

    def answered(self, ticket: Ticket, at: datetime, message_id: str, how: str) -> Ticket:
        """The seller (or we) answered: stop the clock, record the response time, schedule
        the steps that start after an answer."""
        now = self._clock()
        events = []
        if ticket.last_customer_at:
            hours = (at - ticket.last_customer_at).total_seconds() / 3600
            events.append(TicketEvent(at=now, kind="answered", detail=f"{how}; response time {hours:.1f} h", data=(("message_id", message_id),)))
        status = "answered" if ticket.status in AWAITING_SELLER else ticket.status
        if status != ticket.status:
            events.append(TicketEvent(at=now, kind="status", detail=f"{ticket.status} -> {status} ({how})"))
        ticket = replace(
            ticket, status=status, answered_at=at, updated_at=now, events=(*ticket.events, *events),
            message_ids=tuple(dict.fromkeys((*ticket.message_ids, message_id))),
        )
        return schedule_follow_ups(self._store, self._steps, ticket, "answered", now)

    def scan_sent(self, mailbox: Mailbox, batch_size: int) -> list[str]:
        """Mark tickets answered when the seller's own reply shows up in Sent."""
        name = f"{mailbox.kind}:sent"
        done = []
        for batch in mailbox.sent_since(self._store.get_cursor(name), batch_size):
            for raw in batch:
                line = self._one_sent(parse_message(raw.data))
                if line:
                    log.info(line)
                    done.append(line)
                if raw.position:
                    self._store.set_cursor(name, raw.position)
        return done

    def _one_sent(self, message) -> str:
        threads = [message.in_reply_to, *message.references]
        if not any(threads):
            return ""
        with self._store.writer():
            ticket = self._store.find_ticket(threads, "", "", "", self._clock(), _NO_WINDOW)
            if ticket is None or message.message_id in _sent_by_us(ticket):
                return ""
            if message.message_id and message.message_id in ticket.message_ids and ticket.answered_at:
                return ""
            at = message.date or self._clock()
            if ticket.last_customer_at and at < ticket.last_customer_at:
                return ""
            ticket = self.answered(ticket, at, message.message_id, "seller replied")
            self._store.save_ticket(ticket)
        return f"ticket #{ticket.id}: seller's reply {message.message_id} seen in Sent"


def _sent_by_us(ticket: Ticket) -> set[str]:
    return {detail for event in ticket.events if event.kind == "sent" for detail in event.detail.split() if detail.startswith("<")}


def _first_customer_text(ticket: Ticket) -> str:
    for event in ticket.events:
        if event.kind == "message":
            return dict(event.data).get("text", "")
    return ""

