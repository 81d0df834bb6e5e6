"""Who must never get an automatic message (RFC 3834), and how many a customer may get.

An auto-reply to a robot starts a mail loop or answers a bounce; an auto-reply to a mailing list
spams everyone on it. Such mail is still recorded as handled and shown to the seller; it is only
never answered automatically. Each rule returns a reason phrase so the decision can be logged
and explained.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from daemon.models import Message

ROBOT_LOCAL_PARTS = re.compile(
    r"^(mailer-daemon|mailerdaemon|postmaster|daemon|bounces?([-+.].*)?|.*[-+.]bounces?"
    r"|no[-_.]?reply|no[-_.]?replies|do[-_.]?not[-_.]?reply|dont[-_.]?reply|noreply[-+.].*"
    r"|no[-_.]?reply[-+.].*|notifications?|notify|auto[-_.]?(reply|responder|confirm)"
    r"|listserv|majordomo|mailman|owner-.*|.*-owner|.*-request)$",
    re.IGNORECASE,
)
"""Local parts that RFC 3834 section 2 and long practice say never belong to a person."""

AUTO_REPLY_SUBJECTS = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|autoreply|out of (the )?office"
    r"|abwesenheits(notiz|nachricht)|réponse automatique|respuesta automática"
    r"|risposta automatica|fuori sede|absence|自動応答|自动回复|自動回覆"
    r"|undeliver(ed|able)|delivery status notification|mail delivery (failed|failure)"
    r"|returned mail|unzustellbar|non remis|no entregado)\b",
    re.IGNORECASE,
)
"""Subjects that auto-responders and bounce generators use when they forget the headers."""

FORM_SENDER_LOCAL_PARTS = re.compile(r"^(no[-_.]?reply|noreply|do[-_.]?not[-_.]?reply|notifications?|notify)([-+.].*)?$", re.IGNORECASE)
"""Robot senders that carry a person's message: a shop's contact form mails "From: no-reply@..."
with the customer in Reply-To. The customer is who an answer reaches, so they may get one."""

SUPPRESS_VALUES = {"all", "oof", "autoreply"}
"""X-Auto-Response-Suppress values (Microsoft) that ask us not to auto-respond."""


def robot_reason(message: Message, own_addresses: Collection[str]) -> str:
    """Why this message must not get an automatic reply, or "" when it may."""
    auto_submitted = message.header("auto-submitted").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = message.header("precedence").strip().lower()
    if precedence in {"bulk", "list", "junk"}:
        return f"Precedence: {precedence}"
    for name in ("list-id", "list-unsubscribe", "list-post"):
        if message.header(name):
            return f"mailing-list header {name.title()}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-reply"):
        if message.header(name):
            return f"auto-reply header {name}"
    suppress = {part.strip().lower() for part in message.header("x-auto-response-suppress").split(",")}
    if suppress & SUPPRESS_VALUES:
        return "X-Auto-Response-Suppress asks for no auto-reply"
    return_path = message.header("return-path").strip()
    if return_path in {"<>", "< >"}:
        return "empty Return-Path (a bounce)"
    address = message.from_address.lower()
    if not address:
        return "no sender address"
    own = {item.lower() for item in own_addresses}
    if address in own:
        return "sent from the seller's own address"
    if any(item and item in message.header("x-loop").lower() for item in own):
        return "X-Loop names our address"
    target = (message.reply_to or address).lower()
    if target in own:
        return "Reply-To is the seller's own address"
    if target != address and ROBOT_LOCAL_PARTS.match(target.rpartition("@")[0]):
        return f"Reply-To is a robot address {target}"
    local = address.rpartition("@")[0]
    if ROBOT_LOCAL_PARTS.match(local) and not (target != address and FORM_SENDER_LOCAL_PARTS.match(local)):
        return f"robot sender {address}"
    if AUTO_REPLY_SUBJECTS.match(message.subject or ""):
        return f"auto-reply subject {message.subject[:40]!r}"
    return ""


def over_daily_cap(sent_today: int, cap: int) -> str:
    """Why one more automatic message to this customer today would be too many, or ""."""
    if sent_today >= cap:
        return f"daily cap of {cap} automatic messages to this customer reached"
    return ""
