"""Follow-up and satisfaction messages: scheduled in our own store, sent by one sweep.

Due records live in the state store, not in APScheduler's memory, so a restart loses none and a
step missed while the daemon was down is sent once at the next sweep. A step is sent at most
once per ticket (the store never re-schedules a finished step), only inside the seller's send
window, and is cancelled the moment the customer writes again or the ticket closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from daemon.errors import TemplateError
from daemon.guards import over_daily_cap
from daemon.models import AmazonRelay, Message, Ticket, TicketEvent
from daemon.outbox import Outbox
from daemon.renderer import Renderer, Sender, build_reply
from daemon.state import FollowUp, Intent, Store

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Step(Protocol):
    """The slice of a `[followups.<label>]` step this module reads."""

    name: str
    after: str
    days: float
    template: str


class Window(Protocol):
    start_hour: int
    end_hour: int
    days: Sequence[str]


def in_send_window(now: datetime, window: Window, timezone: str) -> bool:
    """Customers should not get a satisfaction check at 3 a.m. their seller's time."""
    local = now.astimezone(ZoneInfo(timezone))
    return WEEKDAYS[local.weekday()] in window.days and window.start_hour <= local.hour < window.end_hour


def schedule_follow_ups(store: Store, steps: Mapping[str, Sequence[Step]], ticket: Ticket, after: str, now: datetime) -> Ticket:
    """Schedule the steps for the ticket's label (and `any`) that start at `after`
    ("answered" or "resolved"); the returned ticket records what was scheduled."""
    events = []
    for step in (*steps.get(ticket.label, ()), *steps.get("any", ())):
        if step.after != after:
            continue
        follow_up = FollowUp(
            id=f"{ticket.id}:{step.name}", ticket_id=ticket.id, step=step.name, template=step.template,
            due_at=now + timedelta(days=step.days), label=ticket.label, created_at=now,
        )
        if store.schedule_follow_up(follow_up):
            events.append(TicketEvent(at=now, kind="follow_up_scheduled", detail=f"{step.name} due {follow_up.due_at:%Y-%m-%d %H:%M} UTC"))
    return replace(ticket, events=(*ticket.events, *events)) if events else ticket


@dataclass(frozen=True)
class FollowUpOptions:
    sender: Sender
    signature: str
    window: Window
    timezone: str
    daily_cap: int
    proactive_days: int
    """Amazon allows proactive messages only this many days after the order."""


