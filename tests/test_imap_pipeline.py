"""The whole daemon on a real Dovecot (IMAP) and a real aiosmtpd (SMTP)."""

from __future__ import annotations

import imaplib
import os
import signal
import statistics
import subprocess
import sys
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import make_msgid
from pathlib import Path


import run
from config.settings import load_settings
from daemon.app import build_runtime

REPO = Path(__file__).resolve().parent.parent
PASSWORD_ENV = "AFTERSALE_TEST_IMAP_PASSWORD"


def customer_mail(text: str, subject: str = "Where is my parcel?", sender: str = "ann@example.net") -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = f"Ann Lee <{sender}>"
    msg["To"] = "support@shop.example"
    msg["Subject"] = subject
    message_id = make_msgid(domain="example.net")
    msg["Message-ID"] = message_id
    msg.set_content(text)
    return bytes(msg).replace(b"\n", b"\r\n"), message_id


def append(account, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
    client = imaplib.IMAP4(account.host, account.port)
    client.login(account.user, account.password)
    if folder != "INBOX":
        client.create(folder)
    client.append(folder, flags, None, raw)
    client.logout()


def write_config(directory: Path, account, outbox: str = '[outbox]\nkind = "draft"', replies: str = "", idle: bool = True) -> Path:
    config = directory / "aftersale.toml"
    config.write_text(
        '[seller]\nname = "Shop"\naddress = "support@shop.example"\nsignature = "Shop team"\n'
        f'[mailbox]\nkind = "imap"\nhost = "{account.host}"\nport = {account.port}\nsecurity = "none"\n'
        f'username = "{account.user}"\npassword_env = "{PASSWORD_ENV}"\ntimeout_seconds = 10\n'
        f"idle = {'true' if idle else 'false'}\npoll_seconds = 60\n"
        f"{outbox}\n"
        '[store]\npath = "state"\nfsync = false\n'
        f"{replies}\n",
        encoding="utf-8",
    )
    return config


def env_for(account) -> dict[str, str]:
    return {PASSWORD_ENV: account.password}


def runtime(config: Path, account):
    return build_runtime(load_settings(config, env_for(account)), env=env_for(account))


def header_values(account, folder: str, header: str) -> list[str]:
    out = account.server.doveadm("-f", "tab", "fetch", "-u", account.user, f"hdr.{header}", "mailbox", folder, "all")
    return [line.strip() for line in out.splitlines()[1:] if line.strip()]


def bodies(account, folder: str) -> list:
    out = account.server.doveadm("-f", "pager", "fetch", "-u", account.user, "text", "mailbox", folder, "all")
    chunks = [chunk.split("text:", 1)[1].lstrip("\n") for chunk in out.split("\f") if "text:" in chunk]
    return [message_from_bytes(chunk.encode(), policy=default) for chunk in chunks]


def test_new_mail_becomes_a_draft_in_drafts_with_threading_headers_and_unread_kept(tmp_path, imap_account):
    raw, message_id = customer_mail("Where is my parcel? Tracking has not moved since Monday.")
    append(imap_account, raw)
    rt = runtime(write_config(tmp_path, imap_account), imap_account)
    (outcome,) = list(rt.pipeline.process_new())
    rt.close()
    assert outcome.action == "drafted" and outcome.label == "logistics"
    (uid, flags, draft_id) = imap_account.messages("Drafts")[0]
    assert "\\Draft" in flags
    (draft,) = bodies(imap_account, "Drafts")
    assert str(draft["In-Reply-To"]) == message_id
    assert str(draft["Subject"]) == "Re: Where is my parcel?"
    assert draft["To"].addresses[0].addr_spec == "ann@example.net"
    assert draft["From"].addresses[0].addr_spec == "support@shop.example"
    (flags,) = imap_account.flags("INBOX")
    assert "\\Seen" not in flags, "the seller's unread mail stays unread"


def test_a_second_run_and_a_uidvalidity_reset_make_no_duplicate_draft(tmp_path, imap_account):
    for n in range(3):
        append(imap_account, customer_mail(f"Please cancel order {n}, I ordered it twice by mistake.")[0])
    config = write_config(tmp_path, imap_account)
    rt = runtime(config, imap_account)
    assert [o.action for o in rt.pipeline.process_new()] == ["drafted"] * 3
    assert list(rt.pipeline.process_new()) == []
    rt.close()
    imap_account.set_uid_validity(int(time.time()) + 100_000)  # surely not the current value
    rt = runtime(config, imap_account)
    assert [o.action for o in rt.pipeline.process_new()] == ["skipped-duplicate"] * 3
    rt.close()
    assert len(imap_account.messages("Drafts")) == 3


def test_the_sellers_reply_in_sent_marks_the_ticket_answered(tmp_path, imap_account):
    raw, message_id = customer_mail("Where is my order? It should have come yesterday.")
    append(imap_account, raw)
    config = write_config(tmp_path, imap_account)
    rt = runtime(config, imap_account)
    list(rt.pipeline.process_new())
    reply = EmailMessage()
    reply["From"] = "Shop <support@shop.example>"
    reply["To"] = "ann@example.net"
    reply["Subject"] = "Re: Where is my parcel?"
    reply["Message-ID"] = make_msgid(domain="shop.example")
    reply["In-Reply-To"] = message_id
    reply.set_content("It is with the carrier and arrives tomorrow.")
    append(imap_account, bytes(reply).replace(b"\n", b"\r\n"), folder="Sent", flags="\\Seen")
    (line,) = rt.lifecycle.scan_sent(rt.mailbox, 50)
    (summary,) = rt.store.open_tickets()
    rt.close()
    assert summary.status == "answered" and summary.answered_at is not None
    assert "seen in Sent" in line


def test_smtp_auto_send_delivers_with_the_right_headers_and_files_a_copy_in_sent(tmp_path, imap_account, smtp_server):
    raw, message_id = customer_mail("Where is my parcel? The tracking number does not work.")
    append(imap_account, raw)
    outbox = f'[outbox]\nkind = "smtp"\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "none"\nsave_sent = "always"\nretry_base_seconds = 0.01'
    replies = "[replies.logistics]\nauto_send = true\nmin_confidence = 0.1"
    rt = runtime(write_config(tmp_path, imap_account, outbox, replies), imap_account)
    (outcome,) = list(rt.pipeline.process_new())
    rt.close()
    assert outcome.action == "sent"
    (received,) = smtp_server.messages
    headers = received.headers()
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["In-Reply-To"] == message_id
    assert "ann@example.net" in headers["To"]
    sent_ids = header_values(imap_account, "Sent", "message-id")
    assert sent_ids == [headers["Message-ID"]]
    assert imap_account.messages("Drafts") == []


def test_smtp_down_files_a_draft_and_loses_nothing(tmp_path, imap_account, closed_port):
    append(imap_account, customer_mail("Where is my parcel? Nothing has arrived.")[0])
    outbox = f'[outbox]\nkind = "smtp"\nhost = "127.0.0.1"\nport = {closed_port}\nsecurity = "none"\nretries = 1\nretry_base_seconds = 0.01\ntimeout_seconds = 2'
    replies = "[replies.logistics]\nauto_send = true\nmin_confidence = 0.1"
    rt = runtime(write_config(tmp_path, imap_account, outbox, replies), imap_account)
    (outcome,) = list(rt.pipeline.process_new())
    rt.close()
    assert outcome.action == "fell-back-to-draft"
    assert len(imap_account.messages("Drafts")) == 1


def test_a_wrong_password_is_one_line_and_exit_status_2(tmp_path, imap_account, capsys, monkeypatch):
    config = write_config(tmp_path, imap_account)
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    status = run.main(["--config", str(config), "check-config"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "login refused" in err and PASSWORD_ENV in err


def start_daemon(config: Path, account) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(REPO / "run.py"), "--config", str(config), "run"],
        cwd=REPO, env={**os.environ, **env_for(account)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def wait_for_drafts(account, count: int, limit: float = 60.0) -> float:
    """Seconds until Drafts holds `count` messages (the test fails if it never does)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if len(account.messages("Drafts")) >= count:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"Drafts never reached {count} messages")


def stop_daemon(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return process.stderr.read().decode()


def test_idle_turns_each_appended_message_into_a_draft_within_seconds(tmp_path, imap_account):
    config = write_config(tmp_path, imap_account)
    process = start_daemon(config, imap_account)
    latencies = []
    try:
        for n in range(20):
            append(imap_account, customer_mail(f"Where is parcel number {n}? It has not arrived.", sender=f"buyer{n}@example.net")[0])
            latencies.append(wait_for_drafts(imap_account, n + 1))
    finally:
        errors = stop_daemon(process)
    assert process.returncode == 0, errors
    print(f"\nIDLE: APPEND to draft in Drafts, median of 20: {statistics.median(latencies):.2f} s "
          f"(min {min(latencies):.2f}, max {max(latencies):.2f})")
    assert len(imap_account.messages("Drafts")) == 20


def test_kicked_mid_idle_the_daemon_reconnects_and_catches_up(tmp_path, imap_account):
    config = write_config(tmp_path, imap_account)
    process = start_daemon(config, imap_account)
    try:
        append(imap_account, customer_mail("Where is my parcel?", sender="first@example.net")[0])
        wait_for_drafts(imap_account, 1)
        time.sleep(1.0)  # let it settle back into IDLE
        imap_account.kick()
        append(imap_account, customer_mail("Please cancel my order, wrong size.", sender="second@example.net")[0])
        wait_for_drafts(imap_account, 2)
    finally:
        errors = stop_daemon(process)
    assert process.returncode == 0, errors
    assert len(set(header_values(imap_account, "Drafts", "in-reply-to"))) == 2
