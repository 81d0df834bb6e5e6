"""The customer's new words, apart from quoted history and signature, in seven languages."""

from __future__ import annotations

import pytest

from daemon.htmltext import html_to_text
from daemon.quoting import split_reply

# One request per language, and the history our shop sent before (which must never count).
REQUESTS = {
    "en": "Hi, the lamp arrived broken. Can you send a new one?",
    "de": "Hallo, die Lampe kam kaputt an. Können Sie eine neue schicken?",
    "fr": "Bonjour, la lampe est arrivée cassée. Pouvez-vous en envoyer une nouvelle ?",
    "es": "Hola, la lámpara llegó rota. ¿Pueden enviar una nueva?",
    "it": "Buongiorno, la lampada è arrivata rotta. Potete mandarne una nuova?",
    "ja": "ランプが壊れて届きました。新しいものを送っていただけますか？",
    "zh": "你好，台灯到货时已经坏了。可以再寄一个新的吗？",
}
HISTORY = "Your order has been cancelled and refunded."

GMAIL_HEADERS = {
    "en": "On Mon, May 20, 2024 at 9:12 AM Shop <support@shop.example> wrote:",
    "de": "Am Mo., 20. Mai 2024 um 09:12 Uhr schrieb Shop <support@shop.example>:",
    "fr": "Le lun. 20 mai 2024 à 09:12, Shop <support@shop.example> a écrit :",
    "es": "El lun, 20 may 2024 a las 9:12, Shop (<support@shop.example>) escribió:",
    "it": "Il giorno lun 20 mag 2024 alle ore 09:12 Shop <support@shop.example> ha scritto:",
    "ja": "2024年5月20日(月) 9:12 Shop <support@shop.example>:",
    "zh": "在 2024年5月20日 09:12，Shop <support@shop.example> 写道：",
}

OUTLOOK_BLOCKS = {
    "en": "From: Shop <support@shop.example>\nSent: Monday, May 20, 2024 9:12 AM\nTo: Jane Doe\nSubject: Your order",
    "de": "Von: Shop <support@shop.example>\nGesendet: Montag, 20. Mai 2024 09:12\nAn: Jane Doe\nBetreff: Ihre Bestellung",
    "fr": "De : Shop <support@shop.example>\nEnvoyé : lundi 20 mai 2024 09:12\nÀ : Jane Doe\nObjet : Votre commande",
    "es": "De: Shop <support@shop.example>\nEnviado: lunes, 20 de mayo de 2024 9:12\nPara: Jane Doe\nAsunto: Su pedido",
    "it": "Da: Shop <support@shop.example>\nInviato: lunedì 20 maggio 2024 09:12\nA: Jane Doe\nOggetto: Il suo ordine",
    "ja": "差出人: Shop <support@shop.example>\n送信日時: 2024年5月20日 9:12\n宛先: 山田 太郎\n件名: ご注文",
    "zh": "发件人: Shop <support@shop.example>\n发送时间: 2024年5月20日 9:12\n收件人: 张三\n主题: 您的订单",
}

MOBILE_LINES = {
    "en": "Sent from my iPhone",
    "de": "Von meinem iPhone gesendet",
    "fr": "Envoyé de mon iPhone",
    "es": "Enviado desde mi iPhone",
    "it": "Inviato da iPhone",
    "ja": "iPhoneから送信",
    "zh": "发自我的iPhone",
}

CLOSINGS = {
    "en": ("Best regards,", "Jane Doe"),
    "de": ("Mit freundlichen Grüßen", "Hans Müller"),
    "fr": ("Cordialement", "Jean Dupont"),
    "es": ("Saludos", "Juan García"),
    "it": ("Cordiali saluti", "Mario Rossi"),
    "ja": ("よろしくお願いします。", "山田太郎"),
    "zh": ("谢谢", "张三"),
}