class FollowUps:
    def __init__(
        self,
        *,
        options: FollowUpOptions,
        store: Store,
        outbox: Outbox,
        renderer: Renderer,
        replies: Mapping[str, object],
        clock: Callable[[], datetime],
    ) -> None:
        self._options = options
        self._store = store
        self._outbox = outbox
        self._renderer = renderer
        self._replies = replies
        self._clock = clock

    def sweep(self) -> list[str]:
        """Send or draft every due follow-up inside the send window; return what was done."""
        now = self._clock()
        if not in_send_window(now, self._options.window, self._options.timezone):
            return []
        done = []
        for follow_up in self._store.due_follow_ups(now):
            with self._store.writer():
                line = self._one(follow_up, now)
            if line:
                log.info(line)
                done.append(line)
        return done

    def _one(self, follow_up: FollowUp, now: datetime) -> str:
        ticket = self._store.get_ticket(follow_up.ticket_id)
        if ticket is None:
            self._store.finish_follow_up(follow_up.id, "dropped: ticket missing")
            return f"ticket #{follow_up.ticket_id}: follow-up {follow_up.step} dropped: ticket missing"
        if ticket.status == "closed":
            return self._drop(ticket, follow_up, "ticket closed", now)
        if ticket.last_customer_at and ticket.last_customer_at > follow_up.created_at:
            return self._drop(ticket, follow_up, "customer wrote again", now)
        too_old = self._too_late_for_amazon(ticket, now)
        if too_old:
            return self._drop(ticket, follow_up, too_old, now)
        rule = self._replies[ticket.label]
        cap = over_daily_cap(self._store.auto_sent_today(ticket.customer, now.date()), self._options.daily_cap)
        auto_send = bool(getattr(rule, "auto_send", False)) and not cap and self._outbox.name == "smtp"
        message = _conversation_as_message(ticket)
        try:
            rendered = self._renderer.render(follow_up.template, ticket.language, self._context(ticket))
        except TemplateError as exc:
            return self._drop(ticket, follow_up, f"template error: {exc}", now)
        reply = build_reply(
            message=message, body=rendered.body, sender=self._options.sender, ticket_id=ticket.id,
            template=rendered.template, language=rendered.language, purpose=follow_up.step, auto_send=auto_send, now=now,
        )
        self._store.add_intent(
            Intent(id=reply.message_id, kind="send" if auto_send else "draft", message_id=reply.message_id,
                   ticket_id=ticket.id, message_key=f"follow-up:{follow_up.id}", created_at=now, raw=reply.raw, purpose=follow_up.step)
        )
        delivery = self._outbox.deliver(reply)
        if delivery.outcome == "sent":
            self._store.count_auto_sent(ticket.customer, now.date())
        detail = f"{follow_up.step} {delivery.outcome} ({reply.message_id})" + (f"; {cap}" if cap else "")
        event = TicketEvent(at=now, kind="follow_up_sent" if delivery.outcome == "sent" else "follow_up_drafted", detail=detail)
        self._store.save_ticket(replace(
            ticket, updated_at=now, events=(*ticket.events, event),
            message_ids=tuple(dict.fromkeys((*ticket.message_ids, reply.message_id))),
            draft_ids=tuple(dict.fromkeys((*ticket.draft_ids, reply.message_id))),
        ))
        self._store.finish_follow_up(follow_up.id, delivery.outcome)
        self._store.finish_intent(reply.message_id)
        return f"ticket #{ticket.id}: follow-up {detail}"

    def _drop(self, ticket: Ticket, follow_up: FollowUp, reason: str, now: datetime) -> str:
        event = TicketEvent(at=now, kind="follow_up_cancelled", detail=f"{follow_up.step}: {reason}")
        self._store.save_ticket(replace(ticket, events=(*ticket.events, event)))
        self._store.finish_follow_up(follow_up.id, f"dropped: {reason}")
        return f"ticket #{ticket.id}: follow-up {follow_up.step} dropped: {reason}"

    def _too_late_for_amazon(self, ticket: Ticket, now: datetime) -> str:
        if not ticket.fact("marketplace"):
            return ""
        ordered = _parse_time(ticket.fact("purchase_date")) or ticket.created_at
        if now - ordered > timedelta(days=self._options.proactive_days):
            return f"Amazon allows proactive messages only {self._options.proactive_days} days after the order"
        return ""

    def _context(self, ticket: Ticket) -> dict[str, object]:
        return {
            "customer_name": ticket.customer_name,
            "order_id": ticket.order_id,
            "subject": ticket.subject,
            "seller_name": self._options.sender.name,
            "signature": self._options.signature,
            "label": ticket.label,
            "photos_received": False,
            "marketplace": ticket.fact("marketplace"),
            "is_amazon": bool(ticket.fact("marketplace")),
        }


def _conversation_as_message(ticket: Ticket) -> Message:
    """The ticket seen as the message a follow-up answers, for threading headers."""
    customer_ids = [mid for mid in ticket.message_ids if mid not in ticket.draft_ids and mid.startswith("<")]
    last = customer_ids[-1] if customer_ids else ""
    token = ticket.fact("comm_token")
    relay = AmazonRelay(ticket.fact("marketplace"), ticket.customer_name, ticket.order_id, token) if ticket.fact("marketplace") else None
    return Message(
        key=f"ticket:{ticket.id}", message_id=last, from_name=ticket.customer_name, from_address=ticket.customer,
        to=(), subject=ticket.subject, date=None, in_reply_to="", references=tuple(customer_ids[:-1]),
        body="", new_text="", relay=relay,
    )


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
