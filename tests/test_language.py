"""Language detection: script first, then py3langid restricted to the seller's languages."""

from __future__ import annotations

import pytest

from classifiers.language import LanguageDetector, detect_language

SEVEN = ["en", "de", "fr", "es", "it", "ja", "zh"]


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(SEVEN)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hi, where is my parcel? It has not arrived yet and the tracking has not moved.", "en"),
        ("Hallo, wo bleibt meine Bestellung? Das Paket ist immer noch nicht angekommen.", "de"),
        ("Bonjour, je n'ai toujours pas reçu ma commande, pouvez-vous vérifier le suivi ?", "fr"),
        ("Hola, todavía no he recibido mi pedido. ¿Pueden revisar el seguimiento?", "es"),
        ("Buongiorno, non ho ancora ricevuto il mio ordine. Potete controllare la spedizione?", "it"),
        ("注文した商品がまだ届いていません。確認していただけますか。", "ja"),
        ("我的订单还没有到，请帮我查一下物流。", "zh"),
        ("WHERE IS MY ORDER I PAID TWO WEEKS AGO", "en"),
    ],
)
def test_buyer_messages_in_the_seven_languages(detector: LanguageDetector, text: str, language: str) -> None:
    assert detector.detect(text) == language


def test_kana_means_japanese_even_with_a_latin_product_name(detector: LanguageDetector) -> None:
    assert detector.detect("Anker PowerCore 10000 が届きません") == "ja"


def test_a_japanese_word_inside_english_text_stays_english(detector: LanguageDetector) -> None:
    assert detector.detect("The ramen bowl (ラーメン) arrived cracked, I would like a replacement please.") == "en"


def test_han_without_kana_is_japanese_when_chinese_is_not_allowed() -> None:
    assert LanguageDetector(["en", "ja"]).detect("商品破損") == "ja"


def test_hangul_is_korean_only_when_allowed() -> None:
    assert LanguageDetector(["en", "ko"]).detect("주문한 상품이 아직 도착하지 않았습니다") == "ko"
    assert LanguageDetector(["en", "ja"]).detect("주문한 상품이 아직 도착하지 않았습니다") is None


@pytest.mark.parametrize("text", ["", "ok", "?!", ":)", "12345", "   "])
def test_too_short_to_tell_is_none(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) is None


def test_only_allowed_languages_are_answered() -> None:
    detector = LanguageDetector(["en", "de"])
    assert detector.detect("Bonjour, je n'ai toujours pas reçu ma commande, merci de vérifier.") in {"en", "de", None}


def test_a_single_latin_language_needs_no_model() -> None:
    assert LanguageDetector(["it", "ja"]).detect("where is my parcel") == "it"


def test_detect_language_works_with_or_without_a_kept_detector(detector: LanguageDetector) -> None:
    assert detect_language("Wo ist mein Paket? Es ist nicht angekommen.", SEVEN, detector) == "de"
    assert detect_language("注文をキャンセルしたいです", ["en", "ja"]) == "ja"
