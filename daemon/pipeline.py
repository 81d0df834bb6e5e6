"""One customer message through parse -> guard -> classify -> ticket -> reply.

Crash safety comes from ordering and deterministic names, not from transactions the store
cannot give across files:
1. the ticket is saved with the message in it (a retry finds the same ticket by the message's
   own Message-ID and sees the message is already there);
2. an intent is written before any draft is filed or mail sent;
3. the reply's Message-ID is derived from the ticket and the message, and every outbox checks
   for it first, so a retry files or sends nothing twice;
4. the message is marked handled last; the caller moves the cursor only after that.
A kill between any two steps leaves a state the next run completes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from daemon.errors import TemplateError
from daemon.followups import Step, schedule_follow_ups
from daemon.guards import over_daily_cap, robot_reason
from daemon.mailbox.base import Mailbox
from daemon.models import Classification, Message, Outcome, RawMail, Ticket, TicketEvent
from daemon.outbox import Outbox
from daemon.parser import parse_message
from daemon.policy import check_text
from daemon.renderer import Renderer, Sender, build_reply
from daemon.replies import ReplyPlanner
from daemon.state import Intent, Store
from daemon.subjects import classification_text

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

TEXT_KEPT = 2000
"""How much of the customer's words a ticket keeps: enough to relabel and tune keywords from,
small enough that a ticket shard stays small."""


@dataclass(frozen=True)
class PipelineOptions:
    sender: Sender
    signature: str
    default_language: str
    languages: tuple[str, ...]
    own_addresses: tuple[str, ...]
    thread_window: timedelta
    daily_cap: int
    batch_size: int
    follow_up_steps: Mapping[str, Sequence[Step]] = field(default_factory=dict)


class Pipeline:
    def __init__(
        self,
        *,
        options: PipelineOptions,
        store: Store,
        mailbox: Mailbox,
        outbox: Outbox,
        classify: Callable[[str, str | None], Classification],
        detect_language: Callable[[str], str | None],
        renderer: Renderer,
        planner: ReplyPlanner,
        clock: Clock,
    ) -> None:
        self._options = options
        self._store = store
        self._mailbox = mailbox
        self._outbox = outbox
        self._classify = classify
        self._detect = detect_language
        self._renderer = renderer
        self._planner = planner
        self._clock = clock

    @property
    def cursor_name(self) -> str:
        return f"{self._mailbox.kind}:inbox"

    def pending_count(self) -> int | None:
        counter = getattr(self._mailbox, "count_new", None)
        return counter(self._store.get_cursor(self.cursor_name)) if counter else None

    def process_new(self, should_stop: Callable[[], bool] = lambda: False) -> Iterator[Outcome]:
        """Handle everything after the cursor, a batch at a time, yielding one outcome each.

        Memory is bounded by the batch size: nothing accumulates across batches.
        """
        cursor = self._store.get_cursor(self.cursor_name)
        for batch in self._mailbox.fetch_new(cursor, self._options.batch_size):
            for raw in batch:
                if should_stop():
                    return
                outcome = self.handle(raw)
                if raw.position:
                    self._store.set_cursor(self.cursor_name, raw.position)
                yield outcome

    def handle(self, raw: RawMail) -> Outcome:
        message = parse_message(raw.data)
        with self._store.writer():
            if self._store.is_handled(message.key):
                self._mailbox.mark_handled(raw.ref)
                return _outcome(raw, message, "skipped-duplicate", detail="handled before")
            outcome = self._decide(raw, message)
            self._store.mark_handled(message.key, outcome.ticket_id, outcome.action, raw.ref)
        self._mailbox.mark_handled(raw.ref)
        return outcome

    def _decide(self, raw: RawMail, message: Message) -> Outcome:
        if message.unreadable or not message.from_address:
            # Kept untouched in the mailbox; the flagged ticket puts it in front of a person.
            problems = "; ".join(message.defects) or "no sender address to reply to"
            ticket = self._record(message, None, status_if_new="flagged")
            log.warning("ticket #%s: message %s kept and flagged: %s", ticket.id, raw.ref, problems)
            return _outcome(raw, message, "flagged", ticket=ticket, detail=problems)
        robot = robot_reason(message, (self._options.sender.address, *self._options.own_addresses))
        if robot:
            log.info("message %s from %s recorded, not answered: %s", raw.ref, message.from_address, robot)
            return _outcome(raw, message, "guarded", detail=robot)
        language = self._language(message)
        classification = self._classify(classification_text(message.subject, message.new_text), language)
        classification = replace(classification, language=language or classification.language or self._options.default_language)
        ticket = self._record(message, classification)
        log.info(
            "ticket #%s: %s from %s labelled %s (%.2f): %s",
            ticket.id, message.key, message.from_address, classification.label,
            classification.confidence, classification.reason or _evidence_line(classification),
        )
        return self._reply(raw, message, classification, ticket)

    def _language(self, message: Message) -> str | None:
        detected = self._detect(message.new_text or message.subject)
        if detected and detected in self._options.languages:
            return detected
        return detected or None

    # -- tickets ---------------------------------------------------------------------------

    def _record(self, message: Message, classification: Classification | None, status_if_new: str = "new") -> Ticket:
        """Add the message to its conversation's ticket (or a new one), exactly once."""
        now = self._clock()
        own_id = message.message_id or message.key
        ticket = self._store.find_ticket(
            [own_id, message.in_reply_to, *message.references],
            message.order_id,
            message.reply_to or message.from_address,
            message.subject,
            now,
            self._options.thread_window,
        )
        if ticket is not None and message.key in ticket.message_keys:
            return ticket
        label = classification.label if classification else "other"
        language = classification.language if classification else self._options.default_language
        events = [
            TicketEvent(
                at=now,
                kind="message",
                detail=f"from {message.from_address}: {message.subject[:80]}",
                data=(("key", message.key), ("text", message.new_text[:TEXT_KEPT])),
            )
        ]
        if classification:
            events.append(_classified_event(now, classification))
        if message.defects:
            events.append(TicketEvent(at=now, kind="note", detail="parse problems: " + "; ".join(message.defects)))
        if ticket is None:
            ticket = Ticket(
                id=self._store.new_ticket_id(),
                customer=message.reply_to or message.from_address,
                customer_name=_customer_name(message),
                subject=message.subject,
                label=label,
                status=status_if_new,
                language=language,
                created_at=now,
                updated_at=now,
                order_id=message.order_id,
                last_customer_at=now,
                facts=_relay_facts(message),
            )
        else:
            ticket = self._reopen_if_needed(ticket, now, events)
            if classification and classification.label != "other" and classification.label != ticket.label:
                events.append(TicketEvent(at=now, kind="relabel", detail=f"{ticket.label} -> {classification.label} (new message)"))
                ticket = replace(ticket, label=classification.label)
            ticket = replace(ticket, last_customer_at=now, order_id=ticket.order_id or message.order_id)
        ticket = replace(
            ticket,
            updated_at=now,
            message_keys=(*ticket.message_keys, message.key),
            message_ids=_unique((*ticket.message_ids, own_id)),
            events=(*ticket.events, *events),
        )
        self._store.save_ticket(ticket)
        return ticket

    def _reopen_if_needed(self, ticket: Ticket, now: datetime, events: list[TicketEvent]) -> Ticket:
        cancelled = self._store.cancel_follow_ups(ticket.id, "customer wrote again")
        for follow_up in cancelled:
            events.append(TicketEvent(at=now, kind="follow_up_cancelled", detail=f"{follow_up.step}: customer wrote again"))
        if ticket.status in {"answered", "waiting_customer", "resolved", "closed"}:
            events.append(TicketEvent(at=now, kind="status", detail=f"{ticket.status} -> new (customer wrote again)"))
            return replace(ticket, status="new")
        return ticket

    # -- replies ---------------------------------------------------------------------------

    def _reply(self, raw: RawMail, message: Message, classification: Classification, ticket: Ticket) -> Outcome:
        plan = self._planner.plan(message, classification, ticket)
        if plan is None:
            return _outcome(raw, message, "recorded", classification, ticket, "replies disabled for this label")
        ticket = self._enrich(ticket, plan)
        sent_today = self._store.auto_sent_today(ticket.customer, self._clock().date())
        cap = over_daily_cap(sent_today, self._options.daily_cap) if plan.auto_send else ""
        auto_send = plan.auto_send and not cap and self._outbox.name == "smtp"
        try:
            rendered = self._renderer.render(plan.template, classification.language, plan.context)
        except TemplateError as exc:
            self._note(ticket, f"no reply drafted: {exc}")
            log.error("ticket #%s: %s", ticket.id, exc)
            return _outcome(raw, message, "recorded", classification, ticket, f"template error: {exc}")
        allowed = tuple(str(plan.context.get(key, "")) for key in ("tracking_number", "carrier", "expected_date", "order_id"))
        violations = check_text(rendered.body, plan.template, allowed) if message.relay else []
        if violations and auto_send:
            # Amazon suspends sellers for policy breaches: a person must look at this one.
            auto_send = False
            cap = "breaks Amazon's messaging rules (" + "; ".join(str(v) for v in violations) + ")"
        reply = build_reply(
            message=message,
            body=rendered.body,
            sender=self._options.sender,
            ticket_id=ticket.id,
            template=rendered.template,
            language=rendered.language,
            auto_send=auto_send,
            now=self._clock(),
        )
        kind = "send" if auto_send else "draft"
        self._store.add_intent(
            Intent(
                id=reply.message_id, kind=kind, message_id=reply.message_id, ticket_id=ticket.id,
                message_key=message.key, created_at=self._clock(), raw=reply.raw, purpose=reply.purpose,
            )
        )
        delivery = self._outbox.deliver(reply)
        now = self._clock()
        notes = [f"{delivery.outcome} {reply.message_id} from {rendered.template}"]
        if rendered.fell_back:
            notes.append(f"no {classification.language} template: used {rendered.language}")
        if cap:
            notes.append(cap + ": drafted instead of sent")
            if message.relay and "Amazon" in cap:
                log.warning("ticket #%s: %s", ticket.id, cap)
        events = [TicketEvent(at=now, kind="sent" if delivery.outcome == "sent" else "drafted", detail="; ".join(notes))]
        status = ticket.status
        if delivery.outcome == "sent":
            self._store.count_auto_sent(ticket.customer, now.date())
            status = "answered"
        elif delivery.outcome in {"drafted", "already-present", "fell-back-to-draft"} and ticket.status in {"new", "flagged"}:
            status = "drafted"
        if status != ticket.status:
            events.append(TicketEvent(at=now, kind="status", detail=f"{ticket.status} -> {status}"))
        ticket = replace(
            ticket,
            status=status,
            updated_at=now,
            answered_at=now if status == "answered" else ticket.answered_at,
            draft_ids=_unique((*ticket.draft_ids, reply.message_id)),
            message_ids=_unique((*ticket.message_ids, reply.message_id)),
            events=(*ticket.events, *events),
        )
        if status == "answered":
            ticket = schedule_follow_ups(self._store, self._options.follow_up_steps, ticket, "answered", now)
        self._store.save_ticket(ticket)
        self._store.finish_intent(reply.message_id)
        log.info("ticket #%s: %s", ticket.id, "; ".join(notes))
        return _outcome(raw, message, delivery.outcome, classification, ticket, rendered.template)

    def _enrich(self, ticket: Ticket, plan) -> Ticket:
        """Order facts, the failure reason and planner notes go on the ticket."""
        facts = dict(ticket.facts)
        reason = dict(plan.facts).get("failure_reason", "")
        if reason and not facts.get("failure_reason"):
            self._store.count_failure(dict(plan.facts).get("sku", "") or "(unknown product)", dict(plan.facts).get("product", ""), reason)
        facts.update(plan.facts)
        events = [TicketEvent(at=self._clock(), kind="note", detail=note) for note in plan.notes]
        events.append(TicketEvent(at=self._clock(), kind="plan", detail=f"{plan.template}: {plan.why}"))
        return replace(ticket, facts=tuple(facts.items()), events=(*ticket.events, *events))

    def _note(self, ticket: Ticket, detail: str) -> None:
        event = TicketEvent(at=self._clock(), kind="note", detail=detail)
        self._store.save_ticket(replace(ticket, events=(*ticket.events, event)))

    # -- recovery --------------------------------------------------------------------------

    def reconcile_intents(self) -> list[str]:
        """Settle intents a crash left open: completed when the draft or copy exists, else
        dropped (the message is not marked handled, so it is processed again) — never repeated.

        A send with no copy in Sent may or may not have left: it becomes a draft with a note,
        so a person decides, rather than the customer getting it twice.
        """
        lines = []
        with self._store.writer():
            for intent in self._store.open_intents():
                if self._outbox.is_present(intent.message_id, intent.kind):
                    lines.append(f"ticket #{intent.ticket_id}: {intent.kind} {intent.message_id} was completed before the stop")
                elif intent.kind == "send" and self._store.is_handled(intent.message_key):
                    self._mailbox.append_draft(intent.raw, intent.message_id)
                    ticket = self._store.get_ticket(intent.ticket_id)
                    if ticket:
                        self._note(ticket, f"send of {intent.message_id} was interrupted; filed as a draft to check")
                    lines.append(f"ticket #{intent.ticket_id}: interrupted send {intent.message_id} filed as a draft")
                else:
                    lines.append(f"ticket #{intent.ticket_id}: {intent.kind} {intent.message_id} not done; the message will be handled again")
                self._store.finish_intent(intent.id)
        for line in lines:
            log.warning(line)
        return lines


