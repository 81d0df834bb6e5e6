"""Which template answers a ticket, with what context, and whether it may go out unreviewed.

The seller decides per label (`[replies.<label>]`): reply at all, which template, and whether
to send without review when the classifier is confident enough.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from daemon.models import Classification, Message, Ticket
from daemon.orders import Order
from daemon.reasons import failure_reason


class ReplyRule(Protocol):
    """The slice of `[replies.<label>]` the planner reads."""

    enabled: bool
    auto_send: bool
    template: str
    min_confidence: float


@dataclass(frozen=True)
class ReplyPlan:
    template: str
    context: Mapping[str, object]
    auto_send: bool
    why: str
    facts: tuple[tuple[str, str], ...] = ()
    """Order facts and the failure reason, kept on the ticket."""
    notes: tuple[str, ...] = ()


def playbook_variant(label: str, order: Order | None, high_value_threshold: float) -> str:
    """The seller playbook's branch for this label and order (domain note), or "" for the
    generic template when the order is unknown."""
    if order is None:
        return ""
    state = order.shipping_state
    if label == "address_change":
        if state == "unshipped":
            return "unshipped"
        if state == "shipped":
            return "shipped_decline" if order.total >= high_value_threshold else "shipped_reship"
    if label == "cancellation":
        if order.channel == "FBA":
            return "fba"
        if state in {"unshipped", "shipped"}:
            return state
    if label == "logistics":
        if order.channel == "FBA":
            return "fba"
        if order.tracking_number:
            return "tracking"
    return ""


class ReplyPlanner:
    def __init__(
        self,
        rules: Mapping[str, ReplyRule],
        seller_name: str,
        signature: str,
        orders: Callable[[str], Order | None] = lambda order_id: None,
        high_value_threshold: float = 50.0,
        template_exists: Callable[[str], bool] = lambda name: True,
    ) -> None:
        self._rules = rules
        self._seller_name = seller_name
        self._signature = signature
        self._orders = orders
        self._threshold = high_value_threshold
        self._exists = template_exists

    def plan(self, message: Message, classification: Classification, ticket: Ticket) -> ReplyPlan | None:
        rule = self._rules[classification.label]
        if not rule.enabled:
            return None
        confident = classification.confidence >= rule.min_confidence
        auto_send = rule.auto_send and confident
        why = (
            f"auto_send for {classification.label} at confidence {classification.confidence:.2f}"
            if auto_send
            else f"draft for review ({'auto_send off' if not rule.auto_send else 'confidence below ' + str(rule.min_confidence)})"
        )
        order_id = message.order_id or ticket.order_id
        order = self._orders(order_id) if order_id else None
        notes = []
        if order_id and order is None:
            notes.append(f"order {order_id} is not in the imported order data: generic {classification.label} template")
        template = rule.template
        variant = playbook_variant(classification.label, order, self._threshold)
        if variant and self._exists(f"{rule.template}_{variant}"):
            template = f"{rule.template}_{variant}"
        reason = failure_reason(message.new_text) if classification.label == "dissatisfaction" else ""
        # "other" is a fine tally for the report, but to the reply it means "we do not know
        # yet", which asks for photos like an unstated problem does.
        context = self.context(message, classification, ticket, order, "" if reason == "other" else reason)
        return ReplyPlan(
            template=template, context=context, auto_send=auto_send, why=why,
            facts=_facts(order, reason), notes=tuple(notes),
        )

    def context(
        self, message: Message, classification: Classification, ticket: Ticket, order: Order | None = None, reason: str = ""
    ) -> Mapping[str, object]:
        """Every name a template may use; optional facts are present but empty."""
        relay = message.relay
        return MappingProxyType(
            {
                "customer_name": ticket.customer_name or message.from_name,
                "order_id": message.order_id or ticket.order_id,
                "subject": message.subject,
                "seller_name": self._seller_name,
                "signature": self._signature,
                "label": classification.label,
                "photos_received": message.has_images,
                "marketplace": relay.marketplace if relay else "",
                "is_amazon": relay is not None,
                **order_context(order),
                "reason": reason,
            }
        )


def order_context(order: Order | None) -> dict[str, object]:
    """The order names every template may use, empty when the order is unknown."""
    return {
        "product_name": order.product_name if order else "",
        "sku": order.skus if order else "",
        "order_status": order.shipping_state if order else "",
        "channel": order.channel if order else "",
        "carrier": order.carrier if order else "",
        "tracking_number": order.tracking_number if order else "",
        "expected_date": order.expected_date if order else "",
    }


def _facts(order: Order | None, reason: str) -> tuple[tuple[str, str], ...]:
    facts = []
    if order:
        facts += [
            ("order_status", order.status), ("channel", order.channel), ("product", order.product_name),
            ("sku", order.skus), ("price", f"{order.total:.2f} {order.currency}".strip()), ("ship_country", order.ship_country),
        ]
        if order.purchase_date:
            facts.append(("purchase_date", order.purchase_date.isoformat()))
    if reason:
        facts.append(("failure_reason", reason))
    return tuple((key, value) for key, value in facts if value)
