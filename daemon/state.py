"""The state store: every fact Aftersale must remember between runs, in TinyDB files on disk.

Why it is shaped like this
--------------------------
A seller runs Aftersale for years, so history grows past 100,000 tickets and handled messages.
TinyDB rewrites a whole JSON file on every write, so one big file would make each message cost
more than the last. The store is therefore split into many small files ("shards"), and every
operation on one message reads and writes only a handful of them, whose size does not depend on
how much history there is (or grows so slowly that it does not matter: see the hashed shards).

Layout of the state directory (mode 0700; every file 0600)::

    meta.json                  schema version and the next ticket id
    cursors.json               mailbox cursors by name ("maildir:inbox", "imap:sent", ...)
    open/<id // 100>.json      summaries of tickets that are not closed: listing tickets and
                               the SLA clock cost O(open), never O(history). A ticket leaves it
                               when closed. (Resolved tickets stay until they are closed, so the
                               auto-close sweep finds them here.)
    intents.json               replies being filed or sent, until finished (crash recovery)
    followups.json             pending follow-ups only; a done or cancelled one leaves it
    handled/<abc>.json         one record per handled message, sharded by the first three hex
                               digits of sha1(message key): 4,096 shards, about 25 records each
                               at 100,000 messages
    tickets/<id // 100>.json   whole tickets (events included), 100 per shard
    index/<abc>.json           threading index, key -> ticket id, sharded like handled/, for
                               keys "msgid:<message-id>", "order:<order id>" and
                               "conv:<customer>|<normalised subject>"
    followups_done/<id // 100>.json
                               follow-up steps finished or cancelled, per ticket, so a step is
                               never scheduled twice for the same ticket
    relabels/<yyyy-mm>.json    relabels done by hand: the customer's words and both labels,
                               kept as training data
    auto_sent/<yyyy-mm-dd>.json
                               automatic messages per customer per day (the daily cap); days
                               older than a week are pruned as new days are written
    .write.lock                held while a writer changes anything (CLI and daemon never
                               interleave half-done updates)
    .daemon.lock, .daemon.pid  held for a whole `once`/`run`: one daemon per store

Every file is a plain TinyDB database (one table, `_default`), so `TinyDB(path)` can open any of
them for inspection. Records in a file are found by their `key` field.

Writes are atomic (temporary file in the same directory, fsync, rename, fsync of the directory):
a crash or a full disk leaves the previous content, never half a file. Reads always come from
disk, so a CLI command sees what the daemon just wrote. Reads take no lock: a rename is atomic.
A damaged file is reported (StoreError naming it), never silently replaced by an empty one,
because an empty `handled` shard would make Aftersale answer old mail a second time.
"""

from __future__ import annotations

import base64
import errno
import functools
import hashlib
import json
import logging
import os
import re
import secrets
import types
import typing
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout
from tinydb import Storage, where
from tinydb.table import Table

from daemon.errors import StoreError, StoreLockedError
from daemon.models import Ticket
from daemon.subjects import normalise_subject

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TICKETS_PER_SHARD = 100
HASH_DIGITS = 3
"""Hex digits of sha1 naming a hashed shard: 4,096 files per hashed table."""
AUTO_SENT_DAYS_KEPT = 7
TABLE = "_default"
"""TinyDB's own default table name, so plain `TinyDB(path)` reads our files."""

FILE_MODE = 0o600
DIR_MODE = 0o700

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# -- storage ---------------------------------------------------------------------------------


def atomic_write(path: Path, payload: bytes, fsync: bool = True, write: Callable[[Any, bytes], None] | None = None) -> None:
    """Replace `path` with `payload` all at once: readers and crashes see the old or the new
    file, never a mix. The file is created 0600 because it holds customers' mail."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = _create(tmp)
        with os.fdopen(fd, "wb") as handle:
            (write or _write_all)(handle, payload)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"could not write state file {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if fsync:
        _fsync_dir(path.parent)


_TMP_NAME = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$")


def _writer_pid(name: str) -> int:
    """The pid atomic_write put in a temp file's name, or 0 for any other file."""
    match = _TMP_NAME.match(name)
    return int(match.group(1)) if match else 0


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else: leave its files alone
    return True


