"""Robot and loop guards (RFC 3834): who never gets an automatic reply."""

from __future__ import annotations

import pytest

from daemon.guards import over_daily_cap, robot_reason
from daemon.models import Message

OWN = ("support@shop.example",)


def message(address: str = "ann@example.com", subject: str = "Where is my order?", reply_to: str = "", **headers: str) -> Message:
    return Message(
        key="<k@x>", message_id="<k@x>", from_name="Ann", from_address=address, to=("support@shop.example",),
        subject=subject, date=None, in_reply_to="", references=(), body="hi", new_text="hi",
        guard_headers=tuple((name.replace("_", "-"), value) for name, value in headers.items()), reply_to=reply_to,
    )


def test_a_person_may_get_an_automatic_reply():
    assert robot_reason(message(), OWN) == ""
    assert robot_reason(message(auto_submitted="no"), OWN) == ""


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"auto_submitted": "auto-replied"}, "Auto-Submitted"),
        ({"auto_submitted": "auto-generated; owner-email=x@y"}, "Auto-Submitted"),
        ({"precedence": "bulk"}, "Precedence"),
        ({"precedence": "list"}, "Precedence"),
        ({"precedence": "junk"}, "Precedence"),
        ({"list_id": "<news.shop.example>"}, "List-Id"),
        ({"list_unsubscribe": "<mailto:unsub@x>"}, "List-Unsubscribe"),
        ({"return_path": "<>"}, "Return-Path"),
        ({"x_autoreply": "yes"}, "auto-reply header"),
        ({"x_auto_response_suppress": "OOF, AutoReply"}, "X-Auto-Response-Suppress"),
    ],
)
def test_robot_headers_block_automatic_replies(headers, expected):
    assert expected in robot_reason(message(**headers), OWN)


@pytest.mark.parametrize(
    "address",
    ["MAILER-DAEMON@mx.example.com", "postmaster@example.com", "no-reply@shop.example.net", "noreply@amazon.com",
     "donotreply@amazon.co.uk", "do-not-reply@carrier.example", "bounces+123@mail.example.com", "news-request@lists.example.org"],
)
def test_robot_senders_block_automatic_replies(address):
    assert "robot sender" in robot_reason(message(address), OWN)


def test_mail_from_the_sellers_own_address_is_never_answered():
    assert "own address" in robot_reason(message("Support@Shop.example"), OWN)


@pytest.mark.parametrize("subject", ["Automatic reply: your order", "Out of Office: back Monday", "Abwesenheitsnotiz: Urlaub", "Réponse automatique : absent", "自動応答: 不在"])
def test_auto_reply_subjects_block_automatic_replies(subject):
    assert "auto-reply subject" in robot_reason(message(subject=subject), OWN)


def test_a_contact_form_mail_from_no_reply_with_the_customer_in_reply_to_may_be_answered():
    assert robot_reason(message("no-reply@forms.shop-platform.example", reply_to="ann@example.com"), OWN) == ""


def test_a_reply_to_a_robot_address_is_never_sent():
    assert "Reply-To is a robot address noreply@example.com" in robot_reason(message(reply_to="noreply@example.com"), OWN)


def test_a_reply_to_pointing_at_the_seller_is_never_answered():
    assert "Reply-To is the seller's own address" in robot_reason(message(reply_to="SUPPORT@shop.example"), OWN)


def test_a_bounce_stays_a_bounce_whatever_its_reply_to():
    assert "robot sender" in robot_reason(message("MAILER-DAEMON@mx.example.com", reply_to="ann@example.com"), OWN)


def test_amazon_relay_buyers_are_people():
    assert robot_reason(message("x7kq2abc@marketplace.amazon.de"), OWN) == ""


def test_daily_cap():
    assert over_daily_cap(2, 3) == ""
    assert "daily cap of 3" in over_daily_cap(3, 3)
