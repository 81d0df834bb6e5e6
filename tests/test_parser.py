"""Raw mail -> Message: real MIME fixtures in tests/mail/, hostile ones included."""

from __future__ import annotations

import base64
import hashlib
import os
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.models import Attachment, Message
from daemon.parser import clean_text, parse_message

MAIL = Path(__file__).parent / "mail"
FIXTURES = sorted(MAIL.glob("*.eml"))


def load(name: str) -> bytes:
    return (MAIL / name).read_bytes()


def parse(name: str) -> Message:
    return parse_message(load(name))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def mail(headers: str, body: bytes) -> bytes:
    """A small raw message for cases not worth a fixture file."""
    return headers.replace("\n", "\r\n").encode("ascii") + b"\r\n" + body


# -- well-formed mail -----------------------------------------------------------------------------


def test_multipart_alternative_fills_every_field_from_the_plain_part():
    raw = load("alternative_en.eml")
    message = parse_message(raw)
    assert message.key == message.message_id == "<CAF=emily.1@mail.example.com>"
    assert message.from_name == "Emily Carter"
    assert message.from_address == "emily.carter@example.com"
    assert message.to == ("support@shop.example", "orders@shop.example")
    assert message.reply_to == "emily.private@example.net"
    assert message.subject == "Where is my parcel? Order 111-2223334-4445556"
    assert message.date == utc(2024, 5, 14, 7, 30)
    assert message.date.tzinfo is not None
    assert message.in_reply_to == "<reply-1@shop.example>"
    assert message.references == ("<order-1@shop.example>", "<reply-1@shop.example>")
    assert message.order_id == "111-2223334-4445556"
    assert message.body.startswith("Hello,\n\nI ordered a desk lamp two weeks ago")
    assert "<p>" not in message.body
    assert message.new_text.endswith("Could you tell me when it will arrive?\n\nThanks,")
    assert message.signature == "Emily"
    assert message.relay is None
    assert message.attachments == ()
    assert message.defects == ()
    assert message.unreadable is False
    assert message.size == len(raw)
    assert message.header("x-mailer") == "Example Mail 1.0"


def test_html_only_mail_becomes_text_without_its_quoted_history():
    message = parse("html_only_fr.eml")
    assert message.subject == "Colis arrivé cassé"
    assert message.from_name == "Élodie Martin"
    assert "Le colis est arrivé cassé : la lampe est fendue" in message.body
    assert "tracking pixel" not in message.body
    assert "ignored" not in message.body
    assert "Je voudrais un remboursement ou un échange" in message.new_text
    assert "Merci pour votre commande" not in message.new_text
    assert "Merci pour votre commande" in message.quoted
    assert message.signature == "Élodie Martin"


def test_base64_body_and_encoded_words_in_two_charsets_decode():
    message = parse("base64_de.eml")
    assert message.from_name == "Jürgen Müller"
    assert message.from_address == "juergen.mueller@example.de"
    assert message.subject == "Rücksendung für meine Bestellung"
    assert "die Kaffeemühle ist defekt" in message.new_text
    assert message.new_text.endswith("Mit freundlichen Grüßen")
    assert message.signature == "Jürgen Müller\nGoethestraße 5"


def test_quoted_printable_latin1_body_decodes_and_loses_the_device_line():
    message = parse("qp_es.eml")
    assert message.subject == "Cancelación del pedido"
    assert message.from_name == "José García"
    assert "¿Me pueden confirmar la cancelación?" in message.new_text
    assert "iPhone" not in message.new_text
    assert message.signature == "Enviado desde mi iPhone"


def test_iso_2022_jp_subject_sender_and_body_decode_to_japanese():
    message = parse("iso2022jp.eml")
    assert message.subject == "商品がまだ届きません"
    assert message.from_name == "山田太郎"
    assert "先週注文した商品がまだ届きません。いつ届きますか？" in message.body
    assert "\x1b" not in message.body
    assert message.new_text == "お世話になっております。\n\n先週注文した商品がまだ届きません。いつ届きますか？\n\nよろしくお願いします。"
    assert message.signature == "山田太郎"
    assert message.date == utc(2024, 5, 16, 1, 0)