def _write_all(handle: Any, payload: bytes) -> None:
    handle.write(payload)


def _create(tmp: Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(tmp, flags, FILE_MODE)
    except FileNotFoundError:
        # First write into a shard folder: make it, private like the state dir.
        make_private_dir(tmp.parent)
        return os.open(tmp, flags, FILE_MODE)


def make_private_dir(path: Path) -> None:
    """Create `path` (and parents) as 0700; an existing directory is left as it is."""
    if path.is_dir():
        return
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask
    except FileExistsError:
        raise StoreError(f"state path {path} exists and is not a directory") from None
    except OSError as exc:
        raise StoreError(f"could not create state directory {path}: {exc.strerror or exc}") from None


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable (a crash right after must not bring back the old file)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):  # some filesystems cannot fsync a dir
            raise StoreError(f"could not sync state directory {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def encode_json(data: object) -> bytes:
    """UTF-8 JSON, readable for every script; hostile mail may carry lone surrogates that
    UTF-8 cannot hold, and then the file falls back to \\u escapes instead of failing."""
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class AtomicJSONStorage(Storage):
    """TinyDB storage that writes by atomic rename and reads from disk every time.

    The stock JSONStorage truncates and rewrites in place (a crash leaves half a file) and
    keeps a handle open; this one keeps nothing between calls, so several processes can share
    the files under the store's write lock.
    """

    def __init__(self, path: Path | str, fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"could not read state file {self.path}: {exc.strerror or exc}") from None
        return self._decode(raw)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, encode_json(data), self.fsync, self._write_payload)

    def _write_payload(self, handle: Any, payload: bytes) -> None:
        """The one step a test may override to fail mid-write."""
        handle.write(payload)

    def _decode(self, raw: bytes) -> dict[str, dict[str, Any]]:
        if not raw.strip():
            raise StoreError(f"state file {self.path} is empty (cut short?); restore it from a backup or move it aside")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise StoreError(
                f"state file {self.path} is not valid JSON ({exc.msg}, line {exc.lineno}); restore it from a backup or move it aside"
            ) from None
        except UnicodeDecodeError:
            raise StoreError(f"state file {self.path} is not UTF-8 text; restore it from a backup or move it aside") from None
        if not isinstance(data, dict) or not all(isinstance(table, dict) for table in data.values()):
            raise StoreError(f"state file {self.path} is not a TinyDB database (expected an object of tables)")
        return data


