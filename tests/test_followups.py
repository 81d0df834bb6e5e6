"""Tickets, the response clock and follow-ups, driven by an injected clock (no sleeping)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from config.settings import load_settings
from daemon.app import build_runtime
from daemon.sla import clock_check, read_clock

START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)  # a Monday, inside the send window


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def shop(tmp_path):
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    config = tmp_path / "aftersale.toml"
    config.write_text(
        '[seller]\nname = "Shop"\naddress = "support@shop.example"\ntimezone = "Europe/Berlin"\n'
        '[mailbox]\nkind = "maildir"\npath = "Maildir"\n'
        '[store]\npath = "state"\nfsync = false\n'
        '[send_window]\nstart_hour = 9\nend_hour = 18\n'
        "[followups.logistics]\nsteps = [{ name = \"check_arrived\", after = \"answered\", days = 5, template = \"followup_check_arrived\" }]\n"
        "[followups.any]\nsteps = [{ name = \"satisfaction\", after = \"resolved\", days = 3, template = \"followup_satisfaction\" }]\n",
        encoding="utf-8",
    )
    return tmp_path


def runtime(shop: Path, clock: Clock):
    return build_runtime(load_settings(shop / "aftersale.toml", {}), env={}, clock=clock)


def customer_writes(shop: Path, text: str, subject: str = "My order", sender: str = "ann@example.net", reply_to: str = "", name: str = "") -> str:
    msg = EmailMessage()
    msg["From"] = f"Ann <{sender}>"
    msg["To"] = "support@shop.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(START)
    message_id = make_msgid(domain="example.net")
    msg["Message-ID"] = message_id
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = reply_to
    msg.set_content(text)
    (shop / "Maildir" / "new" / (name or f"{abs(hash(message_id))}.test")).write_bytes(bytes(msg))
    return message_id


def seller_replies(shop: Path, to_message_id: str, at: datetime) -> None:
    msg = EmailMessage()
    msg["From"] = "Shop <support@shop.example>"
    msg["To"] = "ann@example.net"
    msg["Subject"] = "Re: My order"
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = make_msgid(domain="shop.example")
    msg["In-Reply-To"] = to_message_id
    msg.set_content("It is on its way.")
    sent = shop / "Maildir" / ".Sent" / "cur"
    sent.mkdir(parents=True, exist_ok=True)
    (sent / f"{abs(hash(msg['Message-ID']))}.sent:2,S").write_bytes(bytes(msg))


def answered_conversation(shop: Path, rt, clock: Clock, text: str) -> str:
    """A customer asks, Aftersale drafts, the seller's own reply shows up in Sent."""
    asked = customer_writes(shop, text)
    handle_mail(rt)
    seller_replies(shop, asked, clock.now)
    rt.lifecycle.scan_sent(rt.mailbox, 50)
    return asked


def drafts(shop: Path) -> list:
    folder = shop / "Maildir" / ".Drafts" / "cur"
    return [message_from_bytes(p.read_bytes(), policy=default) for p in sorted(folder.iterdir())] if folder.is_dir() else []


def handle_mail(rt) -> list:
    return list(rt.pipeline.process_new())


def only_ticket(rt):
    (summary,) = rt.store.open_tickets()
    return rt.store.get_ticket(summary.id)


def test_seller_reply_in_sent_marks_the_ticket_answered_and_schedules_the_check(shop):
    clock = Clock()
    rt = runtime(shop, clock)
    asked = customer_writes(shop, "Where is my parcel? Tracking has not moved for a week.")
    handle_mail(rt)
    assert only_ticket(rt).status == "drafted"
    clock.advance(hours=3)
    seller_replies(shop, asked, clock.now)
    rt.lifecycle.scan_sent(rt.mailbox, 50)
    ticket = only_ticket(rt)
    assert ticket.status == "answered"
    assert any("response time 3.0 h" in e.detail for e in ticket.events)
    (pending,) = rt.store.pending_follow_ups(ticket.id)
    assert pending.step == "check_arrived" and pending.due_at == clock.now + timedelta(days=5)


