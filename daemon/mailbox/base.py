"""The mailbox interface the pipeline talks to, whatever holds the mail.

A mailbox hands out raw messages in bounded batches after a cursor, files drafts idempotently
(by Message-ID, so a retry after a crash never duplicates one), and waits for new mail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from daemon.models import RawMail


class Mailbox(Protocol):
    """What every mailbox kind (Maildir, IMAP) provides."""

    kind: str

    def fetch_new(self, cursor: str, batch_size: int) -> Iterator[list[RawMail]]:
        """Yield batches (at most `batch_size` each) of messages that arrived after `cursor`.

        `cursor` is the last value the caller stored ("" at first). Each RawMail carries the
        `position` the caller may store once that message's outcome is durable. Messages may be
        yielded again after a cursor reset: the caller dedupes by message key.
        """
        ...

    def mark_handled(self, ref: str) -> None:
        """Record on the server side that Aftersale saw the message, without altering it or
        the seller's unread state."""
        ...

    def has_draft(self, message_id: str) -> bool:
        """True when the Drafts folder holds a message with this Message-ID."""
        ...

    def append_draft(self, raw: bytes, message_id: str) -> str:
        """File `raw` in Drafts flagged as a draft, unless one with `message_id` is there.

        Returns a handle of the draft. Must be idempotent on `message_id`.
        """
        ...

    def has_sent(self, message_id: str) -> bool:
        """True when the Sent folder holds a message with this Message-ID."""
        ...

    def append_sent(self, raw: bytes, message_id: str) -> str:
        """File a copy of a sent message in Sent (seen), unless it is already there."""
        ...

    def sent_since(self, cursor: str, batch_size: int) -> Iterator[list[RawMail]]:
        """Yield batches of messages the seller sent after `cursor` (to spot their replies)."""
        ...

    def wait_for_mail(self, timeout: float) -> bool:
        """Block until new mail may have arrived or `timeout` seconds passed.

        Returns True when the server signalled new mail (IMAP IDLE), False on timeout.
        """
        ...

    def close(self) -> None: ...