class ShardTable:
    """One state file seen as records found by a unique string `key`.

    The one place that talks to TinyDB's Table, so every table of the store (tickets, index,
    handled, cursors...) shares the same read, write and error handling. A fresh Table is
    built per call with its query cache off: nothing is remembered between calls.
    """

    def __init__(self, path: Path, fsync: bool) -> None:
        self.path = path
        self._storage = AtomicJSONStorage(path, fsync)
        self._table = Table(self._storage, TABLE, cache_size=0)

    def get(self, key: str) -> dict[str, Any] | None:
        found = self._table.get(where("key") == key)
        return dict(found) if found is not None else None

    def all(self) -> list[dict[str, Any]]:
        return [dict(document) for document in self._table.all()]

    def put(self, key: str, record: Mapping[str, Any]) -> None:
        self.put_many({key: record})

    def put_many(self, records: Mapping[str, Mapping[str, Any]]) -> None:
        """Insert or replace records by key with one read and at most one write of the file.

        Going through TinyDB's Table here read and decoded the whole file three times per
        write (all, update, insert); on the hot path of every message that dominated.
        """
        data = self._storage.read() or {}
        documents = data.setdefault(TABLE, {})
        by_key = {document.get("key"): doc_id for doc_id, document in documents.items()}
        changed = False
        next_id = max((int(doc_id) for doc_id in documents), default=0) + 1
        for key, record in records.items():
            wanted = {"key": key, **record}
            doc_id = by_key.get(key)
            if doc_id is None:
                documents[str(next_id)] = wanted
                by_key[key] = str(next_id)
                next_id += 1
                changed = True
            elif documents[doc_id] != json.loads(encode_json(wanted)):
                documents[doc_id] = wanted
                changed = True
        if changed:
            self._storage.write(data)

    def append(self, record: Mapping[str, Any]) -> None:
        """Add a record that no one looks up by key (training data)."""
        self._table.insert(dict(record))

    def delete(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        """Remove the records with these keys (one read, one write); return what was removed."""
        wanted = set(keys)
        data = self._storage.read() or {}
        documents = data.get(TABLE, {})
        gone = {doc_id: document for doc_id, document in documents.items() if document.get("key") in wanted}
        if gone:
            for doc_id in gone:
                del documents[doc_id]
            self._storage.write(data)
        return [dict(document) for document in gone.values()]

    def load(self, cls: type[T], record: Mapping[str, Any]) -> T:
        """Turn a record back into its dataclass; a damaged record names this file."""
        try:
            return from_json(cls, record)
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"state file {self.path}: record {record.get('key')!r} is damaged ({exc})") from None


def _overwrite(document: dict[str, Any], record: Mapping[str, Any]) -> None:
    document.clear()
    document.update(record)


# -- JSON <-> dataclasses ----------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """Dataclasses to plain JSON: datetimes ISO 8601 with offset, tuples as lists, bytes base64.

    Dispatches on the exact type first: bulk imports encode millions of values.
    """
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is tuple or kind is list:
        return [item if type(item) is str else to_json(item) for item in value]
    names = getattr(kind, "__dataclass_fields__", None)
    if names is not None:
        return {name: to_json(getattr(value, name)) for name in names}
    if isinstance(value, datetime):
        return aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def from_json(cls: type[T], data: Mapping[str, Any]) -> T:
    """The inverse of `to_json`, driven by the dataclass's type hints. Fields missing from old
    records take their default, so adding a field with a default needs no migration."""
    hints = _hints(cls)
    values = {field.name: _decode(hints[field.name], data[field.name]) for field in fields(cls) if field.name in data}
    return cls(**values)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _decode(next(arg for arg in typing.get_args(hint) if arg is not type(None)), value)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in value)
        return tuple(_decode(arg, item) for arg, item in zip(args, value, strict=True))
    if is_dataclass(hint):
        return from_json(hint, value)
    if hint is datetime:
        return aware(datetime.fromisoformat(value))
    if hint is date:
        return date.fromisoformat(value)
    if hint is bytes:
        return base64.b64decode(value, validate=True)
    if hint in (int, str, bool) and not isinstance(value, hint):
        raise TypeError(f"expected {hint.__name__}, found {type(value).__name__}")
    if hint is float and not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, found {type(value).__name__}")
    return value


def aware(moment: datetime) -> datetime:
    """A naive datetime is taken as UTC: every time in the store carries an offset."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# -- values other modules get from the store ---------------------------------------------------


@dataclass(frozen=True)
class TicketSummary:
    """What the ticket list and the SLA clock need, kept for open tickets only."""

    id: int
    customer: str
    customer_name: str
    subject: str
    label: str
    status: str
    language: str
    created_at: datetime
    updated_at: datetime
    last_customer_at: datetime | None
    answered_at: datetime | None
    order_id: str

    @classmethod
    def of(cls, ticket: Ticket) -> TicketSummary:
        return cls(**{field.name: getattr(ticket, field.name) for field in fields(cls)})


@dataclass(frozen=True)
class Intent:
    """A reply about to be filed or sent: written before the outbox acts and removed after,
    so a crash in between is found and settled at the next start, never repeated blindly."""

    id: str
    kind: str
    """draft or send."""
    message_id: str
    ticket_id: int
    message_key: str
    created_at: datetime
    raw: bytes
    purpose: str


