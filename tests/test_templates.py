"""The reply template catalogue: sixteen replies in each of the seven buyer languages.

A buyer reads these, and Amazon reads them too: every template must render for every context
the reply planner builds (optional facts are present but empty), read cleanly from its
greeting to its signature, keep to Amazon's messaging rules in every branch, and follow the
seller playbooks (photos only when they help and none came, the Request-cancellation button by
its real name on each marketplace, the tracking number when we have one).
"""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path

import jinja2
import jinja2.meta
import pytest

from daemon.models import LABELS
from daemon.policy import check_text, lint_templates

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("en", "de", "fr", "es", "it", "ja", "zh")
NAMES = (
    "address_change", "address_change_unshipped", "address_change_shipped_reship", "address_change_shipped_decline",
    "cancellation", "cancellation_unshipped", "cancellation_shipped", "cancellation_fba",
    "logistics", "logistics_tracking", "logistics_fba",
    "dissatisfaction", "review_complaint", "other",
    "followup_check_arrived", "followup_satisfaction",
)
CASES = [(language, name) for language in LANGUAGES for name in NAMES]

CONTEXT_NAMES = frozenset({
    "customer_name", "order_id", "subject", "seller_name", "signature", "label", "photos_received", "marketplace",
    "is_amazon", "product_name", "sku", "order_status", "channel", "carrier", "tracking_number", "expected_date", "reason",
})
REASONS = ("", "damaged", "defective", "wrong_item", "wrong_size_colour", "missing_part", "late", "other")
PHOTO_REASONS = frozenset({"", "damaged", "defective", "wrong_item", "wrong_size_colour", "missing_part"})
"""Where a photo helps; a late parcel or an unnamed complaint is not photographed."""

ORDER_ID = "302-5518274-9931046"
SELLER = "Northwind Home Goods"
SIGNATURE = "Anna\nNorthwind Home Goods"

GREETING = {
    "en": ("Hello {},", "Hello,"),
    "de": ("Hallo {},", "Guten Tag,"),
    "fr": ("Bonjour {},", "Bonjour,"),
    "es": ("Hola, {}:", "Hola:"),
    "it": ("Gentile {},", "Gentile cliente,"),
    "ja": ("{} 様", "お客様"),
    "zh": ("{}，您好！", "您好！"),
}
CLOSING = {
    "en": "Best wishes,", "de": "Viele Grüße", "fr": "Bien cordialement,", "es": "Un cordial saludo,",
    "it": "Cordiali saluti,", "ja": "何卒よろしくお願いいたします。", "zh": "祝好！",
}
REQUEST_CANCELLATION = {
    "en": ('"Request cancellation"', "Your Orders"),
    "de": ("„Stornierung anfordern“", "„Meine Bestellungen“"),
    "fr": ("« Demander l'annulation »", "« Vos commandes »"),
    "es": ("«Solicitar cancelación»", "«Mis pedidos»"),
    "it": ('"Richiedi cancellazione"', '"I miei ordini"'),
    "ja": ("「キャンセルをリクエスト」", "「注文履歴」"),
    "zh": ("“请求取消”", "“我的订单”"),
}
PHOTO = {"en": "photo", "de": "Foto", "fr": "photo", "es": "foto", "it": "foto", "ja": "写真", "zh": "照片"}
THANKS = {"en": "Thank you", "de": "Dank", "fr": "Merci", "es": "Gracias", "it": "Grazie", "ja": "ありがとう", "zh": "感谢"}
APOLOGY = {"en": r"\bsorry\b", "de": r"\bleid\b", "fr": r"\bdésolés\b", "es": r"\bsentimos\b", "it": r"\bdispiace\b", "ja": "申し訳", "zh": "歉"}
REFUND = {"en": r"\brefund", "de": r"erstatt", "fr": r"\brembours", "es": r"\breembols", "it": r"\brimbors", "ja": "返金", "zh": "退款"}
REPLACEMENT = {"en": r"\breplacement\b", "de": r"\bErsatz", "fr": r"\bremplacement\b", "es": r"\bsustitución\b", "it": r"\bsostitutiv", "ja": "代替品", "zh": "换货|补发|重新寄"}
RETURN = {"en": r"\breturn", "de": r"zurücksend|Rücksendung", "fr": r"\bretour", "es": r"\bdevol", "it": r"\breso\b|\brestitu", "ja": "返品", "zh": "退货"}
REVIEW_WORDS = {
    "en": r"\b(?:reviews?|feedback|ratings?|rate|stars?)\b",
    "de": r"\b(?:Bewertung\w*|Rezension\w*|Sterne)\b",
    "fr": r"\b(?:avis|évaluation\w*|commentaires?|étoiles?)\b",
    "es": r"\b(?:reseñas?|opinión|opiniones|valoración\w*|estrellas?)\b",
    "it": r"\b(?:recension\w+|valutazion\w+|stelle|feedback)\b",
    "ja": r"レビュー|評価|星",
    "zh": r"评价|評價|评论|好评|差评|星",
}
"""A reply never mentions the buyer's review: not to ask for one, not to discuss one."""


