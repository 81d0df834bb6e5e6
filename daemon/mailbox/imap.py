"""The seller's mailbox on an IMAP server (the only module that imports imapclient).

What this module promises the seller, whatever the server:
- reading never changes their unread state: folders are opened read-only (EXAMINE) and bodies
  are fetched with BODY.PEEK[], which RFC 3501 6.4.5 defines as not setting \\Seen;
- a retried draft or sent copy is never filed twice: APPEND is preceded by a Message-ID search;
- a lost connection never hangs the daemon: every socket has a timeout, IDLE is checked in short
  slices and re-issued within RFC 2177's 29 minutes, and reconnects back off exponentially.

Cursors are `uidvalidity:lastuid` (RFC 3501 2.3.1.1): a UID means nothing once UIDVALIDITY
changes, so then the whole folder is offered again and the caller skips what it already handled.

One `ImapMailbox` holds one connection and is meant for one thread (imapclient is not
thread-safe); the scheduler runs its jobs one at a time for that reason.
"""

from __future__ import annotations

import email.parser
import email.policy
import imaplib
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import imapclient
from imapclient.exceptions import CapabilityError, LoginError
from imapclient.imapclient import DRAFTS, SENT

from daemon.net import check_choices, crlf, is_loopback, tls_context
from daemon.errors import MailboxAuthError, MailboxError
from daemon.models import RawMail

log = logging.getLogger(__name__)

T = TypeVar("T")


IDLE_RENEW_SECONDS = 25 * 60.0
"""RFC 2177: servers may drop a client idle for 30 minutes, so IDLE is re-issued before that."""
IDLE_SLICE_SECONDS = 15.0
"""How long one idle_check may block: short, so a silently dead socket is noticed soon."""
BACKOFF_MAX_SECONDS = 60.0
NOOP_AFTER_SECONDS = 120.0
"""A connection unused for longer is probed with NOOP before use: NAT boxes and servers drop
quiet connections, and finding out before a command beats finding out in the middle of one."""
HANDLED_KEYWORD = "$Aftersale"
"""Set on handled messages where the server allows keywords: visible in mail clients that show
keywords, and it never touches \\Seen."""

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)
_X509_HOSTNAME_MISMATCH = 62


class _ConnectionGone(Exception):
    """The connection is unusable (BYE, end of stream, reset, timeout); the text says why."""


@dataclass(frozen=True)
class _Cursor:
    uidvalidity: int | None
    last_uid: int

    @classmethod
    def parse(cls, text: str) -> _Cursor:
        validity, sep, uid = text.strip().partition(":")
        if not sep:
            if text.strip():
                log.warning("imap: cursor %r is not uidvalidity:uid: reading the folder from the start", text)
            return cls(None, 0)
        try:
            return cls(int(validity), int(uid))
        except ValueError:
            log.warning("imap: cursor %r is not uidvalidity:uid: reading the folder from the start", text)
            return cls(None, 0)


@dataclass(frozen=True)
class _Folder:
    name: str
    found_by: str
    """`special-use \\Drafts`, `name`, `created` or `missing`."""