def test_follow_up_is_drafted_once_when_due_and_never_again(shop):
    clock = Clock()
    rt = runtime(shop, clock)
    asked = answered_conversation(shop, rt, clock, "Where is my parcel? It has not arrived yet.")
    before = len(drafts(shop))
    clock.advance(days=4, hours=23)
    assert rt.follow_ups.sweep() == []
    clock.advance(hours=2)
    (line,) = rt.follow_ups.sweep()
    assert "check_arrived" in line
    assert len(drafts(shop)) == before + 1
    (follow_up,) = [d for d in drafts(shop) if ".check_arrived." in str(d["Message-ID"])]
    assert asked in str(follow_up["References"]), "the follow-up threads into the customer's conversation"
    assert follow_up["Auto-Submitted"] is None  # a draft: the seller sends it as a person
    assert rt.follow_ups.sweep() == []
    clock.advance(days=10)
    assert rt.follow_ups.sweep() == []
    assert len(drafts(shop)) == before + 1


def test_customer_reply_cancels_pending_follow_up(shop):
    clock = Clock()
    rt = runtime(shop, clock)
    asked = answered_conversation(shop, rt, clock, "Where is my parcel? It never came.")
    clock.advance(days=1)
    customer_writes(shop, "Still nothing, where is it?", subject="Re: My order", reply_to=asked)
    handle_mail(rt)
    ticket = only_ticket(rt)
    assert rt.store.pending_follow_ups(ticket.id) == []
    assert any(e.kind == "follow_up_cancelled" and "customer wrote again" in e.detail for e in ticket.events)
    assert ticket.status == "drafted"  # reopened by the customer, answered by a new draft
    clock.advance(days=6)
    assert rt.follow_ups.sweep() == []


def test_a_step_due_while_the_daemon_was_stopped_is_sent_once_after_restart(shop):
    clock = Clock()
    first = runtime(shop, clock)
    answered_conversation(shop, first, clock, "Where is my order? No tracking update.")
    first.close()
    clock.advance(days=9)  # the daemon was down over the due date
    second = runtime(shop, clock)
    assert len(second.follow_ups.sweep()) == 1
    third = runtime(shop, clock)
    assert third.follow_ups.sweep() == []


def test_follow_ups_wait_for_the_send_window(shop):
    clock = Clock()
    rt = runtime(shop, clock)
    answered_conversation(shop, rt, clock, "Where is my parcel?")
    clock.now = datetime(2026, 3, 8, 3, 0, tzinfo=timezone.utc)  # 04:00 in Berlin: too early
    assert rt.follow_ups.sweep() == []
    clock.now = datetime(2026, 3, 8, 8, 30, tzinfo=timezone.utc)  # 09:30 in Berlin
    assert len(rt.follow_ups.sweep()) == 1


def test_resolving_schedules_the_satisfaction_check_and_closing_cancels_it(shop):
    clock = Clock()
    rt = runtime(shop, clock)
    customer_writes(shop, "The lamp arrived broken, the shade is cracked.")
    handle_mail(rt)
    ticket = only_ticket(rt)
    rt.lifecycle.set_status(ticket.id, "resolved")
    (pending,) = rt.store.pending_follow_ups(ticket.id)
    assert pending.step == "satisfaction"
    rt.lifecycle.set_status(ticket.id, "closed")
    assert rt.store.pending_follow_ups(ticket.id) == []
    clock.advance(days=4)
    assert rt.follow_ups.sweep() == []


def test_response_clock_counts_weekend_hours_and_warns_near_the_deadline(shop):
    clock = Clock(datetime(2026, 3, 6, 18, 0, tzinfo=timezone.utc))  # Friday evening
    rt = runtime(shop, clock)
    customer_writes(shop, "Please cancel my order, I ordered twice by mistake.")
    handle_mail(rt)
    clock.advance(hours=21)  # Saturday: the clock keeps running over the weekend
    (summary,) = rt.store.open_tickets()
    reading = read_clock(summary, clock.now, 24)
    assert reading.left == timedelta(hours=3)
    near, _ = clock_check(rt.store, clock.now, 24, 4, 7)
    assert [r.ticket_id for r in near] == [summary.id]
    clock.advance(hours=4)
    assert read_clock(rt.store.open_tickets()[0], clock.now, 24).overdue


