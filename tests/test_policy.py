"""The Amazon messaging-policy linter: each rule caught in several languages, shipped templates clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.policy import check_text, lint_template, lint_templates

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

BREAKS = [
    ("no-links", "Track it at https://track.example.com/123"),
    ("no-links", "Besuchen Sie www.northwind.de"),
    ("no-links", "Voir northwind-home.fr pour plus"),
    ("no-email-addresses", "Write to help@northwind-home.example"),
    ("no-email-addresses", "メールは shop@example.co.jp まで"),
    ("no-phone-numbers", "Call us on +44 20 7946 0958"),
    ("no-phone-numbers", "Telefon: 030 1234567"),
    ("no-phone-numbers", "电话：010-12345678"),
    ("no-marketing", "Use code SPRING for a 10% discount on your next order"),
    ("no-marketing", "Mit dem Gutschein sparen Sie"),
    ("no-marketing", "Profitez de notre code promo"),
    ("no-marketing", "次回使える割引クーポンです"),
    ("no-marketing", "送您一张优惠券"),
    ("no-review-requests", "Please leave us a 5-star review"),
    ("no-review-requests", "Wir freuen uns über eine positive Bewertung"),
    ("no-review-requests", "Un avis positif nous aiderait"),
    ("no-review-requests", "¿Nos deja una reseña positiva?"),
    ("no-review-requests", "Una recensione positiva ci aiuta"),
    ("no-review-requests", "高評価をお願いします"),
    ("no-review-requests", "麻烦给个好评"),
    ("no-review-requests", "We will send a free gift for your review"),
    ("no-review-changes", "Could you please update your review?"),
    ("no-review-changes", "Könnten Sie die Bewertung löschen"),
    ("no-review-changes", "Pourriez-vous modifier votre avis"),
    ("no-review-changes", "¿Podría eliminar su reseña?"),
    ("no-review-changes", "Potrebbe rimuovere la recensione?"),
    ("no-review-changes", "レビューを削除していただけますか"),
    ("no-review-changes", "请删除您的差评"),
]


@pytest.mark.parametrize("rule, text", BREAKS)
def test_each_rule_is_caught(rule, text):
    assert rule in {v.rule for v in check_text(text)}


@pytest.mark.parametrize("text", [
    "We are sorry: we will send a replacement or refund you in full.",
    "Your order 123-1234567-1234567 left our warehouse today.",
    "Bitte senden Sie uns ein Foto des Schadens.",
    "ご注文番号 249-1234567-1234567 について",
])
def test_ordinary_service_text_passes(text):
    assert check_text(text) == []


def test_a_cancellation_reply_must_name_request_cancellation(tmp_path):
    (tmp_path / "en").mkdir()
    bad = tmp_path / "en" / "cancellation.txt.j2"
    bad.write_text("Hello {{ customer_name }},\nWe have cancelled it.\n")
    assert [v.rule for v in lint_template(bad)] == ["cancellation-via-order-page"]


def test_violations_name_file_and_line(tmp_path):
    (tmp_path / "de").mkdir()
    template = tmp_path / "de" / "other.txt.j2"
    template.write_text("Hallo {{ customer_name }},\n\nRufen Sie uns an: +49 30 1234 5678\n{{ signature }}\n")
    (violation,) = lint_template(template)
    assert violation.line == 3 and str(template) in str(violation) and violation.rule == "no-phone-numbers"


def test_jinja_code_is_not_mistaken_for_text(tmp_path):
    (tmp_path / "en").mkdir()
    template = tmp_path / "en" / "logistics.txt.j2"
    template.write_text("{% if tracking_number %}Tracking: {{ tracking_number }}{% endif %}\n")
    assert lint_template(template) == []


def test_the_shipped_templates_pass():
    assert [str(v) for v in lint_templates(TEMPLATES)] == []


def test_tracking_data_and_dates_are_not_phone_numbers():
    text = "Your parcel travels with USPS, tracking 9400111899223100000000, expected on 2026-03-05 (order 111-0000001-0000001)."
    assert check_text(text) == []


def test_values_from_the_order_are_allowed_even_when_they_look_like_phones():
    assert [v.rule for v in check_text("Tracking: 1234 5678 9012")] == ["no-phone-numbers"]
    assert check_text("Tracking: 1234 5678 9012", allowed=("1234 5678 9012",)) == []