@functools.cache
def environments() -> tuple[jinja2.Environment, jinja2.Environment]:
    """The daemon's environment, and a bare one: a template must not lean on trim_blocks to look tidy,
    so a seller who edits it sees in the file what the buyer will read."""
    loader = jinja2.FileSystemLoader(str(TEMPLATES))
    return (
        jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True),
        jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined),
    )


ORDER_FACTS = (
    {"order_status": "", "channel": ""},
    {"order_status": "unshipped", "channel": "FBM"},
    {"order_status": "unshipped", "channel": "FBA"},
    {"order_status": "shipped", "channel": "FBM", "carrier": "UPS", "tracking_number": "1Z999AA10123456784", "expected_date": "2026-03-05"},
    {"order_status": "shipped", "channel": "FBM", "tracking_number": "9400111899223100000000"},
    {"order_status": "shipped", "channel": "FBM"},
    {"order_status": "shipped", "channel": "FBA"},
    {"order_status": "cancelled", "channel": "FBA"},
    {"order_status": "cancelled", "channel": "FBM"},
)


def contexts(name: str) -> list[dict[str, object]]:
    """Every combination that changes what a template says. The reason only matters to
    dissatisfaction; the product is known with the order; signed and unsigned replies alternate."""
    reasons = REASONS if name == "dissatisfaction" else ("",)
    grid = itertools.product(("Ann Lee", ""), (ORDER_ID, ""), (True, False), (True, False), ORDER_FACTS, reasons)
    return [
        {
            "customer_name": customer, "order_id": order_id, "subject": "Re: your order", "seller_name": SELLER,
            "signature": SIGNATURE if amazon != photos else "", "label": label_of(name), "photos_received": photos,
            "marketplace": "amazon.de" if amazon else "", "is_amazon": amazon,
            "product_name": "Chef Knife Set, 8 pieces" if order_id else "", "sku": "KNIFE-8" if order_id else "",
            "carrier": "", "tracking_number": "", "expected_date": "", **facts, "reason": reason,
        }
        for customer, order_id, amazon, photos, facts, reason in grid
    ]


def label_of(name: str) -> str:
    return next((label for label in LABELS if name.startswith(label)), "logistics")


@functools.cache
def renders(language: str, name: str) -> tuple[tuple[dict[str, object], str], ...]:
    template = environments()[0].get_template(f"{language}/{name}.txt.j2")
    return tuple((context, template.render(**context)) for context in contexts(name))


def path_of(language: str, name: str) -> Path:
    return TEMPLATES / language / f"{name}.txt.j2"


def test_every_language_has_the_same_sixteen_templates():
    for language in LANGUAGES:
        assert sorted(path.name.removesuffix(".txt.j2") for path in (TEMPLATES / language).glob("*.txt.j2")) == sorted(NAMES), language


def test_the_shipped_catalogue_passes_the_amazon_policy_lint():
    assert [str(violation) for violation in lint_templates(TEMPLATES)] == []


@pytest.mark.parametrize("language, name", CASES)
def test_template_uses_only_the_context_names_the_planner_provides(language, name):
    source = path_of(language, name).read_text(encoding="utf-8")
    assert jinja2.meta.find_undeclared_variables(environments()[0].parse(source)) <= CONTEXT_NAMES
    assert not re.match(r"(?i)\s*(subject|betreff|objet|asunto|oggetto|件名|主题)\s*[:：]", source), "a template is the body only"


@pytest.mark.parametrize("language, name", CASES)
def test_template_renders_a_tidy_body_for_every_context(language, name):
    with_name, without_name = GREETING[language]
    bare = environments()[1].get_template(f"{language}/{name}.txt.j2")
    for context, body in renders(language, name):
        lines = body.splitlines()
        assert lines[0] == (with_name.format(context["customer_name"]) if context["customer_name"] else without_name), body
        assert lines[1] == "" and lines[2].strip(), "one blank line between the greeting and the text"
        assert "{{" not in body and "}}" not in body and "{%" not in body and "%}" not in body
        assert "\n\n\n" not in body and not body.endswith("\n")
        assert all(line == line.rstrip() for line in lines), "no trailing spaces"
        assert body.endswith("\n" + str(context["signature"] or context["seller_name"]))
        closing_line = len(lines) - 1 - str(context["signature"] or context["seller_name"]).count("\n") - 1
        assert lines[closing_line] == CLOSING[language]
        assert (ORDER_ID in body) == bool(context["order_id"]), "the order number appears exactly when we know it"
        assert not re.search(r"[(（]\s*[)）]|“”|„“|«\s*»|「」|\s[.,](?:\s|$)", body), "no empty brackets or dangling punctuation"
        assert bare.render(**context) == body, "whitespace must not depend on trim_blocks/lstrip_blocks"