def test_iso_2022_jp_with_nec_special_characters_decodes():
    # ① and ㈱ are NEC row-13 characters Windows mailers send inside ISO-2022-JP.
    body = b"\x1b$B-!JVIJ-j\x1b(B\r\n"
    message = parse_message(mail("From: a@example.jp\nContent-Type: text/plain; charset=iso-2022-jp\n", body))
    assert message.body == "①返品㈱"
    assert message.defects == ("no Date header",)


def test_gb2312_label_on_gbk_text_keeps_the_rare_characters():
    message = parse("gb2312_with_gbk_chars.eml")
    assert message.subject == "订单查询 朱镕喆"
    assert message.from_name == "王堃"
    assert "我是朱镕喆的同事王堃" in message.body
    assert "\ufffd" not in message.body
    assert "请帮我查一下物流信息" in message.new_text
    assert message.defects == ()


def test_latin1_label_on_windows_1252_bytes_keeps_euro_and_smart_quotes():
    message = parse("cp1252_declared_latin1.eml")
    assert "I paid €49 for the “premium” lamp – it doesn’t switch on… I’d like a refund." in message.body
    assert "\x80" not in message.body


def test_latin1_label_on_utf8_bytes_reads_utf8_and_says_so():
    message = parse("utf8_declared_latin1.eml")
    assert "bitte ändern Sie die Lieferadresse auf Müllerstraße 12, 80331 München." in message.body
    assert "Ã" not in message.body
    assert any("iso-8859-1 declared but text is utf-8" in defect for defect in message.defects)


def test_shift_jis_label_with_windows_characters_decodes():
    message = parse("shift_jis_cp932.eml")
    assert message.subject == "返品について"
    assert message.body == "髙橋です。\n届いた商品が壊れていました。①返品 ②交換 のどちらが可能ですか？"
    assert message.from_name == ""
    assert message.from_address == "sato@example.jp"


def test_big5_traditional_chinese_decodes():
    message = parse("big5.eml")
    assert message.subject == "包裹查詢"
    assert message.from_name == "陳小明"
    assert "請問我的包裹什麼時候會到？" in message.new_text


def test_korean_ks_c_5601_label_decodes_as_cp949():
    body = "배송은 언제 되나요?".encode("cp949")
    message = parse_message(mail("From: kim@example.kr\nContent-Type: text/plain; charset=ks_c_5601-1987\n", body))
    assert message.body == "배송은 언제 되나요?"


def test_encoded_words_split_inside_a_character_are_joined_before_decoding():
    data = "注文キャンセル".encode("utf-8")
    first, second = base64.b64encode(data[:4]).decode(), base64.b64encode(data[4:]).decode()
    raw = mail(f"From: a@example.jp\nSubject: =?UTF-8?B?{first}?=\n =?UTF-8?B?{second}?=\n", b"hi\r\n")
    assert parse_message(raw).subject == "注文キャンセル"


def test_whitespace_between_an_encoded_word_and_plain_text_is_kept():
    raw = mail("From: a@example.com\nSubject: Client =?utf-8?q?Luc=C3=ADa?=\n (Pedido 1)\n", b"hi\r\n")
    assert parse_message(raw).subject == "Client Lucía (Pedido 1)"


def test_raw_utf8_headers_decode():
    message = parse("eight_bit_headers.eml")
    assert message.subject == "Beställning – leveransadress ändrad"
    assert message.from_name == "Zoë Ångström"
    assert message.from_address == "zoe@example.se"


# -- replies, signatures, attachments ------------------------------------------------------------


def test_gmail_reply_new_text_excludes_the_quoted_history():
    message = parse("reply_gmail_en.eml")
    assert message.new_text == "The box arrived but the glass shade is cracked. Can you send a new one?\n\nTom"
    assert "cancel" not in message.new_text
    assert "If you want to cancel, reply to this mail." in message.quoted
    assert message.in_reply_to == "<shipped-42@shop.example>"
    assert message.references == ("<order-42@shop.example>", "<shipped-42@shop.example>")
    assert message.date == utc(2024, 5, 21, 17, 0)


def test_outlook_reply_with_empty_plain_part_uses_the_html_and_drops_the_history():
    message = parse("reply_outlook_de.eml")
    assert message.new_text == "Guten Tag,\ndas Paket ist immer noch nicht angekommen. Können Sie nachsehen, wo es ist?"
    assert "storniert" not in message.new_text
    assert "Ihre Bestellung wurde storniert und erstattet." in message.quoted
    assert message.signature == "Sabine Weber\nTel. 0171 2345678"


