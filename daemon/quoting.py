"""Split a plain-text body into the customer's new words, the quoted history and the signature.

Only the new words may drive classification: quoted history holds our own earlier replies (a
reply that says "we cancelled your order" must not make the next message a cancellation) and
signatures hold addresses and phone numbers. The rules lean towards keeping text: a sentence
wrongly kept costs little, a request wrongly dropped means a buyer is ignored.

mail-parser-reply supplies the "On <date>, <name> wrote:" patterns it knows per language; its
Outlook-block and signature rules are not used because they cut real requests ("From: 12 Old
Street / To: 34 New Road" in an address change, or anything after a line starting "Thanks,").
Our own rules cover Outlook blocks, separators and signatures in en, de, fr, es, it, ja and zh.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence

from mailparser_reply.constants import GENERIC_MAIL_SEPARATOR, MAIL_LANGUAGES

log = logging.getLogger(__name__)

LIBRARY_LANGUAGES = ("en", "de", "fr", "it", "es", "ja", "zh", "nl", "sv", "da", "cs", "ko", "pl")

MAX_LINES = 3000
"""Lines read for new text; a longer body is a long thread, and the rest counts as history."""

MAX_HEADER_LINE = 300
"""Reply headers are short; longer lines are never tested (and regexes never see huge lines)."""

MAX_HEADER_WINDOW = 3
"""Clients wrap a long "On ... wrote:" line over up to three lines."""

ATTRIBUTION_PHRASES = re.compile(
    r"(?:\bwrote|\bwrites|\bschrieb|\ba\s+écrit|\bescribió|\bescreveu|\bha\s+scritto|\bschreef|\bnapisał(?:\(a\))?|\bskrev"
    r"|さんは書きました|は書きました|が書きました|のメール|写道|寫道|寫了)\s*[:：]\s*$",
    re.IGNORECASE,
)
"""How every "wrote:" line ends, in the languages buyers write in."""

ATTRIBUTION_STARTS = re.compile(
    r"^(?:(?:on|at|am|le|el|il|in\s+data|op|em|dnia|den)\b|在|於|于|\d{4}[年/.-]|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"
    r"|(?:mon|tue|wed|thu|fri|sat|sun)\w*\b|\d{1,2}\s+\w+\.?\s+\d{4})",
    re.IGNORECASE,
)
"""How a dated attribution line starts: "On", "Am", "Le", "El", "Il", "在", or the date itself."""

JA_ZH_ATTRIBUTION = re.compile(r"(?:さんは書きました|様は書きました|写道|寫道)\s*[:：]\s*$")
"""Phrases distinctive enough to count without a date in the line."""

GMAIL_JA_ATTRIBUTION = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日.{0,120}<[^<>\s@]+@[^<>\s]+>\s*[:：]$")
"""Gmail in Japanese: "2024年1月5日(金) 10:00 山田太郎 <yamada@example.com>:"."""

SEPARATOR = re.compile(
    r"^[\s>]*[-_=*\u2010-\u2015\uff0d]*\s*(?:"
    r"original message|ursprüngliche nachricht|original[- ]nachricht|message d'origine|message original|mensaje original"
    r"|messaggio originale|mensagem original|oorspronkelijk bericht|oorspronkelijk e-mailbericht|wiadomość oryginalna"
    r"|ursprungligt meddelande|元のメッセージ|オリジナルメッセージ|原始邮件|原始郵件|原邮件|原郵件"
    r"|forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|messaggio inoltrato"
    r"|転送メッセージ|転送されたメッセージ|转发邮件|轉寄郵件|转发的邮件"
    r")\s*[-_=*\u2010-\u2015\uff0d]*\s*$",
    re.IGNORECASE,
)
"""Separator lines mail clients put above quoted or forwarded mail."""

FORWARD_INTRO = re.compile(
    r"^[\s>]*(?:begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié"
    r"|inicio del mensaje reenviado|inizio messaggio inoltrato|転送されたメッセージ|转发的邮件|以下、転送メッセージ)\s*[:：]?\s*$",
    re.IGNORECASE,
)

DASHED_LINE = re.compile(r"^[\s>]*[-_=\u2014\u2500]{3,}\s*[^-_=\s][^-_=]{0,40}?\s*[-_=\u2014\u2500]{3,}\s*$")
"""A short phrase between dashes: a separator in any language when header fields follow it."""

RULE_LINE = re.compile(r"^[\s>]*[_\-=\u2014\u2500]{10,}\s*$")
"""The ruled line Outlook puts above its header block."""

FROM_KEYS = r"from|von|de|da|van|od|från|fra|差出人|送信者|发件人|發件人|寄件者|寄件人"
DATE_KEYS = (
    r"sent|date|gesendet|datum|envoyé|enviado|fecha|inviato|data|verzonden|wysłano|skickat|sendt|送信日時|日時|日付"
    r"|发送时间|發送時間|时间|時間|日期|寄件日期|发送日期"
)
OTHER_KEYS = (
    r"to|subject|cc|an|betreff|à|a|objet|para|asunto|oggetto|aan|onderwerp|do|temat|till|ämne|til|emne"
    r"|宛先|件名|收件人|收件者|主题|主題|主旨|抄送|副本|cc"
)
HEADER_FIELD = re.compile(
    rf"^[\s>]*\**\s*(?P<key>{FROM_KEYS}|{DATE_KEYS}|{OTHER_KEYS})\s*\**\s*[:：]",
    re.IGNORECASE,
)
FROM_FIELD = re.compile(rf"^(?:{FROM_KEYS})$", re.IGNORECASE)
DATE_OR_SUBJECT_FIELD = re.compile(rf"^(?:{DATE_KEYS}|subject|betreff|objet|asunto|oggetto|onderwerp|temat|ämne|emne|件名|主题|主題|主旨)$", re.IGNORECASE)

OUTLOOK_WINDOW = 7
"""How many lines an Outlook header block (From, Sent, To, Cc, Subject, blanks) spans at most."""

SIGNATURE_DELIMITER = re.compile(r"^(?:--|-- |—|__)\s*$")

DEVICE_LINE = re.compile(
    r"^(?:sent from|sent with|sent via|sent using|get outlook for|von meinem|gesendet von|gesendet mit|gesendet vom"
    r"|envoyé de|envoyé depuis|envoyé avec|inviato da|inviato dal|inviato con|enviado desde|enviado con|enviado do|enviado via"
    r"|verzonden (?:vanaf|met)|wysłano z|skickat från)\b.{0,50}$",
    re.IGNORECASE,
)
DEVICE_WORDS = re.compile(
    r"\b(?:iphone|ipad|android|samsung|galaxy|huawei|xiaomi|pixel|oneplus|blackberry|mobile|smartphone|handy|phone"
    r"|portable|téléphone|telefono|teléfono|móvil|movil|cellulare|tablet|outlook|mail|e-mail|posta|correo|courrier"
    r"|yahoo|gmail|proton ?mail|windows|ios|aol|gmx|t-online|mac)\b",
    re.IGNORECASE,
)
"""A device line ("Sent from my iPhone", "Von meinem Samsung Galaxy gesendet") names a device or
mail app; "Sent via DHL on Monday" is the buyer's words."""

