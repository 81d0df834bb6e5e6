"""Amazon buyer-seller relay mail: the relay facts, and only the buyer's words as new text."""

from __future__ import annotations

import pytest

from daemon.htmltext import html_to_text
from daemon.relay import extract_buyer_text, find_order_id, parse_relay, strip_relay_boilerplate

BOILERPLATE_WORDS = ("ASIN", "Replacement glass cover", "refund guaranteed", "For Your Information", "Was this email helpful", "commMgrTok")


def relay_body(begin: str, end: str, buyer: str, dashes: int = 13) -> str:
    line = "-" * dashes
    return (
        "Order ID: 112-1234567-7654321\n"
        "1 of Replacement glass cover, refund guaranteed [ASIN: B0ABCDE123]\n\n"
        f"{line} {begin} {line}\n\n{buyer}\n\n{line} {end} {line}\n\n"
        "For Your Information: To help arbitrate disputes we retain all messages. Cancellation, refund.\n\n"
        "Was this email helpful?\n[commMgrTok:A2B3C4D5E6F7G8H9]\n"
    )


@pytest.mark.parametrize(
    "domain, marketplace",
    [
        ("marketplace.amazon.com", "amazon.com"),
        ("marketplace.amazon.ca", "amazon.ca"),
        ("marketplace.amazon.com.mx", "amazon.com.mx"),
        ("marketplace.amazon.com.br", "amazon.com.br"),
        ("marketplace.amazon.co.uk", "amazon.co.uk"),
        ("marketplace.amazon.de", "amazon.de"),
        ("marketplace.amazon.fr", "amazon.fr"),
        ("marketplace.amazon.it", "amazon.it"),
        ("marketplace.amazon.es", "amazon.es"),
        ("marketplace.amazon.nl", "amazon.nl"),
        ("marketplace.amazon.se", "amazon.se"),
        ("marketplace.amazon.pl", "amazon.pl"),
        ("marketplace.amazon.com.tr", "amazon.com.tr"),
        ("marketplace.amazon.co.jp", "amazon.co.jp"),
        ("marketplace.amazon.com.au", "amazon.com.au"),
        ("marketplace.amazon.in", "amazon.in"),
        ("marketplace.amazon.sg", "amazon.sg"),
        ("marketplace.amazon.ae", "amazon.ae"),
        ("marketplace.amazon.sa", "amazon.sa"),
        ("marketplace.amazon.eg", "amazon.eg"),
        ("marketplace.amazon.com.be", "amazon.com.be"),
        ("MARKETPLACE.Amazon.DE", "amazon.de"),
    ],
)
def test_every_amazon_marketplace_relay_address_is_recognised(domain, marketplace):
    relay = parse_relay(f"abc123@{domain}", "Jane Doe - Amazon Marketplace", "Inquiry", "")
    assert relay is not None
    assert relay.marketplace == marketplace
    assert relay.buyer_name == "Jane Doe"


@pytest.mark.parametrize(
    "address",
    ["jane@example.com", "seller-notification@amazon.com", "abc@marketplace.amazon.com.evil.example", "abc@notmarketplace.amazon.de", ""],
)
def test_mail_that_did_not_come_through_the_relay_has_no_relay_facts(address):
    assert parse_relay(address, "Jane - Amazon Marketplace", "Inquiry (Order: 112-1234567-7654321)", "") is None


@pytest.mark.parametrize(
    "display_name",
    ["Jane Doe - Amazon Marketplace", "Jane Doe - Amazon", "Jane Doe - Marketplace Amazon", "Jane Doe – Amazon Marketplace", '"Jane Doe" - Amazon Marketplace', "Jane Doe"],
)
def test_buyer_name_drops_amazons_suffix(display_name):
    assert parse_relay("x@marketplace.amazon.com", display_name, "", "").buyer_name == "Jane Doe"


@pytest.mark.parametrize(
    "subject, name",
    [
        ("Inquiry from Amazon customer Jane Doe (Order: 112-1234567-7654321)", "Jane Doe"),
        ("Anfrage von Amazon-Kunde Max Mustermann (Bestellung: 302-7654321-1234567)", "Max Mustermann"),
        ("Consulta del cliente de Amazon Lucía Pérez (Pedido: 403-5555555-6666666)", "Lucía Pérez"),
        ("Richiesta dal cliente Amazon Luca Bianchi (Ordine: 405-3333333-4444444)", "Luca Bianchi"),
        ("Demande de renseignements de la part du client Amazon Céline Dubois (Commande : 171-1111111-2222222)", "Céline Dubois"),
    ],
)
def test_buyer_name_comes_from_the_subject_when_the_display_name_is_only_amazon(subject, name):
    assert parse_relay("x@marketplace.amazon.com", "Amazon Marketplace", subject, "").buyer_name == name


def test_relay_facts_carry_order_id_and_thread_token():
    relay = parse_relay("x@marketplace.amazon.com", "Jane - Amazon Marketplace", "Your message", relay_body("Begin message", "End message", "Hi"))
    assert relay.order_id == "112-1234567-7654321"
    assert relay.comm_token == "[commMgrTok:A2B3C4D5E6F7G8H9]"


def test_relay_without_a_token_has_an_empty_token():
    assert parse_relay("x@marketplace.amazon.de", "Max", "Frage", "Hallo").comm_token == ""