def test_qq_mail_reply_in_gbk_drops_the_original_message():
    message = parse("reply_zh_qq.eml")
    assert message.subject == "回复：订单已发货"
    assert message.from_name == "李娜"
    assert message.new_text == "我要退货，商品坏了，请尽快处理。"
    assert "如需取消请回复" in message.quoted


def test_closing_name_address_and_device_line_form_the_signature():
    message = parse("signature_it.eml")
    assert message.new_text == "Buongiorno,\n\nil frullatore che ho ricevuto ieri non si accende. Potete sostituirlo?\n\nCordiali saluti"
    assert message.signature == "Mario Rossi\nVia Roma 1, Milano\n\nInviato da iPhone"


def test_attachments_keep_decoded_names_types_and_sizes():
    message = parse("image_attachment.eml")
    assert message.attachments == (
        Attachment(filename="photo1@example.com", content_type="image/png", size=70),
        Attachment(filename="résumé commande.pdf", content_type="application/pdf", size=1016),
        Attachment(filename="破損写真.jpg", content_type="image/jpeg", size=1030),
    )
    assert message.has_images
    assert message.new_text == "The lamp arrived broken, see the photos. I want a replacement."


def test_guard_headers_keep_robot_marks_and_nothing_else():
    message = parse("auto_reply.eml")
    assert message.header("auto-submitted") == "auto-replied"
    assert message.header("precedence") == "bulk"
    assert message.header("list-id") == "<news.example.com>"
    assert message.header("list-unsubscribe") == "<mailto:unsubscribe@example.com>"
    assert message.header("return-path") == "<>"
    assert message.header("x-autoreply") == "yes"
    assert message.header("x-auto-response-suppress") == "All"
    assert message.header("x-loop") == "support@shop.example"
    assert message.header("feedback-id") == "123:abc"
    assert all(name == name.lower() for name, _ in message.guard_headers)
    assert not any(name.startswith("x-amazon") for name, _ in message.guard_headers)


def test_message_without_message_id_is_keyed_by_its_bytes():
    raw = load("no_message_id.eml")
    message = parse_message(raw)
    assert message.message_id == ""
    assert message.key == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert message.date is None
    assert "no Date header" in message.defects
    assert message.new_text == "Do you ship to Canada?"


@pytest.mark.parametrize(
    "header, expected",
    [("abc@example.com", "<abc@example.com>"), ("  <abc@example.com>  ", "<abc@example.com>"), ("<abc@x> (comment)", "<abc@x>")],
)
def test_message_ids_are_normalised_with_angle_brackets(header, expected):
    message = parse_message(mail(f"From: a@example.com\nMessage-ID: {header}\n", b"hi\r\n"))
    assert message.message_id == message.key == expected


def test_date_without_time_zone_is_read_as_utc_with_a_defect():
    message = parse_message(mail("From: a@example.com\nDate: Tue, 14 May 2024 09:30:00\n", b"hi\r\n"))
    assert message.date == utc(2024, 5, 14, 9, 30)
    assert "Date header without time zone (read as UTC)" in message.defects


def test_order_id_comes_from_the_body_when_the_subject_has_none():
    message = parse_message(mail("From: a@example.com\nSubject: Help\n", b"My order 302-1234567-7654321 is late.\r\n"))
    assert message.order_id == "302-1234567-7654321"