@dataclass(frozen=True)
class FollowUp:
    id: str
    """f"{ticket_id}:{step}": one step per ticket, ever."""
    ticket_id: int
    step: str
    template: str
    due_at: datetime
    label: str
    created_at: datetime


# -- threading keys ----------------------------------------------------------------------------

def message_id_key(message_id: str) -> str:
    """Index key for a Message-ID; angle brackets are optional in the wild, so they go."""
    return "msgid:" + message_id.strip().strip("<>").strip()


def order_key(order_id: str) -> str:
    return "order:" + order_id.strip().casefold()


def conversation_key(customer: str, subject: str) -> str:
    """"" when there is nothing to thread on: a blank subject would join unrelated mail."""
    normalised = normalise_subject(subject)
    who = customer.strip().casefold()
    return f"conv:{who}|{normalised}" if who and normalised else ""


def ticket_index_keys(ticket: Ticket) -> list[str]:
    keys = [message_id_key(mid) for mid in ticket.message_ids if mid.strip().strip("<>")]
    if ticket.order_id.strip():
        keys.append(order_key(ticket.order_id))
    conversation = conversation_key(ticket.customer, ticket.subject)
    if conversation:
        keys.append(conversation)
    return list(dict.fromkeys(keys))


def shard_of(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_DIGITS]


# -- the store ---------------------------------------------------------------------------------


