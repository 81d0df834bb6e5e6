"""The Maildir mailbox against real Maildir folders on disk."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path

import pytest

from daemon.errors import MailboxError
from daemon.mailbox.maildir import MaildirMailbox


def make_maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    return root


def deliver(root: Path, name: str, message_id: str, body: str = "hello") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@example.com>"
    msg["To"] = "support@shop.example"
    msg["Subject"] = f"message {name}"
    msg["Message-ID"] = message_id
    msg.set_content(body)
    raw = bytes(msg)
    (root / "new" / name).write_bytes(raw)
    return raw


def collect(box: MaildirMailbox, cursor: str = "", batch: int = 50):
    return [raw for chunk in box.fetch_new(cursor, batch) for raw in chunk]


def test_new_messages_are_read_in_bounded_batches(tmp_path):
    root = make_maildir(tmp_path / "Maildir")
    for n in range(7):
        deliver(root, f"100{n}.M{n}.host", f"<m{n}@x>")
    box = MaildirMailbox(root)
    batches = list(box.fetch_new("", 3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert {raw.ref for b in batches for raw in b} == {f"100{n}.M{n}.host" for n in range(7)}


def test_marking_handled_moves_to_cur_unread_and_unaltered(tmp_path):
    root = make_maildir(tmp_path / "Maildir")
    raw = deliver(root, "1.M1.host", "<a@x>")
    box = MaildirMailbox(root)
    (item,) = collect(box)
    box.mark_handled(item.ref)
    assert list((root / "new").iterdir()) == []
    (moved,) = list((root / "cur").iterdir())
    assert moved.name == "1.M1.host:2,"  # no S flag: the seller still sees it unread
    assert moved.read_bytes() == raw


def test_cursor_skips_old_cur_messages_but_new_dir_is_always_read(tmp_path):
    root = make_maildir(tmp_path / "Maildir")
    deliver(root, "1.M1.host", "<a@x>")
    box = MaildirMailbox(root)
    (item,) = collect(box)
    box.mark_handled(item.ref)
    moved = next((root / "cur").iterdir())
    old = 1_000_000_000
    os.utime(moved, (old, old))
    # ctime cannot be set back; the cursor is what keeps it out, so place the cursor after it.
    cursor = str(max(moved.stat().st_mtime_ns, moved.stat().st_ctime_ns) + 10_000_000_000)
    assert collect(box, cursor) == []
    deliver(root, "2.M2.host", "<b@x>")
    assert [raw.ref for raw in collect(box, cursor)] == ["2.M2.host"]


def test_positions_never_go_backwards(tmp_path):
    root = make_maildir(tmp_path / "Maildir")
    for n in range(4):
        deliver(root, f"{n}.M.host", f"<p{n}@x>")
    os.utime(root / "new" / "2.M.host", (1, 1))
    positions = [int(raw.position.partition(":")[0]) for raw in collect(MaildirMailbox(root))]
    assert positions == sorted(positions)


def test_draft_is_filed_in_drafts_flagged_and_never_twice(tmp_path):
    root = make_maildir(tmp_path / "Maildir")
    box = MaildirMailbox(root)
    raw = b"From: shop@x\r\nMessage-ID: <r1@x>\r\nSubject: Re: hi\r\n\r\nbody\r\n"
    box.append_draft(raw, "<r1@x>")
    box.append_draft(raw, "<r1@x>")
    drafts = list((root / ".Drafts" / "cur").iterdir())
    assert len(drafts) == 1
    assert drafts[0].name.endswith(":2,DS")
    assert (root / ".Drafts" / "maildirfolder").exists()
    assert box.has_draft("<r1@x>")
    assert not box.has_draft("<other@x>")


def test_a_draft_saved_again_by_a_mail_client_is_still_found_by_message_id(tmp_path):
    root = make_maildir(tmp_path / "Maildir")
    box = MaildirMailbox(root)
    box.append_draft(b"Message-ID: <r2@x>\n\nbody\n", "<r2@x>")
    (draft,) = list((root / ".Drafts" / "cur").iterdir())
    draft.rename(root / ".Drafts" / "cur" / "1700000000.thunderbird.host:2,DS")
    assert box.has_draft("<r2@x>")
    box.append_draft(b"Message-ID: <r2@x>\n\nbody\n", "<r2@x>")
    assert len(list((root / ".Drafts" / "cur").iterdir())) == 1


def test_sent_copies_are_seen_and_listed_since_a_cursor(tmp_path):
    root = make_maildir(tmp_path / "Maildir")
    box = MaildirMailbox(root)
    box.append_sent(b"Message-ID: <s1@x>\n\nbody\n", "<s1@x>")
    assert box.has_sent("<s1@x>")
    (sent,) = [raw for chunk in box.sent_since("", 10) for raw in chunk]
    assert b"<s1@x>" in sent.data


def test_a_folder_that_is_not_a_maildir_is_a_one_line_error(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(MailboxError) as caught:
        MaildirMailbox(tmp_path / "plain")
    assert "not a Maildir" in str(caught.value) and "\n" not in str(caught.value)


def test_handled_mail_moved_to_cur_is_not_offered_again(tmp_path):
    """Moving new/ -> cur/ changes a file's ctime; the cursor goes by mtime, so it stays put."""
    root = make_maildir(tmp_path / "Maildir")
    for n in range(5):
        deliver(root, f"{n}.M.host", f"<h{n}@x>")
    box = MaildirMailbox(root)
    first = collect(box)
    for raw in first:
        box.mark_handled(raw.ref)
    assert collect(box, first[-1].position) == []
    deliver(root, "9.M.host", "<h9@x>")
    assert [raw.ref for raw in collect(box, first[-1].position)] == ["9.M.host"]