# -- Amazon relay ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, marketplace, buyer, order_id, token, new_text",
    [
        ("relay_en.eml", "amazon.com", "Jane Doe", "112-1234567-7654321", "[commMgrTok:A2B3C4D5E6F7G8H9]",
         "Hi, I need to change my shipping address to 5 Oak Street, Springfield before you ship it.\n\nThanks,"),
        ("relay_de.eml", "amazon.de", "Max Mustermann", "302-7654321-1234567", "[commMgrTok:DE1234567890]",
         "Hallo, wo bleibt mein Paket? Die Sendungsverfolgung zeigt seit einer Woche nichts Neues.\n\nViele Grüße"),
        ("relay_fr.eml", "amazon.fr", "Céline Dubois", "171-1111111-2222222", "[commMgrTok:FR99887766]",
         "Bonjour, je souhaite annuler ma commande, je l'ai passée par erreur.\nMerci"),
        ("relay_it.eml", "amazon.it", "Luca Bianchi", "405-3333333-4444444", "[commMgrTok:IT5544332211]",
         "Buongiorno, il prodotto non funziona: si spegne dopo pochi minuti. Vorrei un reso.\n\nCordiali saluti"),
        ("relay_es_missing_end_marker.eml", "amazon.es", "Lucía Pérez", "403-5555555-6666666", "[commMgrTok:ES1029384756]",
         "Hola, el paquete llegó vacío. ¿Pueden enviarme otro?\n\nSaludos,"),
        ("relay_ja.eml", "amazon.co.jp", "鈴木 花子", "250-7777777-8888888", "[commMgrTok:JP0011223344]",
         "注文をキャンセルしたいです。まだ発送されていなければお願いします。\n\nよろしくお願いします。"),
    ],
)
def test_amazon_relay_mail_yields_relay_facts_and_only_the_buyers_words(name, marketplace, buyer, order_id, token, new_text):
    message = parse(name)
    assert message.relay is not None
    assert message.relay.marketplace == marketplace
    assert message.relay.buyer_name == buyer
    assert message.relay.order_id == order_id
    assert message.relay.comm_token == token
    assert message.order_id == order_id
    assert message.new_text == new_text
    for boilerplate in ("ASIN", "commMgrTok", "Replacement", "Ersatzteil", "Housse", "Cover di ricambio", "Funda", "交換用カバー",
                        "Stornierung", "refund guaranteed", "Rimborso", "reembolso", "返金", "helpful", "hilfreich", "utile", "útil"):
        assert boilerplate not in message.new_text


def test_relay_mail_keeps_the_whole_relay_address_as_sender():
    message = parse("relay_en.eml")
    assert message.from_address == "9xq2l3kz1p4r5s6@marketplace.amazon.com"
    assert message.from_name == "Jane Doe - Amazon Marketplace"


# -- broken and hostile mail ----------------------------------------------------------------------


def test_missing_multipart_boundary_is_recovered_from_the_boundary_lines():
    message = parse("missing_boundary.eml")
    assert "missing multipart boundary" in message.defects
    assert message.new_text == "Please cancel my order, I bought the wrong size."
    assert not message.unreadable


def test_missing_multipart_boundary_without_boundary_lines_keeps_the_text():
    raw = mail("From: a@example.com\nContent-Type: multipart/mixed\n", b"Please cancel my order.\r\n")
    message = parse_message(raw)
    assert "missing multipart boundary" in message.defects
    assert message.new_text == "Please cancel my order."


def test_unknown_charset_is_detected_and_reported():
    message = parse("unknown_charset.eml")
    assert message.body == "Bonjour, où est ma commande ? Elle devait arriver à Noël, merci beaucoup."
    assert "unknown charset x-foo-bar in part 1" in message.defects


def test_unknown_charset_with_a_few_accented_letters_reads_as_western_european():
    body = "Hello, the toaster arrived dented. Très déçue. I want a refund please.\n\nAgnès\n".encode("latin-1")
    message = parse_message(mail("From: a@example.fr\nContent-Type: text/plain; charset=x-unknown-9\n", body))
    assert "Très déçue." in message.body
    assert message.signature == "" and message.new_text.endswith("Agnès")


def test_unknown_charset_on_chinese_text_is_detected():
    body = "你好，我的订单还没有到，请帮我查一下物流信息。谢谢".encode("gbk")
    message = parse_message(mail("From: a@example.cn\nContent-Type: text/plain; charset=x-weird\n", body))
    assert message.body == "你好，我的订单还没有到，请帮我查一下物流信息。谢谢"


def test_lying_utf8_label_on_other_bytes_is_repaired():
    body = "¿Dónde está mi pedido? Lo necesito para el cumpleaños de mi hermana, gracias.".encode("cp1252")
    message = parse_message(mail("From: a@example.es\nContent-Type: text/plain; charset=utf-8\n", body))
    assert "\ufffd" not in message.body
    assert "pedido" in message.body
    assert any(defect.startswith("text is not utf-8 (read as ") and defect.endswith("in part 1") for defect in message.defects)


