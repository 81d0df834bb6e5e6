"""Plain data that flows between the modules.

Everything here is a frozen dataclass: modules hand each other values, never live objects, so a
stage can be tested alone and nothing changes behind another stage's back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LABELS: tuple[str, ...] = (
    "address_change",
    "cancellation",
    "logistics",
    "dissatisfaction",
    "review_complaint",
    "other",
)
"""The six labels, in the order reports print them. `other` is the fallback."""

TICKET_STATUSES: tuple[str, ...] = (
    "new",
    "drafted",
    "answered",
    "waiting_customer",
    "resolved",
    "closed",
    "flagged",
)
"""`flagged` is a ticket whose message could not be read; it waits for a human."""

OPEN_STATUSES: frozenset[str] = frozenset({"new", "drafted", "answered", "waiting_customer", "flagged"})


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int

    @property
    def is_image(self) -> bool:
        return self.content_type.lower().startswith("image/")


@dataclass(frozen=True)
class AmazonRelay:
    """What Amazon's buyer-seller messaging relay tells us beyond the plain headers."""

    marketplace: str
    """The relay's domain, e.g. `amazon.de` (from `marketplace.amazon.de`)."""
    buyer_name: str
    order_id: str
    comm_token: str
    """The whole `[commMgrTok:...]` token, brackets included, or "" when absent."""


@dataclass(frozen=True)
class Message:
    """One customer message, decoded and split into what the customer wrote now and the rest."""

    key: str
    """Stable identity used to never handle a message twice: the Message-ID, or
    `sha256:<hex>` of the raw bytes when the message has none."""
    message_id: str
    from_name: str
    from_address: str
    to: tuple[str, ...]
    subject: str
    date: datetime | None
    in_reply_to: str
    references: tuple[str, ...]
    body: str
    """The whole plain-text body (HTML converted to text), as decoded."""
    new_text: str
    """Only the customer's new words: no quoted history, signature or relay boilerplate.
    This, and only this, feeds classification and language detection."""
    quoted: str = ""
    signature: str = ""
    attachments: tuple[Attachment, ...] = ()
    guard_headers: tuple[tuple[str, str], ...] = ()
    """Headers the robot guards read (lower-case names): auto-submitted, precedence, list-id,
    list-unsubscribe, return-path, x-autoreply, x-auto-response-suppress, auto-reply marks."""
    reply_to: str = ""
    order_id: str = ""
    relay: AmazonRelay | None = None
    defects: tuple[str, ...] = ()
    """Problems met while parsing, each a short phrase. A message with defects is still kept."""
    unreadable: bool = False
    """True when nothing usable could be decoded: the message is kept and flagged for a human."""
    size: int = 0

    def header(self, name: str) -> str:
        """The first guard header of that name (case-insensitive), or ""."""
        wanted = name.lower()
        for key, value in self.guard_headers:
            if key == wanted:
                return value
        return ""

    @property
    def has_images(self) -> bool:
        return any(attachment.is_image for attachment in self.attachments)


@dataclass(frozen=True)
class Evidence:
    """One pattern that matched, and what it did to one label's score."""

    label: str
    pattern: str
    """The pattern as the keyword file writes it."""
    matched: str
    """The customer's text that it matched."""
    weight: float
    """What it added to the label's score; negative for negative patterns and negations."""
    source: str = ""
    """Where the pattern comes from, e.g. `en.toml`."""
    note: str = ""
    """Why the weight is what it is, e.g. `negated by "not"`."""


@dataclass(frozen=True)
class Classification:
    label: str
    confidence: float
    language: str
    scores: tuple[tuple[str, float], ...] = ()
    evidence: tuple[Evidence, ...] = ()
    secondary: str = ""
    """A second label when the message clearly carries two, else ""."""
    classifier: str = "keyword"
    reason: str = ""
    """One line on how the label was chosen, e.g. `below min_confidence 0.35: other`."""


@dataclass(frozen=True)
class TicketEvent:
    at: datetime
    kind: str
    """message, classified, drafted, sent, send_failed, follow_up_scheduled, follow_up_sent,
    follow_up_cancelled, status, relabel, note, guard."""
    detail: str
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Ticket:
    """One customer conversation."""

    id: int
    customer: str
    """The customer's address (for Amazon, the relay address)."""
    customer_name: str
    subject: str
    label: str
    status: str
    language: str
    created_at: datetime
    updated_at: datetime
    order_id: str = ""
    message_keys: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()
    """Message-IDs of every message in the conversation, ours included (threading)."""
    draft_ids: tuple[str, ...] = ()
    last_customer_at: datetime | None = None
    answered_at: datetime | None = None
    events: tuple[TicketEvent, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    """Extra facts (order status, channel, sku, failure reason, marketplace...)."""

    def fact(self, name: str) -> str:
        for key, value in self.facts:
            if key == name:
                return value
        return ""


@dataclass(frozen=True)
class Reply:
    """A reply ready to be filed as a draft or sent."""

    message_id: str
    """Deterministic, derived from the ticket and the customer message, so a retry finds it."""
    to: str
    subject: str
    raw: bytes
    """The complete RFC 5322 message."""
    ticket_id: int
    template: str
    language: str
    auto_send: bool = False
    purpose: str = "reply"
    """reply, or the follow-up step's name."""


@dataclass(frozen=True)
class Delivery:
    """What an outbox did with a reply."""

    outcome: str
    """drafted, sent, dry-run, already-present, fell-back-to-draft."""
    message_id: str
    detail: str = ""


@dataclass(frozen=True)
class RawMail:
    """One message as the mailbox holds it, before parsing."""

    ref: str
    """The mailbox's own handle (a Maildir key, or `uidvalidity:uid`)."""
    data: bytes
    position: str = ""
    """The cursor value that is safe to store once this message's outcome is durable."""


@dataclass(frozen=True)
class Outcome:
    """What the pipeline did with one message: one row of the summary table."""

    ref: str
    key: str
    subject: str
    sender: str
    label: str
    confidence: float
    action: str
    """drafted, sent, dry-run, recorded, skipped-duplicate, flagged, guarded: <reason>."""
    ticket_id: int | None = None
    detail: str = ""
    defects: tuple[str, ...] = field(default=())
