"""Amazon buyer-seller messaging relay mail: who the buyer is and what they actually wrote.

Amazon wraps the buyer's words in marker lines ("------------- Begin message -------------")
and surrounds them with order details, product titles, help links and a thread token. Only the
words between the markers are the buyer's; everything else is boilerplate that would otherwise
drive classification (a product title such as "Replacement cover" is not a complaint).
"""

from __future__ import annotations

import re

from daemon.models import AmazonRelay

ORDER_ID = re.compile(r"(?<![\w-])\d{3}-\d{7}-\d{7}(?![\w-])")
"""Amazon order numbers; the word-boundary guards keep longer digit runs from matching."""

COMM_TOKEN = re.compile(r"\[commMgrTok:[^\]\s]{1,200}\]")

RELAY_DOMAIN = re.compile(r"@marketplace\.(amazon\.[a-z]{2,3}(?:\.[a-z]{2})?)$", re.IGNORECASE)

NAME_SUFFIX = re.compile(
    r"\s*[-\u2010-\u2015|:]+\s*(?:amazon(?:\.[a-z.]+)?(?:[\s-]*(?:marketplace|マーケットプレイス|マーケットプレース))?"
    r"|marketplace\s+(?:amazon|d'amazon|de\s+amazon|di\s+amazon)|amazon\s*(?:マーケットプレイス|マーケットプレース))"
    r"(?:\s+[a-z]{2,}(?:\s+[a-z]{2,})?)?\s*$",
    re.IGNORECASE,
)
"""Amazon appends " - Amazon Marketplace" (or a localised variant) to the buyer's name."""

SUBJECT_BUYER = re.compile(
    r"(?:amazon[\s-]*(?:customer|kunden?|kundin|client[e]?|cliente|klant|klient(?:a)?|kund|müşterisi)"
    r"|(?:customer|cliente|client)\s+(?:d'|de\s+|di\s+)?amazon)\s+(?P<name>[^()\n]{1,80}?)\s*\(",
    re.IGNORECASE,
)
"""`Inquiry from Amazon customer Jane Doe (Order: ...)` and its translations."""

BEGIN_PHRASES = (
    "begin message",
    "start message",
    "start of message",
    "message begins",
    "anfang der nachricht",
    "beginn der nachricht",
    "nachricht beginnt",
    "début du message",
    "debut du message",
    "inizio messaggio",
    "inizio del messaggio",
    "iniciar mensaje",
    "inicio del mensaje",
    "inicio de mensaje",
    "comienzo del mensaje",
    "início da mensagem",
    "inicio da mensagem",
    "メッセージはここから",
    "メッセージ開始",
    "begin bericht",
    "begin van bericht",
    "begin van het bericht",
    "początek wiadomości",
    "poczatek wiadomosci",
    "meddelandets början",
    "början av meddelandet",
    "meddelande börjar",
    "mesaj başlangıcı",
    "mesajın başlangıcı",
    "消息开始",
    "留言开始",
)
END_PHRASES = (
    "end message",
    "end of message",
    "message ends",
    "ende der nachricht",
    "nachricht endet",
    "fin du message",
    "fine messaggio",
    "fine del messaggio",
    "finalizar mensaje",
    "fin del mensaje",
    "fin de mensaje",
    "final del mensaje",
    "fim da mensagem",
    "メッセージはここまで",
    "メッセージ終了",
    "einde bericht",
    "einde van bericht",
    "einde van het bericht",
    "koniec wiadomości",
    "koniec wiadomosci",
    "meddelandets slut",
    "slut på meddelandet",
    "meddelande slutar",
    "mesaj sonu",
    "mesajın sonu",
    "消息结束",
    "留言结束",
)

DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d=_*"
MARKER_LINE = re.compile(rf"^[\s>]*[{DASHES}]{{3,}}\s*(?P<phrase>[^{DASHES}]+?)\s*[{DASHES}]{{3,}}\s*$")
"""A phrase between runs of dashes; the phrase decides whether it begins or ends the message."""

