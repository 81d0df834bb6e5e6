"""HTML mail bodies as plain text that the quote splitter can read.

Buyers' mail clients often send HTML only, and Amazon's relay sends its marker lines inside
HTML. The text keeps one line per block element so marker and "On ... wrote:" lines stay whole,
and quoted history comes out as ">"-prefixed lines (blockquote, Gmail's `gmail_quote`, Outlook's
`divRplyFwdMsg` and everything after it) so the quote splitter removes it like any plain-text
quote. Signature containers get a "-- " line before them for the same reason.

The tree is walked with an explicit stack: hostile mail can nest elements deeply enough to
exhaust Python's recursion limit.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

log = logging.getLogger(__name__)

DROPPED_TAGS = frozenset({"script", "style", "head", "title", "meta", "link", "noscript", "template", "svg", "object", "iframe", "xml"})
"""Elements whose content is never text a reader sees."""

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead",
        "tr", "ul", "caption",
    }
)
"""Elements that start and end a line."""

CELL_TAGS = frozenset({"td", "th"})
NESTING_TAGS = BLOCK_TAGS | CELL_TAGS | {"button", "select", "option", "object", "applet", "marquee"}
"""Table cells stay on their row's line, separated by a space."""

QUOTE_CLASSES = frozenset({"gmail_quote", "yahoo_quoted", "moz-forward-container", "OutlookMessageHeader"})
"""Containers that hold quoted history (Gmail, Yahoo, Thunderbird forwards, old Outlook)."""

REST_IS_QUOTED_IDS = frozenset({"appendonsend", "divrplyfwdmsg", "x_divrplyfwdmsg", "x_appendonsend", "mail-editor-reference-message-container"})
"""Outlook marks where the quoted message starts; everything after it is history."""

SIGNATURE_CLASSES = frozenset({"gmail_signature", "moz-signature", "signature"})
SIGNATURE_IDS = frozenset({"signature", "x_signature", "divtagdefaultwrapper-signature", "ms-outlook-mobile-signature"})

MAX_HTML_CHARS = 5_000_000
MAX_BLOCK_DEPTH = 400
MAX_BLOCK_TAGS = 40_000
"""lexbor spends time proportional to the open-block depth on every block tag, so hostile HTML
(100k nested divs) takes minutes. Real mail nests a few dozen levels; beyond these limits the
HTML is cut before parsing."""
TAG_START = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]{0,20})")
"""Only finds where tags start, to count nesting before parsing; the parsing is lexbor's."""

