"""Reply rendering: StrictUndefined templates and a properly threaded reply message."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest

from daemon.errors import TemplateError
from daemon.models import AmazonRelay, Message
from daemon.renderer import Renderer, Sender, build_reply, reply_message_id, reply_subject


def customer_message(**changes) -> Message:
    base = dict(
        key="<c1@buyer.example>", message_id="<c1@buyer.example>", from_name="Ann Lee", from_address="ann@buyer.example",
        to=("support@shop.example",), subject="Cancel my order", date=None, in_reply_to="<x0@shop.example>",
        references=("<x0@shop.example>",), body="please cancel", new_text="please cancel",
    )
    base.update(changes)
    return Message(**base)


@pytest.fixture
def templates(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "de").mkdir()
    (tmp_path / "en" / "cancellation.txt.j2").write_text("Hello {{ customer_name }},\n\n\n\nwe cancel {{ order_id }}.\n{{ signature }}\n")
    (tmp_path / "de" / "other.txt.j2").write_text("Hallo {{ customer_name }}\n")
    (tmp_path / "en" / "broken.txt.j2").write_text("Hello {{ custmer_name }}\n")
    return tmp_path


def test_template_renders_with_context_and_tidy_whitespace(templates):
    rendered = Renderer(templates, "en").render("cancellation", "en", {"customer_name": "Ann", "order_id": "1", "signature": "Shop"})
    assert rendered.body == "Hello Ann,\n\nwe cancel 1.\nShop\n"
    assert rendered.template == "en/cancellation.txt.j2" and not rendered.fell_back


def test_missing_language_falls_back_to_the_default_and_says_so(templates):
    rendered = Renderer(templates, "en").render("cancellation", "fr", {"customer_name": "A", "order_id": "", "signature": ""})
    assert rendered.language == "en" and rendered.fell_back


def test_an_unknown_name_in_a_template_is_a_one_line_error_naming_the_file(templates):
    with pytest.raises(TemplateError) as caught:
        Renderer(templates, "en").render("broken", "en", {"customer_name": "Ann"})
    assert "en/broken.txt.j2" in str(caught.value) and "custmer_name" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_template_is_an_error(templates):
    with pytest.raises(TemplateError, match="template missing"):
        Renderer(templates, "en").render("logistics", "en", {})


def test_reply_is_threaded_and_addressed_from_the_seller():
    reply = build_reply(
        message=customer_message(), body="Hi\n", sender=Sender("Shop", "support@shop.example"),
        ticket_id=7, template="en/cancellation.txt.j2", language="en",
    )
    parsed = message_from_bytes(reply.raw, policy=default)
    assert parsed["Subject"] == "Re: Cancel my order"
    assert parsed["In-Reply-To"] == "<c1@buyer.example>"
    assert parsed["References"].split() == ["<x0@shop.example>", "<c1@buyer.example>"]
    assert parsed["To"].addresses[0].addr_spec == "ann@buyer.example"
    assert parsed["From"].addresses[0].addr_spec == "support@shop.example"
    assert parsed["Message-ID"] == reply.message_id
    assert "Auto-Submitted" not in parsed  # a draft: the seller sends it as a person


def test_automatic_replies_mark_themselves_auto_submitted():
    reply = build_reply(
        message=customer_message(), body="Hi\n", sender=Sender("Shop", "support@shop.example"),
        ticket_id=7, template="t", language="en", auto_send=True,
    )
    assert message_from_bytes(reply.raw, policy=default)["Auto-Submitted"] == "auto-replied"


def test_reply_message_id_is_deterministic_per_ticket_message_and_purpose():
    first = reply_message_id(3, "<m@x>", "reply", "support@shop.example")
    assert first == reply_message_id(3, "<m@x>", "reply", "support@shop.example")
    assert first != reply_message_id(3, "<m@x>", "check_arrived", "support@shop.example")
    assert first.endswith("@shop.example>")


def test_amazon_relay_replies_keep_the_thread_token():
    relay = AmazonRelay(marketplace="amazon.de", buyer_name="Jan", order_id="302-1234567-1234567", comm_token="[commMgrTok:ABC123]")
    reply = build_reply(
        message=customer_message(relay=relay, from_address="abc@marketplace.amazon.de"), body="Hallo\n",
        sender=Sender("Shop", "support@shop.example"), ticket_id=1, template="t", language="de",
    )
    assert b"[commMgrTok:ABC123]" in reply.raw


@pytest.mark.parametrize("subject, expected", [("Re: RE: Hi", "Re: Hi"), ("AW: Lieferung", "Re: Lieferung"), ("回复：退货", "Re: 退货"), ("", "Re: your message")])
def test_reply_subject_never_stacks_prefixes(subject, expected):
    assert reply_subject(subject) == expected