def test_resolved_tickets_close_after_the_quiet_days(shop):
    clock = Clock()
    rt = runtime(shop, clock)
    customer_writes(shop, "Thank you, the parcel arrived safely!")
    handle_mail(rt)
    ticket = only_ticket(rt)
    rt.lifecycle.set_status(ticket.id, "resolved")
    clock.advance(days=8)
    _, to_close = clock_check(rt.store, clock.now, 24, 4, 7)
    assert to_close == [ticket.id]


def test_relabel_is_kept_as_tuning_data(shop):
    clock = Clock()
    rt = runtime(shop, clock)
    customer_writes(shop, "Can you send it to my office instead? 5 Mill Lane, Bath.")
    handle_mail(rt)
    ticket = only_ticket(rt)
    rt.lifecycle.relabel(ticket.id, "logistics")
    (record,) = list(rt.store.relabels())
    assert record["new"] == "logistics" and "Mill Lane" in record["text"]


GUARDED = [
    ("Auto-Submitted", "auto-replied"),
    ("Auto-Submitted", "auto-generated"),
    ("Precedence", "bulk"),
    ("Precedence", "list"),
    ("Precedence", "junk"),
    ("List-Id", "<offers.example.net>"),
    ("List-Unsubscribe", "<mailto:leave@example.net>"),
    ("Return-Path", "<>"),
    ("X-Autoreply", "yes"),
]


@pytest.mark.parametrize("header, value", GUARDED)
def test_robot_mail_is_recorded_but_never_answered(shop, header, value):
    rt = runtime(shop, Clock())
    msg = EmailMessage()
    msg["From"] = "Ann <ann@example.net>"
    msg["To"] = "support@shop.example"
    msg["Subject"] = "Where is my parcel?"
    msg["Message-ID"] = "<robot@example.net>"
    msg[header] = value
    msg.set_content("Where is my parcel? It has not arrived.")
    (shop / "Maildir" / "new" / "robot.test").write_bytes(bytes(msg))
    (outcome,) = handle_mail(rt)
    assert outcome.action == "guarded"
    assert rt.store.handled_record("<robot@example.net>")["outcome"] == "guarded"
    assert drafts(shop) == []


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.net", "no-reply@example.net", "postmaster@example.net", "support@shop.example"])
def test_robot_and_own_senders_are_recorded_but_never_answered(shop, sender):
    rt = runtime(shop, Clock())
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@shop.example"
    msg["Subject"] = "Where is my parcel?"
    msg["Message-ID"] = "<robot2@example.net>"
    msg.set_content("Where is my parcel?")
    (shop / "Maildir" / "new" / "robot2.test").write_bytes(bytes(msg))
    (outcome,) = handle_mail(rt)
    assert outcome.action == "guarded"
    assert drafts(shop) == []


def test_answered_tickets_the_customer_never_came_back_to_are_resolved_then_closed(shop):
    from daemon.sla import housekeeping

    clock = Clock()
    rt = runtime(shop, clock)
    answered_conversation(shop, rt, clock, "Where is my parcel?")
    ticket = only_ticket(rt)
    clock.advance(days=3)
    assert housekeeping(rt.store, clock.now, 24, 4, 7).to_resolve == []
    clock.advance(days=5)
    assert housekeeping(rt.store, clock.now, 24, 4, 7).to_resolve == [ticket.id]


def test_amazon_follow_ups_past_30_days_from_the_order_are_dropped_and_logged(shop):
    clock = Clock()
    rt = runtime(shop, clock)
    asked = customer_writes(shop, "Where is my parcel? It has not arrived yet.", sender="x7k2abc@marketplace.amazon.de")
    handle_mail(rt)
    ticket = only_ticket(rt)
    assert ticket.fact("marketplace") == "amazon.de"
    clock.advance(days=26)  # the seller answers late in the order's life
    seller_replies(shop, asked, clock.now)
    rt.lifecycle.scan_sent(rt.mailbox, 50)
    clock.advance(days=5)  # due now, but 31 days after the order
    (line,) = rt.follow_ups.sweep()
    assert "dropped" in line and "30 days" in line
    assert not any(".check_arrived." in str(d["Message-ID"]) for d in drafts(shop))
