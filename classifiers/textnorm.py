"""Folds text so that keyword patterns match however the buyer typed: any case, with or without
accents, full-width or half-width, curly or straight apostrophes, traditional or simplified
Chinese characters.

Patterns and messages go through the same `fold`, so whatever folding does to one it does to the
other. The folded text keeps a map back to the original characters, because the evidence must show
the buyer's exact words (`Évidemment` and not `evidemment`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from daemon.errors import ClassifierError

CJK_RANGES = (
    "\u1100-\u11ff"  # Hangul Jamo
    "\u2e80-\u2fdf"  # CJK radicals
    "\u3005-\u3007"  # 々 〆 〇
    "\u3040-\u30ff"  # Hiragana, Katakana (incl. ー)
    "\u3130-\u318f"  # Hangul compatibility Jamo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # half-width Katakana (folded away, listed for safety)
)
"""Scripts written without spaces between words (plus Hangul, which is matched the same way)."""

LATIN_WORD = r"\w"
"""What word boundaries of Latin-script patterns are made of. Python counts CJK characters as
word characters, so `amazon` would never match in `amazonで注文`: folding therefore puts a space
between a CJK character and a Latin letter or digit that touch. (A class excluding the CJK ranges
would say the same, but costs milliseconds to compile each time it appears in a pattern, and a
keyword file uses it hundreds of times.)"""

_CJK_RE = re.compile(f"[{CJK_RANGES}]")


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'", "\u2032": "'"})
_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"})

_KANA_VOICING = ("\u3099", "\u309a")
"""Japanese voicing marks are combining marks, but dropping them turns ガ into カ: they stay."""


@dataclass(frozen=True)
class FoldedText:
    """A message folded for matching, with the way back to the buyer's characters."""

    original: str
    text: str
    starts: tuple[int, ...] | None = None
    """For each folded character, the index of the original character it came from; None when
    folding kept every character in place (plain ASCII)."""
    ends: tuple[int, ...] | None = None
    """For each folded character, the index just after the original character(s) it came from."""

    def original_span(self, start: int, end: int) -> str:
        """The buyer's own text behind folded[start:end]."""
        if self.starts is None or self.ends is None:
            return self.original[start:end]
        if start >= end:
            return ""
        return self.original[self.starts[start] : self.ends[end - 1]]


TRADITIONAL_TABLE = ("opencc", "dictionary/TSCharacters.txt")
"""OpenCC's traditional-to-simplified character table (package opencc-python-reimplemented): the
standard data behind most Chinese converters, kept up to date by people who know the scripts."""


@lru_cache(maxsize=1)
def _simplified_table() -> dict[int, str]:
    """Traditional character -> its simplified form, read once on first use.

    Buyers in Taiwan and Hong Kong write 訂單/退貨/包裹 where mainland buyers write 订单/退货/包裹:
    folding both to one script lets one keyword match both. Character by character is enough
    for keywords: the few characters with two simplified forms (乾 -> 干/乾) take the first.
    Japanese kanji that are also traditional forms (個, 後) fold too, in patterns and messages
    alike, so Japanese keywords keep matching.
    """
    package, name = TRADITIONAL_TABLE
    try:
        data = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ClassifierError(f"the Chinese character table {package}/{name} is missing: install opencc-python-reimplemented ({exc})") from exc
    table: dict[int, str] = {}
    for line in data.splitlines():
        source, _, targets = line.partition("\t")
        first = targets.split(" ")[0].strip()
        if len(source) == 1 and len(first) == 1 and source != first:
            table[ord(source)] = first
    return table


def fold_han(text: str) -> str:
    """Traditional Chinese characters as simplified ones; nothing else changes (used on regex
    sources, whose other characters must stay as written)."""
    return text.translate(_simplified_table()) if has_cjk(text) else text


@lru_cache(maxsize=8192)
def fold_char(char: str) -> str:
    """One character folded: compatibility form, case-folded, accents dropped, simplified."""
    # Apostrophes first: NFKC turns the acute accent ´ into a space plus a combining mark.
    folded = unicodedata.normalize("NFKC", char.translate(_APOSTROPHES).translate(_DASHES)).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c) or c in _KANA_VOICING)
    return fold_han(unicodedata.normalize("NFC", kept))


def fold_text(text: str) -> FoldedText:
    """The text folded for matching, with the map back to the original."""
    if text.isascii():
        # The common case costs one str method: ASCII folds in place, so no map is needed.
        return FoldedText(text, text.lower().replace("`", "'"))
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    previous_kind = 0  # 1: CJK, 2: other word character, 0: anything else
    for index, char in enumerate(text):
        folded = fold_char(char)
        if not folded:
            if ends:
                ends[-1] = index + 1  # a dropped accent belongs to the letter before it
            continue
        if folded in _KANA_VOICING and out:
            composed = unicodedata.normalize("NFC", out[-1] + folded)
            if len(composed) == 1:  # half-width ｶﾞ -> ガ, as NFKC does for whole strings
                out[-1] = composed
                ends[-1] = index + 1
                continue
        for piece in folded:
            kind = 1 if is_cjk_char(piece) else (2 if piece.isalnum() else 0)
            if kind and previous_kind and kind != previous_kind:
                out.append(" ")  # the script changes: make it a word boundary (see LATIN_WORD)
                starts.append(index)
                ends.append(index)
            previous_kind = kind
            out.append(piece)
            starts.append(index)
            ends.append(index + 1)
    return FoldedText(text, "".join(out), tuple(starts), tuple(ends))


def fold(text: str) -> str:
    """Only the folded text (for patterns, negators and other short strings)."""
    return fold_text(text).text


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def is_cjk_char(char: str) -> bool:
    return _CJK_RE.match(char) is not None


def is_latin_word_char(char: str) -> bool:
    """A letter or digit that is not CJK: such a pattern edge needs a word boundary."""
    return bool(char) and (char.isalnum() or char == "_") and not is_cjk_char(char)