LANGUAGES = sorted(REQUESTS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_gmail_style_quote_is_removed(language):
    body = f"{REQUESTS[language]}\n\n{GMAIL_HEADERS[language]}\n\n> {HISTORY}\n> Thank you.\n"
    new_text, quoted, _ = split_reply(body)
    assert new_text == REQUESTS[language]
    assert HISTORY in quoted
    assert GMAIL_HEADERS[language] in quoted


@pytest.mark.parametrize("language", LANGUAGES)
def test_quote_header_without_quote_marks_still_ends_the_new_text(language):
    body = f"{REQUESTS[language]}\n\n{GMAIL_HEADERS[language]}\n{HISTORY}\n"
    new_text, quoted, _ = split_reply(body)
    assert new_text == REQUESTS[language]
    assert HISTORY in quoted


def test_gmail_wraps_a_long_quote_header_over_two_lines():
    body = "Where is my order?\n\nOn Mon, May 20, 2024 at 9:12 AM Shop Support <\nsupport@shop.example> wrote:\n\n> " + HISTORY
    new_text, quoted, _ = split_reply(body)
    assert new_text == "Where is my order?"
    assert "support@shop.example> wrote:" in quoted


@pytest.mark.parametrize("language", LANGUAGES)
def test_outlook_header_block_starts_the_quoted_history(language):
    body = f"{REQUESTS[language]}\n\n________________________________\n{OUTLOOK_BLOCKS[language]}\n\n{HISTORY}\n"
    new_text, quoted, _ = split_reply(body)
    assert new_text == REQUESTS[language]
    assert HISTORY in quoted
    assert OUTLOOK_BLOCKS[language].splitlines()[0] in quoted


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Mensaje original-----",
        "-----Messaggio originale-----",
        "-----元のメッセージ-----",
        "------------------ 原始邮件 ------------------",
        "---------- Forwarded message ---------",
    ],
)
def test_original_message_separators_start_the_quoted_history(separator):
    new_text, quoted, _ = split_reply(f"Please cancel my order.\n\n{separator}\nFrom: Shop\n\n{HISTORY}")
    assert new_text == "Please cancel my order."
    assert separator.strip() in quoted
    assert HISTORY in quoted


def test_qq_mail_chinese_quote_is_removed():
    body = (
        "我要退货，商品坏了。\n\n------------------ 原始邮件 ------------------\n"
        '发件人: "商店"<shop@shop.example>;\n发送时间: 2024年5月20日(星期一) 上午9:00\n收件人: "李娜"<lina@qq.example>;\n'
        "主题: 订单已发货\n\n您好，您的订单已发货，如需取消请回复。"
    )
    new_text, quoted, _ = split_reply(body)
    assert new_text == "我要退货，商品坏了。"
    assert "如需取消" in quoted


@pytest.mark.parametrize("header", ["山田さんは書きました:", "2024/05/20 9:12、山田 太郎 さんは書きました：", "On 2024/05/20 9:12, Shop wrote:"])
def test_japanese_thunderbird_quote_headers_end_the_new_text(header):
    new_text, quoted, _ = split_reply(f"{REQUESTS['ja']}\n\n{header}\nご注文ありがとうございます。")
    assert new_text == REQUESTS["ja"]
    assert "ご注文ありがとうございます" in quoted


def test_bottom_posted_reply_below_the_quote_is_the_new_text():
    body = "On Mon, May 20, 2024 at 9:12 AM Shop <s@shop.example> wrote:\n> Is everything all right?\n\nNo, the item is broken."
    new_text, quoted, _ = split_reply(body)
    assert new_text == "No, the item is broken."
    assert "Is everything all right?" in quoted


def test_interleaved_answers_are_kept_and_the_quoted_questions_are_not():
    body = "> Did the parcel arrive?\nNo, nothing arrived.\n> Shall we refund you?\nYes please."
    new_text, quoted, _ = split_reply(body)
    assert new_text == "No, nothing arrived.\nYes please."
    assert quoted == "> Did the parcel arrive?\n> Shall we refund you?"


