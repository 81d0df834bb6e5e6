"""Seller playbooks: the reply template follows the label and the order's facts."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from config.settings import load_settings
from daemon.models import AmazonRelay, Classification, Message, Ticket
from daemon.orders import read_report
from daemon.replies import ReplyPlanner, playbook_variant

REPORT = Path(__file__).parent / "orders" / "all_orders.txt"
ORDERS = read_report(REPORT).orders
NOW = datetime(2026, 3, 4, tzinfo=timezone.utc)


def relay_message(order_id: str, text: str, attachments=()) -> Message:
    return Message(
        key=f"<{order_id}@m>", message_id=f"<{order_id}@m>", from_name="Jane Doe - Amazon Marketplace",
        from_address="abc123@marketplace.amazon.com", to=("support@shop.example",),
        subject=f"Inquiry from Amazon customer Jane Doe (Order: {order_id})", date=NOW, in_reply_to="", references=(),
        body=text, new_text=text, order_id=order_id, attachments=attachments,
        relay=AmazonRelay("amazon.com", "Jane Doe", order_id, "[commMgrTok:XYZ]"),
    )


def planner(tmp_path) -> ReplyPlanner:
    config = tmp_path / "a.toml"
    config.write_text('[seller]\nname = "Shop"\naddress = "s@shop.example"\n[mailbox]\nkind = "maildir"\npath = "M"\n[store]\npath = "s"\n[amazon]\nhigh_value_threshold = 100\n')
    settings = load_settings(config, {})
    return ReplyPlanner(settings.replies, "Shop", "Shop team", orders=ORDERS.get, high_value_threshold=100)


def plan_for(tmp_path, label: str, order_id: str, text: str = "text", attachments=()):
    message = relay_message(order_id, text, attachments)
    ticket = Ticket(id=1, customer=message.from_address, customer_name="Jane Doe", subject=message.subject, label=label,
                    status="new", language="en", created_at=NOW, updated_at=NOW, order_id=order_id)
    return planner(tmp_path).plan(message, Classification(label=label, confidence=0.9, language="en"), ticket)


@pytest.mark.parametrize("label, order_id, template", [
    ("address_change", "302-0000004-0000004", "address_change_unshipped"),     # FBA, pending
    ("address_change", "111-0000002-0000002", "address_change_shipped_reship"),  # shipped, 18.50
    ("address_change", "111-0000003-0000003", "address_change_shipped_decline"), # shipped, 189.00
    ("cancellation", "111-0000002-0000002", "cancellation_shipped"),
    ("cancellation", "302-0000004-0000004", "cancellation_fba"),
    ("logistics", "111-0000002-0000002", "logistics_tracking"),
    ("logistics", "302-0000004-0000004", "logistics_fba"),
    ("logistics", "111-0000005-0000005", "logistics"),                          # FBM, no tracking
    ("review_complaint", "111-0000002-0000002", "review_complaint"),
    ("cancellation", "999-9999999-9999999", "cancellation"),                    # unknown order
])
def test_the_playbook_branch_follows_the_order(tmp_path, label, order_id, template):
    assert plan_for(tmp_path, label, order_id).template == template


def test_unshipped_merchant_order_gets_the_unshipped_cancellation():
    from daemon.orders import Order

    order = Order(order_id="111-1111111-1111111", status="Unshipped", channel="FBM")
    assert playbook_variant("cancellation", order, 100) == "unshipped"
    assert playbook_variant("address_change", order, 100) == "unshipped"


def test_unknown_order_gets_the_generic_template_and_a_note(tmp_path):
    plan = plan_for(tmp_path, "logistics", "999-9999999-9999999")
    assert plan.template == "logistics"
    assert any("not in the imported order data" in note for note in plan.notes)


def test_order_facts_and_the_failure_reason_go_on_the_ticket(tmp_path):
    plan = plan_for(tmp_path, "dissatisfaction", "111-0000003-0000003", "The knife block arrived cracked and one knife is chipped.")
    facts = dict(plan.facts)
    assert facts["failure_reason"] == "damaged"
    assert facts["sku"] == "KNIFE-8" and facts["channel"] == "FBM" and facts["ship_country"] == "US"
    assert plan.context["reason"] == "damaged" and plan.context["product_name"] == "Chef Knife Set, 8 pieces"


def test_photos_already_sent_are_not_asked_for_again(tmp_path):
    from daemon.models import Attachment

    plan = plan_for(tmp_path, "dissatisfaction", "111-0000003-0000003", "Broken, see photo", (Attachment("p.jpg", "image/jpeg", 2048),))
    assert plan.context["photos_received"] is True


def test_every_template_name_a_playbook_can_choose_exists_in_every_language():
    templates = Path(__file__).resolve().parent.parent / "templates"
    names = {"address_change_unshipped", "address_change_shipped_reship", "address_change_shipped_decline",
             "cancellation_unshipped", "cancellation_shipped", "cancellation_fba", "logistics_tracking", "logistics_fba"}
    for language in ("en", "de", "fr", "es", "it", "ja", "zh"):
        for name in names:
            assert (templates / language / f"{name}.txt.j2").is_file(), f"{language}/{name}"