def test_broken_from_leaves_an_empty_sender_and_a_defect():
    message = parse("broken_from.eml")
    assert message.from_address == ""
    assert message.from_name == ""
    assert "no From address" in message.defects
    assert message.date is None
    assert any(defect.startswith("unparseable Date header") for defect in message.defects)
    assert message.message_id == "<broken-from@example.com>"
    assert message.new_text == "Where is my order?"


def test_empty_file_is_an_unreadable_message_not_an_error():
    message = parse("empty.eml")
    assert message.unreadable
    assert message.defects == ("empty message",)
    assert message.key == "sha256:" + hashlib.sha256(b"").hexdigest()
    assert message.size == 0


def test_binary_junk_is_kept_as_an_unreadable_message():
    raw = load("binary_junk.eml")
    message = parse_message(raw)
    assert message.unreadable
    assert "body is mostly undecodable bytes" in message.defects
    assert message.from_address == ""
    assert message.key == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert "\ufffd" not in message.body


def test_truncated_base64_keeps_what_was_decoded():
    message = parse("truncated_base64.eml")
    assert message.new_text.startswith("Hello, I would like to return the blender because it leaks water everywhere.")
    assert "damaged base64 in part 1" in message.defects
    assert "multipart close boundary missing (truncated message?)" in message.defects
    assert not message.unreadable


def test_encoded_line_breaks_cannot_inject_headers():
    message = parse("header_injection.eml")
    for value in (message.subject, message.from_name, message.from_address):
        assert "\r" not in value and "\n" not in value
    assert message.subject == "Refund please Bcc: victim@example.com"
    assert message.from_address == "eve@example.com"


def test_deeply_nested_multiparts_do_not_exhaust_the_stack():
    nested = b"".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n".encode() for i in range(3000))
    raw = b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + nested + b"--b3000\r\n\r\nhello\r\n"
    message = parse_message(raw)
    assert message.from_address == "a@example.com"
    assert "MIME nesting too deep; body read as plain text" in message.defects
    assert "missing multipart boundary" not in message.defects
    assert not message.unreadable


def test_an_address_with_control_characters_is_no_address():
    message = parse_message(b"From: ru\x00\x00th@example.net\r\nSubject: hi\r\n\r\nWhere is my order?\r\n")
    assert message.from_address == ""
    assert "no From address" in message.defects


def test_a_boundary_with_8bit_bytes_is_recovered_not_a_parser_failure():
    # Found by mutating our fixtures: 8-bit bytes in the boundary parameter sent the recovery of
    # the parts through text holding real non-ASCII characters, which could not go back to bytes;
    # the whole message became "parser failure" and was never classified.
    message = parse("boundary_8bit_bytes.eml")
    assert not any("parser failure" in defect for defect in message.defects), message.defects
    assert message.new_text.startswith("Guten Tag,\ndas Paket ist immer noch nicht angekommen.")
    assert message.from_address == "sabine.weber@outlook.example"


def test_huge_header_and_huge_line_are_handled():
    raw = b"From: a@example.com\r\nSubject: " + b"=?utf-8?q?a?= " * 50_000 + b"\r\n\r\n" + b"x" * 2_000_000 + b"\r\nWhere?"
    message = parse_message(raw)
    assert message.from_address == "a@example.com"
    assert any("cut at" in defect for defect in message.defects)


