"""A local Maildir (Maildir++ folders) as the seller's mailbox: the embedded default.

Handled messages move from `new/` to `cur/` with their flags untouched: that is what a mail
client does when it has *noticed* a message, so the seller still sees it unread. Message bytes
are never rewritten. Drafts go to the `.Drafts` folder with the `D` flag, which Dovecot,
Thunderbird and mutt all show as drafts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from daemon.errors import MailboxError
from daemon.models import RawMail

log = logging.getLogger(__name__)


HEADER_READ_LIMIT = 65536
"""Headers live in the first bytes of a message; reading more to find a Message-ID is waste."""


class MaildirMailbox:
    kind = "maildir"

    def __init__(
        self,
        path: Path,
        drafts_folder: str = "Drafts",
        sent_folder: str = "Sent",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._path = Path(path)
        self._drafts_name = drafts_folder
        self._sent_name = sent_folder
        self._sleep = sleep
        for sub in ("cur", "new", "tmp"):
            if not (self._path / sub).is_dir():
                raise MailboxError(f"maildir {self._path}: not a Maildir (no {sub}/ folder)")

    # -- reading ---------------------------------------------------------------------------

    def count_new(self, cursor: str) -> int:
        return len(_changed_since(self._path, cursor, whole_new=True))

    def fetch_new(self, cursor: str, batch_size: int) -> Iterator[list[RawMail]]:
        """Everything in new/, plus cur/ files changed since the cursor, oldest first.

        new/ is always read whole: handled mail leaves it, so what is there is unhandled (or
        was never marked after a crash). cur/ is filtered by time so a large, old mailbox is
        not re-read on every poll.
        """
        yield from _batches(_changed_since(self._path, cursor, whole_new=True), cursor, batch_size)

    def mark_handled(self, ref: str) -> None:
        """Move the message from new/ to cur/ keeping its flags: noticed, still unread.

        Delivery agents name files in new/ by their unique part alone, so the common case is one
        rename; only a file that already carries flags needs the directory listed.
        """
        new = self._path / "new"
        try:
            os.rename(new / ref, self._path / "cur" / f"{ref}:2,")
            return
        except FileNotFoundError:
            pass
        for entry in _scan(new):
            if _unique(entry.name) == ref:
                info = entry.name.partition(":")[2] or "2,"
                try:
                    os.rename(entry.path, self._path / "cur" / f"{ref}:{info}")
                except FileNotFoundError:
                    log.debug("maildir: %s already moved by someone else", ref)
                return

    # -- drafts and sent -------------------------------------------------------------------

    def has_draft(self, message_id: str) -> bool:
        return _holds(self._folder(self._drafts_name), message_id)

    def append_draft(self, raw: bytes, message_id: str) -> str:
        return self._append(self._drafts_name, raw, message_id, flags="DS")

    def has_sent(self, message_id: str) -> bool:
        return _holds(self._folder(self._sent_name), message_id)

    def append_sent(self, raw: bytes, message_id: str) -> str:
        return self._append(self._sent_name, raw, message_id, flags="S")

    def sent_since(self, cursor: str, batch_size: int) -> Iterator[list[RawMail]]:
        folder = self._folder(self._sent_name)
        yield from _batches(_changed_since(folder, cursor, whole_new=False), cursor, batch_size)

    def _folder(self, name: str) -> Path:
        """The Maildir++ folder `.Name`, created (with `maildirfolder`) when missing."""
        folder = self._path / f".{name}"
        if not (folder / "cur").is_dir():
            try:
                for sub in ("cur", "new", "tmp"):
                    (folder / sub).mkdir(parents=True, exist_ok=True)
                (folder / "maildirfolder").touch()
            except OSError as exc:
                raise MailboxError(f"maildir {folder}: cannot create folder: {exc.strerror}") from exc
        return folder

    def _append(self, folder_name: str, raw: bytes, message_id: str, flags: str) -> str:
        folder = self._folder(folder_name)
        existing = _find(folder, message_id)
        if existing:
            return existing
        # The unique part carries the Message-ID's hash, so the common retry check is a
        # directory listing rather than reading every draft's headers.
        unique = f"{int(time.time())}.aftersale-{_id_hash(message_id)}.{os.getpid()}"
        tmp = folder / "tmp" / unique
        target = folder / "cur" / f"{unique}:2,{flags}"
        try:
            with open(tmp, "wb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(tmp, target)
        except OSError as exc:
            raise MailboxError(f"maildir {folder}: cannot write: {exc.strerror}") from exc
        log.debug("maildir: filed %s in %s as %s", message_id, folder_name, target.name)
        return unique

    # -- waiting ---------------------------------------------------------------------------

    def wait_for_mail(self, timeout: float) -> bool:
        """Poll new/ once a second: cheap, and a local Maildir has no push."""
        deadline = time.monotonic() + timeout
        while True:
            if any(True for _ in _scan(self._path / "new")):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._sleep(min(1.0, left))

    def close(self) -> None:
        """Nothing is held open between calls."""

    def check(self) -> list[str]:
        new = sum(1 for _ in _scan(self._path / "new"))
        cur = sum(1 for _ in _scan(self._path / "cur"))
        return [
            f"maildir {self._path}: {new} new, {cur} seen",
            f"drafts folder: {self._folder(self._drafts_name)}",
            f"sent folder: {self._folder(self._sent_name)}",
        ]


def _changed_since(folder: Path, cursor: str, whole_new: bool) -> list[tuple[tuple[int, str], Path]]:
    """((mtime, name), path) of the folder's messages after the cursor, oldest first.

    mtime, not ctime: moving a handled message from new/ to cur/ changes its ctime but not its
    mtime, so handled mail does not come back. Ties on mtime (a bulk copy in one clock tick)
    are broken by name, so the cursor needs no slack that would re-offer recent mail.
    """
    since = _parse_cursor(cursor)
    found = []
    for subdir in ("new", "cur"):
        for entry in _scan(folder / subdir):
            key = (entry.stat(follow_symlinks=False).st_mtime_ns, _unique(entry.name))
            if (whole_new and subdir == "new") or key > since:
                found.append((key, Path(entry.path)))
    found.sort()
    return found


def _batches(found: list[tuple[tuple[int, str], Path]], cursor: str, batch_size: int) -> Iterator[list[RawMail]]:
    """Read the files a batch at a time; positions never go backwards, so a stored cursor is
    always safe even when new/ holds a message older than the last one handled."""
    batch: list[RawMail] = []
    position = _parse_cursor(cursor)
    for key, path in found:
        position = max(position, key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            log.info("maildir: %s vanished before it was read (moved by a mail client?)", path.name)
            continue
        except OSError as exc:
            raise MailboxError(f"maildir {path}: cannot read: {exc.strerror}") from exc
        batch.append(RawMail(ref=_unique(path.name), data=data, position=f"{position[0]}:{position[1]}"))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _parse_cursor(cursor: str) -> tuple[int, str]:
    stamp, _, name = cursor.partition(":")
    try:
        return (int(stamp), name)
    except ValueError:
        return (0, "")


def _scan(directory: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if not entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                    yield entry
    except FileNotFoundError:
        return


def _unique(name: str) -> str:
    return name.partition(":")[0]



def _id_hash(message_id: str) -> str:
    return hashlib.sha1(message_id.encode("utf-8", "replace")).hexdigest()[:20]


def _holds(folder: Path, message_id: str) -> bool:
    return bool(_find(folder, message_id))


def _find(folder: Path, message_id: str) -> str:
    """The unique name of the message with this Message-ID in the folder, or "".

    Our own files are found by name; a draft the seller saved again from a mail client gets
    a new name, so headers are read as a fallback (headers only, never whole bodies).
    """
    marker = f"aftersale-{_id_hash(message_id)}."
    entries = [entry for sub in ("cur", "new") for entry in _scan(folder / sub)]
    for entry in entries:
        if marker in entry.name:
            return _unique(entry.name)
    parser = BytesHeaderParser(policy=compat32)
    wanted = message_id.strip()
    # Files we wrote are named by their Message-ID's hash and were checked above; only files a
    # mail client saved (a draft the seller edited) need their headers read. This keeps a
    # backlog of thousands of drafts from costing a read of every draft per message.
    for entry in (entry for entry in entries if ".aftersale-" not in entry.name):
        try:
            with open(entry.path, "rb") as handle:
                head = handle.read(HEADER_READ_LIMIT)
        except OSError:
            continue
        headers = parser.parsebytes(head.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0])
        if str(headers.get("Message-ID", "")).strip() == wanted:
            return _unique(entry.name)
    return ""