BARE_MARKER_LINE = re.compile(r"^[\s>]*(?P<phrase>[^\n]{3,40}?)[\s:：]*$")
"""Some HTML renderings lose the dashes; a line holding only a known phrase still counts."""

GENERIC_MARKER_LINE = re.compile(rf"^[\s>]*[{DASHES}]{{8,}}\s*(?P<phrase>[^{DASHES}]+?)\s*[{DASHES}]{{8,}}\s*$")
"""Amazon's markers carry a dozen dashes a side; "-----Original Message-----" carries five."""

QUOTE_SEPARATOR_WORDS = re.compile(
    r"original|forward|weitergeleitet|ursprüngliche|origine|réexpédié|transféré|originale|inoltrato|reenviado"
    r"|元のメッセージ|転送|原始|转发|wiadomość oryginalna|oorspronkelijk|ursprungligt",
    re.IGNORECASE,
)

BOILERPLATE_START = re.compile(
    r"^[\s>]*(?:"
    r"for your information|to help arbitrate disputes|was this email helpful|was this e-?mail helpful"
    r"|copyright \d{4}|©\s*\d{4}|\[commMgrTok:|respond to this message|reply to this message|important:"
    r"|amazon uses filtering|we retain all messages|did this solve your problem"
    r"|zu ihrer information|zur information|war diese e-?mail hilfreich|um streitigkeiten"
    r"|pour votre information|pour information|cet e-?mail vous a-t-il été utile|afin de faciliter"
    r"|per tua informazione|per vostra informazione|questa e-?mail ti è stata utile|per risolvere eventuali"
    r"|para tu información|para su información|¿te ha resultado útil este e-?mail|¿le ha resultado útil|para ayudar a resolver"
    r"|ご参考までに|ご参考|このメールは役に立ちましたか|紛争の仲裁|参考信息|此电子邮件是否有帮助"
    r"|ter informatie|was deze e-?mail nuttig|dla twojej informacji|czy ten e-?mail był pomocny|för din information|var det här e-?postmeddelandet till hjälp"
    r")",
    re.IGNORECASE,
)
"""Where Amazon's footer starts, for relay mail whose end marker is missing."""

BOILERPLATE_LINE = re.compile(
    r"^[\s>]*(?:"
    r"(?:order|bestellung|bestellnummer|commande|numéro de commande|ordine|numero ordine|pedido|número de pedido|注文番号|订单号|bestelling|zamówienie)\b[^\n]{0,20}?(?:id|nr|n°|nummer|number)?\s*[:：#]?\s*\d{3}-\d{7}-\d{7}\s*[:：]?"
    r"|.*\bASIN\b.*"
    r"|(?:quantity|menge|quantité|quantità|cantidad|数量|product name|produktname|nom du produit|nome prodotto"
    r"|nombre del producto|商品名|artikel|article|articolo|artículo|item)\s*[:：].*"
    r")\s*$",
    re.IGNORECASE,
)
"""Order-detail lines Amazon puts above the buyer's words."""


def relay_marketplace(from_address: str) -> str:
    """`amazon.de` for `xyz@marketplace.amazon.de`; "" for any other address."""
    match = RELAY_DOMAIN.search((from_address or "").strip())
    return match.group(1).lower() if match else ""


def find_order_id(*texts: str) -> str:
    """The first Amazon order number in the texts, searched in the order given."""
    for text in texts:
        match = ORDER_ID.search(text or "")
        if match:
            return match.group(0)
    return ""


def buyer_name_from(from_name: str, subject: str) -> str:
    """The buyer's own name: the display name without Amazon's suffix, else from the subject."""
    name = NAME_SUFFIX.sub("", (from_name or "").strip()).strip(" \"'")
    if name and "amazon" not in name.lower():
        return name
    match = SUBJECT_BUYER.search(subject or "")
    return match.group("name").strip(" \"'") if match else ""