MAX_NODES = 200_000
"""Stop walking after this many nodes: a body bigger than that is not a buyer's message."""


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body; "" when there is nothing to read."""
    if not html or not html.strip():
        return ""
    html = _within_limits(html)
    try:
        tree = LexborHTMLParser(html)
    except Exception as error:  # selectolax raises plain exceptions on hostile input
        log.warning("HTML body could not be parsed: %s", error)
        return ""
    root = tree.root
    if root is None:
        return ""
    writer = _TextWriter()
    _walk(root, writer)
    return writer.result()


def _within_limits(html: str) -> str:
    """The HTML cut where its block nesting or block count stops being plausible mail."""
    html = html[:MAX_HTML_CHARS]
    depth = 0
    blocks = 0
    for match in TAG_START.finditer(html):
        if match.group(2).lower() not in NESTING_TAGS:
            continue
        if match.group(1):
            depth = max(0, depth - 1)
            continue
        depth += 1
        blocks += 1
        if depth > MAX_BLOCK_DEPTH or blocks > MAX_BLOCK_TAGS:
            log.warning("HTML body nests too deep; text cut at character %s", match.start())
            return html[: match.start()]
    return html


@dataclass
class _TextWriter:
    """Collects lines; each line remembers how deep in quotes it sits."""

    lines: list[tuple[int, str]] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    depth: int = 0
    rest_quoted: bool = False
    line_depth: int = 0

    def text(self, value: str, preformatted: bool) -> None:
        if preformatted:
            pieces = value.replace("\r\n", "\n").split("\n")
            for index, piece in enumerate(pieces):
                if index:
                    self.newline(force=True)
                self._append(piece)
            return
        collapsed = re.sub(r"\s+", " ", value.replace("\xa0", " "))
        if not collapsed.strip() and (not self.current or self.current[-1].endswith(" ")):
            return
        if not self.current:
            collapsed = collapsed.lstrip()
        self._append(collapsed)

    def _append(self, value: str) -> None:
        if not self.current:
            self.line_depth = self.quote_depth
        self.current.append(value)

    @property
    def quote_depth(self) -> int:
        return self.depth + (1 if self.rest_quoted else 0)

    def newline(self, force: bool = False) -> None:
        line = "".join(self.current).rstrip()
        if line or force:
            self.lines.append((self.line_depth if self.current else self.quote_depth, line))
        self.current = []

    def blank(self) -> None:
        self.newline()
        if self.lines and self.lines[-1][1]:
            self.lines.append((self.quote_depth, ""))

    def result(self) -> str:
        self.newline()
        out: list[str] = []
        for depth, line in self.lines:
            text = line.replace("\xa0", " ").rstrip()
            if depth:
                out.append(">" * depth + (" " + text if text else ""))
            else:
                out.append(text)
        joined = "\n".join(out)
        joined = re.sub(r"\n(?:[ \t]*\n){2,}", "\n\n", joined)
        return joined.strip("\n")


def _classes(node: LexborNode) -> set[str]:
    value = node.attributes.get("class") or ""
    return set(value.split())


def _node_id(node: LexborNode) -> str:
    return (node.attributes.get("id") or "").lower()


def _is_quote_container(node: LexborNode, tag: str) -> bool:
    if tag == "blockquote":
        return True
    return bool(_classes(node) & QUOTE_CLASSES)


def _is_signature(node: LexborNode) -> bool:
    return bool(_classes(node) & SIGNATURE_CLASSES) or _node_id(node) in SIGNATURE_IDS


def _walk(root: LexborNode, writer: _TextWriter) -> None:
    """Depth-first walk; ("exit", node) entries close what ("enter", node) opened."""
    stack: list[tuple[str, LexborNode, bool]] = [("enter", root, False)]
    seen = 0
    while stack:
        action, node, preformatted = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            log.warning("HTML body too large; text cut after %s nodes", MAX_NODES)
            return
        tag = (node.tag or "").lower()
        if action == "exit":
            _leave(node, tag, writer)
            continue
        if node.is_text_node:
            writer.text(node.text_content or "", preformatted)
            continue
        if node.is_comment_node or tag in DROPPED_TAGS:
            continue
        _enter(node, tag, writer)
        stack.append(("exit", node, preformatted))
        children: list[LexborNode] = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        inner_pre = preformatted or tag in {"pre", "textarea", "plaintext", "listing"}
        stack.extend(("enter", item, inner_pre) for item in reversed(children))


def _enter(node: LexborNode, tag: str, writer: _TextWriter) -> None:
    if tag == "br":
        writer.newline(force=True)
        return
    if tag == "img":
        return
    if _node_id(node) in REST_IS_QUOTED_IDS:
        writer.newline()
        writer.rest_quoted = True
    if tag in BLOCK_TAGS:
        writer.newline()
        if tag in {"p", "blockquote", "table", "ul", "ol"}:
            writer.blank()
    elif tag in CELL_TAGS:
        writer.text(" ", False)
    if _is_signature(node) and not writer.quote_depth:
        writer.newline()
        writer.lines.append((0, "-- "))
    if _is_quote_container(node, tag):
        writer.newline()
        writer.depth += 1


def _leave(node: LexborNode, tag: str, writer: _TextWriter) -> None:
    if _is_quote_container(node, tag):
        writer.newline()
        writer.depth -= 1
    if tag in BLOCK_TAGS:
        writer.newline()
        if tag in {"p", "blockquote", "table", "ul", "ol"}:
            writer.blank()