@pytest.mark.parametrize("language", LANGUAGES)
def test_mobile_signature_is_split_off(language):
    new_text, _, signature = split_reply(f"{REQUESTS[language]}\n\n{MOBILE_LINES[language]}")
    assert new_text == REQUESTS[language]
    assert signature == MOBILE_LINES[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_closing_stays_and_the_name_below_it_is_the_signature(language):
    closing, name = CLOSINGS[language]
    new_text, _, signature = split_reply(f"{REQUESTS[language]}\n\n{closing}\n{name}")
    assert new_text == f"{REQUESTS[language]}\n\n{closing}"
    assert signature == name


def test_closing_name_address_and_device_line_all_go_to_the_signature():
    body = "Il frullatore non si accende. Potete sostituirlo?\n\nCordiali saluti\nMario Rossi\nVia Roma 1, Milano\n\nInviato da iPhone"
    new_text, _, signature = split_reply(body)
    assert new_text == "Il frullatore non si accende. Potete sostituirlo?\n\nCordiali saluti"
    assert signature == "Mario Rossi\nVia Roma 1, Milano\n\nInviato da iPhone"


def test_dash_dash_space_delimits_the_signature():
    new_text, _, signature = split_reply("Where is my order?\n-- \nJane Doe\nAcme Ltd\n+44 20 7946 0000")
    assert new_text == "Where is my order?"
    assert signature == "Jane Doe\nAcme Ltd\n+44 20 7946 0000"


def test_a_closing_at_the_start_of_a_sentence_is_not_a_signature():
    body = "Thanks, but I need to cancel my order.\nIt is too late for me now."
    assert split_reply(body) == (body, "", "")


def test_a_thank_you_sentence_is_not_a_closing():
    body = "Hi,\nThanks for your quick reply\nI still want a refund."
    assert split_reply(body) == (body, "", "")


def test_a_separator_in_any_language_followed_by_header_fields_starts_the_history():
    body = (
        "我要退货。\n\n------------------ Original ------------------\n"
        'From:  "商店"<shop@shop.example>;\nDate:  Mon, May 20, 2024 09:00 AM\nTo:  "李娜"<lina@qq.example>;\nSubject:  订单\n\n已发货'
    )
    new_text, quoted, _ = split_reply(body)
    assert new_text == "我要退货。"
    assert quoted.endswith("已发货")


def test_a_request_after_the_closing_is_never_dropped():
    body = "Please cancel the order.\n\nThanks,\nJane\nP.S. If it already shipped, can I return it?"
    new_text, _, signature = split_reply(body)
    assert "P.S. If it already shipped, can I return it?" in new_text
    assert signature == ""


def test_a_long_block_after_a_closing_is_kept_as_text():
    body = "Hello\n\nRegards,\nline one\nline two\nline three\nline four\nline five"
    assert split_reply(body)[0] == body


def test_an_address_change_written_as_from_and_to_lines_is_not_a_quote():
    body = "Please change the delivery address\nFrom: 12 Old Street, Leeds\nTo: 34 New Road, York\nThank you"
    assert split_reply(body)[0] == body


def test_a_buyer_who_writes_what_someone_wrote_keeps_the_text():
    body = "My neighbour wrote:\nthe parcel was left outside in the rain.\nCan you refund me?"
    assert split_reply(body)[0] == body


def test_a_forward_without_comment_keeps_the_forwarded_words_as_new_text():
    body = "---------- Forwarded message ---------\nFrom: Carrier <noreply@carrier.example>\nDate: Mon, May 20, 2024\nSubject: Delivery failed\nTo: me\n\nWe could not deliver your parcel."
    assert split_reply(body)[0] == "We could not deliver your parcel."


@pytest.mark.parametrize(
    "body",
    ["I ordered a lamp.\nSent via DHL on Monday\nbut it never arrived", "Ho pagato.\nInviato da voi il 3 maggio\nma non è arrivato"],
)
def test_a_sentence_that_starts_like_a_device_line_is_kept(body):
    assert split_reply(body) == (body, "", "")


@pytest.mark.parametrize(
    "device_line",
    ["Von meinem Samsung Galaxy Smartphone gesendet", "Inviato dal mio smartphone Samsung Galaxy.", "Get Outlook for Android",
     "Sent from Yahoo Mail on Android", "Galaxy スマートフォンから送信", "从我的 iPhone 发送"],
)
def test_other_device_lines_are_signatures(device_line):
    assert split_reply(f"Please cancel my order.\n\n{device_line}") == ("Please cancel my order.", "", device_line)


def test_a_lone_device_line_above_the_text_is_not_the_text():
    new_text, _, signature = split_reply("Sent from my iPhone\n\nWhere is my order?")
    assert new_text == "Where is my order?"
    assert signature == "Sent from my iPhone"


def test_a_message_that_is_only_a_device_line_keeps_it_as_text():
    assert split_reply("Sent from my iPhone")[0] == "Sent from my iPhone"


def test_empty_and_blank_bodies_split_into_nothing():
    assert split_reply("") == ("", "", "")
    assert split_reply(" \n\r\n\t") == ("", "", "")


def test_crlf_bodies_split_like_lf_bodies():
    body = "Where is my order?\r\n\r\nOn Mon, May 20, 2024 at 9:12 AM Shop <s@shop.example> wrote:\r\n> Hello"
    assert split_reply(body)[0] == "Where is my order?"


def test_very_long_lines_do_not_stall_the_splitter():
    body = ("On " * 50_000) + "wrote:\n" + ("x" * 200_000) + "\nWhere is my order?"
    new_text, _, _ = split_reply(body)
    assert new_text.endswith("Where is my order?")


# -- HTML bodies ----------------------------------------------------------------------------------


def test_html_keeps_line_breaks_and_drops_scripts_styles_and_head():
    html = (
        "<html><head><title>Title</title><style>p{color:red}</style></head><body>"
        "<p>Hello&nbsp;there,</p><div>my order is <b>late</b>.<br>Where is it?</div>"
        "<script>alert('x')</script></body></html>"
    )
    assert html_to_text(html) == "Hello there,\n\nmy order is late.\nWhere is it?"


def test_html_entities_are_unescaped():
    assert html_to_text("<p>5 &lt; 6 &amp; &euro;10 &#8364; &quot;ok&quot;</p>") == '5 < 6 & €10 € "ok"'


def test_html_blockquote_becomes_quoted_lines():
    text = html_to_text("<div>Yes, please refund.</div><blockquote>Shall we refund?<br>Or replace?</blockquote>")
    assert text.splitlines()[0] == "Yes, please refund."
    assert "> Shall we refund?" in text
    assert "> Or replace?" in text
    assert split_reply(text)[0] == "Yes, please refund."


def test_gmail_quote_container_is_quoted_including_its_attribution():
    html = (
        '<div dir="ltr">The shade is cracked.</div><div class="gmail_quote"><div class="gmail_attr">'
        "On Mon, May 20, 2024 Shop wrote:<br></div><blockquote class=\"gmail_quote\">Shipped today.</blockquote></div>"
    )
    new_text, quoted, _ = split_reply(html_to_text(html))
    assert new_text == "The shade is cracked."
    assert "Shipped today." in quoted
    assert "wrote:" in quoted


def test_outlook_reply_container_and_everything_after_it_are_quoted():
    html = (
        "<div>Wo ist mein Paket?</div><div id=\"appendonsend\"></div><hr>"
        '<div id="divRplyFwdMsg"><b>Von:</b> Shop<br><b>Gesendet:</b> Montag</div><div>Ihre Bestellung wurde storniert.</div>'
    )
    text = html_to_text(html)
    new_text, quoted, _ = split_reply(text)
    assert new_text == "Wo ist mein Paket?"
    assert "Ihre Bestellung wurde storniert." in quoted


def test_html_signature_container_becomes_a_signature():
    html = '<div>Where is my order?</div><div class="gmail_signature">Jane Doe<br>Acme Ltd</div>'
    new_text, _, signature = split_reply(html_to_text(html))
    assert new_text == "Where is my order?"
    assert signature == "Jane Doe\nAcme Ltd"


def test_html_tables_keep_cells_of_a_row_on_one_line():
    assert html_to_text("<table><tr><td>Order</td><td>112-1234567-7654321</td></tr></table>") == "Order 112-1234567-7654321"


def test_preformatted_html_keeps_its_line_breaks():
    assert html_to_text("<pre>line one\nline  two</pre>") == "line one\nline  two"


def test_hostile_deeply_nested_html_is_cut_not_hung_on():
    text = html_to_text("<p>Where is my order?</p>" + "<div>" * 300_000 + "deep")
    assert text.startswith("Where is my order?")


@pytest.mark.parametrize("html", ["", "   ", "<html></html>", "<!-- only a comment -->", "<<<>>>"])
def test_empty_or_odd_html_gives_text_without_raising(html):
    assert isinstance(html_to_text(html), str)