def _outcome(
    raw: RawMail,
    message: Message,
    action: str,
    classification: Classification | None = None,
    ticket: Ticket | None = None,
    detail: str = "",
) -> Outcome:
    return Outcome(
        ref=raw.ref,
        key=message.key,
        subject=message.subject,
        sender=message.from_address,
        label=classification.label if classification else ("other" if ticket else "-"),
        confidence=classification.confidence if classification else 0.0,
        action=action,
        ticket_id=ticket.id if ticket else None,
        detail=detail,
        defects=message.defects,
    )


def _classified_event(now: datetime, classification: Classification) -> TicketEvent:
    evidence = tuple(
        (f"{item.label}:{item.pattern}", f"{item.matched!r} {item.weight:+g}{' ' + item.note if item.note else ''}")
        for item in classification.evidence
    )
    secondary = f", secondary {classification.secondary}" if classification.secondary else ""
    detail = f"{classification.label} ({classification.confidence:.2f}{secondary}, language {classification.language})"
    if classification.reason:
        detail += f": {classification.reason}"
    return TicketEvent(at=now, kind="classified", detail=detail, data=evidence)


def _evidence_line(classification: Classification) -> str:
    parts = [f"{e.pattern}={e.matched!r}" for e in classification.evidence if e.label == classification.label][:5]
    return ", ".join(parts) or "no evidence"


def _customer_name(message: Message) -> str:
    if message.relay and message.relay.buyer_name:
        return message.relay.buyer_name
    return message.from_name


def _relay_facts(message: Message) -> tuple[tuple[str, str], ...]:
    if not message.relay:
        return ()
    facts = [("marketplace", message.relay.marketplace)]
    if message.relay.comm_token:
        facts.append(("comm_token", message.relay.comm_token))
    return tuple(facts)


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))
