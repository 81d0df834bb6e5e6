"""SmtpTransport against a real aiosmtpd server on loopback (tests/servers.py)."""

from __future__ import annotations

import pytest

from daemon.errors import OutboxError
from daemon.smtp import SmtpTransport
from tests.servers import SmtpServer, TlsFiles

REPLY = (
    "From: Shop <shop@example.com>\n"
    "To: Buyer <buyer@example.com>\n"
    "Subject: =?utf-8?q?Re=3A_Ihre_Bestellung_=C3=A4ndern?=\n"
    "Message-ID: <reply-1@shop.example>\n"
    "In-Reply-To: <customer-1@buyer.example>\n"
    "References: <customer-1@buyer.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Ihre Adresse wurde ge=C3=A4ndert.\n"
    ".\n"
    "Gruss\n"
).encode()


def transport_for(server: SmtpServer, **options: object) -> SmtpTransport:
    settings: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": "",
        "secret": None,
        "auth": "password",
        "ca_file": None,
        "timeout": 10.0,
    }
    settings.update(options)
    return SmtpTransport(**settings)  # type: ignore[arg-type]


def test_send_delivers_the_message_with_its_headers_and_body_intact(smtp_server):
    transport_for(smtp_server).send(REPLY, "shop@example.com", ["buyer@example.com"])

    [received] = smtp_server.messages
    assert received.mail_from == "shop@example.com"
    assert received.rcpt_tos == ("buyer@example.com",)
    headers = received.headers()
    assert headers["Message-ID"] == "<reply-1@shop.example>"
    assert headers["In-Reply-To"] == "<customer-1@buyer.example>"
    assert headers["Subject"] == "=?utf-8?q?Re=3A_Ihre_Bestellung_=C3=A4ndern?="
    # CRLF on the wire, and a line holding only "." survives dot-stuffing (RFC 5321 4.5.2).
    assert received.content.endswith(b"Ihre Adresse wurde ge=C3=A4ndert.\r\n.\r\nGruss\r\n")


def test_an_8bit_utf8_reply_arrives_byte_for_byte(smtp_server):
    body = "Votre colis est parti. 您的包裹已发出。\r\n".encode()
    raw = b"From: shop@example.com\r\nTo: buyer@example.com\r\nSubject: colis\r\n" + (
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
    )

    transport_for(smtp_server).send(raw, "shop@example.com", ["buyer@example.com"])

    assert smtp_server.messages[0].content.endswith(body)


def test_send_logs_in_when_a_username_is_configured(smtp_server):
    transport = transport_for(smtp_server, username=smtp_server.user, secret=lambda: smtp_server.password)

    transport.send(REPLY, "shop@example.com", ["buyer@example.com"])

    assert len(smtp_server.messages) == 1
    assert transport.check() == f"smtp 127.0.0.1:{smtp_server.port} (none): ready, logged in as shop"


def test_a_refused_login_is_a_one_line_error_and_is_not_retried(smtp_server):
    transport = transport_for(smtp_server, username=smtp_server.user, secret=lambda: "wrong")
    slept: list[float] = []

    with pytest.raises(OutboxError) as caught:
        transport.send_with_retry(REPLY, "shop@example.com", ["buyer@example.com"], retries=3, base_seconds=2, sleep=slept.append)

    message = str(caught.value)
    assert message.startswith(f'smtp 127.0.0.1:{smtp_server.port}: login refused for user "shop"')
    assert "\n" not in message
    assert slept == []
    assert smtp_server.messages == []


def test_starttls_with_the_configured_ca_file_sends(smtp_starttls_server):
    server = smtp_starttls_server
    transport = transport_for(
        server, security="starttls", ca_file=server.ca_file, username=server.user, secret=lambda: server.password
    )

    transport.send(REPLY, "shop@example.com", ["buyer@example.com"])

    assert [received.rcpt_tos for received in server.messages] == [("buyer@example.com",)]


def test_an_untrusted_certificate_is_a_permanent_one_line_error(smtp_starttls_server, tls_files: TlsFiles):
    transport = transport_for(smtp_starttls_server, security="starttls", ca_file=tls_files.other_ca_file)
    slept: list[float] = []

    with pytest.raises(OutboxError) as caught:
        transport.send_with_retry(REPLY, "shop@example.com", ["buyer@example.com"], retries=3, base_seconds=1, sleep=slept.append)

    assert str(caught.value).startswith(f"smtp 127.0.0.1:{smtp_starttls_server.port}: TLS certificate not trusted")
    assert "[outbox] ca_file" in str(caught.value)
    assert slept == []


def test_sending_to_a_closed_port_is_a_one_line_outbox_error(closed_port):
    transport = SmtpTransport("127.0.0.1", closed_port, "none", "", None, "password", None, 5.0)

    with pytest.raises(OutboxError) as caught:
        transport.send(REPLY, "shop@example.com", ["buyer@example.com"])

    assert str(caught.value) == f"smtp 127.0.0.1:{closed_port}: connection refused (check [outbox] host and port)"


def test_send_with_retry_backs_off_exponentially_then_gives_up(closed_port):
    transport = SmtpTransport("127.0.0.1", closed_port, "none", "", None, "password", None, 5.0)
    slept: list[float] = []

    with pytest.raises(OutboxError, match=r"connection refused .*\(gave up after 4 attempts\)$"):
        transport.send_with_retry(REPLY, "shop@example.com", ["buyer@example.com"], retries=3, base_seconds=1.5, sleep=slept.append)

    assert slept == [1.5, 3.0, 6.0]


def test_send_with_retry_succeeds_once_a_temporary_refusal_passes(smtp_server):
    smtp_server.handler.temporary_failures = 2
    slept: list[float] = []

    transport_for(smtp_server).send_with_retry(
        REPLY, "shop@example.com", ["buyer@example.com"], retries=3, base_seconds=1, sleep=slept.append
    )

    assert slept == [1, 2]
    assert len(smtp_server.messages) == 1


def test_a_permanently_refused_recipient_is_not_retried(smtp_server):
    slept: list[float] = []

    with pytest.raises(OutboxError) as caught:
        transport_for(smtp_server).send_with_retry(
            REPLY, "shop@example.com", ["nobody@refused.invalid"], retries=3, base_seconds=1, sleep=slept.append
        )

    assert "recipient refused: nobody@refused.invalid (550" in str(caught.value)
    assert slept == []
    assert smtp_server.messages == []