def parse_relay(from_address: str, from_name: str, subject: str, body: str) -> AmazonRelay | None:
    """What the relay tells us, or None when the mail did not come through Amazon's relay."""
    marketplace = relay_marketplace(from_address)
    if not marketplace:
        return None
    token = COMM_TOKEN.search(body or "")
    return AmazonRelay(
        marketplace=marketplace,
        buyer_name=buyer_name_from(from_name, subject),
        order_id=find_order_id(subject, body),
        comm_token=token.group(0) if token else "",
    )


def _normalise_phrase(phrase: str) -> str:
    return re.sub(r"\s+", " ", phrase.strip(" \t:：.")).lower()


def _marker_kind(line: str) -> str:
    """"begin", "end" or "" for one line of the body."""
    match = MARKER_LINE.match(line)
    phrase = _normalise_phrase(match.group("phrase")) if match else ""
    if not match:
        bare = BARE_MARKER_LINE.match(line)
        if not bare:
            return ""
        phrase = _normalise_phrase(bare.group("phrase"))
        if phrase not in BEGIN_PHRASES and phrase not in END_PHRASES:
            return ""
    if phrase in BEGIN_PHRASES:
        return "begin"
    if phrase in END_PHRASES:
        return "end"
    return ""


def has_relay_markers(body: str) -> bool:
    """Whether the body carries Amazon's begin or end marker lines."""
    return any(_marker_kind(line) for line in (body or "").splitlines())


def extract_buyer_text(body: str) -> str | None:
    """The buyer's words between Amazon's markers, or None when the body has no markers.

    A missing end marker (a truncated or reformatted mail) ends the text at Amazon's footer.
    A missing begin marker starts it after the order-detail lines above the end marker.
    """
    lines = (body or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kinds = [_marker_kind(line) for line in lines]
    begin, end = _marker_span(lines, kinds)
    if begin is None and end is None:
        return None
    if begin is None:
        start = _after_order_details(lines, end or 0)
    else:
        start = begin + 1
    stop = end if end is not None else _footer_start(lines, start)
    text = "\n".join(lines[start:stop]).strip("\n")
    return _dedent_blank(text)


def _marker_span(lines: list[str], kinds: list[str]) -> tuple[int | None, int | None]:
    begins = [index for index, kind in enumerate(kinds) if kind == "begin"]
    if begins:
        begin = begins[0]
        ends = [index for index, kind in enumerate(kinds) if kind == "end" and index > begin]
        return begin, (ends[-1] if ends else None)
    ends = [index for index, kind in enumerate(kinds) if kind == "end"]
    if ends:
        return None, ends[-1]
    return _generic_span(lines)


def _generic_span(lines: list[str]) -> tuple[int | None, int | None]:
    """Two long dash-wrapped lines in an unknown language still frame the buyer's words."""
    found = []
    for index, line in enumerate(lines):
        match = GENERIC_MARKER_LINE.match(line)
        if match and not QUOTE_SEPARATOR_WORDS.search(match.group("phrase")):
            found.append(index)
    if len(found) >= 2:
        return found[0], found[1]
    return None, None


def _footer_start(lines: list[str], start: int) -> int:
    for index in range(start, len(lines)):
        if BOILERPLATE_START.match(lines[index]) or GENERIC_MARKER_LINE.match(lines[index]):
            return index
    return len(lines)


def _after_order_details(lines: list[str], end: int) -> int:
    start = 0
    for index in range(end):
        if BOILERPLATE_LINE.match(lines[index]) or ORDER_ID.search(lines[index]):
            start = index + 1
    return start


def strip_relay_boilerplate(body: str) -> str:
    """Relay mail without markers: drop order-detail lines and everything from the footer on."""
    lines = (body or "").replace("\r\n", "\n").split("\n")
    stop = _footer_start(lines, 0)
    kept = [line for line in lines[:stop] if not BOILERPLATE_LINE.match(line) and not COMM_TOKEN.search(line)]
    return _dedent_blank("\n".join(kept).strip("\n"))


def _dedent_blank(text: str) -> str:
    """Trim surrounding blank lines and the spaces Amazon's HTML leaves at line starts."""
    lines = [line.strip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)
