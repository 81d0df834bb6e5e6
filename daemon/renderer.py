"""Reply text from the seller's templates, and the reply message around it.

This is the only module that imports jinja2. Templates use StrictUndefined: a misspelt name in a
seller's template is an error the seller sees at once, not a blank in a customer's mail.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import jinja2

from daemon.errors import TemplateError
from daemon.models import Message, Reply

log = logging.getLogger(__name__)

REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|r|rif|odp|回复|答复|返信)\s*(\[\d+\])?\s*[:：]\s*)+", re.IGNORECASE)
"""Reply prefixes in the buyers' languages, stripped before adding one "Re: "."""

REPLY_POLICY = email.policy.default.clone(max_line_length=998)
"""RFC 5322's hard limit. At the default 78, Python folds a long subject before its first
word ("Subject:\n Re: ..."), which several clients then show with a leading space."""

MAX_REFERENCES = 20
"""RFC 5322 lets References grow without bound; long chains break some servers' header limits."""


@dataclass(frozen=True)
class Rendered:
    body: str
    template: str
    """The template file that was used, e.g. `en/cancellation.txt.j2`."""
    language: str
    fell_back: bool
    """True when the customer's language had no such template and the default was used."""


@dataclass(frozen=True)
class Sender:
    name: str
    address: str


class Renderer:
    def __init__(self, templates_dir: Path, default_language: str) -> None:
        self._dir = Path(templates_dir)
        self._default = default_language
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self._dir)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def has_template(self, name: str, language: str) -> bool:
        return (self._dir / language / f"{name}.txt.j2").is_file()

    def languages(self) -> list[str]:
        return sorted(p.name for p in self._dir.iterdir() if p.is_dir()) if self._dir.is_dir() else []

    def render(self, name: str, language: str, context: Mapping[str, object]) -> Rendered:
        """Render template `name` in `language`, falling back to the seller's default language."""
        chosen = language if language and self.has_template(name, language) else self._default
        fell_back = chosen != language
        if fell_back:
            log.info("no %s template in %r: using the default language %r", name, language, chosen)
        relative = f"{chosen}/{name}.txt.j2"
        if not (self._dir / relative).is_file():
            raise TemplateError(f"{self._dir / relative}: template missing")
        try:
            body = self._env.get_template(relative).render(**context)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{self._dir / relative}: line {exc.lineno}: {exc.message}") from exc
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"{self._dir / relative}: {exc.message} (see the README for the names a template may use)") from exc
        return Rendered(body=_tidy(body), template=relative, language=chosen, fell_back=fell_back)

    def check_all(self, context: Mapping[str, object]) -> list[str]:
        """Render every template once; return one line per broken template."""
        problems = []
        for path in sorted(self._dir.glob("*/*.txt.j2")):
            try:
                self.render(path.name.removesuffix(".txt.j2"), path.parent.name, context)
            except TemplateError as exc:
                problems.append(str(exc))
        return problems


def _tidy(body: str) -> str:
    lines = [line.rstrip() for line in body.strip("\n").splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text) + "\n"


def reply_subject(subject: str) -> str:
    stripped = REPLY_PREFIX.sub("", subject or "").strip()
    return f"Re: {stripped}" if stripped else "Re: your message"


def reply_message_id(ticket_id: int, message_key: str, purpose: str, sender_address: str) -> str:
    """Deterministic, so a retry after a crash finds the draft or sent copy it already made."""
    digest = hashlib.sha256(f"{message_key}|{purpose}".encode("utf-8", "replace")).hexdigest()[:20]
    domain = sender_address.rpartition("@")[2] or "aftersale.invalid"
    return f"<aftersale.{ticket_id}.{purpose}.{digest}@{domain}>"


def build_reply(
    *,
    message: Message,
    body: str,
    sender: Sender,
    ticket_id: int,
    template: str,
    language: str,
    purpose: str = "reply",
    auto_send: bool = False,
    now: datetime | None = None,
) -> Reply:
    """A complete reply to `message`: threading headers, our Message-ID, the relay token.

    Replies that Aftersale sends by itself carry `Auto-Submitted` (RFC 3834) so other robots
    do not answer them; drafts do not, because the seller reviews and sends those as a person.
    """
    recipient = message.reply_to or message.from_address
    msg = EmailMessage(policy=REPLY_POLICY)
    msg["From"] = Address(display_name=sender.name, addr_spec=sender.address)
    msg["To"] = _address_header(message.from_name if recipient == message.from_address else "", recipient)
    msg["Subject"] = reply_subject(message.subject)
    msg["Date"] = format_datetime(now or datetime.now(timezone.utc))
    message_id = reply_message_id(ticket_id, message.key, purpose, sender.address)
    msg["Message-ID"] = message_id
    if message.message_id:
        msg["In-Reply-To"] = message.message_id
        chain = [*message.references, message.message_id][-MAX_REFERENCES:]
        msg["References"] = " ".join(chain)
    if auto_send:
        msg["Auto-Submitted"] = "auto-replied" if purpose == "reply" else "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Aftersale-Ticket"] = str(ticket_id)
    if message.relay and message.relay.comm_token and message.relay.comm_token not in body:
        # Amazon threads relay mail by this token; a reply without it may not reach the buyer.
        body = f"{body.rstrip()}\n\n{message.relay.comm_token}\n"
    msg.set_content(body)
    return Reply(
        message_id=message_id,
        to=recipient,
        subject=str(msg["Subject"]),
        raw=bytes(msg),
        ticket_id=ticket_id,
        template=template,
        language=language,
        auto_send=auto_send,
        purpose=purpose,
    )


def _address_header(name: str, address: str) -> str:
    try:
        return str(Address(display_name=name, addr_spec=address))
    except (ValueError, IndexError):
        return address