class ImapMailbox:
    """An IMAP folder to read customer mail from, plus the Drafts and Sent folders."""

    kind = "imap"

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        username: str,
        secret: Callable[[], str],
        auth: str = "password",
        ca_file: Path | None = None,
        folder: str = "INBOX",
        drafts_folder: str = "Drafts",
        sent_folder: str = "Sent",
        timeout: float = 60.0,
        use_idle: bool = True,
        secret_source: str = "$IMAP_PASSWORD",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_choices("mailbox", security, auth)
        self._host = host
        self._port = port
        self._security = security
        self._username = username
        self._secret = secret
        self._auth = auth
        self._ca_file = Path(ca_file) if ca_file else None
        self._folder = folder
        self._wanted = {"drafts": (drafts_folder, DRAFTS), "sent": (sent_folder, SENT)}
        self._timeout = timeout
        self._use_idle = use_idle
        self._secret_source = secret_source
        self._clock = clock
        self._sleep = sleep
        self._where = f"imap {host}:{port}"
        self._client: imapclient.IMAPClient | None = None
        self._context: ssl.SSLContext | None = None
        self._selected: tuple[str, bool] | None = None
        self._selected_info: dict[bytes, Any] = {}
        self._folders: dict[str, _Folder] = {}
        self._failures = 0
        self._last_used = 0.0
        self._inbox_seen: tuple[int, int] | None = None
        """(uidvalidity, uidnext) as of the last fetch_new: newer mail means no need to IDLE."""
        self._keyword_allowed: bool | None = None

    # -- reading ---------------------------------------------------------------------------

    def fetch_new(self, cursor: str, batch_size: int) -> Iterator[list[RawMail]]:
        yield from self._read_after(self._folder, cursor, batch_size, remember=True)

    def sent_since(self, cursor: str, batch_size: int) -> Iterator[list[RawMail]]:
        folder = self._run("finding the Sent folder", lambda client: self._resolve(client, "sent", create=False))
        if folder.found_by == "missing":
            return
        yield from self._read_after(folder.name, cursor, batch_size, remember=False)

    def count_new(self, cursor: str) -> int:
        """How many messages fetch_new would offer: for the progress bar."""
        return len(self._uids_after(self._folder, _Cursor.parse(cursor))[1])

    def _read_after(self, folder: str, cursor: str, batch_size: int, remember: bool) -> Iterator[list[RawMail]]:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        validity, uids = self._uids_after(folder, _Cursor.parse(cursor), remember)
        for start in range(0, len(uids), batch_size):
            chunk = uids[start : start + batch_size]
            batch = self._run(f"reading {folder}", lambda client: self._fetch_bodies(client, folder, validity, chunk))
            if batch is None:
                return
            if batch:
                yield batch

    def _uids_after(self, folder: str, cursor: _Cursor, remember: bool = False) -> tuple[int, list[int]]:
        def search(client: imapclient.IMAPClient) -> tuple[int, list[int]]:
            info = self._select(client, folder, readonly=True, fresh=True)
            validity = int(info[b"UIDVALIDITY"])
            last = cursor.last_uid
            if cursor.uidvalidity is not None and cursor.uidvalidity != validity:
                log.warning(
                    "%s: %s was reset by the server (UIDVALIDITY %s, was %s): reading it all again; "
                    "messages handled before are skipped",
                    self._where, folder, validity, cursor.uidvalidity,
                )
                last = 0
            # `UID n:*` always matches the highest UID, even when it is below n (RFC 3501 6.4.8).
            uids = sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)
            if remember:
                uidnext = int(info.get(b"UIDNEXT", 0))
                self._inbox_seen = (validity, max([uidnext, *(uid + 1 for uid in uids[-1:])]))
            return validity, uids

        return self._run(f"searching {folder}", search)

    def _fetch_bodies(
        self, client: imapclient.IMAPClient, folder: str, validity: int, uids: list[int]
    ) -> list[RawMail] | None:
        """The messages' bytes in UID order; None when the folder was reset meanwhile."""
        info = self._select(client, folder, readonly=True)
        if int(info[b"UIDVALIDITY"]) != validity:
            log.warning("%s: %s was reset while being read: stopping here, the next poll rescans", self._where, folder)
            return None
        fetched = client.fetch(uids, [b"BODY.PEEK[]"])
        batch = []
        for uid in uids:
            data = fetched.get(uid, {}).get(b"BODY[]")
            if data is None:
                log.info("%s: %s uid %s vanished before it was read", self._where, folder, uid)
                continue
            ref = f"{validity}:{uid}"
            batch.append(RawMail(ref=ref, data=bytes(data), position=ref))
        return batch

    def mark_handled(self, ref: str) -> None:
        """Add the `$Aftersale` keyword where the server allows it; \\Seen is never touched.

        Best effort: a server without keywords, or a failure here, changes nothing else.
        """
        if self._keyword_allowed is False:
            return
        target = _Cursor.parse(ref)
        if target.uidvalidity is None:
            return

        def mark(client: imapclient.IMAPClient) -> None:
            info = self._select(client, self._folder, readonly=False)
            if int(info.get(b"UIDVALIDITY", 0)) != target.uidvalidity:
                return
            allowed = info.get(b"PERMANENTFLAGS", ())
            if b"\\*" not in allowed and HANDLED_KEYWORD.encode() not in allowed:
                log.info("%s: the server does not keep keywords: handled mail is not marked", self._where)
                self._keyword_allowed = False
                return
            self._keyword_allowed = True
            client.add_flags([target.last_uid], [HANDLED_KEYWORD], silent=True)

        try:
            self._run(f"marking {ref} handled", mark)
        except MailboxError as exc:
            log.warning("%s", exc)

    # -- drafts and sent -------------------------------------------------------------------

    def has_draft(self, message_id: str) -> bool:
        return bool(self._find("drafts", message_id))

    def append_draft(self, raw: bytes, message_id: str) -> str:
        return self._append("drafts", raw, message_id, flags=(b"\\Draft", b"\\Seen"))

    def has_sent(self, message_id: str) -> bool:
        return bool(self._find("sent", message_id))

    def append_sent(self, raw: bytes, message_id: str) -> str:
        return self._append("sent", raw, message_id, flags=(b"\\Seen",))

    def _find(self, role: str, message_id: str) -> str:
        def find(client: imapclient.IMAPClient) -> str:
            folder = self._resolve(client, role, create=False)
            if folder.found_by == "missing":
                return ""
            return self._search_message_id(client, folder.name, message_id)

        return self._run(f"searching {role}", find)

    def _search_message_id(self, client: imapclient.IMAPClient, folder: str, message_id: str) -> str:
        """`uidvalidity:uid` of the message whose Message-ID is exactly `message_id`, or "".

        SEARCH HEADER is a substring match (RFC 3501 6.4.4), so hits are confirmed by reading
        their Message-ID header.
        """
        wanted = _bare_id(message_id)
        if not wanted:
            return ""
        info = self._select(client, folder, readonly=True)
        charset = None if wanted.isascii() else "UTF-8"
        uids = client.search(["HEADER", "Message-ID", wanted], charset=charset)
        if not uids:
            return ""
        heads = client.fetch(sorted(uids), [b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
        for uid in sorted(uids):
            for key, value in heads.get(uid, {}).items():
                if key.upper().startswith(b"BODY[HEADER") and isinstance(value, bytes):
                    found = parser.parsebytes(value).get("Message-ID", "")
                    if _bare_id(str(found)) == wanted:
                        return f"{info[b'UIDVALIDITY']}:{uid}"
        return ""

    def _append(self, role: str, raw: bytes, message_id: str, flags: tuple[bytes, ...]) -> str:
        def append(client: imapclient.IMAPClient) -> str:
            folder = self._resolve(client, role, create=True)
            existing = self._search_message_id(client, folder.name, message_id)
            if existing:
                log.debug("%s: %s already in %s as %s", self._where, message_id, folder.name, existing)
                return existing
            response = client.append(folder.name, crlf(raw), flags=flags)
            # UIDPLUS (RFC 4315) names the new message; without it, find it by Message-ID.
            match = _APPENDUID.search(response if isinstance(response, bytes) else b"")
            handle = f"{int(match[1])}:{int(match[2])}" if match else self._search_message_id(client, folder.name, message_id)
            log.debug("%s: filed %s in %s as %s", self._where, message_id, folder.name, handle)
            return handle or folder.name

        return self._run(f"filing in {role}", append)

    def _resolve(self, client: imapclient.IMAPClient, role: str, create: bool) -> _Folder:
        """The Drafts or Sent folder: by SPECIAL-USE (RFC 6154), else by the configured name
        (also under the personal namespace, e.g. `INBOX.Drafts`), else created when asked."""
        known = self._folders.get(role)
        if known:
            return known
        wanted, flag = self._wanted[role]
        listing = client.list_folders()
        names = {name for _, _, name in listing}
        found = next((_Folder(name, f"special-use {flag.decode()}") for flags, _, name in listing if flag in flags), None)
        if found is None:
            prefixed = self._namespace_prefix(client) + wanted
            for candidate in (wanted, prefixed):
                if candidate in names:
                    found = _Folder(candidate, "name")
                    break
        if found is None and create:
            found = self._create(client, wanted)
        if found is None:
            return _Folder(wanted, "missing")  # not remembered: the seller may create it any time
        self._folders[role] = found
        return found

    def _namespace_prefix(self, client: imapclient.IMAPClient) -> str:
        if not client.has_capability("NAMESPACE"):
            return ""
        personal = client.namespace().personal or ()
        return str(personal[0][0]) if personal and personal[0] else ""

    def _create(self, client: imapclient.IMAPClient, wanted: str) -> _Folder:
        try:
            client.create_folder(wanted)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error:
            # Servers like Courier keep every folder under `INBOX.`: try the namespace's prefix.
            prefixed = self._namespace_prefix(client) + wanted
            if prefixed == wanted:
                raise
            client.create_folder(prefixed)
            wanted = prefixed
        log.info("%s: created folder %s", self._where, wanted)
        return _Folder(wanted, "created")

    # -- waiting ---------------------------------------------------------------------------

    def wait_for_mail(self, timeout: float) -> bool:
        """IDLE on the folder until new mail or `timeout`; without IDLE, just sleep (poll).

        Returns False, never raises, when the connection fails: the next call reconnects
        (with backoff), so a flaky server slows the daemon down but never stops it. Only a
        refused login is raised, since retrying cannot fix it.
        """
        if timeout <= 0:
            return False
        if not self._use_idle:
            self._sleep(timeout)
            return False
        deadline = self._clock() + timeout
        if self._client is None and self._backoff_seconds() > timeout:
            self._sleep(timeout)
            return False
        try:
            client = self._connected()
            if not client.has_capability("IDLE"):
                self._sleep(max(0.0, deadline - self._clock()))
                return False
            if self._arrived_since_fetch(client):
                return True
            return self._idle(client, min(deadline, self._clock() + IDLE_RENEW_SECONDS))
        except MailboxAuthError:
            raise
        except MailboxError as exc:
            log.warning("%s", exc)
            return False
        except (_ConnectionGone, imaplib.IMAP4.error, OSError) as exc:
            # Whatever broke mid-IDLE, the connection's state is unknown: start afresh.
            log.info("%s: connection lost while waiting for mail (%s): reconnecting on next use", self._where, _cause(exc))
            self._lose_connection()
            return False

    def _arrived_since_fetch(self, client: imapclient.IMAPClient) -> bool:
        """Mail that came between the last fetch and IDLE would otherwise wait a whole timeout."""
        info = self._select(client, self._folder, readonly=True, fresh=True)
        if self._inbox_seen is None:
            return False
        validity, uidnext = self._inbox_seen
        return int(info[b"UIDVALIDITY"]) != validity or int(info.get(b"UIDNEXT", 0)) > uidnext

    def _idle(self, client: imapclient.IMAPClient, end: float) -> bool:
        client.idle()
        arrived = False
        while not arrived:
            left = end - self._clock()
            if left <= 0:
                break
            window = min(left, IDLE_SLICE_SECONDS)
            started = self._clock()
            responses = client.idle_check(timeout=window)
            arrived = _signals_new_mail(responses)
            if not responses and self._clock() - started < min(window, 1.0) / 2:
                # The socket was readable but held no line: end of stream. imapclient swallows
                # EOF here, and would return [] at once forever; idle_done() below raises.
                break
        _, late = client.idle_done()
        self._failures = 0
        self._last_used = self._clock()
        return arrived or _signals_new_mail(late)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        client, self._client = self._client, None
        self._selected = None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone; nothing to save
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass

    def check(self) -> list[str]:
        """Connect, log in and describe the folders that will be used (for `check-config`).

        Creates nothing: a missing Drafts or Sent folder is reported, and made on first use.
        """

        def describe(client: imapclient.IMAPClient) -> list[str]:
            info = self._select(client, self._folder, readonly=True, fresh=True)
            lines = [
                f"{self._where} ({self._security}): logged in as {self._username}",
                f"folder {self._folder}: {info.get(b'EXISTS', 0)} messages",
            ]
            for role in ("drafts", "sent"):
                folder = self._resolve(client, role, create=False)
                if folder.found_by == "missing":
                    lines.append(f"{role} folder: {folder.name} does not exist yet (created on first use)")
                else:
                    lines.append(f"{role} folder: {folder.name} (found by {folder.found_by})")
            if self._use_idle:
                idle = "IDLE: new mail is pushed" if client.has_capability("IDLE") else "IDLE not offered: polling"
                lines.append(idle)
            return lines

        return self._run("checking the mailbox", describe)

    def _run(self, action: str, step: Callable[[imapclient.IMAPClient], T]) -> T:
        """Run one step on a live connection, turning every failure into a one-line error.

        A connection that had been lying unused may have been dropped by the server or a NAT
        box without a word: the step is then tried once more on a new connection. Every step
        is safe to repeat (reads, and appends that search for their Message-ID first).
        """
        reused = self._client is not None
        try:
            return self._attempt(action, step)
        except _ConnectionGone as gone:
            if not reused:
                raise MailboxError(f"{self._where}: connection lost while {action} ({gone})") from gone
            log.info("%s: connection dropped (%s): %s again on a new connection", self._where, gone, action)
        try:
            return self._attempt(action, step)
        except _ConnectionGone as gone:
            raise MailboxError(f"{self._where}: connection lost while {action} ({gone})") from gone

    def _attempt(self, action: str, step: Callable[[imapclient.IMAPClient], T]) -> T:
        client = self._connected()
        try:
            result = step(client)
        except imaplib.IMAP4.abort as exc:
            self._lose_connection(count=False)
            raise _ConnectionGone(_cause(exc)) from exc
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"{self._where}: {action} failed: {_server_text(exc)}") from exc
        except OSError as exc:
            self._lose_connection(count=False)
            raise _ConnectionGone(_cause(exc, self._timeout)) from exc
        self._failures = 0
        self._last_used = self._clock()
        return result

    def _connected(self) -> imapclient.IMAPClient:
        if self._client is not None and self._clock() - self._last_used > NOOP_AFTER_SECONDS:
            try:
                self._client.noop()
                self._last_used = self._clock()
            except (imaplib.IMAP4.error, OSError) as exc:
                log.info("%s: unused connection went away (%s): reconnecting", self._where, _cause(exc))
                self._lose_connection(count=False)
        if self._client is None:
            delay = self._backoff_seconds()
            if delay:
                log.info("%s: reconnecting in %g s", self._where, delay)
                self._sleep(delay)
            try:
                self._client = self._open()
            except MailboxAuthError:
                raise
            except MailboxError:
                self._failures += 1
                raise
            self._last_used = self._clock()
        return self._client

    def _backoff_seconds(self) -> float:
        """1, 2, 4 ... 60 s after consecutive failures: a down server is not hammered."""
        if self._failures == 0:
            return 0.0
        return min(BACKOFF_MAX_SECONDS, 2.0 ** (self._failures - 1))

    def _lose_connection(self, count: bool = True) -> None:
        """Forget a broken connection; `count` it towards the backoff unless it merely went
        stale while unused (that says nothing about the server's health)."""
        client, self._client = self._client, None
        self._selected = None
        self._folders.clear()
        if count:
            self._failures += 1
        if client is not None:
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001 - already broken; only the socket is left to free
                pass

    def _open(self) -> imapclient.IMAPClient:
        context = self._tls_context() if self._security != "none" else None
        try:
            client = imapclient.IMAPClient(
                self._host,
                self._port,
                ssl=self._security == "ssl",
                ssl_context=context if self._security == "ssl" else None,
                timeout=self._timeout,
            )
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"{self._where}: {_connect_cause(exc, self._host, self._timeout)}") from exc
        try:
            if self._security == "starttls" and context is not None:
                self._starttls(client, context)
            elif self._security == "none" and not is_loopback(self._host):
                log.warning("%s: security = \"none\": the password crosses the network unencrypted", self._where)
            self._login(client)
        except BaseException:
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass
            raise
        return client

    def _tls_context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = tls_context(self._ca_file, "mailbox")
        return self._context

    def _starttls(self, client: imapclient.IMAPClient, context: ssl.SSLContext) -> None:
        try:
            client.starttls(context)
        except CapabilityError as exc:
            raise MailboxError(
                f'{self._where}: the server does not offer STARTTLS (set [mailbox] security = "ssl" or "none")'
            ) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"{self._where}: {_connect_cause(exc, self._host, self._timeout)}") from exc

    def _login(self, client: imapclient.IMAPClient) -> None:
        secret = self._secret()
        what = "access token" if self._auth == "xoauth2" else "password"
        try:
            if self._auth == "xoauth2":
                client.oauth2_login(self._username, secret)
            else:
                client.login(self._username, secret)
        except LoginError as exc:
            if isinstance(exc.__context__, imaplib.IMAP4.abort):  # imapclient reports a drop as a refusal
                raise MailboxError(f"{self._where}: connection lost while logging in ({_cause(exc.__context__)})") from exc
            said = _server_text(exc)
            if "PRIVACYREQUIRED" in said.upper() or "LOGINDISABLED" in said.upper():
                raise MailboxError(
                    f'{self._where}: the server refuses logins without TLS (set [mailbox] security = "starttls" or "ssl")'
                ) from exc
            if "UNAVAILABLE" in said.upper():
                raise MailboxError(f"{self._where}: login is temporarily unavailable: {said}") from exc
            raise MailboxAuthError(
                f'{self._where}: login refused for user "{self._username}" '
                f"(check [mailbox] username and the {what} in {self._secret_source}); server said: {said}"
            ) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"{self._where}: connection lost while logging in ({_cause(exc, self._timeout)})") from exc
        log.debug("%s: logged in as %s", self._where, self._username)

    def _select(self, client: imapclient.IMAPClient, folder: str, readonly: bool, fresh: bool = False) -> dict[bytes, Any]:
        """Open `folder` unless it is already open the same way; `fresh` re-reads its state."""
        if fresh or self._selected != (folder, readonly):
            self._selected = None
            try:
                self._selected_info = client.select_folder(folder, readonly=readonly)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as exc:
                raise MailboxError(f'{self._where}: folder "{folder}" cannot be opened: {_server_text(exc)}') from exc
            self._selected = (folder, readonly)
        return self._selected_info


