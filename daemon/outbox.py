"""Where a rendered reply goes: a draft for the seller, an SMTP send, or nowhere (dry run).

Outboxes register by name; the config's `[outbox] kind` picks one and an unknown name is an
error. Every outbox is idempotent on the reply's Message-ID: delivering the same reply twice
(a retry after a crash) files or sends it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from daemon.errors import ConfigError, OutboxError
from daemon.mailbox.base import Mailbox
from daemon.models import Delivery, Reply

log = logging.getLogger(__name__)


class Transport(Protocol):
    """Sends raw mail (daemon/smtp.py's SmtpTransport)."""

    def send_with_retry(self, raw: bytes, sender: str, recipients: Sequence[str], retries: int, base_seconds: float) -> None: ...


class Outbox(Protocol):
    name: str

    def deliver(self, reply: Reply) -> Delivery: ...

    def is_present(self, message_id: str, kind: str) -> bool:
        """True when a draft (`kind="draft"`) or sent copy (`kind="send"`) with this id exists."""
        ...


class DryRunOutbox:
    """Does everything but write: for `--dry-run` and for trying out a new config."""

    name = "dry-run"

    def deliver(self, reply: Reply) -> Delivery:
        log.info("dry run: would file %s to %s (%s)", reply.message_id, reply.to, reply.template)
        return Delivery(outcome="dry-run", message_id=reply.message_id, detail=reply.template)

    def is_present(self, message_id: str, kind: str) -> bool:
        return False


class DraftOutbox:
    """Files every reply in the seller's Drafts folder, for a person to review and send."""

    name = "draft"

    def __init__(self, mailbox: Mailbox) -> None:
        self._mailbox = mailbox

    def deliver(self, reply: Reply) -> Delivery:
        return file_draft(self._mailbox, reply)

    def is_present(self, message_id: str, kind: str) -> bool:
        return self._mailbox.has_draft(message_id)


class SmtpOutbox:
    """Sends the replies the seller trusts (auto_send), drafts the rest.

    A send that fails after its retries falls back to a draft: the reply is never lost.
    """

    name = "smtp"

    def __init__(
        self,
        mailbox: Mailbox,
        transport: Transport,
        sender: str,
        save_sent: bool,
        retries: int,
        retry_base_seconds: float,
    ) -> None:
        self._mailbox = mailbox
        self._transport = transport
        self._sender = sender
        self._save_sent = save_sent
        self._retries = retries
        self._base = retry_base_seconds

    def deliver(self, reply: Reply) -> Delivery:
        if not reply.auto_send:
            return file_draft(self._mailbox, reply)
        if self._mailbox.has_sent(reply.message_id):
            return Delivery(outcome="already-present", message_id=reply.message_id, detail="in Sent")
        try:
            self._transport.send_with_retry(
                reply.raw, self._sender, [reply.to], retries=self._retries, base_seconds=self._base
            )
        except OutboxError as exc:
            log.warning("send of %s failed, filing a draft instead: %s", reply.message_id, exc)
            drafted = file_draft(self._mailbox, reply)
            return Delivery(outcome="fell-back-to-draft", message_id=reply.message_id, detail=f"{exc} ({drafted.outcome})")
        if self._save_sent:
            self._mailbox.append_sent(reply.raw, reply.message_id)
        return Delivery(outcome="sent", message_id=reply.message_id, detail=reply.to)

    def is_present(self, message_id: str, kind: str) -> bool:
        if kind == "send":
            return self._mailbox.has_sent(message_id)
        return self._mailbox.has_draft(message_id)


def file_draft(mailbox: Mailbox, reply: Reply) -> Delivery:
    if mailbox.has_draft(reply.message_id):
        return Delivery(outcome="already-present", message_id=reply.message_id, detail="in Drafts")
    handle = mailbox.append_draft(reply.raw, reply.message_id)
    return Delivery(outcome="drafted", message_id=reply.message_id, detail=handle)



@dataclass(frozen=True)
class OutboxParts:
    """What an outbox may need, built lazily so `dry-run` never connects anywhere."""

    mailbox: Mailbox
    sender: str
    transport: Callable[[], Transport] | None = None
    save_sent: bool = True
    retries: int = 3
    retry_base_seconds: float = 2.0


def available_outboxes() -> dict[str, Callable[[OutboxParts], Outbox]]:
    return {
        "draft": lambda parts: DraftOutbox(parts.mailbox),
        "dry-run": lambda parts: DryRunOutbox(),
        "smtp": _smtp_outbox,
    }


def _smtp_outbox(parts: OutboxParts) -> Outbox:
    if parts.transport is None:
        raise ConfigError("[outbox] kind = \"smtp\" needs [outbox] host and the SMTP settings")
    return SmtpOutbox(parts.mailbox, parts.transport(), parts.sender, parts.save_sent, parts.retries, parts.retry_base_seconds)


def build_outbox(kind: str, parts: OutboxParts) -> Outbox:
    factories = available_outboxes()
    if kind not in factories:
        raise ConfigError(f"[outbox] kind: unknown outbox {kind!r} (available: {', '.join(sorted(factories))})")
    return factories[kind](parts)