CJK_DEVICE_LINE = re.compile(
    r"^(?:.{0,30}から送信|发自我的.{0,30}|发自.{0,20}(?:iphone|ipad|手机|邮箱)|来自我的.{0,30}"
    r"|從我的.{0,30}傳送|从我的.{0,30}发送|寄自我的.{0,30})\s*[.!。]?$",
    re.IGNORECASE,
)


def _is_device_line(line: str) -> bool:
    stripped = line.strip()
    if CJK_DEVICE_LINE.match(stripped):
        return True
    return bool(DEVICE_LINE.match(stripped)) and bool(DEVICE_WORDS.search(stripped)) and len(stripped.split()) <= 9


CLOSINGS = (
    "best regards|kind regards|warm regards|warmest regards|regards|best wishes|many thanks|thanks in advance|thanks again"
    "|thank you in advance|thank you|thanks|thx|cheers|sincerely|yours sincerely|yours faithfully|yours truly|all the best|best"
    "|mit freundlichen grüßen|mit freundlichen grüssen|mit freundlichem gruß|mit freundlichem gruss|freundliche grüße"
    "|freundliche grüsse|viele grüße|viele grüsse|beste grüße|beste grüsse|liebe grüße|liebe grüsse|herzliche grüße"
    "|schöne grüße|grüße|grüsse|gruß|gruss|mfg|lg|vg|danke|vielen dank|danke schön|besten dank"
    "|cordialement|bien cordialement|bien à vous|merci|merci beaucoup|merci d'avance|merci par avance|salutations"
    "|sincères salutations|meilleures salutations|bonne journée|amicalement|bien à toi"
    "|saludos|un saludo|saludos cordiales|un cordial saludo|atentamente|gracias|muchas gracias|gracias de antemano|cordialmente"
    "|cordiali saluti|distinti saluti|saluti|un saluto|grazie|grazie mille|grazie in anticipo|buona giornata"
    "|よろしくお願いします|よろしくお願いいたします|よろしくお願い致します|宜しくお願いします|宜しくお願い致します"
    "|宜しくお願いいたします|以上、よろしくお願いいたします|以上、よろしくお願いします|ありがとうございます|敬具|草々"
    "|谢谢|謝謝|此致|敬礼|此致敬礼|祝好|感谢|感謝|多谢|多謝|顺祝商祺|顺颂商祺"
)
CLOSING_LINE = re.compile(
    rf"^(?:{CLOSINGS})[\s.!。、！~～,，]*(?:[,，\-–—]\s*[^\s,?？.!]+(?:\s+[^\s,?？.!]+){{0,2}}[\s.!]*)?$",
    re.IGNORECASE,
)
"""A closing line, alone or with a short name after a comma ("Thanks, John"); "Thanks for
the quick reply" is a sentence, not a closing."""

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
CJK_SIGNATURE_LINE_MAX = 20
SIGNATURE_WORDS_MAX = 6