def report_values(context: dict[str, object]) -> list[str]:
    return [str(context[key]) for key in ("tracking_number", "expected_date") if context[key]]


@pytest.mark.parametrize("language, name", CASES)
def test_every_rendered_reply_keeps_to_amazons_messaging_rules(language, name):
    """The tracking number and date come from the order report, not from the template: the policy's
    phone-number rule reads a long numeric tracking number or an ISO date as a phone number, so they
    are blanked here the way the policy blanks order numbers."""
    distinct = set()
    for context, body in renders(language, name):
        for value in report_values(context):
            body = body.replace(value, " ")
        distinct.add(body)
    for body in sorted(distinct):
        assert [str(violation) for violation in check_text(body, name)] == [], body


@pytest.mark.parametrize("language, name", CASES)
def test_no_reply_mentions_reviews(language, name):
    pattern = re.compile(REVIEW_WORDS[language], re.IGNORECASE)
    for _, body in renders(language, name):
        assert not pattern.search(body), body


@pytest.mark.parametrize("language", LANGUAGES)
def test_dissatisfaction_asks_for_photos_only_when_they_help_and_none_came(language):
    photo = PHOTO[language].lower()
    for context, body in renders(language, "dissatisfaction"):
        mentions = [line for line in body.splitlines() if photo in line.lower()]
        if context["photos_received"]:
            assert mentions and all(THANKS[language].lower() in line.lower() for line in mentions), body
        else:
            assert bool(mentions) == (context["reason"] in PHOTO_REASONS), (context["reason"], body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_dissatisfaction_apologises_names_the_product_and_offers_refund_replacement_or_return(language):
    for context, body in renders(language, "dissatisfaction"):
        for words in (APOLOGY, REFUND, REPLACEMENT, RETURN):
            assert re.search(words[language], body, re.IGNORECASE), (words[language], body)
        if context["product_name"]:
            assert str(context["product_name"]) in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_dissatisfaction_says_something_different_for_each_reason(language):
    opening = {}
    for context, body in renders(language, "dissatisfaction"):
        if context["customer_name"] and context["order_id"] and context["product_name"] and not context["photos_received"]:
            opening.setdefault(context["reason"], body.splitlines()[2])
    assert len(set(opening.values())) == len(REASONS) - 1, "every named reason has its own apology; '' and 'other' share one"


@pytest.mark.parametrize("language", LANGUAGES)
def test_review_complaint_apologises_and_offers_a_refund_or_a_replacement(language):
    for _, body in renders(language, "review_complaint"):
        assert all(re.search(words[language], body, re.IGNORECASE) for words in (APOLOGY, REFUND, REPLACEMENT)), body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["cancellation", "cancellation_unshipped", "address_change_unshipped"])
def test_amazon_buyers_are_sent_to_request_cancellation_in_your_orders(language, name):
    button, orders = REQUEST_CANCELLATION[language]
    for context, body in renders(language, name):
        if context["is_amazon"]:
            assert button in body and orders in body, body
        elif name != "address_change_unshipped" or context["channel"] != "FBA":
            assert button not in body, "a buyer outside Amazon has no such button"


@pytest.mark.parametrize("language", LANGUAGES)
def test_fba_cancellation_sends_the_buyer_to_amazon_and_names_the_button_until_it_ships(language):
    button, orders = REQUEST_CANCELLATION[language]
    for context, body in renders(language, "cancellation_fba"):
        assert orders in body or context["order_status"] == "cancelled"
        assert (button in body) == (context["order_status"] not in {"shipped", "cancelled"}), body


@pytest.mark.parametrize("language", LANGUAGES)
def test_logistics_tracking_gives_the_carrier_tracking_number_and_expected_date(language):
    for context, body in renders(language, "logistics_tracking"):
        for key in ("carrier", "tracking_number", "expected_date"):
            if context[key]:
                assert str(context[key]) in body, (key, body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_other_promises_a_personal_answer_within_24_hours(language):
    assert all("24" in body for _, body in renders(language, "other"))


def test_japanese_templates_use_no_half_width_katakana():
    for path in sorted((TEMPLATES / "ja").glob("*.txt.j2")):
        text = path.read_text(encoding="utf-8")
        assert not re.search("[\uff61-\uff9f]", text), f"{path.name}: half-width katakana or punctuation"


@pytest.mark.parametrize("language", ["ja", "zh"])
def test_cjk_templates_use_full_width_punctuation_in_their_own_text(language):
    for path in sorted((TEMPLATES / language).glob("*.txt.j2")):
        text = jinja2_free(path.read_text(encoding="utf-8"))
        assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff][,.:;!?()]|[,.:;!?(][\u3040-\u30ff\u4e00-\u9fff]", text), path.name


def jinja2_free(source: str) -> str:
    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", source, flags=re.DOTALL)