def test_order_id_prefers_the_subject_and_ignores_longer_digit_runs():
    assert find_order_id("Order 111-2223334-4445556", "body 999-9999999-9999999") == "111-2223334-4445556"
    assert find_order_id("no order here", "ref 1111-2223334-44455567 and 302-1234567-1234567.") == "302-1234567-1234567"
    assert find_order_id("", "") == ""


@pytest.mark.parametrize(
    "begin, end, buyer",
    [
        ("Begin message", "End message", "Where is my parcel? It should have arrived on Monday."),
        ("Anfang der Nachricht", "Ende der Nachricht", "Wo bleibt mein Paket? Es sollte am Montag ankommen."),
        ("Début du message", "Fin du message", "Où est mon colis ? Il devait arriver lundi."),
        ("Inizio messaggio", "Fine messaggio", "Dov'è il mio pacco? Doveva arrivare lunedì."),
        ("Iniciar mensaje", "Finalizar mensaje", "¿Dónde está mi paquete? Debía llegar el lunes."),
        ("メッセージはここから", "メッセージはここまで", "荷物はどこですか？月曜日に届く予定でした。"),
        ("Begin bericht", "Einde bericht", "Waar is mijn pakket?"),
        ("Początek wiadomości", "Koniec wiadomości", "Gdzie jest moja paczka?"),
        ("Meddelandets början", "Meddelandets slut", "Var är mitt paket?"),
    ],
)
def test_buyer_text_is_what_sits_between_the_localised_markers(begin, end, buyer):
    text = extract_buyer_text(relay_body(begin, end, buyer))
    assert text == buyer
    for word in BOILERPLATE_WORDS:
        assert word not in text


@pytest.mark.parametrize("dashes", [3, 5, 13, 30])
def test_markers_with_any_number_of_dashes_and_spaces_are_found(dashes):
    body = relay_body("Begin message", "End message", "Please cancel my order.", dashes=dashes).replace("\n-", "\n   -")
    assert extract_buyer_text(body) == "Please cancel my order."


def test_crlf_line_endings_are_tolerated():
    body = relay_body("Begin message", "End message", "Line one.\nLine two.").replace("\n", "\r\n")
    assert extract_buyer_text(body) == "Line one.\nLine two."


def test_marker_phrases_are_matched_regardless_of_case():
    assert extract_buyer_text(relay_body("BEGIN MESSAGE", "END MESSAGE", "Hello")) == "Hello"


def test_buyer_text_in_an_html_relay_mail_is_found_after_conversion():
    html = (
        "<table><tr><td>Order ID: 112-1234567-7654321</td></tr><tr><td>Product: Replacement glass cover [ASIN: B0ABCDE123]</td></tr></table>"
        "<p>------------- Begin message -------------</p><p>Hello,<br>the parcel is damaged.</p>"
        "<p>------------- End message -------------</p><p>Was this email helpful?</p>"
    )
    assert extract_buyer_text(html_to_text(html)) == "Hello,\nthe parcel is damaged."


def test_missing_end_marker_takes_the_text_up_to_amazons_footer():
    body = relay_body("Begin message", "End message", "The item is broken.\nI want a refund.").replace("------------- End message -------------", "")
    text = extract_buyer_text(body)
    assert text == "The item is broken.\nI want a refund."


@pytest.mark.parametrize("footer", ["Para tu información: conservamos todos los mensajes.", "Zu Ihrer Information: wir speichern.", "Copyright 2024 Amazon", "[commMgrTok:XYZ]"])
def test_missing_end_marker_stops_at_localised_footers(footer):
    body = f"------------- Begin message -------------\n\nWhere is it?\n\n{footer}\nmore boilerplate\n"
    assert extract_buyer_text(body) == "Where is it?"


def test_missing_begin_marker_starts_after_the_order_details():
    body = (
        "Order ID: 112-1234567-7654321\n1 of Lamp [ASIN: B0ABCDE123]\n\nPlease send it to my office instead.\n\n"
        "------------- End message -------------\nWas this email helpful?\n"
    )
    assert extract_buyer_text(body) == "Please send it to my office instead."


def test_long_dash_markers_in_an_unknown_language_still_frame_the_buyer_text():
    body = "Sipariş: 112-1234567-7654321\n\n------------- Bilinmeyen başlangıç -------------\nMerhaba, paketim nerede?\n------------- Bilinmeyen son -------------\nAlt bilgi\n"
    assert extract_buyer_text(body) == "Merhaba, paketim nerede?"


def test_outlook_original_message_separators_are_not_taken_for_markers():
    assert extract_buyer_text("Hello\n-----Original Message-----\nFrom: x\n") is None


def test_a_body_without_markers_has_no_buyer_text():
    assert extract_buyer_text("Hello, where is my order?") is None
    assert extract_buyer_text("") is None


def test_an_empty_message_between_markers_is_empty_text():
    assert extract_buyer_text(relay_body("Begin message", "End message", "")) == ""


def test_relay_mail_without_markers_loses_order_details_and_footer():
    body = (
        "Order ID: 112-1234567-7654321\nASIN: B0ABCDE123\nQuantity: 1\n\nI would like to return this item.\n\n"
        "Was this email helpful?\nCopyright 2024 Amazon\n[commMgrTok:A2B3]\n"
    )
    assert strip_relay_boilerplate(body) == "I would like to return this item."


def test_buyer_lines_that_merely_mention_quantities_survive_boilerplate_stripping():
    body = "2 de los 3 artículos llegaron rotos.\nOrder ID: 112-1234567-7654321\n"
    assert strip_relay_boilerplate(body) == "2 de los 3 artículos llegaron rotos."
