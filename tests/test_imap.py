"""ImapMailbox against a real Dovecot on loopback (tests/servers.py): no mocks anywhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.errors import ConfigError, MailboxAuthError, MailboxError
from daemon.mailbox.imap import ImapMailbox
from tests.servers import ImapAccount, free_port


def customer_mail(number: int, message_id: str | None = None) -> bytes:
    message_id = message_id or f"<customer-{number}@buyer.example>"
    return (
        "From: Buyer <buyer@example.com>\r\n"
        "To: shop@example.com\r\n"
        f"Subject: Order question {number}\r\n"
        f"Message-ID: {message_id}\r\n"
        "Date: Mon, 03 Mar 2025 10:00:00 +0000\r\n"
        "\r\n"
        f"Where is my parcel number {number}?\r\n"
    ).encode()


def reply_mail(message_id: str) -> bytes:
    # Bare LF on purpose: rendered replies come from files; the mailbox must send CRLF.
    return (
        "From: Shop <shop@example.com>\n"
        "To: buyer@example.com\n"
        "Subject: Re: Order question\n"
        f"Message-ID: {message_id}\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "Your parcel left today. ご注文の商品は本日発送されました。\n"
    ).encode()


def make_mailbox(account: ImapAccount | None, **options: object) -> ImapMailbox:
    """A mailbox for the account; without one, for a server that is not there."""
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": account.port if account else free_port(),
        "security": "none",
        "username": account.user if account else "seller",
        "secret": lambda: account.password if account else "secret",
        "auth": "password",
        "ca_file": None,
        "timeout": 10.0,
    }
    settings.update(options)
    return ImapMailbox(**settings)  # type: ignore[arg-type]


@pytest.fixture
def mailbox(imap_account: ImapAccount) -> Iterator[ImapMailbox]:
    box = make_mailbox(imap_account)
    yield box
    box.close()


def read_all(batches: Iterator[list]) -> list:
    return [mail for batch in batches for mail in batch]


# -- reading -------------------------------------------------------------------------------------


def test_fetch_new_returns_mail_in_bounded_batches_and_leaves_it_unread(imap_account, mailbox):
    for number in range(5):
        imap_account.deliver(customer_mail(number))

    batches = list(mailbox.fetch_new("", batch_size=2))

    assert [len(batch) for batch in batches] == [2, 2, 1]
    mails = [mail for batch in batches for mail in batch]
    assert [f"Order question {n}".encode() in mail.data for n, mail in enumerate(mails)] == [True] * 5
    assert all(mail.ref == mail.position for mail in mails)
    assert all("\\Seen" not in flags for flags in imap_account.flags())


def test_fetch_new_after_the_stored_cursor_returns_only_newer_mail(imap_account, mailbox):
    imap_account.deliver(customer_mail(1))
    first = read_all(mailbox.fetch_new("", batch_size=10))
    cursor = first[-1].position

    assert read_all(mailbox.fetch_new(cursor, batch_size=10)) == []

    imap_account.deliver(customer_mail(2))
    newer = read_all(mailbox.fetch_new(cursor, batch_size=10))
    assert len(newer) == 1 and b"Order question 2" in newer[0].data


def test_a_reset_uidvalidity_offers_every_message_again(imap_account, mailbox):
    imap_account.deliver(customer_mail(1))
    imap_account.deliver(customer_mail(2))
    cursor = read_all(mailbox.fetch_new("", batch_size=10))[-1].position

    imap_account.set_uid_validity(4242)
    again = read_all(mailbox.fetch_new(cursor, batch_size=10))

    assert [mail.position.split(":")[0] for mail in again] == ["4242", "4242"]
    assert [b"Order question 1" in again[0].data, b"Order question 2" in again[1].data] == [True, True]


def test_mark_handled_adds_a_keyword_and_keeps_the_message_unread(imap_account, mailbox):
    imap_account.deliver(customer_mail(1))
    imap_account.deliver(customer_mail(2))
    first, second = read_all(mailbox.fetch_new("", batch_size=10))

    mailbox.mark_handled(first.ref)

    flags = imap_account.flags()
    assert "$Aftersale" in flags[0] and "\\Seen" not in flags[0]
    assert "$Aftersale" not in flags[1]


def test_reading_resumes_on_a_new_connection_after_the_server_dropped_it(imap_account, mailbox):
    imap_account.deliver(customer_mail(1))
    cursor = read_all(mailbox.fetch_new("", batch_size=10))[-1].position
    imap_account.kick()
    imap_account.deliver(customer_mail(2))

    newer = read_all(mailbox.fetch_new(cursor, batch_size=10))

    assert len(newer) == 1 and b"Order question 2" in newer[0].data


# -- drafts and sent -----------------------------------------------------------------------------


def test_append_draft_files_a_draft_once_per_message_id(imap_account, mailbox):
    first = mailbox.append_draft(reply_mail("<reply-1@shop.example>"), "<reply-1@shop.example>")
    second = mailbox.append_draft(reply_mail("<reply-1@shop.example>"), "<reply-1@shop.example>")

    drafts = imap_account.messages("Drafts")
    assert first == second
    assert len(drafts) == 1
    _, flags, message_id = drafts[0]
    assert "\\Draft" in flags and message_id == "<reply-1@shop.example>"
    assert mailbox.has_draft("<reply-1@shop.example>")


def test_has_draft_matches_the_whole_message_id_not_a_part_of_it(imap_account, mailbox):
    mailbox.append_draft(reply_mail("<xreply-1@shop.example>"), "<xreply-1@shop.example>")

    assert not mailbox.has_draft("<reply-1@shop.example>")
    assert mailbox.has_draft("xreply-1@shop.example")


def test_drafts_are_found_by_special_use_whatever_the_configured_name(imap_account):
    box = make_mailbox(imap_account, drafts_folder="Entwürfe")
    try:
        box.append_draft(reply_mail("<reply-2@shop.example>"), "<reply-2@shop.example>")
    finally:
        box.close()

    assert [mid for _, _, mid in imap_account.messages("Drafts")] == ["<reply-2@shop.example>"]
    assert "Entwürfe" not in imap_account.folders()


def test_append_sent_creates_sent_and_sent_since_sees_the_copy(imap_account, mailbox):
    assert "Sent" not in imap_account.folders()
    assert read_all(mailbox.sent_since("", batch_size=10)) == []
    assert not mailbox.has_sent("<reply-3@shop.example>")

    mailbox.append_sent(reply_mail("<reply-3@shop.example>"), "<reply-3@shop.example>")
    mailbox.append_sent(reply_mail("<reply-3@shop.example>"), "<reply-3@shop.example>")

    sent = imap_account.messages("Sent")
    assert len(sent) == 1 and "\\Seen" in sent[0][1]
    seen = read_all(mailbox.sent_since("", batch_size=10))
    assert len(seen) == 1 and b"<reply-3@shop.example>" in seen[0].data
    assert "\r\nYour parcel left today. ご注文の商品は本日発送されました。\r\n".encode() in seen[0].data
    assert read_all(mailbox.sent_since(seen[0].position, batch_size=10)) == []


def test_check_names_the_folders_it_will_use(imap_account, mailbox):
    imap_account.deliver(customer_mail(1))

    lines = mailbox.check()

    assert f"logged in as {imap_account.user}" in lines[0]
    assert "folder INBOX: 1 messages" in lines
    assert any(line.startswith("drafts folder: Drafts (found by special-use") for line in lines)
    assert any(line.startswith("sent folder: Sent does not exist yet") for line in lines)
    assert "Sent" not in imap_account.folders()


# -- TLS and login -------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_connections_trust_the_configured_ca_file(imap_account, security):
    imap_account.deliver(customer_mail(1))
    port = imap_account.ssl_port if security == "ssl" else imap_account.port
    box = make_mailbox(imap_account, port=port, security=security, ca_file=imap_account.ca_file)
    try:
        assert len(read_all(box.fetch_new("", batch_size=10))) == 1
    finally:
        box.close()


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_an_untrusted_certificate_is_a_one_line_error_naming_ca_file(imap_account, dovecot, security):
    port = imap_account.ssl_port if security == "ssl" else imap_account.port
    box = make_mailbox(imap_account, port=port, security=security, ca_file=dovecot.other_ca_file)

    with pytest.raises(MailboxError) as caught:
        box.check()

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"imap 127.0.0.1:{port}: TLS certificate not trusted")
    assert "ca_file" in message


def test_a_wrong_password_is_a_one_line_auth_error(imap_account):
    box = make_mailbox(imap_account, secret=lambda: "not-the-password")

    with pytest.raises(MailboxAuthError) as caught:
        box.check()

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        f'imap 127.0.0.1:{imap_account.port}: login refused for user "{imap_account.user}" '
        "(check [mailbox] username and the password in $IMAP_PASSWORD)"
    )


def test_a_closed_port_is_a_one_line_error_and_retries_back_off():
    port = free_port()
    slept: list[float] = []
    box = make_mailbox(None, port=port, sleep=slept.append)

    for _ in range(4):
        with pytest.raises(MailboxError) as caught:
            read_all(box.fetch_new("", batch_size=10))

    assert str(caught.value) == f"imap 127.0.0.1:{port}: connection refused (check [mailbox] host and port)"
    assert slept == [1.0, 2.0, 4.0]


def test_xoauth2_refused_by_the_server_is_an_auth_error_naming_the_token(imap_account):
    box = make_mailbox(imap_account, auth="xoauth2", secret=lambda: "ya29.not-a-token")

    with pytest.raises(MailboxAuthError, match=r"login refused .* the access token in \$IMAP_PASSWORD"):
        box.check()


def test_a_missing_ca_file_is_a_config_error(tmp_path: Path):
    box = make_mailbox(None, security="ssl", ca_file=tmp_path / "nope.pem")

    with pytest.raises(ConfigError, match=r"^\[mailbox\] ca_file: .*nope\.pem: cannot be used"):
        box.check()


# -- waiting -------------------------------------------------------------------------------------


def test_wait_for_mail_returns_true_when_mail_arrives_during_idle(imap_account, mailbox):
    read_all(mailbox.fetch_new("", batch_size=10))
    delivery = threading.Timer(0.5, imap_account.deliver, args=(customer_mail(1),))
    delivery.start()
    try:
        arrived = mailbox.wait_for_mail(timeout=15)
    finally:
        delivery.join()

    assert arrived is True
    assert len(read_all(mailbox.fetch_new("", batch_size=10))) == 1


def test_wait_for_mail_returns_false_when_nothing_arrives(imap_account, mailbox):
    read_all(mailbox.fetch_new("", batch_size=10))

    assert mailbox.wait_for_mail(timeout=0.3) is False


def test_wait_for_mail_reports_mail_that_came_after_the_last_fetch_at_once(imap_account, mailbox):
    read_all(mailbox.fetch_new("", batch_size=10))
    imap_account.deliver(customer_mail(1))

    assert mailbox.wait_for_mail(timeout=15) is True


def test_a_kick_during_idle_ends_the_wait_and_the_next_fetch_reconnects(imap_account):
    slept: list[float] = []
    box = make_mailbox(imap_account, sleep=slept.append)
    try:
        read_all(box.fetch_new("", batch_size=10))
        kick = threading.Timer(0.5, imap_account.kick)
        kick.start()
        try:
            arrived = box.wait_for_mail(timeout=15)
        finally:
            kick.join()
        imap_account.deliver(customer_mail(1))

        mails = read_all(box.fetch_new("", batch_size=10))
    finally:
        box.close()

    assert arrived in (True, False)
    assert len(mails) == 1
    assert slept == [1.0], "the reconnect waits out the first backoff step"


def test_waiting_on_an_unreachable_server_returns_false_instead_of_raising():
    slept: list[float] = []
    box = make_mailbox(None, sleep=slept.append)

    assert box.wait_for_mail(timeout=30) is False
    assert box.wait_for_mail(timeout=30) is False
    assert slept == [1.0], "the second try waits out the backoff first"


def test_without_idle_waiting_is_a_plain_sleep():
    slept: list[float] = []
    box = make_mailbox(None, use_idle=False, sleep=slept.append)

    assert box.wait_for_mail(timeout=30) is False
    assert slept == [30]
