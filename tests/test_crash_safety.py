"""Exactly-once under SIGKILL: the daemon is killed at random moments and restarted.

Figures for the closing note are printed (run with -s to see them).
"""

from __future__ import annotations

import imaplib
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from daemon.state import Store
from tests.crashkit import audit, corpus, kill_loop, write_config

MESSAGES = 200
"""At least this many; more tranches of TRANCHE follow when a fast machine drains the mailbox."""
TRANCHE = 40
KILLS = 30
SEED = 20261123
CLEAN = {"not_handled": 0, "in_no_ticket": 0, "in_several_tickets": 0, "without_draft": 0, "duplicate_drafts": 0}


def message_ids(messages: list[bytes]) -> list[str]:
    return [str(message_from_bytes(raw, policy=default)["Message-ID"]).strip() for raw in messages]


def handled_counter(store_path: Path, ids: list[str]):
    def count() -> int:
        if not store_path.exists():
            return 0
        store = Store(store_path)
        return sum(1 for mid in ids if store.is_handled(mid))

    return count


def check(report, result, name: str) -> None:
    print(f"\n{name} kill test: {report.kills} kills over {report.runs} runs, "
          f"{report.handled_before_last_run} of {result['messages']} handled before the last run, {result}")
    assert report.kills >= KILLS
    assert 0 < report.handled_before_last_run, "the kills must fall while messages are being handled"
    assert {key: result[key] for key in CLEAN} == CLEAN
    assert result["messages"] >= MESSAGES


def maildir_drafts(maildir: Path) -> list[str]:
    folder = maildir / ".Drafts"
    replies = []
    for sub in ("cur", "new"):
        for path in (folder / sub).iterdir() if (folder / sub).is_dir() else ():
            replies.append(str(message_from_bytes(path.read_bytes(), policy=default)["In-Reply-To"]).strip())
    return replies


class Deliveries:
    """The mail delivered so far, in tranches, and a way to deliver more."""

    def __init__(self, put, seed: int) -> None:
        self._put = put
        self._seed = seed
        self.ids: list[str] = []

    def deliver(self, count: int) -> None:
        messages = corpus(count, seed=self._seed, first=len(self.ids))
        self._put(messages, len(self.ids))
        self.ids.extend(message_ids(messages))

    def more(self) -> None:
        self.deliver(TRANCHE)


def test_sigkill_at_random_moments_neither_loses_nor_repeats_anything_on_maildir(tmp_path):
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)

    def put(messages: list[bytes], first: int) -> None:
        for number, raw in enumerate(messages, first):
            (maildir / "new" / f"1700000000.M{number}P1.test").write_bytes(raw)

    mail = Deliveries(put, seed=7)
    mail.deliver(MESSAGES)
    config = write_config(tmp_path, '[mailbox]\nkind = "maildir"\npath = "Maildir"\nbatch_size = 20')

    report = kill_loop(config, KILLS, SEED, handled_counter(tmp_path / "state", mail.ids), mail.more)

    check(report, audit(tmp_path / "state", mail.ids, maildir_drafts(maildir)), "maildir")


def test_sigkill_at_random_moments_neither_loses_nor_repeats_anything_on_dovecot(tmp_path, imap_account):
    def put(messages: list[bytes], first: int) -> None:
        client = imaplib.IMAP4(imap_account.host, imap_account.port)
        client.login(imap_account.user, imap_account.password)
        for raw in messages:
            client.append("INBOX", "", None, raw.replace(b"\n", b"\r\n"))
        client.logout()

    mail = Deliveries(put, seed=11)
    mail.deliver(MESSAGES)
    config = write_config(
        tmp_path,
        f'[mailbox]\nkind = "imap"\nhost = "{imap_account.host}"\nport = {imap_account.port}\nsecurity = "none"\n'
        f'username = "{imap_account.user}"\npassword_env = "KILL_TEST_IMAP_PASSWORD"\nidle = false\nbatch_size = 20\ntimeout_seconds = 10',
    )
    env = {"KILL_TEST_IMAP_PASSWORD": imap_account.password}

    report = kill_loop(config, KILLS, SEED, handled_counter(tmp_path / "state", mail.ids), mail.more, env=env)

    out = imap_account.server.doveadm("-f", "tab", "fetch", "-u", imap_account.user, "hdr.in-reply-to", "mailbox", "Drafts", "all")
    drafts = [line.strip() for line in out.splitlines()[1:] if line.strip()]
    check(report, audit(tmp_path / "state", mail.ids, drafts), "dovecot")
    assert not any("\\Seen" in flags for flags in imap_account.flags("INBOX")), "the seller's unread mail must stay unread"
