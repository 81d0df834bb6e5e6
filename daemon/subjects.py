"""What a subject line says: the thread it belongs to, and whether it is the buyer's own words.

Threading and classification both need the subject without "Re:"/"AW:"/"回复:" prefixes, in every
language buyers write in; this module is the one place that knows those prefixes.
"""

from __future__ import annotations

import re

from daemon.relay import ORDER_ID, SUBJECT_BUYER

_PREFIX = re.compile(
    r"""^\s*(?:
        (?:re|fwd?|aw|wg|tr|rif|r|i|sv|vs|antw|rv|res|ref|réf|enc|odp|
           回复|答复|回覆|答覆|転送|返信|轉寄|转发)
        \s*(?:\[\d+\]|\(\d+\))?\s*[:：]
      | \[[^\]]*\]
      | 【[^】]*】
    )""",
    re.IGNORECASE | re.VERBOSE,
)
"""One reply/forward prefix (Re:, AW:, WG:, TR:, Rif:, I:, RV:, 回复:, 転送: ...) or a [tag]."""

MAX_SUBJECT_CHARS = 200
"""A buyer's subject is a few words; anything longer is not a summary worth reading twice."""


def strip_prefixes(subject: str) -> tuple[str, bool]:
    """(the subject without its reply/forward prefixes and [tags], whether a reply or forward
    prefix was there)."""
    text = subject or ""
    replied = False
    while True:
        match = _PREFIX.match(text)
        if not match:
            return text.strip(), replied
        replied = replied or not match.group(0).strip().startswith(("[", "【"))
        text = text[match.end():]


def normalise_subject(subject: str) -> str:
    """The subject a conversation keeps through replies and forwards: prefixes and [tags]
    stripped, whitespace collapsed, case folded."""
    return " ".join(strip_prefixes(subject)[0].split()).casefold()


def buyer_subject(subject: str) -> str:
    """The subject when the buyer wrote it, else "".

    A buyer's own subject ("Cancel my order", "Paket kaputt") often says what the body only
    implies ("Hi, order 302-..., thanks"). A reply's subject is the seller's earlier one, and
    Amazon's relay subject ("Inquiry from Amazon customer Jane Doe (Order: ...)") is boilerplate:
    neither is the buyer speaking.
    """
    text, replied = strip_prefixes(subject)
    if replied or SUBJECT_BUYER.search(text):
        return ""
    text = " ".join(ORDER_ID.sub(" ", text).split())
    return text[:MAX_SUBJECT_CHARS] if any(char.isalpha() for char in text) else ""


def classification_text(subject: str, new_text: str) -> str:
    """What the classifier reads: the buyer's subject (when it is theirs) above their new words,
    set apart by a blank line so that a negator in one never reaches into the other."""
    own = buyer_subject(subject)
    if not own or own.casefold() in (new_text or "").casefold():
        return new_text or ""
    return f"{own}\n\n{new_text}" if new_text else own