SIGNATURE_LINE_MAX = 50
SIGNATURE_LINES_MAX = 4
DELIMITED_SIGNATURE_LINES_MAX = 12
"""After a "-- " line a signature may be longer (address, legal lines), but not a whole letter."""

POSTSCRIPT = re.compile(r"^(?:p\.?\s?s\.?|n\.?\s?b\.?|追伸|附言)\b", re.IGNORECASE)


def split_reply(text: str) -> tuple[str, str, str]:
    """(new_text, quoted, signature) of a plain-text body."""
    lines = _lines(text)
    if not any(line.strip() for line in lines):
        return "", "", ""
    lines, overflow = lines[:MAX_LINES], lines[MAX_LINES:]
    new_lines, quoted_lines, rest = _separate_quotes(lines)
    rest = rest + overflow
    body_lines, signature_lines = _split_signature(new_lines)
    new_text = _join(body_lines)
    signature = _join(signature_lines)
    if not new_text and signature:
        new_text, signature = signature, ""
    if not new_text:
        new_text = _join(_unquoted_fallback(rest))
    return new_text, _join(quoted_lines + rest), signature


def _lines(text: str) -> list[str]:
    cleaned = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    cleaned = re.sub(r"[\u200b\u200c\u200d\u2060\ufeff]", "", cleaned)
    return [line.rstrip() for line in cleaned.split("\n")]