def test_a_mail_of_big_photos_is_read_without_holding_the_photos_in_memory():
    photo = b"".join(base64.encodebytes(os.urandom(57 * 1000)) for _ in range(100))  # ~7.7 MB of base64
    text = base64.encodebytes("Der Wasserkocher ist kaputt angekommen, Fotos anbei.".encode())
    raw = (
        b"From: kunde@example.de\r\nSubject: kaputt\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + text
        + b"--B\r\nContent-Type: image/jpeg;\r\n name=foto1.jpg\r\nContent-Transfer-Encoding: base64\r\n\r\n" + photo
        + b"--B\r\nContent-Disposition: attachment; filename=foto2.jpg\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n" + photo
        + b"--B--\r\n"
    )
    tracemalloc.start()
    try:
        message = parse_message(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert message.new_text == "Der Wasserkocher ist kaputt angekommen, Fotos anbei."
    assert [(a.filename, a.is_image) for a in message.attachments] == [("foto1.jpg", True), ("foto2.jpg", True)]
    assert message.has_images
    assert "content of large attachments not read (15 MB)" in message.defects
    assert message.size == len(raw)
    assert peak < len(raw) / 4, f"parsing took {peak} bytes for a {len(raw)}-byte mail"


def test_a_big_text_body_in_base64_is_read_in_full():
    text = ("Where is my parcel? " * 200_000).encode()  # 4 MB of text
    raw = b"From: a@example.com\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(text)
    message = parse_message(raw)
    assert not any("large attachments" in defect for defect in message.defects)
    assert message.body.startswith("Where is my parcel?")


def test_headers_only_message_is_unreadable_but_keeps_its_headers():
    message = parse_message(b"From: Ann <ann@example.com>\r\nMessage-ID: <x@y>\r\n")
    assert message.unreadable
    assert message.from_address == "ann@example.com"
    assert message.key == "<x@y>"


def test_subject_only_message_is_readable():
    message = parse_message(mail("From: a@example.com\nSubject: Where is my order?\n", b""))
    assert not message.unreadable
    assert message.subject == "Where is my order?"


# -- clean_text (classify --text and eval) --------------------------------------------------------


def test_clean_text_extracts_relay_buyer_text():
    body = (
        "Order ID: 112-1234567-7654321\n1 of Refund-guaranteed lamp [ASIN: B0ABCDE123]\n"
        "------------- Begin message -------------\nWhere is my parcel?\n------------- End message -------------\n"
        "Was this email helpful?\n"
    )
    assert clean_text(body) == ("Where is my parcel?", "", "")


def test_clean_text_removes_html_remnants():
    new_text, _, _ = clean_text("Hello&nbsp;there,<br>my parcel is <b>late</b>.<br><br>Where is it?")
    assert new_text == "Hello there,\nmy parcel is late.\n\nWhere is it?"


def test_clean_text_leaves_plain_angle_brackets_alone():
    assert clean_text("I <3 this shop but 2 < 3 and A&B") == ("I <3 this shop but 2 < 3 and A&B", "", "")


def test_clean_text_keeps_an_address_in_angle_brackets_next_to_html_remnants():
    new_text, _, _ = clean_text("Write to <jane@example.com><br>thanks")
    assert "<jane@example.com>" in new_text


def test_an_address_that_starts_like_a_tag_name_is_not_html():
    # <s@...> and <b.shop@...> begin like the <s> and <b> tags; taking them for tags would cut the
    # address out of a Japanese Gmail quote header, and the quote header would then be read as
    # the buyer's words.
    body = "荷物はまだ届いていません。<br>\n\n2024年5月20日(月) 10:00 Shop <s@x.jp>:\n> ご注文をキャンセルしました"
    assert clean_text(body)[0] == "荷物はまだ届いていません。"
    assert "<b.shop@example.com>" in clean_text("Write to <b.shop@example.com><br>thanks")[0]


def test_clean_text_strips_quotes_and_signature():
    new_text, quoted, signature = clean_text("Cancel it please.\n\nSent from my iPhone\n\nOn Mon, 20 May 2024 Shop <s@x.example> wrote:\n> Shipped")
    assert new_text == "Cancel it please."
    assert signature == "Sent from my iPhone"
    assert "> Shipped" in quoted


# -- never raises -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_parse_message_never_raises_on_arbitrary_bytes(raw):
    message = parse_message(raw)
    assert message.size == len(raw)
    assert message.key
    assert "\n" not in message.subject and "\r" not in message.from_name


SNIPPETS = [b"\r\n", b"\r\n\r\n", b"=?", b"?=", b"=?utf-8?b?", b"=?iso-2022-jp?q?", b"\x1b$B", b"--", b"boundary=", b"charset=x-bad",
            b";", b"\x00", b"\xff\xfe", b"<", b">", b"Content-Type: multipart/mixed\r\n", b"Content-Transfer-Encoding: base64\r\n", b"*0*=utf-8''%"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(FIXTURES),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 64), st.one_of(st.sampled_from(SNIPPETS), st.binary(max_size=16))), max_size=12),
)
def test_parse_message_never_raises_on_mutated_fixtures(path, edits):
    raw = bytearray(path.read_bytes())
    for where, cut, insert in edits:
        position = int(where * len(raw))
        raw[position : position + cut] = insert
    message = parse_message(bytes(raw))
    assert isinstance(message, Message)
    assert message.size == len(raw)
    assert "\n" not in message.subject