class Store:
    """Everything Aftersale remembers. Pass one in; never reach for a global."""

    def __init__(
        self,
        path: Path,
        clock: Callable[[], datetime] = utc_now,
        fsync: bool = True,
        lock_timeout: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._fsync = fsync
        self._lock_timeout = lock_timeout
        make_private_dir(self.path)
        # Singleton: two Store objects on one directory in one thread share the lock (no
        # self-deadlock); other threads and processes still wait for it.
        self._write_lock = FileLock(self.path / ".write.lock", mode=FILE_MODE, is_singleton=True)
        self._daemon_lock = FileLock(self.path / ".daemon.lock", mode=FILE_MODE)
        self._check_schema()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def _table(self, relative: str) -> ShardTable:
        return ShardTable(self.path / relative, self._fsync)

    def _check_schema(self) -> None:
        meta = self._table("meta.json").get("schema")
        version = meta["value"] if meta else SCHEMA_VERSION
        if version > SCHEMA_VERSION:
            raise StoreError(f"state dir {self.path} was written by a newer Aftersale (schema {version}, this one reads {SCHEMA_VERSION})")

    # -- locks -------------------------------------------------------------------------------

    @contextmanager
    def writer(self) -> Iterator[Store]:
        """Hold the write lock for a whole change (re-entrant), so a CLI `resolve` and the
        daemon never interleave half-done updates. Every changing method takes it too."""
        try:
            self._write_lock.acquire(timeout=self._lock_timeout)
        except Timeout:
            raise StoreLockedError(
                f"state dir {self.path} is busy: its write lock stayed taken for {self._lock_timeout:g} s"
                f"{self._holder_note()}; try again"
            ) from None
        try:
            yield self
        finally:
            self._write_lock.release()

    @contextmanager
    def claim_daemon(self) -> Iterator[Store]:
        """One `once`/`run` per store: a second one would answer the same mail twice."""
        try:
            self._daemon_lock.acquire(blocking=False)
        except Timeout:
            raise StoreLockedError(
                f"state dir {self.path} is in use by another aftersale process (pid {self._daemon_pid() or 'unknown'})"
            ) from None
        pid_file = self.path / ".daemon.pid"
        try:
            atomic_write(pid_file, f"{os.getpid()}\n".encode("ascii"), fsync=False)
            self._sweep_crash_leftovers()
            yield self
        finally:
            pid_file.unlink(missing_ok=True)
            self._daemon_lock.release()

    def _sweep_crash_leftovers(self) -> None:
        """Delete half-written temp files whose writer died (a kill between create and rename).

        They hold nothing the store needs (the rename never happened), but over years of
        restarts they would pile up. A file whose writer still runs (a CLI command now) stays.
        """
        removed = 0
        for tmp in self.path.rglob(".*.tmp"):
            pid = _writer_pid(tmp.name)
            if pid and not _process_alive(pid):
                tmp.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("removed %d temp file(s) left by an interrupted write in %s", removed, self.path)

    def _daemon_pid(self) -> str:
        try:
            return (self.path / ".daemon.pid").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return ""

    def _holder_note(self) -> str:
        pid = self._daemon_pid()
        return f" (the daemon runs as pid {pid})" if pid else ""

    # -- handled messages --------------------------------------------------------------------

    def _handled(self, key: str) -> ShardTable:
        return self._table(f"handled/{shard_of(key)}.json")

    def is_handled(self, key: str) -> bool:
        return self.handled_record(key) is not None

    def handled_record(self, key: str) -> dict[str, Any] | None:
        return self._handled(key).get(key)

    def mark_handled(self, key: str, ticket_id: int | None, outcome: str, ref: str = "") -> None:
        record = {"at": to_json(self._clock()), "outcome": outcome, "ticket_id": ticket_id, "ref": ref}
        with self.writer():
            self._handled(key).put(key, record)

    # -- tickets -----------------------------------------------------------------------------

    def _tickets(self, ticket_id: int) -> ShardTable:
        return self._table(f"tickets/{ticket_id // TICKETS_PER_SHARD}.json")

    def new_ticket_id(self) -> int:
        with self.writer():
            meta = self._table("meta.json")
            found = meta.get("next_ticket_id")
            ticket_id = found["value"] if found else 1
            meta.put_many({"next_ticket_id": {"value": ticket_id + 1}, "schema": {"value": SCHEMA_VERSION}})
        return ticket_id

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        shard = self._tickets(ticket_id)
        record = shard.get(str(ticket_id))
        return shard.load(Ticket, record) if record else None

    def save_ticket(self, ticket: Ticket) -> None:
        """Write the ticket, its threading keys and its open summary.

        The index goes first: a crash after it leaves keys pointing at a ticket that is not
        there yet, which `find_ticket` skips; the other order could leave a ticket no reply
        ever finds. The open summary goes last; the next save of the ticket repairs it.
        """
        with self.writer():
            self._index_ticket(ticket)
            self._tickets(ticket.id).put(str(ticket.id), to_json(ticket))
            self._update_open(ticket)

    def _index_ticket(self, ticket: Ticket) -> None:
        by_shard: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for key in ticket_index_keys(ticket):
            by_shard[shard_of(key)][key] = {"ticket_id": ticket.id}
        for shard, entries in by_shard.items():
            self._table(f"index/{shard}.json").put_many(entries)

    def _open_shard(self, ticket_id: int) -> ShardTable:
        return self._table(f"open/{ticket_id // TICKETS_PER_SHARD}.json")

    def _update_open(self, ticket: Ticket) -> None:
        open_table = self._open_shard(ticket.id)
        if ticket.status == "closed":
            open_table.delete([str(ticket.id)])
        else:
            open_table.put(str(ticket.id), to_json(TicketSummary.of(ticket)))

    def open_tickets(self) -> list[TicketSummary]:
        """Every ticket not closed, oldest first; costs O(open tickets), not O(history)."""
        summaries = []
        for path in sorted((self.path / "open").glob("*.json")):
            table = ShardTable(path, self._fsync)
            summaries.extend(table.load(TicketSummary, record) for record in table.all())
        return sorted(summaries, key=lambda summary: summary.id)

    def find_ticket(
        self,
        message_ids: Sequence[str],
        order_id: str,
        customer: str,
        subject: str,
        now: datetime,
        window: timedelta,
    ) -> Ticket | None:
        """The conversation a message belongs to: by its threading headers, else by the order,
        else by the same customer and subject seen within `window`."""
        for key in dict.fromkeys(message_id_key(mid) for mid in message_ids if mid and mid.strip().strip("<>")):
            ticket = self._ticket_at(key)
            if ticket:
                return ticket
        if order_id.strip():
            ticket = self._ticket_at(order_key(order_id))
            if ticket:
                return ticket
        conversation = conversation_key(customer, subject)
        if conversation:
            ticket = self._ticket_at(conversation)
            if ticket and ticket.updated_at >= aware(now) - window:
                return ticket
        return None

    def _ticket_at(self, key: str) -> Ticket | None:
        """The ticket an index key points at; a key left by a crashed save points at nothing."""
        entry = self._table(f"index/{shard_of(key)}.json").get(key)
        return self.get_ticket(entry["ticket_id"]) if entry else None

    # -- cursors -----------------------------------------------------------------------------

    def get_cursor(self, name: str) -> str:
        record = self._table("cursors.json").get(name)
        return record["value"] if record else ""

    def set_cursor(self, name: str, value: str) -> None:
        with self.writer():
            self._table("cursors.json").put(name, {"value": value})

    # -- orders ------------------------------------------------------------------------------

    def put_orders(self, orders: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
        """Store order records (from the order report) by order id; return (new, updated).

        Sharded like the handled records, so importing a day's report costs the same with a
        year of orders behind it.
        """
        by_shard: dict[str, dict[str, Mapping[str, Any]]] = defaultdict(dict)
        for order_id, record in orders.items():
            by_shard[shard_of(order_id)][order_id] = record
        new = updated = 0
        with self.writer():
            for shard, records in by_shard.items():
                table = self._table(f"orders/{shard}.json")
                for order_id, record in records.items():
                    old = table.get(order_id)
                    if old is None:
                        new += 1
                    elif {k: v for k, v in old.items() if k != "key"} != dict(record):
                        updated += 1
                table.put_many(records)
        return new, updated

    def get_order(self, order_id: str) -> dict[str, Any] | None:
        if not order_id:
            return None
        record = self._table(f"orders/{shard_of(order_id)}.json").get(order_id)
        if record is None:
            return None
        record.pop("key", None)
        return record

    def imported_reports(self) -> set[str]:
        return {record["key"] for record in self._table("reports.json").all()}

    def mark_report_imported(self, tag: str) -> None:
        with self.writer():
            self._table("reports.json").put(tag, {"at": to_json(self._clock())})

    # -- failure reasons ---------------------------------------------------------------------

    def count_failure(self, sku: str, product: str, reason: str) -> None:
        """Tally one dissatisfaction reason for a product; the table grows with the catalogue
        (products x reasons), never with the number of tickets."""
        key = f"{sku}|{reason}"
        with self.writer():
            table = self._table("failures.json")
            old = table.get(key)
            table.put(key, {"sku": sku, "product": product or (old or {}).get("product", ""), "reason": reason, "count": (old or {}).get("count", 0) + 1})

    def failures(self) -> list[dict[str, Any]]:
        return sorted(self._table("failures.json").all(), key=lambda record: (-record["count"], record["sku"]))

    # -- intents -----------------------------------------------------------------------------

    def add_intent(self, intent: Intent) -> None:
        with self.writer():
            self._table("intents.json").put(intent.id, to_json(intent))

    def open_intents(self) -> list[Intent]:
        table = self._table("intents.json")
        intents = (table.load(Intent, record) for record in table.all())
        return sorted(intents, key=lambda intent: intent.created_at)

    def finish_intent(self, intent_id: str) -> None:
        with self.writer():
            self._table("intents.json").delete([intent_id])

    # -- follow-ups --------------------------------------------------------------------------

    def _follow_ups_done(self, ticket_id: int) -> ShardTable:
        return self._table(f"followups_done/{ticket_id // TICKETS_PER_SHARD}.json")

    def schedule_follow_up(self, follow_up: FollowUp) -> bool:
        """Schedule once: False when this step is already pending or was ever finished for
        the ticket (a customer never gets the same satisfaction check twice)."""
        with self.writer():
            pending = self._table("followups.json")
            if pending.get(follow_up.id) or self._follow_ups_done(follow_up.ticket_id).get(follow_up.id):
                return False
            pending.put(follow_up.id, to_json(follow_up))
        return True

    def _pending(self) -> list[FollowUp]:
        table = self._table("followups.json")
        return [table.load(FollowUp, record) for record in table.all()]

    def due_follow_ups(self, now: datetime) -> list[FollowUp]:
        moment = aware(now)
        return sorted((fu for fu in self._pending() if fu.due_at <= moment), key=lambda fu: (fu.due_at, fu.id))

    def pending_follow_ups(self, ticket_id: int) -> list[FollowUp]:
        return sorted((fu for fu in self._pending() if fu.ticket_id == ticket_id), key=lambda fu: (fu.due_at, fu.id))

    def finish_follow_up(self, follow_up_id: str, outcome: str) -> None:
        """Take it off the pending list and remember the step as done for good."""
        with self.writer():
            removed = self._table("followups.json").delete([follow_up_id])
            ticket_id = removed[0]["ticket_id"] if removed else _ticket_of(follow_up_id)
            self._record_done(ticket_id, [follow_up_id], outcome)

    def cancel_follow_ups(self, ticket_id: int, reason: str) -> list[FollowUp]:
        with self.writer():
            cancelled = self.pending_follow_ups(ticket_id)
            if cancelled:
                self._table("followups.json").delete(fu.id for fu in cancelled)
                self._record_done(ticket_id, [fu.id for fu in cancelled], f"cancelled: {reason}")
        return cancelled

    def _record_done(self, ticket_id: int, ids: Sequence[str], outcome: str) -> None:
        at = to_json(self._clock())
        record = {"ticket_id": ticket_id, "outcome": outcome, "at": at}
        self._follow_ups_done(ticket_id).put_many({follow_up_id: record for follow_up_id in ids})

    # -- relabels ----------------------------------------------------------------------------

    def record_relabel(self, ticket_id: int, old: str, new: str, text: str, language: str) -> None:
        now = self._clock()
        record = {"at": to_json(now), "ticket_id": ticket_id, "old": old, "new": new, "text": text, "language": language}
        with self.writer():
            self._table(f"relabels/{now:%Y-%m}.json").append(record)

    def relabels(self) -> Iterator[dict[str, Any]]:
        """Every relabel, oldest month first; one month in memory at a time."""
        folder = self.path / "relabels"
        months = sorted(folder.glob("*.json")) if folder.is_dir() else []
        for month in months:
            for record in self._table(f"relabels/{month.name}").all():
                yield record

    # -- daily cap on automatic messages -----------------------------------------------------

    def _auto_sent(self, day: date) -> ShardTable:
        return self._table(f"auto_sent/{day.isoformat()}.json")

    def auto_sent_today(self, customer: str, day: date) -> int:
        record = self._auto_sent(day).get(customer.strip().casefold())
        return record["count"] if record else 0

    def count_auto_sent(self, customer: str, day: date) -> int:
        """Count one more automatic message; return the customer's count for the day."""
        key = customer.strip().casefold()
        with self.writer():
            table = self._auto_sent(day)
            record = table.get(key)
            count = (record["count"] if record else 0) + 1
            table.put(key, {"count": count})
            self._prune_auto_sent(day)
        return count

    def _prune_auto_sent(self, today: date) -> None:
        """Old days only ever matter for the cap of their own day: drop them."""
        oldest = today - timedelta(days=AUTO_SENT_DAYS_KEPT)
        for path in (self.path / "auto_sent").glob("*.json"):
            try:
                day = date.fromisoformat(path.stem)
            except ValueError:
                continue
            if day < oldest:
                path.unlink(missing_ok=True)
                log.debug("pruned %s", path)

    # -- bulk --------------------------------------------------------------------------------

    def bulk_load(
        self,
        tickets: Iterable[Ticket],
        handled: Iterable[tuple[str, int | None, str]] = (),
        chunk: int = 50_000,
    ) -> None:
        """Import many tickets and handled keys at once, writing each shard once per chunk
        (imports, restores and the benchmark). Existing records with the same keys are
        replaced; the next ticket id moves past every imported ticket."""
        with self.writer():
            for batch in _chunks(tickets, chunk):
                self._bulk_tickets(batch)
            for batch in _chunks(handled, chunk):
                self._bulk_handled(batch)

    def _bulk_tickets(self, tickets: list[Ticket]) -> None:
        shards: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for ticket in tickets:
            shards[f"tickets/{ticket.id // TICKETS_PER_SHARD}.json"][str(ticket.id)] = to_json(ticket)
            for key in ticket_index_keys(ticket):
                shards[f"index/{shard_of(key)}.json"][key] = {"ticket_id": ticket.id}
        for relative, records in shards.items():
            self._table(relative).put_many(records)
        for shard, group in _group_by_shard(tickets).items():
            table = self._table(f"open/{shard}.json")
            table.put_many({str(t.id): to_json(TicketSummary.of(t)) for t in group if t.status != "closed"})
            table.delete(str(t.id) for t in group if t.status == "closed")
        meta = self._table("meta.json")
        found = meta.get("next_ticket_id")
        next_id = max([found["value"] if found else 1, *(t.id + 1 for t in tickets)])
        meta.put_many({"next_ticket_id": {"value": next_id}, "schema": {"value": SCHEMA_VERSION}})

    def _bulk_handled(self, handled: list[tuple[str, int | None, str]]) -> None:
        at = to_json(self._clock())
        shards: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for key, ticket_id, outcome in handled:
            shards[shard_of(key)][key] = {"at": at, "outcome": outcome, "ticket_id": ticket_id, "ref": ""}
        for shard, records in shards.items():
            self._table(f"handled/{shard}.json").put_many(records)

    # -- health ------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts and sizes for `check-config`: shows at a glance whether anything grows."""
        files = list(self._state_files())
        sizes = {path: path.stat().st_size for path in files}
        largest = max(sizes, key=sizes.__getitem__, default=None)
        per_folder: dict[str, int] = defaultdict(int)
        for path in files:
            per_folder[path.parent.name if path.parent != self.path else "."] += 1
        return {
            "path": str(self.path),
            "schema": SCHEMA_VERSION,
            "open_tickets": len(self.open_tickets()),
            "pending_follow_ups": len(self._pending()),
            "open_intents": len(self._table("intents.json").all()),
            "handled_shards": per_folder["handled"],
            "ticket_shards": per_folder["tickets"],
            "index_shards": per_folder["index"],
            "files": len(files),
            "bytes": sum(sizes.values()),
            "largest_file": str(largest.relative_to(self.path)) if largest else "",
            "largest_bytes": sizes[largest] if largest else 0,
        }

    def _state_files(self) -> Iterator[Path]:
        for entry in self.path.iterdir():
            if entry.is_dir():
                yield from entry.glob("*.json")
            elif entry.suffix == ".json":
                yield entry


def _group_by_shard(tickets: Iterable[Ticket]) -> dict[int, list[Ticket]]:
    groups: dict[int, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        groups[ticket.id // TICKETS_PER_SHARD].append(ticket)
    return groups


def _ticket_of(follow_up_id: str) -> int:
    head = follow_up_id.split(":", 1)[0]
    if not head.isdigit():
        raise StoreError(f"follow-up id {follow_up_id!r} is not '<ticket id>:<step>'")
    return int(head)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


__all__ = [
    "AtomicJSONStorage",
    "FollowUp",
    "Intent",
    "Store",
    "TicketSummary",
    "normalise_subject",
]
