"""Which language a buyer wrote in, among the languages the seller answers in.

The script decides first (kana means Japanese, Hangul Korean, Han alone Chinese): it is certain
where a statistical model on a short message is not. Latin-script text goes to py3langid,
restricted to the allowed languages so it cannot answer with one the seller has no templates for.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

CJK_LANGUAGES = ("ja", "zh", "ko")
MIN_LETTERS = 3
"""Fewer letters than this (`ok`, `?`, `:)`) say nothing about a language."""
SAMPLE_CHARS = 4000
"""The language is clear long before this; a hostile megabyte must not cost seconds."""
MIN_PROBABILITY = 0.4
"""Below this the model is guessing (`hello` is 30% Italian among five languages): say None."""
CJK_LETTER_WEIGHT = 3
"""One CJK character carries about as much as three Latin letters; `Anker PowerCore が届きません`
is Japanese although it has more Latin letters than kana."""

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_LETTER = re.compile(r"[^\W\d_]")


class LanguageDetector:
    """Detects languages among `allowed`; loads the py3langid model on first need (about 1.5 s),
    so build one and pass it around rather than one per message."""

    def __init__(self, allowed: Sequence[str]) -> None:
        self.allowed: tuple[str, ...] = tuple(dict.fromkeys(code.strip().lower() for code in allowed if code.strip()))
        self._identifier: Any = None
        self._model_languages: tuple[str, ...] | None = None

    def detect(self, text: str) -> str | None:
        """The language of `text`, or None when it is too short or in no allowed language."""
        text = (text or "")[:SAMPLE_CHARS]
        letters = _LETTER.findall(text)
        if len(letters) < MIN_LETTERS:
            return None
        by_script = self._by_script(text, len(letters))
        if by_script is not None:
            return by_script or None
        candidates = [code for code in self.allowed if code not in CJK_LANGUAGES]
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        return self._by_model(text)

    def _by_script(self, text: str, letters: int) -> str | None:
        """A CJK language when CJK characters dominate; "" when they do but none is allowed;
        None when the text is Latin (or other) script and the model should decide."""
        kana = len(_KANA.findall(text))
        han = len(_HAN.findall(text))
        hangul = len(_HANGUL.findall(text))
        cjk = kana + han + hangul
        if not cjk or cjk * CJK_LETTER_WEIGHT < letters - cjk:
            return None
        if hangul >= kana + han:
            return "ko" if "ko" in self.allowed else ""
        if kana:
            return "ja" if "ja" in self.allowed else ("zh" if "zh" in self.allowed and han > kana else "")
        if "zh" in self.allowed:
            return "zh"
        return "ja" if "ja" in self.allowed else ""  # Han alone: a Japanese buyer writing in kanji

    def _by_model(self, text: str) -> str | None:
        identifier = self._load()
        if identifier is None:
            return None
        # Shouting ("WHERE IS MY ORDER") reads as noise to the model; accents it needs, so no fold.
        sample = text.lower() if text.isupper() else text
        language, probability = identifier.classify(sample)
        if probability < MIN_PROBABILITY:
            log.debug("language unsure: %s at %.2f for %r", language, probability, text[:40])
            return None
        return str(language)

    def _load(self) -> Any:
        if self._model_languages is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier  # heavy: loaded on first use

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            known = set(identifier.labels)
            wanted = tuple(code for code in self.allowed if code not in CJK_LANGUAGES and code in known)
            unknown = [code for code in self.allowed if code not in known]
            if unknown:
                log.warning("language detection cannot recognise %s", ", ".join(unknown))
            self._model_languages = wanted
            if wanted:
                identifier.set_languages(list(wanted))
                self._identifier = identifier
        return self._identifier


def detect_language(text: str, allowed: Sequence[str], detector: LanguageDetector | None = None) -> str | None:
    """One-off detection. Pass a detector you keep to avoid loading the model for every call."""
    return (detector or LanguageDetector(allowed)).detect(text)