def _join(lines: Sequence[str]) -> str:
    text = "\n".join(lines).strip("\n")
    text = re.sub(r"\n(?:[ \t]*\n){2,}", "\n\n", text)
    return text.strip()


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _separate_quotes(lines: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(new lines, quoted lines above the cut, everything from the cut on)."""
    new_lines: list[str] = []
    quoted_lines: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _is_quoted(line):
            quoted_lines.append(line)
            index += 1
            continue
        span = _attribution_span(lines, index)
        if span:
            if _next_text_is_quoted(lines, index + span):
                quoted_lines.extend(lines[index : index + span])
                index += span
                continue
            if _is_dated_attribution(lines, index, span):
                return new_lines, quoted_lines, lines[index:]
        cut = _block_start(lines, index)
        if cut is not None:
            return new_lines, quoted_lines, lines[cut:]
        new_lines.append(line)
        index += 1
    return new_lines, quoted_lines, []


def _next_text_is_quoted(lines: list[str], start: int) -> bool:
    for line in lines[start:]:
        if line.strip():
            return _is_quoted(line)
    return False


def _window(lines: list[str], index: int, size: int) -> str | None:
    part = lines[index : index + size]
    if len(part) < size or any(len(line) > MAX_HEADER_LINE for line in part):
        return None
    if size > 1 and any(not line.strip() for line in part):
        return None
    return " ".join(line.strip() for line in part)


def _attribution_span(lines: list[str], index: int) -> int:
    """How many lines an "On <date>, <name> wrote:" header starting here spans (0: none)."""
    if not lines[index].strip():
        return 0
    for size in range(1, MAX_HEADER_WINDOW + 1):
        window = _window(lines, index, size)
        if window is None:
            return 0
        if size > 1 and not _starts_attribution(lines[index]):
            return 0
        if _is_attribution(window):
            return size
    return 0


def _starts_attribution(line: str) -> bool:
    """Whether a wrapped header may start on this line ("On Mon, 5 Jan 2024 at 10:00, ...")."""
    stripped = line.strip()
    return bool(ATTRIBUTION_STARTS.match(stripped)) and not re.search(r"[.!?。！？]$", stripped)


def _is_attribution(window: str) -> bool:
    if not window.rstrip().endswith((":", "：")):
        return False  # every quote header ends with a colon; this keeps long bodies fast
    if GMAIL_JA_ATTRIBUTION.match(window):
        return True
    if ATTRIBUTION_PHRASES.search(window):
        return True
    return any(pattern.match(window) for pattern in _library_attribution_patterns())


def _is_dated_attribution(lines: list[str], index: int, span: int) -> bool:
    """An attribution that ends the new text even when the quote below it has no ">" marks.

    It needs a date or an address, or a phrase only quote headers use: "My friend wrote:"
    alone must not swallow the rest of a buyer's message.
    """
    window = " ".join(line.strip() for line in lines[index : index + span])
    if JA_ZH_ATTRIBUTION.search(window) or GMAIL_JA_ATTRIBUTION.match(window):
        return True
    has_date_or_address = bool(re.search(r"\d|@", window))
    if not has_date_or_address:
        return False
    if any(pattern.match(window) for pattern in _library_attribution_patterns()):
        return True
    return bool(ATTRIBUTION_STARTS.match(window) or re.search(r"<[^<>\s]+@[^<>\s]+>|\S+@\S+\.\w+", window))


@functools.cache
def _library_attribution_patterns() -> tuple[re.Pattern[str], ...]:
    """mail-parser-reply's per-language "wrote:" patterns, applied to one (joined) line."""
    patterns = [GENERIC_MAIL_SEPARATOR]
    for language in LIBRARY_LANGUAGES:
        pattern = MAIL_LANGUAGES.get(language, {}).get("wrote_header")
        if isinstance(pattern, str) and pattern:
            patterns.append(pattern)
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as error:  # a future release may change a pattern
            log.warning("mail-parser-reply pattern skipped: %s", error)
    return tuple(compiled)


def _block_start(lines: list[str], index: int) -> int | None:
    """Where quoted history starts if a separator or an Outlook header block starts here."""
    line = lines[index]
    if len(line) > MAX_HEADER_LINE or not line.strip():
        return None
    if SEPARATOR.match(line) or FORWARD_INTRO.match(line):
        return index
    if (RULE_LINE.match(line) or DASHED_LINE.match(line)) and _outlook_block_at(lines, _next_text_index(lines, index + 1)):
        return index
    if _outlook_block_at(lines, index):
        return index
    return None


def _next_text_index(lines: list[str], start: int) -> int:
    for index in range(start, min(len(lines), start + 3)):
        if lines[index].strip():
            return index
    return len(lines)


def _outlook_block_at(lines: list[str], index: int) -> bool:
    """A header block: a From field plus a date or subject field within a few lines.

    From and To alone are not enough: a buyer changing an address writes "From: old street /
    To: new street".
    """
    if index >= len(lines):
        return False
    first = HEADER_FIELD.match(lines[index])
    if not first:
        return False
    keys = []
    blanks = 0
    for line in lines[index : index + OUTLOOK_WINDOW]:
        if not line.strip():
            blanks += 1
            if blanks > 2:
                break
            continue
        if len(line) > MAX_HEADER_LINE * 2:
            break
        field = HEADER_FIELD.match(line)
        if field:
            keys.append(field.group("key").lower())
    has_from = any(FROM_FIELD.match(key) for key in keys)
    has_date_or_subject = any(DATE_OR_SUBJECT_FIELD.match(key) for key in keys)
    return has_from and has_date_or_subject and len(set(keys)) >= 2


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    """(body lines, signature lines): cut at a delimiter, a device line, or after a closing.

    The earliest cut wins, so "Cordiali saluti / Mario Rossi / Inviato da iPhone" keeps the
    closing and moves both the name and the device line to the signature.
    """
    text_indexes = [index for index, line in enumerate(lines) if line.strip()]
    if len(text_indexes) < 2:
        return _lone_device_line(lines, text_indexes)
    first_text = text_indexes[0]
    cuts: list[int] = []
    for index in text_indexes[1:]:
        if SIGNATURE_DELIMITER.match(lines[index].strip()) and _short_tail(lines, index + 1, allowed=DELIMITED_SIGNATURE_LINES_MAX, line_max=200):
            cuts.append(index)
            break
    for index in text_indexes[1:]:
        if _is_device_line(lines[index]) and _short_tail(lines, index + 1, allowed=SIGNATURE_LINES_MAX):
            cuts.append(index)
            break
    closing = _last_closing(lines, text_indexes)
    if closing is not None and closing != text_indexes[-1] and _short_tail(lines, closing + 1, allowed=SIGNATURE_LINES_MAX):
        cuts.append(closing + 1)
    if not cuts:
        return _lone_device_line(lines, text_indexes)
    cut = min(cuts)
    body, signature = lines[:cut], lines[cut:]
    if signature and SIGNATURE_DELIMITER.match(signature[0].strip()):
        signature = signature[1:]
    if not any(line.strip() for line in body[first_text:]):
        return lines, []
    return body, signature


def _lone_device_line(lines: list[str], text_indexes: list[int]) -> tuple[list[str], list[str]]:
    """A device line at the very top ("Sent from my iPhone" above the text) is still no text."""
    if text_indexes and _is_device_line(lines[text_indexes[0]]) and len(text_indexes) > 1:
        first = text_indexes[0]
        return lines[:first] + lines[first + 1 :], [lines[first]]
    return lines, []


def _last_closing(lines: list[str], text_indexes: list[int]) -> int | None:
    """The closing line among the last few lines of text, if any."""
    tail = text_indexes[-(SIGNATURE_LINES_MAX + 1) :]
    for index in reversed(tail):
        if index == text_indexes[0]:
            return None
        if CLOSING_LINE.match(lines[index].strip()):
            return index
    return None


def _short_tail(lines: list[str], start: int, allowed: int, line_max: int = SIGNATURE_LINE_MAX) -> bool:
    """Whether the lines from `start` on are a few short lines with no question or request."""
    tail = [line.strip() for line in lines[start:] if line.strip()]
    if len(tail) > allowed:
        return False
    for line in tail:
        if len(line) > line_max or POSTSCRIPT.match(line) or "?" in line or "？" in line:
            return False
        if line_max == SIGNATURE_LINE_MAX and (len(line.split()) > SIGNATURE_WORDS_MAX or (CJK.search(line) and len(line) > CJK_SIGNATURE_LINE_MAX)):
            return False
        if CLOSING_LINE.match(line) is None and re.search(r"\b\d{3}-\d{7}-\d{7}\b", line):
            return False
    return True


def _unquoted_fallback(rest: list[str]) -> list[str]:
    """The history's unquoted text, minus header lines: better than no text at all.

    A forward with no comment, or a body that only looks like a header block, still has words
    a person should see classified.
    """
    kept = []
    for line in rest[:MAX_LINES]:
        if _is_quoted(line) or SEPARATOR.match(line) or FORWARD_INTRO.match(line) or RULE_LINE.match(line):
            continue
        if HEADER_FIELD.match(line):
            continue
        kept.append(line)
    return kept