# -- helpers -------------------------------------------------------------------------------------


def _signals_new_mail(responses: Sequence[Any]) -> bool:
    """EXISTS (or a non-zero RECENT) means mail arrived; BYE means the server is leaving."""
    arrived = False
    for response in responses:
        if not isinstance(response, tuple) or len(response) < 1:
            continue
        if response[0] == b"BYE":
            words = b" ".join(part for part in response[1:] if isinstance(part, bytes))
            raise _ConnectionGone(f"server said BYE: {words.decode('ascii', 'replace')}".strip())
        if len(response) >= 2 and isinstance(response[0], int):
            if response[1] == b"EXISTS" or (response[1] == b"RECENT" and response[0] > 0):
                arrived = True
    return arrived


def _bare_id(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()




def _server_text(exc: BaseException) -> str:
    """The server's own words from an imaplib error, on one line."""
    text = str(exc)
    text = re.sub(r"^\w+ failed: ", "", text)
    if text.startswith(("b'", 'b"')) and text.endswith(("'", '"')):
        text = text[2:-1]
    text = " ".join(text.split())
    return text[:200] or type(exc).__name__


def _cause(exc: BaseException, timeout: float | None = None) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s" if timeout else "timed out"
    if isinstance(exc, _ConnectionGone):
        return str(exc)
    if isinstance(exc, imaplib.IMAP4.error):
        return _server_text(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split()) or type(exc).__name__


def _connect_cause(exc: BaseException, host: str, timeout: float) -> str:
    """Why a connection could not be made, in words a seller can act on."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or "verification failed"
        if exc.verify_code == _X509_HOSTNAME_MISMATCH:
            return f"TLS certificate is not for {host}: {reason} (check [mailbox] host)"
        return f"TLS certificate not trusted: {reason} (set [mailbox] ca_file)"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or _cause(exc)
        return f"TLS handshake failed: {reason} (check [mailbox] port and security)"
    if isinstance(exc, socket.gaierror):
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return "name not found (check [mailbox] host)"
        return f"name lookup failed: {exc.strerror}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (check [mailbox] host and port)"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, imaplib.IMAP4.error):
        return f"the server refused the connection: {_server_text(exc)}"
    return _cause(exc, timeout)
